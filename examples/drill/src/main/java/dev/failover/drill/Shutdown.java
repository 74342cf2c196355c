package dev.failover.drill;

import java.time.Duration;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Ends the drill's own threads before it returns, each wait bounded: an interrupt of the calling
 * thread does not cut a wait short (the drill is interrupted to stop it, and must still leave no
 * thread behind); it is kept for the caller.
 */
final class Shutdown {
  private Shutdown() {}

  /** Daemon threads named {@code <name>-1}, {@code <name>-2}, ..., kept to be joined. */
  static final class Named implements ThreadFactory {
    private final String name;
    private final AtomicInteger n = new AtomicInteger();
    private final Queue<Thread> threads = new ConcurrentLinkedQueue<>();

    Named(String name) {
      this.name = name;
    }

    @Override
    public Thread newThread(Runnable r) {
      Thread t = new Thread(r, name + "-" + n.incrementAndGet());
      t.setDaemon(true);
      threads.removeIf(old -> old.getState() == Thread.State.TERMINATED);
      threads.add(t);
      return t;
    }

    /** Waits until every thread it made has ended, until {@code untilNanos}; whether they have. */
    boolean join(long untilNanos) {
      boolean all = true;
      for (Thread t : threads) {
        all &= Shutdown.join(t, untilNanos);
      }
      return all;
    }
  }

  /** Waits for {@code t} to end, at most {@code bound}; whether it has. */
  static boolean join(Thread t, Duration bound) {
    return join(t, System.nanoTime() + bound.toNanos());
  }

  private static boolean join(Thread t, long untilNanos) {
    if (t == Thread.currentThread()) {
      return !t.isAlive();
    }
    boolean interrupted = false;
    try {
      while (t.isAlive()) {
        long left = untilNanos - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        try {
          TimeUnit.NANOSECONDS.timedJoin(t, left);
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
      return true;
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /**
   * Shuts {@code executor} down (at once, with {@code now}: its queued tasks dropped and its
   * running ones interrupted) and waits, at most {@code bound}, until every thread {@code threads}
   * made for it has ended, interrupting them once the first half of the bound has passed. Whether
   * they have.
   */
  static boolean stop(ExecutorService executor, Named threads, boolean now, Duration bound) {
    long until = System.nanoTime() + bound.toNanos();
    long half = System.nanoTime() + bound.toNanos() / 2;
    if (now) {
      executor.shutdownNow();
    } else {
      executor.shutdown();
    }
    boolean interrupted = false;
    try {
      while (!executor.isTerminated() && System.nanoTime() - half < 0) {
        try {
          executor.awaitTermination(half - System.nanoTime(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
    if (!executor.isTerminated()) {
      executor.shutdownNow();
    }
    // A terminated executor's worker may still be on its way out: wait for the threads themselves.
    return threads.join(until);
  }
}
