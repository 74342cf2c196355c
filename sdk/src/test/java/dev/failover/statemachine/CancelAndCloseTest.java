package dev.failover.statemachine;

import static dev.failover.statemachine.Harness.A1;
import static dev.failover.statemachine.Harness.B1;
import static dev.failover.statemachine.Harness.HEDGE_DELAY;
import static dev.failover.statemachine.Harness.get;
import static dev.failover.statemachine.Harness.post;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import dev.failover.Attempt;
import dev.failover.FailoverEvent;
import dev.failover.FailoverException;
import dev.failover.Outcome;
import dev.failover.statemachine.FakeTransport.Exchange;
import java.io.IOException;
import java.net.ConnectException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import okhttp3.Call;
import okhttp3.Response;
import org.junit.jupiter.api.Test;

/** cancel() and close(): every call ends once, with CANCELLED, and nothing is sent afterwards. */
class CancelAndCloseTest {

  @Test
  void cancelBeforeTheCallStartsSendsNothing() {
    try (Harness h = new Harness()) {
      Call call = h.client.newCall(get("/cancel/before"));
      call.cancel();
      RecordingCallback cb = new RecordingCallback();
      call.enqueue(cb);

      FailoverException e = cb.awaitFailure();
      assertThat(e.reason()).isEqualTo(FailoverException.Reason.CANCELLED);
      assertThat(e.attempts()).isEmpty();
      assertThat(call.isCanceled()).isTrue();
      assertThat(h.scheduler.pendingOneShots()).isEmpty();

      h.scheduler.advance(Duration.ofMinutes(2));
      h.quiesce();
      assertThat(cb.invocations()).isEqualTo(1);
      assertThat(h.transport.exchanges()).isEmpty();
      assertThat(h.client.snapshot().counters().attempts()).isZero();
      FailoverEvent.CallFinished end = h.events.awaitCallFinished("/cancel/before");
      assertThat(end.failure()).isEqualTo(FailoverException.Reason.CANCELLED);
      assertThat(end.attempts()).isZero();
      assertThat(h.events.of(FailoverEvent.CallFinished.class, "/cancel/before")).hasSize(1);
    }
  }

  @Test
  void cancelWhileTheFirstAttemptIsInFlightEndsTheCallOnceAndSendsNothingMore() {
    try (Harness h = Harness.hedging()) {
      String path = "/cancel/in-flight";
      long t0 = h.scheduler.now();
      RecordingCallback cb = new RecordingCallback();
      Call call = h.enqueue(get(path), cb);
      Exchange first = h.transport.next();
      assertThat(first.host()).isEqualTo(A1);
      // The hedge timer and the deadline are armed.
      h.scheduler.awaitOneShotAt(t0 + HEDGE_DELAY.toNanos());
      h.scheduler.awaitOneShotAt(t0 + Harness.DEADLINE.toNanos());

      call.cancel();

      FailoverException e = cb.awaitFailure();
      assertThat(e.reason()).isEqualTo(FailoverException.Reason.CANCELLED);
      Attempt cancelled = h.events.awaitAttempt(path, 1);
      assertThat(cancelled.kind()).isEqualTo(Attempt.Kind.FIRST);
      assertThat(cancelled.outcome()).isEqualTo(Outcome.CANCELLED);
      assertThat(first.cancelled()).isTrue();
      // Its hedge timer and deadline went with it.
      assertThat(h.scheduler.pendingOneShots()).isEmpty();

      h.scheduler.advance(Duration.ofMinutes(2));
      h.quiesce();
      assertThat(cb.invocations()).isEqualTo(1);
      assertThat(h.transport.exchanges()).hasSize(2); // the warm-up and the first attempt
      assertThat(h.events.attempts(path))
          .extracting(Attempt::kind, a -> a.endpoint().url().host(), Attempt::outcome)
          .containsExactly(tuple(Attempt.Kind.FIRST, A1, Outcome.CANCELLED));
      assertThat(h.events.of(FailoverEvent.Hedge.class, path)).isEmpty();
      assertThat(h.events.of(FailoverEvent.RetryScheduled.class, path)).isEmpty();
      FailoverEvent.CallFinished end = h.events.awaitCallFinished(path);
      assertThat(end.failure()).isEqualTo(FailoverException.Reason.CANCELLED);
      assertThat(end.attempts()).isEqualTo(1);
      assertThat(end.hedges()).isZero();
      assertThat(h.events.of(FailoverEvent.CallFinished.class, path)).hasSize(1);
    }
  }

