package dev.failover;

import static org.assertj.core.api.Assertions.assertThat;

import dev.failover.testkit.EndpointDescriptor;
import dev.failover.testkit.FakeZones;
import java.io.IOException;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import okhttp3.Interceptor;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Time an attempt spends in the client before it reaches the SDK's interceptor (waiting for a slot
 * of {@code maxRequests}, in the application's interceptors) is the client's, not the endpoint's:
 * an endpoint that answers at once is not judged slow because the client held the request, and an
 * attempt the client still held when a hedge won did not lose a race at its endpoint. Real sockets;
 * the client's delays are 2.5 s and up to 3 s against answers in milliseconds.
 */
class ClientSideDelayTest {

  @RegisterExtension static FakeZones zones = Zones3.zones();

  private final Zones3.Recorder recorder = new Zones3.Recorder();

  @BeforeEach
  void stub() {
    Zones3.stub(zones);
  }

  private static Request user(int id, boolean held) {
    Request.Builder b = new Request.Builder().url("http://directory/api/v1/users/" + id);
    if (held) {
      b.header("X-Held-By-The-Client", "1");
    }
    return b.build();
  }

  /**
   * With {@code rebuilt}, the interceptor also builds each request anew, without its tags (as one
   * that copies URL, method, headers and body does): the SDK finds its tags on the call's request.
   */
  @ParameterizedTest(name = "request rebuilt by the interceptor: {0}")
  @ValueSource(booleans = {false, true})
  void anAnswerTheClientHeldBackIsNotJudgedSlowAtItsEndpoint(boolean rebuilt) throws Exception {
    // An application interceptor that takes 2.5 s for one request, inside the client's only slot
    // of maxRequests: that call's attempt, and the call queued behind it, reach their endpoints
    // 2.5 s late, and are answered at once.
    Interceptor slowForOne =
        chain -> {
          Request r = chain.request();
          if (r.header("X-Held-By-The-Client") != null) {
            try {
              Thread.sleep(2_500); // the application's own slow work, not a wait of the test
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }
          return chain.proceed(rebuilt ? Zones3.withoutTags(r) : r);
        };
    try (FailoverClient client =
        Zones3.client(zones)
            .okHttpClient(new OkHttpClient.Builder().addInterceptor(slowForOne).build())
            .maxRequests(1)
            .deadline(Duration.ofSeconds(30))
            .attemptTimeout(Duration.ofSeconds(10))
            .hedging(HedgePolicy.off())
            .listener(recorder)
            .build()) {
      CountDownLatch done = new CountDownLatch(2);
      client.newCall(user(1, true)).enqueue(AttemptTimeoutTest.countDown(done));
      client.newCall(user(2, false)).enqueue(AttemptTimeoutTest.countDown(done));
      assertThat(done.await(60, TimeUnit.SECONDS)).isTrue();

      assertThat(recorder.attempts()).hasSize(2).allMatch(a -> a.outcome() == Outcome.SUCCESS);
      // Each call took 2.5 s or more; their endpoints answered in milliseconds.
      assertThat(recorder.attempts())
          .allMatch(a -> a.duration().compareTo(Duration.ofMillis(2_400)) >= 0);
      assertEveryEndpointFasterThanASecond(client);
    }
  }

  @Test
  void anAttemptTheClientStillHeldWhenAHedgeWonDidNotLoseARaceAtItsEndpoint() throws Exception {
    Set<Integer> homePorts =
        zones.endpoints().stream()
            .filter(d -> d.zone().equals("us-east-1a"))
            .map(EndpointDescriptor::url)
            .map(u -> okhttp3.HttpUrl.get(u).port())
            .collect(Collectors.toSet());
    AtomicBoolean holdHome = new AtomicBoolean();
    // An application interceptor that holds attempts to the home zone (a rate limiter, a token
    // refresh) until they are cancelled, 3 s at most: the hedge to the next zone, 100 ms later,
    // answers first.
    Interceptor slowForHome =
        chain -> {
          if (holdHome.get() && homePorts.contains(chain.request().url().port())) {
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
            while (!chain.call().isCanceled() && System.nanoTime() < until) {
              java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
            }
          }
          return chain.proceed(chain.request());
        };
    try (FailoverClient client =
        Zones3.client(zones)
            .okHttpClient(new OkHttpClient.Builder().addInterceptor(slowForHome).build())
            .deadline(Duration.ofSeconds(10))
            .hedging(HedgePolicy.fixed(Duration.ofMillis(100)).withMaxExtraLoad(0.5))
            .listener(recorder)
            .build()) {
      // The home zone's usual latency, and tokens for the hedges (half a token a call).
      for (int i = 0; i < 40; i++) {
        ok(client, user(i, false));
      }
      holdHome.set(true);
      for (int i = 0; i < 12; i++) {
        ok(client, user(100 + i, false));
        // One at a time: the next call begins once this one's held attempt has ended, so that
        // no two of them overlap (overlapping slowness is one piece of evidence, not several).
        int lost = i + 1;
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (cancelledFirstAttempts() < lost
            && recorder.of(FailoverEvent.EndpointEjected.class).isEmpty()
            && System.nanoTime() < until) {
          Thread.sleep(10);
        }
        assertThat(recorder.of(FailoverEvent.EndpointEjected.class)).isEmpty();
        assertThat(cancelledFirstAttempts()).isEqualTo(lost);
      }
      assertThat(recorder.of(FailoverEvent.Hedge.class))
          .as("hedges sent")
          .filteredOn(h -> h.action() == FailoverEvent.HedgeAction.SENT)
          .hasSizeGreaterThanOrEqualTo(10);
      assertThat(recorder.of(FailoverEvent.EndpointEjected.class)).isEmpty();
      for (FailoverSnapshot.EndpointState e :
          SwapTests.zone(client.snapshot(), "us-east-1a").endpoints()) {
        assertThat(e.health())
            .as("health of %s", e.endpoint())
            .isEqualTo(FailoverSnapshot.Health.HEALTHY);
      }
    }
  }

  /**
   * An application interceptor that sends the attempt twice (its own retry: here a first pass to a
   * path the endpoint answers in 1.5 s, discarded, then the real one, answered at once): the
   * endpoint's time began with the first pass through the SDK's interceptor, not the last.
   */
  @Test
  void anAttemptAnInterceptorSendsTwiceIsTimedFromItsFirstPass() throws Exception {
    zones.stubAll(
        com.github.tomakehurst.wiremock.client.WireMock.get(
                com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo("/slow-first-pass"))
            .willReturn(
                com.github.tomakehurst.wiremock.client.WireMock.okJson("{}")
                    .withFixedDelay(1_500)));
    Interceptor triesTwice =
        chain -> {
          Request r = chain.request();
          okhttp3.HttpUrl slow = r.url().newBuilder().encodedPath("/slow-first-pass").build();
          try (Response discarded = chain.proceed(r.newBuilder().url(slow).build())) {
            assertThat(discarded.code()).isEqualTo(200);
          }
          return chain.proceed(r);
        };
    try (FailoverClient client =
        Zones3.client(zones)
            .okHttpClient(new OkHttpClient.Builder().addInterceptor(triesTwice).build())
            .deadline(Duration.ofSeconds(30))
            .attemptTimeout(Duration.ofSeconds(10))
            .hedging(HedgePolicy.off())
            .build()) {
      ok(client, user(1, false));
      long slowest = 0;
      for (FailoverSnapshot.Zone z : client.snapshot().zones()) {
        for (FailoverSnapshot.EndpointState e : z.endpoints()) {
          slowest = Math.max(slowest, e.latency().toMillis());
        }
      }
      assertThat(slowest).as("the slowest endpoint latency, ms").isGreaterThanOrEqualTo(1_000);
    }
  }

  /**
   * An application interceptor that fetches a token from another origin through the chain before
   * the real request (here answered in 1.5 s): the token's request is the application's, not the
   * attempt's, so the endpoint's time begins with the real request.
   */
  @Test
  void aRequestToAnotherOriginSentThroughTheChainIsNotTheAttempts() throws Exception {
    zones.stubAll(
        com.github.tomakehurst.wiremock.client.WireMock.get(
                com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo("/slow-token"))
            .willReturn(
                com.github.tomakehurst.wiremock.client.WireMock.okJson("{}")
                    .withFixedDelay(1_500)));
    Interceptor fetchesAToken =
        chain -> {
          Request r = chain.request();
          okhttp3.HttpUrl elsewhere = null;
          for (EndpointDescriptor d : zones.endpoints()) {
            okhttp3.HttpUrl u = okhttp3.HttpUrl.get(d.url());
            if (u.port() != r.url().port()) {
              elsewhere = u.newBuilder().encodedPath("/slow-token").build();
              break;
            }
          }
          assertThat(elsewhere).isNotNull();
          try (Response token = chain.proceed(new Request.Builder().url(elsewhere).build())) {
            assertThat(token.code()).isEqualTo(200);
          }
          return chain.proceed(r);
        };
    try (FailoverClient client =
        Zones3.client(zones)
            .okHttpClient(new OkHttpClient.Builder().addInterceptor(fetchesAToken).build())
            .deadline(Duration.ofSeconds(30))
            .attemptTimeout(Duration.ofSeconds(10))
            .hedging(HedgePolicy.off())
            .build()) {
      long start = System.nanoTime();
      ok(client, user(1, false));
      assertThat(Duration.ofNanos(System.nanoTime() - start))
          .isGreaterThan(Duration.ofMillis(1_400));
      assertEveryEndpointFasterThanASecond(client);
    }
  }

  private static void assertEveryEndpointFasterThanASecond(FailoverClient client) {
    for (FailoverSnapshot.Zone z : client.snapshot().zones()) {
      for (FailoverSnapshot.EndpointState e : z.endpoints()) {
        assertThat(e.latency()).as("latency of %s", e.endpoint()).isLessThan(Duration.ofSeconds(1));
      }
    }
  }

  private long cancelledFirstAttempts() {
    return recorder.attempts().stream()
        .filter(a -> a.kind() == Attempt.Kind.FIRST && a.outcome() == Outcome.CANCELLED)
        .count();
  }

  private static void ok(FailoverClient client, Request request) throws IOException {
    try (Response r = client.newCall(request).execute()) {
      assertThat(r.code()).isEqualTo(200);
    }
  }
}
