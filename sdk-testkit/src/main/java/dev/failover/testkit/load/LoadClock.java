package dev.failover.testkit.load;

import java.util.Objects;

/**
 * The load's time: a {@link Ticker} and the load's zero, its start. The start is fixed once, by the
 * {@link OpenLoopGenerator} when its warm-up has ended, so that nothing done before it (a cold JVM,
 * a slow client build) shifts a single call. Offsets are nanoseconds from the start; every time
 * before the start is fixed is in the warm-up (a negative offset). Thread-safe.
 *
 * <pre>{@code
 * LoadClock clock = new LoadClock(Ticker.system());
 * long offset = clock.offset(clock.now()); // -1 until the generator has fixed the start
 * }</pre>
 */
public final class LoadClock {
  private final Ticker ticker;
  private volatile long start;
  private volatile boolean started;

  /**
   * A clock whose start is not fixed yet.
   *
   * @param ticker where the time comes from
   */
  public LoadClock(Ticker ticker) {
    this.ticker = Objects.requireNonNull(ticker, "ticker");
  }

  /**
   * The ticker this clock reads.
   *
   * @return the ticker
   */
  public Ticker ticker() {
    return ticker;
  }

  /**
   * The current time, as {@link Ticker#nanoTime()}.
   *
   * @return the ticker's time
   */
  public long now() {
    return ticker.nanoTime();
  }

  /**
   * Fixes the load's zero; once.
   *
   * @param startNanos the start, as {@link Ticker#nanoTime()}
   * @throws IllegalStateException if the start is already fixed
   */
  public synchronized void start(long startNanos) {
    if (started) {
      throw new IllegalStateException("the load's start is already fixed");
    }
    start = startNanos;
    started = true;
  }

  /**
   * Whether the start is fixed.
   *
   * @return true once {@link #start(long)} ran
   */
  public boolean started() {
    return started;
  }

  /**
   * The load's zero, as {@link Ticker#nanoTime()}.
   *
   * @return the start
   * @throws IllegalStateException if the start is not fixed yet
   */
  public long start() {
    if (!started) {
      throw new IllegalStateException("the load has not started");
    }
    return start;
  }

  /**
   * A time as an offset from the start.
   *
   * @param nanoTime a time as {@link Ticker#nanoTime()}
   * @return {@code nanoTime} from the start; -1 (the warm-up) before the start is fixed
   */
  public long offset(long nanoTime) {
    return started ? nanoTime - start : -1;
  }
}
