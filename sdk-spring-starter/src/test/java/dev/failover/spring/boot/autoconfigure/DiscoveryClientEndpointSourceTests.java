package dev.failover.spring.boot.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.failover.Endpoint;
import dev.failover.EndpointSource;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.cloud.client.DefaultServiceInstance;
import org.springframework.cloud.client.ServiceInstance;
import org.springframework.cloud.client.discovery.DiscoveryClient;

/**
 * How instances of a Spring Cloud DiscoveryClient become endpoints, and when the source reports a
 * failure instead of a list. Polls are driven by hand on a fake clock, except where the thread
 * itself is what is tested.
 */
class DiscoveryClientEndpointSourceTests {
  private static final EndpointSources.InstanceMapping MAPPING =
      new EndpointSources.InstanceMapping(
          "us-east-1",
          null,
          EndpointSources.InstanceMapping.ZONE_KEYS,
          EndpointSources.InstanceMapping.REGION_KEYS,
          EndpointSources.InstanceMapping.WEIGHT_KEY);

  private final FakeDiscoveryClient registry = new FakeDiscoveryClient();
  private final DiscoveryHeartbeats heartbeats = new DiscoveryHeartbeats();
  private final Recorder updates = new Recorder();
  private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
  private final List<DiscoveryClientEndpointSource> started = new ArrayList<>();

  @AfterEach
  void closeSources() {
    started.forEach(DiscoveryClientEndpointSource::close);
  }

  @Test
  void instancesBecomeEndpointsWithZoneRegionAndWeightFromMetadata() {
    registry.instances.set(
        List.of(
            instance("a", "http://10.0.0.1:8080", Map.of("zone", "us-east-1a", "weight", "300")),
            instance(
                "k", "http://10.0.0.2:8080", Map.of("topology.kubernetes.io/zone", "us-east-1b")),
            instance(
                "w",
                "https://10.0.0.3:8443",
                Map.of("zone", "us-west-2a", "region", "us-west-2"))));

    List<Endpoint> endpoints = source(MAPPING, null).endpoints(registry.getInstances("directory"));

    assertThat(endpoints)
        .containsExactly(
            Endpoint.of("http://10.0.0.1:8080", "us-east-1", "us-east-1a").withWeight(300),
            Endpoint.of("http://10.0.0.2:8080", "us-east-1", "us-east-1b"),
            Endpoint.of("https://10.0.0.3:8443", "us-west-2", "us-west-2a"));
  }

  @Test
  void instancesWithoutZoneAreSkippedUnlessADefaultZoneIsSet() {
    List<ServiceInstance> instances =
        List.of(
            instance("a", "http://10.0.0.1:8080", Map.of("zone", "us-east-1a")),
            instance("x", "http://10.0.0.9:8080", Map.of()));

    assertThat(source(MAPPING, null).endpoints(instances))
        .containsExactly(Endpoint.of("http://10.0.0.1:8080", "us-east-1", "us-east-1a"));

    EndpointSources.InstanceMapping withDefault =
        new EndpointSources.InstanceMapping(
            "us-east-1", "us-east-1c", List.of("zone"), List.of("region"), "weight");
    assertThat(source(withDefault, null).endpoints(instances))
        .containsExactly(
            Endpoint.of("http://10.0.0.1:8080", "us-east-1", "us-east-1a"),
            Endpoint.of("http://10.0.0.9:8080", "us-east-1", "us-east-1c"));
  }

  @Test
  void configuredKeysAreReadInOrder() {
    EndpointSources.InstanceMapping custom =
        new EndpointSources.InstanceMapping(
            "eu-west-1", null, List.of("az", "zone"), List.of("geo"), "share");
    List<ServiceInstance> instances =
        List.of(
            instance(
                "a",
                "http://10.0.0.1:8080",
                Map.of("az", "eu-west-1b", "zone", "ignored", "share", "7")),
            instance("b", "http://10.0.0.2:8080", Map.of("zone", "eu-west-1c", "geo", "eu-x")));

    assertThat(source(custom, null).endpoints(instances))
        .containsExactly(
            Endpoint.of("http://10.0.0.1:8080", "eu-west-1", "eu-west-1b").withWeight(7),
            Endpoint.of("http://10.0.0.2:8080", "eu-x", "eu-west-1c"));
  }

