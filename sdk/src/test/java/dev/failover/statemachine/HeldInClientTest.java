package dev.failover.statemachine;

import static dev.failover.statemachine.Harness.A1;
import static dev.failover.statemachine.Harness.B1;
import static dev.failover.statemachine.Harness.HEDGE_DELAY;
import static dev.failover.statemachine.Harness.get;
import static org.assertj.core.api.Assertions.assertThat;

import dev.failover.FailoverEvent;
import dev.failover.FailoverSnapshot;
import dev.failover.HealthCheck;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Requests the client itself holds before they reach the SDK's interceptor (a slot of {@code
 * maxRequests}, the application's interceptors, such as a slow token refresh), on fake time: their
 * wait is the client's, so a hedge does not queue behind it, and a probe's timeout does not count
 * against its endpoint.
 */
class HeldInClientTest {

  /**
   * A hedge of an attempt still queued for a slot of {@code maxRequests} would queue behind it,
   * spending a hedge and a retry token on the client's own delay: the hedge waits until the attempt
   * left the queue, and goes a whole hedge delay after that.
   */
  @Test
  void noHedgeLeavesWhileTheAttemptItHedgesIsQueuedInTheClient() {
    try (Harness h = Harness.hedging(b -> b.maxRequests(1))) {
      Slot slot = takeTheOnlySlot(h);
      String path = "/queued";
      RecordingCallback cb = new RecordingCallback();
      long start = h.scheduler.now();
      h.enqueue(get(path), cb);
      h.scheduler.awaitOneShotAt(start + HEDGE_DELAY.toNanos()); // its hedge timer
      h.scheduler.advance(HEDGE_DELAY);
      // The timer looked again one delay later instead of sending.
      h.scheduler.awaitOneShotAt(start + 2 * HEDGE_DELAY.toNanos());
      assertThat(h.events.of(FailoverEvent.Hedge.class, path)).isEmpty();
      assertThat(h.client.snapshot().counters().hedgesSent()).isZero();
      assertThat(h.transport.untaken()).isZero();

      Duration half = HEDGE_DELAY.dividedBy(2);
      h.scheduler.advance(half);
      slot.free(); // the call's first attempt goes to its endpoint
      FakeTransport.Exchange first = h.transport.next();
      assertThat(first.host()).isEqualTo(A1);
      assertThat(first.path()).isEqualTo(path);
      // The timer looks again half a delay after it left the queue: its endpoint gets a whole
      // delay from then before its hedge.
      h.scheduler.advance(half);
      h.scheduler.awaitOneShotAt(start + 2 * HEDGE_DELAY.toNanos() + half.toNanos());
      assertThat(h.events.of(FailoverEvent.Hedge.class, path)).isEmpty();
      h.scheduler.advance(half);
      FailoverEvent.Hedge sent =
          h.events.await(FailoverEvent.Hedge.class, 1, e -> path.equals(e.path()));
      assertThat(sent.action()).isEqualTo(FailoverEvent.HedgeAction.SENT);
      assertThat(sent.endpoint().url().host()).isEqualTo(B1);
      first.respond(200);
      assertThat(cb.awaitStatus()).isEqualTo(200);
      h.events.awaitCallFinished(path);
      assertThat(h.client.snapshot().counters().hedgesSent()).isEqualTo(1);
      h.quiesce();
    }
  }

