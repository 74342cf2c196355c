package dev.failover;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The attempts' timeouts: real time on their own thread, so every wait here is bounded by seconds
 * while the timeouts are milliseconds; nothing asserts how late a timeout fires.
 */
class TimeoutsTest {
  private static final long WAIT_SECONDS = 20;

  private final ThreadFactory threads = r -> new Thread(r, "test-timeouts");
  private final ExecutorService actions =
      Executors.newSingleThreadExecutor(r -> new Thread(r, "test-actions"));
  private final List<Timeouts> made = new ArrayList<>();

  @AfterEach
  void tearDown() throws InterruptedException {
    for (Timeouts t : made) {
      t.close();
      t.thread().join(TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
    }
    actions.shutdownNow();
  }

  private Timeouts timeouts() {
    Timeouts t = new Timeouts(threads, actions);
    made.add(t);
    return t;
  }

  /** A target that counts how often, and remembers on which thread, it was told. */
  private static final class Target implements Timeouts.Target {
    final AtomicInteger told = new AtomicInteger();
    final AtomicReference<String> thread = new AtomicReference<>();
    final CountDownLatch latch = new CountDownLatch(1);

    @Override
    public void timedOut() {
      thread.set(Thread.currentThread().getName());
      told.incrementAndGet();
      latch.countDown();
    }

    boolean await() throws InterruptedException {
      return latch.await(WAIT_SECONDS, TimeUnit.SECONDS);
    }
  }

  @Test
  void anExpiredTimeoutTellsItsTargetOnceOnTheActionsExecutor() throws Exception {
    Timeouts timeouts = timeouts();
    Target target = new Target();

    timeouts.arm(TimeUnit.MILLISECONDS.toNanos(5), target);

    assertThat(target.await()).isTrue();
    // Never on the timeouts' own thread: the target cancels OkHttp calls, which runs user code.
    assertThat(target.thread.get()).isEqualTo("test-actions");
    // Another timeout after it fires too, and the first is not told again.
    Target later = new Target();
    timeouts.arm(TimeUnit.MILLISECONDS.toNanos(5), later);
    assertThat(later.await()).isTrue();
    assertThat(target.told.get()).isEqualTo(1);
  }

  @Test
  void aDisarmedTimeoutNeverFires() throws Exception {
    Timeouts timeouts = timeouts();
    Target disarmed = new Target();
    Target armed = new Target();

    // Far enough apart that no pause of this thread lets the first expire before it is disarmed.
    timeouts.arm(TimeUnit.MILLISECONDS.toNanos(500), disarmed).disarm();
    timeouts.arm(TimeUnit.MILLISECONDS.toNanos(1_000), armed);

    assertThat(armed.await()).isTrue();
    // The disarmed one was due first: had it fired, it would have been told before the other.
    actions.submit(() -> {}).get(WAIT_SECONDS, TimeUnit.SECONDS);
    assertThat(disarmed.told.get()).isZero();
  }

  /**
   * {@code armAt} takes a time on {@code System.nanoTime()}'s scale (an attempt armed from its
   * start): a time already past fires at once, one 20 ms away fires then, one an hour away does not
   * fire before them.
   */
  @Test
  void aTimeoutArmedAtAnAbsoluteTimeFiresWhenThatTimeComes() throws Exception {
    Timeouts timeouts = timeouts();
    Target later = new Target();
    Target past = new Target();
    Target soon = new Target();

    timeouts.armAt(System.nanoTime() + TimeUnit.HOURS.toNanos(1), later);
    timeouts.armAt(System.nanoTime() - TimeUnit.SECONDS.toNanos(1), past);
    // Read as a delay rather than a time, this would be centuries away.
    timeouts.armAt(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(20), soon);

    assertThat(past.await()).isTrue();
    assertThat(soon.await()).isTrue();
    actions.submit(() -> {}).get(WAIT_SECONDS, TimeUnit.SECONDS);
    assertThat(later.told.get()).isZero();
    assertThat(past.told.get()).isEqualTo(1);
  }

  @Test
  void aTimeoutArmedWhileTheThreadIsIdleWakesIt() throws Exception {
    Timeouts timeouts = timeouts();
    Target first = new Target();
    timeouts.arm(1, first);
    assertThat(first.await()).isTrue();
    // Nothing is armed now: the thread parks until the next timeout is armed.
    awaitParked(timeouts.thread());

    Target second = new Target();
    timeouts.arm(TimeUnit.MILLISECONDS.toNanos(1), second);

    assertThat(second.await()).isTrue();
  }

  @Test
  void timeoutsArmedFromManyThreadsExpireOnlyIfNotDisarmed() throws Exception {
    Timeouts timeouts = timeouts();
    int threadsCount = 4;
    int perThread = 5_000;
    List<Target> kept = new ArrayList<>();
    List<Thread> armers = new ArrayList<>();
    List<List<Target>> keptPerThread = new ArrayList<>();
    AtomicInteger disarmedTold = new AtomicInteger();
    for (int t = 0; t < threadsCount; t++) {
      List<Target> mine = new ArrayList<>();
      keptPerThread.add(mine);
      Thread armer =
          new Thread(
              () -> {
                for (int i = 0; i < perThread; i++) {
                  Timeouts.Target counting = disarmedTold::incrementAndGet;
                  // Most are disarmed at once, as attempts that answer are (due in an hour, so
                  // that a pause of this thread cannot let one expire first); one in 500 is kept.
                  if (i % 500 == 0) {
                    Target target = new Target();
                    mine.add(target);
                    timeouts.arm(TimeUnit.MILLISECONDS.toNanos(1 + i % 7), target);
                  } else {
                    timeouts.arm(TimeUnit.HOURS.toNanos(1), counting).disarm();
                  }
                }
              });
      armers.add(armer);
      armer.start();
    }
    for (Thread armer : armers) {
      armer.join(TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
      assertThat(armer.isAlive()).isFalse();
    }
    keptPerThread.forEach(kept::addAll);

    assertThat(kept).hasSize(threadsCount * perThread / 500);
    for (Target target : kept) {
      assertThat(target.await()).isTrue();
    }
    actions.submit(() -> {}).get(WAIT_SECONDS, TimeUnit.SECONDS);
    assertThat(kept).allSatisfy(t -> assertThat(t.told.get()).isEqualTo(1));
    assertThat(disarmedTold.get()).isZero();
  }

  /** Starts a thread waiting in {@code awaitDrained}; the latch opens when it returns. */
  private static CountDownLatch awaitDrainedOn(Timeouts timeouts, AtomicReference<Boolean> result) {
    CountDownLatch drained = new CountDownLatch(1);
    Thread waiter =
        new Thread(
            () -> {
              try {
                result.set(timeouts.awaitDrained());
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
              drained.countDown();
            });
    waiter.start();
    return drained;
  }

  @Test
  void awaitDrainedReturnsOnceEveryArmedTimeoutIsDisarmedOrExpired() throws Exception {
    Timeouts timeouts = timeouts();
    Target expires = new Target();
    Timeouts.Timeout expiring = timeouts.arm(TimeUnit.MILLISECONDS.toNanos(50), expires);
    Timeouts.Timeout held = timeouts.arm(TimeUnit.HOURS.toNanos(1), new Target());
    AtomicReference<Boolean> result = new AtomicReference<>();
    CountDownLatch drained = awaitDrainedOn(timeouts, result);
    assertThat(expires.await()).isTrue();
    // One is still armed (an hour): the wait goes on after the other expired.
    assertThat(drained.await(200, TimeUnit.MILLISECONDS)).isFalse();
    assertThat(expiring.armed()).isFalse();
    held.disarm();
    assertThat(drained.await(WAIT_SECONDS, TimeUnit.SECONDS)).isTrue();
    assertThat(result.get()).isTrue();
  }

  @Test
  void closeEndsAnAwaitDrainedWithTimeoutsStillArmed() throws Exception {
    Timeouts timeouts = timeouts();
    Target never = new Target();
    timeouts.arm(TimeUnit.HOURS.toNanos(1), never);
    AtomicReference<Boolean> result = new AtomicReference<>();
    CountDownLatch drained = awaitDrainedOn(timeouts, result);
    timeouts.close();
    assertThat(drained.await(WAIT_SECONDS, TimeUnit.SECONDS)).isTrue();
    assertThat(result.get()).isFalse();
    assertThat(never.told.get()).isZero();
  }

  @Test
  void closeEndsTheThreadAndLeavesArmedTimeoutsUntold() throws Exception {
    Timeouts timeouts = timeouts();
    Target target = new Target();
    timeouts.arm(TimeUnit.HOURS.toNanos(1), target);

    timeouts.close();

    timeouts.thread().join(TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
    assertThat(timeouts.thread().isAlive()).isFalse();
    assertThat(target.told.get()).isZero();
  }

  /** After close, the armed timeouts' targets are handed out once; disarmed ones are not. */
  @Test
  void takeArmedAfterCloseHandsOutTheTargetsStillArmedOnce() throws Exception {
    Timeouts timeouts = timeouts();
    Target armed = new Target();
    Target disarmed = new Target();
    timeouts.arm(TimeUnit.HOURS.toNanos(1), armed);
    timeouts.arm(TimeUnit.HOURS.toNanos(1), disarmed).disarm();

    timeouts.close();

    assertThat(timeouts.takeArmed()).containsExactly(armed);
    assertThat(timeouts.takeArmed()).isEmpty();
    assertThat(armed.told.get()).isZero();
  }

  @Test
  void whenTheActionsExecutorRejectsTheTargetIsToldOnTheTimeoutsThread() throws Exception {
    Timeouts timeouts =
        new Timeouts(
            threads,
            r -> {
              throw new RejectedExecutionException("closing");
            });
    made.add(timeouts);
    Target target = new Target();

    timeouts.arm(1, target);

    // The client is closing: told here rather than never.
    assertThat(target.await()).isTrue();
    assertThat(target.thread.get()).isEqualTo("test-timeouts");
  }

  @Test
  void whenTheActionsExecutorFailsWithAnErrorTheTargetIsToldAndLaterTimeoutsStillFire()
      throws Exception {
    AtomicInteger handed = new AtomicInteger();
    Timeouts timeouts =
        new Timeouts(
            threads,
            r -> {
              if (handed.getAndIncrement() == 0) {
                throw new OutOfMemoryError("unable to create native thread");
              }
              actions.execute(r);
            });
    made.add(timeouts);
    Target first = new Target();
    timeouts.arm(1, first);
    // Before, the Error ended the timeouts' thread: no timeout of the client fired again.
    assertThat(first.await()).isTrue();
    assertThat(first.thread.get()).isEqualTo("test-timeouts");
    Target later = new Target();
    timeouts.arm(1, later);
    assertThat(later.await()).isTrue();
    assertThat(later.thread.get()).isEqualTo("test-actions");
  }

  /** Waits (bounded) until {@code t} parks with nothing to do. */
  private static void awaitParked(Thread t) throws InterruptedException {
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
    while (t.getState() != Thread.State.WAITING) {
      assertThat(System.nanoTime() - until).as("the timeouts' thread never parked").isNegative();
      Thread.yield();
    }
  }
}
