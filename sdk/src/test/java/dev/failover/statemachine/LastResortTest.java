package dev.failover.statemachine;

import static dev.failover.statemachine.Harness.A1;
import static dev.failover.statemachine.Harness.B1;
import static dev.failover.statemachine.Harness.HEDGE_DELAY;
import static dev.failover.statemachine.Harness.W1;
import static dev.failover.statemachine.Harness.get;
import static org.assertj.core.api.Assertions.assertThat;

import dev.failover.Attempt;
import dev.failover.EjectionPolicy;
import dev.failover.FailoverEvent;
import dev.failover.FailoverSnapshot;
import dev.failover.ZonePolicy;
import dev.failover.statemachine.FakeTransport.Exchange;
import java.net.ConnectException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * failover-semantics.md, "The last resort": a retry that finds every endpoint in rotation failed
 * goes to an evacuated zone, and if it succeeds there the zone returns at once. A hedge that goes
 * there because every endpoint in rotation was already tried (and is still running, slow) proves no
 * such thing: its win leaves the zone to its probes and clean test.
 */
class LastResortTest {

  /**
   * Hedging (up to two hedges), zones judged, and the home zone evacuated: its only endpoint
   * refused two calls in a row, which ejects it.
   */
  private static Harness evacuatedHome() {
    Harness h =
        Harness.hedging(
            b ->
                b.hedging(Harness.HEDGING.withMaxHedges(2))
                    .zones(ZonePolicy.defaults())
                    .maxAttempts(3)
                    .ejection(EjectionPolicy.builder().consecutiveFailures(2).build()));
    try {
      h.failOnA1ThenServeOnB1(
          "/eject-a1/", 2, first -> first.fail(new ConnectException("refused a1")));
      // Its only endpoint ejected, the zone is evacuated at the next judgement (once a second).
      h.scheduler.advance(Duration.ofSeconds(1));
      assertThat(home(h).status()).isEqualTo(FailoverSnapshot.ZoneStatus.EVACUATED);
      // Calls on b1 fill the hedge bucket for two hedges.
      for (int i = 0; i < 4; i++) {
        RecordingCallback fill = new RecordingCallback();
        h.enqueue(get("/fill/" + i), fill);
        Exchange e = h.transport.next();
        assertThat(e.host()).isEqualTo(B1);
        e.respond(200);
        assertThat(fill.awaitStatus()).isEqualTo(200);
        h.events.awaitCallFinished("/fill/" + i);
      }
      return h;
    } catch (RuntimeException | Error e) {
      h.client.close();
      throw e;
    }
  }

  private static FailoverSnapshot.Zone home(Harness h) {
    return h.client.snapshot().zones().get(0);
  }

  @Test
  void aHedgeThatWinsInAnEvacuatedZoneLeavesItEvacuated() {
    try (Harness h = evacuatedHome()) {
      RecordingCallback cb = new RecordingCallback();
      h.enqueue(get("/slow"), cb);
      Exchange first = h.transport.next();
      assertThat(first.host()).isEqualTo(B1);
      h.scheduler.advance(HEDGE_DELAY);
      Exchange hedge = h.transport.next();
      assertThat(hedge.host()).isEqualTo(W1);
      h.scheduler.advance(HEDGE_DELAY);
      // Everything in rotation was tried and still runs: the last resort is the evacuated zone.
      Exchange lastResort = h.transport.next();
      assertThat(lastResort.host()).isEqualTo(A1);
      lastResort.respond(200);
      assertThat(cb.awaitStatus()).isEqualTo(200);
      assertThat(h.events.awaitCallFinished("/slow").hedges()).isEqualTo(2);
      assertThat(h.events.awaitAttempt("/slow", 1).kind()).isEqualTo(Attempt.Kind.HEDGE);
      assertThat(home(h).status()).isEqualTo(FailoverSnapshot.ZoneStatus.EVACUATED);
      assertThat(h.events.of(FailoverEvent.ZoneRestored.class)).isEmpty();
      h.quiesce();
    }
  }

  @Test
  void aHedgeThatWinsThereOnceEverythingInRotationFailedRestoresIt() {
    try (Harness h = evacuatedHome()) {
      RecordingCallback cb = new RecordingCallback();
      h.enqueue(get("/all-failed"), cb);
      Exchange first = h.transport.next();
      assertThat(first.host()).isEqualTo(B1);
      h.scheduler.advance(HEDGE_DELAY);
      Exchange hedge = h.transport.next();
      assertThat(hedge.host()).isEqualTo(W1);
      // The hedge fails while the first still runs: the next hedge goes out at once, to the
      // evacuated zone, everything in rotation being tried.
      hedge.fail(new ConnectException("refused w1"));
      Exchange lastResort = h.transport.next();
      assertThat(lastResort.host()).isEqualTo(A1);
      first.fail(new ConnectException("refused b1"));
      h.events.awaitAttempt("/all-failed", 2);
      // Nothing in rotation runs any more when the evacuated zone answers.
      lastResort.respond(200);
      assertThat(cb.awaitStatus()).isEqualTo(200);
      h.events.awaitCallFinished("/all-failed");
      assertThat(home(h).status()).isNotEqualTo(FailoverSnapshot.ZoneStatus.EVACUATED);
      // The zone's event reaches listeners on their own thread, not with the call's events.
      h.events.await(FailoverEvent.ZoneRestored.class, 1, e -> true);
      assertThat(h.events.of(FailoverEvent.ZoneRestored.class)).hasSize(1);
      h.quiesce();
    }
  }

  @Test
  void aRetryThatSucceedsInAnEvacuatedZoneAfterEverythingElseFailedRestoresIt() {
    try (Harness h = evacuatedHome()) {
      RecordingCallback cb = new RecordingCallback();
      h.enqueue(get("/failing"), cb);
      Exchange first = h.transport.next();
      assertThat(first.host()).isEqualTo(B1);
      first.fail(new ConnectException("refused b1"));
      h.scheduler.advance(h.awaitRetryTimer("/failing", 1));
      Exchange second = h.transport.next();
      assertThat(second.host()).isEqualTo(W1);
      second.fail(new ConnectException("refused w1"));
      h.scheduler.advance(h.awaitRetryTimer("/failing", 2));
      Exchange lastResort = h.transport.next();
      assertThat(lastResort.host()).isEqualTo(A1);
      lastResort.respond(200);
      assertThat(cb.awaitStatus()).isEqualTo(200);
      h.events.awaitCallFinished("/failing");
      assertThat(h.client.snapshot().panic()).isFalse();
      assertThat(home(h).status()).isNotEqualTo(FailoverSnapshot.ZoneStatus.EVACUATED);
      // The zone's event reaches listeners on their own thread, not with the call's events.
      h.events.await(FailoverEvent.ZoneRestored.class, 1, e -> true);
      assertThat(h.events.of(FailoverEvent.ZoneRestored.class)).hasSize(1);
      h.quiesce();
    }
  }
}