  @Test
  void cancelDuringTheBackoffCancelsTheRetry() {
    try (Harness h = new Harness()) {
      String path = "/cancel/backoff";
      RecordingCallback cb = new RecordingCallback();
      Call call = h.enqueue(get(path), cb);
      Exchange first = h.transport.next();
      first.fail(new ConnectException("refused"));
      assertThat(h.awaitRetryTimer(path, 1)).isPositive();
      assertThat(cb.called()).isFalse();

      double tokensWhileWaiting = h.client.snapshot().budgetTokens();
      call.cancel();

      FailoverException e = cb.awaitFailure();
      assertThat(e.reason()).isEqualTo(FailoverException.Reason.CANCELLED);
      // The retry is never sent: its budget token went back.
      assertThat(h.client.snapshot().budgetTokens()).isEqualTo(tokensWhileWaiting + 1);
      assertThat(e.attempts())
          .extracting(Attempt::kind, Attempt::outcome)
          .containsExactly(tuple(Attempt.Kind.FIRST, Outcome.CONNECT_FAILED));
      assertThat(h.scheduler.pendingOneShots()).isEmpty();

      h.scheduler.advance(Duration.ofMinutes(2));
      h.quiesce();
      assertThat(cb.invocations()).isEqualTo(1);
      assertThat(h.transport.exchanges()).hasSize(1);
      assertThat(h.client.snapshot().counters().retries()).isZero();
      FailoverEvent.CallFinished end = h.events.awaitCallFinished(path);
      assertThat(end.failure()).isEqualTo(FailoverException.Reason.CANCELLED);
      assertThat(end.attempts()).isEqualTo(1);
      assertThat(end.retries()).isZero();
    }
  }

