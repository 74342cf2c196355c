package dev.failover.statemachine;

import static dev.failover.statemachine.Harness.A1;
import static dev.failover.statemachine.Harness.B1;
import static dev.failover.statemachine.Harness.get;
import static org.assertj.core.api.Assertions.assertThat;

import dev.failover.HedgePolicy;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * A race lost to a hedge is evidence of slowness only when the loser had run at least twice as long
 * as the winner and at least 20 ms longer (the least a zone's latency outlier stands out by). On a
 * fast network the adaptive hedge fires after a few milliseconds, and an attempt that had to open a
 * new connection lost such races by about 10 ms: a review of flapping zones saw healthy zones
 * evacuated on the "error rate" those races made.
 */
class SlowLossMarginTest {

  @Test
  void aRaceLostByLessThan20MsIsNoEvidence() {
    assertThat(homeErrorRateAfterARaceLost(Duration.ofMillis(10), Duration.ofMillis(5))).isZero();
  }

  @Test
  void aRaceLostByFarAndBy20MsOrMoreCounts() {
    assertThat(homeErrorRateAfterARaceLost(Duration.ofMillis(30), Duration.ofMillis(10)))
        .isPositive();
  }

  /**
   * With a fixed hedge delay of {@code hedgeDelay}, the home endpoint answers a few calls in 1 ms
   * (its region's usual latency), then a call's first attempt to it is overtaken by its hedge,
   * which {@code B1} answers {@code hedgeTook} after it was sent: the first attempt ran {@code
   * hedgeDelay + hedgeTook}, at least twice as long as the hedge in both tests. Returns the home
   * zone's error rate after it.
   */
  private static float homeErrorRateAfterARaceLost(Duration hedgeDelay, Duration hedgeTook) {
    try (Harness h =
        Harness.hedging(b -> b.hedging(HedgePolicy.fixed(hedgeDelay).withMaxExtraLoad(0.5)))) {
      for (int i = 0; i < 3; i++) {
        String path = "/usual/" + i;
        RecordingCallback cb = new RecordingCallback();
        h.enqueue(get(path), cb);
        FakeTransport.Exchange e = h.transport.next();
        assertThat(e.host()).isEqualTo(A1);
        h.clock.advance(Duration.ofMillis(1));
        e.respond(200);
        assertThat(cb.awaitStatus()).isEqualTo(200);
        h.events.awaitCallFinished(path);
      }
      String path = "/race";
      long t0 = h.scheduler.now();
      RecordingCallback cb = new RecordingCallback();
      h.enqueue(get(path), cb);
      FakeTransport.Exchange first = h.transport.next();
      assertThat(first.host()).isEqualTo(A1);
      h.scheduler.awaitOneShotAt(t0 + hedgeDelay.toNanos());
      h.scheduler.advanceTo(t0 + hedgeDelay.toNanos());
      FakeTransport.Exchange hedge = h.transport.next();
      assertThat(hedge.host()).isEqualTo(B1);
      h.clock.advance(hedgeTook);
      hedge.respond(200);
      assertThat(cb.awaitStatus()).isEqualTo(200);
      h.awaitFirstAttemptOvertaken(path);
      float rate = h.zone("us-east-1a").errorRatePercent();
      h.quiesce();
      return rate;
    }
  }
}
