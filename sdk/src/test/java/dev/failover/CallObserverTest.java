package dev.failover;

import static com.github.tomakehurst.wiremock.client.WireMock.any;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.serviceUnavailable;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.failover.testkit.FakeZones;
import dev.failover.testkit.ZoneFault;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import okhttp3.Interceptor;
import okhttp3.Request;
import okhttp3.Response;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The hook tracing is built on: a listener that is also a {@link CallObserver} sees each call start
 * on the caller's thread, each attempt (with its context) in its interceptor, and the call's end
 * before the caller gets the result, outside the call's lock and never on the scheduler's thread.
 */
class CallObserverTest {

  @RegisterExtension static FakeZones zones = Zones3.zones();

  @BeforeEach
  void stub() {
    Zones3.stub(zones);
  }

  /** Records what it sees; each call's context is a fresh list of the call's attempts. */
  static class Recording implements FailoverListener, CallObserver {
    final List<String> seen = new CopyOnWriteArrayList<>();
    final List<AttemptContext> attempts = new CopyOnWriteArrayList<>();
    final List<String> finishedOn = new CopyOnWriteArrayList<>();
    final List<Boolean> finishedHoldingTheCallsLock = new CopyOnWriteArrayList<>();
    volatile okhttp3.@Nullable Call current;

    @Override
    public Object callStarted(String service, Request request) {
      seen.add("start " + request.url().encodedPath() + " on " + Thread.currentThread().getName());
      return "ctx" + request.url().encodedPath();
    }

    @Override
    public void callFinished(
        @Nullable Object context, FailoverEvent.CallFinished event, @Nullable Throwable failure) {
      seen.add("end " + context + " " + event.status() + " " + (failure != null));
      finishedOn.add(Thread.currentThread().getName());
      okhttp3.Call c = current;
      finishedHoldingTheCallsLock.add(c != null && lockedByThisThread(c));
    }

    /**
     * Whether this thread holds the call's lock: another thread asks the call whether it was
     * cancelled, which takes that lock (the state machine's, behind the call the client handed
     * out), and cannot answer while this thread holds it.
     */
    private static boolean lockedByThisThread(okhttp3.Call c) {
      java.util.concurrent.CompletableFuture<Boolean> asked =
          java.util.concurrent.CompletableFuture.supplyAsync(c::isCanceled);
      try {
        asked.get(10, java.util.concurrent.TimeUnit.SECONDS);
        return false;
      } catch (java.util.concurrent.TimeoutException e) {
        return true;
      } catch (InterruptedException | java.util.concurrent.ExecutionException e) {
        throw new AssertionError(e);
      }
    }

    @Override
    public Interceptor attemptInterceptor() {
      return chain -> {
        AttemptContext a = chain.request().tag(AttemptContext.class);
        if (a != null) {
          attempts.add(a);
          return chain.proceed(
              chain
                  .request()
                  .newBuilder()
                  .header("x-trace", String.valueOf(a.callContext()))
                  .build());
        }
        return chain.proceed(chain.request());
      };
    }
  }

  private static Request get(String path) {
    return new Request.Builder().url("http://directory" + path).build();
  }

