package dev.failover.statemachine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.failover.DiscoveryPolicy;
import dev.failover.Endpoint;
import dev.failover.EndpointSource;
import dev.failover.FailoverClient;
import dev.failover.FailoverEvent;
import dev.failover.FailoverSettings;
import dev.failover.FailoverSnapshot;
import dev.failover.FailoverSnapshot.ListStatus;
import dev.failover.HealthCheck;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * The client's side of an endpoint source, on fake time: which lists are applied, which are held
 * (static stability), what stays, what drains, and what the snapshot and events say.
 */
class DiscoveryTest {
  private static final Endpoint A1 = Endpoint.of("http://" + Harness.A1, "us-east-1", "us-east-1a");
  private static final Endpoint A2 = Endpoint.of("http://a2.sm.test", "us-east-1", "us-east-1a");
  private static final Endpoint B1 = Endpoint.of("http://" + Harness.B1, "us-east-1", "us-east-1b");
  private static final Endpoint B2 = Endpoint.of("http://b2.sm.test", "us-east-1", "us-east-1b");
  private static final Endpoint W1 = Endpoint.of("http://" + Harness.W1, "us-west-2", "us-west-2a");

  private final EndpointSource.Push push = new EndpointSource.Push("test-registry");

  /** A client fed by {@link #push}; {@code fallback} replaces the harness's endpoints. */
  private Harness harness(List<Endpoint> fallback, UnaryOperator<FailoverClient.Builder> more) {
    return new Harness(b -> more.apply(b.endpoints(fallback).endpointSource(push)));
  }

  private Harness harness(List<Endpoint> fallback) {
    return harness(fallback, UnaryOperator.identity());
  }

  private static List<String> addresses(List<Endpoint> endpoints) {
    return endpoints.stream().map(Endpoint::address).toList();
  }

  @Test
  void theFirstListReplacesTheFallbackWhateverItRemoves() {
    try (Harness h = harness(List.of(A1))) {
      assertThat(h.client.snapshot().discovery().status()).isEqualTo(ListStatus.FALLBACK);
      push.update(List.of(A2, B1, W1));
      assertThat(addresses(h.client.endpoints()))
          .containsExactly(A2.address(), B1.address(), W1.address());
      FailoverSnapshot.Discovery d = h.client.snapshot().discovery();
      assertThat(d.status()).isEqualTo(ListStatus.CURRENT);
      assertThat(d.source()).isEqualTo("test-registry");
      assertThat(d.endpoints()).isEqualTo(3);
      assertThat(d.updates()).isEqualTo(1);
      FailoverEvent.EndpointsChanged changed =
          h.events.of(FailoverEvent.EndpointsChanged.class).get(0);
      assertThat(changed.added()).containsExactly(A2, B1, W1);
      assertThat(changed.removed()).containsExactly(A1);
      assertThat(h.client.snapshot().zones())
          .extracting(z -> z.locality().zone())
          .containsExactly("us-east-1a", "us-east-1b", "us-west-2a");
    }
  }

  /**
   * A source that fails from the start is held on the fallback, and after maxStaleness reported
   * STALE; its first list still replaces the fallback at once, whatever it removes. Before, the
   * STALE status hid that the fallback was in use, and the first list was held for the removal
   * confirmation as if it removed a list the source had given.
   */
  @Test
  void theFirstListReplacesTheFallbackEvenAfterTheSourceWasReportedStale() {
    try (Harness h =
        harness(
            List.of(A1),
            b ->
                b.discovery(DiscoveryPolicy.defaults().withMaxStaleness(Duration.ofSeconds(30))))) {
      push.fail(new IOException("connection refused"));
      h.scheduler.advance(Duration.ofSeconds(31));
      assertThat(h.client.snapshot().discovery().status()).isEqualTo(ListStatus.STALE);

      push.update(List.of(A2, B1));
      assertThat(addresses(h.client.endpoints())).containsExactly(A2.address(), B1.address());
      assertThat(h.client.snapshot().discovery().status()).isEqualTo(ListStatus.CURRENT);
    }
  }

