package dev.failover.statemachine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.failover.DiscoveryPolicy;
import dev.failover.Endpoint;
import dev.failover.EndpointSource;
import dev.failover.FailoverSnapshot;
import dev.failover.FailoverSnapshot.ListStatus;
import java.time.Duration;
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
}
