package dev.failover.statemachine;

import static dev.failover.statemachine.Harness.A1;
import static dev.failover.statemachine.Harness.B1;
import static dev.failover.statemachine.Harness.HEDGE_DELAY;
import static dev.failover.statemachine.Harness.get;
import static dev.failover.statemachine.Harness.post;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.failover.Attempt;
import dev.failover.FailoverEvent;
import dev.failover.FailoverException;
import dev.failover.FailoverSnapshot;
import dev.failover.Outcome;
import dev.failover.statemachine.FakeTransport.Exchange;
import java.net.ConnectException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** What is never repeated, and what the retry budget stops. */
class RepeatSafetyTest {

  @Test
  void aPostThatGets503IsNeverSentTwiceNorHedged() {
    try (Harness h = Harness.hedging()) {
      String path = "/safety/post-503";
      long t0 = h.scheduler.now();
      RecordingCallback cb = new RecordingCallback();
      h.enqueue(post(path), cb);
      Exchange first = h.transport.next();
      assertThat(first.method()).isEqualTo("POST");
      assertThat(first.host()).isEqualTo(A1);
      // No hedge timer for a POST: only the deadline waits.
      assertThat(h.scheduler.pendingOneShots())
          .extracting(FakeScheduler.Pending::due)
          .containsExactly(t0 + Harness.DEADLINE.toNanos());
      h.scheduler.advance(HEDGE_DELAY.multipliedBy(2));

      first.respond(503);

      // A 503 that was the last word reaches the caller as a 503.
      assertThat(cb.awaitStatus()).isEqualTo(503);
      h.scheduler.advance(Duration.ofMinutes(2));
      h.quiesce();
      assertThat(cb.invocations()).isEqualTo(1);
      assertThat(h.transport.exchanges()).filteredOn(x -> x.path().equals(path)).hasSize(1);
      assertThat(h.events.attempts(path))
          .extracting(Attempt::kind, Attempt::outcome, Attempt::status)
          .containsExactly(tuple(Attempt.Kind.FIRST, Outcome.UNAVAILABLE, 503));
      assertThat(h.events.of(FailoverEvent.RetryScheduled.class, path)).isEmpty();
      assertThat(h.events.of(FailoverEvent.Hedge.class, path)).isEmpty();
      FailoverEvent.CallFinished end = h.events.awaitCallFinished(path);
      assertThat(end.status()).isEqualTo(503);
      assertThat(end.failure()).isNull();
      assertThat(end.attempts()).isEqualTo(1);
      assertThat(end.retries()).isZero();
      assertThat(end.hedges()).isZero();
      assertThat(first.body().closed()).isTrue(); // by the caller
    }
  }

  /** The contrast: a POST whose connection was refused provably never left, so it goes on. */
  @Test
  void aPostWhoseConnectionWasRefusedGoesToTheNextEndpoint() {
    try (Harness h = new Harness()) {
      String path = "/safety/post-refused";
      RecordingCallback cb = new RecordingCallback();
      h.enqueue(post(path), cb);
      Exchange first = h.transport.next();
      first.fail(new ConnectException("refused"));
      h.scheduler.advance(h.awaitRetryTimer(path, 1));
      Exchange second = h.transport.next();
      assertThat(second.method()).isEqualTo("POST");
      assertThat(second.host()).isEqualTo(B1);
      second.respond(201);
      assertThat(cb.awaitStatus()).isEqualTo(201);

      h.quiesce();
      assertThat(cb.invocations()).isEqualTo(1);
      assertThat(h.events.attempts(path))
          .extracting(Attempt::kind, Attempt::outcome)
          .containsExactly(
              tuple(Attempt.Kind.FIRST, Outcome.CONNECT_FAILED),
              tuple(Attempt.Kind.RETRY, Outcome.SUCCESS));
    }
  }

