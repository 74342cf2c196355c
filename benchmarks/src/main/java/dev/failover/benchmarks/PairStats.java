package dev.failover.benchmarks;

import java.util.Arrays;

/** What the interleaved benchmarks ({@link LoopbackPairs}, {@link InMemoryPairs}) report. */
final class PairStats {
  private PairStats() {}

  /**
   * Rejects options that give no figure: fewer than 2 pairs, slices under 10 ms, or a negative
   * warm-up.
   */
  static void checkOptions(int pairs, long sliceMillis, int warmupPairs) {
    if (pairs < 2 || sliceMillis < 10 || warmupPairs < 0) {
      throw new IllegalArgumentException(
          "--pairs must be at least 2 (was "
              + pairs
              + "), --slice-ms at least 10 (was "
              + sliceMillis
              + "), --warmup-pairs at least 0 (was "
              + warmupPairs
              + ")");
    }
  }

  /** An option's whole number, or an error that names the option and the value. */
  static long number(String option, String value) {
    try {
      long n = Long.parseLong(value.trim());
      if (n < Integer.MIN_VALUE || n > Integer.MAX_VALUE) {
        throw new NumberFormatException("out of range");
      }
      return n;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          option + " takes a whole number, but was '" + value + "'", e);
    }
  }

  /** The median of {@code values}. */
  static double median(double[] values) {
    double[] s = values.clone();
    Arrays.sort(s);
    int n = s.length;
    return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  }

  /** The mean of {@code values}. */
  static double mean(double[] values) {
    return Arrays.stream(values).average().orElse(Double.NaN);
  }

  /** Half the width of the 95% interval of the mean of {@code values} (normal approximation). */
  static double halfInterval95(double[] values) {
    double mean = mean(values);
    double var = 0;
    for (double v : values) {
      var += (v - mean) * (v - mean);
    }
    int n = values.length;
    return 1.96 * Math.sqrt(var / (n - 1)) / Math.sqrt(n);
  }

  /** The machine's load average as {@code /proc/loadavg} gives it, or "unknown". */
  static String loadAverage() {
    try {
      return java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg")).trim();
    } catch (java.io.IOException | RuntimeException e) {
      return "unknown";
    }
  }
}
