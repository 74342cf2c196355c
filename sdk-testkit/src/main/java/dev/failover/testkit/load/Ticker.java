package dev.failover.testkit.load;

import java.util.concurrent.locks.LockSupport;

/**
 * A source of monotonic time that can also wait for a time: {@link #system()} in a real run, a fake
 * one in tests, which moves its time when it is asked to wait.
 *
 * <pre>{@code
 * LoadClock clock = new LoadClock(Ticker.system());
 * }</pre>
 */
public interface Ticker {
  /**
   * The current time, as {@link System#nanoTime()}.
   *
   * @return nanoseconds from an arbitrary origin
   */
  long nanoTime();

  /**
   * Returns once {@link #nanoTime()} has reached {@code deadlineNanos}; possibly later, never
   * earlier. Returns at once if it has already passed.
   *
   * @param deadlineNanos a time as {@link #nanoTime()}
   * @throws InterruptedException if the waiting thread is interrupted
   */
  void parkUntil(long deadlineNanos) throws InterruptedException;

  /**
   * The real time, {@link System#nanoTime()}, and {@link LockSupport#parkNanos(long)} to wait.
   *
   * @return the system ticker
   */
  static Ticker system() {
    return SystemTicker.INSTANCE;
  }
}
