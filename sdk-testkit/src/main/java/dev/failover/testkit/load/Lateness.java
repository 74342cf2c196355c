package dev.failover.testkit.load;

import java.time.Duration;

/**
 * How late a load generator sent some calls: how many, how many more than {@link #LATE} after their
 * due time, and the largest lag. A late call's latency includes its lag (it counts from the due
 * time), which is the truth for its caller but says the machine, not the client, was slow.
 * Thread-safe.
 *
 * <pre>{@code
 * Lateness late = new Lateness();
 * OpenLoopGenerator.builder(clock).rate(100).duration(Duration.ofSeconds(10))
 *     .sink((due, offset) -> client.send(due)).lag((offset, lag) -> late.sent(lag)).build().run();
 * late.summary().late(); // calls sent more than 10 ms late
 * }</pre>
 */
public final class Lateness {
  /** A call sent more than this after its due time counts as late. */
  public static final Duration LATE = Duration.ofMillis(10);

  private static final long LATE_NANOS = LATE.toNanos();

  private long calls;
  private long late;
  private long max;

  /** No call yet. */
  public Lateness() {}

  /**
   * Counts a call sent {@code lagNanos} after its due time (a negative lag counts as none).
   *
   * @param lagNanos how late the call was sent
   */
  public synchronized void sent(long lagNanos) {
    long lag = Math.max(0, lagNanos);
    calls++;
    if (lag > LATE_NANOS) {
      late++;
    }
    max = Math.max(max, lag);
  }

  /**
   * The calls counted so far.
   *
   * @return calls, late calls and the largest lag
   */
  public synchronized Summary summary() {
    return new Summary(calls, late, max);
  }

  /**
   * A generator's lateness over some calls.
   *
   * @param calls calls sent
   * @param late calls sent more than {@link #LATE} after their due time
   * @param maxLagNanos the largest lag seen, 0 with no call
   */
  public record Summary(long calls, long late, long maxLagNanos) {
    /**
     * The largest lag.
     *
     * @return {@link #maxLagNanos()} in milliseconds
     */
    public double maxLagMillis() {
      return maxLagNanos / 1e6;
    }
  }
}
