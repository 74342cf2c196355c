package dev.failover.spring.boot.autoconfigure;

import dev.failover.Endpoint;
import dev.failover.EndpointSource;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.cloud.client.ServiceInstance;
import org.springframework.cloud.client.discovery.DiscoveryClient;

/**
 * Endpoints of one service from a Spring Cloud {@link DiscoveryClient} (Eureka, Consul, ZooKeeper,
 * Kubernetes): asks {@code getInstances(serviceId)} every refresh interval, and at once after a
 * {@code HeartbeatEvent} (at most once a second), on a daemon thread of its own, and reports each
 * complete list, or the exception when the call throws.
 *
 * <p>An instance becomes an endpoint at {@link ServiceInstance#getUri()}, with its zone and region
 * read from its metadata (first key found in {@link EndpointSources.InstanceMapping#zoneKeys()},
 * {@link EndpointSources.InstanceMapping#regionKeys()}, else the mapping's defaults) and its weight
 * from the weight key. An instance without a zone and no default zone, or with a URI that is not a
 * valid endpoint, is skipped with a warning, logged once while the problem lasts.
 *
 * <p>With a heartbeat timeout, a DiscoveryClient that answers from a cache (Eureka) but has
 * published no heartbeat for that long counts as failed: its answers are reported as failures, so
 * that the client says it serves from a held list instead of trusting a cache nobody refreshes.
 *
 * <p>A {@code getInstances} call that has not answered after the refresh interval or 5 s, whichever
 * is longer, is reported as a failure by a second thread of the source's ({@code
 * failover-discovery-<name>-watch}), once per call: a registry client blocked on a server that
 * never answers would otherwise leave the list reported current, since no answer and no exception
 * ever comes. Its answer, if it comes, is reported as any other.
 */
final class DiscoveryClientEndpointSource implements EndpointSource {
  private static final Logger log = LoggerFactory.getLogger(DiscoveryClientEndpointSource.class);
  private static final long HEARTBEAT_SPACING_NANOS = TimeUnit.SECONDS.toNanos(1);
  private static final long CLOSE_TIMEOUT_SECONDS = 5;

  /** The shortest time a {@code getInstances} call may take before it counts as failed. */
  private static final long LEAST_ANSWER_NANOS = TimeUnit.SECONDS.toNanos(5);

  /** What {@link #callStartedNanos} holds while no {@code getInstances} call runs. */
  private static final long NO_CALL = Long.MIN_VALUE;

  private final String clientName;
  private final DiscoveryClient discoveryClient;
  private final EndpointSources.Settings settings;
  private final DiscoveryHeartbeats heartbeats;
  private final LongSupplier nanoTime;
  private final Runnable onHeartbeat = this::heartbeat;

  private final Object lock = new Object();
  // Guarded by lock.
  private @Nullable ScheduledThreadPoolExecutor executor;
  private @Nullable ScheduledThreadPoolExecutor watcher;
  private @Nullable Updates updates;
  private boolean closed;

  /** The source's thread: close() called on it (from a listener of the list) does not wait. */
  private volatile @Nullable Thread thread;

  // Written by the heartbeat publisher's thread, read by the polling thread.
  private volatile long lastHeartbeatNanos;
  private volatile long lastPollNanos;
  private final AtomicBoolean pollPending = new AtomicBoolean();

  /**
   * When the running {@code getInstances} call started ({@link #NO_CALL} when none runs): written
   * by the polling thread, read by the watching thread.
   */
  private volatile long callStartedNanos = NO_CALL;

  /**
   * Orders the watch's report of a call that does not answer before that call's own answer: the
   * polling thread, its call ended, waits for a report under way (never holding this lock while
   * either runs the client's code).
   */
  private final Object reportLock = new Object();

  // Guarded by reportLock: the start of the call the watch reported, and whether it is reporting.
  private long reportedCallNanos = NO_CALL;
  private boolean watchReporting;

  /** The watching thread; close() called on it does not wait either. */
  private volatile @Nullable Thread watchThread;

  // Only the polling thread: problems warned about, so each is logged once while it lasts.
  private Set<String> warned = new HashSet<>();

  DiscoveryClientEndpointSource(
      String clientName,
      DiscoveryClient discoveryClient,
      EndpointSources.Settings settings,
      DiscoveryHeartbeats heartbeats,
      LongSupplier nanoTime) {
    this.clientName = Objects.requireNonNull(clientName, "clientName");
    this.discoveryClient = Objects.requireNonNull(discoveryClient, "discoveryClient");
    this.settings = Objects.requireNonNull(settings, "settings");
    this.heartbeats = Objects.requireNonNull(heartbeats, "heartbeats");
    this.nanoTime = Objects.requireNonNull(nanoTime, "nanoTime");
  }

