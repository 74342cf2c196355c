package dev.failover.statemachine;

import static dev.failover.statemachine.Harness.A1;
import static dev.failover.statemachine.Harness.B1;
import static dev.failover.statemachine.Harness.HEDGE_DELAY;
import static dev.failover.statemachine.Harness.W1;
import static dev.failover.statemachine.Harness.get;
import static org.assertj.core.api.Assertions.assertThat;

import dev.failover.Attempt;
import dev.failover.Outcome;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * A race lost by an attempt that had to open a connection first, on fake time: an endpoint just
 * back (or first asked) has none pooled, and its handshakes are no slowness of its answers.
 */
class ConnectionSetupJudgementTest {

  /**
   * The home zone's error rate after one race its first attempt lost to the hedge, sent 100 ms
   * after it: the first attempt has its connection ready {@code sentAfterMillis} after it began
   * (never when negative), the hedge answers {@code winnerMillis} after it left.
   */
  private static double homeErrorRateAfterLostRace(long sentAfterMillis, long winnerMillis) {
    try (Harness h = Harness.hedging()) {
      String path = "/cold/" + sentAfterMillis + "/" + winnerMillis;
      long t0 = h.scheduler.now();
      long sentAt = t0 + Duration.ofMillis(sentAfterMillis).toNanos();
      long hedgeAt = t0 + HEDGE_DELAY.toNanos();
      RecordingCallback cb = new RecordingCallback();
      h.enqueue(get(path), cb);
      FakeTransport.Exchange first = h.transport.next();
      assertThat(first.host()).isEqualTo(A1);
      h.scheduler.awaitOneShotAt(hedgeAt);
      // Time runs with the scheduler's tasks on time: no pause of the client's.
      if (sentAfterMillis >= 0 && sentAt - hedgeAt < 0) {
        h.scheduler.advanceTo(sentAt);
        first.sendOnNetwork(h.clock);
      }
      h.scheduler.advanceTo(hedgeAt);
      FakeTransport.Exchange hedge = h.transport.next();
      assertThat(hedge.host()).isEqualTo(B1);
      if (sentAfterMillis >= 0 && sentAt - hedgeAt >= 0) {
        h.scheduler.advanceTo(sentAt);
        first.sendOnNetwork(h.clock);
      }
      h.scheduler.advanceTo(hedgeAt + Duration.ofMillis(winnerMillis).toNanos());
      hedge.respond(200);
      assertThat(cb.awaitStatus()).isEqualTo(200);
      h.events.awaitCallFinished(path);
      h.events.awaitAttempt(path, 2);
      assertThat(h.events.attempts(path))
          .filteredOn(a -> a.kind() == Attempt.Kind.FIRST)
          .singleElement()
          .extracting(Attempt::outcome)
          .isEqualTo(Outcome.CANCELLED);
      h.quiesce();
      assertThat(h.client.snapshot().clientStalled()).isFalse();
      return h.zone("us-east-1a").errorRatePercent();
    }
  }

  @Test
  void aRaceLostWhileTheLoserOpenedItsConnectionIsNoEvidence() {
    // Overtaken after 180 ms by a hedge that ran 80 ms: lost by far, counted from when it reached
    // the SDK. Sent after 150 ms of handshakes (not twice the winner's time), it had waited 30 ms
    // for its answer: not slow. Before, those 150 ms were counted as the endpoint's.
    assertThat(homeErrorRateAfterLostRace(150, 80)).isZero();
    // Sent after 30 ms: 150 ms of waiting for its answer, under twice 80 ms.
    assertThat(homeErrorRateAfterLostRace(30, 80)).isZero();
  }

  @Test
  void aRaceLostByFarAfterItsConnectionWasReadyCounts() {
    // Sent at once (a pooled connection), or after 20 ms of handshakes: 180 and 160 ms of waiting
    // for its answer, against the winner's 80 ms.
    assertThat(homeErrorRateAfterLostRace(0, 80)).isPositive();
    assertThat(homeErrorRateAfterLostRace(20, 80)).isPositive();
  }

