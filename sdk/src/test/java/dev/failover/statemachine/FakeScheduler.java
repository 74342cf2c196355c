package dev.failover.statemachine;

import dev.failover.FakeClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Delayed;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.FutureTask;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.RunnableScheduledFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A {@link ScheduledExecutorService} on a {@link FakeClock}: nothing runs until the test calls
 * {@link #advance(Duration)} or {@link #runDue()}, and then every task due runs on the test's own
 * thread, in order of due time (ties in order of scheduling, as {@code ScheduledThreadPoolExecutor}
 * does), with the clock set to the task's due time while it runs.
 *
 * <p>Any thread may schedule (the client schedules from OkHttp's threads). {@code cancel} removes a
 * task; {@code shutdown} rejects new tasks and drops periodic ones while delayed one-shot tasks
 * still run when due (the defaults of {@code ScheduledThreadPoolExecutor}); {@code shutdownNow}
 * drops everything. {@link #awaitTermination} never waits: time moves only when the test says so.
 * {@code invokeAll} and {@code invokeAny} would wait for tasks that only the waiting thread could
 * run: do not use them.
 */
final class FakeScheduler extends AbstractExecutorService implements ScheduledExecutorService {
  private static final int MAX_TASKS_PER_RUN = 1_000_000;

  private final FakeClock clock;
  private final Object lock = new Object();
  private final PriorityQueue<Task<?>> queue = new PriorityQueue<>();
  private final List<Throwable> failures = new CopyOnWriteArrayList<>();

  // Guarded by lock.
  private long sequence;
  private boolean shutdown;
  private boolean running;
  private boolean lateCancels;
  private long ran;

  /** Only this scheduler may move {@code clock} from now on. */
  FakeScheduler(FakeClock clock) {
    this.clock = clock;
  }

  /** The current fake time in nanoseconds. */
  long now() {
    return clock.nanos();
  }

  /**
   * Runs every task due within {@code d} from now, in time order, then sets the clock to now + d.
   */
  void advance(Duration d) {
    if (d.isNegative()) {
      throw new IllegalArgumentException("time does not go back: " + d);
    }
    runUntil(saturatedAdd(clock.nanos(), d.toNanos()));
  }

  /** Advances the clock to the absolute fake time {@code target}, running what falls due. */
  void advanceTo(long target) {
    if (target < clock.nanos()) {
      throw new IllegalArgumentException("time does not go back");
    }
    runUntil(target);
  }

  /** Runs every task due now (including tasks they schedule with no delay). */
  void runDue() {
    runUntil(clock.nanos());
  }

  /**
   * From now on, {@code cancel} of a one-shot task still returns true but the task runs anyway when
   * due: as on a real scheduler when the cancel comes after the task has started (say, while it
   * waits for a lock the canceller holds). Off by default.
   */
  void cancelsArriveLate(boolean late) {
    synchronized (lock) {
      lateCancels = late;
    }
  }

  /** Exceptions thrown by tasks (a real scheduler would swallow them). */
  List<Throwable> failures() {
    return List.copyOf(failures);
  }

  /** How many task runs there have been. */
  long ran() {
    synchronized (lock) {
      return ran;
    }
  }

  /** The tasks waiting to run, earliest first. */
  List<Pending> pending() {
    synchronized (lock) {
      List<Task<?>> tasks = new ArrayList<>(queue);
      tasks.sort(null);
      List<Pending> out = new ArrayList<>();
      for (Task<?> t : tasks) {
        out.add(new Pending(t.seq, t.due, t.isPeriodic(), t.isCancelled()));
      }
      return out;
    }
  }

  /** The one-shot tasks waiting to run (timers of calls), earliest first. */
  List<Pending> pendingOneShots() {
    return pending().stream().filter(p -> !p.periodic()).toList();
  }

  /**
   * Waits up to {@link BoundedWait#WAIT} (real time) until a task matching {@code which} is
   * waiting, for tasks that another thread schedules; fails if none comes.
   */
  Pending awaitPending(Predicate<Pending> which, String description) {
    synchronized (lock) {
      Pending[] found = new Pending[1];
      BoundedWait.until(
          lock,
          () -> {
            found[0] = pendingLocked().stream().filter(which).findFirst().orElse(null);
            return found[0] != null;
          },
          () -> "a task " + description + " to be scheduled; pending: " + pendingLocked());
      return found[0];
    }
  }

  /** Waits until at least {@code n} one-shot tasks are waiting (scheduled by other threads). */
  void awaitOneShots(int n) {
    synchronized (lock) {
      BoundedWait.until(
          lock,
          () -> pendingLocked().stream().filter(p -> !p.periodic() && !p.cancelled()).count() >= n,
          () -> n + " one-shot tasks to be scheduled; pending: " + pendingLocked());
    }
  }

  /** Waits until a one-shot task due at exactly {@code due} (fake nanos) is waiting. */
  Pending awaitOneShotAt(long due) {
    return awaitPending(p -> !p.periodic() && p.due() == due, "due at " + due);
  }

  private List<Pending> pendingLocked() {
    List<Pending> out = new ArrayList<>();
    for (Task<?> t : queue) {
      out.add(new Pending(t.seq, t.due, t.isPeriodic(), t.isCancelled()));
    }
    return out;
  }

  private void runUntil(long target) {
    synchronized (lock) {
      if (running) {
        throw new IllegalStateException("a task may not advance the fake time");
      }
      running = true;
    }
    try {
      for (int n = 0; ; n++) {
        if (n >= MAX_TASKS_PER_RUN) {
          throw new IllegalStateException(
              MAX_TASKS_PER_RUN + " tasks ran without the time reaching its target: a loop?");
        }
        Task<?> t;
        synchronized (lock) {
          t = queue.peek();
          if (t == null || t.due > target) {
            break;
          }
          queue.poll();
          ran++;
        }
        moveClockTo(t.due);
        boolean again = t.runOnce();
        if (again) {
          synchronized (lock) {
            if (!t.isCancelled() && !shutdown) {
              t.due =
                  t.period > 0
                      ? saturatedAdd(t.due, t.period)
                      : saturatedAdd(clock.nanos(), -t.period);
              queue.add(t);
              lock.notifyAll();
            }
          }
        }
      }
    } finally {
      synchronized (lock) {
        running = false;
        lock.notifyAll();
      }
    }
    moveClockTo(target);
  }

  private void moveClockTo(long target) {
    long ahead = target - clock.nanos();
    if (ahead > 0) {
      clock.advance(Duration.ofNanos(ahead));
    }
  }

  private <V> Task<V> add(Callable<V> callable, long delay, TimeUnit unit, long period) {
    synchronized (lock) {
      if (shutdown) {
        throw new RejectedExecutionException("FakeScheduler is shut down");
      }
      long due = saturatedAdd(clock.nanos(), Math.max(0, unit.toNanos(delay)));
      Task<V> t = new Task<>(callable, due, period, sequence++);
      queue.add(t);
      lock.notifyAll();
      return t;
    }
  }

  @Override
  public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
    return add(Executors.callable(command), delay, unit, 0);
  }

  @Override
  public <V> ScheduledFuture<V> schedule(Callable<V> callable, long delay, TimeUnit unit) {
    return add(callable, delay, unit, 0);
  }

  @Override
  public ScheduledFuture<?> scheduleAtFixedRate(
      Runnable command, long initialDelay, long period, TimeUnit unit) {
    if (period <= 0) {
      throw new IllegalArgumentException("period must be positive");
    }
    return add(Executors.callable(command), initialDelay, unit, unit.toNanos(period));
  }

  @Override
  public ScheduledFuture<?> scheduleWithFixedDelay(
      Runnable command, long initialDelay, long delay, TimeUnit unit) {
    if (delay <= 0) {
      throw new IllegalArgumentException("delay must be positive");
    }
    return add(Executors.callable(command), initialDelay, unit, -unit.toNanos(delay));
  }

  /** Runs {@code command} at the next {@link #runDue()} or {@link #advance}. */
  @Override
  public void execute(Runnable command) {
    schedule(command, 0, TimeUnit.NANOSECONDS);
  }

  @Override
  public void shutdown() {
    synchronized (lock) {
      shutdown = true;
      List<Task<?>> periodic = queue.stream().filter(Task::isPeriodic).toList();
      queue.removeAll(periodic);
      periodic.forEach(Task::discard);
      lock.notifyAll();
    }
  }

  @Override
  public List<Runnable> shutdownNow() {
    synchronized (lock) {
      shutdown = true;
      List<Runnable> dropped = new ArrayList<>(queue);
      queue.clear();
      for (Runnable r : dropped) {
        ((Task<?>) r).discard();
      }
      lock.notifyAll();
      return dropped;
    }
  }

  @Override
  public boolean isShutdown() {
    synchronized (lock) {
      return shutdown;
    }
  }

  @Override
  public boolean isTerminated() {
    synchronized (lock) {
      return shutdown && queue.isEmpty() && !running;
    }
  }

  /** Never waits: returns whether the scheduler is already terminated. */
  @Override
  public boolean awaitTermination(long timeout, TimeUnit unit) {
    return isTerminated();
  }

  private static long saturatedAdd(long a, long b) {
    long r = a + b;
    if (((a ^ r) & (b ^ r)) < 0) {
      return b > 0 ? Long.MAX_VALUE : Long.MIN_VALUE;
    }
    return r;
  }

  /**
   * A waiting task as the test sees it: its identity (order of scheduling), when it is due (fake
   * nanos), whether it repeats, and whether it was cancelled too late to stop it.
   */
  record Pending(long id, long due, boolean periodic, boolean cancelled) {}

  private final class Task<V> extends FutureTask<V> implements RunnableScheduledFuture<V> {
    private final Callable<V> callable;
    private final long period;
    private final long seq;
    private long due;
    private volatile boolean cancelledLate;

    Task(Callable<V> callable, long due, long period, long seq) {
      super(callable);
      this.callable = callable;
      this.due = due;
      this.period = period;
      this.seq = seq;
    }

    @Override
    public boolean isPeriodic() {
      return period != 0;
    }

    @Override
    public long getDelay(TimeUnit unit) {
      return unit.convert(due - clock.nanos(), TimeUnit.NANOSECONDS);
    }

    @Override
    public int compareTo(Delayed other) {
      if (other == this) {
        return 0;
      }
      if (other instanceof Task<?> t) {
        int c = Long.compare(due, t.due);
        return c != 0 ? c : Long.compare(seq, t.seq);
      }
      return Long.compare(getDelay(TimeUnit.NANOSECONDS), other.getDelay(TimeUnit.NANOSECONDS));
    }

    /** Never interrupts: tasks run on the test's thread. */
    @Override
    public boolean cancel(boolean mayInterruptIfRunning) {
      boolean cancelled = super.cancel(false);
      if (cancelled) {
        synchronized (lock) {
          if (lateCancels && !isPeriodic() && queue.contains(this)) {
            cancelledLate = true;
          } else {
            queue.remove(this);
          }
          lock.notifyAll();
        }
      }
      return cancelled;
    }

    void discard() {
      super.cancel(false);
    }

    /** Runs the task once; returns whether a periodic task should run again. */
    boolean runOnce() {
      if (cancelledLate) {
        try {
          callable.call();
        } catch (Throwable e) {
          failures.add(e);
        }
        return false;
      }
      if (isPeriodic()) {
        boolean ok = runAndReset();
        if (!ok && !isCancelled()) {
          recordFailure();
        }
        return ok;
      }
      run();
      recordFailure();
      return false;
    }

    private void recordFailure() {
      if (isDone() && !isCancelled()) {
        try {
          get();
        } catch (ExecutionException e) {
          failures.add(e.getCause());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }
  }
}
