package dev.failover;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Whether a warning that could repeat for every call (the application's code throwing the same way
 * each time) is due at WARN: at most once a minute, the others at DEBUG.
 */
final class OnceAMinute {
  private static final long EVERY_NANOS = TimeUnit.MINUTES.toNanos(1);

  private final AtomicLong last = new AtomicLong(System.nanoTime() - EVERY_NANOS);

  /** True at most once a minute, to the one caller that claims it. */
  boolean due() {
    long now = System.nanoTime();
    long then = last.get();
    return now - then >= EVERY_NANOS && last.compareAndSet(then, now);
  }
}
