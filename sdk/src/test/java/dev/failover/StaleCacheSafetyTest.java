package dev.failover;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.ok;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.failover.testkit.FakeZones;
import dev.failover.testkit.ZoneFault;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationHandler;
import io.micrometer.observation.ObservationRegistry;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import okio.BufferedSource;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The stale cache never serves one caller's data to another: it keys on what the server saw (after
 * the application's interceptors), honours Cache-Control and Vary, never keeps Set-Cookie, and
 * never delays the caller to copy a body.
 */
class StaleCacheSafetyTest {

  @RegisterExtension
  static FakeZones zones =
      FakeZones.builder().region("us-east-1", "us-east-1a").endpointsPerZone(1).seed(3).build();

  /** The token an interceptor adds, as an app's auth interceptor would. */
  private final AtomicReference<String> token = new AtomicReference<>("");

  @BeforeEach
  void stub() {
    zones.stubAll(
        get(urlPathEqualTo("/me"))
            .withHeader("Authorization", equalTo("Bearer carol"))
            .willReturn(ok("{\"me\":\"carol-private\"}")));
    zones.stubAll(
        get(urlPathEqualTo("/me"))
            .withHeader("Authorization", equalTo("Bearer dave"))
            .willReturn(ok("{\"me\":\"dave-private\"}")));
    zones.stubAll(
        get(urlPathEqualTo("/login"))
            .willReturn(
                ok("{\"welcome\":true}")
                    .withHeader("Set-Cookie", "session=s3cr3t-of-the-first-caller")
                    .withHeader("Cache-Control", "private")));
    zones.stubAll(
        get(urlPathEqualTo("/banner"))
            .willReturn(ok("{\"banner\":\"hi\"}").withHeader("Set-Cookie", "tracking=abc")));
    zones.stubAll(
        get(urlPathEqualTo("/greeting"))
            .withHeader("Accept-Language", equalTo("en"))
            .willReturn(ok("hello").withHeader("Vary", "Accept-Language")));
    zones.stubAll(
        get(urlPathEqualTo("/greeting"))
            .withHeader("Accept-Language", equalTo("fr"))
            .willReturn(ok("bonjour").withHeader("Vary", "Accept-Language")));
    zones.stubAll(
        get(urlPathEqualTo("/secret"))
            .willReturn(ok("nope").withHeader("Cache-Control", "no-store, max-age=0")));
    zones.stubAll(
        get(urlPathEqualTo("/events"))
            .willReturn(
                aResponse()
                    .withStatus(200)
                    .withHeader("Content-Type", "text/event-stream")
                    .withBody("data: 1\n\ndata: 2\n\ndata: 3\n\ndata: 4\n\n")
                    .withChunkedDribbleDelay(4, 4000)));
  }

  private FailoverClient client() {
    OkHttpClient withAuth = new OkHttpClient.Builder().addInterceptor(this::signed).build();
    return clientOn(withAuth);
  }

  /** Signs the request for the current user, if there is one (none in a system context). */
  private Response signed(okhttp3.Interceptor.Chain chain) throws java.io.IOException {
    String t = token.get();
    Request r = chain.request();
    if (!t.isEmpty()) {
      r = r.newBuilder().header("Authorization", "Bearer " + t).build();
    }
    return chain.proceed(r);
  }

  private static Request call(String path) {
    return new Request.Builder().url("http://directory" + path).build();
  }

  private static String body(FailoverClient client, Request request) throws Exception {
    try (Response r = client.newCall(request).execute()) {
      return r.body().string();
    }
  }

  @Test
  void aTokenAddedByAnInterceptorIsPartOfTheKey() throws Exception {
    try (FailoverClient client = client()) {
      token.set("carol");
      assertThat(body(client, call("/me"))).isEqualTo("{\"me\":\"carol-private\"}");

      zones.fail(ZoneFault.refuse());
      token.set("dave");
      assertThatThrownBy(() -> client.newCall(call("/me")).execute())
          .isInstanceOf(FailoverException.class);
      token.set("");
      assertThatThrownBy(() -> client.newCall(call("/me")).execute())
          .isInstanceOf(FailoverException.class);

      // Carol herself still gets her own copy, marked stale.
      token.set("carol");
      try (Response r = client.newCall(call("/me")).execute()) {
        assertThat(r.body().string()).isEqualTo("{\"me\":\"carol-private\"}");
        assertThat(r.header("Warning")).isEqualTo("110 - \"Response is Stale\"");
      }
      assertThat(client.snapshot().counters().staleServed()).isEqualTo(1);
    }
  }

