package dev.failover;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.random.RandomGenerator;
import okhttp3.Call;
import okhttp3.Callback;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Active health: a jittered HTTP probe per endpoint; faster while the endpoint is down, and once
 * per {@code noTrafficInterval} while the client has no calls. One probe per endpoint is in flight
 * at a time, so an endpoint's streak counters need no lock.
 *
 * <p>Each endpoint has one task on the scheduler at a time: the next probe, due after the usual
 * (jittered) interval. While the client is idle the task still comes at that interval, but sends
 * nothing until {@code noTrafficInterval} has passed since the endpoint's last probe: it only looks
 * at the call count, so that the first call after a lull brings probes back within one interval.
 */
final class HealthChecker {
  private static final Logger log = LoggerFactory.getLogger(HealthChecker.class);

  private final String service;
  private final HealthCheck check;
  private final OkHttpClient http;
  private final ScheduledExecutorService scheduler;
  private final RandomGenerator random;
  private final Events events;
  private volatile boolean stopped;

  /** Whether a probe that timed out after {@code durationNanos} is the client's doing. */
  interface TimeoutExcuse {
    boolean excused(long durationNanos, long now);
  }

  /** When a probe's timeout is the client's doing; set by the client. */
  private volatile TimeoutExcuse timeoutsExcused = (duration, now) -> false;

  /**
   * Told of a probe whose connection failed with "Network is unreachable" in {@code zone}; says
   * whether the client's own network is down, which the probe then says nothing against.
   */
  interface UnreachableExcuse {
    boolean excused(Locality zone, long now);
  }

  private volatile UnreachableExcuse unreachableExcused = (zone, now) -> false;

  /** Told of a probe that the network answered, and when it was sent. */
  interface Answered {
    void answered(Locality zone, long sentAt, long now);
  }

  /** Told of each probe that succeeded: a zone that answers ends the network's mark. */
  private volatile Answered answered = (zone, sentAt, now) -> {};

  /** Each endpoint's next probe, as scheduled. */
  private final java.util.Map<EndpointState, Next> pending =
      new java.util.concurrent.ConcurrentHashMap<>();

  /**
   * A probe scheduled, put in {@link #pending} before it is handed to the scheduler: a probe due at
   * once may run, and its loop schedule the next one, before the scheduler has returned this one's
   * future; the next one's entry then stays the endpoint's, and the one that cancels finds the live
   * probe (with the future put after, it found a probe long run, and the live one outlived the
   * endpoint's removal and {@code close()}).
   */
  private final class Next implements Runnable {
    private final EndpointState ep;
    private final int incarnation;
    private volatile java.util.concurrent.@org.jspecify.annotations.Nullable Future<?> future;
    private volatile boolean cancelled;

    Next(EndpointState ep, int incarnation) {
      this.ep = ep;
      this.incarnation = incarnation;
    }

    @Override
    public void run() {
      if (!cancelled) {
        probe(ep, incarnation);
      }
    }

    /** Cancels it: flagged first, then its future if it has one (else schedule() cancels it). */
    void cancel() {
      cancelled = true;
      java.util.concurrent.Future<?> f = future;
      if (f != null) {
        f.cancel(false);
      }
    }
  }

  /** When each endpoint's last probe was sent, on the endpoints' ticker. */
  private final java.util.Map<EndpointState, Long> probedAt =
      new java.util.concurrent.ConcurrentHashMap<>();

  private final long noTrafficNanos;
  private final long timeoutNanos;

  private static final long HELD_WARN_NANOS = TimeUnit.MINUTES.toNanos(1);

  /** When a probe held in the client was last said at WARN; MIN_VALUE before the first. */
  private volatile long heldWarnedAt = Long.MIN_VALUE;

  /** When a probe cancelled in the client was last warned about (at most once a minute). */
  private volatile long cancelledWarnedAt = Long.MIN_VALUE;

  /** The client's call count; null until the client sets it: then the client is never idle. */
  private volatile @org.jspecify.annotations.Nullable LongSupplier calls;

  /** Guards the three fields below: the call count last seen, since when, and the mode logged. */
  private final Object traffic = new Object();

  private long seenCalls = -1;
  private long seenCallsAt;
  private boolean idle;

  /** Probes sent and not yet answered, at most {@link #maxInFlight}. */
  private final java.util.concurrent.atomic.AtomicInteger inFlight =
      new java.util.concurrent.atomic.AtomicInteger();

  private final int maxInFlight;

