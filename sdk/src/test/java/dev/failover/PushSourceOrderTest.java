package dev.failover;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * {@link EndpointSource.Push} hands lists over one at a time, in the order they were pushed: a list
 * pushed by another thread while one is being handed over never overtakes it (the client numbers
 * lists as they reach it, so an overtaking list would be taken for the newer one).
 */
class PushSourceOrderTest {
  private static final Endpoint A = Endpoint.of("http://127.0.0.1:1", "r", "r-a");
  private static final Endpoint B = Endpoint.of("http://127.0.0.1:2", "r", "r-a");
  private static final Endpoint C = Endpoint.of("http://127.0.0.1:3", "r", "r-a");

  /** Records what it is handed; holds the first list until released. */
  private static final class HoldingUpdates implements EndpointSource.Updates {
    final List<Object> seen = new CopyOnWriteArrayList<>();
    final AtomicInteger inside = new AtomicInteger();
    final AtomicInteger overlaps = new AtomicInteger();
    final CountDownLatch holding = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);

    @Override
    public void endpoints(List<Endpoint> endpoints) {
      enter();
      try {
        seen.add(endpoints);
        if (seen.size() == 1) {
          holding.countDown();
          await(release);
        }
      } finally {
        inside.decrementAndGet();
      }
    }

    @Override
    public void failed(Throwable cause) {
      enter();
      seen.add(cause.getMessage());
      inside.decrementAndGet();
    }

    private void enter() {
      if (inside.incrementAndGet() > 1) {
        overlaps.incrementAndGet();
      }
    }
  }

  private static void await(CountDownLatch latch) {
    try {
      assertThat(latch.await(20, TimeUnit.SECONDS)).isTrue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  @Test
  void aListPushedWhileAnotherIsHandedOverComesAfterIt() throws Exception {
    EndpointSource.Push push = new EndpointSource.Push("registry");
    push.update(List.of(A)); // before the start: handed over by start()
    HoldingUpdates updates = new HoldingUpdates();
    Thread starter = new Thread(() -> push.start(updates), "starter");
    starter.start();
    await(updates.holding);
    // While the first list is being handed over, another thread pushes a failure and two lists.
    Thread other =
        new Thread(
            () -> {
              push.fail(new IOException("registry down"));
              push.update(List.of(A, B));
              push.update(List.of(A, B, C));
            },
            "registry-callback");
    other.start();
    other.join(20_000);
    assertThat(other.isAlive()).as("pushes return while a list is handed over").isFalse();
    assertThat(updates.seen).hasSize(1);
    updates.release.countDown();
    starter.join(20_000);
    assertThat(starter.isAlive()).isFalse();
    assertThat(updates.seen)
        .containsExactly(List.of(A), "registry down", List.of(A, B), List.of(A, B, C));
    assertThat(updates.overlaps.get()).as("reports handed over at the same time").isZero();
    push.close();
    push.update(List.of(C));
    assertThat(updates.seen).hasSize(4);
  }

  @Test
  void aReportTheClientThrowsOnDoesNotHoldBackTheOnesQueuedBehindIt() throws Exception {
    EndpointSource.Push push = new EndpointSource.Push("registry");
    List<Object> seen = new CopyOnWriteArrayList<>();
    CountDownLatch holding = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    push.start(
        new EndpointSource.Updates() {
          @Override
          public void endpoints(List<Endpoint> endpoints) {
            seen.add(endpoints);
            if (seen.size() == 1) {
              holding.countDown();
              await(release);
              throw new IllegalStateException("client boom");
            }
          }

          @Override
          public void failed(Throwable cause) {
            seen.add(cause.getMessage());
          }
        });
    Thread first = new Thread(() -> catchAll(() -> push.update(List.of(A))), "first");
    first.start();
    await(holding);
    push.update(List.of(A, B)); // queued behind the first, which will throw
    release.countDown();
    first.join(20_000);
    assertThat(first.isAlive()).isFalse();
    assertThat(seen).containsExactly(List.of(A), List.of(A, B));
  }

  private static void catchAll(Runnable r) {
    try {
      r.run();
    } catch (RuntimeException e) {
      // what the old code let through
    }
  }
}
