package dev.failover.testkit.load;

import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * Latencies, in a histogram of microseconds with three significant digits, from 1 µs to {@link
 * #MAX_MICROS} (10 minutes; longer latencies count as 10 minutes). Record latencies from each
 * call's due time, not from when it was sent. Thread-safe.
 *
 * <pre>{@code
 * LatencyRecorder r = new LatencyRecorder();
 * r.record(clock.now() - dueNanos);
 * double p99 = r.percentileMillis(99);
 * }</pre>
 */
public final class LatencyRecorder {
  /** The longest latency told apart, in microseconds. */
  public static final long MAX_MICROS = TimeUnit.MINUTES.toMicros(10);

  private final Histogram histogram = new Histogram(MAX_MICROS, 3);

  /** Empty. */
  public LatencyRecorder() {}

  /**
   * Records one latency.
   *
   * @param latencyNanos from the call's due time to its end; clamped to 1 µs to {@link #MAX_MICROS}
   */
  public synchronized void record(long latencyNanos) {
    histogram.recordValue(Math.max(1, Math.min(MAX_MICROS, latencyNanos / 1000)));
  }

  /**
   * How many latencies were recorded.
   *
   * @return the count
   */
  public synchronized long count() {
    return histogram.getTotalCount();
  }

  /**
   * A percentile.
   *
   * @param percentile from 0 to 100
   * @return the latency at that percentile in milliseconds, 0 with none recorded
   */
  public synchronized double percentileMillis(double percentile) {
    return histogram.getValueAtPercentile(percentile) / 1000.0;
  }

  /**
   * The longest latency recorded.
   *
   * @return in milliseconds, 0 with none recorded
   */
  public synchronized double maxMillis() {
    return histogram.getMaxValue() / 1000.0;
  }

  /**
   * How many latencies were at least {@code nanos} (within the histogram's precision).
   *
   * @param nanos the bound
   * @return the count of latencies at or above it
   */
  public synchronized long countAtOrAbove(long nanos) {
    long micros = Math.max(1, Math.min(MAX_MICROS, nanos / 1000));
    long below = histogram.getCountBetweenValues(0, histogram.lowestEquivalentValue(micros) - 1);
    return histogram.getTotalCount() - below;
  }
}
