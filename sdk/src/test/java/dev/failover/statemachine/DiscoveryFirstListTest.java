package dev.failover.statemachine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.failover.Endpoint;
import dev.failover.EndpointSource;
import dev.failover.FailoverSnapshot;
import java.util.ArrayList;
import java.util.List;
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
}