  @Test
  void privateResponsesOfAnonymousCallersAndSetCookieAreNeverKept() throws Exception {
    try (FailoverClient client = client()) {
      body(client, call("/login"));
      String banner = body(client, call("/banner"));

      zones.fail(ZoneFault.refuse());
      // Cache-Control: private to a caller with no identity: not kept at all.
      assertThatThrownBy(() -> client.newCall(call("/login")).execute())
          .isInstanceOf(FailoverException.class);
      // A shared response is kept, but never with the first caller's Set-Cookie.
      try (Response r = client.newCall(call("/banner")).execute()) {
        assertThat(r.body().string()).isEqualTo(banner);
        assertThat(r.header("Warning")).isNotNull();
        assertThat(r.headers("Set-Cookie")).isEmpty();
      }
    }
  }

  @Test
  void varyAndNoStoreAreHonoured() throws Exception {
    try (FailoverClient client = client()) {
      Request en = call("/greeting").newBuilder().header("Accept-Language", "en").build();
      Request fr = call("/greeting").newBuilder().header("Accept-Language", "fr").build();
      assertThat(body(client, en)).isEqualTo("hello");
      body(client, call("/secret"));

      zones.fail(ZoneFault.refuse());
      assertThat(body(client, en)).isEqualTo("hello");
      assertThatThrownBy(() -> client.newCall(fr).execute()).isInstanceOf(FailoverException.class);
      assertThatThrownBy(() -> client.newCall(call("/secret")).execute())
          .isInstanceOf(FailoverException.class);
    }
  }

  @Test
  void aStreamReachesTheCallerBeforeItsBodyEndsAndAPartlyReadBodyIsNotKept() throws Exception {
    try (FailoverClient client = client()) {
      long start = System.nanoTime();
      try (Response r = client.newCall(call("/events")).execute()) {
        long headersMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        // The body takes 4 s to arrive; the caller has the response long before.
        assertThat(headersMillis).isLessThan(2500);
        BufferedSource source = r.body().source();
        assertThat(source.readUtf8Line()).isEqualTo("data: 1");
      }
      zones.fail(ZoneFault.refuse());
      assertThatThrownBy(() -> client.newCall(call("/events")).execute())
          .isInstanceOf(FailoverException.class);
    }
  }

  @Test
  void aCopyIsServedWhenTheDeadlinePassesWhileEveryAttemptHangs() throws Exception {
    try (FailoverClient client =
        FailoverClient.builder()
            .service("directory")
            .home("us-east-1", "us-east-1a")
            .endpoint(zones.endpoints().get(0).url(), "us-east-1", "us-east-1a")
            .deadline(Duration.ofMillis(800))
            .staleIfError(StaleCache.of(100, 64 * 1024, Duration.ofMinutes(1)))
            .build()) {
      token.set("carol");
      Request me = call("/me").newBuilder().header("Authorization", "Bearer carol").build();
      assertThat(body(client, me)).isEqualTo("{\"me\":\"carol-private\"}");
      zones.fail(ZoneFault.hang());
      try (Response r = client.newCall(me).execute()) {
        assertThat(r.header("Warning")).isEqualTo("110 - \"Response is Stale\"");
        assertThat(r.body().string()).isEqualTo("{\"me\":\"carol-private\"}");
      }
    }
  }

  /** Carol's call succeeds; every endpoint refuses; Dave's call fails and gets no copy of hers. */
  private void assertDaveGetsNoCopyOfCarols(FailoverClient client) throws Exception {
    token.set("carol");
    assertThat(body(client, call("/me"))).isEqualTo("{\"me\":\"carol-private\"}");

    zones.fail(ZoneFault.refuse());
    token.set("dave");
    assertThatThrownBy(() -> client.newCall(call("/me")).execute())
        .isInstanceOf(FailoverException.class);
    assertThat(client.snapshot().counters().staleServed()).isZero();
  }

  /** A client of the one fake endpoint, with a stale cache, on {@code okHttp}. */
  private static FailoverClient clientOn(OkHttpClient okHttp, FailoverListener... listeners) {
    FailoverClient.Builder b = FailoverClient.builder();
    for (FailoverListener l : listeners) {
      b.listener(l);
    }
    return b.service("directory")
        .home("us-east-1", "us-east-1a")
        .endpoint(zones.endpoints().get(0).url(), "us-east-1", "us-east-1a")
        .okHttpClient(okHttp)
        .deadline(Duration.ofSeconds(10))
        .staleIfError(StaleCache.of(100, 64 * 1024, Duration.ofMinutes(1)))
        .build();
  }