  HealthChecker(
      String service,
      HealthCheck check,
      OkHttpClient http,
      ScheduledExecutorService scheduler,
      RandomGenerator random,
      Events events) {
    this.service = service;
    this.check = check;
    // A probe is a GET the SDK owns: OkHttp may resend it after a failure on a pooled connection
    // the server had closed (an idle keep-alive, as after a lull with probes a minute apart),
    // which a real GET survives; without it, such a probe failed and counted against a healthy
    // endpoint.
    // Nor does a probe read or write the application's cookie jar: its cookies are its users',
    // and a health answer's Set-Cookie (a load balancer's stickiness, a session) is no user's.
    // Nor the application's cache: a health answer OkHttp may keep (max-age, or a Last-Modified it
    // takes as a hint) was answered from it, and a dead endpoint stayed up for as long.
    // At most a quarter of maxRequests in flight (at least 1), on a dispatcher of their own on
    // the client's threads: a probe never takes an attempt's slot. Sharing the attempts' slots,
    // probes of dead endpoints (each holding its slot for its whole timeout) queued the
    // application's calls behind them: with maxRequests(1), one probe of a hanging endpoint made
    // calls to a healthy home zone miss their deadlines.
    this.maxInFlight = Math.max(1, http.dispatcher().getMaxRequests() / 4);
    // The SDK's own count (inFlight) is the bound, not this dispatcher's: a probe that the
    // application's code holds past cancellation keeps its OkHttp slot, and with a cap here every
    // later probe would queue behind it once abandonLost gave its count back.
    okhttp3.Dispatcher probes = new okhttp3.Dispatcher(http.dispatcher().executorService());
    probes.setMaxRequests(Integer.MAX_VALUE);
    probes.setMaxRequestsPerHost(Integer.MAX_VALUE);
    this.http =
        http.newBuilder()
            .dispatcher(probes)
            .callTimeout(check.timeout())
            .retryOnConnectionFailure(true)
            .cookieJar(okhttp3.CookieJar.NO_COOKIES)
            .cache(null)
            .build();
    this.scheduler = scheduler;
    this.random = random;
    this.events = events;
    // No longer than the interval, it changes nothing (HealthCheck's documented contract): else
    // an idle client skipped the probes its jitter brought due sooner than it after the last one,
    // and every downInterval probe, and probed less often than without it.
    this.noTrafficNanos =
        check.noTrafficInterval().compareTo(check.interval()) <= 0
            ? Long.MAX_VALUE
            : check.noTrafficInterval().toNanos();
    this.timeoutNanos = check.timeout().toNanos();
  }

  /**
   * Sets where the client's call count comes from: once it has not moved for {@code
   * noTrafficInterval}, each endpoint is probed once per {@code noTrafficInterval}. The count is
   * read only when a probe is due, never on the call path.
   */
  void watchTraffic(LongSupplier calls) {
    this.calls = calls;
  }

  /**
   * Sets when a probe's timeout is charged to nobody: while the client itself is stalled long
   * enough to explain it (and for the grace after), a probe that timed out says nothing about its
   * endpoint. Refusals and bad statuses still count.
   */
  void excuseTimeoutsWhen(TimeoutExcuse excused) {
    this.timeoutsExcused = excused;
  }

  /**
   * Sets how a probe's "Network is unreachable" is judged ({@link UnreachableExcuse}), and whom a
   * probe that succeeded tells of its zone.
   */
  void excuseUnreachableWhen(UnreachableExcuse excused, Answered answered) {
    this.unreachableExcused = excused;
    this.answered = answered;
  }

  void start(List<EndpointState> endpoints) {
    for (EndpointState ep : endpoints) {
      long first = (long) (check.interval().toNanos() * random.nextDouble());
      schedule(ep, first, ep.incarnation);
    }
  }

  /** Starts checking endpoints new to a running client: the first probe goes out at once. */
  void added(List<EndpointState> endpoints) {
    for (EndpointState ep : endpoints) {
      schedule(ep, 0, ep.incarnation);
    }
  }

  /** Stops checking endpoints that left the list (a probe in flight is ignored when it ends). */
  void removed(List<EndpointState> endpoints) {
    for (EndpointState ep : endpoints) {
      probedAt.remove(ep);
      Next next = pending.remove(ep);
      if (next != null) {
        next.cancel();
      }
    }
  }

  void stop() {
    stopped = true;
    pending.values().forEach(Next::cancel);
    pending.clear();
    probedAt.clear();
  }

