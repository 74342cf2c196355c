package dev.failover.drill;

import java.lang.ref.Reference;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * Saturates the drill's own JVM, the client's host, for a while: one busy thread per core, and
 * halfway through one forced pause, in which the load generator's thread is held for {@link #PAUSE}
 * and a burst of allocation ends in {@link System#gc()} (a stop-the-world collection). The busy
 * threads end by themselves at the end of the burst, and at once on {@link #stop()} or {@link
 * #close()}; no thread outlives either.
 */
final class HostSaturator implements AutoCloseable {
  /** How long the forced pause holds the load generator. */
  static final Duration PAUSE = Duration.ofMillis(300);

  /** Objects allocated, and kept alive through the forced collection. */
  private static final int ALLOCATED_OBJECTS = 1 << 20;

  /** Where the busy threads leave their result, so that their work cannot be optimised away. */
  @SuppressWarnings("unused")
  private static volatile long sink;

  private final int threads;
  private volatile Consumer<Duration> pauser = d -> {};
  private volatile Consumer<String> log = s -> {};
  private @Nullable Burst current;

  /** One busy thread per {@code threads}; usually one per available processor. */
  HostSaturator(int threads) {
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be at least 1 but was " + threads);
    }
    this.threads = threads;
  }

  /** One busy thread per available processor. */
  static HostSaturator perCore() {
    return new HostSaturator(Runtime.getRuntime().availableProcessors());
  }

  int threads() {
    return threads;
  }

  /** Sets what holds the drill's driving threads for the forced pause. */
  void pauseWith(Consumer<Duration> pauser) {
    this.pauser = pauser;
  }

  /** Sets where the saturator tells what it did. */
  void logTo(Consumer<String> log) {
    this.log = log;
  }

  /**
   * Saturates the host for {@code length} from now, the forced pause at half; ends any burst still
   * running first. Returns at once.
   */
  synchronized void saturate(Duration length) {
    stop();
    Burst b = new Burst(length);
    current = b;
    b.begin();
  }

  /** Ends the burst in progress, if any, and waits for its threads to end. */
  synchronized void stop() {
    Burst b = current;
    current = null;
    if (b != null) {
      b.end();
    }
  }

  /** Whether any thread of a burst is still alive. */
  synchronized boolean running() {
    Burst b = current;
    return b != null && b.alive();
  }

  @Override
  public void close() {
    stop();
  }

  private final class Burst {
    private final AtomicBoolean stopped = new AtomicBoolean();
    private final long startNanos = System.nanoTime();
    private final long deadline;
    private final List<Thread> busy = new ArrayList<>();
    private final Thread control;

    Burst(Duration length) {
      this.deadline = startNanos + length.toNanos();
      for (int i = 0; i < threads; i++) {
        long seed = 0x9E3779B97F4A7C15L * (i + 1);
        Thread t = new Thread(() -> spin(seed), "drill-busy-" + (i + 1));
        t.setDaemon(true);
        busy.add(t);
      }
      control = new Thread(() -> control(startNanos + length.toNanos() / 2), "drill-saturator");
      control.setDaemon(true);
    }

    void begin() {
      log.accept(
          String.format(
              Locale.ROOT,
              "host saturated: %d busy thread%s (one per core) for %.1f s",
              threads,
              threads == 1 ? "" : "s",
              (deadline - startNanos) / 1e9));
      busy.forEach(Thread::start);
      control.start();
    }

    private boolean over() {
      return stopped.get() || System.nanoTime() - deadline >= 0;
    }

    private void spin(long seed) {
      long x = seed;
      while (!over()) {
        for (int k = 0; k < 20_000; k++) {
          x = x * 6364136223846793005L + 1442695040888963407L;
          x ^= x >>> 29;
        }
      }
      sink = x;
    }

    private void control(long pauseAt) {
      if (!parkUntil(pauseAt)) {
        return;
      }
      pauser.accept(PAUSE);
      long before = System.nanoTime();
      long allocated;
      long collected;
      Object[] kept = new Object[ALLOCATED_OBJECTS];
      try {
        for (int i = 0; i < kept.length; i++) {
          kept[i] = new long[4];
        }
        allocated = System.nanoTime();
        System.gc(); // with everything allocated still alive: a full, stop-the-world collection
        collected = System.nanoTime();
      } finally {
        Reference.reachabilityFence(kept);
      }
      log.accept(
          String.format(
              Locale.ROOT,
              "forced pause: load generator held for %d ms; %d objects (%d MB) allocated in %d ms,"
                  + " then System.gc() took %d ms",
              PAUSE.toMillis(),
              ALLOCATED_OBJECTS,
              (ALLOCATED_OBJECTS * 48L) >> 20,
              TimeUnit.NANOSECONDS.toMillis(allocated - before),
              TimeUnit.NANOSECONDS.toMillis(collected - allocated)));
      if (!parkUntil(deadline)) {
        return;
      }
      for (Thread t : busy) {
        try {
          t.join();
        } catch (InterruptedException e) {
          return;
        }
      }
      log.accept(
          String.format(
              Locale.ROOT,
              "host saturation over: busy threads ended after %.1f s",
              (System.nanoTime() - startNanos) / 1e9));
    }

    /** Waits until {@code nanos}; false if the burst was stopped first. */
    private boolean parkUntil(long nanos) {
      long left;
      while (!stopped.get() && (left = nanos - System.nanoTime()) > 0) {
        LockSupport.parkNanos(left);
        if (Thread.interrupted()) {
          return false;
        }
      }
      return !stopped.get();
    }

    boolean alive() {
      return control.isAlive() || busy.stream().anyMatch(Thread::isAlive);
    }

    void end() {
      boolean wasRunning = busy.stream().anyMatch(Thread::isAlive);
      stopped.set(true);
      control.interrupt();
      boolean interrupted = false;
      List<Thread> all = new ArrayList<>(busy);
      all.add(control);
      for (Thread t : all) {
        while (t.isAlive()) {
          try {
            t.join();
          } catch (InterruptedException e) {
            interrupted = true; // still wait: no busy thread may outlive the burst
          }
        }
      }
      if (wasRunning) {
        log.accept(
            String.format(
                Locale.ROOT,
                "host saturation stopped: busy threads ended after %.1f s",
                (System.nanoTime() - startNanos) / 1e9));
      }
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
