package dev.failover.statemachine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.failover.DiscoveryPolicy;
import dev.failover.Endpoint;
import dev.failover.EndpointSource;
import dev.failover.FailoverEvent;
import dev.failover.FailoverSnapshot;
import dev.failover.FailoverSnapshot.ListStatus;
import dev.failover.FakeClock;
import dev.failover.Ticker;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

/**
 * What a core built by {@code reset()} or {@code reconfigure} takes over from the endpoint source:
 * the source's latest report, as it was reported, and whether the fallback still serves.
 */
class DiscoveryHandoverTest {
  private static final Endpoint A1 = Endpoint.of("http://" + Harness.A1, "us-east-1", "us-east-1a");
  private static final Endpoint B1 = Endpoint.of("http://" + Harness.B1, "us-east-1", "us-east-1b");
  private static final Endpoint W1 = Endpoint.of("http://" + Harness.W1, "us-west-2", "us-west-2a");
  private static final Endpoint A2 = Endpoint.of("http://a2.sm.test", "us-east-1", "us-east-1a");
  private static final Endpoint B2 = Endpoint.of("http://b2.sm.test", "us-east-1", "us-east-1b");

  /** A source that keeps what the client gave it, for a test to report through directly. */
  private static final class Captured implements EndpointSource {
    private volatile EndpointSource.@Nullable Updates updates;

    @Override
    public void start(Updates updates) {
      this.updates = updates;
    }

    EndpointSource.Updates updates() {
      return Objects.requireNonNull(updates, "not started");
    }

    @Override
    public void close() {}

    @Override
    public String description() {
      return "captured";
    }
  }

  private static List<String> addresses(List<Endpoint> endpoints) {
    return endpoints.stream().map(Endpoint::address).toList();
  }

  /**
   * A source that reuses the list it reported (clears and refills a buffer) must not change what a
   * new core takes over. Before, the client's relay kept the source's list by reference: reset()
   * handed the new core the cleared list, which it held as "the source reported no endpoints".
   */
  @Test
  void aListTheSourceClearsAfterReportingItIsNotWhatANewCoreTakesOver() {
    Captured source = new Captured();
    try (Harness h = new Harness(b -> b.endpoints(List.of(A1)).endpointSource(source))) {
      List<Endpoint> buffer = new ArrayList<>(List.of(A1, B1, W1));
      source.updates().endpoints(buffer);
      buffer.clear();

      h.client.reset();

      assertThat(addresses(h.client.endpoints()))
          .containsExactly(A1.address(), B1.address(), W1.address());
      assertThat(h.client.snapshot().discovery().status()).isEqualTo(ListStatus.CURRENT);
      assertThat(h.client.snapshot().discovery().reason()).isNull();
    }
  }

  /**
   * A source whose start() throws leaves the client on its fallback, held for that failure, and a
   * new core takes the failure over: still held with its reason, and reported STALE after
   * maxStaleness. Before, the failure went to the first core's intake only (not through the relay
   * that keeps the source's latest report): after reset() the client said FALLBACK with no reason,
   * and never turned STALE.
   */
  @Test
  void aFailureThrownByStartIsTakenOverByANewCore() {
    EndpointSource broken =
        new EndpointSource() {
          @Override
          public void start(Updates updates) {
            throw new IllegalStateException("registry down");
          }

          @Override
          public void close() {}
        };
    try (Harness h =
        new Harness(
            b ->
                b.endpoints(List.of(A1, B1))
                    .endpointSource(broken)
                    .discovery(
                        DiscoveryPolicy.defaults().withMaxStaleness(Duration.ofSeconds(30))))) {
      h.client.reset();

      FailoverSnapshot.Discovery d = h.client.snapshot().discovery();
      assertThat(d.status()).isEqualTo(ListStatus.FALLBACK);
      assertThat(d.reason()).contains("registry down");
      assertThat(d.heldSince()).isNotNull();
      h.scheduler.advance(Duration.ofSeconds(31));
      assertThat(h.client.snapshot().discovery().status()).isEqualTo(ListStatus.STALE);
      assertThat(addresses(h.client.endpoints())).containsExactly(A1.address(), B1.address());
    }
  }

  /**
   * A clock that runs a task the next time the arming thread reads it; its ticker (the client's
   * monotonic time) is not hooked.
   */
  private static final class HookedClock extends Clock implements Ticker {
    private final FakeClock time = new FakeClock();
    private volatile @Nullable Runnable next;
    private volatile @Nullable Thread arming;
    private volatile boolean ran;

    void onNextInstant(Runnable task) {
      arming = Thread.currentThread();
      next = task;
    }

    boolean ran() {
      return ran;
    }

    @Override
    public Instant instant() {
      Runnable task = next;
      if (task != null && Thread.currentThread() == arming) {
        next = null;
        task.run();
        ran = true;
      }
      return time.instant();
    }

    @Override
    public long nanos() {
      return time.nanos();
    }

