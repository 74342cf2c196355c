package dev.failover.statemachine;

import static dev.failover.statemachine.Harness.A1;
import static dev.failover.statemachine.Harness.B1;
import static dev.failover.statemachine.Harness.DEADLINE;
import static dev.failover.statemachine.Harness.get;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.tuple;

import dev.failover.Attempt;
import dev.failover.EjectionPolicy;
import dev.failover.FailoverEvent;
import dev.failover.FailoverException;
import dev.failover.FailoverListener;
import dev.failover.Outcome;
import dev.failover.statemachine.FakeTransport.Exchange;
import java.io.IOException;
import java.net.ConnectException;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import okhttp3.Call;
import okhttp3.EventListener;
import okhttp3.Response;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Application code that throws: the client logs it, skips it, and keeps working. */
class UserCodeFailureTest {

  /** A callback that records like its parent, then throws. */
  private static final class ThrowingCallback extends RecordingCallback {
    private final String message;

    ThrowingCallback(String message) {
      this.message = message;
    }

    @Override
    public void onResponse(Call call, Response response) throws IOException {
      super.onResponse(call, response);
      throw new IllegalStateException(message);
    }

    @Override
    public void onFailure(Call call, IOException e) {
      super.onFailure(call, e);
      throw new IllegalStateException(message);
    }
  }

  /** Then a next call on the same client, answered normally. */
  private static void nextCallWorks(Harness h, String path) {
    RecordingCallback next = new RecordingCallback();
    h.enqueue(get(path), next);
    h.transport.next().respond(200);
    assertThat(next.awaitStatus()).isEqualTo(200);
  }

  @Test
  void aCallbackThatThrowsInOnResponseIsLoggedAndTheClientGoesOn() {
    String message = "onResponse boom " + UUID.randomUUID();
    try (StderrCapture err = new StderrCapture();
        Harness h = new Harness()) {
      ThrowingCallback cb = new ThrowingCallback(message);
      h.enqueue(get("/user/on-response"), cb);
      h.transport.next().respond(200);
      assertThat(cb.awaitStatus()).isEqualTo(200);

      nextCallWorks(h, "/user/after-on-response");

      h.quiesce();
      assertThat(cb.invocations()).isEqualTo(1);
      assertThat(err.text()).contains("Callback.onResponse threw").contains(message);
      assertThat(h.events.of(FailoverEvent.CallFinished.class, "/user/on-response"))
          .singleElement()
          .extracting(FailoverEvent.CallFinished::status)
          .isEqualTo(200);
    }
  }

  /** How the failure reaches the callback: on which thread, from which part of the client. */
  enum FailureRoute {
    /** call.cancel(): on the caller's thread. */
    CANCEL,
    /** The deadline timer: handed to an OkHttp dispatcher thread. */
    DEADLINE,
    /** The last attempt failed: on the dispatcher thread that ran it. */
    LAST_ATTEMPT
  }

  @ParameterizedTest
  @EnumSource(FailureRoute.class)
  void aCallbackThatThrowsInOnFailureIsLoggedAndTheClientGoesOn(FailureRoute route) {
    String message = "onFailure boom " + route + " " + UUID.randomUUID();
    String path = "/user/on-failure";
    try (StderrCapture err = new StderrCapture();
        Harness h = new Harness(b -> b.maxAttempts(1))) {
      long t0 = h.scheduler.now();
      ThrowingCallback cb = new ThrowingCallback(message);
      Call call = h.enqueue(get(path), cb);
      Exchange first = h.transport.next();
      switch (route) {
        case CANCEL -> assertThatCode(call::cancel).doesNotThrowAnyException();
        case DEADLINE -> h.scheduler.advanceTo(t0 + DEADLINE.toNanos());
        case LAST_ATTEMPT -> first.fail(new ConnectException("refused"));
      }
      FailoverException e = cb.awaitFailure();
      assertThat(e.reason())
          .isEqualTo(
              switch (route) {
                case CANCEL -> FailoverException.Reason.CANCELLED;
                case DEADLINE -> FailoverException.Reason.DEADLINE_EXCEEDED;
                case LAST_ATTEMPT -> FailoverException.Reason.RETRIES_EXHAUSTED;
              });

      nextCallWorks(h, "/user/after-on-failure");

      h.quiesce();
      assertThat(cb.invocations()).isEqualTo(1);
      assertThat(err.text()).contains("Callback.onFailure threw").contains(message);
      assertThat(h.events.of(FailoverEvent.CallFinished.class, path)).hasSize(1);
    }
  }

  /** A listener that throws on every event it gets, counting them. */
  private static final class ThrowingListener implements FailoverListener {
    final AtomicInteger calls = new AtomicInteger();
    private final boolean linkage;

