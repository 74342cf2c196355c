package dev.failover.matrix;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Measures how long this JVM's threads wait for a CPU while a cell runs: a thread that asks to wake
 * every 5 ms records its worst overshoot (jHiccup's idea). A call may overrun its deadline by at
 * most the allowance plus what the machine itself stalled, so that a starved machine does not fail
 * the SDK, and an idle one holds it to the allowance alone.
 */
final class StallMonitor implements AutoCloseable {
  private static final long TICK_NANOS = TimeUnit.MILLISECONDS.toNanos(5);

  private final AtomicLong worst = new AtomicLong();
  private volatile boolean stopped;
  private final Thread thread;

  StallMonitor() {
    thread =
        new Thread(
            () -> {
              long bound = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
              while (!stopped && System.nanoTime() < bound) {
                long before = System.nanoTime();
                try {
                  Thread.sleep(5);
                } catch (InterruptedException e) {
                  return;
                }
                long over = System.nanoTime() - before - TICK_NANOS;
                worst.accumulateAndGet(over, Math::max);
              }
            },
            "matrix-stall-monitor");
    thread.setDaemon(true);
    thread.start();
  }

  /** The worst stall seen so far, in milliseconds. */
  long worstMillis() {
    return TimeUnit.NANOSECONDS.toMillis(Math.max(0, worst.get()));
  }

  @Override
  public void close() {
    stopped = true;
    thread.interrupt();
    try {
      thread.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
