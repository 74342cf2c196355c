package dev.failover.statemachine;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Waits on a monitor for a condition, never longer than {@link #WAIT}: a defect fails a test. */
final class BoundedWait {
  /** How long a test waits for anything another thread does. */
  static final Duration WAIT = Duration.ofSeconds(10);

  private BoundedWait() {}

  /**
   * Waits until {@code condition} holds; the caller holds {@code monitor}, which is notified
   * whenever the condition may have changed. Fails with an AssertionError naming {@code what}.
   */
  static void until(Object monitor, BooleanSupplier condition, Supplier<String> what) {
    long until = System.nanoTime() + WAIT.toNanos();
    while (!condition.getAsBoolean()) {
      long left = until - System.nanoTime();
      if (left <= 0) {
        throw new AssertionError("waited " + WAIT + " for " + what.get());
      }
      try {
        monitor.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted while waiting for " + what.get(), e);
      }
    }
  }
}
