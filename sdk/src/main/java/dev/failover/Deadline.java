package dev.failover;

/**
 * When a call must end, on the client's ticker (nanoseconds), and the questions the call asks of
 * it: how much time is left, and whether something of a given length still fits.
 *
 * @param at the ticker time at which the call ends
 */
record Deadline(long at) {

  /** The deadline {@code totalNanos} after {@code start}. */
  static Deadline after(long start, long totalNanos) {
    return new Deadline(start + totalNanos);
  }

  /** Nanoseconds left at {@code now}; negative once passed. */
  long remaining(long now) {
    return at - now;
  }

  /**
   * Whether a wait of {@code delayNanos} from {@code now} still leaves {@code minAttemptNanos} for
   * an attempt before the deadline.
   */
  boolean fits(long now, long delayNanos, long minAttemptNanos) {
    // Differences, not instants: a ticker's readings may wrap (its origin is arbitrary).
    return delayNanos + minAttemptNanos <= remaining(now);
  }

  /** The longest an attempt starting at {@code now} may run: its own timeout, or what is left. */
  long attemptTimeout(long now, long attemptTimeoutNanos) {
    return Math.min(attemptTimeoutNanos, remaining(now));
  }
}
