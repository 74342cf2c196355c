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
    CountDownLatch release = new CountDownLatch(1);
    Thread callback = callbackHeldUntil(client, release);

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
    awaitWaitingOrEnded(second);
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

  /**
   * A thread that delivers one client's endpoint list (a listener of it) is excused from waiting
   * only for that client's close(): one that closes another client, whose close() another thread
   * runs, waits for it as any thread does. It returned at once, with that client's callback still
   * running, because the marker of a delivering thread was shared by every client.
   */
  @Test
  void aListenerOfOneClientsSourceThatClosesAnotherClientWaitsForItsFirstClose() throws Exception {
    FailoverClient other = Zones3.client(zones).build();
    CountDownLatch release = new CountDownLatch(1);
    Thread callback = callbackHeldUntil(other, release);
    Thread first = new Thread(other::close, "first-closer");
    first.start();
    awaitClosed(other);

    EndpointSource.Push registry = new EndpointSource.Push("registry");
    java.util.List<Endpoint> all = Zones3.endpoints(zones);
    registry.update(all);
    AtomicReference<Boolean> callbackAliveAtReturn = new AtomicReference<>();
    CountDownLatch listenerCloses = new CountDownLatch(1);
    try (FailoverClient listening =
        FailoverClient.builder()
            .service("directory")
            .home("us-east-1", "us-east-1a")
            .endpointSource(registry)
            .discovery(DiscoveryPolicy.defaults().withMaxRemovalPercent(100))
            .listener(
                new FailoverListener() {
                  @Override
                  public void onEndpointsChanged(FailoverEvent.EndpointsChanged event) {
                    listenerCloses.countDown();
                    other.close();
                    callbackAliveAtReturn.set(callback.isAlive());
                  }
                })
            .build()) {
      Thread pusher = new Thread(() -> registry.update(all.subList(0, 4)), "pusher");
      pusher.start();
      // Released once the listener's close() waits (or has returned, as it did before): the
      // pusher waiting after the listener began its close(), not for something else.
      assertThat(listenerCloses.await(10, TimeUnit.SECONDS)).isTrue();
      awaitWaitingOrEnded(pusher);
      release.countDown();
      first.join(30_000);
      pusher.join(30_000);
      assertThat(pusher.isAlive()).isFalse();
      assertThat(listening.snapshot().zones()).hasSize(2);
    }
    assertThat(callbackAliveAtReturn.get())
        .as("the other client's callback thread, when the listener's close() of it returned")
        .isFalse();
  }

  /**
   * Enqueues a call whose callback holds its dispatcher thread until {@code release}; returns that
   * thread once the callback runs.
   */
  private static Thread callbackHeldUntil(FailoverClient client, CountDownLatch release)
      throws Exception {
    CompletableFuture<Thread> inCallback = new CompletableFuture<>();
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
    return inCallback.get(10, TimeUnit.SECONDS);
  }

  /** Waits, polling, until {@code t} waits or has ended (at most 10 s). */
  private static void awaitWaitingOrEnded(Thread t) throws InterruptedException {
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (t.getState() != Thread.State.WAITING
        && t.getState() != Thread.State.TIMED_WAITING
        && t.isAlive()
        && System.nanoTime() < until) {
      Thread.sleep(1); // polling, not waiting for time to pass
    }
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
