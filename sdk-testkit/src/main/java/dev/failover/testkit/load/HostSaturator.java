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
 * kept alive end in {@link System#gc()} (a full, stop-the-world collection). On a host so busy that
 * the allocation takes more than a third of the time left in the burst, it stops there with fewer
 * objects, so that the collection too ends within the burst. The busy threads end by themselves at
 * the end of the burst, and at once on {@link #stop()} or {@link #close()}, however far the forced
 * pause has got: its allocation stops within a few thousand objects and the collection is then
 * skipped (only a {@link System#gc()} already running is waited for); no thread outlives either.
 * Its threads are named {@code <name>-busy-<n>} and {@code <name>-saturator}.
 *
 * <p>The pauser and the pause listener are called on the saturator's own thread, and so is the log
 * for its lines in the middle and at the natural end of a burst. They may call {@link #stop()} or
 * {@link #close()}: that ends the burst whose thread calls, waits for its busy threads and returns
 * (the calling thread ends once its callback returns); it never waits for the calling thread
 * itself, nor for a lock that another thread holds while it stops the saturator. They must not call
 * {@link #saturate(Duration)}, which throws there.
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

  /**
   * Objects allocated, and kept alive through the forced collection (fewer if allocating them takes
   * more than a third of the time left in the burst).
   */
  public static final int ALLOCATED_OBJECTS = 1 << 20;

  /** Where the busy threads leave their result, so that their work cannot be optimised away. */
  @SuppressWarnings("unused")
  private static volatile long sink;

  private final String name;
  private final int threads;
  private volatile @Nullable Consumer<Duration> pauser;
  private volatile Consumer<String> log = s -> {};
  private volatile Consumer<ForcedPause> onPause = p -> {};
  private volatile Runnable allocating = () -> {};
  private volatile @Nullable Burst current; // written under this

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
   * Sets what the forced pause runs on its own thread after each {@value #CHUNK} objects it
   * allocates; for tests, which hold the allocation there.
   */
  void onAllocating(Runnable allocating) {
    this.allocating = Objects.requireNonNull(allocating, "allocating");
  }

  /** The forced pause looks at the time and at {@link #stop()} every this many objects. */
  static final int CHUNK = 4096;

  /**
   * What the forced pause measured.
   *
   * @param objects objects allocated and kept alive: {@link #ALLOCATED_OBJECTS}, or fewer on a host
   *     too busy to allocate them in a third of the time left in the burst
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
   * @throws IllegalStateException if called from the saturator's own thread (from a callback)
   */
  public void saturate(Duration length) {
    if (ownBurst() != null) {
      throw new IllegalStateException(
          "saturate() was called from the saturator's own thread; call it from another thread");
    }
    synchronized (this) {
      stopCurrent();
      Burst b = new Burst(length);
      current = b;
      b.begin();
    }
  }

  /**
   * Ends the burst in progress, if any, and waits for its threads to end. From the saturator's own
   * thread (a callback), ends the burst that thread belongs to and waits for its busy threads only.
   */
  public void stop() {
    Burst own = ownBurst();
    if (own != null) {
      own.end(); // without the lock: another thread may hold it while it waits for this one
      return;
    }
    synchronized (this) {
      stopCurrent();
    }
  }

  private void stopCurrent() {
    Burst b = current;
    current = null;
    if (b != null) {
      b.end();
    }
  }

  /** The burst whose control thread is the calling thread, if it is one of this saturator's. */
  private @Nullable Burst ownBurst() {
    return Thread.currentThread() instanceof ControlThread c && c.saturator() == this
        ? c.burst
        : null;
  }

  /**
   * Whether any thread of a burst is still alive.
   *
   * @return true while a burst runs
   */
  public boolean running() {
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
    private final ControlThread control;

    Burst(Duration length) {
      this.deadline = startNanos + length.toNanos();
      for (int i = 0; i < threads; i++) {
        long seed = 0x9E3779B97F4A7C15L * (i + 1);
        Thread t = new Thread(() -> spin(seed), name + "-busy-" + (i + 1));
        t.setDaemon(true);
        busy.add(t);
      }
      control = new ControlThread(this, startNanos + length.toNanos() / 2);
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
        if (stopped.get()) {
          return; // stopped by the pauser
        }
      }
      long before = System.nanoTime();
      // On a host so busy that allocating takes long, the allocation stops at a third of the time
      // left in the burst: the collection that follows, whose length grows with what is alive,
      // then still ends within the burst instead of holding the next phase's start.
      long allocateUntil = before + Math.max(0, deadline - before) / 3;
      long allocated;
      long collected;
      int count = 0;
      Object[] kept = new Object[ALLOCATED_OBJECTS];
      Runnable chunk = allocating;
      try {
        while (count < kept.length) {
          kept[count] = new long[4];
          count++;
          if (count % CHUNK == 0) {
            chunk.run();
            if (stopped.get()) {
              return; // stop() waits for this thread: no allocation or collection after it
            }
            if (System.nanoTime() - allocateUntil >= 0) {
              break;
            }
          }
        }
        allocated = System.nanoTime();
        System.gc(); // with everything allocated still alive: a full, stop-the-world collection
        collected = System.nanoTime();
      } finally {
        Reference.reachabilityFence(kept);
      }
      ForcedPause pause =
          new ForcedPause(
              count,
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

    /**
     * Stops the threads and waits for them, all but the calling thread: the control thread may end
     * its own burst from a callback.
     */
    void end() {
      boolean wasRunning = !stopped.getAndSet(true) && busy.stream().anyMatch(Thread::isAlive);
      Thread self = Thread.currentThread();
      if (control != self) {
        control.interrupt();
      }
      boolean interrupted = false;
      List<Thread> all = new ArrayList<>(busy);
      all.add(control);
      for (Thread t : all) {
        while (t != self && t.isAlive()) {
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

  /** A burst's control thread: runs the forced pause and the callbacks. */
  private final class ControlThread extends Thread {
    final Burst burst;
    private final long pauseAt;

    ControlThread(Burst burst, long pauseAt) {
      super(name + "-saturator");
      this.burst = burst;
      this.pauseAt = pauseAt;
      setDaemon(true);
    }

    HostSaturator saturator() {
      return HostSaturator.this;
    }

    @Override
    public void run() {
      burst.control(pauseAt);
    }
  }
}
