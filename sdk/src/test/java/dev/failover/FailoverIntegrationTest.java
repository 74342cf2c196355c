package dev.failover;

import static com.github.tomakehurst.wiremock.client.WireMock.any;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.serverError;
import static com.github.tomakehurst.wiremock.client.WireMock.serviceUnavailable;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.failover.testkit.FakeEndpoint;
import dev.failover.testkit.FakeZones;
import dev.failover.testkit.Mark;
import dev.failover.testkit.ZoneFault;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import okhttp3.Call;
import okhttp3.Callback;
import okhttp3.ConnectionPool;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The core client over real sockets, against WireMock zones with socket-level faults. */
class FailoverIntegrationTest {

  @RegisterExtension static FakeZones zones = Zones3.zones();

  private final Zones3.Recorder recorder = new Zones3.Recorder();

  @BeforeEach
  void stub() {
    Zones3.stub(zones);
  }

  private static Request get(String path) {
    return new Request.Builder().url("http://directory" + path).build();
  }

  private static Request post(String path) {
    return new Request.Builder()
        .url("http://directory" + path)
        .post(RequestBody.create("{\"profile\":{}}", MediaType.get("application/json")))
        .build();
  }

  /**
   * An interceptor of the application's that sends the home zone's attempts elsewhere, in a request
   * built anew (a sidecar's address, say), which refuses: the SDK's interceptor still ran for them,
   * so their failures are the network's, judged and retried as ever (not the application's own
   * failure before the SDK, which is not retried).
   */
  @Test
  void anAttemptAnInterceptorSentToAnotherOriginIsStillRetried() throws IOException {
    int dead;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      dead = s.getLocalPort(); // closed: nothing listens there
    }
    List<Integer> home =
        zones.zone("us-east-1a").fakeEndpoints().stream().map(e -> e.port()).toList();
    OkHttpClient app =
        new OkHttpClient.Builder()
            .addInterceptor(
                chain -> {
                  Request r = chain.request();
                  if (!home.contains(r.url().port())) {
                    return chain.proceed(r);
                  }
                  return chain.proceed(
                      new Request.Builder()
                          .url(r.url().newBuilder().host("127.0.0.1").port(dead).build())
                          .headers(r.headers())
                          .method(r.method(), r.body())
                          .build());
                })
            .build();
    try (FailoverClient client = Zones3.client(zones).listener(recorder).okHttpClient(app).build();
        Response r = client.newCall(get("/api/v1/users/1")).execute()) {
      assertThat(r.code()).isEqualTo(200);
      assertThat(recorder.attempts())
          .filteredOn(a -> a.kind() == Attempt.Kind.FIRST)
          .singleElement()
          .extracting(Attempt::outcome)
          .isEqualTo(Outcome.CONNECT_FAILED);
      assertThat(recorder.attempts()).extracting(Attempt::outcome).contains(Outcome.SUCCESS);
    }
  }

  /**
   * An interceptor of the application's that fetches a token through the chain from its own
   * service, which is down (refuses): its failure is no evidence against the endpoints, which were
   * never asked. Before, each attempt was a refusal of its endpoint: every endpoint was ejected.
   */
  @Test
  void aTokenServiceThatRefusesThroughTheChainEjectsNoEndpoint() throws IOException {
    int dead;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      dead = s.getLocalPort(); // closed: nothing listens there
    }
    OkHttpClient app =
        new OkHttpClient.Builder()
            .addInterceptor(
                chain -> {
                  try (Response token =
                      chain.proceed(
                          new Request.Builder()
                              .url("http://127.0.0.1:" + dead + "/token")
                              .build())) {
                    return chain.proceed(
                        chain
                            .request()
                            .newBuilder()
                            .header("Authorization", token.header("t"))
                            .build());
                  }
                })
            .build();
    try (FailoverClient client =
        Zones3.client(zones)
            .listener(recorder)
            .okHttpClient(app)
            .ejection(EjectionPolicy.defaults().withConsecutiveFailures(1))
            .build()) {
      for (int i = 0; i < 3; i++) {
        Call call = client.newCall(get("/api/v1/users/" + i));
        assertThatThrownBy(call::execute).isInstanceOf(FailoverException.class);
      }
      assertThat(recorder.of(FailoverEvent.EndpointEjected.class)).isEmpty();
      assertThat(client.snapshot().zones())
          .allSatisfy(
              z -> assertThat(z.endpoints()).allSatisfy(e -> assertThat(e.ejections()).isZero()));
    }
  }

  /**
   * OkHttp's dispatcher tells the application's EventListener {@code dispatcherQueueEnd} of each
   * queued call it promotes, in the loop that then runs them: one that throws there ended the loop,
   * and the calls promoted after it were counted as running and never run (slots of {@code
   * maxRequests} lost for good: here every later call waited for its deadline).
   */
  @Test
  void anEventListenerThatThrowsAsQueuedCallsArePromotedStopsNoCall() throws Exception {
    zones.stubAll(
        com.github.tomakehurst.wiremock.client.WireMock.get(urlPathMatching("/slow/.*"))
            .willReturn(
                com.github.tomakehurst.wiremock.client.WireMock.ok("slow").withFixedDelay(200)));
    OkHttpClient app =
        new OkHttpClient.Builder()
            .eventListenerFactory(
                call ->
                    new okhttp3.EventListener() {
                      @Override
                      public void dispatcherQueueEnd(Call c, okhttp3.Dispatcher d) {
                        throw new IllegalStateException("no tracing context on this thread");
                      }
                    })
            .build();
    try (FailoverClient client =
        Zones3.client(zones)
            .okHttpClient(app)
            .maxRequests(1)
            .deadline(Duration.ofSeconds(20))
            .attemptTimeout(Duration.ofSeconds(20))
            .build()) {
      List<CompletableFuture<Integer>> codes = new java.util.ArrayList<>();
      for (int i = 0; i < 4; i++) {
        CompletableFuture<Integer> code = new CompletableFuture<>();
        client
            .newCall(get("/slow/" + i))
            .enqueue(
                new Callback() {
                  @Override
                  public void onResponse(Call call, Response response) {
                    try (response) {
                      code.complete(response.code());
                    }
                  }

                  @Override
                  public void onFailure(Call call, IOException e) {
                    code.completeExceptionally(e);
                  }
                });
        codes.add(code);
      }
      for (CompletableFuture<Integer> code : codes) {
        assertThat(code.get(30, TimeUnit.SECONDS)).isEqualTo(200);
      }
    }
  }

  @Test
  void theGuardedListenerPassesOnEveryMethodOfOkHttpsEventListener() throws Exception {
    // A method OkHttp adds to EventListener that the guard did not pass on would be silently lost
    // for the application's listener: checked at every OkHttp upgrade.
    for (java.lang.reflect.Method m : okhttp3.EventListener.class.getDeclaredMethods()) {
      int mod = m.getModifiers();
      if (!java.lang.reflect.Modifier.isPublic(mod)
          || java.lang.reflect.Modifier.isStatic(mod)
          || java.lang.reflect.Modifier.isFinal(mod)) {
        continue;
      }
      assertThat(GuardedEventListener.class.getDeclaredMethod(m.getName(), m.getParameterTypes()))
          .as(m.getName())
          .isNotNull();
    }
  }

  @Test
  void homeZoneRefusingConnectionsEveryGetSucceedsFromTheNextZone() throws IOException {
    zones.zone("us-east-1a").fail(ZoneFault.refuse());
    Mark mark = zones.mark();
    try (FailoverClient client =
        Zones3.client(zones)
            .listener(recorder)
            // Ejections that outlast the test however slow the machine (the default 5 s could end
            // within the 40 calls, and a returning endpoint be ejected a second time).
            .ejection(
                EjectionPolicy.defaults()
                    .withEjectionTime(Duration.ofMinutes(10), Duration.ofMinutes(10)))
            .build()) {
      for (int i = 0; i < 40; i++) {
        try (Response r = client.newCall(get("/api/v1/users/" + i)).execute()) {
          assertThat(r.code()).isEqualTo(200);
          assertThat(r.request().url().port())
              .isIn(zones.zone("us-east-1b").fakeEndpoints().stream().map(e -> e.port()).toList());
        }
      }
    }
    assertThat(zones.zone("us-east-1b").requestCount(mark)).isEqualTo(40);
    assertThat(zones.region("us-west-2").requestCount(mark)).isZero();
    // The home zone's endpoints were ejected after their first failures.
    assertThat(recorder.of(FailoverEvent.EndpointEjected.class))
        .extracting(e -> e.endpoint().locality().zone())
        .containsOnly("us-east-1a")
        .hasSize(2);
  }

  @Test
  void aZoneAnswering503IsRetriedElsewhere() throws IOException {
    zones.zone("us-east-1a").stubFor(any(anyUrl()).willReturn(serviceUnavailable()));
    try (FailoverClient client = Zones3.client(zones).listener(recorder).build()) {
      for (int i = 0; i < 10; i++) {
        try (Response r = client.newCall(get("/api/v1/users/" + i)).execute()) {
          assertThat(r.code()).isEqualTo(200);
        }
      }
    }
    for (FailoverEvent.RetryScheduled retry : recorder.of(FailoverEvent.RetryScheduled.class)) {
      assertThat(retry.failed().outcome()).isEqualTo(Outcome.UNAVAILABLE);
      assertThat(retry.failed().endpoint().locality().zone()).isEqualTo("us-east-1a");
    }
    assertThat(recorder.of(FailoverEvent.RetryScheduled.class)).isNotEmpty();
  }

  @Test
  void retryableStatusesAreTheUsersChoice() throws IOException {
    zones.zone("us-east-1a").stubFor(any(anyUrl()).willReturn(serverError()));
    try (FailoverClient client =
        Zones3.client(zones).retryableStatuses(Set.of(500, 502, 503, 504)).build()) {
      for (int i = 0; i < 5; i++) {
        try (Response r = client.newCall(get("/api/v1/users/" + i)).execute()) {
          assertThat(r.code()).isEqualTo(200); // a 500 from the home zone, retried elsewhere
        }
      }
    }
    zones.zone("us-east-1a").stubFor(any(anyUrl()).willReturn(serviceUnavailable()));
    try (FailoverClient client =
        Zones3.client(zones).listener(recorder).retryableStatuses(Set.of(429)).build()) {
      try (Response r = client.newCall(get("/api/v1/users/9")).execute()) {
        assertThat(r.code()).isEqualTo(503); // no longer retryable: the caller gets it
      }
    }
    assertThat(recorder.of(FailoverEvent.RetryScheduled.class)).isEmpty();
    assertThat(recorder.of(FailoverEvent.AttemptFinished.class))
        .extracting(e -> e.attempt().outcome())
        .containsExactly(Outcome.SERVER_ERROR);
  }

  @Test
  void aPostThatReachedAServerIsNeverSentTwice() throws IOException {
    zones.stubAll(any(anyUrl()).willReturn(serviceUnavailable()));
    try (FailoverClient client = Zones3.client(zones).listener(recorder).build();
        Response r = client.newCall(post("/api/v1/users")).execute()) {
      assertThat(r.code()).isEqualTo(503);
    }
    assertThat(zones.findAll(postRequestedFor(urlPathEqualTo("/api/v1/users")))).hasSize(1);
    assertThat(recorder.of(FailoverEvent.RetryScheduled.class)).isEmpty();
  }

  @Test
  void aPostWhoseConnectWasRefusedIsRetried() throws IOException {
    zones.zone("us-east-1a").fail(ZoneFault.refuse());
    try (FailoverClient client = Zones3.client(zones).listener(recorder).build();
        Response r = client.newCall(post("/api/v1/users")).execute()) {
      assertThat(r.code()).isEqualTo(200);
    }
    assertThat(zones.findAll(postRequestedFor(urlPathEqualTo("/api/v1/users")))).hasSize(1);
    assertThat(recorder.attempts())
        .extracting(Attempt::outcome)
        .containsExactly(Outcome.CONNECT_FAILED, Outcome.SUCCESS);
  }

  @Test
  void aPostWithAnIdempotencyKeyIsRetriedAfterA503() throws IOException {
    zones.zone("us-east-1a").stubFor(any(anyUrl()).willReturn(serviceUnavailable()));
    Request keyed = post("/api/v1/users").newBuilder().header("Idempotency-Key", "k-7").build();
    try (FailoverClient client = Zones3.client(zones).build();
        Response r = client.newCall(keyed).execute()) {
      assertThat(r.code()).isEqualTo(200);
    }
    assertThat(zones.findAll(postRequestedFor(urlPathEqualTo("/api/v1/users"))))
        .hasSize(2)
        .allSatisfy(req -> assertThat(req.getHeader("Idempotency-Key")).isEqualTo("k-7"));
  }

  @Test
  void retryAfterHoldsTheEndpointOff() throws IOException {
    // One endpoint of the home zone asks for a 30 s pause.
    zones
        .zone("us-east-1a")
        .endpoint(0)
        .stubFor(any(anyUrl()).willReturn(serviceUnavailable().withHeader("Retry-After", "30")));
    try (FailoverClient client = Zones3.client(zones).listener(recorder).build()) {
      for (int i = 0; i < 30; i++) {
        try (Response r = client.newCall(get("/api/v1/users/" + i)).execute()) {
          assertThat(r.code()).isEqualTo(200);
        }
      }
      assertThat(zones.zone("us-east-1a").endpoint(0).requestCount()).isEqualTo(1);
      assertThat(client.snapshot().zones().get(0).endpoints())
          .extracting(FailoverSnapshot.EndpointState::health)
          .contains(FailoverSnapshot.Health.HELD_OFF);
    }
  }

  /**
   * With every endpoint held off, routing panics and sends there all the same; a success from the
   * server that asked for the pause does not end it (routing honours what the server asked; ending
   * it would send every call to the first endpoint that answered while the others still shed load),
   * but no longer counts it against the endpoint's zone.
   */
  @Test
  void aSuccessWithinARetryAfterPauseLeavesThePauseToRouting() throws IOException {
    FakeEndpoint only = zones.zone("us-east-1a").endpoint(0);
    only.stubFor(any(anyUrl()).willReturn(serviceUnavailable().withHeader("Retry-After", "30")));
    try (FailoverClient client =
        FailoverClient.builder()
            .service("directory")
            .home("us-east-1", "us-east-1a")
            .endpoint(only.url(), "us-east-1", "us-east-1a")
            .maxAttempts(1)
            .build()) {
      try (Response r = client.newCall(get("/api/v1/users/1")).execute()) {
        assertThat(r.code()).isEqualTo(503);
      }
      Zones3.stub(zones);
      try (Response r = client.newCall(get("/api/v1/users/2")).execute()) {
        assertThat(r.code()).isEqualTo(200); // sent by the panic, to the only endpoint
      }
      assertThat(client.snapshot().zones().get(0).endpoints())
          .extracting(FailoverSnapshot.EndpointState::health)
          .containsExactly(FailoverSnapshot.Health.HELD_OFF);
      assertThat(client.snapshot().panic()).isTrue();
    }
  }

  /**
   * cancel() after the call ended with a response stops the body the caller is still reading, as a
   * cancel of OkHttp's own call does. Before, the read went on to the body's end (or to the
   * attempt's timeout), with isCanceled() true all the same.
   */
  @Test
  void cancelAfterTheResponseEndsTheBodyStillBeingRead() throws Exception {
    zones.stubAll(
        com.github.tomakehurst.wiremock.client.WireMock.get(urlPathEqualTo("/dribble"))
            .willReturn(
                com.github.tomakehurst.wiremock.client.WireMock.ok("0123456789")
                    .withChunkedDribbleDelay(10, 8000)));
    try (FailoverClient client =
        Zones3.client(zones).deadline(Duration.ofSeconds(30)).maxAttempts(1).build()) {
      Call call = client.newCall(get("/dribble"));
      try (Response r = call.execute()) {
        long start = System.nanoTime();
        call.cancel();
        assertThat(call.isCanceled()).isTrue();
        assertThatThrownBy(() -> r.body().string()).isInstanceOf(IOException.class);
        // At once, not at the body's end 8 s later; a wide margin for load.
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(6));
      }

      // The same from enqueue()'s callback, on the call it is given.
      CompletableFuture<Throwable> read = new CompletableFuture<>();
      client
          .newCall(get("/dribble"))
          .enqueue(
              new Callback() {
                @Override
                public void onResponse(Call c, Response response) {
                  try (response) {
                    c.cancel();
                    response.body().string();
                    read.complete(null);
                  } catch (IOException e) {
                    read.complete(e);
                  }
                }

                @Override
                public void onFailure(Call c, IOException e) {
                  read.completeExceptionally(e);
                }
              });
      assertThat(read.get(20, TimeUnit.SECONDS)).isInstanceOf(IOException.class);

      // A body read to its end is not affected by a cancel that follows.
      Call done = client.newCall(get("/api/v1/users/1"));
      try (Response r = done.execute()) {
        String body = r.body().string();
        done.cancel();
        assertThat(body).contains("ACTIVE");
      }
    }
  }

  @Test
  void everyCallEndsByItsDeadlineAgainstServersThatNeverAnswer() {
    zones.fail(ZoneFault.hang());
    Duration deadline = Duration.ofMillis(400);
    try (FailoverClient client = Zones3.client(zones).deadline(deadline).build()) {
      for (int i = 0; i < 5; i++) {
        long start = System.nanoTime();
        assertThatThrownBy(() -> client.newCall(get("/api/v1/users/1")).execute())
            .isInstanceOfSatisfying(
                FailoverException.class,
                e -> {
                  assertThat(e.reason())
                      .isIn(
                          FailoverException.Reason.DEADLINE_EXCEEDED,
                          FailoverException.Reason.RETRIES_EXHAUSTED,
                          FailoverException.Reason.BUDGET_EXHAUSTED);
                  assertThat(e.attempts()).isNotEmpty();
                  // A timeout, or on a busy machine a connect that did not finish in time; or
                  // one still in flight when the deadline passed, which it cancelled.
                  assertThat(e.attempts())
                      .allMatch(
                          a ->
                              a.outcome() == Outcome.TIMEOUT
                                  || a.outcome() == Outcome.CONNECT_FAILED
                                  || (a.outcome() == Outcome.CANCELLED
                                      && "in flight when the deadline passed".equals(a.error())));
                });
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        // Generous: the bound is the deadline, plus scheduling noise on a busy machine.
        assertThat(millis).isLessThan(deadline.toMillis() + 1000);
      }
    }
  }

  @Test
  void underATotalOutageAttemptsPerCallStayWithinTheBudget() {
    zones.fail(ZoneFault.refuse());
    int calls = 300;
    try (FailoverClient client =
        Zones3.client(zones)
            .listener(recorder)
            .retryBudget(0.1, 1, Duration.ofSeconds(10))
            .backoff(Duration.ZERO, Duration.ZERO)
            .build()) {
      for (int i = 0; i < calls; i++) {
        assertThatThrownBy(() -> client.newCall(get("/api/v1/users/1")).execute())
            .isInstanceOf(FailoverException.class);
      }
    }
    int attempts = recorder.attempts().size();
    // Extra attempts <= 10% of calls + the 10-token reserve (1/s over the 10 s window).
    assertThat(attempts).isLessThanOrEqualTo(calls + calls / 10 + 10);
    assertThat(recorder.of(FailoverEvent.BudgetExhausted.class)).isNotEmpty();
    assertThat(attempts / (double) calls).isLessThan(1.2);
  }

  @Test
  void enqueueDeliversTheResponseOnce() throws Exception {
    zones.zone("us-east-1a").fail(ZoneFault.refuse());
    try (FailoverClient client = Zones3.client(zones).build()) {
      CompletableFuture<Integer> status = new CompletableFuture<>();
      client
          .newCall(get("/api/v1/users/9"))
          .enqueue(
              new Callback() {
                @Override
                public void onFailure(Call call, IOException e) {
                  status.completeExceptionally(e);
                }

                @Override
                public void onResponse(Call call, Response response) {
                  try (response) {
                    if (!status.complete(response.code())) {
                      throw new AssertionError("delivered twice");
                    }
                  }
                }
              });
      assertThat(status.get(10, TimeUnit.SECONDS)).isEqualTo(200);
    }
  }

  @Test
  void executeRunsEveryAttemptOnTheClientsDispatcherSoThatTheDeadlineHolds() throws IOException {
    List<String> threads = new java.util.concurrent.CopyOnWriteArrayList<>();
    OkHttpClient http =
        new OkHttpClient.Builder()
            .addInterceptor(
                chain -> {
                  threads.add(Thread.currentThread().getName());
                  return chain.proceed(chain.request());
                })
            .build();
    try (FailoverClient client = Zones3.client(zones).okHttpClient(http).build()) {
      try (Response r = client.newCall(get("/api/v1/users/1")).execute()) {
        assertThat(r.code()).isEqualTo(200);
      }
      zones.zone("us-east-1a").fail(ZoneFault.refuse());
      try (Response r = client.newCall(get("/api/v1/users/2")).execute()) {
        assertThat(r.code()).isEqualTo(200);
      }
      // The first attempt, and the retry, on the client's own threads: a blocking interceptor or
      // DNS lookup cannot hold the caller past the deadline.
      // (OkHttp names a dispatcher thread after the call it runs.)
      assertThat(threads).hasSize(3).doesNotContain(Thread.currentThread().getName());
    }
  }

  @Test
  void enqueueDeliversAFailureToOnFailure() throws Exception {
    zones.fail(ZoneFault.refuse());
    try (FailoverClient client = Zones3.client(zones).build()) {
      CompletableFuture<IOException> failure = new CompletableFuture<>();
      client
          .newCall(get("/api/v1/users/9"))
          .enqueue(
              new Callback() {
                @Override
                public void onFailure(Call call, IOException e) {
                  failure.complete(e);
                }

                @Override
                public void onResponse(Call call, Response response) {
                  response.close();
                  failure.completeExceptionally(new AssertionError("expected a failure"));
                }
              });
      assertThat(failure.get(10, TimeUnit.SECONDS))
          .isInstanceOfSatisfying(
              FailoverException.class, e -> assertThat(e.attempts()).isNotEmpty());
    }
  }

  @Test
  void afterCloseNoSdkThreadRemainsAndThePoolIsEmpty() throws Exception {
    ConnectionPool pool = new ConnectionPool();
    OkHttpClient http = new OkHttpClient.Builder().connectionPool(pool).build();
    FailoverClient client =
        Zones3.client(zones)
            .healthCheck(HealthCheck.http("/health").withInterval(Duration.ofMillis(50)))
            .hedging(HedgePolicy.fixed(Duration.ofMillis(5)))
            .build();
    FailoverClient shared = Zones3.client(zones).service("groups").okHttpClient(http).build();
    try {
      for (int i = 0; i < 20; i++) {
        try (Response r = client.newCall(get("/api/v1/users/" + i)).execute()) {
          assertThat(r.code()).isEqualTo(200);
        }
        try (Response r =
            shared
                .newCall(new Request.Builder().url("http://groups/api/v1/groups/" + i).build())
                .execute()) {
          assertThat(r.code()).isEqualTo(200);
        }
      }
      assertThat(sdkThreads()).isNotEmpty();
    } finally {
      client.close();
      shared.close();
    }
    assertThat(sdkThreads()).isEmpty();
    // A pool the client created is emptied; a pool given to it belongs to its owner.
    assertThat(pool.connectionCount()).isGreaterThan(0);
    pool.evictAll();
    assertThatThrownBy(() -> client.newCall(get("/x")))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("FailoverClient 'directory' is closed");
  }

  private static Set<String> sdkThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(Thread::isAlive)
        .map(Thread::getName)
        .filter(n -> n.startsWith("failover-directory-") || n.startsWith("failover-groups-"))
        .collect(Collectors.toSet());
  }

  @Test
  void healthChecksMarkADeadZoneDownAndBackUp() throws Exception {
    try (FailoverClient client =
        Zones3.client(zones)
            .listener(recorder)
            .healthCheck(
                HealthCheck.http("/health")
                    .withInterval(Duration.ofMillis(100))
                    .withDownInterval(Duration.ofMillis(50))
                    .withTimeout(Duration.ofMillis(200)))
            .build()) {
      zones.zone("us-east-1a").fail(ZoneFault.refuse());
      awaitHealth(client, FailoverSnapshot.Health.DOWN);
      Mark mark = zones.mark();
      for (int i = 0; i < 10; i++) {
        try (Response r = client.newCall(get("/api/v1/users/" + i)).execute()) {
          assertThat(r.code()).isEqualTo(200);
        }
      }
      // Down endpoints get no attempt at all: no connection was even tried.
      assertThat(
              recorder.attempts().stream()
                  .filter(a -> a.endpoint().locality().zone().equals("us-east-1a")))
          .isEmpty();
      assertThat(
              zones
                  .zone("us-east-1b")
                  .requestCount(mark, getRequestedFor(urlPathMatching("/api/.*"))))
          .isEqualTo(10);
      zones.zone("us-east-1a").heal();
      awaitHealth(client, FailoverSnapshot.Health.HEALTHY);
    }
    assertThat(recorder.of(FailoverEvent.EndpointRestored.class))
        .extracting(FailoverEvent.EndpointRestored::cause)
        .contains(FailoverEvent.Cause.HEALTH_CHECK);
  }

  private static void awaitHealth(FailoverClient client, FailoverSnapshot.Health health)
      throws InterruptedException {
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < until) {
      boolean all =
          client.snapshot().zones().get(0).endpoints().stream().allMatch(e -> e.health() == health);
      if (all) {
        return;
      }
      Thread.sleep(20);
    }
    throw new AssertionError(
        "home zone endpoints never became " + health + ": " + client.snapshot());
  }

  @Test
  void theExceptionListsEveryAttempt() {
    zones.fail(ZoneFault.refuse());
    try (FailoverClient client = Zones3.client(zones).build()) {
      assertThatThrownBy(() -> client.newCall(get("/api/v1/users/42?token=secret")).execute())
          .isInstanceOfSatisfying(
              FailoverException.class,
              e -> {
                assertThat(e.attempts()).hasSize(3);
                assertThat(e.attempts())
                    .extracting(a -> a.endpoint().locality().zone())
                    .containsExactly("us-east-1a", "us-east-1b", "us-west-2a");
                assertThat(e.getMessage())
                    .startsWith("GET http://directory/api/v1/users/42 failed after 3 attempts")
                    .contains("CONNECT_FAILED")
                    .doesNotContain("secret");
              });
    }
  }
}