  /** reset() keeps the list in use: it started over on the list the client was built with. */
  @Test
  void resetKeepsTheSourcesLastListWhileTheSourceFails() {
    try (Harness h = harness(List.of(A1))) {
      push.update(List.of(A2, B1, W1));
      push.fail(new IOException("registry unreachable"));
      h.client.reset();
      assertThat(addresses(h.client.endpoints()))
          .containsExactly(A2.address(), B1.address(), W1.address());
    }
  }

  /** Nor is the source's last list held as a large removal from the build-time list. */
  @Test
  void resetAfterEveryEndpointWasReplacedKeepsTheListInUse() {
    try (Harness h = harness(List.of(A1, B1))) {
      push.update(List.of(A1, B1));
      push.update(List.of(A2, B1));
      push.update(List.of(A2, B2));
      h.client.reset();
      assertThat(addresses(h.client.endpoints())).containsExactly(A2.address(), B2.address());
      assertThat(h.client.snapshot().discovery().status()).isEqualTo(ListStatus.CURRENT);
    }
  }

  /**
   * A reconfiguration while the fallback still serves keeps the first list's right to replace it.
   */
  @Test
  void theFirstListReplacesTheFallbackAfterAReconfigurationWhileStale() {
    try (Harness h =
        harness(
            List.of(A1),
            b ->
                b.discovery(DiscoveryPolicy.defaults().withMaxStaleness(Duration.ofSeconds(30))))) {
      push.fail(new IOException("connection refused"));
      h.scheduler.advance(Duration.ofSeconds(31));
      assertThat(h.client.snapshot().discovery().status()).isEqualTo(ListStatus.STALE);
      h.client.reconfigure(b -> b.maxAttempts(2));

      push.update(List.of(A2, B1));
      assertThat(addresses(h.client.endpoints())).containsExactly(A2.address(), B1.address());
      assertThat(h.client.snapshot().discovery().status()).isEqualTo(ListStatus.CURRENT);
    }
  }

  /**
   * A reconfiguration that changes nothing keeps the client's state after the source changed the
   * list: before, the list the client was built with was compared with the source's, and every such
   * call (a Spring refresh of an unrelated key) started the client over, ejections and evacuations
   * forgotten.
   */
  @Test
  void aReconfigurationThatChangesNothingKeepsTheStateAfterTheSourceChangedTheList() {
    try (Harness h = harness(List.of(A1, B1))) {
      push.update(List.of(A1, B1, W1));
      FailoverSettings before = h.client.settings();
      long updates = h.client.snapshot().discovery().updates();

      h.client.reconfigure(b -> b);
      h.client.reconfigure(b -> b.maxAttempts(before.maxAttempts()));

      assertThat(h.client.settings()).isSameAs(before);
      assertThat(h.client.snapshot().discovery().updates()).isEqualTo(updates);
      assertThat(addresses(h.client.endpoints()))
          .containsExactly(A1.address(), B1.address(), W1.address());

      h.client.reconfigure(b -> b.maxAttempts(before.maxAttempts() + 1)); // a real change
      assertThat(h.client.settings()).isNotSameAs(before);
      assertThat(h.client.settings().maxAttempts()).isEqualTo(before.maxAttempts() + 1);
      assertThat(addresses(h.client.endpoints()))
          .containsExactly(A1.address(), B1.address(), W1.address());
    }
  }

  @Test
  void aListPushedBeforeTheClientStartsIsItsFirstList() {
    push.update(List.of(A1, B1));
    try (Harness h = harness(List.of())) {
      assertThat(addresses(h.client.endpoints())).containsExactly(A1.address(), B1.address());
      assertThat(h.client.snapshot().discovery().status()).isEqualTo(ListStatus.CURRENT);
    }
  }