  @Test
  void theObserverSeesTheCallAndEachAttemptAndTheEndBeforeTheCaller() throws IOException {
    zones.zone("us-east-1a").stubFor(any(anyUrl()).willReturn(serviceUnavailable()));
    Recording observer = new Recording();
    try (FailoverClient client = Zones3.client(zones).listener(observer).build()) {
      okhttp3.Call call = client.newCall(get("/users/1"));
      observer.current = call;
      try (Response r = call.execute()) {
        assertThat(r.code()).isEqualTo(200);
        // The end was observed before execute() returned, outside the call's lock.
        assertThat(observer.seen)
            .containsExactly(
                "start /users/1 on " + Thread.currentThread().getName(),
                "end ctx/users/1 200 false");
        assertThat(observer.finishedHoldingTheCallsLock).containsExactly(false);
      }
    }
    // A 503 from the home zone, then a retry elsewhere: two attempts, each with the call's context.
    assertThat(observer.attempts)
        .extracting(AttemptContext::kind, AttemptContext::number, AttemptContext::callContext)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(Attempt.Kind.FIRST, 1, "ctx/users/1"),
            org.assertj.core.groups.Tuple.tuple(Attempt.Kind.RETRY, 2, "ctx/users/1"));
    assertThat(observer.attempts.get(0).endpoint().locality().zone()).isEqualTo("us-east-1a");
    assertThat(
            zones.requestCount(
                com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor(
                        com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo("/users/1"))
                    .withHeader(
                        "x-trace",
                        com.github.tomakehurst.wiremock.client.WireMock.equalTo("ctx/users/1"))))
        .isEqualTo(2);
  }

  @Test
  void aListenerThatThrowsAnErrorNeitherStrandsTheCallNorTheNextOne() throws IOException {
    FailoverListener failing =
        new FailoverListener() {
          @Override
          public void onAttempt(FailoverEvent.AttemptFinished event) {
            throw new AssertionError("a listener's bug");
          }

          @Override
          public void onCallFinished(FailoverEvent.CallFinished event) {
            throw new AssertionError("another");
          }
        };
    try (FailoverClient client =
        Zones3.client(zones).listener(failing).deadline(Duration.ofSeconds(10)).build()) {
      for (int i = 0; i < 3; i++) {
        long start = System.nanoTime();
        try (Response r = client.newCall(get("/users/" + (10 + i))).execute()) {
          assertThat(r.code()).isEqualTo(200);
        }
        // Returned with the answer, not at the 10 s deadline.
        assertThat(java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start))
            .isLessThan(5_000);
      }
    }
  }

  @Test
  void aCallEndedByItsDeadlineIsObservedOffTheSchedulerThread() throws Exception {
    zones.fail(ZoneFault.hang());
    Recording observer = new Recording();
    try (FailoverClient client =
        Zones3.client(zones).listener(observer).deadline(Duration.ofMillis(300)).build()) {
      java.util.concurrent.CompletableFuture<String> done =
          new java.util.concurrent.CompletableFuture<>();
      client
          .newCall(get("/users/2"))
          .enqueue(
              new okhttp3.Callback() {
                @Override
                public void onFailure(okhttp3.Call call, IOException e) {
                  done.complete(String.valueOf(observer.seen));
                }

                @Override
                public void onResponse(okhttp3.Call call, Response response) {
                  response.close();
                  done.complete("response");
                }
              });
      // The observer's end came before the callback, on a thread other than the scheduler's.
      assertThat(done.get(10, java.util.concurrent.TimeUnit.SECONDS))
          .contains("end ctx/users/2 0 true");
      assertThat(observer.finishedOn).singleElement().asString().doesNotContain("scheduler");
      // execute() ends by the caller's own timed wait, observed before it throws.
      assertThatThrownBy(() -> client.newCall(get("/users/3")).execute())
          .isInstanceOf(FailoverException.class);
      assertThat(observer.seen).contains("end ctx/users/3 0 true");
    }
  }

  @Test
  void aCallCancelledWhileItsObserverIsToldItStartedEndsCancelledWithoutAnAttempt() {
    Recording observer =
        new Recording() {
          @Override
          public Object callStarted(String service, Request request) {
            okhttp3.Call c = current;
            if (c != null) {
              c.cancel(); // the caller's other thread, say, cancels while the call is starting
            }
            return super.callStarted(service, request);
          }
        };
    try (FailoverClient client = Zones3.client(zones).listener(observer).build()) {
      okhttp3.Call call = client.newCall(get("/users/4"));
      observer.current = call;
      assertThatThrownBy(call::execute)
          .isInstanceOfSatisfying(
              FailoverException.class,
              e -> {
                assertThat(e.reason()).isEqualTo(FailoverException.Reason.CANCELLED);
                assertThat(e.attempts()).isEmpty();
              });
      assertThat(call.isCanceled()).isTrue();
      assertThat(observer.seen).contains("end ctx/users/4 0 true");
      assertThat(observer.attempts).isEmpty();
    }
  }

  @Test
  void anEventListenerHearsOfItsAttemptsCancellationOutsideTheCallsLock() throws Exception {
    zones.fail(ZoneFault.hang());
    List<Boolean> cancelledHoldingTheCallsLock = new CopyOnWriteArrayList<>();
    java.util.concurrent.CountDownLatch started = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.atomic.AtomicReference<okhttp3.Call> userCall =
        new java.util.concurrent.atomic.AtomicReference<>();
    okhttp3.EventListener listener =
        new okhttp3.EventListener() {
          @Override
          public void callStart(okhttp3.Call attempt) {
            started.countDown();
          }

          @Override
          public void canceled(okhttp3.Call attempt) {
            okhttp3.Call c = userCall.get();
            cancelledHoldingTheCallsLock.add(c != null && Recording.lockedByThisThread(c));
          }
        };
    try (FailoverClient client = Zones3.client(zones).deadline(Duration.ofSeconds(30)).build()) {
      okhttp3.Call call = client.newCall(get("/users/5"));
      userCall.set(call);
      call.addEventListener(listener);
      java.util.concurrent.CompletableFuture<IOException> failed =
          new java.util.concurrent.CompletableFuture<>();
      call.enqueue(
          new okhttp3.Callback() {
            @Override
            public void onFailure(okhttp3.Call c, IOException e) {
              failed.complete(e);
            }

            @Override
            public void onResponse(okhttp3.Call c, Response response) {
              response.close();
              failed.completeExceptionally(new AssertionError("a hanging zone answered"));
            }
          });
      // The first attempt is in flight (every zone hangs, its timeout is 10 s away): cancel the
      // call, which cancels that attempt in OkHttp, and OkHttp tells the listener.
      assertThat(started.await(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
      call.cancel();
      assertThat(failed.get(20, java.util.concurrent.TimeUnit.SECONDS))
          .isInstanceOfSatisfying(
              FailoverException.class,
              e -> assertThat(e.reason()).isEqualTo(FailoverException.Reason.CANCELLED));
    }
    assertThat(cancelledHoldingTheCallsLock).isNotEmpty().containsOnly(false);
  }

  @Test
  void theApplicationsEventListenerFactoryRunsOutsideTheCallsLock() throws IOException {
    List<Boolean> madeHoldingTheCallsLock = new CopyOnWriteArrayList<>();
    java.util.concurrent.atomic.AtomicReference<okhttp3.Call> userCall =
        new java.util.concurrent.atomic.AtomicReference<>();
    okhttp3.OkHttpClient own =
        new okhttp3.OkHttpClient.Builder()
            .eventListenerFactory(
                attempt -> {
                  okhttp3.Call c = userCall.get();
                  if (c != null && attempt.request().url().encodedPath().equals("/users/6")) {
                    madeHoldingTheCallsLock.add(Recording.lockedByThisThread(c));
                  }
                  return okhttp3.EventListener.NONE;
                })
            .build();
    try (FailoverClient client = Zones3.client(zones).okHttpClient(own).build()) {
      okhttp3.Call call = client.newCall(get("/users/6"));
      userCall.set(call);
      try (Response r = call.execute()) {
        assertThat(r.code()).isEqualTo(200);
      }
    }
    // OkHttp's newCall of the attempt ran the factory: not under the call's lock.
    assertThat(madeHoldingTheCallsLock).isNotEmpty().containsOnly(false);
  }

  @Test
  void anEventListenerFactoryThatThrowsFailsOnlyThatAttempt() throws IOException {
    java.util.concurrent.atomic.AtomicInteger made =
        new java.util.concurrent.atomic.AtomicInteger();
    okhttp3.OkHttpClient own =
        new okhttp3.OkHttpClient.Builder()
            .eventListenerFactory(
                attempt -> {
                  if (attempt.request().url().encodedPath().equals("/users/7")
                      && made.incrementAndGet() == 1) {
                    throw new IllegalStateException("a listener factory's bug");
                  }
                  return okhttp3.EventListener.NONE;
                })
            .build();
    try (FailoverClient client =
        Zones3.client(zones).okHttpClient(own).deadline(Duration.ofSeconds(20)).build()) {
      long start = System.nanoTime();
      try (Response r = client.newCall(get("/users/7")).execute()) {
        assertThat(r.code()).isEqualTo(200);
      }
      // The failed attempt was retried at once, not left to the 20 s deadline.
      assertThat(java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start))
          .isLessThan(10_000);
    }
    assertThat(made).hasValueGreaterThanOrEqualTo(2);
  }
}
