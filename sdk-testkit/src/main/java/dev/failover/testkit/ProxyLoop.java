package dev.failover.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.Queue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;

/**
 * One thread and one selector that carry every socket of every {@link FaultProxy} of a {@link
 * FakeZones}: listeners, client connections and the connections to WireMock. Sockets and proxy
 * state are touched only on this thread; other threads hand it work with {@link #run(Runnable,
 * long)} and wait for it. A handler that throws loses its own connection, never the loop.
 */
final class ProxyLoop implements AutoCloseable {

  /** Reacts to a selected key; runs on the loop thread. */
  interface Handler {
    void ready(SelectionKey key);
  }

  private final Selector selector;
  private final Thread thread;
  private final Queue<FutureTask<?>> tasks = new ArrayDeque<>(); // guarded by tasks
  private boolean stopped; // guarded by tasks: the loop has stopped taking tasks
  private volatile boolean stopping;

  ProxyLoop(ThreadFactory threads) {
    try {
      selector = Selector.open();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open a selector for the fault proxies", e);
    }
    thread = threads.newThread(this::loop);
    try {
      thread.start();
    } catch (RuntimeException | Error e) {
      closeQuietly(selector); // no native thread left, say: nothing else holds the selector
      throw e;
    }
  }

  /** The selector, to register channels with; only on the loop thread. */
  Selector selector() {
    return selector;
  }

  /**
   * Runs {@code task} on the loop thread and returns when it has run, or throws what it threw. Once
   * the loop has stopped (every socket is closed then), the task runs on the calling thread. Waits
   * until {@code deadlineNanos} at most; an interrupt does not cut the wait short, and is kept.
   *
   * @throws IllegalStateException if the loop did not run the task by the deadline
   */
  void run(Runnable task, long deadlineNanos) {
    if (Thread.currentThread() == thread) {
      task.run();
      return;
    }
    FutureTask<Void> future = new FutureTask<>(task, null);
    boolean queued;
    synchronized (tasks) {
      queued = !stopped;
      if (queued) {
        tasks.add(future);
      }
    }
    if (queued) {
      selector.wakeup();
    } else {
      future.run();
    }
    boolean interrupted = false;
    try {
      while (true) {
        try {
          future.get(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
          return;
        } catch (InterruptedException e) {
          interrupted = true;
        } catch (TimeoutException e) {
          throw new IllegalStateException("the fault proxies' thread did not answer in time", e);
        } catch (ExecutionException e) {
          Throwable cause = e.getCause();
          if (cause instanceof RuntimeException runtime) {
            throw runtime;
          }
          if (cause instanceof Error error) {
            throw error;
          }
          throw new IllegalStateException(cause);
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /**
   * Makes the closes of channels cancelled since the last select take effect now: a registered
   * channel's socket is released (and a listening port freed, or an RST sent) only when the
   * selector drops its key. Only from a task, on the loop thread, never while keys are iterated.
   */
  void completeCloses() {
    try {
      selector.selectNow();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Stops the loop: the thread closes every channel still registered, then ends. Does not wait; the
   * owner joins the thread.
   */
  @Override
  public void close() {
    stopping = true;
    selector.wakeup();
  }

  private void loop() {
    try {
      while (!stopping) {
        runTasks();
        if (stopping) {
          break;
        }
        selector.select();
        Iterator<SelectionKey> selected = selector.selectedKeys().iterator();
        while (selected.hasNext()) {
          SelectionKey key = selected.next();
          selected.remove();
          if (key.isValid() && key.attachment() instanceof Handler handler) {
            try {
              handler.ready(key);
            } catch (RuntimeException e) {
              closeQuietly(key.channel()); // handlers catch their own; this is a safety net
            }
          }
        }
      }
    } catch (IOException | ClosedSelectorException e) {
      // The selector broke: close everything below.
    } finally {
      synchronized (tasks) {
        stopped = true;
      }
      runTasks(); // those queued before the loop stopped taking tasks
      for (SelectionKey key : selector.keys()) {
        closeQuietly(key.channel());
      }
      closeQuietly(selector);
    }
  }

  private void runTasks() {
    while (true) {
      FutureTask<?> task;
      synchronized (tasks) {
        task = tasks.poll();
      }
      if (task == null) {
        return;
      }
      task.run(); // a FutureTask keeps what the task threw for the caller
    }
  }

  /** Closes, ignoring failures: the resource is going away either way. */
  static void closeQuietly(@Nullable AutoCloseable closeable) {
    if (closeable == null) {
      return;
    }
    try {
      closeable.close();
    } catch (Exception e) {
      // Going away either way.
    }
  }
}
