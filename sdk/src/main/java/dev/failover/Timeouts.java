package dev.failover;

import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.locks.LockSupport;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The attempts' timeouts, in real time, on one thread per client: what OkHttp's call timeout did
 * for them, without its cost. OkHttp's call timeout (okio's {@code AsyncTimeout}) takes a lock and
 * wakes its watchdog thread whenever a call becomes the earliest to time out, which is every call
 * when calls do not overlap: about 1.6 us per call on a 2-core machine (docs/benchmarks.md).
 *
 * <p>Here, arming a timeout is a lock-free push onto a stack and disarming it a volatile write;
 * neither wakes this thread unless the new timeout is due before the thread's next wake-up. There
 * is a stack for each of a few groups of calling threads, each on a cache line of its own, so that
 * threads on different cores do not pass one line back and forth on every call. The thread wakes at
 * the earliest timeout due, and every {@link #SWEEP_NANOS} while any is armed (to drop the disarmed
 * ones, which would otherwise pile up) or any was armed since it last looked; it parks once a sweep
 * found none. When a timeout expires, its target is told on {@code actions} (the client's
 * dispatcher), never on this thread: the target cancels an OkHttp call, which calls the
 * application's {@code EventListener.canceled}.
 */
final class Timeouts implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Timeouts.class);

  /** How often the thread looks at the armed timeouts while any is armed. */
  static final long SWEEP_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

  /** Told when its timeout expires, on the client's dispatcher. */
  interface Target {
    void timedOut();
  }

  /** One armed timeout: {@link #disarm()} it once what it bounds has ended. */
  static final class Timeout {
    final long at;
    private volatile @Nullable Target target;

    /** The stack's link: written before the push publishes it, read by the thread after. */
    @Nullable Timeout next;

    Timeout(long at, Target target) {
      this.at = at;
      this.target = target;
    }

    void disarm() {
      target = null;
    }

    boolean armed() {
      return target != null;
    }

    /** Takes the target to tell, or null if disarmed (one thread only: the timeouts' thread). */
    @Nullable Target take() {
      Target t = target;
      target = null;
      return t;
    }
  }

  /** How many stacks of newly armed timeouts there are (a power of two). */
  private static final int STACKS = 8;

  /** Slots between two stacks' heads: 16 references span 64 bytes, a cache line, or more. */
  private static final int SPACING = 16;

  /** The stacks' heads, {@link #SPACING} slots apart; a thread pushes onto its own group's. */
  private final AtomicReferenceArray<@Nullable Timeout> incoming =
      new AtomicReferenceArray<>(STACKS * SPACING);

  private final Executor actions;
  private final Thread thread;

  /** When the thread wakes next, if it sleeps with a timeout armed; see {@link #idle}. */
  private volatile long nextWake;

  /** Whether the thread parks until a timeout is armed (none is). */
  private volatile boolean idle;

  private volatile boolean closed;

  /**
   * Whether {@link #awaitDrained} waits: the thread then tells {@link #drained} when none is armed.
   */
  private volatile boolean draining;

  /** Counted down once no timeout is armed after {@link #awaitDrained} began, or on close. */
  private final CountDownLatch drained = new CountDownLatch(1);

  /** The armed timeouts the thread took from the stack, earliest first. The thread's alone. */
  private final PriorityQueue<Timeout> queue =
      new PriorityQueue<>((a, b) -> Long.compare(a.at - b.at, 0));

  /** The queue's size at which disarmed timeouts are swept out of it. The thread's alone. */
  private int sweepAt = 256;

  Timeouts(ThreadFactory threads, Executor actions) {
    this.actions = actions;
    this.thread = threads.newThread(this::run);
    thread.setDaemon(true);
    thread.start();
  }

  /** Arms a timeout that tells {@code target} after {@code delayNanos}, unless disarmed before. */
  Timeout arm(long delayNanos, Target target) {
    return armAt(System.nanoTime() + delayNanos, target);
  }

  /**
   * Arms a timeout that tells {@code target} at {@code atNanos} on {@link System#nanoTime()}'s
   * scale, unless disarmed before: for a caller that has read the clock already.
   */
  Timeout armAt(long atNanos, Target target) {
    Timeout t = new Timeout(atNanos, target);
    int stack = stackOf(Thread.currentThread());
    Timeout head;
    do {
      head = incoming.get(stack);
      t.next = head;
    } while (!incoming.compareAndSet(stack, head, t));
    // Read after the push: the thread writes these before it looks at the stack for the last time
    // before it sleeps, so either it sees this timeout or this sees when it wakes.
    if (idle || t.at - nextWake < 0) {
      LockSupport.unpark(thread);
    }
    return t;
  }

  /** The head slot of the stack {@code thread} pushes onto. */
  private static int stackOf(Thread thread) {
    int h = thread.hashCode();
    return ((h ^ (h >>> 16)) & (STACKS - 1)) * SPACING;
  }

  private void run() {
    while (!closed) {
      long now = System.nanoTime();
      boolean traffic = take();
      expire(now);
      if (draining && queue.isEmpty() && !armedBefore(Long.MAX_VALUE)) {
        // expire() took every disarmed timeout off the head: an empty queue holds none armed.
        drained.countDown();
      }
      if (queue.size() >= sweepAt) {
        queue.removeIf(t -> !t.armed());
        sweepAt = Math.max(256, queue.size() * 2);
      }
      Timeout first = queue.peek();
      if (first == null && traffic) {
        // Calls came and went since the last look: look again after a sweep rather than park
        // until the next one arms a timeout (which would wake this thread for nearly every call).
        long wake = now + SWEEP_NANOS;
        nextWake = wake;
        if (!armedBefore(wake) && !closed) {
          LockSupport.parkNanos(this, SWEEP_NANOS);
        }
      } else if (first == null) {
        idle = true;
        if (!armedBefore(Long.MAX_VALUE) && !closed) {
          LockSupport.park(this);
        }
        idle = false;
      } else {
        long wake = first.at - now < SWEEP_NANOS ? first.at : now + SWEEP_NANOS;
        nextWake = wake;
        if (!armedBefore(wake) && !closed) {
          LockSupport.parkNanos(this, wake - now);
        }
      }
    }
  }

  /**
   * Moves the timeouts armed since the last look into the queue, dropping disarmed ones; returns
   * whether any was armed since.
   */
  private boolean take() {
    boolean any = false;
    for (int stack = 0; stack < STACKS * SPACING; stack += SPACING) {
      // Read before taking: an empty stack's line stays with the core that pushes onto it.
      Timeout t = incoming.get(stack) == null ? null : incoming.getAndSet(stack, null);
      any |= t != null;
      while (t != null) {
        Timeout n = t.next;
        t.next = null;
        if (t.armed()) {
          queue.add(t);
        }
        t = n;
      }
    }
    return any;
  }

  /** Tells the targets of the timeouts due at {@code now}, on the dispatcher. */
  private void expire(long now) {
    Timeout first;
    while ((first = queue.peek()) != null && (!first.armed() || first.at - now <= 0)) {
      queue.poll();
      Target target = first.take();
      if (target != null) {
        try {
          actions.execute(target::timedOut);
        } catch (RejectedExecutionException e) {
          // The client is closing (its close() cancels every call): here rather than never.
          tell(target);
        } catch (RuntimeException | Error e) {
          // The dispatcher could not take it (OutOfMemoryError: unable to create native thread,
          // with many attempts hanging): told here rather than never, and this thread lives on,
          // or no attempt timeout or deadline of the client would ever fire again.
          log.error("Failover: handing a timeout to the dispatcher failed; told at once", e);
          tell(target);
        }
      }
    }
  }

  private static void tell(Target target) {
    try {
      target.timedOut();
    } catch (RuntimeException | Error e) {
      log.error("Failover: ending what timed out (an attempt or a call) failed", e);
    }
  }

  /** Whether a timeout armed since the last look is due before {@code wake}. */
  private boolean armedBefore(long wake) {
    for (int stack = 0; stack < STACKS * SPACING; stack += SPACING) {
      for (Timeout t = incoming.get(stack); t != null; t = t.next) {
        if (t.armed() && (wake == Long.MAX_VALUE || t.at - wake < 0)) {
          return true;
        }
      }
    }
    return false;
  }

  /**
   * Waits until no timeout is armed: each one armed expired (its target told) or was disarmed. For
   * a configuration that {@code reconfigure} or {@code reset} replaced, whose last calls' bodies
   * may still be read under their attempts' timeouts. No new timeout may be armed meanwhile (the
   * replaced configuration takes no new call). Returns early, false, if this closes or its thread
   * ends.
   */
  boolean awaitDrained() throws InterruptedException {
    draining = true;
    LockSupport.unpark(thread);
    while (!drained.await(1, TimeUnit.SECONDS)) {
      if (!thread.isAlive()) {
        return false;
      }
    }
    return !closed;
  }

  /**
   * Stops the thread; timeouts still armed never expire on their own: {@link #takeArmed} hands them
   * to {@code close()}, which ends what they bound (a body still being read) at once.
   */
  @Override
  public void close() {
    closed = true;
    drained.countDown();
    LockSupport.unpark(thread);
  }

  /**
   * After {@link #close()}: waits (up to a second) for the thread to end, then takes the targets of
   * every timeout still armed, for the caller to tell now. Empty if the thread did not end, or if
   * called on the thread itself.
   */
  List<Target> takeArmed() {
    if (Thread.currentThread() == thread) {
      return List.of();
    }
    try {
      thread.join(TimeUnit.SECONDS.toMillis(1));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return List.of();
    }
    if (thread.isAlive()) {
      log.warn(
          "Failover: the timeouts thread {} did not end within 1 s of close(); bodies still being"
              + " read are not ended by close() (their servers end them)",
          thread.getName());
      return List.of();
    }
    take(); // the thread has ended: its queue and the stacks are this thread's now
    List<Target> armed = new ArrayList<>();
    for (Timeout t : queue) {
      Target target = t.take();
      if (target != null) {
        armed.add(target);
      }
    }
    queue.clear();
    return armed;
  }

  /** The thread, for {@code close()} to wait for. */
  Thread thread() {
    return thread;
  }
}
