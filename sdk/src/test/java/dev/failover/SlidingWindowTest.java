package dev.failover;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

/** The one sliding window: slots roll over with time, writes take no lock and none is lost. */
class SlidingWindowTest {
  private static final long SLOT = 1_000;

  @Test
  void countsWithinTheWindowAndForgetsOlderSlots() {
    SlidingWindow w = new SlidingWindow(3, 2, SLOT);
    w.add(0, 0, 1);
    w.add(1_500, 0, 2);
    w.add(2_999, 1, 7);
    assertThat(w.sum(2_999, 0)).isEqualTo(3);
    assertThat(w.sum(2_999, 1)).isEqualTo(7);
    // At 3,000 the first slot (0..999) left the window.
    assertThat(w.sum(3_000, 0)).isEqualTo(2);
    // Writing at 3,000 reuses the first slot: its old counts are reset first.
    w.add(3_000, 0, 5);
    long[] t = new long[2];
    w.sums(3_000, t);
    assertThat(t).containsExactly(7, 7);
    assertThat(w.sum(10_000, 0)).isZero();
  }

  /**
   * Writes in the period of the latest write skip the divisions: they must still land in the right
   * slot after a clear, at a period's last nanosecond, at negative times, and where the period's
   * start overflows a long.
   */
  @Test
  void writesInTheLatestPeriodLandInItsSlotAtItsEdgesAndAfterAClear() {
    SlidingWindow w = new SlidingWindow(3, 1, SLOT);
    w.add(1_000, 0, 1);
    w.add(1_999, 0, 2); // the same period's last nanosecond
    w.add(2_000, 0, 4); // the next period's first
    assertThat(w.sum(1_999, 0)).isEqualTo(3);
    assertThat(w.sum(2_000, 0)).isEqualTo(7);
    w.clear();
    w.add(2_500, 0, 8); // the latest period again, but its slot was cleared: counted afresh
    assertThat(w.sum(2_500, 0)).isEqualTo(8);

    SlidingWindow negative = new SlidingWindow(3, 1, SLOT);
    negative.add(-1, 0, 1); // period -1: -1,000 to -1
    negative.add(-1_000, 0, 2);
    negative.add(0, 0, 4); // period 0
    assertThat(negative.sum(-1, 0)).isEqualTo(3);
    assertThat(negative.sum(0, 0)).isEqualTo(7);

    long slot = Long.MAX_VALUE / 2; // Long.MIN_VALUE's period begins below Long.MIN_VALUE
    SlidingWindow edge = new SlidingWindow(3, 1, slot);
    edge.add(Long.MIN_VALUE, 0, 1);
    edge.add(Long.MIN_VALUE + 1, 0, 2);
    assertThat(edge.sum(Long.MIN_VALUE + 1, 0)).isEqualTo(3);
  }

  @Test
  void aWriteForAnOlderPeriodThanItsSlotHoldsIsDroppedNotAReset() {
    SlidingWindow w = new SlidingWindow(3, 1, SLOT);
    w.add(3_100, 0, 4); // slot 0 now holds the period 3
    w.add(100, 0, 1); // period 0 maps to slot 0 too: a stale time, dropped
    assertThat(w.sum(3_100, 0)).isEqualTo(4);
    assertThat(w.decrementIfPositive(100, 0)).isFalse();
  }

  @Test
  void decrementStopsAtZeroAndClearForgetsEverything() {
    SlidingWindow w = new SlidingWindow(2, 1, SLOT);
    w.add(0, 0, 1);
    assertThat(w.decrementIfPositive(0, 0)).isTrue();
    assertThat(w.decrementIfPositive(0, 0)).isFalse();
    w.add(0, 0, 3);
    w.clear();
    assertThat(w.sum(0, 0)).isZero();
    w.add(0, 0, 2);
    assertThat(w.sum(0, 0)).isEqualTo(2);
  }

  @Test
  void concurrentWritersLoseNothing() throws Exception {
    SlidingWindow w = new SlidingWindow(10, 3, SLOT);
    int threads = 4;
    int perThread = 50_000;
    CountDownLatch go = new CountDownLatch(1);
    List<Thread> all = new ArrayList<>();
    for (int i = 0; i < threads; i++) {
      int counter = i % 3;
      Thread t =
          new Thread(
              () -> {
                try {
                  go.await();
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                  return;
                }
                for (int n = 0; n < perThread; n++) {
                  // Time moves through five slots while they write: rotations race the adds.
                  w.add((n * 5L * SLOT) / perThread, counter, 1);
                }
              });
      t.start();
      all.add(t);
    }
    go.countDown();
    for (Thread t : all) {
      t.join(30_000);
    }
    long[] t = new long[3];
    w.sums(5 * SLOT - 1, t);
    assertThat(t[0] + t[1] + t[2]).isEqualTo((long) threads * perThread);
  }
}
