package dev.failover.drill;

import java.util.concurrent.locks.LockSupport;

/**
 * The drill's time: a {@link Ticker} ({@link System#nanoTime()} in a real run, a fake one in tests)
 * and the drill's zero, its {@code start}. The start is fixed by the {@link LoadGenerator} once the
 * clients are built and the warm-up has ended, so that nothing the harness does before it (a cold
 * JVM, a slow client build) shifts a single call. Offsets are nanoseconds from the start; every
 * time before the start is fixed is in the warm-up (a negative offset).
 */
final class DrillClock {
  /** A source of monotonic time that can also wait for a time. */
  interface Ticker {
    /** The current time, as {@link System#nanoTime()}. */
    long nanoTime();

    /**
     * Returns once {@link #nanoTime()} has reached {@code deadlineNanos}; possibly later, never
     * earlier. Returns at once if it has already passed.
     */
    void parkUntil(long deadlineNanos) throws InterruptedException;
  }

  /** The real time, and {@link LockSupport#parkNanos(long)} to wait. */
  static final Ticker SYSTEM =
      new Ticker() {
        @Override
        public long nanoTime() {
          return System.nanoTime();
        }

        @Override
        public void parkUntil(long deadlineNanos) throws InterruptedException {
          long left;
          while ((left = deadlineNanos - System.nanoTime()) > 0) {
            LockSupport.parkNanos(left);
            if (Thread.interrupted()) {
              throw new InterruptedException("drill clock");
            }
          }
        }
      };

  private final Ticker ticker;
  private volatile long start;
  private volatile boolean started;

  DrillClock(Ticker ticker) {
    this.ticker = ticker;
  }

  Ticker ticker() {
    return ticker;
  }

  long now() {
    return ticker.nanoTime();
  }

  /** Fixes the drill's zero; once. */
  void start(long startNanos) {
    if (started) {
      throw new IllegalStateException("the drill's start is already fixed");
    }
    start = startNanos;
    started = true;
  }

  boolean started() {
    return started;
  }

  /** The drill's zero, as {@link Ticker#nanoTime()}; only once {@link #started()}. */
  long start() {
    if (!started) {
      throw new IllegalStateException("the drill has not started");
    }
    return start;
  }

  /** Returns {@code nanoTime} from the start; negative (the warm-up) before the start is fixed. */
  long offset(long nanoTime) {
    return started ? nanoTime - start : -1;
  }
}
