package dev.failover;

import static com.github.tomakehurst.wiremock.client.WireMock.any;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.serviceUnavailable;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.failover.testkit.FakeZones;
import dev.failover.testkit.ZoneFault;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import okhttp3.Call;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code callerRunsFirstAttempt(true)}: execute() runs the first attempt on the caller's thread;
 * everything else (retries, hedges, the deadline, what is sent twice) behaves as without it.
 */
class CallerRunsTest {

  @RegisterExtension static FakeZones zones = Zones3.zones();

  @BeforeEach
  void stub() {
    Zones3.stub(zones);
  }

  private static Request get(int id) {
    return Zones3.user(id);
  }

  /** An OkHttp client whose interceptor records the thread of every attempt. */
  private static OkHttpClient recording(List<String> threads) {
    return new OkHttpClient.Builder()
        .addInterceptor(
            chain -> {
              threads.add(Thread.currentThread().getName());
              return chain.proceed(chain.request());
            })
        .build();
  }

  @Test
  void theFirstAttemptRunsOnTheCallersThreadAndARetryOnTheDispatcher() throws IOException {
    List<String> threads = new CopyOnWriteArrayList<>();
    try (FailoverClient client =
        Zones3.client(zones)
            .okHttpClient(recording(threads))
            .callerRunsFirstAttempt(true)
            .build()) {
      try (Response r = client.newCall(get(1)).execute()) {
        assertThat(r.code()).isEqualTo(200);
      }
      assertThat(threads).containsExactly(Thread.currentThread().getName());
      zones.zone("us-east-1a").stubFor(any(anyUrl()).willReturn(serviceUnavailable()));
      threads.clear();
      try (Response r = client.newCall(get(2)).execute()) {
        assertThat(r.code()).isEqualTo(200);
      }
      assertThat(threads).hasSize(2);
      assertThat(threads.get(0)).isEqualTo(Thread.currentThread().getName());
      assertThat(threads.get(1)).isNotEqualTo(Thread.currentThread().getName());
    }
  }

  /** {@code POST /api/v1/users}: never hedged, and never sent twice once it reached a server. */
  private static Request post() {
    return new Request.Builder()
        .url("http://directory/api/v1/users")
        .post(okhttp3.RequestBody.create("{}", okhttp3.MediaType.get("application/json")))
        .build();
  }

  /**
   * Fills a client's hedge bucket with calls that are never hedged (POSTs): with an extra load of
   * 0.5 (half a token a call) ten calls leave five tokens, and no call spends one however slow the
   * machine, so the next GET can afford its hedge.
   */
  private static void fillHedgeBucketWithoutHedging(FailoverClient client) throws IOException {
    for (int i = 0; i < 10; i++) {
      try (Response r = client.newCall(post()).execute()) {
        assertThat(r.code()).isEqualTo(200);
      }
    }
  }

  @Test
  void aHedgeWinsWhileTheCallersAttemptHangsAndCancelsIt() throws IOException {
    try (FailoverClient client =
        Zones3.client(zones)
            .hedging(HedgePolicy.fixed(Duration.ofMillis(50)).withMaxExtraLoad(0.5))
            .deadline(Duration.ofSeconds(10))
            .callerRunsFirstAttempt(true)
            .build()) {
      fillHedgeBucketWithoutHedging(client);
      zones
          .zone("us-east-1a")
          .stubFor(any(anyUrl()).willReturn(okJson("{\"slow\":true}").withFixedDelay(5_000)));
      long start = System.nanoTime();
      try (Response r = client.newCall(get(3)).execute()) {
        assertThat(r.code()).isEqualTo(200);
        assertThat(r.body().string()).doesNotContain("slow");
      }
      // The home zone answers after 5 s; the hedge leaves after 50 ms. Margin for a busy machine.
      assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(3_000);
      // This call's hedge, the only one the client sent, won.
      assertThat(client.snapshot().counters().hedgesSent()).isEqualTo(1);
      assertThat(client.snapshot().counters().hedgesWon()).isEqualTo(1);
    }
  }

