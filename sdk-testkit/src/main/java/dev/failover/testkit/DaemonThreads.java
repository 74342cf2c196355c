package dev.failover.testkit;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Names daemon threads, so that nothing the testkit starts keeps a JVM alive, and remembers them,
 * so that an owner's {@code close()} can wait until every thread it started has terminated: an
 * executor's {@code awaitTermination} returns when its last task is done, a moment before its
 * threads have actually ended.
 */
final class DaemonThreads implements ThreadFactory {

  private final String prefix;
  private final AtomicInteger count = new AtomicInteger();
  private final Set<Thread> threads = ConcurrentHashMap.newKeySet();

  DaemonThreads(String prefix) {
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
   * Waits until every thread made here has terminated, or until {@code deadlineNanos} (a {@link
   * System#nanoTime()} value). Keeps waiting if interrupted, and then restores the interrupt.
   *
   * @return the names of the threads still alive at the deadline; empty when all have ended
   */
  List<String> joinAll(long deadlineNanos) {
    boolean interrupted = false;
    List<String> alive = new ArrayList<>();
    try {
      for (Thread thread : List.copyOf(threads)) {
        if (thread == Thread.currentThread()) {
          continue; // closing from one of its own threads: it ends when it returns
        }
        while (thread.isAlive()) {
          long remaining = deadlineNanos - System.nanoTime();
          if (remaining <= 0) {
            break;
          }
          try {
            TimeUnit.NANOSECONDS.timedJoin(thread, remaining);
          } catch (InterruptedException e) {
            interrupted = true;
          }
        }
        if (thread.isAlive()) {
          alive.add(thread.getName());
        } else {
          threads.remove(thread);
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
    return alive;
  }
}