  /** The probes' OkHttp calls queued or running, for the client's close() to cancel. */
  List<Call> calls() {
    okhttp3.Dispatcher d = http.dispatcher();
    List<Call> calls = new java.util.ArrayList<>(d.queuedCalls());
    calls.addAll(d.runningCalls());
    return calls;
  }

  /**
   * Schedules the next probe of the loop of {@code ep}'s {@code incarnation}: nothing if the
   * endpoint left the list since (a loop of its return may run).
   */
  private void schedule(EndpointState ep, long delayNanos, int incarnation) {
    if (stopped || ep.removed || ep.incarnation != incarnation) {
      return;
    }
    Next next = new Next(ep, incarnation);
    pending.put(ep, next);
    try {
      next.future = scheduler.schedule(next, delayNanos, TimeUnit.NANOSECONDS);
      if (next.cancelled) {
        next.cancel(); // cancelled before its future was set
      }
    } catch (RejectedExecutionException e) {
      // The client is closing.
      pending.remove(ep, next);
      return;
    }
    if (stopped || ep.removed || ep.incarnation != incarnation) {
      pending.remove(ep, next); // not another loop's
      next.cancel();
    }
  }

  private void probe(EndpointState ep, int incarnation) {
    if (gone(ep, incarnation)) {
      return;
    }
    long now = ep.ticker().nanos();
    Long last = probedAt.get(ep);
    if (last != null && now - last < noTrafficNanos && idle(now)) {
      // No calls lately, and this endpoint was probed less than noTrafficInterval ago: look again
      // at the usual time, for calls or for the next idle probe.
      schedule(ep, nextDelay(ep), incarnation);
      return;
    }
    abandonLost();
    if (inFlight.incrementAndGet() > maxInFlight) {
      // As many probes in flight as they may take of maxRequests: this one waits its next turn.
      inFlight.decrementAndGet();
      schedule(ep, nextDelay(ep), incarnation);
      return;
    }
    Slot slot = new Slot(ep, incarnation);
    probedAt.put(ep, now);
    if (gone(ep, incarnation)) {
      slot.release();
      probedAt.remove(ep, now); // removed in between: its removal already cleared the map
      return;
    }
    ClientCore.Reach reach = new ClientCore.Reach(); // marked by the SDK's interceptor
    Request probe =
        new Request.Builder()
            .url(probeUrl(ep.endpoint.url(), check.path()))
            .tag(ClientCore.Reach.KEY, reach)
            .get()
            .build();
    try {
      // Made and enqueued on the client's dispatcher, never on this scheduler thread: OkHttp runs
      // the application's EventListener.Factory and EventListener.callStart as it does so.
      http.dispatcher()
          .executorService()
          .execute(() -> send(ep, probe, reach, now, incarnation, slot));
    } catch (RejectedExecutionException e) {
      slot.release();
      pending.remove(ep); // the client is closing
    }
  }

  /** Longer than a probe's timeout, twice over, a probe's callback is not waited for. */
  private static final long ABANDON_MARGIN_NANOS = TimeUnit.SECONDS.toNanos(1);

  /** Probes holding a slot of {@link #inFlight}, at most {@link #maxInFlight} of them. */
  private final java.util.Set<Slot> outstanding =
      java.util.concurrent.ConcurrentHashMap.newKeySet();

  /**
   * One probe's share of {@link #inFlight}: given back once, by whichever comes first of its
   * callback, its failure to be sent, or its abandonment ({@link #abandonLost}); what comes after
   * is ignored. Its age is real time, as OkHttp's timeouts are.
   */
  private final class Slot {
    final EndpointState ep;
    final int incarnation;
    final long since = System.nanoTime();
    private final java.util.concurrent.atomic.AtomicBoolean released =
        new java.util.concurrent.atomic.AtomicBoolean();
    volatile @Nullable Call call;

    Slot(EndpointState ep, int incarnation) {
      this.ep = ep;
      this.incarnation = incarnation;
      outstanding.add(this);
    }

    /** Gives the slot back; true for the one caller that did. */
    boolean release() {
      if (!released.compareAndSet(false, true)) {
        return false;
      }
      outstanding.remove(this);
      inFlight.decrementAndGet();
      return true;
    }
  }