  @Override
  public void start(Updates updates) {
    Objects.requireNonNull(updates, "updates");
    ScheduledThreadPoolExecutor started;
    synchronized (lock) {
      if (this.updates != null || closed) {
        throw new IllegalStateException(description() + " already started");
      }
      this.updates = updates;
      started =
          new ScheduledThreadPoolExecutor(
              1,
              r -> {
                Thread t = new Thread(r, "failover-discovery-" + clientName);
                t.setDaemon(true);
                thread = t;
                return t;
              });
      started.setRemoveOnCancelPolicy(true);
      started.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
      executor = started;
      ScheduledThreadPoolExecutor watching =
          new ScheduledThreadPoolExecutor(
              1,
              r -> {
                Thread t = new Thread(r, "failover-discovery-" + clientName + "-watch");
                t.setDaemon(true);
                watchThread = t;
                return t;
              });
      watching.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
      watcher = watching;
    }
    lastHeartbeatNanos = nanoTime.getAsLong();
    heartbeats.subscribe(onHeartbeat);
    synchronized (lock) {
      if (closed) {
        // close() ran since the block above, and its unsubscribe may have come before this
        // subscribe: leave nothing subscribed, schedule nothing on the executor it shut down.
        heartbeats.unsubscribe(onHeartbeat);
        return;
      }
      // The first poll runs at once, on the source's thread: build() waits for it only as long as
      // the policy's start timeout, and not at all with fallback endpoints. Under the lock, so
      // that close() cannot shut the executor down in between.
      Future<?> unused =
          started.scheduleWithFixedDelay(
              this::poll, 0, settings.refreshInterval().toNanos(), TimeUnit.NANOSECONDS);
      ScheduledThreadPoolExecutor watching = watcher;
      if (watching != null) {
        // Every second: the limit is 5 s at least.
        Future<?> unusedToo = watching.scheduleWithFixedDelay(this::watch, 1, 1, TimeUnit.SECONDS);
      }
    }
  }

  /**
   * A HeartbeatEvent: the registry client refreshed its view, so ask now (at most once a second).
   */
  private void heartbeat() {
    long now = nanoTime.getAsLong();
    lastHeartbeatNanos = now;
    ScheduledThreadPoolExecutor target;
    synchronized (lock) {
      target = closed ? null : executor;
    }
    if (target == null || !pollPending.compareAndSet(false, true)) {
      return;
    }
    long delay = Math.max(0, lastPollNanos + HEARTBEAT_SPACING_NANOS - now);
    try {
      Future<?> unused = target.schedule(this::poll, delay, TimeUnit.NANOSECONDS);
    } catch (java.util.concurrent.RejectedExecutionException closing) {
      pollPending.set(false);
    }
  }

  /** Asks the DiscoveryClient once and reports what it says. Never throws. */
  void poll() {
    pollPending.set(false);
    Updates target;
    synchronized (lock) {
      target = closed ? null : updates;
    }
    if (target == null) {
      return;
    }
    long now = nanoTime.getAsLong();
    lastPollNanos = now;
    Duration timeout = settings.heartbeatTimeout();
    if (timeout != null) {
      long silent = now - lastHeartbeatNanos;
      if (silent > timeout.toNanos()) {
        target.failed(
            new IllegalStateException(
                "no HeartbeatEvent from the DiscoveryClient for "
                    + Duration.ofNanos(silent).toMillis()
                    + " ms (heartbeat timeout "
                    + timeout.toMillis()
                    + " ms): its cache of '"
                    + settings.serviceId()
                    + "' is no longer refreshed; is the registry reachable?"));
        return;
      }
    }
    List<ServiceInstance> instances = null;
    Throwable thrown = null;
    callStartedNanos = now;
    try {
      instances = discoveryClient.getInstances(settings.serviceId());
    } catch (RuntimeException | Error e) {
      // An Error too (a LinkageError of a registry client, a StackOverflowError): thrown out of
      // this periodic task, it would end the polls for good, silently, the list never reported
      // stale.
      thrown = e;
    }
    if (!callEnded()) {
      return; // interrupted while the watch reported this call: the source closes
    }
    if (thrown != null) {
      // Its text only, redacted: a registry's exception may quote a URL with credentials.
      log.debug("{}: getInstances failed: {}", description(), Redaction.text(thrown.toString()));
      target.failed(
          new IllegalStateException(
              "getInstances(\""
                  + settings.serviceId()
                  + "\") failed: "
                  + Redaction.text(thrown.toString())));
      return;
    }
    if (instances == null) {
      // Against DiscoveryClient's contract; a failed answer, not a bug of the mapping's.
      target.failed(
          new IllegalStateException(
              "getInstances(\"" + settings.serviceId() + "\") answered null instead of a list"));
      return;
    }
    List<Endpoint> endpoints;
    try {
      endpoints = endpoints(instances);
    } catch (RuntimeException | Error e) {
      // With its stack, for the bug it is, but its text redacted: it may quote an instance's URI.
      RuntimeException redacted = new IllegalStateException(Redaction.text(e.toString()));
      redacted.setStackTrace(e.getStackTrace());
      log.warn("{}: cannot read the instances", description(), redacted);
      target.failed(
          new IllegalStateException(
              "cannot read the instances of '"
                  + settings.serviceId()
                  + "': "
                  + Redaction.text(e.toString())));
      return;
    }
    try {
      target.endpoints(endpoints);
    } catch (RuntimeException | Error e) {
      // The client's handling of the list failed: logged, and the polls go on.
      log.warn("{}: the client could not take the list", description(), e);
    }
  }

