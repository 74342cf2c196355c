package dev.failover.testkit.load;

import java.lang.ref.Reference;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * Saturates this JVM, the client's host, for a while: busy threads (usually one per core), and
 * halfway through one forced pause, in which the load generator's thread may be held for {@link
 * #PAUSE} ({@link #pauseWith}) and {@value #ALLOCATED_OBJECTS} small objects (48 MB) allocated and
 * kept alive end in {@link System#gc()} (a full, stop-the-world collection). The busy threads end
 * by themselves at the end of the burst, and at once on {@link #stop()} or {@link #close()}; no
 * thread outlives either. Its threads are named {@code <name>-busy-<n>} and {@code
 * <name>-saturator}.
 *
 * <pre>{@code
 * try (HostSaturator host = HostSaturator.perCore("bench")) {
 *   host.pauseWith(generator::pause);
 *   host.saturate(Duration.ofSeconds(10)); // returns at once
 *   ...
 * }
 * }</pre>
 */
public final class HostSaturator implements AutoCloseable {
  /** How long the forced pause holds the load generator. */
  public static final Duration PAUSE = Duration.ofMillis(300);

  /** Objects allocated, and kept alive through the forced collection. */
  public static final int ALLOCATED_OBJECTS = 1 << 20;

  /** Where the busy threads leave their result, so that their work cannot be optimised away. */
  @SuppressWarnings("unused")
  private static volatile long sink;

  private final String name;
  private final int threads;
  private volatile @Nullable Consumer<Duration> pauser;
  private volatile Consumer<String> log = s -> {};
  private volatile Consumer<ForcedPause> onPause = p -> {};
  private @Nullable Burst current;

  /**
   * A saturator of {@code threads} busy threads.
   *
   * @param name what its threads' names start with
   * @param threads busy threads; usually one per available processor
   * @throws IllegalArgumentException if {@code threads} is less than 1
   */
  public HostSaturator(String name, int threads) {
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be at least 1 but was " + threads);
    }
    this.name = Objects.requireNonNull(name, "name");
    this.threads = threads;
  }

  /**
   * One busy thread per available processor.
   *
   * @param name what its threads' names start with
   * @return the saturator
   */
  public static HostSaturator perCore(String name) {
    return new HostSaturator(name, Runtime.getRuntime().availableProcessors());
  }

  /**
   * How many busy threads a burst runs.
   *
   * @return the count
   */
  public int threads() {
    return threads;
  }

  /**
   * Sets what holds the load's driving threads for the forced pause, such as {@link
   * OpenLoopGenerator#pause(Duration)}; nothing is held by default.
   *
   * @param pauser told {@link #PAUSE} at the forced pause
   */
  public void pauseWith(Consumer<Duration> pauser) {
    this.pauser = Objects.requireNonNull(pauser, "pauser");
  }

  /**
   * Sets where the saturator tells what it did, a line at a time; nowhere by default.
   *
   * @param log receives each line
   */
  public void logTo(Consumer<String> log) {
    this.log = Objects.requireNonNull(log, "log");
  }

  /**
   * Sets what is told what the forced pause measured, once it ran.
   *
   * @param onPause receives the measurement, on the saturator's thread
   */
  public void onPause(Consumer<ForcedPause> onPause) {
    this.onPause = Objects.requireNonNull(onPause, "onPause");
  }

  /**
   * What the forced pause measured.
   *
   * @param objects objects allocated and kept alive
   * @param allocatedMillis how long their allocation took
   * @param collectedMillis how long {@link System#gc()} then took
   */
  public record ForcedPause(int objects, long allocatedMillis, long collectedMillis) {
    /**
     * Such as {@code 1048576 objects (48 MB) allocated in 90 ms, then System.gc() took 120 ms}.
     *
     * @return the measurement in words
     */
    public String describe() {
      return String.format(
          Locale.ROOT,
          "%d objects (%d MB) allocated in %d ms, then System.gc() took %d ms",
          objects,
          (objects * 48L) >> 20,
          allocatedMillis,
          collectedMillis);
    }
  }

  /**
   * Saturates the host for {@code length} from now, the forced pause at half; ends any burst still
   * running first. Returns at once.
   *
   * @param length how long the burst lasts
   */
  public synchronized void saturate(Duration length) {
    stop();
    Burst b = new Burst(length);
    current = b;
    b.begin();
  }

  /** Ends the burst in progress, if any, and waits for its threads to end. */
  public synchronized void stop() {
    Burst b = current;
    current = null;
    if (b != null) {
      b.end();
    }
  }

  /**
   * Whether any thread of a burst is still alive.
   *
   * @return true while a burst runs
   */
  public synchronized boolean running() {
    Burst b = current;
    return b != null && b.alive();
  }

  /** Same as {@link #stop()}. */
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
        Thread t = new Thread(() -> spin(seed), name + "-busy-" + (i + 1));
        t.setDaemon(true);
        busy.add(t);
      }
      control = new Thread(() -> control(startNanos + length.toNanos() / 2), name + "-saturator");
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
      Consumer<Duration> p = pauser;
      if (p != null) {
        p.accept(PAUSE);
      }
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
      ForcedPause pause =
          new ForcedPause(
              ALLOCATED_OBJECTS,
              TimeUnit.NANOSECONDS.toMillis(allocated - before),
              TimeUnit.NANOSECONDS.toMillis(collected - allocated));
      log.accept(
          p == null
              ? "forced pause: " + pause.describe()
              : String.format(
                  Locale.ROOT,
                  "forced pause: load generator held for %d ms; %s",
                  PAUSE.toMillis(),
                  pause.describe()));
      onPause.accept(pause);
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