  /**
   * Gives back the slots of probes whose callback has not come long after their timeout (the
   * application's code in them hangs ignoring cancellation, or a listener of OkHttp's dispatcher
   * threw, and OkHttp never ran them): they would hold the probes' share of maxRequests for good,
   * and with it the probes of every endpoint. Their loops go on. On the scheduler, before each
   * probe.
   */
  private void abandonLost() {
    long now = System.nanoTime();
    for (Slot slot : outstanding) {
      if (now - slot.since > 2 * timeoutNanos + ABANDON_MARGIN_NANOS && slot.release()) {
        log.warn(
            "[{}] probe of {} got no answer {} ms after its timeout (the application's code in it"
                + " hangs, or a listener threw): not counted",
            service,
            slot.ep.endpoint,
            TimeUnit.NANOSECONDS.toMillis(now - slot.since - timeoutNanos));
        Call c = slot.call;
        if (c != null) {
          // Off this scheduler thread: OkHttp tells the application's EventListener.canceled.
          try {
            http.dispatcher().executorService().execute(() -> CallStateMachine.cancelQuietly(c));
          } catch (RejectedExecutionException closing) {
            // The client is closing: close() cancels what is left.
          }
        }
        if (!gone(slot.ep, slot.incarnation)) {
          schedule(slot.ep, nextDelay(slot.ep), slot.incarnation);
        }
      }
    }
  }

  /**
   * A probe that ended in the client, not at its endpoint (cancelled, failed or answered by the
   * application's code): not counted, and the next one scheduled. Said at most once a minute, since
   * health checks that judge nothing hide real failures.
   */
  private void notJudged(
      EndpointState ep, int incarnation, long now, @Nullable IOException failure) {
    long last = cancelledWarnedAt;
    if (last == Long.MIN_VALUE || now - last >= HELD_WARN_NANOS) {
      cancelledWarnedAt = now;
      if (failure == null) {
        log.warn(
            "[{}] probe of {} was answered in the client, by the application's interceptor, without"
                + " a request to the endpoint: not counted (said at most once a minute)",
            service,
            ep.endpoint);
      } else {
        log.warn(
            "[{}] probe of {} was cancelled or failed in the client (the application's code in it"
                + " threw, or cancelled it): not counted (said at most once a minute)",
            service,
            ep.endpoint,
            failure);
      }
    }
    if (!gone(ep, incarnation)) {
      schedule(ep, nextDelay(ep), incarnation);
    }
  }

  /**
   * Sends one probe, due at {@code sentAt}, of the endpoint's {@code incarnation} (its loop ends if
   * the endpoint left the list meanwhile); on the client's dispatcher.
   */
  private void send(
      EndpointState ep,
      Request probe,
      ClientCore.Reach reach,
      long sentAt,
      int incarnation,
      Slot slot) {
    Callback callback =
        new Callback() {
          @Override
          public void onResponse(Call c, Response response) {
            if (!slot.release()) {
              response.close(); // abandoned, or failed to be sent: handled already
              return;
            }
            boolean ok;
            try (response) {
              ok = response.code() >= 200 && response.code() < 400;
            }
            if (response.networkResponse() == null && !reach.reachedSdk) {
              // Answered in the client before the SDK's interceptor, without a request to any
              // server (probes use no cache): an interceptor of the application's answered itself
              // (a client-side limiter's 503). Not the endpoint's. (One that made its response
              // out of a failure below, or rebuilt the server's, passed the SDK's: judged.)
              notJudged(ep, incarnation, ep.ticker().nanos(), null);
              return;
            }
            if (ok && response.networkResponse() != null) {
              answered.answered(ep.endpoint.locality(), sentAt, ep.ticker().nanos());
            }
            result(ep, ok, incarnation);
          }

          @Override
          public void onFailure(Call c, IOException e) {
            if (!slot.release()) {
              return; // abandoned, or failed to be sent: handled already
            }
            if (stopped) {
              return; // cancelled by the client's close() or a new core: nothing to judge or say
            }
            long now = ep.ticker().nanos();
            if (!(e instanceof java.io.InterruptedIOException)
                && (c.isCanceled()
                    || !reach.reachedSdk
                    || Classifier.clientResourcesExhausted(e))) {
              // Cancelled, not timed out: OkHttp cancels a call whose interceptor, event listener
              // or Dns threw (the application's code, which may expect a caller's context that a
              // probe does not have), and the application's EventListener may cancel it. Or failed
              // before it reached the SDK's interceptor: an IOException of the application's
              // interceptor (its token service is down). Or the client's host ran out of ports or
              // file descriptors. Nothing the endpoint did: not counted, as for an attempt.
              notJudged(ep, incarnation, now, e);
            } else if (e instanceof java.io.InterruptedIOException timeout
                && heldByClient(reach, timeout, now, timeoutNanos)) {
              heldInClient(ep, now, incarnation);
            } else if (e instanceof java.io.InterruptedIOException
                // The stall's rule, on the time since it reached the SDK's interceptor (after the
                // queue and the application's interceptors), else since it was due.
                && timeoutsExcused.excused(
                    now - (reach.reachedSdk ? reach.reachedSdkAt : sentAt), now)) {
              skipped(ep, incarnation);
            } else if (Classifier.networkUnreachable(e)
                && unreachableExcused.excused(ep.endpoint.locality(), now)) {
              skipped(ep, incarnation); // the client's network is down, not the endpoint
            } else {
              result(ep, false, refused(e), incarnation);
            }
          }
        };
    Call c = null;
    try {
      c = http.newCall(probe);
      slot.call = c;
      c.enqueue(callback);
    } catch (RuntimeException | Error e) {
      // The application's EventListener.Factory or callStart threw before OkHttp took the probe
      // (should OkHttp have queued it all the same, it is cancelled, and its callback, if it
      // comes, is ignored): none was sent, so none is counted; the next one as usual.
      if (c != null) {
        CallStateMachine.cancelQuietly(c);
      }
      if (slot.release()) {
        log.warn("[{}] probe of {} could not be sent", service, ep.endpoint, e);
        schedule(ep, nextDelay(ep), incarnation);
      }
    }
  }

