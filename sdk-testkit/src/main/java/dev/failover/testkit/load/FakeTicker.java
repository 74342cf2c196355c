package dev.failover.testkit.load;

import java.time.Duration;
import java.util.Comparator;
import java.util.PriorityQueue;

/**
 * Time for tests: it moves only when it is waited for ({@link #parkUntil}) or advanced, and runs
 * the actions that fall due meanwhile, in time order, on the thread that moves it. So an {@link
 * OpenLoopGenerator} on a {@link LoadClock} of a fake ticker runs a whole load in microseconds and
 * exactly; a fake server answers by {@link #at} a time. One wait can be made to oversleep ({@link
 * #stall}), as a descheduled thread or a paused JVM would. Not thread-safe: drive it from one
 * thread.
 *
 * <pre>{@code
 * FakeTicker ticker = new FakeTicker();
 * LoadClock clock = new LoadClock(ticker);
 * ticker.stall(ticker.nanoTime() + 1_000_000_000L, 300_000_000L); // the wait for 1 s wakes at 1.3 s
 * OpenLoopGenerator.builder(clock).rate(100).duration(Duration.ofSeconds(2))
 *     .sink((due, offset) -> ticker.at(ticker.nanoTime() + 5_000_000L, () -> answered(due)))
 *     .build().run();
 * ticker.drain(); // the answers still due
 * }</pre>
 */
public final class FakeTicker implements Ticker {
  private record Due(long at, long seq, Runnable action) {}

  private final PriorityQueue<Due> due =
      new PriorityQueue<>(Comparator.comparingLong(Due::at).thenComparingLong(Due::seq));
  private long now = 1_000_000_000_000L;
  private long seq;
  private long stallFrom = Long.MAX_VALUE;
  private long stallFor;

  /** A ticker at an arbitrary time, with nothing due. */
  public FakeTicker() {}

  @Override
  public long nanoTime() {
    return now;
  }

  /** Moves the time to {@code deadlineNanos} (later if a {@link #stall} is set for it). */
  @Override
  public void parkUntil(long deadlineNanos) {
    long wake = deadlineNanos;
    if (deadlineNanos >= stallFrom) {
      wake = deadlineNanos + stallFor;
      stallFrom = Long.MAX_VALUE;
    }
    advanceTo(wake);
  }

  /**
   * Makes the first wait for a time at or after {@code fromNanos} wake {@code lateNanos} after it.
   *
   * @param fromNanos a time as {@link #nanoTime()}
   * @param lateNanos how much the wait oversleeps
   */
  public void stall(long fromNanos, long lateNanos) {
    stallFrom = fromNanos;
    stallFor = lateNanos;
  }

  /**
   * Moves the time forward by {@code d}, running what falls due.
   *
   * @param d how far
   */
  public void advance(Duration d) {
    advanceTo(now + d.toNanos());
  }

  /**
   * Moves the time to {@code nanos} (never back), running the actions due by then in time order,
   * each at its own time.
   *
   * @param nanos a time as {@link #nanoTime()}
   */
  public void advanceTo(long nanos) {
    Due d;
    while ((d = due.peek()) != null && d.at() <= nanos) {
      due.remove();
      now = Math.max(now, d.at());
      d.action().run();
    }
    now = Math.max(now, nanos);
  }

  /**
   * Runs {@code action} when the time reaches {@code nanos}; actions due at the same time run in
   * the order they were added.
   *
   * @param nanos a time as {@link #nanoTime()}
   * @param action what to run, on the thread that moves the time
   */
  public void at(long nanos, Runnable action) {
    due.add(new Due(nanos, seq++, action));
  }

  /** Moves the time on until nothing is due, running every action (bounded by what is added). */
  public void drain() {
    Due d;
    while ((d = due.peek()) != null) {
      advanceTo(d.at());
    }
  }
}
