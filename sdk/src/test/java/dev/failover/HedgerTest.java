package dev.failover;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The hedge delay under a binding cap, on a fake clock. */
class HedgerTest {
  private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);
  private final FakeClock clock = new FakeClock();

  /** One second of traffic: 1000 calls, latency 1..20 ms, 1% of them a straggler at 1 s. */
  private void second(Hedger hedger) {
    for (int i = 0; i < 1000; i++) {
      hedger.onCall(clock.nanos());
      hedger.record(i % 100 == 0 ? 1000 * MS : (1 + i % 20) * MS, clock.nanos());
    }
    clock.advance(Duration.ofSeconds(1));
  }

  @Test
  void aFullBucketHedgesAtTheConfiguredDelayAndADrainedOneOnlyTheSlowestCalls() {
    Hedger hedger =
        new Hedger(HedgePolicy.fixed(Duration.ofMillis(10)).withMaxExtraLoad(0.05), clock.nanos());
    RetryBudget retries = new RetryBudget(1, 1000, TimeUnit.SECONDS.toNanos(10));
    for (int s = 0; s < 3; s++) {
      second(hedger);
    }
    // Full bucket: the fixed delay; 10 ms is cheaper than p95 here, so p95 is what it affords.
    long full = hedger.requiredDelayNanos(clock.nanos());
    assertThat(full).isBetween(18 * MS, 25 * MS);
    // A burst drains the bucket to below 10%: only calls slower than about p99.5 are hedged now.
    double tokens = hedger.tokens(clock.nanos());
    for (int i = 0; i < (int) (tokens * 0.95); i++) {
      assertThat(hedger.tryAcquire(clock.nanos(), retries)).isTrue();
    }
    long drained = hedger.requiredDelayNanos(clock.nanos());
    assertThat(drained).isGreaterThan(full);
    assertThat(drained).isLessThanOrEqualTo(1100 * MS);
    // The stragglers (1 s) are still slower than that, so they still get the tokens left.
    assertThat(hedger.tokens(clock.nanos())).isGreaterThanOrEqualTo(1);
  }

  @Test
  void whileTheBucketIsAtLeastHalfFullTheDelayIsTheConfiguredOne() {
    Hedger hedger =
        new Hedger(HedgePolicy.fixed(Duration.ofMillis(50)).withMaxExtraLoad(0.05), clock.nanos());
    for (int s = 0; s < 3; s++) {
      second(hedger);
    }
    assertThat(hedger.requiredDelayNanos(clock.nanos())).isEqualTo(50 * MS);
    assertThat(hedger.delayNanos(clock.nanos())).isEqualTo(50 * MS);
  }
}
