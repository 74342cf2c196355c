package dev.failover.discovery.zookeeper;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Makes the threads of the Curator client the source owns, and remembers them so that closing the
 * source can wait until every one has ended.
 */
final class OwnThreads implements ThreadFactory {

  private final String prefix;
  private final AtomicInteger count = new AtomicInteger();
  private final Set<Thread> threads = ConcurrentHashMap.newKeySet();

  OwnThreads(String prefix) {
    this.prefix = prefix;
  }

  @Override
  public Thread newThread(Runnable runnable) {
    threads.removeIf(t -> t.getState() == Thread.State.TERMINATED);
    Thread thread = new Thread(runnable, prefix + "-" + count.incrementAndGet());
    thread.setDaemon(true);
    threads.add(thread);
    return thread;
  }

  /**
   * Waits until every thread made here has ended, or until {@code deadlineNanos} (a {@link
   * System#nanoTime()} value).
   *
   * @return the names of the threads still alive at the deadline; empty when all have ended
   */
  List<String> joinAll(long deadlineNanos) {
    List<String> alive = new ArrayList<>();
    for (Thread thread : List.copyOf(threads)) {
      if (thread != Thread.currentThread() && !join(thread, deadlineNanos)) {
        alive.add(thread.getName());
      }
    }
    return alive;
  }

  /**
   * Waits until {@code thread} has ended, or until {@code deadlineNanos}. Keeps waiting if
   * interrupted, and then restores the interrupt.
   *
   * @return whether it has ended
   */
  static boolean join(Thread thread, long deadlineNanos) {
    boolean interrupted = false;
    try {
      while (thread.isAlive()) {
        long remaining = deadlineNanos - System.nanoTime();
        if (remaining <= 0) {
          return false;
        }
        try {
          TimeUnit.NANOSECONDS.timedJoin(thread, remaining);
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
}