    @Override
    public ZoneId getZone() {
      return time.getZone();
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }
  }

  /**
   * The source's first list lands while reset() builds the new core: after reset() read the list in
   * use (the fallback) and before it read whether the fallback still served (the hooked clock
   * delivers it when the new core's intake reads the time, between the two reads as they were).
   * Before, the new core was built on the fallback as if the source had given it, and the source's
   * list, caught up, was held for the removal confirmation as a removal of the whole list: the
   * client kept routing to the fallback, HELD. Now the two are read together.
   */
  @Test
  void theFirstListLandingDuringResetReplacesTheFallbackOfTheNewCore() {
    EndpointSource.Push push = new EndpointSource.Push("test-registry");
    HookedClock clock = new HookedClock();
    try (Harness h = new Harness(b -> b.endpoints(List.of(A1)).endpointSource(push).clock(clock))) {
      assertThat(h.client.snapshot().discovery().status()).isEqualTo(ListStatus.FALLBACK);
      clock.onNextInstant(() -> push.update(List.of(A2, B1, W1)));

      h.client.reset();

      assertThat(clock.ran()).isTrue();
      assertThat(addresses(h.client.endpoints()))
          .containsExactly(A2.address(), B1.address(), W1.address());
      FailoverSnapshot.Discovery d = h.client.snapshot().discovery();
      assertThat(d.status()).isEqualTo(ListStatus.CURRENT);
      assertThat(d.reason()).isNull();
    }
  }

  /** A call that stays in flight on the current core until {@link #finish}. */
  private static FakeTransport.Exchange callInFlight(Harness h, RecordingCallback cb) {
    h.enqueue(Harness.get("/long"), cb);
    return h.transport.next();
  }

  private static void finish(FakeTransport.Exchange exchange, RecordingCallback cb) {
    exchange.respond(200);
    assertThat(cb.awaitStatus()).isEqualTo(200);
  }

  /**
   * A core replaced while a call still runs on it stops judging the list: only the new core's
   * intake reports it stale, from when it took the failure over. Before, the old core's intake kept
   * ticking while its call finished and reported the list stale on its own timeline too.
   */
  @Test
  void aReplacedCoreDoesNotReportTheListStaleWhileItsCallsFinish() {
    EndpointSource.Push push = new EndpointSource.Push("test-registry");
    try (Harness h =
        new Harness(
            b ->
                b.endpoints(List.of(A1))
                    .endpointSource(push)
                    .discovery(
                        DiscoveryPolicy.defaults().withMaxStaleness(Duration.ofSeconds(30))))) {
      push.update(List.of(A1, B1, W1));
      push.fail(new IOException("registry unreachable")); // held from t = 0
      RecordingCallback cb = new RecordingCallback();
      FakeTransport.Exchange inFlight = callInFlight(h, cb);
      h.scheduler.advance(Duration.ofSeconds(20));

      h.client.reconfigure(b -> b.maxAttempts(2)); // the new core holds the failure from t = 20
      h.scheduler.advance(Duration.ofSeconds(15)); // t = 35: the old core's 30 s have passed
      finish(inFlight, cb);
      h.quiesce(); // every event there will be has been delivered

      assertThat(h.events.of(FailoverEvent.EndpointListStale.class)).isEmpty();
    }
  }

  /**
   * Nor does it apply a held removal a second time: the confirmed list is applied once, by the new
   * core, with one EndpointsChanged. Before, the old core applied it too, and announced it.
   */
  @Test
  void aReplacedCoreDoesNotApplyAHeldRemovalWhileItsCallsFinish() {
    EndpointSource.Push push = new EndpointSource.Push("test-registry");
    try (Harness h =
        new Harness(
            b ->
                b.endpoints(List.of(A1))
                    .endpointSource(push)
                    .discovery(
                        DiscoveryPolicy.defaults()
                            .withRemovalConfirmation(Duration.ofSeconds(30))))) {
      push.update(List.of(A1, A2, B1, B2));
      int before = h.events.of(FailoverEvent.EndpointsChanged.class).size();
      push.update(List.of(A1)); // held from t = 0, confirmed after 30 s
      RecordingCallback cb = new RecordingCallback();
      FakeTransport.Exchange inFlight = callInFlight(h, cb);
      h.scheduler.advance(Duration.ofSeconds(10));

      h.client.reconfigure(b -> b.maxAttempts(2)); // the new core holds it from t = 10
      h.scheduler.advance(Duration.ofSeconds(25)); // t = 35: the old core's 30 s have passed
      finish(inFlight, cb);
      h.scheduler.advance(Duration.ofSeconds(6)); // t = 41: the new core's 30 s have passed
      h.events.await(FailoverEvent.EndpointsChanged.class, before + 1, e -> true);
      h.quiesce();

      assertThat(h.client.endpoints()).containsExactly(A1);
      assertThat(h.events.of(FailoverEvent.EndpointsChanged.class)).hasSize(before + 1);
    }
  }
}