  @Test
  void aBadWeightKeepsTheDefaultAndABadUriSkipsTheInstance() {
    List<ServiceInstance> instances =
        List.of(
            instance("a", "http://10.0.0.1:8080", Map.of("zone", "us-east-1a", "weight", "heavy")),
            instance("b", "http://10.0.0.2:8080", Map.of("zone", "us-east-1a", "weight", "0")),
            instance("c", "http://user:secret@10.0.0.3:8080", Map.of("zone", "us-east-1a")));

    assertThat(source(MAPPING, null).endpoints(instances))
        .containsExactly(
            Endpoint.of("http://10.0.0.1:8080", "us-east-1", "us-east-1a"),
            Endpoint.of("http://10.0.0.2:8080", "us-east-1", "us-east-1a"));
  }

  /**
   * An instance whose URI cannot be made (Spring Cloud builds it with URI.create: a host with a
   * space throws) is skipped, as the other unusable instances are: before, it failed the whole
   * answer, and the client followed no change of the list while that instance was registered.
   */
  @Test
  void anInstanceWhoseUriCannotBeMadeIsSkippedAndTheOthersAreKept() {
    ServiceInstance broken =
        new DefaultServiceInstance(
            "broken", "directory", "bad host", 8080, false, Map.of("zone", "us-east-1a"));
    ServiceInstance none =
        new DefaultServiceInstance(
            "none", "directory", "10.0.0.4", 8080, false, Map.of("zone", "us-east-1a")) {
          @Override
          public java.net.URI getUri() {
            return null;
          }
        };
    List<ServiceInstance> instances =
        List.of(
            broken,
            instance("a", "http://10.0.0.1:8080", Map.of("zone", "us-east-1a")),
            none,
            instance("b", "http://10.0.0.2:8080", Map.of("zone", "us-east-1b")));
    org.assertj.core.api.Assertions.assertThatThrownBy(broken::getUri)
        .isInstanceOf(IllegalArgumentException.class);

    assertThat(source(MAPPING, null).endpoints(instances))
        .containsExactly(
            Endpoint.of("http://10.0.0.1:8080", "us-east-1", "us-east-1a"),
            Endpoint.of("http://10.0.0.2:8080", "us-east-1", "us-east-1b"));
  }

  @Test
  void reportsTheCompleteListAtOnceAndAFailureWhenTheRegistryThrows() {
    registry.instances.set(
        List.of(instance("a", "http://10.0.0.1:8080", Map.of("zone", "us-east-1a"))));
    DiscoveryClientEndpointSource source = started(source(MAPPING, null));

    await().atMost(Duration.ofSeconds(30)).until(() -> updates.lists.size() == 1);
    assertThat(updates.lists.get(0))
        .containsExactly(Endpoint.of("http://10.0.0.1:8080", "us-east-1", "us-east-1a"));

    registry.failure.set(
        new IllegalStateException("Connection refused: http://admin:pw@registry:8761/eureka"));
    source.poll();

    assertThat(updates.failures).hasSize(1);
    assertThat(updates.failures.get(0).getMessage())
        .contains("getInstances(\"directory\") failed", "Connection refused")
        .doesNotContain("pw");
  }

  /**
   * An Error from the registry's client thrown out of the periodic poll ended the polls for good,
   * silently: no failure reported, no later list. It is a failure of that poll; the next one runs.
   */
  @Test
  void anErrorFromTheRegistryIsAFailureAndThePollsGoOn() {
    registry.instances.set(
        List.of(instance("a", "http://10.0.0.1:8080", Map.of("zone", "us-east-1a"))));
    registry.error.set(new StackOverflowError("in the registry client"));
    started(
        new DiscoveryClientEndpointSource(
            "directory",
            registry,
            new EndpointSources.Settings("directory", Duration.ofMillis(50), null, MAPPING),
            heartbeats,
            nanos::get));

    // Polled every 50 ms: the list is reported again at each poll after the one that failed.
    await().atMost(Duration.ofSeconds(30)).until(() -> !updates.lists.isEmpty());
    assertThat(updates.failures).hasSize(1);
    assertThat(updates.failures.get(0).getMessage())
        .contains("getInstances(\"directory\") failed", "StackOverflowError");
  }