  @Test
  void aPathAnInterceptorRewritesPerTenantIsPartOfTheKey() throws Exception {
    zones.stubAll(get(urlPathEqualTo("/t/acme/me")).willReturn(ok("{\"tenant\":\"acme\"}")));
    zones.stubAll(get(urlPathEqualTo("/t/globex/me")).willReturn(ok("{\"tenant\":\"globex\"}")));
    AtomicReference<String> tenant = new AtomicReference<>("acme");
    OkHttpClient perTenant =
        new OkHttpClient.Builder()
            .addInterceptor(
                chain -> {
                  Request r = chain.request();
                  String path = "/t/" + tenant.get() + r.url().encodedPath();
                  return chain.proceed(
                      r.newBuilder().url(r.url().newBuilder().encodedPath(path).build()).build());
                })
            .build();
    try (FailoverClient client = clientOn(perTenant)) {
      assertThat(body(client, call("/me"))).isEqualTo("{\"tenant\":\"acme\"}");

      zones.fail(ZoneFault.refuse());
      tenant.set("globex");
      assertThatThrownBy(() -> client.newCall(call("/me")).execute())
          .isInstanceOf(FailoverException.class);
      // The tenant whose copy it is still gets it.
      tenant.set("acme");
      try (Response r = client.newCall(call("/me")).execute()) {
        assertThat(r.body().string()).isEqualTo("{\"tenant\":\"acme\"}");
        assertThat(r.header("Warning")).isEqualTo("110 - \"Response is Stale\"");
      }
    }
  }

  @Test
  void credentialsAddedBelowTheApplicationsInterceptorsKeepNothing() throws Exception {
    // A network interceptor signs each request for the current user.
    OkHttpClient signing =
        new OkHttpClient.Builder()
            .addNetworkInterceptor(
                chain ->
                    chain.proceed(
                        chain
                            .request()
                            .newBuilder()
                            .header("Authorization", "Bearer " + token.get())
                            .build()))
            .build();
    try (FailoverClient client = clientOn(signing)) {
      assertDaveGetsNoCopyOfCarols(client);
    }
  }

  /**
   * A call one of whose attempts showed that identity is added below the application's interceptors
   * is served no copy, though a later attempt never got that far (refused before a network
   * interceptor ran): the call's last attempt alone was asked, and the copy kept for a call with no
   * identity was served to it.
   */
  @Test
  void aCallThatAnEarlierAttemptShowedGetsIdentityBelowIsServedNoCopy() throws Exception {
    zones.stubAll(get(urlPathEqualTo("/profile")).willReturn(ok("public")));
    zones.stubAll(
        get(urlPathEqualTo("/profile"))
            .withHeader("Authorization", equalTo("Bearer carol"))
            .willReturn(aResponse().withStatus(503)));
    OkHttpClient signing = new OkHttpClient.Builder().addNetworkInterceptor(this::signed).build();
    try (FailoverClient client =
        FailoverClient.builder()
            .service("directory")
            .home("us-east-1", "us-east-1a")
            .endpoint(zones.endpoints().get(0).url(), "us-east-1", "us-east-1a")
            .endpoint("http://127.0.0.1:9", "us-east-1", "us-east-1b") // refuses
            .okHttpClient(signing)
            .maxAttempts(2)
            .deadline(Duration.ofSeconds(10))
            .staleIfError(StaleCache.of(100, 64 * 1024, Duration.ofMinutes(1)))
            .build()) {
      assertThat(body(client, call("/profile"))).isEqualTo("public"); // kept: nothing added
      token.set("carol");
      // The first attempt is signed below and answered 503; the retry is refused.
      assertThatThrownBy(() -> client.newCall(call("/profile")).execute().close())
          .isInstanceOf(FailoverException.class);
      assertThat(client.snapshot().counters().staleServed()).isZero();
    }
  }

