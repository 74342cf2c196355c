package dev.failover;

/**
 * Latency samples over a sliding window of one-second slots, in log-linear buckets (8 per power of
 * two, so about 9% resolution), for percentiles without keeping samples.
 */
final class LatencyWindow {
  private static final int SUB = 8;
  private static final int LINEAR = 16;
  private static final int MAX_EXP = 40;
  static final int BUCKETS = LINEAR + (MAX_EXP - 4 + 1) * SUB;

  private final SlidingWindow window;

  public LatencyWindow(int slots, long slotNanos) {
    this.window = new SlidingWindow(slots, BUCKETS, slotNanos);
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

  /** Records one sample. Lock-free. */
  public void record(long nanos, long now) {
    window.add(now, bucket(nanos), 1);
  }

  /** Samples in the window. */
  public long count(long now) {
    long[] merged = new long[BUCKETS];
    window.sums(now, merged);
    long n = 0;
    for (long c : merged) {
      n += c;
    }
    return n;
  }

  /**
   * Returns the {@code q} quantile (0 to 1) of the window in nanoseconds, or -1 with fewer than
   * {@code minSamples} samples.
   */
  public long quantile(double q, long now, long minSamples) {
    long[] merged = new long[BUCKETS];
    window.sums(now, merged);
    long total = 0;
    for (long c : merged) {
      total += c;
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
}
