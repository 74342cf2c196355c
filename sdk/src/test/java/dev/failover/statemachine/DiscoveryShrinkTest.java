package dev.failover.statemachine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.failover.Endpoint;
import dev.failover.EndpointSource;
import dev.failover.FailoverEvent;
import dev.failover.FailoverSnapshot;
import dev.failover.FailoverSnapshot.ListStatus;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Which lists are held as a registry that lost its data: those that shrink the list in use by more
 * than maxRemovalPercent (or empty the home zone), not those that replace its members.
 */
class DiscoveryShrinkTest {
  private static final Endpoint A1 = Endpoint.of("http://" + Harness.A1, "us-east-1", "us-east-1a");
  private static final Endpoint A2 = Endpoint.of("http://a2.sm.test", "us-east-1", "us-east-1a");
  private static final Endpoint A3 = Endpoint.of("http://a3.sm.test", "us-east-1", "us-east-1a");
  private static final Endpoint B1 = Endpoint.of("http://" + Harness.B1, "us-east-1", "us-east-1b");
  private static final Endpoint B2 = Endpoint.of("http://b2.sm.test", "us-east-1", "us-east-1b");
  private static final Endpoint B3 = Endpoint.of("http://b3.sm.test", "us-east-1", "us-east-1b");
  private static final Endpoint W1 = Endpoint.of("http://" + Harness.W1, "us-west-2", "us-west-2a");
  private static final Endpoint W2 = Endpoint.of("http://w2.sm.test", "us-west-2", "us-west-2a");

  private final EndpointSource.Push push = new EndpointSource.Push("test-registry");

  private Harness harness() {
    return new Harness(b -> b.endpoints(List.of(A1)).endpointSource(push));
  }

  private static List<String> addresses(List<Endpoint> endpoints) {
    return endpoints.stream().map(Endpoint::address).toList();
  }

  private static void assertApplied(Harness h, Endpoint... expected) {
    assertThat(h.client.endpoints()).containsExactly(expected);
    FailoverSnapshot.Discovery d = h.client.snapshot().discovery();
    assertThat(d.status()).isEqualTo(ListStatus.CURRENT);
    assertThat(d.reason()).isNull();
    assertThat(h.events.of(FailoverEvent.EndpointListHeld.class)).isEmpty();
  }

  /**
   * A one-replica service whose pod restarted: the registry answers the new instance instead of the
   * old one. Before, that removed 1 of 1 (100%) and was held for 60 s, every call going to the dead
   * old address meanwhile, though the docs said replacements are never held.
   */
  @Test
  void replacingTheOnlyEndpointIsAppliedAtOnce() {
    try (Harness h = harness()) {
      push.update(List.of(A1));
      push.update(List.of(A2));
      assertApplied(h, A2);
    }
  }

  /** Two of three replaced within one poll (a rolling restart faster than the TTL). */
  @Test
  void replacingMostEndpointsInOneAnswerIsAppliedAtOnce() {
    try (Harness h = harness()) {
      push.update(List.of(A1, B1, W1));
      push.update(List.of(A1, B2, W2));
      assertApplied(h, A1, B2, W2);
    }
  }

  /** Every member replaced by as many others (a blue/green switch, DNS answers that rotate). */
  @Test
  void replacingEveryEndpointWithAsManyIsAppliedAtOnce() {
    try (Harness h = harness()) {
      push.update(List.of(A1, B1));
      push.update(List.of(A2, B2));
      assertApplied(h, A2, B2);
    }
  }

  /** Four replaced by three: a quarter fewer, under the 50% limit. */
  @Test
  void replacingEveryEndpointWithALittleFewerIsAppliedAtOnce() {
    try (Harness h = harness()) {
      push.update(List.of(A1, A2, B1, B2));
      push.update(List.of(A3, B3, W1));
      assertApplied(h, A3, B3, W1);
    }
  }

  /**
   * What the rule is for stays held: a list with fewer endpoints by more than maxRemovalPercent,
   * even one that adds some, until the source keeps reporting it for the confirmation time.
   */
  @Test
  void aListThatShrinksByMoreThanMaxRemovalPercentIsHeldEvenIfItAddsEndpoints() {
    try (Harness h = harness()) {
      push.update(List.of(A1, A2, B1, B2));
      push.update(List.of(A3));
      assertThat(h.client.endpoints()).containsExactly(A1, A2, B1, B2);
      FailoverSnapshot.Discovery d = h.client.snapshot().discovery();
      assertThat(d.status()).isEqualTo(ListStatus.HELD);
      assertThat(d.reason())
          .isEqualTo(
              "the source's list would remove 4 of 4 endpoints at once and add 1 (4 to 1"
                  + " endpoints: fewer by more than 50%); applied if the source keeps reporting it"
                  + " for 60 s");

      h.scheduler.advance(Duration.ofSeconds(61));
      assertThat(addresses(h.client.endpoints())).containsExactly(A3.address());
      assertThat(h.client.snapshot().discovery().status()).isEqualTo(ListStatus.CURRENT);
    }
  }

  /** And so does a replacement that empties the home zone, whatever its size. */
  @Test
  void aReplacementThatEmptiesTheHomeZoneIsHeld() {
    try (Harness h = harness()) {
      push.update(List.of(A1, B1, W1));
      push.update(List.of(B1, B2, W1));
      assertThat(h.client.endpoints()).containsExactly(A1, B1, W1);
      assertThat(h.client.snapshot().discovery().reason())
          .isEqualTo(
              "the source's list would remove 1 of 3 endpoints at once and add 1 (every endpoint"
                  + " of the home zone us-east-1a); applied if the source keeps reporting it for"
                  + " 60 s");
    }
  }
}
