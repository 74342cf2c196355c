package dev.failover.statemachine;

import static dev.failover.statemachine.Harness.A1;
import static dev.failover.statemachine.Harness.B1;
import static dev.failover.statemachine.Harness.HEDGE_DELAY;
import static dev.failover.statemachine.Harness.get;
import static org.assertj.core.api.Assertions.assertThat;

import dev.failover.Attempt;
import dev.failover.Outcome;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The client's own pauses, on fake time: what they must not charge to the endpoints. */
class PauseJudgementTest {

  @Test
  void aRaceLostToAHedgeSentAfterAPauseIsNoEvidence() {
    try (Harness h = Harness.hedging()) {
      String path = "/pause/hedged";
      long t0 = h.scheduler.now();
      RecordingCallback cb = new RecordingCallback();
      h.enqueue(get(path), cb);
      FakeTransport.Exchange first = h.transport.next();
      assertThat(first.host()).isEqualTo(A1);
      h.scheduler.awaitOneShotAt(t0 + HEDGE_DELAY.toNanos());
      // A stop-the-world pause of 1 s: nothing runs. Then the tick measures it, and the hedge
      // timer, late too, sends a hedge that never saw the pause, and wins at once.
      h.clock.advance(Duration.ofSeconds(1));
      h.scheduler.runDue();
      assertThat(h.client.snapshot().clientStalled()).isTrue();
      FakeTransport.Exchange hedge = h.transport.next();
      assertThat(hedge.host()).isEqualTo(B1);
      // The hedge takes twice the hedge delay: without the pause, the first attempt would have run
      // 100 + 200 ms against the hedge's 200 ms, no loss by far.
      h.clock.advance(HEDGE_DELAY.multipliedBy(2));
      hedge.respond(200);
      assertThat(cb.awaitStatus()).isEqualTo(200);
      h.events.awaitCallFinished(path);
      h.events.awaitAttempt(path, 2);
      assertThat(h.events.attempts(path))
          .filteredOn(a -> a.kind() == Attempt.Kind.FIRST)
          .singleElement()
          .extracting(Attempt::outcome)
          .isEqualTo(Outcome.CANCELLED);
      // Before, the first attempt had lost "by far" (1.2 s against 0.2 s): a failure of A1 and of
      // its zone, one per pause. Now the pause it went through and the hedge never saw is taken
      // off its time.
      assertThat(h.zone("us-east-1a").errorRatePercent()).isZero();
      h.quiesce();
    }
  }

  /**
   * A timeout that went through a pause of the client's that does not explain it (100 ms of a 1 s
   * attempt) counts against its endpoint, but not in its zone's statistics: which zone's attempts
   * time out in a stall is an accident of timing, and a healthy zone that took the retries and
   * hedges of a starved client was evacuated on its error rate. Without the stall, the same timeout
   * is the zone's.
   */
  @org.junit.jupiter.params.ParameterizedTest(name = "stalled {0}")
  @org.junit.jupiter.params.provider.ValueSource(booleans = {true, false})
  void aTimeoutWhileTheClientStallsIsNotInItsZonesStatistics(boolean stalled) {
    try (Harness h =
        new Harness(
            b ->
                b.attemptTimeout(Duration.ofSeconds(1))
                    .minAttemptTime(Duration.ofMillis(500))
                    .maxAttempts(1))) {
      h.scheduler.advance(Duration.ofSeconds(6)); // past the start-up grace
      String path = "/stall/timeout-" + stalled;
      RecordingCallback cb = new RecordingCallback();
      h.enqueue(get(path), cb);
      FakeTransport.Exchange first = h.transport.next();
      assertThat(first.host()).isEqualTo(A1);
      first.sendOnNetwork(h.clock); // on a connection: its time runs out waiting for the answer
      if (stalled) {
        h.clock.advance(Duration.ofMillis(100)); // the tick runs 100 ms late, in the attempt
        h.scheduler.runDue();
      }
      assertThat(h.client.snapshot().clientStalled()).isEqualTo(stalled);
      h.scheduler.advance(Duration.ofSeconds(1)); // its timeout
      cb.awaitResult();
      h.events.awaitAttempt(path, 1);
      assertThat(h.events.attempts(path))
          .singleElement()
          .extracting(Attempt::outcome)
          .isEqualTo(Outcome.TIMEOUT);
      assertThat(h.client.snapshot().clientStalled()).isEqualTo(stalled); // within the 2 s grace
      if (stalled) {
        assertThat(h.zone("us-east-1a").errorRatePercent()).isZero();
      } else {
        assertThat(h.zone("us-east-1a").errorRatePercent()).isEqualTo(100f);
      }
      h.quiesce();
    }
  }
}
