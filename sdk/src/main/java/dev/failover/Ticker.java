package dev.failover;

/**
 * A source of monotonic nanosecond time: what a client measures deadlines, timeouts, backoff,
 * budgets, latency, breakers and zone judgement on. The default is {@link #system()}; tests pass
 * their own to {@link FailoverClient.Builder#ticker(Ticker)} and advance it by hand, as with
 * Caffeine's {@code Ticker}. Wall-clock time (a {@code Retry-After} date, when a zonal shift ends,
 * when an endpoint list was last good) comes from the builder's {@code Clock} instead.
 *
 * <p>Implementations must be thread-safe and must never go backwards; the origin is arbitrary (only
 * differences are used).
 */
@FunctionalInterface
public interface Ticker {

  /**
   * Returns the current time in nanoseconds, from an arbitrary origin.
   *
   * @return nanoseconds
   */
  long nanos();

  /**
   * Returns the ticker that reads {@link System#nanoTime()}.
   *
   * @return the system ticker
   */
  static Ticker system() {
    return System::nanoTime;
  }
}