  @Test
  void aHangingZoneStillEndsTheCallByItsDeadline() {
    zones.fail(ZoneFault.hang());
    try (FailoverClient client =
        Zones3.client(zones)
            .deadline(Duration.ofMillis(600))
            .callerRunsFirstAttempt(true)
            .build()) {
      long start = System.nanoTime();
      assertThatThrownBy(() -> client.newCall(get(4)).execute())
          .isInstanceOf(FailoverException.class);
      long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      // The caller's attempt ends by its attempt timeout (200 ms), the rest by the deadline.
      assertThat(millis).isBetween(150L, 1_900L);
    }
  }

  @Test
  void aPostThatReachedAServerIsStillNeverSentTwice() {
    zones.stubAll(any(anyUrl()).willReturn(serviceUnavailable()));
    AtomicInteger sent = new AtomicInteger();
    OkHttpClient counting =
        new OkHttpClient.Builder()
            .addNetworkInterceptor(
                chain -> {
                  sent.incrementAndGet();
                  return chain.proceed(chain.request());
                })
            .build();
    try (FailoverClient client =
        Zones3.client(zones).okHttpClient(counting).callerRunsFirstAttempt(true).build()) {
      try (Response r = client.newCall(post()).execute()) {
        assertThat(r.code()).isEqualTo(503);
      } catch (IOException e) {
        throw new AssertionError(e);
      }
      assertThat(sent.get()).isEqualTo(1);
    }
  }

  /** An OkHttp client whose application interceptor throws {@code thrown} on every attempt. */
  private static OkHttpClient throwing(Throwable thrown, AtomicInteger onNetwork) {
    return new OkHttpClient.Builder()
        .addInterceptor(
            chain -> {
              if (thrown instanceof RuntimeException re) {
                throw re;
              }
              throw (Error) thrown;
            })
        .addNetworkInterceptor(
            chain -> {
              onNetwork.incrementAndGet();
              return chain.proceed(chain.request());
            })
        .build();
  }

  private static int outstanding(FailoverClient client) {
    int n = 0;
    for (FailoverSnapshot.Zone z : client.snapshot().zones()) {
      for (FailoverSnapshot.EndpointState e : z.endpoints()) {
        n += e.outstanding();
      }
    }
    return n;
  }

  /**
   * The application's code in an attempt throws (an interceptor, say a token provider that failed):
   * with or without callerRunsFirstAttempt, the attempt is cancelled as OkHttp's dispatcher cancels
   * an enqueued call whose interceptor threw, and the call ends at once with a FailoverException
   * caused by the throwable. Not retried (the same code would run again), and no evidence against
   * the endpoint or its zone. Before, on the caller's thread, the exception left execute() with the
   * attempt still counted in flight and the call never ended; on the dispatcher, the attempt
   * counted as a refused connection against a healthy endpoint and was retried on the others.
   */
  @org.junit.jupiter.params.ParameterizedTest(name = "callerRunsFirstAttempt {0}")
  @org.junit.jupiter.params.provider.ValueSource(booleans = {true, false})
  void anExceptionFromTheApplicationsInterceptorEndsTheCallAndChargesNoEndpoint(boolean callerRuns)
      throws Exception {
    Zones3.Recorder recorder = new Zones3.Recorder();
    AtomicInteger onNetwork = new AtomicInteger();
    IllegalStateException thrown = new IllegalStateException("token provider failed");
    try (FailoverClient client =
        Zones3.client(zones)
            .okHttpClient(throwing(thrown, onNetwork))
            .callerRunsFirstAttempt(callerRuns)
            .listener(recorder)
            .build()) {
      assertThatThrownBy(() -> client.newCall(get(1)).execute())
          .isInstanceOf(FailoverException.class)
          .satisfies(
              e ->
                  assertThat(e.getCause())
                      .isInstanceOf(IOException.class)
                      .hasMessageContaining("canceled due to")
                      .cause()
                      .isSameAs(thrown));
      assertEndedByItsOnlyAttempt(client, recorder, onNetwork);
    }
  }

