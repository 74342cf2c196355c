package dev.failover.internal;

/**
 * Latency samples over a sliding window of one-second slots, in log-linear buckets (8 per power of
 * two, so about 9% resolution), for percentiles without keeping samples.
 */
public final class LatencyWindow {
  private static final int SUB = 8;
  private static final int LINEAR = 16;
  private static final int MAX_EXP = 40;
  static final int BUCKETS = LINEAR + (MAX_EXP - 4 + 1) * SUB;

  private final int slots;
  private final long slotNanos;
  private final long[][] counts;
  private final long[] slotIndex;

  public LatencyWindow(int slots, long slotNanos) {
    this.slots = slots;
    this.slotNanos = slotNanos;
    this.counts = new long[slots][BUCKETS];
    this.slotIndex = new long[slots];
    java.util.Arrays.fill(slotIndex, Long.MIN_VALUE);
  }

  static int bucket(long nanos) {
    long micros = Math.max(0, nanos / 1000);
    if (micros < LINEAR) {
      return (int) micros;
    }
    int e = Math.min(63 - Long.numberOfLeadingZeros(micros), MAX_EXP);
    int sub = (int) ((micros >>> (e - 3)) & (SUB - 1));
    return LINEAR + (e - 4) * SUB + sub;
  }

  /** The upper bound of a bucket, in nanoseconds. */
  static long upperNanos(int bucket) {
    if (bucket < LINEAR) {
      return (bucket + 1) * 1000L;
    }
    int e = (bucket - LINEAR) / SUB + 4;
    int sub = (bucket - LINEAR) % SUB;
    return ((long) (SUB + sub + 1) << (e - 3)) * 1000L;
  }

  public synchronized void record(long nanos, long now) {
    counts[slot(now)][bucket(nanos)]++;
  }

  /** Samples in the window. */
  public synchronized long count(long now) {
    long current = Math.floorDiv(now, slotNanos);
    long n = 0;
    for (int i = 0; i < slots; i++) {
      if (slotIndex[i] > current - slots) {
        for (long c : counts[i]) {
          n += c;
        }
      }
    }
    return n;
  }

  /**
   * Returns the {@code q} quantile (0 to 1) of the window in nanoseconds, or -1 with fewer than
   * {@code minSamples} samples.
   */
  public synchronized long quantile(double q, long now, long minSamples) {
    long current = Math.floorDiv(now, slotNanos);
    long[] merged = new long[BUCKETS];
    long total = 0;
    for (int i = 0; i < slots; i++) {
      if (slotIndex[i] > current - slots) {
        long[] c = counts[i];
        for (int b = 0; b < BUCKETS; b++) {
          merged[b] += c[b];
          total += c[b];
        }
      }
    }
    if (total < minSamples || total == 0) {
      return -1;
    }
    long rank = (long) Math.ceil(q * total);
    long seen = 0;
    for (int b = 0; b < BUCKETS; b++) {
      seen += merged[b];
      if (seen >= rank) {
        return upperNanos(b);
      }
    }
    return upperNanos(BUCKETS - 1);
  }

  private int slot(long now) {
    long index = Math.floorDiv(now, slotNanos);
    int s = (int) Math.floorMod(index, (long) slots);
    if (slotIndex[s] != index) {
      slotIndex[s] = index;
      java.util.Arrays.fill(counts[s], 0);
    }
    return s;
  }
}
