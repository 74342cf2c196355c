package dev.failover.testkit;

import java.time.Duration;
import java.util.Objects;
import java.util.Random;

/**
 * A distribution of added response delay, used by {@link ZoneFault#latency(Latency)}.
 *
 * <p>Delays are drawn from the endpoint's seeded {@link Random} (see {@link
 * FakeZones.Builder#seed(long)}), so a run that sends requests in the same order sees the same
 * delays. WireMock applies delays in whole milliseconds: a duration given here is cut to whole
 * milliseconds (1.9 ms is 1 ms, and a delay under 1 ms is none), and a log-normal draw is rounded
 * to the nearest millisecond.
 *
 * <pre>{@code
 * Latency.fixed(Duration.ofMillis(200));                      // every response 200 ms later
 * Latency.uniform(Duration.ofMillis(10), Duration.ofMillis(50));
 * Latency.tail(0.001, Duration.ofSeconds(1));                 // 0.1% of responses take 1 s more
 * Latency.logNormal(Duration.ofMillis(20), 0.5);              // median 20 ms, long right tail
 * }</pre>
 */
public final class Latency {

  /** Upper bound of any single sample, so that a log-normal draw never overflows. */
  static final long MAX_MILLIS = Duration.ofMinutes(10).toMillis();

  private enum Kind {
    FIXED,
    UNIFORM,
    TAIL,
    LOG_NORMAL
  }

  private final Kind kind;
  private final long aMillis;
  private final long bMillis;
  private final double parameter;

  private Latency(Kind kind, long aMillis, long bMillis, double parameter) {
    this.kind = kind;
    this.aMillis = aMillis;
    this.bMillis = bMillis;
    this.parameter = parameter;
  }

  /**
   * Adds the same delay to every response.
   *
   * @param delay the delay, at least 0
   * @return the distribution
   * @throws IllegalArgumentException if {@code delay} is negative
   */
  public static Latency fixed(Duration delay) {
    return new Latency(Kind.FIXED, millis("delay", delay), 0, 0);
  }

  /**
   * Adds a delay drawn uniformly between {@code min} and {@code max}, both inclusive.
   *
   * @param min the smallest delay, at least 0
   * @param max the largest delay, at least {@code min}
   * @return the distribution
   * @throws IllegalArgumentException if {@code min} is negative or greater than {@code max}
   */
  public static Latency uniform(Duration min, Duration max) {
    long lo = millis("min", min);
    long hi = millis("max", max);
    if (hi < lo) {
      throw new IllegalArgumentException("uniform max must be >= min (" + min + ") but was " + max);
    }
    return new Latency(Kind.UNIFORM, lo, hi, 0);
  }

  /**
   * Adds {@code slow} to a fraction of responses and nothing to the others: a long tail, such as
   * {@code tail(0.001, Duration.ofSeconds(1))} for "0.1% of requests take 1 s".
   *
   * @param fraction the share of slow responses, in (0, 1]
   * @param slow the delay of a slow response, at least 0
   * @return the distribution
   * @throws IllegalArgumentException if {@code fraction} is outside (0, 1] or {@code slow} is
   *     negative
   */
  public static Latency tail(double fraction, Duration slow) {
    checkRate("tail fraction", fraction);
    return new Latency(Kind.TAIL, millis("slow", slow), 0, fraction);
  }

  /**
   * Adds a log-normally distributed delay: {@code median * exp(sigma * N(0, 1))}, capped at 10
   * minutes. With {@code sigma} 0.5 about 5% of responses take more than 2.3 times the median.
   *
   * @param median the median delay, greater than 0
   * @param sigma the standard deviation of the delay's logarithm, in (0, 4]
   * @return the distribution
   * @throws IllegalArgumentException if {@code median} is under 1 ms (delays are whole
   *     milliseconds) or {@code sigma} is outside (0, 4]
   */
  public static Latency logNormal(Duration median, double sigma) {
    long m = millis("median", median);
    if (m <= 0) {
      throw new IllegalArgumentException("logNormal median must be >= 1 ms but was " + median);
    }
    if (!(sigma > 0 && sigma <= 4)) {
      throw new IllegalArgumentException("logNormal sigma must be in (0, 4] but was " + sigma);
    }
    return new Latency(Kind.LOG_NORMAL, m, 0, sigma);
  }

  /** Draws one delay in milliseconds. */
  long sampleMillis(Random random) {
    return switch (kind) {
      case FIXED -> aMillis;
      case UNIFORM -> aMillis + (long) Math.floor(random.nextDouble() * (bMillis - aMillis + 1));
      case TAIL -> random.nextDouble() < parameter ? aMillis : 0;
      case LOG_NORMAL ->
          Math.min(MAX_MILLIS, Math.round(aMillis * Math.exp(parameter * random.nextGaussian())));
    };
  }

  static void checkRate(String name, double rate) {
    if (!(rate > 0 && rate <= 1)) {
      throw new IllegalArgumentException(name + " must be in (0, 1] but was " + rate);
    }
  }

  static long millis(String name, Duration duration) {
    Objects.requireNonNull(duration, name);
    if (duration.isNegative()) {
      throw new IllegalArgumentException(name + " must be >= 0 but was " + duration);
    }
    if (duration.compareTo(Duration.ofMillis(MAX_MILLIS)) > 0) {
      throw new IllegalArgumentException(name + " must be <= PT10M but was " + duration);
    }
    return duration.toMillis();
  }

  @Override
  public String toString() {
    return switch (kind) {
      case FIXED -> "fixed(" + aMillis + " ms)";
      case UNIFORM -> "uniform(" + aMillis + ".." + bMillis + " ms)";
      case TAIL -> "tail(" + parameter + " of requests +" + aMillis + " ms)";
      case LOG_NORMAL -> "logNormal(median " + aMillis + " ms, sigma " + parameter + ")";
    };
  }
}