  /**
   * A long wait in the queue is looked at less and less often (each look waits twice as long, up to
   * a second), so that many queued calls do not keep the scheduler busy. An attempt that left the
   * queue but is still in the application's interceptors at the next look gets a whole delay more.
   */
  @Test
  void aLongQueueIsLookedAtLessOftenAndTheAttemptGetsAWholeDelayAfterIt() {
    try (Harness h = Harness.hedging(b -> b.maxRequests(1))) {
      Slot slot = takeTheOnlySlot(h);
      String path = "/queued-long";
      h.transport.holdInClient(r -> r.url().encodedPath().equals(path));
      RecordingCallback cb = new RecordingCallback();
      long start = h.scheduler.now();
      long d = HEDGE_DELAY.toNanos();
      h.enqueue(get(path), cb);
      h.scheduler.awaitOneShotAt(start + d);
      h.scheduler.advance(HEDGE_DELAY); // first look: queued, again in one delay
      h.scheduler.awaitOneShotAt(start + 2 * d);
      h.scheduler.advance(HEDGE_DELAY); // second look: queued, again in two delays
      h.scheduler.awaitOneShotAt(start + 4 * d);

      slot.free(); // its attempt gets the slot, and is held in an interceptor
      FakeTransport.Exchange first = h.transport.next();
      assertThat(first.path()).isEqualTo(path);
      h.scheduler.advance(HEDGE_DELAY.multipliedBy(2)); // third look: out of the queue, not yet
      h.scheduler.awaitOneShotAt(start + 5 * d); // a whole delay from this look
      assertThat(h.events.of(FailoverEvent.Hedge.class, path)).isEmpty();
      h.scheduler.advance(HEDGE_DELAY);
      FailoverEvent.Hedge sent =
          h.events.await(FailoverEvent.Hedge.class, 1, e -> path.equals(e.path()));
      assertThat(sent.action()).isEqualTo(FailoverEvent.HedgeAction.SENT);
      first.respond(200);
      assertThat(cb.awaitStatus()).isEqualTo(200);
      h.events.awaitCallFinished(path);
      h.quiesce();
    }
  }

