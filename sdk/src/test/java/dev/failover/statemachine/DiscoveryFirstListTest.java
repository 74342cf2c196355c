package dev.failover.statemachine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.failover.DiscoveryPolicy;
import dev.failover.Endpoint;
import dev.failover.EndpointSource;
import dev.failover.FailoverEvent;
import dev.failover.FailoverSnapshot;
import dev.failover.FailoverSnapshot.ListStatus;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** How the source's first list takes over from the fallback endpoints. */
class DiscoveryFirstListTest {
  private static final Endpoint A1 = Endpoint.of("http://" + Harness.A1, "us-east-1", "us-east-1a");
  private static final Endpoint B1 = Endpoint.of("http://" + Harness.B1, "us-east-1", "us-east-1b");
  private static final Endpoint W1 = Endpoint.of("http://" + Harness.W1, "us-west-2", "us-west-2a");

  /** A fallback VIP in another zone than home, as in docs/discovery.md's example. */
  private static final Endpoint VIP = Endpoint.of("http://vip.sm.test", "us-east-1", "us-east-1c");

  private final EndpointSource.Push push = new EndpointSource.Push("test-registry");

  private static FailoverSnapshot.ZoneStatus zoneStatus(Harness h, String zone) {
    return h.client.snapshot().zones().stream()
        .filter(z -> z.locality().zone().equals(zone))
        .findFirst()
        .orElseThrow()
        .status();
  }

  /**
   * The first list replaces the fallback as if the client had been built on it: no slow start, so
   * the home zone, new to the client, takes the first attempts at once. Before, its zone and
   * endpoint both ramped from a tenth of their weight, and for seconds about one first attempt in
   * six went to other zones and regions.
   */
  @Test
  void theFirstListReplacingTheFallbackIsAppliedWithoutSlowStart() {
    try (Harness h = new Harness(b -> b.endpoints(List.of(VIP)).endpointSource(push))) {
      push.update(List.of(A1, B1, W1));

      assertThat(zoneStatus(h, "us-east-1a")).isEqualTo(FailoverSnapshot.ZoneStatus.ACTIVE);
      assertThat(zoneStatus(h, "us-west-2a")).isEqualTo(FailoverSnapshot.ZoneStatus.ACTIVE);
      List<String> hosts = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        RecordingCallback cb = new RecordingCallback();
        h.enqueue(Harness.get("/first-" + i), cb);
        FakeTransport.Exchange e = h.transport.next();
        hosts.add(e.host());
        e.respond(200);
        assertThat(cb.awaitStatus()).isEqualTo(200);
      }
      assertThat(hosts).containsOnly(Harness.A1);
    }
  }

  /** A source that makes {@code reports} from start(), before the client exists. */
  private static EndpointSource reportingAtStart(Consumer<EndpointSource.Updates> reports) {
    return new EndpointSource() {
      @Override
      public void start(Updates updates) {
        reports.accept(updates);
      }

      @Override
      public void close() {}

      @Override
      public String description() {
        return "early-registry";
      }
    };
  }

  /**
   * An empty list reported before the client exists is held as one reported later is: FALLBACK with
   * its reason, an EndpointListHeld event, STALE after maxStaleness. Before, it was neither applied
   * nor held: FALLBACK with no reason, no event, never STALE.
   */
  @Test
  void anEmptyListReportedBeforeTheClientExistsIsHeld() {
    push.update(List.of());
    try (Harness h =
        new Harness(
            b ->
                b.endpoints(List.of(A1))
                    .endpointSource(push)
                    .discovery(
                        DiscoveryPolicy.defaults().withMaxStaleness(Duration.ofSeconds(30))))) {
      FailoverSnapshot.Discovery d = h.client.snapshot().discovery();
      assertThat(d.status()).isEqualTo(ListStatus.FALLBACK);
      assertThat(d.reason()).isEqualTo("the source reported no endpoints");
      assertThat(d.heldSince()).isNotNull();
      assertThat(h.events.of(FailoverEvent.EndpointListHeld.class))
          .extracting(FailoverEvent.EndpointListHeld::reason)
          .containsExactly("the source reported no endpoints");
      h.scheduler.advance(Duration.ofSeconds(31));
      assertThat(h.client.snapshot().discovery().status()).isEqualTo(ListStatus.STALE);
      assertThat(h.client.endpoints()).containsExactly(A1);
    }
  }

  /**
   * Reports before the client exists count in their order. Before, an empty list after a failure
   * was held for the failure, and a failure after a good list was ignored (the list CURRENT).
   */
  @Test
  void reportsBeforeTheClientExistsCountInTheirOrder() {
    EndpointSource failedThenEmpty =
        reportingAtStart(
            u -> {
              u.failed(new IOException("registry unreachable"));
              u.endpoints(List.of());
            });
    try (Harness h = new Harness(b -> b.endpoints(List.of(A1)).endpointSource(failedThenEmpty))) {
      assertThat(h.client.snapshot().discovery().reason())
          .isEqualTo("the source reported no endpoints");
    }

    EndpointSource listThenFailed =
        reportingAtStart(
            u -> {
              u.endpoints(List.of(A1, B1, W1));
              u.failed(new IOException("registry unreachable"));
            });
    try (Harness h = new Harness(b -> b.endpoints(List.of(A1)).endpointSource(listThenFailed))) {
      assertThat(h.client.endpoints()).containsExactly(A1, B1, W1);
      FailoverSnapshot.Discovery d = h.client.snapshot().discovery();
      assertThat(d.status()).isEqualTo(ListStatus.HELD);
      assertThat(d.reason()).isEqualTo("the source failed: IOException: registry unreachable");
    }

    // Without fallback endpoints, the first list the client starts on, then a failure.
    EndpointSource listThenFailedNoFallback =
        reportingAtStart(
            u -> {
              u.endpoints(List.of(A1, B1));
              u.failed(new IOException("registry unreachable"));
            });
    try (Harness h =
        new Harness(b -> b.endpoints(List.of()).endpointSource(listThenFailedNoFallback))) {
      assertThat(h.client.endpoints()).containsExactly(A1, B1);
      assertThat(h.client.snapshot().discovery().status()).isEqualTo(ListStatus.HELD);
    }
  }
}