  @Test
  void aRaceLostStillConnectingCounts() {
    // No connection after 180 ms, against a hedge answered in 80 ms: a zone that does not answer
    // handshakes (blackholed) is found this way.
    assertThat(homeErrorRateAfterLostRace(-1, 80)).isPositive();
  }

  @Test
  void handshakesThatThemselvesLostByFarAreTheEndpointsSlowness() {
    // Sent after 125 ms of handshakes, overtaken 35 ms later by a hedge that ran 60 ms: the
    // handshakes alone took more than twice the winner's time. Over HTTP/1.1 every loser's
    // connection is closed, so an endpoint whose handshakes are that slow would open a new one,
    // and be excused, on every call.
    assertThat(homeErrorRateAfterLostRace(125, 60)).isPositive();
  }

  /**
   * The west zone's error rate after one race its first attempt, sent after {@code sentAfterMillis}
   * of handshakes, lost to a hedge to the east answered 25 ms after it left, 125 ms after the first
   * attempt began. The west region answers in 60 ms as a rule.
   */
  private static double farErrorRateAfterLostRace(long sentAfterMillis) {
    try (Harness h = new Harness(b -> b.hedging(Harness.HEDGING).home("us-west-2", "us-west-2a"))) {
      for (int i = 0; i < 2; i++) {
        // Two calls answered in 60 ms: its region's usual latency, and a whole hedge token.
        RecordingCallback cb = new RecordingCallback();
        h.enqueue(get("/west/warm-up/" + i), cb);
        FakeTransport.Exchange e = h.transport.next();
        assertThat(e.host()).isEqualTo(W1);
        h.scheduler.advance(Duration.ofMillis(60));
        e.respond(200);
        assertThat(cb.awaitStatus()).isEqualTo(200);
        h.events.awaitCallFinished("/west/warm-up/" + i);
      }
      String path = "/west/cold/" + sentAfterMillis;
      long t0 = h.scheduler.now();
      RecordingCallback cb = new RecordingCallback();
      h.enqueue(get(path), cb);
      FakeTransport.Exchange first = h.transport.next();
      assertThat(first.host()).isEqualTo(W1);
      h.scheduler.awaitOneShotAt(t0 + HEDGE_DELAY.toNanos());
      h.scheduler.advanceTo(t0 + Duration.ofMillis(sentAfterMillis).toNanos());
      first.sendOnNetwork(h.clock);
      h.scheduler.advanceTo(t0 + HEDGE_DELAY.toNanos());
      FakeTransport.Exchange hedge = h.transport.next();
      assertThat(hedge.host()).isNotEqualTo(W1);
      h.scheduler.advanceTo(t0 + Duration.ofMillis(125).toNanos());
      hedge.respond(200);
      assertThat(cb.awaitStatus()).isEqualTo(200);
      h.events.awaitCallFinished(path);
      h.events.awaitAttempt(path, 2);
      h.quiesce();
      assertThat(h.client.snapshot().clientStalled()).isFalse();
      return h.zone("us-west-2a").errorRatePercent();
    }
  }

  @Test
  void aFarRegionsRaceIsJudgedAgainstItsUsualLatencyWithoutItsHandshakes() {
    // Sent after 70 ms of handshakes, overtaken 55 ms later by a hedge that ran 25 ms: lost by far
    // (55 against 25 ms), but not slow for its region (55 ms, under twice 60); nor were its
    // handshakes (70 ms), which count whole only when they alone are. Before, its 125 ms with the
    // handshakes were slow for its region (at least 120).
    assertThat(farErrorRateAfterLostRace(70)).isZero();
    // Sent after 1 ms, unanswered 124 ms later: slow for its region too.
    assertThat(farErrorRateAfterLostRace(1)).isPositive();
  }
}
