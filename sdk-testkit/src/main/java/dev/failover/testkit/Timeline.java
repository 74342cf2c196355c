package dev.failover.testkit;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * A script of faults that switch on and off at given offsets, with named phases, such as an outage
 * drill: run it with {@link #start(FakeZones)}, or with {@link #start(FakeZones, long)} to count
 * the offsets from a zero fixed elsewhere. Immutable; one timeline can run many times.
 *
 * <pre>{@code
 * Timeline drill = Timeline.builder()
 *     .phase("steady", Duration.ZERO, Duration.ofSeconds(10), z -> {})
 *     .phase("zone outage", Duration.ofSeconds(10), Duration.ofSeconds(20),
 *         z -> z.zone("us-east-1a").fail(ZoneFault.refuse()),
 *         z -> z.zone("us-east-1a").heal())
 *     .phase("recovered", Duration.ofSeconds(30), Duration.ofSeconds(10), z -> {})
 *     .build();
 * try (Timeline.Run run = drill.start(zones)) {
 *   // ... drive traffic, labelling results with run.currentPhase() ...
 *   run.await(Duration.ofMinutes(1));
 * }
 * }</pre>
 *
 * <p>Steps run in offset order on one daemon thread; steps at the same offset run in the order they
 * were declared, except that a phase ends before another one starts. The run ends after its last
 * step.
 */
public final class Timeline {

  private static final Duration MAX_OFFSET = Duration.ofDays(1);

  private final List<Step> steps;
  private final List<PhaseSpan> phases;

  private Timeline(Builder builder) {
    List<Step> sorted = new ArrayList<>(builder.steps);
    sorted.sort(Comparator.comparing(Step::offset).thenComparing(s -> s.endsPhase() == null));
    this.steps = List.copyOf(sorted);
    this.phases = List.copyOf(builder.phases);
  }

  /**
   * Returns a builder; add at least one step.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Returns the offset of the last step: how long a run lasts.
   *
   * @return the offset of the last step
   */
  public Duration length() {
    return steps.get(steps.size() - 1).offset();
  }

  /**
   * Returns the name of the phase in progress at {@code offset} from the start, as planned: the
   * latest-starting phase with {@code start <= offset < start + length}.
   *
   * @param offset time since the start
   * @return the phase's name, or empty between phases
   */
  public Optional<String> phaseAt(Duration offset) {
    Objects.requireNonNull(offset, "offset");
    PhaseSpan current = null;
    for (PhaseSpan span : phases) {
      if (span.start().compareTo(offset) <= 0
          && offset.compareTo(span.end()) < 0
          && (current == null || span.start().compareTo(current.start()) >= 0)) {
        current = span;
      }
    }
    return current == null ? Optional.empty() : Optional.of(current.name());
  }

  /**
   * Starts running the steps against {@code zones}, on a new daemon thread; offsets count from now.
   * A step that throws is recorded (see {@link Run#await(Duration)}) and the others still run.
   *
   * @param zones the fake zones the steps act on; normally running
   * @return the run, to ask for its phase, wait for it or stop it
   */
  public Run start(FakeZones zones) {
    return start(zones, System.nanoTime());
  }

  /**
   * Starts running the steps against {@code zones}, on a new daemon thread, with offsets counted
   * from {@code originNanos}: each step runs at {@code originNanos + offset}, and a step already
   * due (an origin in the past) runs at once, in offset order. Use it when the timeline's zero is
   * fixed elsewhere, such as a load generator's start, so that starting the run a moment later does
   * not shift every step. A step that throws is recorded (see {@link Run#await(Duration)}) and the
   * others still run.
   *
   * <pre>{@code
   * long zero = System.nanoTime(); // the instant results are labelled from
   * // ... other work ...
   * try (Timeline.Run run = drill.start(zones, zero)) { ... }
   * }</pre>
   *
   * @param zones the fake zones the steps act on; normally running
   * @param originNanos the run's zero, a {@link System#nanoTime()} value (in the past, now or in
   *     the future); {@link Run#elapsed()} counts from it
   * @return the run, to ask for its phase, wait for it or stop it
   */
  public Run start(FakeZones zones, long originNanos) {
    Objects.requireNonNull(zones, "zones");
    return new Run(this, zones, originNanos);
  }

  @Override
  public String toString() {
    return "Timeline[" + steps.size() + " steps, " + length() + "]";
  }

  /** A running timeline; {@link #close()} stops it. Thread-safe. */
  public static final class Run implements AutoCloseable {

    private final ScheduledThreadPoolExecutor executor;
    private final DaemonThreads threads = new DaemonThreads("failover-testkit-timeline");
    private final long startNanos;
    private final List<String> activePhases = new ArrayList<>();
    private final AtomicReference<@Nullable RuntimeException> failure = new AtomicReference<>();

    private Run(Timeline timeline, FakeZones zones, long originNanos) {
      this.executor = new ScheduledThreadPoolExecutor(1, threads);
      this.executor.setRemoveOnCancelPolicy(true);
      this.startNanos = originNanos;
      // Steps at the same offset run as one task, in a fixed order: the ends of phases first,
      // then the rest as declared, so that a phase's end never undoes the next phase's start.
      java.util.TreeMap<Long, List<Step>> byOffset = new java.util.TreeMap<>();
      for (Step step : timeline.steps) {
        byOffset.computeIfAbsent(step.offset().toNanos(), k -> new ArrayList<>()).add(step);
      }
      // One reading of the clock for every delay: each group's trigger is then its offset plus the
      // time spent scheduling the groups before it, which only grows, so the executor runs them in
      // offset order. (A reading per group could put a later group first, by a preemption between
      // the reading and the executor's own.)
      long now = System.nanoTime();
      for (java.util.Map.Entry<Long, List<Step>> group : byOffset.entrySet()) {
        List<Step> ordered = new ArrayList<>();
        for (Step step : group.getValue()) {
          if (step.endsPhase() != null && step.startsPhase() == null) {
            ordered.add(step);
          }
        }
        for (Step step : group.getValue()) {
          if (!(step.endsPhase() != null && step.startsPhase() == null)) {
            ordered.add(step);
          }
        }
        // Steps already due get no delay: scheduled in offset order, they run so, at once.
        long delay = startNanos + group.getKey() - now;
        Future<?> unused =
            executor.schedule(
                () -> ordered.forEach(step -> run(step, zones)),
                Math.max(0, delay),
                TimeUnit.NANOSECONDS);
      }
      executor.shutdown(); // runs the delayed steps, then the thread ends
    }

    private void run(Step step, FakeZones zones) {
      String starts = step.startsPhase();
      String ends = step.endsPhase();
      try {
        step.action().accept(zones);
      } catch (RuntimeException e) {
        failure.compareAndSet(
            null,
            new IllegalStateException(
                "timeline step at " + step.offset() + " (" + step.label() + ") failed", e));
      } finally {
        synchronized (activePhases) {
          if (ends != null) {
            activePhases.remove(ends);
          }
          if (starts != null) {
            activePhases.add(starts);
          }
        }
      }
    }

    /**
     * Returns the phase in progress: the latest one whose start step has run and whose end has not.
     *
     * @return the phase's name, or empty before the first phase, between phases and after the last
     */
    public Optional<String> currentPhase() {
      synchronized (activePhases) {
        return activePhases.isEmpty()
            ? Optional.empty()
            : Optional.of(activePhases.get(activePhases.size() - 1));
      }
    }

    /**
     * Returns the time since the run's origin: since it started, or since the origin given to
     * {@link Timeline#start(FakeZones, long)} (negative while that is still to come).
     *
     * @return the elapsed time
     */
    public Duration elapsed() {
      return Duration.ofNanos(System.nanoTime() - startNanos);
    }

    /**
     * Returns whether every step has run, or the run was stopped.
     *
     * @return true once the run's last step is done; its thread ends a moment later ({@link
     *     #await(Duration)} and {@link #close()} wait for that too)
     */
    public boolean isDone() {
      return executor.isTerminated();
    }

    /**
     * Waits until every step has run and the run's thread has terminated, at most {@code timeout}.
     *
     * @param timeout how long to wait at most
     * @return true if the run ended, false if the timeout passed first
     * @throws InterruptedException if interrupted while waiting
     * @throws IllegalStateException if a step threw, with that exception as the cause
     */
    public boolean await(Duration timeout) throws InterruptedException {
      long deadline = System.nanoTime() + timeout.toNanos();
      boolean done =
          executor.awaitTermination(timeout.toNanos(), TimeUnit.NANOSECONDS)
              && threads.joinAll(deadline).isEmpty();
      RuntimeException failed = failure.get();
      if (failed != null) {
        throw failed;
      }
      return done;
    }

    /**
     * Stops the run: steps not yet run are dropped, faults already injected stay. Returns once the
     * run's thread has terminated, waiting up to 5 seconds for a step in progress to finish.
     *
     * @throws IllegalStateException if the run's thread is still alive after 5 seconds
     */
    @Override
    public void close() {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      executor.shutdownNow();
      List<String> alive = threads.joinAll(deadline);
      if (!alive.isEmpty()) {
        throw new IllegalStateException("timeline thread did not stop within 5 s: " + alive);
      }
    }
  }

  /** Collects the steps of a {@link Timeline}; every method checks its arguments at once. */
  public static final class Builder {

    private final List<Step> steps = new ArrayList<>();
    private final List<PhaseSpan> phases = new ArrayList<>();

    private Builder() {}

    /**
     * Runs {@code action} at {@code offset} from the start.
     *
     * @param offset from 0 to 1 day
     * @param action what to do, such as {@code z -> z.zone("us-east-1a").fail(ZoneFault.hang())}
     * @return this builder
     * @throws IllegalArgumentException if {@code offset} is out of range
     */
    public Builder at(Duration offset, Consumer<FakeZones> action) {
      checkOffset("offset", offset);
      Objects.requireNonNull(action, "action");
      steps.add(new Step(offset, "at " + offset, action, null, null));
      return this;
    }

    /**
     * Declares a phase named {@code name} from {@code start} for {@code length}, running {@code
     * action} when it starts.
     *
     * @param name the phase's name, such as {@code "zone outage"}
     * @param start the phase's start offset, from 0 to 1 day
     * @param length how long the phase lasts, greater than 0
     * @param action what to do when it starts
     * @return this builder
     * @throws IllegalArgumentException if the name is blank or a duration is out of range
     */
    public Builder phase(String name, Duration start, Duration length, Consumer<FakeZones> action) {
      return phase(name, start, length, action, zones -> {});
    }

    /**
     * Declares a phase named {@code name} from {@code start} for {@code length}, running {@code
     * onStart} when it starts and {@code onEnd} when it ends (for example, to heal).
     *
     * @param name the phase's name, such as {@code "zone outage"}
     * @param start the phase's start offset, from 0 to 1 day
     * @param length how long the phase lasts, greater than 0
     * @param onStart what to do when it starts
     * @param onEnd what to do when it ends
     * @return this builder
     * @throws IllegalArgumentException if the name is blank or a duration is out of range
     */
    public Builder phase(
        String name,
        Duration start,
        Duration length,
        Consumer<FakeZones> onStart,
        Consumer<FakeZones> onEnd) {
      Objects.requireNonNull(name, "name");
      if (name.isBlank()) {
        throw new IllegalArgumentException("phase name must not be blank but was '" + name + "'");
      }
      checkOffset("phase start", start);
      Objects.requireNonNull(length, "length");
      if (length.isNegative() || length.isZero()) {
        throw new IllegalArgumentException("phase length must be > 0 but was " + length);
      }
      Duration end = start.plus(length);
      checkOffset("phase end", end);
      Objects.requireNonNull(onStart, "onStart");
      Objects.requireNonNull(onEnd, "onEnd");
      steps.add(new Step(start, "start of " + name, onStart, name, null));
      steps.add(new Step(end, "end of " + name, onEnd, null, name));
      phases.add(new PhaseSpan(name, start, end));
      return this;
    }

    /**
     * Builds the timeline.
     *
     * @return the timeline
     * @throws IllegalStateException if no step was added
     */
    public Timeline build() {
      if (steps.isEmpty()) {
        throw new IllegalStateException("a timeline needs at least one step, add at() or phase()");
      }
      return new Timeline(this);
    }

    private static void checkOffset(String name, Duration offset) {
      Objects.requireNonNull(offset, name);
      if (offset.isNegative() || offset.compareTo(MAX_OFFSET) > 0) {
        throw new IllegalArgumentException(name + " must be in [0, PT24H] but was " + offset);
      }
    }
  }

  private record Step(
      Duration offset,
      String label,
      Consumer<FakeZones> action,
      @Nullable String startsPhase,
      @Nullable String endsPhase) {}

  private record PhaseSpan(String name, Duration start, Duration end) {}
}