  /**
   * The SDK's own observations add trace headers below the application's interceptors, here one no
   * list of tracing headers knows (a tracer of its own, a new value per attempt): they are the
   * SDK's, not an identity, so a copy is still kept and served, also when an application
   * interceptor rebuilt the request without its tags.
   */
  @ParameterizedTest(name = "request rebuilt by the interceptor: {0}")
  @ValueSource(booleans = {false, true})
  void traceHeadersTheSdksObservationsAddStillGetACopy(boolean rebuilt) throws Exception {
    zones.stubAll(get(urlPathEqualTo("/users/42")).willReturn(ok("{\"id\":42}")));
    ObservationRegistry registry = ObservationRegistry.create();
    AtomicInteger traced = new AtomicInteger();
    registry
        .observationConfig()
        .observationHandler(
            new ObservationHandler<FailoverObservations.AttemptContext>() {
              @Override
              public boolean supportsContext(Observation.Context context) {
                return context instanceof FailoverObservations.AttemptContext;
              }

              @Override
              public void onStart(FailoverObservations.AttemptContext context) {
                context
                    .getSetter()
                    .set(context.getCarrier(), "X-Own-Tracer", "span-" + traced.incrementAndGet());
              }
            });
    OkHttpClient okHttp =
        new OkHttpClient.Builder()
            .addInterceptor(
                chain ->
                    chain.proceed(rebuilt ? Zones3.withoutTags(chain.request()) : chain.request()))
            .build();
    try (FailoverClient client = clientOn(okHttp, new FailoverObservations(registry))) {
      assertThat(body(client, call("/users/42"))).isEqualTo("{\"id\":42}");
      assertThat(traced.get()).isEqualTo(1);

      zones.fail(ZoneFault.refuse());
      try (Response r = client.newCall(call("/users/42")).execute()) {
        assertThat(r.body().string()).isEqualTo("{\"id\":42}");
        assertThat(r.header("Warning")).isEqualTo("110 - \"Response is Stale\"");
      }
      assertThat(client.snapshot().counters().staleServed()).isEqualTo(1);
    }
  }

  /** A network interceptor that puts the caller's token in the URL: nothing is kept. */
  @Test
  void credentialsANetworkInterceptorAddsToTheUrlKeepNothing() throws Exception {
    zones.stubAll(
        get(urlPathEqualTo("/me"))
            .withQueryParam("access_token", equalTo("carol"))
            .willReturn(ok("{\"me\":\"carol-private\"}")));
    OkHttpClient signing =
        new OkHttpClient.Builder()
            .addNetworkInterceptor(
                chain -> {
                  Request r = chain.request();
                  return chain.proceed(
                      r.newBuilder()
                          .url(
                              r.url()
                                  .newBuilder()
                                  .addQueryParameter("access_token", token.get())
                                  .build())
                          .build());
                })
            .build();
    try (FailoverClient client = clientOn(signing)) {
      assertDaveGetsNoCopyOfCarols(client);
    }
  }

  @Test
  void credentialsAnAuthenticatorAddsKeepNothing() throws Exception {
    zones.stubAll(
        get(urlPathEqualTo("/me"))
            .withHeader("Authorization", com.github.tomakehurst.wiremock.client.WireMock.absent())
            .willReturn(aResponse().withStatus(401).withHeader("WWW-Authenticate", "Bearer")));
    OkHttpClient authenticating =
        new OkHttpClient.Builder()
            .authenticator(
                (route, response) ->
                    response.request().header("Authorization") != null
                        ? null
                        : response
                            .request()
                            .newBuilder()
                            .header("Authorization", "Bearer " + token.get())
                            .build())
            .build();
    try (FailoverClient client = clientOn(authenticating)) {
      assertDaveGetsNoCopyOfCarols(client);
    }
  }

  /**
   * OkHttp's own cache adds If-None-Match below the application's interceptors: no identity, so a
   * copy is still served to a call whose attempts reached the network with it.
   */
  @Test
  void aRevalidationByOkHttpsOwnCacheStillGetsItsCopy(
      @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
    zones.stubAll(
        get(urlPathEqualTo("/etag"))
            .willReturn(
                ok("{\"v\":1}")
                    .withHeader("ETag", "\"v1\"")
                    .withHeader("Cache-Control", "no-cache")));
    OkHttpClient caching =
        new OkHttpClient.Builder().cache(new okhttp3.Cache(dir.toFile(), 1 << 20)).build();
    try (FailoverClient client = clientOn(caching)) {
      assertThat(body(client, call("/etag"))).isEqualTo("{\"v\":1}");
      // The next attempts carry If-None-Match: "v1" and are answered 503.
      zones.stubAll(get(urlPathEqualTo("/etag")).willReturn(aResponse().withStatus(503)));
      try (Response r = client.newCall(call("/etag")).execute()) {
        assertThat(r.header("Warning")).isEqualTo("110 - \"Response is Stale\"");
        assertThat(r.body().string()).isEqualTo("{\"v\":1}");
      }
      assertThat(
              zones.requestCount(
                  com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor(
                          urlPathEqualTo("/etag"))
                      .withHeader("If-None-Match", equalTo("\"v1\""))))
          .isPositive();
    } finally {
      caching.cache().close();
    }
  }
}