  /**
   * Whether a probe that timed out at {@code now} with {@code failure} spent its time in the client
   * rather than at its endpoint. OkHttp's call timeout starts once the probe leaves the
   * dispatcher's queue, so what can use it up before the endpoint is the application's interceptors
   * (they run for probes too: a token refresh that hangs): the probe never got to the SDK's own
   * interceptor, or the call timeout ended it with less than half of that timeout spent past the
   * SDK's interceptor. A socket's own timeout (connect or read) ran at the endpoint.
   */
  static boolean heldByClient(
      ClientCore.Reach reach, java.io.InterruptedIOException failure, long now, long timeoutNanos) {
    if (!reach.reachedSdk) {
      return true;
    }
    return !(failure instanceof java.net.SocketTimeoutException)
        && 2 * (now - reach.reachedSdkAt) < timeoutNanos;
  }

  /**
   * The probe's URL: the endpoint's path followed by the check's path, and the check's query, if it
   * has one (a path such as {@code /health?full=true}: its {@code ?} starts a query, as in a URL).
   */
  static HttpUrl probeUrl(HttpUrl base, String path) {
    String basePath = base.encodedPath();
    if (basePath.endsWith("/")) {
      basePath = basePath.substring(0, basePath.length() - 1);
    }
    int query = path.indexOf('?');
    if (query < 0) {
      return base.newBuilder().encodedPath(basePath + path).build();
    }
    return base.newBuilder()
        .encodedPath(basePath + path.substring(0, query))
        .encodedQuery(path.substring(query + 1))
        .build();
  }

  /**
   * Whether a probe of {@code ep}'s {@code incarnation} ends its loop: the checks stopped, or the
   * endpoint left the list since it was sent. Its pending task is dropped unless a loop of a later
   * incarnation (the endpoint back in the list) owns it.
   */
  private boolean gone(EndpointState ep, int incarnation) {
    if (ep.incarnation != incarnation) {
      return true; // left (and maybe came back with a loop of its own): not this loop's to touch
    }
    if (stopped || ep.removed) {
      pending.remove(ep);
      return true;
    }
    return false;
  }

  /** A probe that counts for nothing (the client was stalled): the next one as usual. */
  void skipped(EndpointState ep, int incarnation) {
    if (gone(ep, incarnation)) {
      return;
    }
    log.debug(
        "[{}] probe of {} not counted: the client stalled, or its network was down",
        service,
        ep.endpoint);
    schedule(ep, nextDelay(ep), incarnation);
  }

  /**
   * A probe whose timeout the client's own interceptors used up counts for nothing: the next one as
   * usual. Said at WARN at most once a minute: if it happens to every probe, health checks judge
   * nothing.
   */
  private void heldInClient(EndpointState ep, long now, int incarnation) {
    if (gone(ep, incarnation)) {
      return;
    }
    long last = heldWarnedAt;
    if (last == Long.MIN_VALUE || now - last >= HELD_WARN_NANOS) {
      heldWarnedAt = now;
      log.warn(
          "[{}] probe of {} timed out in the application's interceptors, before it reached the"
              + " endpoint: not counted (said at most once a minute)",
          service,
          ep.endpoint);
    }
    schedule(ep, nextDelay(ep), incarnation);
  }