  @Test
  void failuresAndEmptyListsKeepTheLastGoodListAndAreReportedOncePerReason() {
    try (Harness h = harness(List.of(A1))) {
      push.update(List.of(A1, B1, W1));
      for (int i = 0; i < 3; i++) {
        push.fail(new IOException("registry unreachable"));
      }
      assertThat(addresses(h.client.endpoints()))
          .containsExactly(A1.address(), B1.address(), W1.address());
      FailoverSnapshot.Discovery d = h.client.snapshot().discovery();
      assertThat(d.status()).isEqualTo(ListStatus.HELD);
      assertThat(d.reason()).contains("IOException: registry unreachable");
      assertThat(d.heldSince()).isNotNull();
      assertThat(d.held()).isEqualTo(3);
      push.update(List.of());
      assertThat(h.client.endpoints()).hasSize(3);
      assertThat(h.client.snapshot().discovery().reason()).contains("no endpoints");
      assertThat(h.events.of(FailoverEvent.EndpointListHeld.class))
          .extracting(FailoverEvent.EndpointListHeld::reason)
          .hasSize(2)
          .allSatisfy(r -> assertThat(r).isNotBlank());

      push.update(List.of(A1, B1, W1, A2));
      d = h.client.snapshot().discovery();
      assertThat(d.status()).isEqualTo(ListStatus.CURRENT);
      assertThat(d.reason()).isNull();
      assertThat(d.heldSince()).isNull();
      assertThat(h.client.endpoints()).hasSize(4);
    }
  }

  @Test
  void aListThatRemovesMostEndpointsAtOnceIsHeldUntilTheSourceKeepsReportingIt() {
    try (Harness h = harness(List.of(A1))) {
      push.update(List.of(A1, A2, B1, B2));
      push.update(List.of(A1)); // removes 3 of 4
      assertThat(h.client.endpoints()).hasSize(4);
      assertThat(h.client.snapshot().discovery().status()).isEqualTo(ListStatus.HELD);
      assertThat(h.client.snapshot().discovery().reason())
          .contains("would remove 3 of 4 endpoints at once");

      h.scheduler.advance(Duration.ofSeconds(59));
      push.update(List.of(A1)); // the same answer again: still counting from the first
      assertThat(h.client.endpoints()).hasSize(4);
      h.scheduler.advance(Duration.ofSeconds(2)); // the 1 s timer applies it once confirmed
      assertThat(addresses(h.client.endpoints())).containsExactly(A1.address());
      assertThat(h.client.snapshot().discovery().status()).isEqualTo(ListStatus.CURRENT);
    }
  }

  @Test
  void aDifferentAnswerOrAFailureRestartsTheConfirmationOfALargeRemoval() {
    try (Harness h = harness(List.of(A1))) {
      push.update(List.of(A1, A2, B1, B2));
      push.update(List.of(A1));
      h.scheduler.advance(Duration.ofSeconds(40));
      push.fail(new IOException("timeout"));
      push.update(List.of(A1));
      h.scheduler.advance(Duration.ofSeconds(40));
      assertThat(h.client.endpoints()).hasSize(4); // 80 s held, but confirmed for 40 s only
      push.update(List.of(B1));
      h.scheduler.advance(Duration.ofSeconds(59));
      assertThat(h.client.endpoints()).hasSize(4);
      h.scheduler.advance(Duration.ofSeconds(2));
      assertThat(addresses(h.client.endpoints())).containsExactly(B1.address());
    }
  }

  @Test
  void replacingEndpointsOneByOneIsNeverHeld() {
    try (Harness h = harness(List.of(A1))) {
      push.update(List.of(A1, B1));
      push.update(List.of(A1, B1, A2));
      push.update(List.of(B1, A2)); // A1 replaced by A2
      push.update(List.of(B1, A2, B2));
      push.update(List.of(A2, B2)); // B1 replaced by B2
      assertThat(addresses(h.client.endpoints())).containsExactly(A2.address(), B2.address());
      assertThat(h.events.of(FailoverEvent.EndpointListHeld.class)).isEmpty();
      assertThat(h.client.snapshot().discovery().updates()).isEqualTo(5);
    }
  }