    ThrowingListener(boolean linkage) {
      this.linkage = linkage;
    }

    private void boom(FailoverEvent e) {
      calls.incrementAndGet();
      if (linkage) {
        throw new NoClassDefFoundError("listener boom on " + e.getClass().getSimpleName());
      }
      throw new IllegalStateException("listener boom on " + e.getClass().getSimpleName());
    }

    @Override
    public void onAttempt(FailoverEvent.AttemptFinished event) {
      boom(event);
    }

    @Override
    public void onRetry(FailoverEvent.RetryScheduled event) {
      boom(event);
    }

    @Override
    public void onHedge(FailoverEvent.Hedge event) {
      boom(event);
    }

    @Override
    public void onCallFinished(FailoverEvent.CallFinished event) {
      boom(event);
    }
  }

  /**
   * An observation handler of the application's (Micrometer's {@code ObservationHandler}, run by
   * the SDK's observations as a call starts and stops) that fails an assertion: logged, and the
   * call still runs and its callback still comes, as for every other piece of user code. Before,
   * the error escaped enqueue() (start) or left the callback uncalled (stop).
   */
  @ParameterizedTest(name = "throws on {0}")
  @ValueSource(strings = {"start", "stop"})
  void anObservationHandlerThatFailsAnAssertionStopsNothing(String when) {
    io.micrometer.observation.ObservationRegistry registry =
        io.micrometer.observation.ObservationRegistry.create();
    registry
        .observationConfig()
        .observationHandler(
            new io.micrometer.observation.ObservationHandler<
                dev.failover.FailoverObservations.CallContext>() {
              @Override
              public boolean supportsContext(io.micrometer.observation.Observation.Context c) {
                return c instanceof dev.failover.FailoverObservations.CallContext;
              }

              @Override
              public void onStart(dev.failover.FailoverObservations.CallContext c) {
                if (when.equals("start")) {
                  throw new AssertionError("handler boom on start");
                }
              }

              @Override
              public void onStop(dev.failover.FailoverObservations.CallContext c) {
                if (when.equals("stop")) {
                  throw new AssertionError("handler boom on stop");
                }
              }
            });
    try (StderrCapture err = new StderrCapture();
        Harness h = new Harness(b -> b.listener(new dev.failover.FailoverObservations(registry)))) {
      RecordingCallback cb = new RecordingCallback();
      assertThatCode(() -> h.enqueue(get("/observed/" + when), cb)).doesNotThrowAnyException();
      h.transport.next().respond(200);
      assertThat(cb.awaitStatus()).isEqualTo(200);
      h.quiesce();
      assertThat(cb.invocations()).isEqualTo(1);
      assertThat(err.text()).contains("handler boom on " + when);
    }
  }

  /**
   * A listener that throws an Error (a StackOverflowError): logged and skipped like an exception.
   * The other listeners hear every event, the call ends with its callback, and the attempt that
   * carried the response is not cancelled (OkHttp cancels a call whose callback throws, which would
   * break the body the caller is about to read). Before, the call stayed unfinished.
   */
  @Test
  void aListenerThatThrowsAnErrorOnTheDispatcherStrandsNoCall() {
    EventRecorder after = new EventRecorder();
    AtomicInteger thrown = new AtomicInteger();
    FailoverListener overflowing =
        new FailoverListener() {
          @Override
          public void onAttempt(FailoverEvent.AttemptFinished event) {
            if (thrown.getAndIncrement() == 0) {
              throw new StackOverflowError("listener overflow");
            }
          }
        };
    try (StderrCapture err = new StderrCapture();
        Harness h = new Harness(b -> b.listener(overflowing).listener(after))) {
      RecordingCallback cb = new RecordingCallback();
      h.enqueue(get("/listener/error"), cb);
      Exchange first = h.transport.next();
      first.respond(200);
      assertThat(cb.awaitStatus()).isEqualTo(200);
      after.awaitCallFinished("/listener/error");
      assertThat(after.attempts("/listener/error")).hasSize(1);
      assertThat(first.call.isCanceled()).as("the winning attempt's call").isFalse();
      nextCallWorks(h, "/listener/error/next");
      h.quiesce();
      assertThat(cb.invocations()).isEqualTo(1);
      assertThat(thrown.get()).isEqualTo(2);
      assertThat(err.text()).contains("listener overflow");
    }
  }