  /**
   * The call ended before execute() returned: nothing in flight, its summary told, one attempt,
   * cancelled, never on the network, not retried, and no error charged to any zone.
   */
  private static void assertEndedByItsOnlyAttempt(
      FailoverClient client, Zones3.Recorder recorder, AtomicInteger onNetwork) {
    assertThat(outstanding(client)).isZero();
    assertThat(recorder.events).filteredOn(FailoverEvent.CallFinished.class::isInstance).hasSize(1);
    assertThat(recorder.events)
        .filteredOn(FailoverEvent.AttemptFinished.class::isInstance)
        .map(e -> ((FailoverEvent.AttemptFinished) e).attempt().outcome())
        .containsExactly(Outcome.CANCELLED);
    assertThat(recorder.events).noneMatch(FailoverEvent.RetryScheduled.class::isInstance);
    assertThat(onNetwork).hasValue(0);
    for (FailoverSnapshot.Zone z : client.snapshot().zones()) {
      assertThat(z.errorRatePercent()).as("errors charged to %s", z.locality()).isZero();
    }
  }

  /**
   * An Error in the caller's own attempt (a StackOverflowError in an interceptor, say) still
   * reaches the caller, as from a bare OkHttp execute(); the call has ended first, so nothing of it
   * stays in flight and no timer of it (a hedge, a retry) is left to fire.
   */
  @Test
  void anErrorInTheCallersAttemptReachesTheCallerAfterTheCallEnded() throws Exception {
    Zones3.Recorder recorder = new Zones3.Recorder();
    AtomicInteger onNetwork = new AtomicInteger();
    StackOverflowError thrown = new StackOverflowError("deep interceptor");
    try (FailoverClient client =
        Zones3.client(zones)
            .okHttpClient(throwing(thrown, onNetwork))
            .callerRunsFirstAttempt(true)
            .listener(recorder)
            .build()) {
      Call call = client.newCall(get(2));
      assertThatThrownBy(call::execute).isSameAs(thrown);
      assertEndedByItsOnlyAttempt(client, recorder, onNetwork);
    }
  }

  @Test
  void aCallerInterruptedWhileItRunsTheFirstAttemptGetsAnInterruptedIOException() throws Exception {
    // A server that accepts connections and never answers: OkHttp waits for the connection or
    // the response on the caller's thread, whose interrupt flag is set.
    try (java.net.ServerSocket silent =
            new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
        FailoverClient client =
            FailoverClient.builder()
                .service("silent")
                .home("r", "z")
                .endpoint("http://127.0.0.1:" + silent.getLocalPort(), "r", "z")
                .callerRunsFirstAttempt(true)
                .deadline(Duration.ofSeconds(30))
                .build()) {
      Call call = client.newCall(new Request.Builder().url("http://silent/x").build());
      Thread.currentThread().interrupt();
      try {
        // Before: OkHttp's undeclared InterruptedException escaped, the flag cleared, and the
        // call never ended (no deadline timer for execute()); or the interrupted read was a
        // TIMEOUT charged to the endpoint and retried.
        assertThatThrownBy(call::execute).isInstanceOf(java.io.InterruptedIOException.class);
        assertThat(Thread.currentThread().isInterrupted()).as("interrupt flag kept").isTrue();
      } finally {
        boolean unused = Thread.interrupted();
      }
      assertThat(call.isCanceled()).isTrue();
      FailoverSnapshot s = client.snapshot();
      assertThat(s.counters().failedCalls()).isEqualTo(1);
      assertThat(s.counters().attempts()).isEqualTo(1);
      FailoverSnapshot.EndpointState e = s.zones().get(0).endpoints().get(0);
      assertThat(e.outstanding()).isZero();
      assertThat(e.health()).isEqualTo(FailoverSnapshot.Health.HEALTHY);
    }
  }
}