  /** Applies one probe result and schedules the next probe. */
  void result(EndpointState ep, boolean ok) {
    result(ep, ok, ep.incarnation);
  }

  /**
   * Applies one probe result of the endpoint's {@code incarnation}, and schedules the next; a
   * failure as one that corroborates (a bad status).
   */
  void result(EndpointState ep, boolean ok, int incarnation) {
    result(ep, ok, true, incarnation);
  }

  /**
   * Whether a probe's failure corroborates its zone's outage: a connection refused, or no route to
   * the host (as {@link Classifier#refused} for an attempt). Not a timeout (a client too slow to
   * read the answer times out every probe at once), nor a failure in the client (a name that did
   * not resolve, a TLS handshake, the client's own network unreachable).
   */
  static boolean refused(IOException e) {
    return (e instanceof java.net.ConnectException || e instanceof java.net.NoRouteToHostException)
        && !Classifier.networkUnreachable(e)
        && !Classifier.clientResourcesExhausted(e);
  }

  /**
   * Applies one probe result of the endpoint's {@code incarnation}, and schedules the next; {@code
   * corroborates} for a failed probe that was refused or answered with a bad status. An endpoint
   * that goes down on failures none of which corroborates is down all the same, but does not lift
   * the evacuation cap ({@link EndpointState#downUncorroborated}).
   */
  void result(EndpointState ep, boolean ok, boolean corroborates, int incarnation) {
    if (gone(ep, incarnation)) {
      return;
    }
    if (ok) {
      ep.probeFailureCorroborates = false;
      ep.probeFailures = 0;
      ep.probeSuccesses++;
      if (ep.isDown() && ep.probeSuccesses >= check.healthyThreshold()) {
        ep.setDown(false);
        ep.probeRecovered();
        events.emit(
            new FailoverEvent.EndpointRestored(
                service, ep.endpoint, FailoverEvent.Cause.HEALTH_CHECK));
      } else if (ep.probeSuccesses >= check.healthyThreshold()
          && ep.ejectedLongerThan(ep.baseEjectionNanos, ep.ticker().nanos())) {
        // Ejected by its breaker, and its checks pass: back after the base ejection time at most,
        // however long its breaker's ejection grew (with slow start).
        ep.restoreNow();
      }
    } else {
      ep.probeSuccesses = 0;
      ep.probeFailures++;
      if (corroborates) {
        ep.probeFailureCorroborates = true;
      }
      if (ep.isDown()) {
        if (corroborates) {
          ep.downUncorroborated = false; // refused or answered badly while down: hard evidence now
        }
      } else if (ep.probeFailures >= check.unhealthyThreshold()) {
        ep.downUncorroborated = !ep.probeFailureCorroborates;
        ep.setDown(true);
        events.emit(
            new FailoverEvent.EndpointEjected(
                service, ep.endpoint, FailoverEvent.Cause.HEALTH_CHECK, null));
      }
    }
    if (log.isTraceEnabled()) {
      log.trace("[{}] probe of {}: {}", service, ep.endpoint, ok ? "ok" : "failed");
    }
    schedule(ep, nextDelay(ep), incarnation);
  }

  /** The usual delay to an endpoint's next probe: its state's interval, jittered by 20%. */
  private long nextDelay(EndpointState ep) {
    long base = (ep.isDown() ? check.downInterval() : check.interval()).toNanos();
    return (long) (base * (0.8 + 0.4 * random.nextDouble()));
  }

  /**
   * Whether the client has started no call for {@code noTrafficInterval}. The count is compared
   * with the one seen last; the first look counts as traffic, so a new client is busy for its first
   * {@code noTrafficInterval}.
   */
  boolean idle(long now) {
    LongSupplier source = calls;
    if (source == null) {
      return false;
    }
    long count = source.getAsLong();
    synchronized (traffic) {
      if (count != seenCalls) {
        seenCalls = count;
        seenCallsAt = now;
      }
      boolean quiet = now - seenCallsAt >= noTrafficNanos;
      if (quiet != idle) {
        idle = quiet;
        if (quiet) {
          log.debug(
              "[{}] no call for {}: probing each endpoint once per {}",
              service,
              check.noTrafficInterval(),
              check.noTrafficInterval());
        } else {
          log.debug("[{}] calls again: probing at the usual interval", service);
        }
      }
      return quiet;
    }
  }
}