  /**
   * The first attempt of an {@code execute()} that the caller's thread runs ({@code
   * callerRunsFirstAttempt}) never waits in the dispatcher's queue: held in an interceptor while
   * other calls queue, it is hedged as usual.
   */
  @Test
  void anAttemptTheCallersThreadRunsIsHedgedWhileOtherCallsQueue() throws Exception {
    java.util.concurrent.ExecutorService caller =
        java.util.concurrent.Executors.newSingleThreadExecutor();
    try (Harness h = Harness.hedging(b -> b.maxRequests(1).callerRunsFirstAttempt(true))) {
      // Two POSTs (never hedged): one takes the only slot, the other queues for it.
      RecordingCallback blockerDone = new RecordingCallback();
      h.enqueue(Harness.post("/blocker"), blockerDone);
      FakeTransport.Exchange blocker = h.transport.next();
      RecordingCallback queuedDone = new RecordingCallback();
      h.enqueue(Harness.post("/queued"), queuedDone);
      String path = "/on-the-callers-thread";
      h.transport.holdInClient(r -> r.url().encodedPath().equals(path));
      long start = h.scheduler.now();
      java.util.concurrent.CompletableFuture<Integer> executed =
          java.util.concurrent.CompletableFuture.supplyAsync(
              () -> {
                try (okhttp3.Response r = h.client.newCall(get(path)).execute()) {
                  return r.code();
                } catch (java.io.IOException e) {
                  throw new java.io.UncheckedIOException(e);
                }
              },
              caller);
      FakeTransport.Exchange first = h.transport.next();
      assertThat(first.path()).isEqualTo(path);
      h.scheduler.awaitOneShotAt(start + HEDGE_DELAY.toNanos());
      h.scheduler.advance(HEDGE_DELAY);
      FailoverEvent.Hedge sent =
          h.events.await(FailoverEvent.Hedge.class, 1, e -> path.equals(e.path()));
      assertThat(sent.action()).isEqualTo(FailoverEvent.HedgeAction.SENT);

      first.respond(200);
      assertThat(executed.get(10, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo(200);
      blocker.respond(200);
      assertThat(blockerDone.awaitStatus()).isEqualTo(200);
      FakeTransport.Exchange queued = h.transport.next();
      assertThat(queued.path()).isEqualTo("/queued");
      queued.respond(200);
      assertThat(queuedDone.awaitStatus()).isEqualTo(200);
      h.quiesce();
    } finally {
      caller.shutdownNow();
    }
  }

  /**
   * Held in the application's interceptors with slots free (an interceptor that holds one
   * destination, a per-host rate limiter), an attempt is hedged as usual: the hedge may get
   * through.
   */
  @Test
  void anAttemptHeldInAnInterceptorWithSlotsFreeIsHedged() {
    try (Harness h = Harness.hedging()) {
      String path = "/held-first";
      h.transport.holdInClient(r -> r.url().host().equals(A1));
      RecordingCallback cb = new RecordingCallback();
      h.enqueue(get(path), cb);
      FakeTransport.Exchange first = h.transport.next();
      assertThat(first.host()).isEqualTo(A1);
      h.scheduler.advance(HEDGE_DELAY);
      FakeTransport.Exchange hedge = h.transport.next();
      assertThat(hedge.host()).isEqualTo(B1);
      hedge.respond(200);
      assertThat(cb.awaitStatus()).isEqualTo(200);
      h.events.awaitCallFinished(path);
      assertThat(first.cancelled()).isTrue();
      h.quiesce();
    }
  }

  /**
   * A health probe that timed out in the application's interceptors (a token refresh that hung)
   * never reached its endpoint: it counts for nothing, where before it marked the endpoint down.
   * Once probes reach the endpoint again, a timeout counts.
   */
  @Test
  void aProbeThatTimedOutBeforeItReachedTheSdkIsNotCounted() {
    try (StderrCapture err = new StderrCapture();
        Harness h =
            new Harness(
                b ->
                    b.healthCheck(
                        HealthCheck.http("/health")
                            .withInterval(Duration.ofSeconds(1))
                            .withTimeout(Duration.ofSeconds(60))
                            .withThresholds(1, 1)))) {
      h.transport.holdInClient(r -> r.url().encodedPath().equals("/health"));
      h.scheduler.advance(Duration.ofMillis(1000)); // the first probes go out at random in 1 s
      // OkHttp's call timeout ends them in the interceptors.
      answerRound(h, new InterruptedIOException("timeout"));
      h.scheduler.advance(Duration.ofMillis(1200));
      answerRound(h, new InterruptedIOException("timeout"));
      assertThat(h.endpoint(A1).health()).isEqualTo(FailoverSnapshot.Health.HEALTHY);
      assertThat(h.events.of(FailoverEvent.EndpointEjected.class)).isEmpty();
      // Said, at most once a minute: two within 1.2 s, one line.
      String said = "timed out in the application's interceptors";
      assertThat(err.text().split(said, -1)).hasSize(2);

      h.transport.holdInClient(r -> false);
      // Past the client's first 5 s, whose probe timeouts count for nothing either (a cold JVM):
      // answered rounds, every 1.2 s.
      long startUpEnds = h.scheduler.now() + Duration.ofSeconds(5).toNanos();
      while (h.scheduler.now() - startUpEnds < 0) {
        h.scheduler.advance(Duration.ofMillis(1200));
        answerRound(h, null);
      }
      h.scheduler.advance(Duration.ofMillis(1200));
      answerRound(h, new SocketTimeoutException("Read timed out")); // at the endpoint
      FailoverEvent.EndpointEjected ejected =
          h.events.await(FailoverEvent.EndpointEjected.class, 1, e -> true);
      assertThat(ejected.endpoint().url().host()).isEqualTo(A1);
      assertThat(ejected.cause()).isEqualTo(FailoverEvent.Cause.HEALTH_CHECK);
      assertThat(h.events.of(FailoverEvent.EndpointEjected.class)).hasSize(1);
      assertThat(h.endpoint(A1).health()).isNotEqualTo(FailoverSnapshot.Health.HEALTHY);
    }
  }

  /**
   * Answers the next probe of each of the three endpoints: {@code forA1} for a1, 200 for the rest.
   */
  private static void answerRound(Harness h, @org.jspecify.annotations.Nullable IOException forA1) {
    for (int i = 0; i < 3; i++) {
      FakeTransport.Exchange e = h.transport.next();
      assertThat(e.path()).isEqualTo("/health");
      if (e.host().equals(A1) && forA1 != null) {
        e.fail(forA1);
      } else {
        e.respond(200);
      }
    }
    // Each endpoint's next probe is scheduled once its result was handled (on OkHttp's thread).
    h.scheduler.awaitOneShots(3);
  }

  /** A POST (never hedged) holding the client's only slot of {@code maxRequests(1)}. */
  private record Slot(FakeTransport.Exchange exchange, RecordingCallback done) {
    /** Answers it: the slot frees. */
    void free() {
      exchange.respond(200);
      assertThat(done.awaitStatus()).isEqualTo(200);
    }
  }

  private static Slot takeTheOnlySlot(Harness h) {
    RecordingCallback done = new RecordingCallback();
    h.enqueue(Harness.post("/blocker"), done);
    return new Slot(h.transport.next(), done);
  }
}