  /** Maps instances to endpoints, skipping (and warning once about) those that cannot be used. */
  List<Endpoint> endpoints(List<ServiceInstance> instances) {
    EndpointSources.InstanceMapping mapping = settings.mapping();
    List<Endpoint> endpoints = new ArrayList<>(instances.size());
    Set<String> problems = new HashSet<>();
    for (ServiceInstance instance : instances) {
      Map<String, String> metadata = metadata(instance);
      String id = instance.getInstanceId();
      URI uri;
      try {
        // Spring Cloud's default builds it with URI.create: a host with a space or a '%' throws.
        uri = instance.getUri();
      } catch (RuntimeException e) {
        uri = null;
      }
      if (uri == null) {
        String name =
            Redaction.text(id != null ? id : instance.getHost() + ":" + instance.getPort());
        warn(
            problems,
            name + " no URI",
            "{}: instance {} is skipped: it has no valid URI (host '{}', port {})",
            description(),
            name,
            Redaction.text(String.valueOf(instance.getHost())),
            instance.getPort());
        continue;
      }
      String name = Redaction.text(id != null ? id + " (" + uri + ")" : String.valueOf(uri));
      String zone = first(metadata, mapping.zoneKeys());
      if (zone == null) {
        zone = mapping.defaultZone();
      }
      if (zone == null) {
        warn(
            problems,
            name + " has no zone",
            "{}: instance {} is skipped: its metadata has none of {} and no default zone is set"
                + " (failover.clients.{}.discovery.default-zone)",
            description(),
            name,
            mapping.zoneKeys(),
            clientName);
        continue;
      }
      String region = first(metadata, mapping.regionKeys());
      if (region == null) {
        region = mapping.region();
      }
      Endpoint endpoint;
      try {
        if (uri.getRawUserInfo() != null) {
          throw new IllegalArgumentException("the URI carries credentials");
        }
        endpoint = Endpoint.of(uri.toString(), region, zone);
      } catch (IllegalArgumentException e) {
        warn(
            problems,
            name + " bad endpoint",
            "{}: instance {} is skipped: {}",
            description(),
            name,
            Redaction.text(String.valueOf(e.getMessage())));
        continue;
      }
      String weight = metadata.get(mapping.weightKey());
      if (weight != null) {
        try {
          endpoint = endpoint.withWeight(Integer.parseInt(weight.trim()));
        } catch (IllegalArgumentException e) {
          warn(
              problems,
              name + " bad weight " + weight,
              "{}: instance {} keeps the default weight: metadata {}='{}' is not a whole number"
                  + " between 1 and 10000",
              description(),
              name,
              mapping.weightKey(),
              weight);
        }
      }
      endpoints.add(endpoint);
    }
    warned = problems;
    return endpoints;
  }

  private void warn(Set<String> problems, String key, String format, Object... args) {
    problems.add(key);
    if (!warned.contains(key)) {
      log.warn(format, args);
    }
  }

  private static Map<String, String> metadata(ServiceInstance instance) {
    Map<String, String> metadata = instance.getMetadata();
    return metadata == null ? Map.of() : metadata;
  }

  private static @Nullable String first(Map<String, String> metadata, List<String> keys) {
    for (String key : keys) {
      String value = metadata.get(key);
      if (value != null && !value.isBlank()) {
        return value.trim();
      }
    }
    return null;
  }