  /**
   * A registry client that answers null (against DiscoveryClient's contract) fails the poll,
   * quietly: it was a NullPointerException logged with its stack at every poll as a bug of the
   * starter's.
   */
  @Test
  @ExtendWith(OutputCaptureExtension.class)
  void aRegistryThatAnswersNullFailsThePoll(CapturedOutput output) {
    registry.instances.set(
        List.of(instance("a", "http://10.0.0.1:8080", Map.of("zone", "us-east-1a"))));
    DiscoveryClientEndpointSource source = started(source(MAPPING, null));
    await().atMost(Duration.ofSeconds(30)).until(() -> updates.lists.size() == 1);

    registry.answersNull.set(true);
    source.poll();
    source.poll();

    assertThat(updates.failures).hasSize(2);
    assertThat(updates.failures.get(0).getMessage())
        .isEqualTo("getInstances(\"directory\") answered null instead of a list");
    assertThat(output).doesNotContain("NullPointerException", "cannot read the instances");
  }

  /** The failure's reason (shown in health and the snapshot) masks user info to its last '@'. */
  @Test
  void aFailureQuotingAUrlWithAnAtInItsPasswordShowsNoneOfIt() {
    registry.instances.set(
        List.of(instance("a", "http://10.0.0.1:8080", Map.of("zone", "us-east-1a"))));
    DiscoveryClientEndpointSource source = started(source(MAPPING, null));
    await().atMost(Duration.ofSeconds(30)).until(() -> updates.lists.size() == 1);

    registry.failure.set(
        new IllegalStateException(
            "Connection refused: http://admin:p@ss@registry:8761/eureka, reg:s3cr3t@backup:8761"));
    source.poll();

    assertThat(updates.failures).hasSize(1);
    assertThat(updates.failures.get(0).getMessage())
        .contains("http://***@registry:8761/eureka", "***@backup:8761")
        .doesNotContain("ss@", "s3cr3t");
  }

  /** The failure's reason masks the values of query parameters, such as a token. */
  @Test
  void aFailureQuotingAUrlWithATokenInItsQueryShowsNoneOfIt() {
    registry.instances.set(
        List.of(instance("a", "http://10.0.0.1:8080", Map.of("zone", "us-east-1a"))));
    DiscoveryClientEndpointSource source = started(source(MAPPING, null));
    await().atMost(Duration.ofSeconds(30)).until(() -> updates.lists.size() == 1);

    registry.failure.set(
        new IllegalStateException(
            "403 from http://registry:8500/v1/health/service/directory?token=s3cr3t&dc=eu1"));
    source.poll();

    assertThat(updates.failures).hasSize(1);
    assertThat(updates.failures.get(0).getMessage())
        .contains("/v1/health/service/directory?token=***&dc=***")
        .doesNotContain("s3cr3t");
  }

  /** An instance the registry cannot describe: the warning keeps the stack, not the secret. */
  @Test
  @ExtendWith(OutputCaptureExtension.class)
  void anInstanceThatThrowsIsLoggedWithoutTheCredentialsItQuotes(CapturedOutput output) {
    ServiceInstance broken =
        new DefaultServiceInstance("b", "directory", "10.0.0.2", 8080, false, Map.of()) {
          @Override
          public String getInstanceId() {
            throw new IllegalStateException(
                "lookup failed for http://admin:p@ss@registry:8761/eureka");
          }
        };
    registry.instances.set(List.of(broken));
    started(source(MAPPING, null));
    await().atMost(Duration.ofSeconds(30)).until(() -> updates.failures.size() == 1);

    assertThat(updates.failures.get(0).getMessage())
        .contains("http://***@registry:8761/eureka")
        .doesNotContain("ss@");
    assertThat(output.getAll())
        .contains("cannot read the instances", "http://***@registry:8761/eureka", "getInstanceId")
        .doesNotContain("ss@registry");
  }

