package dev.failover;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.ok;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
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
      // Nor is a response that sets a cookie for a caller with no identity: it started that
      // caller's session, and its body may be bound to it.
      assertThatThrownBy(() -> client.newCall(call("/banner")).execute())
          .isInstanceOf(FailoverException.class);
      assertThat(banner).isEqualTo("{\"banner\":\"hi\"}");
    }
  }

  /**
   * A response that sets a cookie for a caller with an identity is kept in that identity's key,
   * without its {@code Set-Cookie}: served again, it sets no cookie, and to nobody else.
   */
  @Test
  void aResponseThatSetsACookieIsKeptOnlyForItsCallersIdentityAndWithoutTheCookie()
      throws Exception {
    try (FailoverClient client = client()) {
      token.set("carol");
      String banner = body(client, call("/banner"));

      zones.fail(ZoneFault.refuse());
      try (Response r = client.newCall(call("/banner")).execute()) {
        assertThat(r.body().string()).isEqualTo(banner);
        assertThat(r.header("Warning")).isNotNull();
        assertThat(r.headers("Set-Cookie")).isEmpty();
      }
      token.set("");
      assertThatThrownBy(() -> client.newCall(call("/banner")).execute())
          .isInstanceOf(FailoverException.class);
      token.set("dave");
      assertThatThrownBy(() -> client.newCall(call("/banner")).execute())
          .isInstanceOf(FailoverException.class);
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
  /** An OkHttp client whose application interceptor sets a header. */
  private static OkHttpClient adding(String name, java.util.function.Supplier<String> value) {
    return new OkHttpClient.Builder()
        .addInterceptor(
            chain -> chain.proceed(chain.request().newBuilder().header(name, value.get()).build()))
        .build();
  }

  /** The call fails as the outage makes it: no copy is served in its place. */
  private static void assertNoCopy(FailoverClient client, Request request) {
    long served = client.snapshot().counters().staleServed();
    assertThatThrownBy(() -> client.newCall(request).execute().close())
        .isInstanceOf(FailoverException.class);
    assertThat(client.snapshot().counters().staleServed()).isEqualTo(served);
  }

  /** Names the current user, if there is one, below the application's interceptors. */
  private Response onBehalfOf(okhttp3.Interceptor.Chain chain) throws java.io.IOException {
    String t = token.get();
    Request r = chain.request();
    return chain.proceed(t.isEmpty() ? r : r.newBuilder().header("X-On-Behalf-Of", t).build());
  }

  private static FailoverClient clientOn(OkHttpClient okHttp, StaleCache stale) {
    return FailoverClient.builder()
        .service("directory")
        .home("us-east-1", "us-east-1a")
        .endpoint(zones.endpoints().get(0).url(), "us-east-1", "us-east-1a")
        .okHttpClient(okHttp)
        .deadline(Duration.ofSeconds(10))
        .staleIfError(stale)
        .build();
  }

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

  /**
   * An application interceptor that tunnels a GET as a POST (its query moved into a form body, as
   * for a query too long or too sensitive for a URL) sends what the key does not hold: every
   * customer's call had the same URL and headers.
   */
  @Test
  void aGetThatAnInterceptorSendsAsAPostWithABodyKeepsNothing() throws Exception {
    zones.stubAll(
        post(urlPathEqualTo("/orders"))
            .withRequestBody(equalTo("customer=alice"))
            .willReturn(ok("alice-orders")));
    zones.stubAll(
        post(urlPathEqualTo("/orders"))
            .withRequestBody(equalTo("customer=bob"))
            .willReturn(aResponse().withStatus(503)));
    OkHttpClient tunnelling =
        new OkHttpClient.Builder()
            .addInterceptor(
                chain -> {
                  Request r = chain.request();
                  String query = r.url().encodedQuery();
                  return chain.proceed(
                      r.newBuilder()
                          .url(r.url().newBuilder().query(null).build())
                          .header("X-HTTP-Method-Override", "GET")
                          .post(
                              okhttp3.RequestBody.create(
                                  query == null ? "" : query,
                                  okhttp3.MediaType.get("application/x-www-form-urlencoded")))
                          .build());
                })
            .build();
    try (FailoverClient client = clientOn(tunnelling)) {
      assertThat(body(client, call("/orders?customer=alice"))).isEqualTo("alice-orders");
      assertNoCopyOfAlices(client, call("/orders?customer=bob"));
    }
  }

  /**
   * A network interceptor that names a virtual host per tenant in {@code Host} adds identity below
   * the application's interceptors: OkHttp's bridge sets that header too, but to the URL's host.
   */
  @Test
  void aHostANetworkInterceptorSetsPerTenantKeepsNothing() throws Exception {
    zones.stubAll(
        get(urlPathEqualTo("/tenant"))
            .withHeader("Host", equalTo("alice.example"))
            .willReturn(ok("alice-orders")));
    zones.stubAll(
        get(urlPathEqualTo("/tenant"))
            .withHeader("Host", equalTo("bob.example"))
            .willReturn(aResponse().withStatus(503)));
    AtomicReference<String> tenant = new AtomicReference<>("alice");
    OkHttpClient virtualHosts =
        new OkHttpClient.Builder()
            .addNetworkInterceptor(
                chain ->
                    chain.proceed(
                        chain
                            .request()
                            .newBuilder()
                            .header("Host", tenant.get() + ".example")
                            .build()))
            .build();
    try (FailoverClient client = clientOn(virtualHosts)) {
      assertThat(body(client, call("/tenant"))).isEqualTo("alice-orders");
      tenant.set("bob");
      assertNoCopyOfAlices(client, call("/tenant"));
    }
  }

  /** Bob's call, which the server answers 503, ends without a copy of Alice's response. */
  private static void assertNoCopyOfAlices(FailoverClient client, Request bobs) throws Exception {
    try (Response r = client.newCall(bobs).execute()) {
      assertThat(r.code()).isEqualTo(503);
      assertThat(r.body().string()).doesNotContain("alice");
    } catch (FailoverException e) {
      // as well: the call failed as the outage made it
    }
    assertThat(client.snapshot().counters().staleServed()).isZero();
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
   * The SDK's own observations add trace context below the application's interceptors, a new value
   * per attempt: not an identity, so a copy is still kept and served, also when an application
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
                    .set(
                        context.getCarrier(),
                        "traceparent",
                        String.format("00-%032x-%016x-01", traced.incrementAndGet(), traced.get()));
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
                    // Stale at once: OkHttp's cache revalidates it on the next call.
                    .withHeader("Cache-Control", "max-age=0")));
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

  /**
   * A later answer of the server that is not kept (a 404 for a user deleted since, a no-store) ends
   * the older copy: an outage served the deleted user's record, as if still there.
   */
  @ParameterizedTest(name = "then {0}")
  @ValueSource(strings = {"404", "no-store", "private"})
  void aLaterAnswerThatIsNotKeptEndsTheOlderCopy(String then) throws Exception {
    zones.stubAll(get(urlPathEqualTo("/users/00u7")).willReturn(ok("{\"status\":\"ACTIVE\"}")));
    try (FailoverClient client = clientOn(new OkHttpClient())) {
      assertThat(body(client, call("/users/00u7"))).isEqualTo("{\"status\":\"ACTIVE\"}");
      zones.stubAll(
          get(urlPathEqualTo("/users/00u7"))
              .willReturn(
                  switch (then) {
                    case "404" -> aResponse().withStatus(404);
                    case "no-store" ->
                        ok("{\"status\":\"SUSPENDED\"}").withHeader("Cache-Control", "no-store");
                    default ->
                        ok("{\"status\":\"SUSPENDED\"}").withHeader("Cache-Control", "private");
                  }));
      try (Response r = client.newCall(call("/users/00u7")).execute()) {
        assertThat(r.code()).isEqualTo(then.equals("404") ? 404 : 200);
        r.body().string();
      }
      zones.fail(ZoneFault.refuse());

      assertNoCopy(client, call("/users/00u7"));
    }
  }

  /**
   * A copy of a response whose body is read to its end after the server answered the same request
   * with a 404 is not kept: it would have brought back what the server no longer has.
   */
  @Test
  void aCopyReadToItsEndAfterALaterAnswerThatIsNotKeptIsNotKept() throws Exception {
    zones.stubAll(get(urlPathEqualTo("/users/00u8")).willReturn(ok("{\"status\":\"ACTIVE\"}")));
    try (FailoverClient client = clientOn(new OkHttpClient())) {
      try (Response slowReader = client.newCall(call("/users/00u8")).execute()) {
        zones.stubAll(get(urlPathEqualTo("/users/00u8")).willReturn(aResponse().withStatus(404)));
        try (Response gone = client.newCall(call("/users/00u8")).execute()) {
          assertThat(gone.code()).isEqualTo(404);
        }
        assertThat(slowReader.body().string()).isEqualTo("{\"status\":\"ACTIVE\"}");
      }
      zones.fail(ZoneFault.refuse());

      assertNoCopy(client, call("/users/00u8"));
    }
  }

  /**
   * An answer of OkHttp's own cache is no new copy: each hit restarted the copy's age, and a copy
   * older than {@code maxAge} was served as new (with a server's max-age of an hour, an hour after
   * the origin last answered).
   */
  @Test
  void anAnswerOfOkHttpsOwnCacheDoesNotMakeTheCopyNew(
      @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
    zones.stubAll(
        get(urlPathEqualTo("/kept"))
            .willReturn(ok("{\"v\":1}").withHeader("Cache-Control", "max-age=600")));
    java.util.concurrent.atomic.AtomicLong now = new java.util.concurrent.atomic.AtomicLong();
    okhttp3.Cache cache = new okhttp3.Cache(dir.toFile(), 1 << 20);
    OkHttpClient caching = new OkHttpClient.Builder().cache(cache).build();
    try (FailoverClient client =
        FailoverClient.builder()
            .service("directory")
            .home("us-east-1", "us-east-1a")
            .endpoint(zones.endpoints().get(0).url(), "us-east-1", "us-east-1a")
            .okHttpClient(caching)
            .ticker(now::get) // moved by hand; one attempt a call, so no backoff waits on it
            .maxAttempts(1)
            .staleIfError(StaleCache.of(100, 64 * 1024, Duration.ofSeconds(1)))
            .build()) {
      assertThat(body(client, call("/kept"))).isEqualTo("{\"v\":1}"); // the copy, at 0
      now.addAndGet(Duration.ofMillis(600).toNanos());
      try (Response hit = client.newCall(call("/kept")).execute()) {
        assertThat(hit.networkResponse()).as("an answer of OkHttp's cache").isNull();
        assertThat(hit.body().string()).isEqualTo("{\"v\":1}");
      }
      now.addAndGet(Duration.ofMillis(600).toNanos()); // the copy is 1.2 s old: past maxAge
      cache.evictAll();
      zones.fail(ZoneFault.refuse());

      assertNoCopy(client, call("/kept"));
    } finally {
      cache.close();
    }
  }

  /** An observation handler that writes the current tenant, as a baggage remote field does. */
  private static ObservationRegistry tenantPropagating(AtomicReference<String> tenant) {
    ObservationRegistry registry = ObservationRegistry.create();
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
                context.getSetter().set(context.getCarrier(), "X-Tenant-Id", tenant.get());
              }
            });
    return registry;
  }

  /**
   * A header the SDK's observations add other than trace context (Boot's baggage remote fields
   * propagate a tenant so) is part of the key: one tenant's copy was served to another, the
   * observations' headers being left out of both the key and the check below it.
   */
  @Test
  void aTenantTheObservationsPropagateIsPartOfTheKey() throws Exception {
    zones.stubAll(
        get(urlPathEqualTo("/orders"))
            .withHeader("X-Tenant-Id", equalTo("acme"))
            .willReturn(ok("{\"orders\":\"acme\"}")));
    zones.stubAll(
        get(urlPathEqualTo("/orders"))
            .withHeader("X-Tenant-Id", equalTo("globex"))
            .willReturn(ok("{\"orders\":\"globex\"}")));
    AtomicReference<String> tenant = new AtomicReference<>("acme");
    try (FailoverClient client =
        clientOn(
            new OkHttpClient.Builder().build(),
            new FailoverObservations(tenantPropagating(tenant)))) {
      assertThat(body(client, call("/orders"))).isEqualTo("{\"orders\":\"acme\"}");
      zones.fail(ZoneFault.refuse());
      tenant.set("globex");
      assertThatThrownBy(() -> client.newCall(call("/orders")).execute().close())
          .isInstanceOf(FailoverException.class);
      tenant.set("acme");
      assertThat(body(client, call("/orders"))).isEqualTo("{\"orders\":\"acme\"}");
      assertThat(client.snapshot().counters().staleServed()).isEqualTo(1);
    }
  }

  /** {@code baggage} may carry a user or a tenant: it is part of the key. */
  @Test
  void baggageIsPartOfTheKey() throws Exception {
    zones.stubAll(get(urlPathEqualTo("/orders")).willReturn(ok("{\"orders\":\"someone\"}")));
    AtomicReference<String> baggage = new AtomicReference<>("tenant=acme");
    try (FailoverClient client = clientOn(adding("baggage", baggage::get))) {
      body(client, call("/orders"));
      zones.fail(ZoneFault.refuse());
      baggage.set("tenant=globex");
      assertNoCopy(client, call("/orders"));
    }
  }

  /**
   * A network interceptor that adds a caller's identity only to some calls (a user's, not a
   * system's): a call whose every connection is refused never reaches it, so never shows it. While
   * the application's client has network interceptors, such a call gets no copy, unless the
   * application declares that they add no identity.
   */
  @ParameterizedTest(name = "network interceptors declared to add no identity: {0}")
  @ValueSource(booleans = {false, true})
  void aCallThatNeverReachedTheNetworkInterceptorsGetsNoCopyUnlessTheyAreDeclaredHarmless(
      boolean declared) throws Exception {
    zones.stubAll(get(urlPathEqualTo("/profile")).willReturn(ok("public")));
    OkHttpClient signing =
        new OkHttpClient.Builder().addNetworkInterceptor(this::onBehalfOf).build();
    try (FailoverClient client =
        clientOn(
            signing,
            StaleCache.builder()
                .maxAge(Duration.ofMinutes(1))
                .networkInterceptorsAddNoIdentity(declared)
                .build())) {
      assertThat(body(client, call("/profile"))).isEqualTo("public"); // a system call: kept
      // No pooled connection left: an attempt sent on one would reach the network interceptor.
      signing.connectionPool().evictAll();
      zones.fail(ZoneFault.refuse());
      token.set("carol");
      if (declared) {
        // What the application declared: the copy is served.
        assertThat(body(client, call("/profile"))).isEqualTo("public");
        assertThat(client.snapshot().counters().staleServed()).isEqualTo(1);
      } else {
        assertNoCopy(client, call("/profile"));
      }
    }
  }

  /**
   * {@code User-Agent} is left out of the key, so it binds a {@code Cache-Control: private}
   * response to nobody: such a response was kept ({@code user} in its name read as an identity) and
   * served to every caller of the URL.
   */
  @Test
  void aUserAgentIsNoIdentityForAPrivateResponse() throws Exception {
    zones.stubAll(
        get(urlPathEqualTo("/account"))
            .willReturn(ok("{\"account\":\"x\"}").withHeader("Cache-Control", "private")));
    try (FailoverClient client = clientOn(adding("User-Agent", () -> "svc/1.4"))) {
      body(client, call("/account"));
      zones.fail(ZoneFault.refuse());
      assertNoCopy(client, call("/account"));
    }
  }

  /**
   * A response that must be revalidated before it is served stale ({@code must-revalidate}, {@code
   * no-cache}, and {@code s-maxage} in a cache shared by callers) is not kept, and a caller that
   * asks for a fresh response ({@code no-cache}, {@code max-age=0}) is served no copy (RFC 9111
   * 4.2.4).
   */
  @Test
  void mustRevalidateIsNotKeptAndACallerAskingForAFreshResponseGetsNoCopy() throws Exception {
    zones.stubAll(
        get(urlPathEqualTo("/balance"))
            .willReturn(ok("100").withHeader("Cache-Control", "max-age=0, must-revalidate")));
    zones.stubAll(
        get(urlPathEqualTo("/quote")).willReturn(ok("7").withHeader("Cache-Control", "no-cache")));
    zones.stubAll(
        get(urlPathEqualTo("/shared"))
            .willReturn(ok("8").withHeader("Cache-Control", "public, s-maxage=60")));
    zones.stubAll(get(urlPathEqualTo("/users/7")).willReturn(ok("{\"id\":7}")));
    Request fresh =
        new Request.Builder()
            .url("http://directory/users/7")
            .cacheControl(okhttp3.CacheControl.FORCE_NETWORK)
            .build();
    Request young =
        new Request.Builder()
            .url("http://directory/users/7")
            .header("Cache-Control", "max-age=0")
            .build();
    try (FailoverClient client = clientOn(new OkHttpClient.Builder().build())) {
      body(client, call("/balance"));
      body(client, call("/quote"));
      body(client, call("/shared"));
      body(client, fresh);
      body(client, young);
      zones.fail(ZoneFault.refuse());
      assertThatThrownBy(() -> client.newCall(call("/balance")).execute().close())
          .isInstanceOf(FailoverException.class);
      assertThatThrownBy(() -> client.newCall(call("/quote")).execute().close())
          .isInstanceOf(FailoverException.class);
      assertThatThrownBy(() -> client.newCall(call("/shared")).execute().close())
          .isInstanceOf(FailoverException.class);
      assertThatThrownBy(() -> client.newCall(fresh).execute().close())
          .isInstanceOf(FailoverException.class);
      assertThatThrownBy(() -> client.newCall(young).execute().close())
          .isInstanceOf(FailoverException.class);
      assertThat(client.snapshot().counters().staleServed()).isZero();
    }
  }

  /**
   * A caller that sets {@code Accept-Encoding} itself gets the body still compressed (OkHttp
   * decompresses only what it asked for): its copy is not served to a caller that did not.
   */
  @Test
  void anAcceptEncodingTheCallerSetIsPartOfTheKey() throws Exception {
    zones.stubAll(get(urlPathEqualTo("/users/8")).willReturn(ok("{\"id\":8}")));
    Request gzip =
        new Request.Builder()
            .url("http://directory/users/8")
            .header("Accept-Encoding", "gzip")
            .build();
    try (FailoverClient client = clientOn(new OkHttpClient.Builder().build())) {
      try (Response r = client.newCall(gzip).execute()) {
        r.body().bytes();
      }
      zones.fail(ZoneFault.refuse());
      assertThatThrownBy(() -> client.newCall(call("/users/8")).execute().close())
          .isInstanceOf(FailoverException.class);
      try (Response r = client.newCall(gzip).execute()) {
        assertThat(r.header("Warning")).isEqualTo("110 - \"Response is Stale\"");
      }
    }
  }

  /**
   * The SDK's threads inherit no {@code InheritableThreadLocal}: a dispatcher thread made while one
   * caller's call started carried that caller's context into the interceptors of later callers'
   * attempts (a token relayed from a security context kept with the thread).
   */
  @Test
  void theSdksThreadsCarryNoCallersInheritableContextAndTheApplicationsClassLoader()
      throws Exception {
    zones.stubAll(get(urlPathEqualTo("/users/9")).willReturn(ok("{\"id\":9}")));
    InheritableThreadLocal<String> user = new InheritableThreadLocal<>();
    java.util.List<String> seenByInterceptor = new java.util.concurrent.CopyOnWriteArrayList<>();
    OkHttpClient relaying =
        new OkHttpClient.Builder()
            .addInterceptor(
                chain -> {
                  seenByInterceptor.add(String.valueOf(user.get()));
                  return chain.proceed(chain.request());
                })
            .build();
    ClassLoader builders = Thread.currentThread().getContextClassLoader();
    ClassLoader alices = new java.net.URLClassLoader(new java.net.URL[0], builders);
    java.util.List<ClassLoader> loaders = new java.util.concurrent.CopyOnWriteArrayList<>();
    relaying =
        relaying
            .newBuilder()
            .addInterceptor(
                chain -> {
                  loaders.add(Thread.currentThread().getContextClassLoader());
                  return chain.proceed(chain.request());
                })
            .build();
    try (FailoverClient client = clientOn(relaying)) {
      Thread alice =
          new Thread(
              () -> {
                user.set("alice");
                try {
                  body(client, call("/users/9"));
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              });
      alice.setContextClassLoader(alices);
      alice.start();
      alice.join(30_000);
      assertThat(alice.isAlive()).isFalse();
      body(client, call("/users/9"));
      // Both attempts ran on the SDK's dispatcher threads, made on Alice's thread or later.
      assertThat(seenByInterceptor).containsExactly("null", "null");
      // A reconfiguration on a thread of another class loader builds a core whose threads keep
      // the application's too.
      Thread ops =
          new Thread(() -> client.reconfigure(b -> b.deadline(java.time.Duration.ofSeconds(9))));
      ops.setContextClassLoader(alices);
      ops.start();
      ops.join(30_000);
      assertThat(ops.isAlive()).isFalse();
      assertThat(client.settings().deadline()).isEqualTo(java.time.Duration.ofSeconds(9));
      body(client, call("/users/9"));
      // Whose context class loader is the application's, as the client was built with: not the
      // system's (what a thread without inherited thread locals gets from Java 19 on), nor Alice's.
      assertThat(loaders).hasSize(3).containsOnly(builders);
    }
  }

  /**
   * An application interceptor that sends a request twice (its own retry): the first pass showed
   * identity added below, the second never reached the network. The second pass's capture forgot
   * what the first showed, and the call was served the copy kept for a caller with no identity.
   */
  @Test
  void identityShownBelowByAFirstPassHoldsWhenAnInterceptorSendsAgain() throws Exception {
    zones.stubAll(get(urlPathEqualTo("/profile")).willReturn(ok("public")));
    java.util.concurrent.atomic.AtomicBoolean down =
        new java.util.concurrent.atomic.AtomicBoolean();
    java.util.concurrent.atomic.AtomicBoolean sendTwice =
        new java.util.concurrent.atomic.AtomicBoolean();
    AtomicReference<OkHttpClient> self = new AtomicReference<>();
    OkHttpClient resending =
        new OkHttpClient.Builder()
            // Connections refused from the moment the outage begins, before any network
            // interceptor runs.
            .socketFactory(
                new javax.net.SocketFactory() {
                  private final javax.net.SocketFactory real = javax.net.SocketFactory.getDefault();

                  @Override
                  public java.net.Socket createSocket() {
                    return new java.net.Socket() {
                      @Override
                      public void connect(java.net.SocketAddress to, int timeout)
                          throws java.io.IOException {
                        if (down.get()) {
                          throw new java.net.ConnectException("refused (test)");
                        }
                        super.connect(to, timeout);
                      }
                    };
                  }

                  @Override
                  public java.net.Socket createSocket(String host, int port)
                      throws java.io.IOException {
                    return real.createSocket(host, port);
                  }

                  @Override
                  public java.net.Socket createSocket(
                      String host, int port, java.net.InetAddress local, int localPort)
                      throws java.io.IOException {
                    return real.createSocket(host, port, local, localPort);
                  }

                  @Override
                  public java.net.Socket createSocket(java.net.InetAddress host, int port)
                      throws java.io.IOException {
                    return real.createSocket(host, port);
                  }

                  @Override
                  public java.net.Socket createSocket(
                      java.net.InetAddress host,
                      int port,
                      java.net.InetAddress local,
                      int localPort)
                      throws java.io.IOException {
                    return real.createSocket(host, port, local, localPort);
                  }
                })
            .addInterceptor(
                chain -> {
                  if (!sendTwice.getAndSet(false)) {
                    return chain.proceed(chain.request());
                  }
                  Request once = chain.request().newBuilder().header("Connection", "close").build();
                  try (Response first = chain.proceed(once)) {
                    first.body().string(); // reached the network: signed below
                  }
                  self.get().connectionPool().evictAll();
                  down.set(true);
                  return chain.proceed(chain.request()); // refused before the network
                })
            .addNetworkInterceptor(this::onBehalfOf)
            .build();
    self.set(resending);
    try (FailoverClient client =
        clientOn(
            resending,
            // Declared (wrongly) to add no identity: only the check of what reached the
            // network stands between Carol and the system's copy.
            StaleCache.builder()
                .maxAge(Duration.ofMinutes(1))
                .networkInterceptorsAddNoIdentity(true)
                .build())) {
      assertThat(body(client, call("/profile"))).isEqualTo("public"); // a system call: kept
      token.set("carol");
      sendTwice.set(true);
      assertThatThrownBy(() -> client.newCall(call("/profile")).execute().close())
          .isInstanceOf(FailoverException.class);
      assertThat(client.snapshot().counters().staleServed()).isZero();
      token.set("");
      // What the outage serves a caller with no identity: the copy (so Carol's refusal was hers).
      assertThat(body(client, call("/profile"))).isEqualTo("public");
    }
  }
}
