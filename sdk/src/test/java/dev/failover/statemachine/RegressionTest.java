package dev.failover.statemachine;

import static dev.failover.statemachine.Harness.A1;
import static dev.failover.statemachine.Harness.B1;
import static dev.failover.statemachine.Harness.HEDGE_DELAY;
import static dev.failover.statemachine.Harness.W1;
import static dev.failover.statemachine.Harness.get;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.assertj.core.api.Assertions.tuple;

import dev.failover.Attempt;
import dev.failover.FailoverEvent;
import dev.failover.FailoverException;
import dev.failover.FailoverSnapshot;
import dev.failover.statemachine.FakeTransport.Exchange;
import java.io.IOException;
import java.net.ConnectException;
import java.time.Duration;
import okhttp3.Call;
import org.junit.jupiter.api.Test;

/**
 * Regression tests of defects these tests found: attempts in start order; a callback that throws an
 * Error cannot stop close().
 */
class RegressionTest {

  /**
   * An attempt cancelled before it reached the SDK's interceptor (here a hedge the fake transport
   * holds as if in the client's queue) never reached its endpoint: its time went into the
   * endpoint's Peak-EWMA as "at least this slow" when the attempt it hedged won.
   */
  @Test
  void anAttemptCancelledBeforeItReachedTheSdkSaysNothingAboutItsEndpointsLatency() {
    try (Harness h = Harness.hedging()) {
      h.transport.holdInClient(r -> r.url().host().equals(B1));
      RecordingCallback cb = new RecordingCallback();
      h.enqueue(get("/held"), cb);
      Exchange first = h.transport.next();
      assertThat(first.host()).isEqualTo(A1);
      h.scheduler.advance(HEDGE_DELAY);
      Exchange hedge = h.transport.next();
      assertThat(hedge.host()).isEqualTo(B1);
      h.scheduler.advance(Duration.ofMillis(400));
      first.respond(200);
      assertThat(cb.awaitStatus()).isEqualTo(200);
      h.events.awaitCallFinished("/held");
      h.events.awaitAttempt("/held", 2); // both attempts' outcomes are recorded
      assertThat(hedge.cancelled()).isTrue();
      // Never answered anything; the 400 ms its hedge was held are not its latency.
      assertThat(h.endpoint(B1).latency()).isLessThan(Duration.ofMillis(100));
      h.quiesce();
    }
  }

  /**
   * A retry token goes back to the budget's slot it was taken from: a call cancelled during its
   * retry's backoff, once the budget window (ten 1 s slots) moved on to the next slot, lost the
   * token for the whole window (the refund looked for it in the current slot).
   */
  @Test
  void aRetryTokenGoesBackAfterItsBackoffCrossedIntoAnotherSlot() {
    try (Harness h =
        new Harness(
            b ->
                b.backoff(Duration.ofSeconds(10), Duration.ofSeconds(10))
                    .retryBudget(0, 10, Duration.ofSeconds(10)))) {
      RecordingCallback cb = new RecordingCallback();
      Call call = h.enqueue(get("/backoff"), cb);
      h.transport.next().respond(503);
      Duration backoff = h.awaitRetryTimer("/backoff", 1);
      assertThat(h.client.snapshot().budgetTokens()).isEqualTo(99.0);
      // The seeded random draws a backoff long enough to cross a slot before the cancel.
      assertThat(backoff).isGreaterThan(Duration.ofMillis(1_500));
      h.scheduler.advance(Duration.ofMillis(1_200));
      call.cancel();
      assertThat(cb.awaitFailure().reason()).isEqualTo(FailoverException.Reason.CANCELLED);
      assertThat(h.client.snapshot().budgetTokens()).isEqualTo(100.0);
      h.quiesce();
    }
  }

  /**
   * A retry token goes back when its retry finds no endpoint: it did after a backoff, not when the
   * backoff was zero (the retry is then sent at once, from the failed attempt's callback).
   */
  @Test
  void aRetryWithNoBackoffThatFindsNoEndpointGivesItsTokenBack() {
    try (Harness h =
        new Harness(
            b ->
                b.backoff(Duration.ZERO, Duration.ZERO)
                    .maxAttempts(4)
                    // With nothing healthy, no attempt is sent (rather than ignore health).
                    .panic(0, false)
                    .retryBudget(0, 10, Duration.ofSeconds(10)))) {
      assertThat(h.client.snapshot().budgetTokens()).isEqualTo(100.0);
      RecordingCallback cb = new RecordingCallback();
      h.enqueue(get("/held-off"), cb);
      // Each endpoint asks for a minute's pause: the fourth attempt finds none to go to.
      for (String host : new String[] {A1, B1, W1}) {
        Exchange e = h.transport.next();
        assertThat(e.host()).isEqualTo(host);
        e.respond(503, "Retry-After", "60");
      }
      assertThat(cb.awaitFailure().reason()).isEqualTo(FailoverException.Reason.RETRIES_EXHAUSTED);
      FailoverEvent.CallFinished finished = h.events.awaitCallFinished("/held-off");
      assertThat(finished.retries()).isEqualTo(2);
      assertThat(h.client.snapshot().budgetTokens()).isEqualTo(98.0);
      h.quiesce();
    }
  }