  @Test
  void anExhaustedRetryBudgetEndsTheCallWithBudgetExhausted() {
    // A reserve of exactly one token (1 a second over 1 s), nothing from traffic.
    try (Harness h = new Harness(b -> b.retryBudget(0, 1, Duration.ofSeconds(1)))) {
      assertThat(h.client.snapshot().budgetTokens()).isEqualTo(1.0);
      String path = "/safety/budget";
      RecordingCallback cb = new RecordingCallback();
      h.enqueue(get(path), cb);
      h.transport.next().fail(new ConnectException("refused a1"));
      Duration backoff = h.awaitRetryTimer(path, 1);
      assertThat(h.client.snapshot().budgetTokens()).isZero();
      h.scheduler.advance(backoff);
      Exchange second = h.transport.next();
      assertThat(second.host()).isEqualTo(B1);

      second.fail(new ConnectException("refused b1"));

      FailoverException e = cb.awaitFailure();
      assertThat(e.reason()).isEqualTo(FailoverException.Reason.BUDGET_EXHAUSTED);
      assertThat(e.getCause()).isInstanceOf(ConnectException.class).hasMessage("refused b1");
      assertThat(e.attempts())
          .extracting(Attempt::kind, a -> a.endpoint().url().host(), Attempt::outcome)
          .containsExactly(
              tuple(Attempt.Kind.FIRST, A1, Outcome.CONNECT_FAILED),
              tuple(Attempt.Kind.RETRY, B1, Outcome.CONNECT_FAILED));
      FailoverEvent.BudgetExhausted exhausted =
          h.events.await(FailoverEvent.BudgetExhausted.class, 1, x -> x.path().equals(path));
      assertThat(exhausted.failed().kind()).isEqualTo(Attempt.Kind.RETRY);
      FailoverSnapshot snapshot = h.client.snapshot();
      assertThat(snapshot.budgetTokens()).isZero();
      assertThat(snapshot.counters().budgetExhausted()).isEqualTo(1);
      assertThat(snapshot.counters().retries()).isEqualTo(1);

      // The next call in the same window gets no retry at all.
      String next = "/safety/budget-next";
      RecordingCallback cb2 = new RecordingCallback();
      h.enqueue(get(next), cb2);
      h.transport.next().fail(new ConnectException("refused a1 again"));
      FailoverException e2 = cb2.awaitFailure();
      assertThat(e2.reason()).isEqualTo(FailoverException.Reason.BUDGET_EXHAUSTED);
      assertThat(e2.attempts()).hasSize(1);
      assertThat(h.client.snapshot().budgetTokens()).isZero();

      // Once the window has passed, the reserve is back.
      h.scheduler.advance(Duration.ofSeconds(1));
      assertThat(h.client.snapshot().budgetTokens()).isEqualTo(1.0);

      h.quiesce();
      assertThat(cb.invocations()).isEqualTo(1);
      assertThat(cb2.invocations()).isEqualTo(1);
      assertThat(h.transport.exchanges()).hasSize(3);
      assertThat(h.events.of(FailoverEvent.CallFinished.class, path))
          .singleElement()
          .extracting(FailoverEvent.CallFinished::failure)
          .isEqualTo(FailoverException.Reason.BUDGET_EXHAUSTED);
    }
  }

  /**
   * An idempotent PUT whose body is duplex (and not one-shot) runs on the client that never
   * resends: OkHttp's own resends (a stale pooled connection, a 503 with Retry-After: 0) look only
   * at isOneShot(), and would write the body again, which the SDK never does for a duplex body.
   */
  @Test
  void anIdempotentRequestWithADuplexBodyIsNeverResentByOkHttp() {
    java.util.Map<String, Boolean> mayResend = new java.util.concurrent.ConcurrentHashMap<>();
    java.util.concurrent.atomic.AtomicReference<Harness> harness =
        new java.util.concurrent.atomic.AtomicReference<>();
    FakeTransport transport = new FakeTransport(() -> harness.get().clock.nanos());
    okhttp3.OkHttpClient.Builder okHttp = transport.okHttpClient().newBuilder();
    okHttp
        .interceptors()
        .add(
            0,
            chain -> {
              mayResend.put(
                  chain.request().url().encodedPath(), chain.getRetryOnConnectionFailure());
              return chain.proceed(chain.request());
            });
    okhttp3.MediaType json = okhttp3.MediaType.get("application/json");
    okhttp3.RequestBody duplex =
        new okhttp3.RequestBody() {
          @Override
          public okhttp3.MediaType contentType() {
            return json;
          }

          @Override
          public void writeTo(okio.BufferedSink sink) throws java.io.IOException {
            sink.writeUtf8("{}");
          }

          @Override
          public boolean isDuplex() {
            return true;
          }
        };
    try (Harness h = new Harness(b -> b.okHttpClient(okHttp.build()))) {
      harness.set(h);
      for (String path : new String[] {"/plain", "/duplex"}) {
        okhttp3.RequestBody body =
            path.equals("/duplex") ? duplex : okhttp3.RequestBody.create("{}", json);
        RecordingCallback cb = new RecordingCallback();
        h.enqueue(
            new okhttp3.Request.Builder().url("http://" + Harness.SERVICE + path).put(body).build(),
            cb);
        transport.next().respond(200);
        assertThat(cb.awaitStatus()).isEqualTo(200);
      }
    }
    assertThat(mayResend).containsEntry("/plain", true).containsEntry("/duplex", false);
  }
}