  @Test
  void aHeldListTurnsStaleAfterMaxStalenessOnceAndTheClientKeepsServing() {
    try (Harness h =
        harness(
            List.of(A1),
            b ->
                b.discovery(DiscoveryPolicy.defaults().withMaxStaleness(Duration.ofSeconds(30))))) {
      push.update(List.of(A1, B1));
      push.fail(new IOException("connection refused"));
      h.scheduler.advance(Duration.ofSeconds(29));
      assertThat(h.client.snapshot().discovery().status()).isEqualTo(ListStatus.HELD);
      h.scheduler.advance(Duration.ofSeconds(2));
      assertThat(h.client.snapshot().discovery().status()).isEqualTo(ListStatus.STALE);
      push.fail(new IOException("connection refused"));
      h.scheduler.advance(Duration.ofSeconds(60));
      // Reported once, from the scheduler's tick but on a dispatcher thread (never the
      // scheduler's).
      FailoverEvent.EndpointListStale stale =
          h.events.await(FailoverEvent.EndpointListStale.class, 1, e -> true);
      assertThat(stale.heldFor()).isGreaterThanOrEqualTo(Duration.ofSeconds(30));
      assertThat(h.client.endpoints()).hasSize(2);

      RecordingCallback cb = new RecordingCallback();
      h.enqueue(Harness.get("/still-served"), cb);
      h.transport.next().respond(200);
      assertThat(cb.awaitStatus()).isEqualTo(200);
      h.quiesce(); // every event there will be has been delivered
      assertThat(h.events.of(FailoverEvent.EndpointListStale.class)).hasSize(1);
    }
  }

