package dev.failover.benchmarks;

import java.lang.ref.Reference;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.locks.LockSupport;

/**
 * Saturates this JVM, the clients' host, for a while: one spinning thread per available processor,
 * and at half time a forced pause, about a million small objects (48 MB) allocated and kept alive,
 * then {@link System#gc()} (a full, stop-the-world collection). Every thread ends by itself at the
 * end, or at once on {@link #close()}, which waits for them.
 *
 * <p>The fake zones run in the same JVM, so their servers are starved too; from the clients' side
 * that is indistinguishable from a slow host, which is the point.
 */
final class BusyHost implements AutoCloseable {
  /** Objects allocated for the forced pause. */
  static final int OBJECTS = 1 << 20;

  @SuppressWarnings("unused")
  private static volatile long sink;

  private final long until;
  private final List<Thread> threads = new ArrayList<>();
  private volatile boolean stopped;
  private volatile String pause = "no forced pause yet";

  private BusyHost(long lengthNanos) {
    long start = System.nanoTime();
    this.until = start + lengthNanos;
    int cores = Runtime.getRuntime().availableProcessors();
    for (int i = 0; i < cores; i++) {
      long seed = 0x9E3779B97F4A7C15L * (i + 1);
      threads.add(daemon("busy-host-" + (i + 1), () -> spin(seed)));
    }
    threads.add(daemon("busy-host-pause", () -> pauseAt(start + lengthNanos / 2)));
    threads.forEach(Thread::start);
  }

  /** Starts saturating for {@code lengthNanos}; returns at once. */
  static BusyHost start(long lengthNanos) {
    return new BusyHost(lengthNanos);
  }

  /** What the forced pause measured, once it ran. */
  String pause() {
    return pause;
  }

  private static Thread daemon(String name, Runnable r) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }

  private boolean over() {
    return stopped || System.nanoTime() - until >= 0;
  }

  private void spin(long seed) {
    long x = seed;
    while (!over()) {
      for (int k = 0; k < 20_000; k++) {
        x ^= x << 13;
        x ^= x >>> 7;
        x ^= x << 17;
      }
    }
    sink = x;
  }

  private void pauseAt(long at) {
    long left;
    while (!stopped && (left = at - System.nanoTime()) > 0) {
      LockSupport.parkNanos(left);
    }
    if (stopped) {
      return;
    }
    long t0 = System.nanoTime();
    long t1;
    long t2;
    Object[] kept = new Object[OBJECTS];
    try {
      for (int i = 0; i < kept.length; i++) {
        kept[i] = new long[4];
      }
      t1 = System.nanoTime();
      System.gc(); // everything allocated is still alive: a full, stop-the-world collection
      t2 = System.nanoTime();
    } finally {
      Reference.reachabilityFence(kept);
    }
    pause =
        String.format(
            Locale.ROOT,
            "%d objects (%d MB) allocated in %d ms, then System.gc() took %d ms",
            OBJECTS,
            (OBJECTS * 48L) >> 20,
            (t1 - t0) / Recorder.MS,
            (t2 - t1) / Recorder.MS);
    System.out.println("  forced pause: " + pause);
  }

  /** Stops every thread and waits for them to end. */
  @Override
  public void close() {
    stopped = true;
    boolean interrupted = false;
    for (Thread t : threads) {
      LockSupport.unpark(t);
      while (t.isAlive()) {
        try {
          t.join();
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }
}
