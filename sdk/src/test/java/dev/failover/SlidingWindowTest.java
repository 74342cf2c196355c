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

  /**
   * A zone adds a timed success, then its latency: a reader of both by slot must never see the
   * latency without its success, or a slot's mean latency would exceed every latency recorded (a
   * healthy zone could look slow). Each success here takes exactly 1,000 ns, so no read may show
   * more than 1,000 ns a success. Bounded: the writer's count, and 30 s for it to finish.
   */
  @Test
  void aReaderBySlotNeverSeesALatencyWithoutItsSuccess() throws Exception {
    SlidingWindow w = new SlidingWindow(3, 2, SLOT);
    int successes = 2_000_000;
    CountDownLatch go = new CountDownLatch(1);
    Thread writer =
        startAfter(
            go,
            () -> {
              for (int n = 0; n < successes; n++) {
                w.add(0, 0, 1);
                w.add(0, 1, 1_000);
              }
            });
    long[] counted = new long[3];
    long[] latency = new long[3];
    long reads = 0;
    long worst = 0;
    go.countDown();
    long stop = System.nanoTime() + 30_000_000_000L;
    while (writer.isAlive() && System.nanoTime() - stop < 0) {
      w.perSlot(0, 0, 1, counted, latency);
      worst = Math.max(worst, latency[0] - counted[0] * 1_000);
      reads++;
    }
    writer.join(30_000);
    assertThat(writer.isAlive()).as("the writer finished").isFalse();
    assertThat(worst)
        .as("latency counted beyond its successes, at worst, over %,d reads", reads)
        .isLessThanOrEqualTo(0);
    w.perSlot(0, 0, 1, counted, latency);
    assertThat(counted[0]).isEqualTo(successes);
    assertThat(latency[0]).isEqualTo(successes * 1_000L);
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
      all.add(
          startAfter(
              go,
              () -> {
                for (int n = 0; n < perThread; n++) {
                  // Time moves through five slots while they write: rotations race the adds.
                  w.add((n * 5L * SLOT) / perThread, counter, 1);
                }
              }));
    }
    go.countDown();
    for (Thread t : all) {
      t.join(30_000);
    }
    long[] t = new long[3];
    w.sums(5 * SLOT - 1, t);
    assertThat(t[0] + t[1] + t[2]).isEqualTo((long) threads * perThread);
  }

  /** Starts a thread that runs {@code work} once {@code go} is counted down. */
  private static Thread startAfter(CountDownLatch go, Runnable work) {
    Thread t =
        new Thread(
            () -> {
              try {
                go.await();
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
              }
              work.run();
            });
    t.start();
    return t;
  }
}
