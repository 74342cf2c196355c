package dev.failover;

import static org.assertj.core.api.Assertions.assertThat;

import dev.failover.testkit.FakeZones;
import java.io.IOException;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import okhttp3.Call;
import okhttp3.Callback;
import okhttp3.Response;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * close() called while another thread's close() runs returns, as that one does, only once every
 * thread of the client has ended. It returned at once, with a callback still running on a
 * dispatcher thread and the pool not yet evicted.
 */
class ConcurrentCloseTest {

  @RegisterExtension static final FakeZones zones = Zones3.zones();

  @BeforeEach
  void stub() {
    Zones3.stub(zones);
  }

  @Test
  void aSecondCloseReturnsOnlyOnceTheFirstHasEndedEveryThread() throws Exception {
    FailoverClient client = Zones3.client(zones).build();
    CompletableFuture<Thread> inCallback = new CompletableFuture<>();
    CountDownLatch release = new CountDownLatch(1);
    client
        .newCall(Zones3.user(1))
        .enqueue(
            new Callback() {
              @Override
              public void onFailure(Call call, IOException e) {
                inCallback.completeExceptionally(e);
              }

              @Override
              public void onResponse(Call call, Response response) {
                response.close();
                inCallback.complete(Thread.currentThread());
                try {
                  release.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              }
            });
    Thread callback = inCallback.get(10, TimeUnit.SECONDS);

    // The first close() waits for the callback.
    Thread first = new Thread(client::close, "first-closer");
    first.start();
    awaitClosed(client);
    // The second, from another thread, while the callback still runs.
    AtomicReference<Boolean> callbackAliveAtReturn = new AtomicReference<>();
    AtomicReference<Set<Thread>> clientThreadsAtReturn = new AtomicReference<>();
    Thread second =
        new Thread(
            () -> {
              client.close();
              callbackAliveAtReturn.set(callback.isAlive());
              clientThreadsAtReturn.set(SwapTests.clientThreads());
            },
            "second-closer");
    second.start();
    // Released once the second close() waits (or has returned, as it did before).
    long waitUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (second.getState() != Thread.State.WAITING
        && second.getState() != Thread.State.TIMED_WAITING
        && second.isAlive()
        && System.nanoTime() < waitUntil) {
      Thread.sleep(1);
    }
    release.countDown();
    first.join(30_000);
    second.join(30_000);

    assertThat(first.isAlive()).isFalse();
    assertThat(second.isAlive()).isFalse();
    assertThat(callbackAliveAtReturn.get())
        .as("the callback's dispatcher thread, when the second close() returned")
        .isFalse();
    assertThat(clientThreadsAtReturn.get()).isEmpty();
  }

  /** A close() from the client's own thread (a callback) while another runs returns at once. */
  @Test
  void aCloseFromACallbackWhileAnotherRunsReturnsAtOnce() throws Exception {
    FailoverClient client = Zones3.client(zones).build();
    CountDownLatch inCallback = new CountDownLatch(1);
    CountDownLatch firstBegan = new CountDownLatch(1);
    CompletableFuture<Long> closeFromCallbackMillis = new CompletableFuture<>();
    client
        .newCall(Zones3.user(1))
        .enqueue(
            new Callback() {
              @Override
              public void onFailure(Call call, IOException e) {
                closeFromCallbackMillis.completeExceptionally(e);
              }

              @Override
              public void onResponse(Call call, Response response) {
                response.close();
                inCallback.countDown();
                try {
                  firstBegan.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
                long start = System.nanoTime();
                client.close();
                closeFromCallbackMillis.complete(
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
              }
            });
    assertThat(inCallback.await(10, TimeUnit.SECONDS)).isTrue();
    Thread first = new Thread(client::close, "first-closer");
    first.start();
    awaitClosed(client);
    firstBegan.countDown();

    // Not the 5 s the first close() gives a callback before it interrupts it.
    assertThat(closeFromCallbackMillis.get(10, TimeUnit.SECONDS)).isLessThan(4_000);
    first.join(30_000);
    assertThat(first.isAlive()).isFalse();
  }

  /**
   * A callback of a call that close() cancels runs on the thread of that close(), and may call
   * close() itself: it returns at once. It waited 40 s for the close() it was called from.
   */
  @Test
  void aCloseFromACallbackOfACallTheFirstCloseCancelsReturnsAtOnce() throws Exception {
    zones.fail(dev.failover.testkit.ZoneFault.hang());
    FailoverClient client = Zones3.client(zones).build();
    CompletableFuture<Long> nested = new CompletableFuture<>();
    client
        .newCall(Zones3.user(1))
        .enqueue(
            new Callback() {
              @Override
              public void onFailure(Call call, IOException e) {
                long start = System.nanoTime();
                client.close();
                nested.complete(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
              }

              @Override
              public void onResponse(Call call, Response response) {
                response.close();
                nested.completeExceptionally(new AssertionError("answered"));
              }
            });
    // Queued or in flight, close() cancels it and tells its callback on its own thread.
    long start = System.nanoTime();
    client.close();

    assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(10_000);
    assertThat(nested.get(1, TimeUnit.SECONDS)).isLessThan(1_000);
  }

  /** Waits, polling, until a close() has begun (newCall then refuses). */
  private static void awaitClosed(FailoverClient client) throws InterruptedException {
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!closed(client) && System.nanoTime() < until) {
      Thread.sleep(1); // polling, not waiting for time to pass
    }
    assertThat(closed(client)).as("the first close() began").isTrue();
  }

  private static boolean closed(FailoverClient client) {
    try {
      client.newCall(Zones3.user(2));
      return false;
    } catch (IllegalStateException e) {
      return true;
    }
  }
}
