package dev.failover.testkit;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/** A bounded wait for asynchronous effects: polls every 5 ms, gives up after the timeout. */
final class Await {

  private Await() {}

  /** Returns how long it took, or throws AssertionError after {@code timeout}. */
  static Duration until(Duration timeout, String what, BooleanSupplier condition) {
    long start = System.nanoTime();
    long deadline = start + timeout.toNanos();
    int polls = 0;
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline || ++polls > 100_000) {
        throw new AssertionError("timed out after " + timeout + " waiting for " + what);
      }
      try {
        Thread.sleep(5);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted waiting for " + what, e);
      }
    }
    return Duration.ofNanos(System.nanoTime() - start);
  }
}