  /**
   * failover-semantics.md: "for the first 5 s after build() [...] latency is not used to judge
   * zones". The successes of those seconds entered the zone's 10 s window with their latency, and
   * were judged from 5 s on: a cold home zone, which takes most first calls, could look slow.
   */
  @Test
  void latencyOfTheFirstSecondsNeverReachesTheZoneWindow() {
    try (Harness h = new Harness()) {
      long built = h.scheduler.now();
      for (int i = 0; i < 3; i++) {
        answerAfter(h, "/cold/" + i, Duration.ofMillis(300));
      }
      // One more begins just before the grace ends and ends after it: still cold.
      h.scheduler.advanceTo(built + Duration.ofMillis(4_900).toNanos());
      answerAfter(h, "/straddling", Duration.ofMillis(400));
      // The start-up grace is over; the zone's window (10 s) still spans those calls.
      h.scheduler.advance(Duration.ofSeconds(1));
      assertThat(homeZone(h).meanLatency()).isZero();
      // From now on latency counts.
      answerAfter(h, "/warm", Duration.ofMillis(40));
      assertThat(homeZone(h).meanLatency()).isEqualTo(Duration.ofMillis(40));
      h.quiesce();
    }
  }

  private static void answerAfter(Harness h, String path, Duration latency) {
    RecordingCallback cb = new RecordingCallback();
    h.enqueue(get(path), cb);
    Exchange e = h.transport.next();
    assertThat(e.host()).isEqualTo(A1);
    h.scheduler.advance(latency);
    e.respond(200);
    assertThat(cb.awaitStatus()).isEqualTo(200);
    h.events.awaitCallFinished(path);
  }

  private static FailoverSnapshot.Zone homeZone(Harness h) {
    return h.client.snapshot().zones().get(0);
  }

  /**
   * failover-semantics.md: "attempts() lists every attempt of the call in order of start". The
   * hedge fails before the attempt it hedges, then the original fails, then the retry.
   */
  @Test
  void theAttemptsOfAFailedCallAreListedInOrderOfStart() {
    try (Harness h = Harness.hedging()) {
      String path = "/race/hedge-fails-first";
      RecordingCallback cb = new RecordingCallback();
      h.enqueue(get(path), cb);
      Exchange first = h.transport.next();
      h.scheduler.advance(HEDGE_DELAY);
      Exchange hedge = h.transport.next();
      hedge.fail(new ConnectException("refused b1"));
      assertThat(h.events.awaitAttempt(path, 1).kind()).isEqualTo(Attempt.Kind.HEDGE);
      long failedAt = h.scheduler.now();
      first.fail(new ConnectException("refused a1"));
      FailoverEvent.RetryScheduled retry = h.events.awaitRetry(path, 1);
      h.scheduler.awaitOneShotAt(failedAt + retry.backoff().toNanos());
      h.scheduler.advance(retry.backoff());
      Exchange third = h.transport.next();
      assertThat(third.host()).isEqualTo(W1);
      third.fail(new ConnectException("refused w1"));

      FailoverException e = cb.awaitFailure();
      assertThat(e.reason()).isEqualTo(FailoverException.Reason.RETRIES_EXHAUSTED);
      h.quiesce();
      assertThat(cb.invocations()).isEqualTo(1);
      assertThat(e.attempts())
          .extracting(Attempt::number, Attempt::kind, a -> a.endpoint().url().host())
          .containsExactly(
              tuple(1, Attempt.Kind.FIRST, A1),
              tuple(2, Attempt.Kind.HEDGE, B1),
              tuple(3, Attempt.Kind.RETRY, W1));
    }
  }