  @Test
  void closeEndsEveryCallInFlightOnceAndSendsNothingAfter() throws Exception {
    ExecutorService caller = Executors.newSingleThreadExecutor();
    try (Harness h = Harness.hedging()) {

      // C: its first attempt and a hedge both in flight.
      RecordingCallback hedged = new RecordingCallback();
      h.enqueue(get("/close/hedged"), hedged);
      Exchange hedgedFirst = h.transport.next();
      h.scheduler.advance(HEDGE_DELAY);
      Exchange hedge = h.transport.next();
      assertThat(hedge.host()).isEqualTo(B1);

      // A: a POST in flight (never hedged).
      RecordingCallback posted = new RecordingCallback();
      h.enqueue(post("/close/post"), posted);
      Exchange postFirst = h.transport.next();

      // B: waiting for its retry.
      RecordingCallback backingOff = new RecordingCallback();
      h.enqueue(get("/close/backoff"), backingOff);
      h.transport.next().fail(new ConnectException("refused"));
      h.awaitRetryTimer("/close/backoff", 1);

      // E: execute() blocked on another thread.
      CompletableFuture<Integer> executed =
          CompletableFuture.supplyAsync(
              () -> {
                try (Response r = h.client.newCall(get("/close/execute")).execute()) {
                  return r.code();
                } catch (IOException e) {
                  throw new java.io.UncheckedIOException(e);
                }
              },
              caller);
      Exchange executeFirst = h.transport.next();

      long attemptsBefore = h.client.snapshot().counters().attempts();
      int arrivedBefore = h.transport.exchanges().size();

      h.client.close();

      for (RecordingCallback cb : List.of(hedged, posted, backingOff)) {
        assertThat(cb.called()).isTrue();
        assertThat(cb.awaitFailure().reason()).isEqualTo(FailoverException.Reason.CANCELLED);
      }
      assertThatThrownBy(() -> executed.get(10, TimeUnit.SECONDS))
          .isInstanceOf(ExecutionException.class)
          .cause()
          .cause()
          .isInstanceOfSatisfying(
              FailoverException.class,
              e -> assertThat(e.reason()).isEqualTo(FailoverException.Reason.CANCELLED));
      assertThat(List.of(hedgedFirst, hedge, postFirst, executeFirst))
          .allSatisfy(x -> assertThat(x.cancelled()).as("%s cancelled", x).isTrue());
      // close() cancelled every timer the client had on a scheduler it does not own...
      assertThat(h.scheduler.pending()).isEmpty();
      assertThat(h.scheduler.isShutdown()).isFalse();
      // ...so that no time that passes afterwards sends anything.
      h.scheduler.advance(Duration.ofMinutes(5));
      assertThat(h.client.snapshot().counters().attempts()).isEqualTo(attemptsBefore);
      assertThat(h.transport.exchanges()).hasSize(arrivedBefore);
      assertThatThrownBy(() -> h.client.newCall(get("/close/after")))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("closed");
      assertThatCode(h.client::close).doesNotThrowAnyException();

      for (RecordingCallback cb : List.of(hedged, posted, backingOff)) {
        assertThat(cb.invocations()).isEqualTo(1);
      }
      for (String path :
          List.of("/close/hedged", "/close/post", "/close/backoff", "/close/execute")) {
        assertThat(h.events.of(FailoverEvent.CallFinished.class, path))
            .as(path)
            .singleElement()
            .extracting(FailoverEvent.CallFinished::failure)
            .isEqualTo(FailoverException.Reason.CANCELLED);
      }
      assertThat(h.events.attempts("/close/hedged"))
          .extracting(Attempt::kind, Attempt::outcome)
          .containsExactlyInAnyOrder(
              tuple(Attempt.Kind.FIRST, Outcome.CANCELLED),
              tuple(Attempt.Kind.HEDGE, Outcome.CANCELLED));
      assertThat(h.events.attempts("/close/post"))
          .extracting(Attempt::kind, Attempt::outcome)
          .containsExactly(tuple(Attempt.Kind.FIRST, Outcome.CANCELLED));
      assertThat(h.events.attempts("/close/backoff"))
          .extracting(Attempt::kind, Attempt::outcome)
          .containsExactly(tuple(Attempt.Kind.FIRST, Outcome.CONNECT_FAILED));
      assertThat(h.events.attempts("/close/execute"))
          .extracting(Attempt::kind, Attempt::outcome)
          .containsExactly(tuple(Attempt.Kind.FIRST, Outcome.CANCELLED));
    } finally {
      caller.shutdownNow();
    }
  }

  @Test
  void aSchedulerShutDownUnderTheClientEndsNewCallsOnceWithoutSending() {
    try (Harness h = new Harness()) {
      h.scheduler.shutdown();
      RecordingCallback cb = new RecordingCallback();
      h.enqueue(get("/scheduler/down"), cb);
      assertThat(cb.awaitFailure().reason()).isEqualTo(FailoverException.Reason.CANCELLED);
      h.quiesce();
      assertThat(cb.invocations()).isEqualTo(1);
      assertThat(h.transport.exchanges()).isEmpty();
      assertThat(h.client.snapshot().counters().attempts()).isZero();
    }
  }

  @Test
  void anEnqueuedCallsDeadlineCountsFromItsStartNotFromWhenTheObserverReturned() {
    java.util.concurrent.atomic.AtomicReference<Harness> ref =
        new java.util.concurrent.atomic.AtomicReference<>();
    // The application's observer (a tracing handler on a cold JVM) takes 2 s of the call's time:
    // before, the deadline timer was armed for the whole deadline from when it returned.
    try (Harness h =
        new Harness(
            b ->
                b.listener(
                    new dev.failover.SlowCallObserver(
                        () -> ref.get().clock.advance(Duration.ofSeconds(2)))))) {
      ref.set(h);
      long t0 = h.scheduler.now();
      RecordingCallback cb = new RecordingCallback();
      h.enqueue(get("/deadline/observed"), cb);
      Exchange first = h.transport.next();
      h.scheduler.awaitOneShotAt(t0 + Harness.DEADLINE.toNanos());
      h.scheduler.advanceTo(t0 + Harness.DEADLINE.toNanos());
      assertThat(cb.awaitFailure().reason()).isEqualTo(FailoverException.Reason.DEADLINE_EXCEEDED);
      assertThat(first.cancelled()).isTrue();
      h.quiesce();
    }
  }
}
