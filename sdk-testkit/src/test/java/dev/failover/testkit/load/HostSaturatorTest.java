package dev.failover.testkit.load;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/**
 * Busy threads named after the saturator, ended at the end of the burst or at once on close; the
 * forced pause holds whoever asked and reports what it measured. Nothing here needs an idle
 * machine: only thread life and the order of events are checked, never a duration.
 */
class HostSaturatorTest {
  static List<Thread> threadsOf(String name) {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.getName().startsWith(name + "-"))
        .filter(Thread::isAlive)
        .toList();
  }

  @Test
  void closeEndsEveryNamedThread() {
    List<String> log = new CopyOnWriteArrayList<>();
    HostSaturator s = new HostSaturator("kit-close", 3);
    s.logTo(log::add);
    s.saturate(Duration.ofMinutes(10));

    assertThat(s.threads()).isEqualTo(3);
    assertThat(threadsOf("kit-close")).hasSize(4);

    s.close();

    assertThat(s.running()).isFalse();
    assertThat(threadsOf("kit-close")).isEmpty();
    assertThat(log).first().isEqualTo("host saturated: 3 busy threads (one per core) for 600.0 s");
  }

  @Test
  void theForcedPauseIsReportedWithoutAPauser() throws Exception {
    CompletableFuture<HostSaturator.ForcedPause> pause = new CompletableFuture<>();
    List<String> log = new CopyOnWriteArrayList<>();
    try (HostSaturator s = new HostSaturator("kit-pause", 1)) {
      s.logTo(log::add);
      s.onPause(pause::complete);
      s.saturate(Duration.ofSeconds(2));

      HostSaturator.ForcedPause p = pause.get(60, TimeUnit.SECONDS);

      // All of them, unless allocating them took longer than a third of the remaining second.
      assertThat(p.objects()).isPositive().isLessThanOrEqualTo(HostSaturator.ALLOCATED_OBJECTS);
      assertThat(p.describe())
          .startsWith(
              p.objects() + " objects (" + ((p.objects() * 48L) >> 20) + " MB) allocated in ");
      assertThat(log).contains("forced pause: " + p.describe());
    }
    assertThat(threadsOf("kit-pause")).isEmpty();
  }

  @Test
  void theForcedPauseAllocatesOnlyWhatFitsInAThirdOfTheBurstsRemainingTime() throws Exception {
    CompletableFuture<HostSaturator.ForcedPause> pause = new CompletableFuture<>();
    List<String> log = new CopyOnWriteArrayList<>();
    try (HostSaturator s = new HostSaturator("kit-short-pause", 1)) {
      s.logTo(log::add);
      s.onPause(pause::complete);
      // The pause at 15 ms may allocate for 5 ms: far too little for a million objects (48 MB
      // in 5 ms would take some 10 GB/s), so the collection that follows has less to keep alive.
      s.saturate(Duration.ofMillis(30));

      HostSaturator.ForcedPause p = pause.get(60, TimeUnit.SECONDS);

      assertThat(p.objects()).isPositive().isLessThan(HostSaturator.ALLOCATED_OBJECTS);
      assertThat(p.describe()).startsWith(p.objects() + " objects (");
      assertThat(log).contains("forced pause: " + p.describe());
    }
    assertThat(threadsOf("kit-short-pause")).isEmpty();
  }

  @Test
  void stopInTheMiddleOfTheForcedPausesAllocationEndsItThereWithoutACollection() throws Exception {
    List<String> log = new CopyOnWriteArrayList<>();
    List<HostSaturator.ForcedPause> pauses = new CopyOnWriteArrayList<>();
    CompletableFuture<Void> allocating = new CompletableFuture<>();
    AtomicBoolean heldUntilInterrupted = new AtomicBoolean();
    HostSaturator s = new HostSaturator("kit-stop-alloc", 1);
    s.logTo(log::add);
    s.onPause(pauses::add);
    // Holds the allocation after its first chunk until stop() interrupts the thread (bounded).
    s.onAllocating(
        () -> {
          if (allocating.complete(null)) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!Thread.currentThread().isInterrupted() && System.nanoTime() < deadline) {
              LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
            }
            heldUntilInterrupted.set(Thread.currentThread().isInterrupted());
          }
        });
    // Its pause at 1 s: without a look at stop(), the allocation would go on once held no more,
    // and the collection follow, before stop() could return.
    s.saturate(Duration.ofSeconds(2));
    allocating.get(60, TimeUnit.SECONDS);

    s.stop();

    assertThat(heldUntilInterrupted).as("stop() came while it allocated").isTrue();
    assertThat(threadsOf("kit-stop-alloc")).isEmpty();
    assertThat(pauses).as("no forced pause ran to its end").isEmpty();
    assertThat(log)
        .noneMatch(l -> l.startsWith("forced pause: "))
        .noneMatch(l -> l.startsWith("host saturation over"));
  }

  @Test
  void stopFromItsOwnCallbackEndsTheBurstAndReturns() throws Exception {
    HostSaturator s = new HostSaturator("kit-self-stop", 2);
    CompletableFuture<List<String>> aliveAfterStop = new CompletableFuture<>();
    s.pauseWith(
        pause -> {
          s.stop();
          aliveAfterStop.complete(
              threadsOf("kit-self-stop").stream().map(Thread::getName).toList());
        });
    s.saturate(Duration.ofSeconds(1));

    assertThat(aliveAfterStop.get(30, TimeUnit.SECONDS))
        .as("stop() returned in the callback, its busy threads ended")
        .containsExactly("kit-self-stop-saturator");
    awaitNoThreadOf("kit-self-stop");
    assertThat(s.running()).isFalse();
    s.close();
  }

  @Test
  void stopFromACallbackWhileAnotherThreadStopsDoesNotDeadlock() throws Exception {
    HostSaturator s = new HostSaturator("kit-both-stop", 1);
    AtomicBoolean stopperEntering = new AtomicBoolean();
    CompletableFuture<Thread> stopperThread = new CompletableFuture<>();
    CompletableFuture<Void> callbackStopped = new CompletableFuture<>();
    s.pauseWith(
        pause -> {
          Thread stopper =
              new Thread(
                  () -> {
                    stopperEntering.set(true);
                    s.stop();
                  },
                  "kit-both-stop-test-stopper");
          stopper.setDaemon(true);
          stopperThread.complete(stopper);
          stopper.start();
          // Bounded wait until the other thread, inside stop(), waits for this one's burst.
          long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
          while (!(stopperEntering.get() && stopper.getState() == Thread.State.WAITING)
              && System.nanoTime() < deadline) {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
          }
          s.stop();
          callbackStopped.complete(null);
        });
    s.saturate(Duration.ofSeconds(1));

    callbackStopped.get(30, TimeUnit.SECONDS);
    Thread stopper = stopperThread.get(30, TimeUnit.SECONDS);
    stopper.join(TimeUnit.SECONDS.toMillis(30));
    assertThat(stopper.isAlive()).as("the other thread's stop() returned").isFalse();
    awaitNoThreadOf("kit-both-stop");
    assertThat(s.running()).isFalse();
  }

  @Test
  void saturateFromItsOwnCallbackIsRefused() throws Exception {
    HostSaturator s = new HostSaturator("kit-self-saturate", 1);
    CompletableFuture<RuntimeException> refused = new CompletableFuture<>();
    s.pauseWith(
        pause -> {
          try {
            s.saturate(Duration.ofMinutes(1));
            refused.completeExceptionally(new AssertionError("saturate() from the callback ran"));
          } catch (IllegalStateException e) {
            refused.complete(e);
          }
          s.stop();
        });
    s.saturate(Duration.ofSeconds(1));

    assertThat(refused.get(30, TimeUnit.SECONDS))
        .hasMessage(
            "saturate() was called from the saturator's own thread; call it from another thread");
    awaitNoThreadOf("kit-self-saturate");
    s.close();
  }

  /** Waits, up to 30 s, for every thread named after the saturator to end. */
  private static void awaitNoThreadOf(String name) throws InterruptedException {
    for (Thread t : threadsOf(name)) {
      t.join(TimeUnit.SECONDS.toMillis(30));
    }
    assertThat(threadsOf(name)).isEmpty();
  }

  @Test
  void atLeastOneThread() {
    assertThatThrownBy(() -> new HostSaturator("x", 0))
        .hasMessage("threads must be at least 1 but was 0");
  }
}