  @Test
  void listenersThatThrowAreLoggedAndSkippedAndTheCallsGoOn() {
    ThrowingListener runtime = new ThrowingListener(false);
    ThrowingListener linkage = new ThrowingListener(true);
    EventRecorder after = new EventRecorder();
    try (StderrCapture err = new StderrCapture();
        Harness h = new Harness(b -> b.listener(runtime).listener(linkage).listener(after))) {
      // A retry: events on OkHttp's threads.
      String retried = "/listener/retried";
      RecordingCallback cb1 = new RecordingCallback();
      h.enqueue(get(retried), cb1);
      Exchange first = h.transport.next();
      first.respond(503);
      h.scheduler.advance(h.awaitRetryTimer(retried, 1));
      Exchange second = h.transport.next();
      second.respond(200);
      assertThat(cb1.awaitStatus()).isEqualTo(200);

      // A deadline: events on the timer (this thread).
      String timedOut = "/listener/deadline";
      long t1 = h.scheduler.now();
      RecordingCallback cb2 = new RecordingCallback();
      h.enqueue(get(timedOut), cb2);
      h.transport.next();
      h.scheduler.advanceTo(t1 + DEADLINE.toNanos());
      assertThat(cb2.awaitFailure().reason()).isEqualTo(FailoverException.Reason.DEADLINE_EXCEEDED);

      // A cancel: events on the caller's thread.
      String cancelled = "/listener/cancelled";
      RecordingCallback cb3 = new RecordingCallback();
      Call call = h.enqueue(get(cancelled), cb3);
      h.transport.next();
      assertThatCode(call::cancel).doesNotThrowAnyException();
      assertThat(cb3.awaitFailure().reason()).isEqualTo(FailoverException.Reason.CANCELLED);

      h.quiesce();
      for (RecordingCallback cb : java.util.List.of(cb1, cb2, cb3)) {
        assertThat(cb.invocations()).isEqualTo(1);
      }
      assertThat(first.body().closed()).as("the retried 503 is closed").isTrue();
      assertThat(h.events.attempts(retried))
          .extracting(Attempt::kind, a -> a.endpoint().url().host(), Attempt::outcome)
          .containsExactly(
              tuple(Attempt.Kind.FIRST, A1, Outcome.UNAVAILABLE),
              tuple(Attempt.Kind.RETRY, B1, Outcome.SUCCESS));
      // The listener added after the throwing ones heard every event the first one did (events of
      // different threads may reach the two in a different order).
      assertThat(after.all()).containsExactlyInAnyOrderElementsOf(h.events.all());
      // 3 calls: 4 attempts, 1 retry, 3 ends; every one reached both throwing listeners.
      assertThat(runtime.calls.get()).isEqualTo(8);
      assertThat(linkage.calls.get()).isEqualTo(8);
      assertThat(err.text())
          .contains("listener boom on AttemptFinished")
          .contains("listener boom on RetryScheduled")
          .contains("listener boom on CallFinished")
          .contains("Failover listener");
    }
  }

  /**
   * OkHttp runs an EventListener's callStart inside enqueue(), before its dispatcher has the call:
   * when it throws, that attempt never runs and no callback would ever come for it.
   */
  @Test
  void anEventListenerThatThrowsFromCallStartEndsItsAttemptAtOnceAndBlamesNoEndpoint() {
    String path = "/listener/call-start";
    try (Harness h =
        new Harness(b -> b.ejection(EjectionPolicy.defaults().withConsecutiveFailures(1)))) {
      RecordingCallback cb = new RecordingCallback();
      Call call = h.client.newCall(get(path));
      call.addEventListener(
          new EventListener() {
            @Override
            public void callStart(Call c) {
              throw new IllegalStateException("callStart boom");
            }
          });
      assertThatCode(() -> call.enqueue(cb)).doesNotThrowAnyException();

      // At once: the fake clock never moves, so no timer can have ended the call.
      FailoverException e = cb.awaitFailure();
      assertThat(e.reason()).isEqualTo(FailoverException.Reason.RETRIES_EXHAUSTED);
      assertThat(e).hasRootCauseMessage("callStart boom");
      assertThat(h.events.attempts(path))
          .extracting(Attempt::outcome)
          .containsExactly(Outcome.CANCELLED);
      assertThat(h.endpoint(A1).outstanding()).isZero();
      assertThat(h.endpoint(A1).health()).isEqualTo(dev.failover.FailoverSnapshot.Health.HEALTHY);

      nextCallWorks(h, "/listener/after-call-start");
      h.quiesce();
      assertThat(cb.invocations()).isEqualTo(1);
    }
  }

