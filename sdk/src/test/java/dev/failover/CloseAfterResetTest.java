package dev.failover;

import static dev.failover.SwapTests.clientThreads;
import static org.assertj.core.api.Assertions.assertThat;

import dev.failover.testkit.FakeZones;
import java.io.IOException;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import okhttp3.Interceptor;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@link FailoverClient#close()} after a {@link FailoverClient#reset()} (the Spring test listener
 * resets after every test) while application code still runs on the replaced core's dispatcher: it
 * returns only once the thread closing that core has ended.
 */
class CloseAfterResetTest {

  @RegisterExtension static FakeZones zones = Zones3.zones();

  @BeforeEach
  void stub() {
    Zones3.stub(zones);
  }

  /**
   * An application interceptor blocks a health probe of the old core and ignores interrupts. The
   * thread closing the replaced core waited up to 5 s for its dispatcher to be idle, which close()
   * did not cut short, then up to 5 s and 5 s more in the core's close(): close() gave up after 10
   * s + 1 s and returned while that thread still ran. Now close() ends the idle wait at once and
   * waits for the closer with a bound above what the core's close() takes.
   */
  @Test
  void closeReturnsOnlyOnceTheReplacedCoresCloserHasEnded() throws Exception {
    AtomicBoolean blockOnce = new AtomicBoolean(true);
    CompletableFuture<Thread> blocked = new CompletableFuture<>();
    CountDownLatch release = new CountDownLatch(1);
    Interceptor stubborn =
        chain -> {
          if (chain.request().url().encodedPath().equals("/health")
              && blockOnce.compareAndSet(true, false)) {
            blocked.complete(Thread.currentThread());
            awaitIgnoringInterrupts(release, Duration.ofSeconds(60)); // bounded, should all fail
            throw new IOException("released by the test");
          }
          return chain.proceed(chain.request());
        };
    FailoverClient client =
        Zones3.client(zones)
            .okHttpClient(new OkHttpClient.Builder().addInterceptor(stubborn).build())
            .healthCheck(HealthCheck.http("/health").withInterval(Duration.ofMillis(50)))
            .build();
    try {
      Thread probe = blocked.get(30, TimeUnit.SECONDS);

      client.reset(); // the old core, with no call running, goes to a closer thread at once
      client.close();

      assertThat(retireThreads()).as("closers still running when close() returned").isEmpty();
      release.countDown();
      probe.join(TimeUnit.SECONDS.toMillis(30));
      assertThat(probe.isAlive()).isFalse();
    } finally {
      release.countDown();
      client.close();
    }
    assertClientThreadsEnd();
  }

  /**
   * Application code on a replaced core's dispatcher (an interceptor of that core's health probe)
   * closes the client. close() waited for the thread closing that core, which waited 5 s for that
   * core's dispatcher, the very thread in close(), and then interrupted it. It now returns without
   * waiting for itself, uninterrupted, and the closer ends once the probe does.
   */
  @Test
  void closeFromApplicationCodeOnAReplacedCoresThreadIsNotWaitedForNorInterrupted()
      throws Exception {
    AtomicBoolean once = new AtomicBoolean(true);
    CountDownLatch probing = new CountDownLatch(1);
    CountDownLatch replaced = new CountDownLatch(1);
    CompletableFuture<Boolean> interruptedInClose = new CompletableFuture<>();
    CompletableFuture<FailoverClient> built = new CompletableFuture<>();
    Interceptor closing =
        chain -> {
          if (chain.request().url().encodedPath().equals("/health")
              && once.compareAndSet(true, false)) {
            probing.countDown();
            awaitIgnoringInterrupts(replaced, Duration.ofSeconds(60)); // bounded
            try {
              built.get(30, TimeUnit.SECONDS).close();
              interruptedInClose.complete(Thread.currentThread().isInterrupted());
            } catch (Exception | Error e) {
              interruptedInClose.completeExceptionally(e);
            }
            throw new IOException("the client is closed");
          }
          return chain.proceed(chain.request());
        };
    FailoverClient client =
        Zones3.client(zones)
            .okHttpClient(new OkHttpClient.Builder().addInterceptor(closing).build())
            .healthCheck(HealthCheck.http("/health").withInterval(Duration.ofMillis(50)))
            .build();
    try {
      built.complete(client);
      assertThat(probing.await(30, TimeUnit.SECONDS)).isTrue();
      client.reset(); // the probe now runs on a replaced core
      replaced.countDown();
      assertThat(interruptedInClose.get(60, TimeUnit.SECONDS))
          .as("interrupted while closing the client from the replaced core's thread")
          .isFalse();
    } finally {
      replaced.countDown();
      client.close();
    }
    assertClientThreadsEnd();
  }

  /** Threads that close() ended may still be on their way out: each is joined, bounded. */
  private static void assertClientThreadsEnd() throws InterruptedException {
    long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    for (Thread t : clientThreads()) {
      t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(until - System.nanoTime())));
    }
    assertThat(clientThreads()).isEmpty();
  }

  private static Set<Thread> retireThreads() {
    return clientThreads().stream()
        .filter(t -> t.getName().equals("failover-directory-retire"))
        .collect(Collectors.toSet());
  }

  /** Application code that does not stop when interrupted: waits for the latch, bounded. */
  private static void awaitIgnoringInterrupts(CountDownLatch latch, Duration atMost) {
    long until = System.nanoTime() + atMost.toNanos();
    boolean interrupted = false;
    while (latch.getCount() > 0 && System.nanoTime() < until) {
      try {
        boolean unused = latch.await(until - System.nanoTime(), TimeUnit.NANOSECONDS);
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }
}