  /** How long a {@code getInstances} call may take before it counts as failed. */
  private long answerLimitNanos() {
    return Math.max(settings.refreshInterval().toNanos(), LEAST_ANSWER_NANOS);
  }

  /**
   * Reports the running {@code getInstances} call as failed once it has not answered within {@link
   * #answerLimitNanos()}; once per call. Never throws.
   */
  void watch() {
    long started = callStartedNanos;
    if (started == NO_CALL) {
      return;
    }
    long running = nanoTime.getAsLong() - started;
    if (running <= answerLimitNanos()) {
      return;
    }
    Updates target;
    synchronized (lock) {
      target = closed ? null : updates;
    }
    if (target == null) {
      return;
    }
    synchronized (reportLock) {
      if (callStartedNanos != started || reportedCallNanos == started) {
        return; // it answered since, or was reported already
      }
      reportedCallNanos = started;
      watchReporting = true;
    }
    log.debug("{}: getInstances has not answered for {} ms", description(), running / 1_000_000);
    try {
      target.failed(
          new IllegalStateException(
              "getInstances(\""
                  + settings.serviceId()
                  + "\") has not answered for "
                  + TimeUnit.NANOSECONDS.toMillis(running)
                  + " ms (the registry client may be blocked on a server that does not answer)"));
    } catch (RuntimeException | Error e) {
      // Thrown out of this periodic task, it would end the watch for good.
      log.warn("{}: reporting a registry call that does not answer failed", description(), e);
    } finally {
      synchronized (reportLock) {
        watchReporting = false;
        reportLock.notifyAll();
      }
    }
  }

  /**
   * The polling thread's call ended: no call runs now, and a report of it by the watch, if one is
   * under way, is done first, so that the call's own answer comes after it. False if interrupted
   * while it waited (the source closes).
   */
  private boolean callEnded() {
    synchronized (reportLock) {
      callStartedNanos = NO_CALL;
      while (watchReporting) {
        try {
          reportLock.wait();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return false;
        }
      }
    }
    return true;
  }

  @Override
  public void close() {
    ScheduledThreadPoolExecutor stopping;
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      updates = null;
      stopping = executor;
      executor = null;
      if (watcher != null) {
        // It runs nothing of the application's but the client's handling of a failure it reports,
        // and ends once that returns (not interrupted when that is what calls this: the rest of
        // the client's close() would skip its bounded waits).
        if (Thread.currentThread() == watchThread) {
          watcher.shutdown();
        } else {
          watcher.shutdownNow();
        }
        watcher = null;
      }
    }
    heartbeats.unsubscribe(onHeartbeat);
    if (stopping == null) {
      return;
    }
    if (Thread.currentThread() == watchThread) {
      // Called as the watch reported a call that does not answer (a listener closed the client):
      // the polling thread is held in that call, and waiting for it would take the whole bound.
      stopping.shutdownNow();
      return;
    }
    if (Thread.currentThread() == thread) {
      // Called on the source's own thread (a listener of the list it reports closed the client):
      // that thread cannot end while it runs this, and ends once it returns, the executor being
      // shut down (its delayed and periodic polls are dropped by its policies). Waiting would only
      // take the whole timeout and end in a misleading warning; shutdownNow() would interrupt this
      // very thread, and the rest of the client's close() would skip its bounded waits.
      stopping.shutdown();
      return;
    }
    stopping.shutdownNow();
    boolean interrupted = false;
    boolean stopped = false;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(CLOSE_TIMEOUT_SECONDS);
    while (!stopped) {
      try {
        stopped =
            stopping.awaitTermination(
                Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        if (!stopped) {
          break;
        }
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    Thread t = thread;
    if (stopped && t != null) {
      // The executor counts as terminated once its worker left its loop; the thread itself may
      // still be ending (a busy machine shows it alive a moment longer): close() returns when it
      // has ended, within what is left of the bound.
      try {
        t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
      } catch (InterruptedException e) {
        interrupted = true;
      }
      stopped = !t.isAlive();
    }
    Thread w = watchThread;
    if (w != null) {
      // The watch thread ends as soon as what it runs returns (it was interrupted): within what is
      // left of the bound too.
      try {
        w.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (!stopped) {
      log.warn(
          "{}: the discovery thread did not stop within {} s (a getInstances call still running)",
          description(),
          CLOSE_TIMEOUT_SECONDS);
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public String description() {
    return "spring-cloud-discovery " + settings.serviceId();
  }
}