  /**
   * OkHttp tells an EventListener canceled() last, once the call is cancelled: when it throws, the
   * other attempts are still cancelled and the call's events and end still come.
   */
  @Test
  void anEventListenerThatThrowsFromCanceledLosesNoEventAndStopsNothing() {
    String path = "/listener/canceled";
    try (StderrCapture err = new StderrCapture();
        Harness h = Harness.hedging()) {
      RecordingCallback cb = new RecordingCallback();
      Call call = h.client.newCall(get(path));
      call.addEventListener(
          new EventListener() {
            @Override
            public void canceled(Call c) {
              throw new IllegalStateException("canceled boom");
            }
          });
      call.enqueue(cb);
      Exchange first = h.transport.next();
      h.scheduler.advance(Harness.HEDGE_DELAY);
      Exchange hedge = h.transport.next();
      hedge.respond(200);
      assertThat(cb.awaitStatus()).isEqualTo(200);

      h.events.awaitCallFinished(path);
      assertThat(first.call.isCanceled()).as("the losing attempt is cancelled").isTrue();
      nextCallWorks(h, "/listener/after-canceled");
      h.quiesce();
      assertThat(cb.invocations()).isEqualTo(1);
      assertThat(err.text()).contains("canceled boom");
    }
  }

  /**
   * The application's EventListener.Factory is the application's code, not the endpoint's: the
   * attempt never left, so the call retries it, and the endpoint is not blamed.
   */
  @Test
  void anEventListenerFactoryThatThrowsBlamesNoEndpoint() {
    String path = "/listener/factory";
    AtomicInteger thrown = new AtomicInteger();
    // The harness's clock, for the transport made before the harness.
    java.util.concurrent.atomic.AtomicReference<Harness> harness =
        new java.util.concurrent.atomic.AtomicReference<>();
    FakeTransport transport = new FakeTransport(() -> harness.get().clock.nanos());
    okhttp3.OkHttpClient base = transport.okHttpClient();
    EventListener.Factory hooks = base.eventListenerFactory();
    okhttp3.OkHttpClient throwing =
        base.newBuilder()
            .eventListenerFactory(
                c -> {
                  if (c.request().url().encodedPath().equals(path)
                      && thrown.getAndIncrement() == 0) {
                    throw new IllegalStateException("factory boom");
                  }
                  return hooks.create(c);
                })
            .build();
    try (StderrCapture err = new StderrCapture();
        Harness h =
            new Harness(
                b ->
                    b.okHttpClient(throwing)
                        .ejection(EjectionPolicy.defaults().withConsecutiveFailures(1)))) {
      harness.set(h);
      RecordingCallback cb = new RecordingCallback();
      h.enqueue(get(path), cb);
      h.scheduler.advance(h.awaitRetryTimer(path, 1));
      Exchange retry = transport.next();
      assertThat(retry.host()).isEqualTo(B1);
      retry.respond(200);
      assertThat(cb.awaitStatus()).isEqualTo(200);

      h.events.awaitCallFinished(path);
      assertThat(h.events.attempts(path))
          .extracting(a -> a.endpoint().url().host(), Attempt::outcome)
          .containsExactly(tuple(A1, Outcome.CONNECT_FAILED), tuple(B1, Outcome.SUCCESS));
      assertThat(h.endpoint(A1).health()).isEqualTo(dev.failover.FailoverSnapshot.Health.HEALTHY);
      assertThat(h.endpoint(A1).ejections()).isZero();
      assertThat(h.endpoint(A1).outstanding()).isZero();
      h.quiesce();
      assertThat(err.text()).contains("factory boom");
    }
  }

  @Test
  void anIOExceptionOfAnInterceptorBeforeTheSdkBlamesNoEndpointAndIsNotRetried() {
    // The application's interceptor throws its own IOException before proceed (its token
    // service is down): before, it was a refused connection of the endpoint (it never reached the
    // network), retried on B1, then W1, each ejected in turn (with one failure enough here).
    try (Harness h =
        new Harness(b -> b.ejection(EjectionPolicy.defaults().withConsecutiveFailures(1)))) {
      h.transport.holdInClient(r -> true); // never past the application's interceptor
      RecordingCallback cb = new RecordingCallback();
      h.enqueue(Harness.post("/user/token"), cb);
      IOException own = new IOException("token service unavailable");
      h.transport.next().fail(own);
      FailoverException e = cb.awaitFailure();
      assertThat(e.reason()).isEqualTo(FailoverException.Reason.RETRIES_EXHAUSTED);
      assertThat(e.attempts()).extracting(Attempt::outcome).containsExactly(Outcome.CANCELLED);
      h.events.awaitCallFinished("/user/token");
      assertThat(h.endpoint(A1).breakerState()).isEqualTo("CLOSED");
      assertThat(h.events.of(FailoverEvent.EndpointEjected.class)).isEmpty();

      h.transport.holdInClient(r -> false);
      nextCallWorks(h, "/user/after-token");
      h.quiesce();
    }
  }
}