  @Test
  void aRemovedEndpointFinishesItsCallInFlightAndGetsNoNewAttempt() {
    try (Harness h = harness(List.of(A1, B1, W1))) {
      push.update(List.of(A1, B1, W1));
      RecordingCallback inFlight = new RecordingCallback();
      h.enqueue(Harness.get("/in-flight"), inFlight);
      FakeTransport.Exchange first = h.transport.next();
      assertThat(first.host()).isEqualTo(Harness.A1);

      push.update(List.of(A2, B1, W1)); // A1 replaced by A2
      first.respond(200);
      assertThat(inFlight.awaitStatus()).isEqualTo(200);

      List<String> hosts = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        RecordingCallback cb = new RecordingCallback();
        h.enqueue(Harness.get("/after-" + i), cb);
        FakeTransport.Exchange e = h.transport.next();
        hosts.add(e.host());
        e.respond(200);
        assertThat(cb.awaitStatus()).isEqualTo(200);
      }
      assertThat(hosts).doesNotContain(Harness.A1).contains("a2.sm.test");
    }
  }

  @Test
  void anEndpointThatStaysKeepsItsStateAndTakesItsNewWeight() {
    try (Harness h = harness(List.of(A1, B1, W1))) {
      push.update(List.of(A1, B1, W1));
      RecordingCallback cb = new RecordingCallback();
      h.enqueue(Harness.get("/held"), cb);
      FakeTransport.Exchange held = h.transport.next();
      assertThat(held.host()).isEqualTo(Harness.A1);
      FailoverSnapshot.EndpointState a1 = h.endpoint(Harness.A1);
      assertThat(a1.endpoint().weight()).isEqualTo(Endpoint.DEFAULT_WEIGHT);
      assertThat(a1.outstanding()).isEqualTo(1);

      push.update(List.of(A1.withWeight(300), B1, W1));
      FailoverSnapshot.EndpointState after = h.endpoint(Harness.A1);
      assertThat(after.endpoint().weight()).isEqualTo(300);
      assertThat(after.outstanding())
          .as("the same live state, with its attempt in flight")
          .isEqualTo(1);
      assertThat(h.events.of(FailoverEvent.EndpointsChanged.class)).isEmpty();
      held.respond(200);
      assertThat(cb.awaitStatus()).isEqualTo(200);
    }
  }

  /**
   * An endpoint a source drops for one answer and lists again (a registry re-registering its
   * instances, DNS servers that disagree) comes back as it left: still ejected, its ejection
   * counted. (Every list applied at once: a1 is the home zone's only endpoint, whose removal would
   * otherwise be held.) Before, it came back as a new endpoint, healthy and in slow start, which
   * also pushed its zone's traffic out for the ramp.
   */
  @Test
  void anEndpointThatLeavesAndComesBackKeepsItsState() {
    try (Harness h = harness(List.of(A1, B1, W1), DiscoveryTest::appliedAtOnce)) {
      push.update(List.of(A1, B1, W1));
      h.failOnA1ThenServeOnB1("/eject/", 5, first -> first.respond(503));
      h.events.await(FailoverEvent.EndpointEjected.class, 1, e -> true);
      assertThat(h.endpoint(Harness.A1).health()).isEqualTo(FailoverSnapshot.Health.EJECTED);

      push.update(List.of(B1, W1));
      assertThat(addresses(h.client.endpoints())).containsExactly(B1.address(), W1.address());
      h.scheduler.advance(Duration.ofSeconds(1));
      push.update(List.of(A1, B1, W1));

      FailoverSnapshot.EndpointState back = h.endpoint(Harness.A1);
      assertThat(back.health()).isEqualTo(FailoverSnapshot.Health.EJECTED);
      assertThat(back.ejections()).isEqualTo(1);
    }
  }

  /** After {@code REMEMBER_REMOVED_NANOS} (5 minutes) an endpoint that returns is a new one. */
  @Test
  void anEndpointThatComesBackAfterFiveMinutesIsNew() {
    try (Harness h = harness(List.of(A1, B1, W1), DiscoveryTest::appliedAtOnce)) {
      push.update(List.of(A1, B1, W1));
      h.failOnA1ThenServeOnB1("/eject/", 5, first -> first.respond(503));
      h.events.await(FailoverEvent.EndpointEjected.class, 1, e -> true);

      push.update(List.of(B1, W1));
      h.scheduler.advance(Duration.ofMinutes(5).plusSeconds(1));
      push.update(List.of(A1, B1, W1));

      assertThat(h.endpoint(Harness.A1).ejections()).isZero();
    }
  }

  private static FailoverClient.Builder appliedAtOnce(FailoverClient.Builder b) {
    return b.discovery(DiscoveryPolicy.defaults().withMaxRemovalPercent(100));
  }

  /**
   * A list that leaves the home zone without an endpoint is held like a large removal, whatever its
   * share (here 1 of 3): applied once the source keeps reporting it for the confirmation time.
   * Before, it was applied at once and every call left the home zone on one answer.
   */
  @Test
  void aListThatEmptiesTheHomeZoneIsHeldUntilTheSourceKeepsReportingIt() {
    try (Harness h = harness(List.of(A1, B1, W1))) {
      push.update(List.of(A1, B1, W1));
      push.update(List.of(B1, W1));
      assertThat(addresses(h.client.endpoints()))
          .containsExactly(A1.address(), B1.address(), W1.address());
      FailoverSnapshot.Discovery d = h.client.snapshot().discovery();
      assertThat(d.status()).isEqualTo(ListStatus.HELD);
      assertThat(d.reason())
          .isEqualTo(
              "the source's list would remove 1 of 3 endpoints at once (every endpoint of the home"
                  + " zone us-east-1a); applied if the source keeps reporting it for 60 s");

      h.scheduler.advance(Duration.ofSeconds(30));
      push.update(List.of(B1, W1));
      assertThat(h.client.endpoints()).hasSize(3);
      h.scheduler.advance(Duration.ofSeconds(31));
      assertThat(addresses(h.client.endpoints())).containsExactly(B1.address(), W1.address());
      assertThat(h.client.snapshot().discovery().status()).isEqualTo(ListStatus.CURRENT);
    }
  }

  @Test
  void anEndpointThatMovesZonesIsRemovedAndAdded() {
    try (Harness h = harness(List.of(A1, B1, W1))) {
      push.update(List.of(A1, B1, W1));
      Endpoint moved = Endpoint.of("http://" + Harness.B1, "us-east-1", "us-east-1c");
      push.update(List.of(A1, moved, W1));
      FailoverEvent.EndpointsChanged changed =
          h.events.of(FailoverEvent.EndpointsChanged.class).get(0);
      assertThat(changed.added()).containsExactly(moved);
      assertThat(changed.removed()).containsExactly(B1);
      assertThat(h.client.snapshot().zones())
          .extracting(z -> z.locality().zone())
          .containsExactly("us-east-1a", "us-east-1c", "us-west-2a");
    }
  }

  @Test
  void withoutFallbackBuildFailsWhenTheSourceGivesNoListAndSaysHow() {
    AtomicBoolean closed = new AtomicBoolean();
    EndpointSource silent =
        new EndpointSource() {
          @Override
          public void start(Updates updates) {
            updates.failed(new IOException("no route to registry"));
          }

          @Override
          public void close() {
            closed.set(true);
          }

          @Override
          public String description() {
            return "silent-registry";
          }
        };
    assertThatThrownBy(
            () ->
                FailoverClient.builder()
                    .service("svc")
                    .home("us-east-1", "us-east-1a")
                    .endpointSource(silent)
                    .discovery(DiscoveryPolicy.defaults().withStartTimeout(Duration.ZERO))
                    .build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("silent-registry")
        .hasMessageContaining("reported no endpoints within 0 ms")
        .hasMessageContaining("no route to registry")
        .hasMessageContaining("fallback endpoints");
    assertThat(closed).isTrue();
  }

  @Test
  void withFallbackASourceThatFailsAtStartLeavesTheClientServingTheFallback() {
    EndpointSource broken =
        new EndpointSource() {
          @Override
          public void start(Updates updates) {
            throw new IllegalStateException("registry down");
          }

          @Override
          public void close() {}
        };
    try (Harness h = new Harness(b -> b.endpoints(List.of(A1, B1)).endpointSource(broken))) {
      FailoverSnapshot.Discovery d = h.client.snapshot().discovery();
      assertThat(d.status()).isEqualTo(ListStatus.FALLBACK);
      assertThat(d.reason()).contains("registry down");
      assertThat(h.client.endpoints()).hasSize(2);
      RecordingCallback cb = new RecordingCallback();
      h.enqueue(Harness.get("/served"), cb);
      h.transport.next().respond(200);
      assertThat(cb.awaitStatus()).isEqualTo(200);
    }
  }

  @Test
  void closingTheClientClosesTheSourceAndLaterListsAreIgnored() {
    Harness h = harness(List.of(A1));
    push.update(List.of(A1, B1));
    h.close();
    push.update(List.of(W1));
    assertThat(addresses(h.client.endpoints())).containsExactly(A1.address(), B1.address());
  }

  @Test
  void newEndpointsAreHealthCheckedAtOnce() {
    try (Harness h =
        harness(
            List.of(A1),
            b -> b.healthCheck(HealthCheck.http("/health").withInterval(Duration.ofSeconds(30))))) {
      push.update(List.of(A1, B1));
      h.scheduler.runDue();
      FakeTransport.Exchange probe = h.transport.next();
      assertThat(probe.host()).isEqualTo(Harness.B1);
      assertThat(probe.path()).isEqualTo("/health");
      probe.respond(200);
    }
  }

  @Test
  void aZoneNewToTheClientRampsUpAndThenIsActiveEvenWithZonesNotJudged() {
    try (Harness h = harness(List.of(A1))) { // the harness disables zone judgement
      push.update(List.of(A1)); // the first list, which replaces the fallback without slow start
      push.update(List.of(A1, B1));
      assertThat(zoneStatus(h, "us-east-1b")).isEqualTo(FailoverSnapshot.ZoneStatus.RAMPING);
      assertThat(zoneStatus(h, "us-east-1a")).isEqualTo(FailoverSnapshot.ZoneStatus.ACTIVE);
      h.scheduler.advance(Duration.ofSeconds(11)); // the default slow start is 10 s
      assertThat(zoneStatus(h, "us-east-1b")).isEqualTo(FailoverSnapshot.ZoneStatus.ACTIVE);
    }
  }

  private static FailoverSnapshot.ZoneStatus zoneStatus(Harness h, String zone) {
    return h.client.snapshot().zones().stream()
        .filter(z -> z.locality().zone().equals(zone))
        .findFirst()
        .orElseThrow()
        .status();
  }

  @Test
  void aStaticClientSaysSoInItsSnapshot() {
    try (Harness h = new Harness()) {
      FailoverSnapshot.Discovery d = h.client.snapshot().discovery();
      assertThat(d.status()).isEqualTo(ListStatus.STATIC);
      assertThat(d.source()).isEqualTo("static");
      assertThat(d.endpoints()).isEqualTo(3);
    }
  }
}