  /**
   * architecture.md, close(): it "cancels every call in flight: each ends with a FailoverException
   * of reason CANCELLED ... passed to the callback's onFailure", cancels every OkHttp call, shuts
   * the dispatcher down, and returns "only when every thread the client started has ended". A
   * callback that throws an Error (an AssertionError in an application's test, a
   * StackOverflowError) while close() delivers to it on the closing thread propagates out of
   * close() and skips all of that; a second close() does nothing, so the client can never be
   * closed: its dispatcher threads stay alive (and calls that close() had not reached yet are
   * neither cancelled nor called back).
   */
  @Test
  void aCallbackThatThrowsAnErrorDoesNotStopCloseFromReleasingTheClient() {
    Harness h = new Harness();
    try {
      // Waiting for its retry: nothing but close() can deliver to it, so it throws in close().
      RecordingCallback throwing =
          new RecordingCallback() {
            @Override
            public void onFailure(Call call, IOException e) {
              super.onFailure(call, e);
              throw new AssertionError("callback error");
            }
          };
      h.enqueue(get("/defect/throwing"), throwing);
      h.transport.next().fail(new ConnectException("refused"));
      h.events.awaitRetry("/defect/throwing", 1);

      Throwable thrown = catchThrowable(h.client::close);

      assertThat(throwing.invocations()).isEqualTo(1);
      assertThat(
              Thread.getAllStackTraces().keySet().stream()
                  .filter(Thread::isAlive)
                  .map(Thread::getName)
                  .filter(n -> n.startsWith("failover-" + Harness.SERVICE + "-")))
          .as("threads of the client still alive after close() (which threw %s)", thrown)
          .isEmpty();
    } finally {
      h.client.close();
    }
  }

  /**
   * A deadline set on the call's {@code timeout()} ends the call, as OkHttp's own call timeout
   * counts it (it was read only as a timeout, so such a call ran to the client's 60 s deadline).
   */
  @Test
  void aDeadlineSetOnTheCallsTimeoutEndsTheCall() {
    try (Harness h = new Harness(b -> b.minAttemptTime(Duration.ofMillis(25)))) {
      String path = "/timeout/deadline";
      long t0 = h.scheduler.now();
      RecordingCallback cb = new RecordingCallback();
      Call call = h.client.newCall(get(path));
      // Counted on real time from here: seconds, so that a stalled test thread cannot use it up.
      call.timeout().deadline(5, java.util.concurrent.TimeUnit.SECONDS);
      call.enqueue(cb);
      h.transport.next(); // never answered
      h.scheduler.advanceTo(t0 + Duration.ofMillis(5_100).toNanos());
      FailoverException e = cb.awaitFailure();
      assertThat(e.reason()).isEqualTo(FailoverException.Reason.DEADLINE_EXCEEDED);
      assertThat(h.events.of(FailoverEvent.CallFinished.class, path))
          .singleElement()
          .satisfies(f -> assertThat(f.elapsed()).isLessThanOrEqualTo(Duration.ofSeconds(5)));
    }
  }

  /**
   * The attempts a call's end cuts short are in its exception, in order of start: a call whose
   * deadline passed while its first attempt hung and its hedge had been refused said "failed after
   * 1 attempt" and named only the hedge, not the endpoint it had waited for.
   */
  @Test
  void theAttemptsInFlightWhenTheDeadlinePassesAreInTheException() {
    try (Harness h = Harness.hedging()) {
      String path = "/deadline/in-flight";
      long t0 = h.scheduler.now();
      RecordingCallback cb = new RecordingCallback();
      h.enqueue(get(path), cb);
      Exchange first = h.transport.next(); // never answered
      assertThat(first.host()).isEqualTo(A1);
      h.scheduler.advance(HEDGE_DELAY);
      Exchange hedge = h.transport.next();
      hedge.fail(new ConnectException("refused b1"));
      h.events.awaitAttempt(path, 1);
      h.scheduler.advanceTo(t0 + Harness.DEADLINE.toNanos());

      FailoverException e = cb.awaitFailure();
      assertThat(e.reason()).isEqualTo(FailoverException.Reason.DEADLINE_EXCEEDED);
      assertThat(e.attempts())
          .extracting(
              Attempt::number,
              Attempt::kind,
              a -> a.endpoint().url().host(),
              Attempt::outcome,
              Attempt::error)
          .containsExactly(
              tuple(
                  1,
                  Attempt.Kind.FIRST,
                  A1,
                  dev.failover.Outcome.CANCELLED,
                  "in flight when the deadline passed"),
              tuple(
                  2,
                  Attempt.Kind.HEDGE,
                  B1,
                  dev.failover.Outcome.CONNECT_FAILED,
                  "ConnectException: refused b1"));
      assertThat(e.attempts().get(0).duration()).isEqualTo(Harness.DEADLINE);
      assertThat(e.getMessage())
          .startsWith("GET http://svc" + path + " failed after 2 attempts in 60000 ms")
          .contains("#1 FIRST", "in flight when the deadline passed");
      // OkHttp's cancel() runs after the lock, on the thread that decided it, which may come after
      // the callback on another: wait for the call's work to be done first.
      h.quiesce();
      assertThat(first.cancelled()).isTrue();
    }
  }