  @Test
  void aHeartbeatAsksAtOnce() {
    registry.instances.set(
        List.of(instance("a", "http://10.0.0.1:8080", Map.of("zone", "us-east-1a"))));
    started(source(MAPPING, null)); // refreshes hourly
    await().atMost(Duration.ofSeconds(30)).until(() -> updates.lists.size() == 1);

    registry.instances.set(
        List.of(
            instance("a", "http://10.0.0.1:8080", Map.of("zone", "us-east-1a")),
            instance("b", "http://10.0.0.2:8080", Map.of("zone", "us-east-1b"))));
    heartbeats.onApplicationEvent(
        new org.springframework.cloud.client.discovery.event.HeartbeatEvent(this, 1L));

    await().atMost(Duration.ofSeconds(30)).until(() -> updates.lists.size() == 2);
    assertThat(updates.lists.get(1)).hasSize(2);
  }

  @Test
  void withAHeartbeatTimeoutACacheNobodyRefreshesCountsAsAFailure() {
    registry.instances.set(
        List.of(instance("a", "http://10.0.0.1:8080", Map.of("zone", "us-east-1a"))));
    DiscoveryClientEndpointSource source = started(source(MAPPING, Duration.ofSeconds(90)));
    await().atMost(Duration.ofSeconds(30)).until(() -> updates.lists.size() == 1);

    // No heartbeat yet, but within the timeout since start: the list is trusted.
    nanos.addAndGet(TimeUnit.SECONDS.toNanos(89));
    source.poll();
    assertThat(updates.lists).hasSize(2);
    assertThat(updates.failures).isEmpty();

    nanos.addAndGet(TimeUnit.SECONDS.toNanos(2));
    source.poll();
    assertThat(updates.failures).hasSize(1);
    assertThat(updates.failures.get(0).getMessage())
        .contains("no HeartbeatEvent", "heartbeat timeout 90000 ms", "'directory'");

    heartbeats.onApplicationEvent(
        new org.springframework.cloud.client.discovery.event.HeartbeatEvent(this, 2L));
    await().atMost(Duration.ofSeconds(30)).until(() -> updates.lists.size() == 3);
    assertThat(updates.failures).hasSize(1);
  }

  /**
   * A registry client blocked on a server that never answers neither answers nor throws: the call
   * is reported as failed once it has run past the refresh interval (or 5 s), once per call, so
   * that the list is held instead of reported current; its late answer is reported as any other,
   * and close() stops both threads while it still blocks.
   */
  @Test
  void aCallThatDoesNotAnswerIsReportedOnceAsAFailure() throws Exception {
    registry.instances.set(
        List.of(instance("a", "http://10.0.0.1:8080", Map.of("zone", "us-east-1a"))));
    DiscoveryClientEndpointSource source = started(source(MAPPING, null));
    await().atMost(Duration.ofSeconds(30)).until(() -> updates.lists.size() == 1);
    java.util.concurrent.CountDownLatch answer = new java.util.concurrent.CountDownLatch(1);
    registry.blockUntil.set(answer);
    int before = registry.calls.get();
    Thread polling = new Thread(source::poll, "test-poll");
    polling.start();
    await().atMost(Duration.ofSeconds(30)).until(() -> registry.calls.get() > before);

    nanos.addAndGet(TimeUnit.HOURS.toNanos(1)); // the refresh interval: not yet
    source.watch();
    assertThat(updates.failures).isEmpty();

    nanos.addAndGet(TimeUnit.MILLISECONDS.toNanos(1));
    source.watch();
    source.watch();
    assertThat(updates.failures).hasSize(1);
    assertThat(updates.failures.get(0).getMessage())
        .contains("getInstances(\"directory\") has not answered for 3600001 ms");

    registry.instances.set(
        List.of(instance("b", "http://10.0.0.2:8080", Map.of("zone", "us-east-1b"))));
    answer.countDown();
    polling.join(TimeUnit.SECONDS.toMillis(30));
    assertThat(updates.lists).hasSize(2);
    assertThat(updates.lists.get(1).get(0).locality().zone()).isEqualTo("us-east-1b");
    source.watch();
    assertThat(updates.failures).hasSize(1);

    registry.blockUntil.set(new java.util.concurrent.CountDownLatch(1));
    int again = registry.calls.get();
    heartbeats.onApplicationEvent(
        new org.springframework.cloud.client.discovery.event.HeartbeatEvent(this, 9L));
    await().atMost(Duration.ofSeconds(30)).until(() -> registry.calls.get() > again);
    source.close();
    assertThat(threads("failover-discovery-directory")).isEmpty();
    assertThat(threads("failover-discovery-directory-watch")).isEmpty();
  }

