package dev.failover;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Finagle's Peak-EWMA, without a lock: the same estimate as the locked one, and no sample lost. */
class PeakEwmaTest {
  private static final long TAU = TimeUnit.SECONDS.toNanos(10);

  /** The estimator as it was, under a lock: the reference the lock-free one must match. */
  private static final class Locked {
    private double ewma;
    private long stamp;
    private boolean observed;

    synchronized void observe(long rttNanos, long now) {
      double rtt = Math.max(0, rttNanos);
      if (!observed) {
        ewma = rtt;
        observed = true;
      } else if (rtt > ewma) {
        ewma = rtt;
      } else {
        double w = Math.exp(-Math.max(0, now - stamp) / (double) TAU);
        ewma = ewma * w + rtt * (1 - w);
      }
      stamp = Math.max(stamp, now);
    }

    synchronized double cost(long now) {
      return observed ? ewma * Math.exp(-Math.max(0, now - stamp) / (double) TAU) : 0;
    }
  }

  @Test
  void givesTheEstimateOfTheLockedOneOnOneThread() {
    Random random = new Random(7);
    for (int run = 0; run < 50; run++) {
      PeakEwma ewma = new PeakEwma(TAU);
      Locked reference = new Locked();
      long now = 1_000;
      assertThat(ewma.cost(now)).isZero();
      for (int i = 0; i < 200; i++) {
        now += random.nextInt(3) == 0 ? 0 : random.nextInt(2_000_000_000);
        long rtt = random.nextInt(50_000_000) - 1_000; // a negative sample counts as 0
        ewma.observe(rtt, now);
        reference.observe(rtt, now);
        long later = now + random.nextInt(20_000_000);
        assertThat(ewma.cost(later))
            .as("run %d sample %d", run, i)
            .isCloseTo(reference.cost(later), within(1e-6 * (1 + reference.cost(later))));
      }
    }
  }

  @Test
  void decaysAsTheExponentialAtEveryGapAndNeverRisesWithTheGap() {
    PeakEwma ewma = new PeakEwma(TAU);
    double boundary = PeakEwma.SMALL * TAU;
    List<Double> gaps = new ArrayList<>();
    for (double dt = 0; dt < 5.0 * TAU; dt = dt * 1.01 + 1) {
      gaps.add(dt);
    }
    for (double d = -1_000; d <= 1_000; d++) {
      gaps.add(boundary + d); // both sides of the switch to Math.exp
    }
    gaps.sort(null);
    double previous = Double.POSITIVE_INFINITY;
    for (double dt : gaps) {
      double exact = Math.exp(-dt / TAU);
      double w = ewma.decay(dt);
      assertThat(w).as("gap %.0f ns", dt).isCloseTo(exact, within(1e-9 * exact));
      assertThat(w).as("gap %.0f ns", dt).isLessThanOrEqualTo(previous);
      previous = w;
    }
    assertThat(ewma.decay(0)).isEqualTo(1.0);
  }

  @Test
  void takesAPeakAtOnceAndDecaysWhileIdle() {
    PeakEwma ewma = new PeakEwma(TAU);
    ewma.observe(5_000_000, 0);
    ewma.observe(80_000_000, 1_000);
    assertThat(ewma.cost(1_000)).isEqualTo(80_000_000.0);
    // One tau later with no sample: e^-1 of it.
    assertThat(ewma.cost(1_000 + TAU)).isCloseTo(80_000_000 / Math.E, within(1.0));
    // A sample taken earlier than the last one does not move the estimate's time back.
    ewma.observe(80_000_000, 500);
    assertThat(ewma.cost(1_000 + TAU)).isCloseTo(80_000_000 / Math.E, within(1.0));
  }

  @Test
  void aTauThatIsNotPositiveIsRefused() {
    assertThatThrownBy(() -> new PeakEwma(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("tau must be positive but was 0 ns");
  }

  /**
   * Samples taken at one instant never average each other out: whatever the interleaving of the
   * threads, the estimate is their peak. A lost update (a plain read-modify-write without a lock or
   * a compare-and-set) could drop the peak.
   */
  @Test
  void concurrentSamplesNeverLoseThePeak() throws Exception {
    int threads = 4;
    int samples = 20_000;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      for (int round = 0; round < 20; round++) {
        PeakEwma ewma = new PeakEwma(TAU);
        long now = 42;
        CountDownLatch go = new CountDownLatch(1);
        List<Future<Long>> peaks = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
          long seed = round * 31L + t;
          peaks.add(
              pool.submit(
                  () -> {
                    Random random = new Random(seed);
                    long peak = 0;
                    go.await();
                    for (int i = 0; i < samples; i++) {
                      long rtt = random.nextInt(1_000_000_000);
                      peak = Math.max(peak, rtt);
                      ewma.observe(rtt, now);
                    }
                    return peak;
                  }));
        }
        go.countDown();
        long peak = 0;
        for (Future<Long> f : peaks) {
          peak = Math.max(peak, f.get(30, TimeUnit.SECONDS));
        }
        assertThat(ewma.cost(now)).as("round %d", round).isEqualTo((double) peak);
      }
    } finally {
      pool.shutdownNow();
      assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    }
  }
}