  /**
   * A retry decided just before its call ended was still made and enqueued, already cancelled: the
   * application's EventListener.Factory and callStart ran for an attempt that never went out, and
   * its budget token was never given back. Here the call is cancelled while the thread that decided
   * the retry closes the retried 503, which it does before it sends the retry.
   */
  @Test
  void aRetryTheCallsEndOvertookIsNeverMadeAndGivesItsTokenBack() {
    String path = "/overtaken";
    java.util.concurrent.atomic.AtomicInteger made =
        new java.util.concurrent.atomic.AtomicInteger();
    java.util.concurrent.atomic.AtomicReference<Harness> harness =
        new java.util.concurrent.atomic.AtomicReference<>();
    FakeTransport transport = new FakeTransport(() -> harness.get().clock.nanos());
    okhttp3.OkHttpClient base = transport.okHttpClient();
    okhttp3.EventListener.Factory hooks = base.eventListenerFactory();
    okhttp3.OkHttpClient counting =
        base.newBuilder()
            .eventListenerFactory(
                c -> {
                  if (c.request().url().encodedPath().equals(path)) {
                    made.incrementAndGet();
                  }
                  return hooks.create(c);
                })
            .build();
    try (Harness h =
        new Harness(
            b ->
                b.okHttpClient(counting)
                    .backoff(Duration.ZERO, Duration.ZERO)
                    .retryBudget(0, 10, Duration.ofSeconds(10)))) {
      harness.set(h);
      RecordingCallback cb = new RecordingCallback();
      Call call = h.enqueue(get(path), cb);
      Exchange first = transport.next();
      first.respondAndHoldClose(503);
      first.awaitCloseHeld();
      // The retry is decided, its token taken; the thread that decided it has not sent it yet.
      assertThat(h.client.snapshot().budgetTokens()).isEqualTo(99.0);
      call.cancel();
      first.resumeClose();
      assertThat(cb.awaitFailure().reason()).isEqualTo(FailoverException.Reason.CANCELLED);
      // The callback comes after the retry was handled by the thread that decided it.
      assertThat(made.get()).isEqualTo(1);
      assertThat(h.client.snapshot().budgetTokens()).isEqualTo(100.0);
      assertThat(transport.exchanges()).hasSize(1);
      h.quiesce();
      // Nor is it counted, nor told as an attempt: it never left.
      assertThat(h.client.snapshot().counters().attempts()).isEqualTo(1);
      assertThat(h.client.snapshot().counters().retries()).isZero();
      assertThat(h.events.attempts(path)).hasSize(1);
      // The call's summary agrees.
      FailoverEvent.CallFinished end = h.events.awaitCallFinished(path);
      assertThat(end.attempts()).isEqualTo(1);
      assertThat(end.retries()).isZero();
    }
  }

  /**
   * A hedge decided at once by a failure (a 503 while the original still runs) and overtaken by the
   * call's end before its thread sent it: it is never made, and neither its {@code Hedge SENT}
   * event nor the call's summary counts it. Both did (the summary said 3 attempts and 2 hedges of
   * which 2 were made, and the meter of sent hedges counted it), while the client's counters and
   * the {@code AttemptFinished} events did not.
   */
  @Test
  void aHedgeTheCallsEndOvertookIsNeitherToldAsSentNorCounted() {
    try (Harness h = Harness.hedging(b -> b.hedging(Harness.HEDGING.withMaxHedges(2)))) {
      for (int i = 0; i < 2; i++) {
        // Two more calls put a second hedge's token in the bucket.
        RecordingCallback fill = new RecordingCallback();
        h.enqueue(get("/fill/" + i), fill);
        h.transport.next().respond(200);
        assertThat(fill.awaitStatus()).isEqualTo(200);
      }
      long hedgesBefore = h.client.snapshot().counters().hedgesSent();
      String path = "/hedge/overtaken";
      RecordingCallback cb = new RecordingCallback();
      Call call = h.enqueue(get(path), cb);
      Exchange first = h.transport.next(); // never answered
      assertThat(first.host()).isEqualTo(A1);
      h.scheduler.advance(HEDGE_DELAY);
      Exchange hedge = h.transport.next();
      // Its 503 decides the second hedge at once; the thread closes the 503 before it sends it.
      hedge.respondAndHoldClose(503);
      hedge.awaitCloseHeld();
      call.cancel();
      hedge.resumeClose();

      assertThat(cb.awaitFailure().reason()).isEqualTo(FailoverException.Reason.CANCELLED);
      h.quiesce();
      assertThat(h.transport.exchanges().stream().filter(x -> x.path().equals(path))).hasSize(2);
      assertThat(h.client.snapshot().counters().hedgesSent()).isEqualTo(hedgesBefore + 1);
      assertThat(h.events.attempts(path)).hasSize(2);
      assertThat(h.events.of(FailoverEvent.Hedge.class, path))
          .filteredOn(e -> e.action() == FailoverEvent.HedgeAction.SENT)
          .hasSize(1);
      FailoverEvent.CallFinished end = h.events.awaitCallFinished(path);
      assertThat(end.attempts()).isEqualTo(2);
      assertThat(end.hedges()).isEqualTo(1);
    }
  }
}