  @Test
  void closeStopsItsThreadAndReportsNothingMore() {
    registry.instances.set(
        List.of(instance("a", "http://10.0.0.1:8080", Map.of("zone", "us-east-1a"))));
    DiscoveryClientEndpointSource source =
        new DiscoveryClientEndpointSource(
            "closing",
            registry,
            new EndpointSources.Settings("directory", Duration.ofHours(1), null, MAPPING),
            heartbeats,
            nanos::get);
    source.start(updates);
    await().atMost(Duration.ofSeconds(30)).until(() -> updates.lists.size() == 1);
    assertThat(threads("failover-discovery-closing")).hasSize(1);

    source.close();

    assertThat(threads("failover-discovery-closing")).isEmpty();
    source.poll();
    heartbeats.onApplicationEvent(
        new org.springframework.cloud.client.discovery.event.HeartbeatEvent(this, 3L));
    assertThat(updates.lists).hasSize(1);
    assertThat(source.description()).isEqualTo("spring-cloud-discovery directory");
  }

  /**
   * A listener of the list that closes the client closes the source on the source's own thread:
   * close() returns at once, without the 5 s wait for that thread and its misleading warning, and
   * the thread ends when the listener returns.
   */
  @Test
  @ExtendWith(OutputCaptureExtension.class)
  void closeOnItsOwnThreadDoesNotWaitForThatThread(CapturedOutput output) {
    registry.instances.set(
        List.of(instance("a", "http://10.0.0.1:8080", Map.of("zone", "us-east-1a"))));
    AtomicReference<@Nullable DiscoveryClientEndpointSource> self = new AtomicReference<>();
    AtomicLong closeNanos = new AtomicLong(-1);
    java.util.concurrent.atomic.AtomicBoolean interrupted =
        new java.util.concurrent.atomic.AtomicBoolean();
    DiscoveryClientEndpointSource source =
        new DiscoveryClientEndpointSource(
            "self-closing",
            registry,
            new EndpointSources.Settings("directory", Duration.ofHours(1), null, MAPPING),
            heartbeats,
            nanos::get);
    self.set(source);
    source.start(
        new EndpointSource.Updates() {
          @Override
          public void endpoints(List<Endpoint> endpoints) {
            long start = System.nanoTime();
            java.util.Objects.requireNonNull(self.get()).close();
            // The rest of the client's close() runs on this thread: not interrupted.
            interrupted.set(Thread.currentThread().isInterrupted());
            closeNanos.set(System.nanoTime() - start);
          }

          @Override
          public void failed(Throwable cause) {}
        });

    await().atMost(Duration.ofSeconds(30)).until(() -> closeNanos.get() >= 0);
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> threads("failover-discovery-self-closing").isEmpty());
    // It waited for nothing (before: the whole 5 s, then a warning); a wide margin for load.
    assertThat(Duration.ofNanos(closeNanos.get())).isLessThan(Duration.ofSeconds(4));
    assertThat(output.getAll()).doesNotContain("did not stop");
    assertThat(heartbeats.subscribers()).isZero();
    assertThat(interrupted.get()).as("the closing thread interrupted").isFalse();
  }

  /**
   * A close() that comes after start() has created the thread but before it subscribed to
   * heartbeats: start() leaves no subscription behind and schedules nothing on the shut-down
   * executor (it threw a RejectedExecutionException).
   */
  @Test
  void aCloseWhileStartingLeavesNoSubscriptionAndNoThread() {
    registry.instances.set(
        List.of(instance("a", "http://10.0.0.1:8080", Map.of("zone", "us-east-1a"))));
    AtomicReference<@Nullable DiscoveryClientEndpointSource> self = new AtomicReference<>();
    DiscoveryHeartbeats closingFirst =
        new DiscoveryHeartbeats() {
          @Override
          void subscribe(Runnable subscriber) {
            // The close() of another thread, landing just before the subscription.
            java.util.Objects.requireNonNull(self.get()).close();
            super.subscribe(subscriber);
          }
        };
    DiscoveryClientEndpointSource source =
        new DiscoveryClientEndpointSource(
            "closed-while-starting",
            registry,
            new EndpointSources.Settings("directory", Duration.ofHours(1), null, MAPPING),
            closingFirst,
            nanos::get);
    self.set(source);

    source.start(updates);

    assertThat(closingFirst.subscribers()).isZero();
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> threads("failover-discovery-closed-while-starting").isEmpty());
    assertThat(updates.lists).isEmpty();
    assertThat(registry.calls.get()).isZero();
  }

  private DiscoveryClientEndpointSource source(
      EndpointSources.InstanceMapping mapping, @Nullable Duration heartbeatTimeout) {
    return new DiscoveryClientEndpointSource(
        "directory",
        registry,
        new EndpointSources.Settings("directory", Duration.ofHours(1), heartbeatTimeout, mapping),
        heartbeats,
        nanos::get);
  }

  private DiscoveryClientEndpointSource started(DiscoveryClientEndpointSource source) {
    started.add(source);
    source.start(updates);
    return source;
  }

  private static List<Thread> threads(String name) {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.getName().equals(name) && t.isAlive())
        .toList();
  }

  static ServiceInstance instance(String id, String uri, Map<String, String> metadata) {
    java.net.URI parsed = java.net.URI.create(uri);
    DefaultServiceInstance instance =
        new DefaultServiceInstance(
            id,
            "directory",
            parsed.getHost(),
            parsed.getPort(),
            "https".equals(parsed.getScheme()),
            metadata);
    return parsed.getUserInfo() == null
        ? instance
        : new DefaultServiceInstance(
            id, "directory", parsed.getHost(), parsed.getPort(), false, metadata) {
          @Override
          public java.net.URI getUri() {
            return parsed;
          }
        };
  }

  /** A registry whose answer the test sets. */
  static final class FakeDiscoveryClient implements DiscoveryClient {
    final AtomicReference<List<ServiceInstance>> instances = new AtomicReference<>(List.of());
    final AtomicReference<@Nullable RuntimeException> failure = new AtomicReference<>();
    final AtomicReference<@Nullable Error> error = new AtomicReference<>();
    final java.util.concurrent.atomic.AtomicBoolean answersNull =
        new java.util.concurrent.atomic.AtomicBoolean();
    final AtomicInteger calls = new AtomicInteger();

    /** When set, each call waits for it (at most 30 s; an interrupt ends the wait). */
    final AtomicReference<java.util.concurrent.@Nullable CountDownLatch> blockUntil =
        new AtomicReference<>();

    @Override
    public String description() {
      return "fake";
    }

    @Override
    public List<ServiceInstance> getInstances(String serviceId) {
      calls.incrementAndGet();
      java.util.concurrent.CountDownLatch block = blockUntil.get();
      if (block != null) {
        try {
          if (!block.await(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException("the test never let the call answer");
          }
        } catch (InterruptedException interrupted) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted", interrupted);
        }
      }
      RuntimeException e = failure.get();
      if (e != null) {
        throw e;
      }
      Error err = error.getAndSet(null);
      if (err != null) {
        throw err;
      }
      return answersNull.get() ? nothing() : instances.get();
    }

    @Override
    public List<String> getServices() {
      return List.of("directory");
    }

    /** What a registry client that breaks its contract answers. */
    @SuppressWarnings({"NullAway", "DataFlowIssue"})
    private static List<ServiceInstance> nothing() {
      return null;
    }
  }

  /** What a source reported. */
  static final class Recorder implements EndpointSource.Updates {
    final List<List<Endpoint>> lists = new CopyOnWriteArrayList<>();
    final List<Throwable> failures = new CopyOnWriteArrayList<>();

    @Override
    public void endpoints(List<Endpoint> endpoints) {
      lists.add(List.copyOf(endpoints));
    }

    @Override
    public void failed(Throwable cause) {
      failures.add(cause);
    }
  }
}
