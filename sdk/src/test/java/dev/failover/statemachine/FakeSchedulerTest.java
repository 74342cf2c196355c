package dev.failover.statemachine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.failover.FakeClock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The fake scheduler itself: time order, the test's thread only, cancel and shutdown. */
class FakeSchedulerTest {
  private final FakeClock clock = new FakeClock();
  private final FakeScheduler scheduler = new FakeScheduler(clock);
  private final List<String> log = new CopyOnWriteArrayList<>();

  private Runnable note(String what) {
    long origin = clock.nanos();
    return () ->
        log.add(
            what
                + "@"
                + TimeUnit.NANOSECONDS.toMillis(clock.nanos() - origin)
                + " on "
                + Thread.currentThread().getName());
  }

  private String here() {
    return " on " + Thread.currentThread().getName();
  }

  @Test
  void tasksRunOnlyWhenTheTestAdvancesInTimeOrderOnItsThread() {
    scheduler.schedule(note("c"), 30, TimeUnit.MILLISECONDS);
    scheduler.schedule(note("a"), 10, TimeUnit.MILLISECONDS);
    scheduler.schedule(note("b1"), 20, TimeUnit.MILLISECONDS);
    scheduler.schedule(note("b2"), 20, TimeUnit.MILLISECONDS);
    scheduler.execute(note("now"));
    assertThat(log).isEmpty();

    scheduler.runDue();
    assertThat(log).containsExactly("now@0" + here());

    scheduler.advance(Duration.ofMillis(25));
    assertThat(log)
        .containsExactly("now@0" + here(), "a@10" + here(), "b1@20" + here(), "b2@20" + here());
    assertThat(clock.nanos()).isEqualTo(scheduler.now());
    scheduler.advance(Duration.ofMillis(5));
    assertThat(log).hasSize(5).last().isEqualTo("c@30" + here());
  }

  @Test
  void aTaskScheduledByATaskRunsInTheSameAdvanceIfDue() {
    scheduler.schedule(
        () -> {
          log.add("outer");
          scheduler.schedule(() -> log.add("inner"), 5, TimeUnit.MILLISECONDS);
        },
        5,
        TimeUnit.MILLISECONDS);
    scheduler.advance(Duration.ofMillis(10));
    assertThat(log).containsExactly("outer", "inner");
  }

  @Test
  void cancelIsHonoured() {
    ScheduledFuture<?> f = scheduler.schedule(note("x"), 10, TimeUnit.MILLISECONDS);
    assertThat(f.cancel(false)).isTrue();
    assertThat(scheduler.pending()).isEmpty();
    scheduler.advance(Duration.ofSeconds(1));
    assertThat(log).isEmpty();
    assertThat(f.isCancelled()).isTrue();
  }

  @Test
  void aLateCancelReturnsTrueButTheTaskRuns() {
    scheduler.cancelsArriveLate(true);
    ScheduledFuture<?> f = scheduler.schedule(note("x"), 10, TimeUnit.MILLISECONDS);
    assertThat(f.cancel(false)).isTrue();
    scheduler.advance(Duration.ofMillis(10));
    assertThat(log).containsExactly("x@10" + here());
  }

  @Test
  void periodicTasksRepeatUntilCancelled() {
    ScheduledFuture<?> delay =
        scheduler.scheduleWithFixedDelay(note("d"), 10, 20, TimeUnit.MILLISECONDS);
    ScheduledFuture<?> rate =
        scheduler.scheduleAtFixedRate(note("r"), 0, 25, TimeUnit.MILLISECONDS);
    scheduler.advance(Duration.ofMillis(50));
    assertThat(log)
        .containsExactly(
            "r@0" + here(),
            "d@10" + here(),
            "r@25" + here(),
            "d@30" + here(),
            "d@50" + here(),
            "r@50" + here());
    delay.cancel(false);
    rate.cancel(false);
    scheduler.advance(Duration.ofSeconds(1));
    assertThat(log).hasSize(6);
    assertThat(scheduler.pending()).isEmpty();
  }

  @Test
  void shutdownRejectsNewTasksDropsPeriodicOnesAndRunsDelayedOnes() {
    scheduler.scheduleWithFixedDelay(note("tick"), 10, 10, TimeUnit.MILLISECONDS);
    scheduler.schedule(note("once"), 30, TimeUnit.MILLISECONDS);
    scheduler.shutdown();
    assertThat(scheduler.isShutdown()).isTrue();
    assertThat(scheduler.isTerminated()).isFalse();
    assertThatThrownBy(() -> scheduler.schedule(note("late"), 1, TimeUnit.MILLISECONDS))
        .isInstanceOf(RejectedExecutionException.class);
    assertThatThrownBy(() -> scheduler.execute(note("late")))
        .isInstanceOf(RejectedExecutionException.class);
    scheduler.advance(Duration.ofMillis(100));
    assertThat(log).containsExactly("once@30" + here());
    assertThat(scheduler.isTerminated()).isTrue();
    assertThat(scheduler.awaitTermination(1, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void shutdownNowDropsEverythingAndReturnsIt() {
    scheduler.scheduleWithFixedDelay(note("tick"), 10, 10, TimeUnit.MILLISECONDS);
    ScheduledFuture<?> once = scheduler.schedule(note("once"), 30, TimeUnit.MILLISECONDS);
    assertThat(scheduler.shutdownNow()).hasSize(2);
    assertThat(once.isCancelled()).isTrue();
    scheduler.advance(Duration.ofMillis(100));
    assertThat(log).isEmpty();
    assertThat(scheduler.isTerminated()).isTrue();
  }

  @Test
  void exceptionsOfTasksAreKeptForTheTest() {
    scheduler.schedule(
        () -> {
          throw new IllegalStateException("boom");
        },
        1,
        TimeUnit.MILLISECONDS);
    scheduler.advance(Duration.ofMillis(1));
    assertThat(scheduler.failures()).hasSize(1);
    assertThat(scheduler.failures().get(0))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("boom");
  }

  @Test
  void aTestCanWaitForAnotherThreadToSchedule() throws Exception {
    long due = clock.nanos() + TimeUnit.MILLISECONDS.toNanos(7);
    CompletableFuture<Void> other =
        CompletableFuture.runAsync(() -> scheduler.schedule(note("x"), 7, TimeUnit.MILLISECONDS));
    assertThat(scheduler.awaitOneShotAt(due).due()).isEqualTo(due);
    other.get(10, TimeUnit.SECONDS);
    assertThat(log).isEmpty();
    scheduler.advance(Duration.ofMillis(7));
    assertThat(log).containsExactly("x@7" + here());
  }

  @Test
  void timeNeverGoesBack() {
    assertThatThrownBy(() -> scheduler.advance(Duration.ofMillis(-1)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> scheduler.advanceTo(clock.nanos() - 1))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
