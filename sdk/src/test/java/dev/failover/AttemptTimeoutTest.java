package dev.failover;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.any;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.failover.testkit.FakeZones;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The attempt's timeout (the SDK's own, on its timeouts thread): it ends an attempt that hangs, as
 * a timeout, and it bounds reading the body of the response the caller got, as OkHttp's call
 * timeout did. Real sockets: the margins (a 1 s timeout against a 60 s hang, waits of 30 s) hold on
 * a busy machine.
 */
class AttemptTimeoutTest {
  private static final Duration ATTEMPT_TIMEOUT = Duration.ofSeconds(1);

  @org.junit.jupiter.api.extension.RegisterExtension static FakeZones zones = Zones3.zones();

  @BeforeEach
  void stub() {
    Zones3.stub(zones);
  }

  private static Request get(String path) {
    return new Request.Builder().url("http://directory" + path).build();
  }

  @ParameterizedTest(name = "callerRuns={0}")
  @ValueSource(booleans = {false, true})
  void anAttemptThatHangsTimesOutAndTheNextEndpointAnswers(boolean callerRuns) throws IOException {
    // Every endpoint of the home zone hangs for a minute before it answers.
    zones
        .zone("us-east-1a")
        .stubFor(any(anyUrl()).willReturn(aResponse().withStatus(200).withFixedDelay(60_000)));
    Zones3.Recorder events = new Zones3.Recorder();
    try (FailoverClient client =
        Zones3.client(zones)
            .attemptTimeout(ATTEMPT_TIMEOUT)
            .deadline(Duration.ofSeconds(30))
            .hedging(HedgePolicy.off())
            .callerRunsFirstAttempt(callerRuns)
            .listener(events)
            .build()) {
      long start = System.nanoTime();
      try (Response r = client.newCall(get("/hang")).execute()) {
        assertThat(r.code()).isEqualTo(200);
      }
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(25));
      List<Attempt> attempts = events.attempts();
      assertThat(attempts).hasSizeGreaterThanOrEqualTo(2);
      Attempt first = attempts.get(0);
      assertThat(first.outcome()).isEqualTo(Outcome.TIMEOUT);
      // Reported as OkHttp's own call timeout was.
      assertThat(first.error())
          .isEqualTo(InterruptedIOException.class.getSimpleName() + ": timeout");
      assertThat(first.duration()).isGreaterThanOrEqualTo(ATTEMPT_TIMEOUT);
      assertThat(attempts.get(attempts.size() - 1).outcome()).isEqualTo(Outcome.SUCCESS);
    }
  }

  /**
   * The home zone's endpoints are given by host name, and their lookups hang (a resolver that does
   * not answer: OkHttp's cancel cannot interrupt a lookup). The attempt's timeout still ends the
   * attempt, as a connect timeout, and the call goes on to another zone: a POST too, which never
   * left. Before, every call waited for the lookup and ended at its deadline with no retry, and the
   * endpoint was never charged. The lookup, once it returns, sends nothing.
   */
  @ParameterizedTest(name = "method={0}")
  @ValueSource(strings = {"GET", "POST"})
  void anAttemptWhoseLookupHangsTimesOutAndTheNextZoneAnswers(String method) throws Exception {
    java.util.concurrent.CountDownLatch lookupsHang = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CountDownLatch hungCallEnded = new java.util.concurrent.CountDownLatch(1);
    okhttp3.Dns dns =
        host -> {
          if (host.endsWith(".hanging-dns.test")) {
            try {
              lookupsHang.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }
          return List.of(InetAddress.getLoopbackAddress());
        };
    OkHttpClient app =
        new OkHttpClient.Builder()
            .dns(dns)
            .eventListener(
                new okhttp3.EventListener() {
                  @Override
                  public void callFailed(okhttp3.Call call, IOException ioe) {
                    if (call.request().url().host().endsWith(".hanging-dns.test")) {
                      hungCallEnded.countDown();
                    }
                  }
                })
            .build();
    List<Endpoint> endpoints = new ArrayList<>();
    for (Endpoint e : Zones3.endpoints(zones)) {
      boolean home = e.locality().zone().equals("us-east-1a");
      okhttp3.HttpUrl url = e.url();
      endpoints.add(
          home
              ? Endpoint.of(
                  url.newBuilder().host("ep" + url.port() + ".hanging-dns.test").build().toString(),
                  e.locality())
              : e);
    }
    String path = "/api/v1/users/dns-" + method;
    Request request =
        method.equals("GET")
            ? get(path)
            : get(path)
                .newBuilder()
                .post(okhttp3.RequestBody.create("{}", okhttp3.MediaType.get("application/json")))
                .build();
    Zones3.Recorder events = new Zones3.Recorder();
    try (FailoverClient client =
        FailoverClient.builder()
            .service("directory")
            .home("us-east-1", "us-east-1a")
            .endpoints(endpoints)
            .okHttpClient(app)
            .attemptTimeout(ATTEMPT_TIMEOUT)
            .deadline(Duration.ofSeconds(30))
            .hedging(HedgePolicy.off())
            .healthCheck(HealthCheck.off())
            .listener(events)
            .build()) {
      long start = System.nanoTime();
      try (Response r = client.newCall(request).execute()) {
        assertThat(r.code()).isEqualTo(200);
      } finally {
        lookupsHang.countDown();
      }
      // The lookup hangs up to 60 s, the deadline is 30 s: the timeout, not either, ended it.
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(20));
      List<Attempt> attempts = events.attempts();
      assertThat(attempts).hasSize(2);
      assertThat(attempts.get(0).endpoint().locality().zone()).isEqualTo("us-east-1a");
      assertThat(attempts.get(0).outcome()).isEqualTo(Outcome.CONNECT_FAILED);
      assertThat(attempts.get(0).error())
          .isEqualTo(InterruptedIOException.class.getSimpleName() + ": timeout");
      assertThat(attempts.get(1).endpoint().locality().zone()).isNotEqualTo("us-east-1a");
      assertThat(attempts.get(1).outcome()).isEqualTo(Outcome.SUCCESS);
      // The hung attempt, its lookup answered, ends without sending: one request in all.
      assertThat(hungCallEnded.await(30, TimeUnit.SECONDS)).isTrue();
      assertThat(zones.zone("us-east-1a").requestCount()).isZero();
      assertThat(
              zones.findAll(
                  com.github.tomakehurst.wiremock.client.WireMock.anyRequestedFor(
                      urlPathEqualTo(path))))
          .hasSize(1);
    } finally {
      app.connectionPool().evictAll();
    }
  }

  /**
   * An attempt's own timeout bounds its every read and write, so where it is no longer than
   * OkHttp's socket read and write timeouts those could never fire first: the SDK sends it without
   * them (okio's watchdog, which they wake, is then left alone). An attempt with a longer timeout
   * keeps them, and OkHttp's read timeout may end it first, as before; so does every attempt that
   * an HTTP proxy may tunnel (HTTPS, and cleartext HTTP/2 with prior knowledge), whose tunnel only
   * the read timeout bounds for sure. Timeouts here are long enough that no attempt times out on a
   * busy machine.
   */
  @Test
  void okHttpsSocketTimeoutsAreLeftOutOnlyWhereTheAttemptsOwnTimeoutEndsItFirst()
      throws IOException {
    // Each network request's timeouts, under the call it belongs to: a request that OkHttp sent
    // again within one attempt (a stale pooled connection) carries the same ones.
    List<String> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
    java.util.concurrent.atomic.AtomicReference<String> current =
        new java.util.concurrent.atomic.AtomicReference<>("");
    OkHttpClient app =
        new OkHttpClient.Builder()
            .readTimeout(Duration.ofSeconds(20))
            .writeTimeout(Duration.ofSeconds(40))
            .addNetworkInterceptor(
                chain -> {
                  seen.add(
                      current.get()
                          + " "
                          + chain.readTimeoutMillis()
                          + "/"
                          + chain.writeTimeoutMillis());
                  return chain.proceed(chain.request());
                })
            .build();
    List<String> calls = new ArrayList<>();
    try {
      for (Duration attemptTimeout :
          List.of(Duration.ofSeconds(10), Duration.ofSeconds(20), Duration.ofSeconds(30))) {
        try (FailoverClient client =
            Zones3.client(zones)
                .okHttpClient(app)
                .attemptTimeout(attemptTimeout)
                .deadline(Duration.ofSeconds(60))
                .hedging(HedgePolicy.off())
                .build()) {
          for (boolean callerRuns : new boolean[] {false, true}) {
            String call = attemptTimeout.toSeconds() + " s, caller runs " + callerRuns;
            calls.add(call);
            current.set(call);
            try (FailoverClient c = client.newBuilder().callerRunsFirstAttempt(callerRuns).build();
                Response r = c.newCall(get("/users/42")).execute()) {
              assertThat(r.code()).isEqualTo(200);
            }
          }
        }
      }
      // 10 s and 20 s end their attempts no later than the 20 s read timeout could (the shorter
      // of the two); 30 s does not, and keeps both.
      for (String call : calls) {
        String expected = call.startsWith("30 s") ? "20000/40000" : "0/0";
        assertThat(seen.stream().filter(e -> e.startsWith(call + " ")))
            .as(call)
            .isNotEmpty()
            .containsOnly(call + " " + expected);
      }
    } finally {
      app.connectionPool().evictAll();
    }

    // Over HTTPS the same where no HTTP proxy's tunnel can be on the way: no proxy, or the JDK's
    // own selector while no proxy property names one. An HTTP proxy, such a property, or a
    // selector of the application's own keeps them, however short the attempt's timeout. (Each
    // call is refused: the interceptor sees its timeouts before any connection.)
    java.net.Proxy httpProxy =
        new java.net.Proxy(
            java.net.Proxy.Type.HTTP,
            new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), 1));
    java.net.ProxySelector own =
        new java.net.ProxySelector() {
          @Override
          public List<java.net.Proxy> select(java.net.URI uri) {
            return List.of(java.net.Proxy.NO_PROXY);
          }

          @Override
          public void connectFailed(java.net.URI uri, java.net.SocketAddress sa, IOException e) {}
        };
    assertThat(httpsTimeouts(new OkHttpClient.Builder().proxy(java.net.Proxy.NO_PROXY)))
        .containsOnly("0/0");
    java.net.Proxy socks =
        new java.net.Proxy(
            java.net.Proxy.Type.SOCKS,
            new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), 1));
    assertThat(httpsTimeouts(new OkHttpClient.Builder().proxy(socks))).containsOnly("0/0");
    // Cleartext HTTP/2 with prior knowledge goes through an HTTP proxy's tunnel too: it goes
    // without them only where no selector is asked (the JDK's answers by http.proxyHost).
    List<okhttp3.Protocol> h2c = List.of(okhttp3.Protocol.H2_PRIOR_KNOWLEDGE);
    assertThat(timeouts(new OkHttpClient.Builder().protocols(h2c), "http://127.0.0.1:1", () -> {}))
        .containsOnly("20000/10000");
    assertThat(
            timeouts(
                new OkHttpClient.Builder().protocols(h2c).proxy(httpProxy),
                "http://127.0.0.1:1",
                () -> {}))
        .containsOnly("20000/10000");
    assertThat(
            timeouts(
                new OkHttpClient.Builder().protocols(h2c).proxy(java.net.Proxy.NO_PROXY),
                "http://127.0.0.1:1",
                () -> {}))
        .containsOnly("0/0");
    // A JVM without a default selector: OkHttp's own, which chooses no proxy.
    java.net.ProxySelector jvms = java.net.ProxySelector.getDefault();
    java.net.ProxySelector.setDefault(null);
    try {
      assertThat(httpsTimeouts(new OkHttpClient.Builder())).containsOnly("0/0");
    } finally {
      java.net.ProxySelector.setDefault(jvms);
    }
    assertThat(httpsTimeouts(new OkHttpClient.Builder().proxy(httpProxy)))
        .containsOnly("20000/10000");
    assertThat(httpsTimeouts(new OkHttpClient.Builder().proxySelector(own)))
        .containsOnly("20000/10000");
    org.junit.jupiter.api.Assumptions.assumeTrue(
        namesNoProxyForHttps(), "this JVM names a proxy for HTTPS, or asks the system for one");
    assertThat(ClientCore.httpsTunnels(new OkHttpClient()))
        .isEqualTo(ClientCore.TUNNEL_BY_PROPERTIES);
    assertThat(httpsTimeouts(new OkHttpClient.Builder())).containsOnly("0/0");
    for (String property : List.of("https.proxyHost", "proxyHost")) {
      // Set after the client was built (which then found no proxy): read at each attempt.
      try {
        assertThat(
                httpsTimeouts(
                    new OkHttpClient.Builder(), () -> System.setProperty(property, "127.0.0.1")))
            .as(property)
            .containsOnly("20000/10000");
      } finally {
        System.clearProperty(property);
      }
    }
  }

  /**
   * Whether this JVM's default proxy selector names no proxy for HTTPS and does not ask the system,
   * read from the JVM's settings themselves (the system properties, then the JDK's
   * conf/net.properties, where the selector reads them).
   */
  private static boolean namesNoProxyForHttps() {
    java.util.Properties net = new java.util.Properties();
    java.nio.file.Path file =
        java.nio.file.Path.of(System.getProperty("java.home"), "conf", "net.properties");
    if (java.nio.file.Files.exists(file)) {
      try (java.io.InputStream in = java.nio.file.Files.newInputStream(file)) {
        net.load(in);
      } catch (IOException e) {
        return false;
      }
    }
    for (String key : List.of("https.proxyHost", "proxyHost", "java.net.useSystemProxies")) {
      String value = System.getProperty(key, net.getProperty(key));
      if (value != null && !value.isEmpty() && !value.equals("false")) {
        return false;
      }
    }
    return true;
  }

  /** What an HTTPS call's attempts saw of the sockets' read and write timeouts. */
  private static List<String> httpsTimeouts(OkHttpClient.Builder app) {
    return httpsTimeouts(app, () -> {});
  }

  /** The same, with {@code beforeTheCall} run between the client's build and its call. */
  private static List<String> httpsTimeouts(OkHttpClient.Builder app, Runnable beforeTheCall) {
    return timeouts(app, "https://127.0.0.1:1", beforeTheCall);
  }

  /** What a call's attempts to {@code endpoint} (refused) saw of the sockets' timeouts. */
  private static List<String> timeouts(
      OkHttpClient.Builder app, String endpoint, Runnable beforeTheCall) {
    List<String> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
    OkHttpClient tls =
        app.readTimeout(Duration.ofSeconds(20)).addInterceptor(recordTimeouts(seen)).build();
    try (FailoverClient client =
        FailoverClient.builder()
            .service("directory")
            .home("us-east-1", "us-east-1a")
            .endpoint(endpoint, "us-east-1", "us-east-1a")
            .okHttpClient(tls)
            .attemptTimeout(Duration.ofSeconds(10))
            .deadline(Duration.ofSeconds(60))
            .hedging(HedgePolicy.off())
            .build()) {
      beforeTheCall.run();
      assertThatThrownBy(() -> client.newCall(get("/users/42")).execute())
          .isInstanceOf(IOException.class);
    } finally {
      tls.connectionPool().evictAll();
    }
    assertThat(seen).isNotEmpty();
    return seen;
  }

  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void aTlsHandshakeThatNeverEndsEndsWithItsAttempt(boolean callerRuns) throws Exception {
    // A server that takes every connection and never answers the client's hello. The attempts go
    // without the sockets' timeouts (1 s is shorter than OkHttp's 2 minutes): the attempt's
    // timeout, which cancels OkHttp's call, is what ends each handshake.
    ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    List<Socket> held = new java.util.concurrent.CopyOnWriteArrayList<>();
    Thread accepting =
        new Thread(
            () -> {
              try {
                while (true) {
                  held.add(server.accept());
                }
              } catch (IOException e) {
                // closed by the test
              }
            },
            "silent-tls");
    accepting.setDaemon(true);
    accepting.start();
    Zones3.Recorder events = new Zones3.Recorder();
    List<String> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
    OkHttpClient app =
        new OkHttpClient.Builder()
            .readTimeout(Duration.ofMinutes(2))
            .addInterceptor(recordTimeouts(seen))
            .build();
    try (FailoverClient client =
        FailoverClient.builder()
            .service("directory")
            .home("us-east-1", "us-east-1a")
            .endpoint("https://127.0.0.1:" + server.getLocalPort(), "us-east-1", "us-east-1a")
            .okHttpClient(app)
            .attemptTimeout(ATTEMPT_TIMEOUT)
            .deadline(Duration.ofSeconds(5))
            .hedging(HedgePolicy.off())
            .callerRunsFirstAttempt(callerRuns)
            .listener(events)
            .build()) {
      long start = System.nanoTime();
      assertThatThrownBy(() -> client.newCall(get("/users/42")).execute())
          .isInstanceOf(IOException.class);
      // Ended at the call's 5 s deadline at the latest, not at the read timeout.
      assertThat(System.nanoTime() - start).isLessThan(TimeUnit.SECONDS.toNanos(25));
      // Each attempt ended at its own timeout: one that never sent its request (the handshake
      // never ended) counts as a connection that did not open in time.
      Attempt first = events.attempts().get(0);
      assertThat(first.outcome()).isEqualTo(Outcome.CONNECT_FAILED);
      assertThat(first.duration()).isLessThan(Duration.ofSeconds(20));
      assertThat(held).isNotEmpty();
      if (namesNoProxyForHttps()) {
        // (Unless this JVM names a proxy for HTTPS: then the attempts keep them.)
        assertThat(seen).isNotEmpty().containsOnly("0/0");
      }
    } finally {
      server.close();
      for (Socket s : held) {
        s.close();
      }
      app.connectionPool().evictAll();
    }
  }

  @Test
  void aJvmThatAsksTheSystemForProxiesKeepsTheSocketTimeoutsOverHttps() {
    // The system's answer may differ by host (a PAC file) and over time: not worked out once.
    // (The JDK's selector reads the setting once, as it is first used: here, before it is set.)
    java.net.ProxySelector.getDefault();
    String before = System.getProperty("java.net.useSystemProxies");
    System.setProperty("java.net.useSystemProxies", "true");
    try {
      assertThat(ClientCore.usesSystemProxies()).isTrue();
      assertThat(ClientCore.httpsTunnels(new OkHttpClient())).isEqualTo(ClientCore.TUNNEL_MAYBE);
    } finally {
      if (before == null) {
        System.clearProperty("java.net.useSystemProxies");
      } else {
        System.setProperty("java.net.useSystemProxies", before);
      }
    }
  }

  @Test
  void aCancelledAttemptsConnectionNeverStartsItsTlsHandshake() {
    // The gap a cancel can fall into (after OkHttp's TCP step let go of the connection, before
    // the TLS step took it) cannot be hit from outside on purpose: the listener's part is
    // checked on its own. A cancelled call fails its handshake before it starts; another goes on.
    OkHttpClient okHttp = new OkHttpClient();
    Request request = new Request.Builder().url("https://127.0.0.1:1/").build();
    okhttp3.Call cancelled = okHttp.newCall(request);
    cancelled.cancel();
    assertThatThrownBy(() -> CallStateMachine.ATTEMPT_END.secureConnectStart(cancelled))
        .isInstanceOf(IOException.class)
        .hasMessage("Canceled");
    okhttp3.Call running = okHttp.newCall(request);
    CallStateMachine.ATTEMPT_END.secureConnectStart(running);
    assertThat(running.isCanceled()).isFalse();
  }

  @Test
  void theApplicationsOwnCallTimeoutDoesNotCutAnAttemptShort() throws IOException {
    // The application's OkHttpClient has a call timeout shorter than the attempt's. OkHttp ends a
    // call it times out by cancelling it, which is no failure of the endpoint: if it applied to
    // the attempts, the hanging attempt would end cancelled, charged to no one and never retried.
    // The SDK's deadline and attempt timeout replace it.
    zones
        .zone("us-east-1a")
        .stubFor(any(anyUrl()).willReturn(aResponse().withStatus(200).withFixedDelay(60_000)));
    Zones3.Recorder events = new Zones3.Recorder();
    OkHttpClient app = new OkHttpClient.Builder().callTimeout(Duration.ofMillis(200)).build();
    try (FailoverClient client =
        Zones3.client(zones)
            .okHttpClient(app)
            .attemptTimeout(Duration.ofSeconds(2))
            .deadline(Duration.ofSeconds(30))
            .hedging(HedgePolicy.off())
            .listener(events)
            .build()) {
      try (Response r = client.newCall(get("/hang")).execute()) {
        assertThat(r.code()).isEqualTo(200);
      }
      List<Attempt> attempts = events.attempts();
      assertThat(attempts.get(0).outcome()).isEqualTo(Outcome.TIMEOUT);
      assertThat(attempts.get(0).duration()).isGreaterThanOrEqualTo(Duration.ofSeconds(2));
      assertThat(attempts.get(attempts.size() - 1).outcome()).isEqualTo(Outcome.SUCCESS);
    } finally {
      app.connectionPool().evictAll();
    }
  }

  @Test
  void attemptsThatTimeOutWaitingForAFreeSlotAreNoEvidenceAgainstTheirEndpoints() throws Exception {
    // One slot (maxRequests 1), held for 6 s by a call to the home zone. The other calls' first
    // attempts wait for that slot in OkHttp's dispatcher and time out there after 2 s, before they
    // were sent; OkHttp reports them once the slot is free. Their endpoints, healthy, did nothing:
    // no endpoint or zone may be charged.
    zones
        .zone("us-east-1a")
        .stubFor(
            any(urlPathEqualTo("/held"))
                .willReturn(aResponse().withStatus(200).withFixedDelay(6_000)));
    Zones3.Recorder events = new Zones3.Recorder();
    int waiting = 12;
    try (FailoverClient client =
        Zones3.client(zones)
            .maxRequests(1)
            // An attempt may take a fifth of the deadline: 2 s, and 24 s for the held call.
            .maxAttempts(5)
            .deadline(Duration.ofSeconds(10))
            .hedging(HedgePolicy.off())
            .listener(events)
            .build()) {
      java.util.concurrent.CountDownLatch done =
          new java.util.concurrent.CountDownLatch(waiting + 1);
      okhttp3.Callback count = countDown(done);
      takeTheOnlySlot(client, "/held", count);
      for (int i = 0; i < waiting; i++) {
        client.newCall(Zones3.user(i)).enqueue(count);
      }
      assertThat(done.await(60, TimeUnit.SECONDS)).isTrue();
      List<Attempt> timedOut =
          events.attempts().stream()
              .filter(a -> a.error() != null && a.error().equals("InterruptedIOException: timeout"))
              .toList();
      assertThat(timedOut).hasSize(waiting);
      for (Attempt a : timedOut) {
        // Never sent, so even a non-idempotent request could be sent again: reported as before.
        assertThat(a.outcome()).isEqualTo(Outcome.CONNECT_FAILED);
        assertThat(a.number()).isEqualTo(1);
      }
      assertThat(events.of(FailoverEvent.EndpointEjected.class)).isEmpty();
      assertThat(events.of(FailoverEvent.ZoneEvacuated.class)).isEmpty();
      for (FailoverSnapshot.Zone z : client.snapshot().zones()) {
        assertThat(z.errorRatePercent()).as("error rate of %s", z.locality()).isZero();
        for (FailoverSnapshot.EndpointState e : z.endpoints()) {
          assertThat(e.breakerState()).as("breaker of %s", e.endpoint()).isEqualTo("CLOSED");
          assertThat(e.ejections()).as("ejections of %s", e.endpoint()).isZero();
        }
      }
    }
  }

  @Test
  void anAttemptLetOutOfTheQueueWithLessThanHalfItsTimeIsNoEvidenceWhenItTimesOut()
      throws Exception {
    // One slot (maxRequests 1), held 2.5 s. Three calls wait for it. The first's attempt may take
    // 4 s: it gets the slot with 1.5 s left, less than half, and its endpoint takes 5 s to answer:
    // it times out there at 4 s, sent. The wait for the slot, not the endpoint, used its time.
    // The other two (3 s attempts) time out at 3 s, still waiting: a second before the slot frees
    // again, so that none of them can get it in the moment its own timer fires.
    zones
        .zone("us-east-1a")
        .stubFor(
            any(urlPathEqualTo("/held-briefly"))
                .willReturn(aResponse().withStatus(200).withFixedDelay(2_500)));
    zones.stubAll(
        any(urlPathMatching("/slow-user/.*"))
            .willReturn(aResponse().withStatus(200).withFixedDelay(5_000)));
    Zones3.Recorder events = new Zones3.Recorder();
    int waiting = 3;
    try (FailoverClient client =
        Zones3.client(zones)
            .maxRequests(1)
            .maxAttempts(5)
            .deadline(Duration.ofSeconds(20))
            // No retries: every attempt is one of the three waiting calls' first.
            .retryBudget(0, 0, Duration.ofSeconds(10))
            .hedging(HedgePolicy.off())
            .listener(events)
            .build()) {
      java.util.concurrent.CountDownLatch done =
          new java.util.concurrent.CountDownLatch(waiting + 1);
      okhttp3.Callback count = countDown(done);
      takeTheOnlySlot(client, "/held-briefly", count);
      for (int i = 0; i < waiting; i++) {
        Request r = get("/slow-user/" + i);
        if (i > 0) {
          // 15 s / 5 attempts: 3 s.
          r =
              r.newBuilder()
                  .tag(RequestOptions.class, RequestOptions.ofDeadline(Duration.ofSeconds(15)))
                  .build();
        }
        client.newCall(r).enqueue(count);
      }
      assertThat(done.await(60, TimeUnit.SECONDS)).isTrue();
      List<Attempt> attempts = events.attempts().stream().filter(a -> a.error() != null).toList();
      assertThat(attempts).hasSize(waiting);
      // The one let out late was sent and timed out; the others never left.
      assertThat(attempts)
          .extracting(Attempt::outcome)
          .containsExactlyInAnyOrder(
              Outcome.TIMEOUT, Outcome.CONNECT_FAILED, Outcome.CONNECT_FAILED);
      assertThat(events.of(FailoverEvent.EndpointEjected.class)).isEmpty();
      for (FailoverSnapshot.Zone z : client.snapshot().zones()) {
        assertThat(z.errorRatePercent()).as("error rate of %s", z.locality()).isZero();
      }
    }
  }

  /**
   * Starts a call to {@code path} that may take two minutes, and waits until its request reached
   * the home zone: it holds the client's only slot of {@code maxRequests} from then on.
   */
  private static void takeTheOnlySlot(FailoverClient client, String path, okhttp3.Callback cb)
      throws InterruptedException {
    client
        .newCall(
            get(path)
                .newBuilder()
                .tag(RequestOptions.class, RequestOptions.ofDeadline(Duration.ofMinutes(2)))
                .build())
        .enqueue(cb);
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (zones.zone("us-east-1a").requestCount() == 0 && System.nanoTime() < until) {
      Thread.sleep(10);
    }
    assertThat(zones.zone("us-east-1a").requestCount()).isEqualTo(1);
  }

  static okhttp3.Callback countDown(java.util.concurrent.CountDownLatch done) {
    return new okhttp3.Callback() {
      @Override
      public void onFailure(okhttp3.Call call, IOException e) {
        done.countDown();
      }

      @Override
      public void onResponse(okhttp3.Call call, Response response) {
        response.close();
        done.countDown();
      }
    };
  }

  @ParameterizedTest(name = "callerRuns={0}")
  @ValueSource(booleans = {false, true})
  void theTimeoutBoundsReadingTheBody(boolean callerRuns) throws Exception {
    // A server that sends the headers and the first bytes of a 100 kB body, then nothing more.
    ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread serving = new Thread(() -> serveHalfABody(server), "half-a-body");
    serving.setDaemon(true);
    serving.start();
    try (FailoverClient client =
        FailoverClient.builder()
            .service("directory")
            .home("us-east-1", "us-east-1a")
            .endpoint("http://127.0.0.1:" + server.getLocalPort(), "us-east-1", "us-east-1a")
            // OkHttp's read timeout (10 s by default) must not be what ends the read.
            .okHttpClient(new OkHttpClient.Builder().readTimeout(Duration.ofMinutes(2)).build())
            .attemptTimeout(ATTEMPT_TIMEOUT)
            .deadline(Duration.ofSeconds(30))
            .hedging(HedgePolicy.off())
            .callerRunsFirstAttempt(callerRuns)
            .ejection(EjectionPolicy.defaults().withConsecutiveFailures(1))
            .build()) {
      Response r = client.newCall(get("/half")).execute();
      long start = System.nanoTime();
      try (r) {
        assertThat(r.code()).isEqualTo(200);
        assertThatThrownBy(() -> r.body().string()).isInstanceOf(IOException.class);
      }
      // Ended by the attempt's timeout (1 s after the attempt began), not by the server, which
      // holds the connection for as long as the test runs, nor by OkHttp's read timeout.
      assertThat(System.nanoTime() - start).isLessThan(TimeUnit.SECONDS.toNanos(25));
      // A body cut by the attempt's timeout is no evidence: the caller may have read it slowly.
      FailoverSnapshot.EndpointState ep = client.snapshot().zones().get(0).endpoints().get(0);
      // (One failure ejects it here.)
      assertThat(ep.health()).isEqualTo(FailoverSnapshot.Health.HEALTHY);
      assertThat(ep.ejections()).isZero();
    } finally {
      server.close();
      serving.join(TimeUnit.SECONDS.toMillis(30));
    }
  }

  /** Answers each connection with headers and a tenth of the body, then holds it until closed. */
  private static void serveHalfABody(ServerSocket server) {
    List<Socket> held = new ArrayList<>();
    try {
      while (true) {
        Socket s = server.accept();
        held.add(s);
        s.setSoTimeout((int) TimeUnit.SECONDS.toMillis(30));
        BufferedReader in =
            new BufferedReader(
                new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
        String line;
        while ((line = in.readLine()) != null && !line.isEmpty()) {
          // the request's head, up to the blank line
        }
        OutputStream out = s.getOutputStream();
        out.write(
            ("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100000\r\n\r\n"
                    + "x".repeat(10_000))
                .getBytes(StandardCharsets.US_ASCII));
        out.flush();
      }
    } catch (IOException closed) {
      // The test closed the server socket: close what is held too.
    } finally {
      for (Socket s : held) {
        try {
          s.close();
        } catch (IOException ignored) {
          // closing anyway
        }
      }
    }
  }

  @Test
  void aBodyReadToItsEndBeforeTheTimeoutIsNotCut() throws IOException {
    try (FailoverClient client =
        // A timeout no answer of a busy machine reaches: every call has exactly one attempt.
        Zones3.client(zones)
            .attemptTimeout(Duration.ofSeconds(10))
            .callerRunsFirstAttempt(true)
            .build()) {
      for (int i = 0; i < 20; i++) {
        try (Response r = client.newCall(get("/users/" + i)).execute()) {
          assertThat(r.body().string()).contains("ACTIVE");
        }
      }
      assertThat(client.snapshot().counters().attempts()).isEqualTo(20);
    }
  }

  /** Records each request's socket read and write timeouts as "read/write", in milliseconds. */
  private static okhttp3.Interceptor recordTimeouts(List<String> into) {
    return chain -> {
      into.add(chain.readTimeoutMillis() + "/" + chain.writeTimeoutMillis());
      return chain.proceed(chain.request());
    };
  }
}
