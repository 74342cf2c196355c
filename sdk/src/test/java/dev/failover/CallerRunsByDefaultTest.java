package dev.failover;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import javax.net.ssl.HostnameVerifier;
import okhttp3.Call;
import okhttp3.Dns;
import okhttp3.EventListener;
import okhttp3.OkHttpClient;
import okhttp3.Protocol;
import okhttp3.Request;
import okhttp3.Response;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

/**
 * By default {@code execute()} runs a call's first attempt on the caller's thread only where every
 * step of it ends when OkHttp cancels it; elsewhere it hands it to the dispatcher. Which one ran it
 * is seen on the caller's thread itself, while the attempt waits on a server that never answers:
 * its stack is in OkHttp's {@code RealCall.execute} (caller runs) or not (the caller waits).
 */
class CallerRunsByDefaultTest {

  private static final OkHttpClient PLAIN = new OkHttpClient();

  // ---- What the client is classified as, at build ----

  @Test
  void aPlainClientAndTheSdksOwnRunOnTheCaller() {
    assertThat(ClientCore.notOnCallerByDefault(null, 256, List.of())).isNull();
    assertThat(ClientCore.notOnCallerByDefault(PLAIN, 256, List.of())).isNull();
    // What needs no code of the application's: a fixed proxy, OkHttp's null selector, a Dns that
    // answers by lookup (which the SDK moves off the caller's thread), timeouts.
    assertThat(
            ClientCore.notOnCallerByDefault(
                PLAIN
                    .newBuilder()
                    .proxy(java.net.Proxy.NO_PROXY)
                    .dns(host -> List.of(InetAddress.getLoopbackAddress()))
                    .connectTimeout(Duration.ofSeconds(1))
                    .readTimeout(Duration.ofSeconds(1))
                    .build(),
                256,
                List.of()))
        .isNull();
  }

  @Test
  void eachPieceOfTheApplicationsCodeOnTheAttemptsPathKeepsItOnTheDispatcher() {
    okhttp3.Interceptor pass = chain -> chain.proceed(chain.request());
    assertThat(reason(b -> b.addInterceptor(pass))).contains("interceptors");
    assertThat(reason(b -> b.addNetworkInterceptor(pass))).contains("interceptors");
    assertThat(
            reason(
                b ->
                    b.cache(
                        new okhttp3.Cache(
                            new java.io.File(System.getProperty("java.io.tmpdir"), "no-cache"),
                            1024))))
        .contains("cache");
    assertThat(
            reason(
                b ->
                    b.cookieJar(
                        new okhttp3.CookieJar() {
                          @Override
                          public void saveFromResponse(
                              okhttp3.HttpUrl url, List<okhttp3.Cookie> cookies) {}

                          @Override
                          public List<okhttp3.Cookie> loadForRequest(okhttp3.HttpUrl url) {
                            return List.of();
                          }
                        })))
        .contains("CookieJar");
    assertThat(reason(b -> b.authenticator((route, response) -> null))).contains("Authenticator");
    assertThat(reason(b -> b.proxyAuthenticator((route, response) -> null)))
        .contains("Authenticator");
    assertThat(reason(b -> b.eventListener(new EventListener() {}))).contains("EventListener");
    assertThat(reason(b -> b.eventListenerFactory(call -> new EventListener() {})))
        .contains("EventListener");
    assertThat(
            reason(
                b ->
                    b.eventListenerFactory(
                        call -> {
                          throw new IllegalStateException("no listener");
                        })))
        .contains("EventListener");
    // Asked once at build, for a call never sent: a factory that counts calls sees one.
    java.util.concurrent.atomic.AtomicInteger asked =
        new java.util.concurrent.atomic.AtomicInteger();
    assertThat(
            reason(
                b ->
                    b.eventListenerFactory(
                        call -> {
                          asked.incrementAndGet();
                          return EventListener.NONE;
                        })))
        .isNull();
    assertThat(asked).hasValue(1);
    assertThat(reason(b -> b.fastFallback(false))).contains("fastFallback");
    assertThat(reason(b -> b.protocols(List.of(Protocol.H2_PRIOR_KNOWLEDGE)))).contains("HTTP/2");
    assertThat(
            reason(
                b ->
                    b.socketFactory(
                        new javax.net.SocketFactory() {
                          @Override
                          public Socket createSocket() {
                            return new Socket();
                          }

                          @Override
                          public Socket createSocket(String host, int port) {
                            throw new UnsupportedOperationException();
                          }

                          @Override
                          public Socket createSocket(
                              String host, int port, InetAddress local, int localPort) {
                            throw new UnsupportedOperationException();
                          }

                          @Override
                          public Socket createSocket(InetAddress host, int port) {
                            throw new UnsupportedOperationException();
                          }

                          @Override
                          public Socket createSocket(
                              InetAddress address, int port, InetAddress local, int localPort) {
                            throw new UnsupportedOperationException();
                          }
                        })))
        .contains("SocketFactory");
    assertThat(
            reason(
                b ->
                    b.proxySelector(
                        new java.net.ProxySelector() {
                          @Override
                          public List<java.net.Proxy> select(java.net.URI uri) {
                            return List.of(java.net.Proxy.NO_PROXY);
                          }

                          @Override
                          public void connectFailed(
                              java.net.URI uri, java.net.SocketAddress sa, IOException e) {}
                        })))
        .contains("proxy selector");
    assertThat(reason(b -> b.dns(new AsyncDns()))).contains("Dns");
    // What the SDK relies on to move a lookup off the caller's thread: OkHttp asks a Dns that
    // answers by lookup through lookup() (an OkHttp that did not would keep attempts off it).
    assertThat(CallerDns.looksUp(Dns.SYSTEM)).isTrue();
    assertThat(CallerDns.looksUp(new AsyncDns())).isFalse();
  }

  @Test
  void aLimitListenersOrObservationsOfTheApplicationsKeepItOnTheDispatcher() {
    assertThat(ClientCore.notOnCallerByDefault(PLAIN, 64, List.of())).contains("maxRequests(64)");
    assertThat(ClientCore.notOnCallerByDefault(null, 255, List.of())).contains("maxRequests");
    FailoverListener observing = new Observing();
    assertThat(ClientCore.notOnCallerByDefault(null, 256, List.of(observing)))
        .contains("FailoverObservations");
    // The thread that ends a call tells the listeners: the caller's, when it ran the attempt.
    FailoverListener yours = new FailoverListener() {};
    assertThat(ClientCore.notOnCallerByDefault(null, 256, List.of(yours)))
        .contains("FailoverListener")
        .contains(yours.getClass().getName());
    // The SDK's own meters never wait.
    FailoverMetrics metrics = new FailoverMetrics();
    assertThat(ClientCore.notOnCallerByDefault(PLAIN, 256, List.of(metrics))).isNull();
  }

  /** A listener that watches calls, as FailoverObservations does. */
  private static final class Observing implements FailoverListener, CallObserver {
    @Override
    public @Nullable Object callStarted(String service, Request request) {
      return null;
    }

    @Override
    public void callFinished(
        @Nullable Object context, FailoverEvent.CallFinished event, @Nullable Throwable failure) {}
  }

  @Test
  void onlyBodiesHeldInMemoryCountAsSafeForTheCallersThread() throws Exception {
    okhttp3.MediaType json = okhttp3.MediaType.get("application/json");
    assertThat(ClientCore.inMemory(okhttp3.RequestBody.create("{}", json))).isTrue();
    assertThat(ClientCore.inMemory(okhttp3.RequestBody.create(new byte[] {1, 2}, json))).isTrue();
    assertThat(ClientCore.inMemory(okhttp3.RequestBody.create(okio.ByteString.of((byte) 1), json)))
        .isTrue();
    assertThat(ClientCore.inMemory(new okhttp3.FormBody.Builder().add("a", "b").build())).isTrue();
    assertThat(
            ClientCore.inMemory(
                new okhttp3.MultipartBody.Builder()
                    .addFormDataPart("a", "b")
                    .addPart(okhttp3.RequestBody.create("{}", json))
                    .build()))
        .isTrue();
    java.io.File file = java.io.File.createTempFile("body", ".json");
    file.deleteOnExit();
    assertThat(ClientCore.inMemory(okhttp3.RequestBody.create(file, json))).isFalse();
    assertThat(ClientCore.inMemory(okhttp3.RequestBody.create(java.io.FileDescriptor.in, json)))
        .isFalse();
    assertThat(
            ClientCore.inMemory(
                okhttp3.RequestBody.create(
                    okio.Path.get(file.getPath()), okio.FileSystem.SYSTEM, json)))
        .isFalse();
    okhttp3.RequestBody yours =
        new okhttp3.RequestBody() {
          @Override
          public okhttp3.MediaType contentType() {
            return json;
          }

          @Override
          public void writeTo(okio.BufferedSink sink) throws IOException {
            sink.writeUtf8("{}");
          }
        };
    assertThat(ClientCore.inMemory(yours)).isFalse();
    assertThat(
            ClientCore.inMemory(
                new okhttp3.MultipartBody.Builder()
                    .addFormDataPart("a", "b")
                    .addPart(yours)
                    .build()))
        .isFalse();
  }

  @Test
  void theDnsWrappersOfOneDnsAreEqualSoThatClientsOnOnePoolShareItsConnections() {
    Dns one = host -> List.of(InetAddress.getLoopbackAddress());
    Dns other = host -> List.of(InetAddress.getLoopbackAddress());
    assertThat(new CallerDns(one, Runnable::run, Ticker.system()))
        .isEqualTo(new CallerDns(one, Runnable::run, Ticker.system()));
    assertThat(new CallerDns(one, Runnable::run, Ticker.system()).hashCode())
        .isEqualTo(new CallerDns(one, Runnable::run, Ticker.system()).hashCode());
    assertThat(new CallerDns(one, Runnable::run, Ticker.system()))
        .isNotEqualTo(new CallerDns(other, Runnable::run, Ticker.system()));
  }

  @Test
  void httpsRunsOnTheCallerOnlyWithoutHttp2AndWithTheJdksTls() throws Exception {
    OkHttpClient http11 = PLAIN.newBuilder().protocols(List.of(Protocol.HTTP_1_1)).build();
    assertThat(ClientCore.httpsOnCaller(http11)).isTrue();
    // OkHttp offers HTTP/2 by default, which ALPN may choose.
    assertThat(ClientCore.httpsOnCaller(PLAIN)).isFalse();
    HostnameVerifier any = (host, session) -> true;
    assertThat(ClientCore.httpsOnCaller(http11.newBuilder().hostnameVerifier(any).build()))
        .isFalse();
    javax.net.ssl.X509TrustManager trustAll =
        new javax.net.ssl.X509TrustManager() {
          @Override
          public void checkClientTrusted(java.security.cert.X509Certificate[] chain, String a) {}

          @Override
          public void checkServerTrusted(java.security.cert.X509Certificate[] chain, String a) {}

          @Override
          public java.security.cert.X509Certificate[] getAcceptedIssuers() {
            return new java.security.cert.X509Certificate[0];
          }
        };
    javax.net.ssl.SSLContext tls = javax.net.ssl.SSLContext.getInstance("TLS");
    tls.init(null, new javax.net.ssl.TrustManager[] {trustAll}, null);
    assertThat(
            ClientCore.httpsOnCaller(
                http11.newBuilder().sslSocketFactory(tls.getSocketFactory(), trustAll).build()))
        .isFalse();
    // The JDK's own trust manager (as for a trust store of the application's) is fine.
    javax.net.ssl.TrustManagerFactory tmf =
        javax.net.ssl.TrustManagerFactory.getInstance(
            javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
    tmf.init((java.security.KeyStore) null);
    javax.net.ssl.X509TrustManager jdk = (javax.net.ssl.X509TrustManager) tmf.getTrustManagers()[0];
    javax.net.ssl.SSLContext jdkTls = javax.net.ssl.SSLContext.getInstance("TLS");
    jdkTls.init(null, new javax.net.ssl.TrustManager[] {jdk}, null);
    assertThat(
            ClientCore.httpsOnCaller(
                http11.newBuilder().sslSocketFactory(jdkTls.getSocketFactory(), jdk).build()))
        .isTrue();
  }

  private static @Nullable String reason(UnaryOperator<OkHttpClient.Builder> change) {
    return ClientCore.notOnCallerByDefault(
        change.apply(PLAIN.newBuilder()).build(), 256, List.of());
  }

  /** A Dns that answers through OkHttp's asynchronous API (newCall) rather than by lookup. */
  private static final class AsyncDns implements Dns {
    @Override
    public List<InetAddress> lookup(String hostname) {
      return List.of(InetAddress.getLoopbackAddress());
    }

    @Override
    public Dns.Call newCall(Dns.Request request) {
      return new Dns.Call() {
        private volatile boolean canceled;

        @Override
        public Dns.Request getRequest() {
          return request;
        }

        @Override
        public void enqueue(Dns.Callback callback) {
          callback.onFailure(this, new UnknownHostException(request.hostname()));
        }

        @Override
        public void cancel() {
          canceled = true;
        }

        @Override
        public boolean isCanceled() {
          return canceled;
        }
      };
    }
  }

  // ---- Which thread runs the first attempt, seen on a server that never answers ----

  /** Takes connections, reads what comes, never answers. */
  private static final class Silent implements AutoCloseable {
    final ServerSocket server;
    final CountDownLatch bytesArrived = new CountDownLatch(1);
    final List<Socket> held = new CopyOnWriteArrayList<>();

    Silent() throws IOException {
      server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
      Thread t =
          new Thread(
              () -> {
                try {
                  while (true) {
                    Socket s = server.accept();
                    held.add(s);
                    Thread r =
                        new Thread(
                            () -> {
                              try (InputStream in = s.getInputStream()) {
                                while (in.read() >= 0) {
                                  bytesArrived.countDown();
                                }
                              } catch (IOException e) {
                                // closed
                              }
                            },
                            "silent-reader");
                    r.setDaemon(true);
                    r.start();
                  }
                } catch (IOException e) {
                  // closed by the test
                }
              },
              "silent-accept");
      t.setDaemon(true);
      t.start();
    }

    String url(String scheme) {
      return scheme + "://127.0.0.1:" + server.getLocalPort();
    }

    @Override
    public void close() throws IOException {
      server.close();
      for (Socket s : held) {
        s.close();
      }
    }
  }

  /**
   * Starts the call on a thread of its own, waits until its first bytes reach the silent server,
   * and returns whether that thread was then in OkHttp's {@code execute()} itself; then cancels the
   * call and waits for the thread to end.
   */
  private static boolean runsOnCaller(
      String scheme,
      UnaryOperator<FailoverClient.Builder> configure,
      @Nullable EventListener callListener)
      throws Exception {
    return runsOnCaller(scheme, configure, callListener, null);
  }

  private static boolean runsOnCaller(
      String scheme,
      UnaryOperator<FailoverClient.Builder> configure,
      @Nullable EventListener callListener,
      okhttp3.@Nullable RequestBody body)
      throws Exception {
    try (Silent silent = new Silent();
        FailoverClient client =
            configure
                .apply(
                    FailoverClient.builder()
                        .service("silent")
                        .home("r", "z")
                        .endpoint(silent.url(scheme), "r", "z")
                        .deadline(Duration.ofSeconds(60))
                        .attemptTimeout(Duration.ofSeconds(60))
                        .hedging(HedgePolicy.off())
                        .healthCheck(HealthCheck.off()))
                .build()) {
      Request.Builder request = new Request.Builder().url(scheme + "://silent/x");
      if (body != null) {
        request.put(body);
      }
      Call call = client.newCall(request.build());
      if (callListener != null) {
        call.addEventListener(callListener);
      }
      List<Throwable> ended = new CopyOnWriteArrayList<>();
      Thread caller =
          new Thread(
              () -> {
                try (Response r = call.execute()) {
                  ended.add(new AssertionError("answered " + r.code()));
                } catch (Throwable t) {
                  ended.add(t);
                }
              },
              "test-caller");
      caller.start();
      try {
        assertThat(silent.bytesArrived.await(30, TimeUnit.SECONDS))
            .as("the attempt reached the server")
            .isTrue();
        boolean inOkHttp = false;
        for (StackTraceElement e : caller.getStackTrace()) {
          if (e.getClassName().equals("okhttp3.internal.connection.RealCall")
              && e.getMethodName().equals("execute")) {
            inOkHttp = true;
          }
        }
        return inOkHttp;
      } finally {
        call.cancel();
        caller.join(TimeUnit.SECONDS.toMillis(30));
        assertThat(caller.isAlive()).as("the caller returned once cancelled").isFalse();
        assertThat(ended).hasSize(1);
        assertThat(ended.get(0)).isInstanceOf(IOException.class);
      }
    }
  }

  @Test
  void byDefaultACleartextFirstAttemptRunsOnTheCallersThread() throws Exception {
    assertThat(runsOnCaller("http", b -> b, null)).isTrue();
  }

  @Test
  void falseHandsItToTheDispatcher() throws Exception {
    assertThat(runsOnCaller("http", b -> b.callerRunsFirstAttempt(false), null)).isFalse();
  }

  @Test
  void aLimitOfTheApplicationsHandsItToTheDispatcher() throws Exception {
    assertThat(runsOnCaller("http", b -> b.maxRequests(64), null)).isFalse();
  }

  @Test
  void anInterceptorHandsItToTheDispatcherUnlessTheApplicationChoseTheCaller() throws Exception {
    OkHttpClient intercepting =
        new OkHttpClient.Builder().addInterceptor(chain -> chain.proceed(chain.request())).build();
    assertThat(runsOnCaller("http", b -> b.okHttpClient(intercepting), null)).isFalse();
    assertThat(
            runsOnCaller(
                "http", b -> b.okHttpClient(intercepting).callerRunsFirstAttempt(true), null))
        .isTrue();
  }

  @Test
  void aCallWithAListenerOfItsOwnHandsItToTheDispatcher() throws Exception {
    assertThat(runsOnCaller("http", b -> b, new EventListener() {})).isFalse();
  }

  @Test
  void aFailoverListenerOfTheApplicationsHandsItToTheDispatcher() throws Exception {
    assertThat(runsOnCaller("http", b -> b.listener(new FailoverListener() {}), null)).isFalse();
    assertThat(runsOnCaller("http", b -> b.listener(new FailoverMetrics()), null)).isTrue();
  }

  @Test
  void aBodyNotHeldInMemoryHandsItToTheDispatcher() throws Exception {
    okhttp3.MediaType json = okhttp3.MediaType.get("application/json");
    assertThat(runsOnCaller("http", b -> b, null, okhttp3.RequestBody.create("{}", json))).isTrue();
    okhttp3.RequestBody streamed =
        new okhttp3.RequestBody() {
          @Override
          public okhttp3.MediaType contentType() {
            return json;
          }

          @Override
          public void writeTo(okio.BufferedSink sink) throws IOException {
            sink.writeUtf8("{}");
          }
        };
    assertThat(runsOnCaller("http", b -> b, null, streamed)).isFalse();
  }

  @Test
  void httpsRunsOnTheCallerOnlyWhereHttp2IsNotOffered() throws Exception {
    // The silent server never answers the client's hello: the attempt waits in its handshake.
    assertThat(runsOnCaller("https", b -> b, null)).isFalse();
    OkHttpClient http11 = new OkHttpClient.Builder().protocols(List.of(Protocol.HTTP_1_1)).build();
    try {
      assertThat(runsOnCaller("https", b -> b.okHttpClient(http11), null)).isTrue();
    } finally {
      http11.connectionPool().evictAll();
    }
  }

  // ---- A lookup of an attempt on the caller's thread ----

  @Test
  void aLookupOfTheCallersAttemptRunsOnTheClientsThreadAndAHungOneEndsWithItsAttempt()
      throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    List<String> lookupThreads = new CopyOnWriteArrayList<>();
    Dns dns =
        host -> {
          lookupThreads.add(host + "@" + Thread.currentThread().getName());
          if (host.startsWith("hung.")) {
            try {
              release.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }
          return List.of(InetAddress.getLoopbackAddress());
        };
    OkHttpClient app = new OkHttpClient.Builder().dns(dns).build();
    com.github.tomakehurst.wiremock.WireMockServer answering =
        new com.github.tomakehurst.wiremock.WireMockServer(
            com.github.tomakehurst.wiremock.core.WireMockConfiguration.options()
                .dynamicPort()
                .bindAddress("127.0.0.1"));
    answering.start();
    try (Silent silent = new Silent()) {
      answering.stubFor(
          com.github.tomakehurst.wiremock.client.WireMock.any(
                  com.github.tomakehurst.wiremock.client.WireMock.anyUrl())
              .willReturn(com.github.tomakehurst.wiremock.client.WireMock.ok("fine")));
      List<Endpoint> endpoints = new ArrayList<>();
      endpoints.add(
          Endpoint.of("http://hung.test:" + silent.server.getLocalPort(), Locality.of("r", "a")));
      endpoints.add(Endpoint.of("http://fine.test:" + answering.port(), Locality.of("r", "b")));
      Zones3.Recorder events = new Zones3.Recorder();
      try (FailoverClient client =
          FailoverClient.builder()
              .service("dns")
              .home("r", "a")
              .endpoints(endpoints)
              .okHttpClient(app)
              .attemptTimeout(Duration.ofSeconds(5))
              .deadline(Duration.ofSeconds(30))
              .hedging(HedgePolicy.off())
              .healthCheck(HealthCheck.off())
              .listener(events)
              // A listener of the test's own would hand the attempt to the dispatcher by default.
              .callerRunsFirstAttempt(true)
              .build()) {
        long start = System.nanoTime();
        try (Response r =
            client.newCall(new Request.Builder().url("http://dns/x").build()).execute()) {
          assertThat(r.code()).isEqualTo(200);
        } finally {
          release.countDown();
        }
        // The hung lookup would have held the caller 60 s, the deadline 30 s.
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(20));
        String me = Thread.currentThread().getName();
        // The first attempt's on one of the client's threads for the caller; the retry's on the
        // dispatcher's thread that runs it (which OkHttp names after the call).
        assertThat(lookupThreads).hasSize(2).noneMatch(t -> t.endsWith("@" + me));
        assertThat(lookupThreads).anyMatch(t -> t.startsWith("hung.test@failover-dns-io-"));
        List<Attempt> attempts = events.attempts();
        assertThat(attempts).hasSize(2);
        assertThat(attempts.get(0).endpoint().locality().zone()).isEqualTo("a");
        assertThat(attempts.get(0).outcome()).isEqualTo(Outcome.CONNECT_FAILED);
        assertThat(attempts.get(1).outcome()).isEqualTo(Outcome.SUCCESS);
        assertThat(silent.held).isEmpty();
      }
    } finally {
      app.connectionPool().evictAll();
      answering.stop();
    }
  }

  /**
   * A client whose every lookup runs {@code onLookup}, then hangs until released (60 s at most).
   */
  private static OkHttpClient hangingLookups(CountDownLatch release, Runnable onLookup) {
    return new OkHttpClient.Builder().dns(hangingDns(release, onLookup)).build();
  }

  /** A Dns whose every lookup runs {@code onLookup}, then hangs until released (60 s at most). */
  private static Dns hangingDns(CountDownLatch release, Runnable onLookup) {
    return host -> {
      onLookup.run();
      try {
        release.await(60, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return List.of(InetAddress.getLoopbackAddress());
    };
  }

  @Test
  void aCallerInterruptedWhileItsLookupRunsGetsAnInterruptedIoException() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch entered = new CountDownLatch(1);
    List<String> lookupThreads = new CopyOnWriteArrayList<>();
    OkHttpClient app =
        hangingLookups(
            release,
            () -> {
              lookupThreads.add(Thread.currentThread().getName());
              entered.countDown();
            });
    try (FailoverClient client =
        FailoverClient.builder()
            .service("dns")
            .home("r", "a")
            .endpoint("http://hung.test:9", "r", "a")
            .okHttpClient(app)
            .deadline(Duration.ofSeconds(30))
            .attemptTimeout(Duration.ofSeconds(30))
            .build()) {
      Call call = client.newCall(new Request.Builder().url("http://dns/x").build());
      List<Throwable> thrown = new CopyOnWriteArrayList<>();
      List<Boolean> flagKept = new CopyOnWriteArrayList<>();
      Thread caller =
          new Thread(
              () -> {
                try (Response r = call.execute()) {
                  thrown.add(new AssertionError("answered " + r.code()));
                } catch (Throwable t) {
                  thrown.add(t);
                }
                flagKept.add(Thread.currentThread().isInterrupted());
              },
              "test-caller");
      long start = System.nanoTime();
      caller.start();
      try {
        assertThat(entered.await(30, TimeUnit.SECONDS)).isTrue();
        caller.interrupt();
        caller.join(TimeUnit.SECONDS.toMillis(30));
        assertThat(caller.isAlive()).isFalse();
      } finally {
        release.countDown();
      }
      // Interrupted in its wait for the lookup, which hangs 60 s: the caller left at once.
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(25));
      assertThat(lookupThreads).hasSize(1);
      assertThat(lookupThreads.get(0)).startsWith("failover-dns-io-");
      assertThat(thrown).hasSize(1);
      assertThat(thrown.get(0)).isInstanceOf(java.io.InterruptedIOException.class);
      assertThat(flagKept).containsExactly(true);
      assertThat(call.isCanceled()).isTrue();
    } finally {
      app.connectionPool().evictAll();
    }
  }

  @Test
  void callersThatLookUpOneHostAtOnceShareOneLookup() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    java.util.concurrent.atomic.AtomicInteger lookups =
        new java.util.concurrent.atomic.AtomicInteger();
    OkHttpClient app = hangingLookups(release, lookups::incrementAndGet);
    try (FailoverClient client =
        FailoverClient.builder()
            .service("dns")
            .home("r", "a")
            .endpoint("http://hung.test:9", "r", "a")
            .okHttpClient(app)
            .maxAttempts(1)
            .deadline(Duration.ofSeconds(4))
            .healthCheck(HealthCheck.off())
            .build()) {
      List<Thread> callers = new ArrayList<>();
      List<Throwable> thrown = new CopyOnWriteArrayList<>();
      for (int i = 0; i < 4; i++) {
        Thread t =
            new Thread(
                () -> {
                  try (Response r =
                      client.newCall(new Request.Builder().url("http://dns/x").build()).execute()) {
                    thrown.add(new AssertionError("answered " + r.code()));
                  } catch (Throwable e) {
                    thrown.add(e);
                  }
                },
                "test-caller-" + i);
        callers.add(t);
        t.start();
      }
      try {
        for (Thread t : callers) {
          t.join(TimeUnit.SECONDS.toMillis(30));
          assertThat(t.isAlive()).as("ended by its deadline").isFalse();
        }
        // Four calls ended while the one lookup still hung: one thread of the client's held.
        assertThat(thrown).hasSize(4).allMatch(e -> e instanceof IOException);
        assertThat(lookups.get()).isEqualTo(1);
      } finally {
        release.countDown();
      }
    } finally {
      app.connectionPool().evictAll();
    }
  }

  @Test
  void aLookupStillRunningIsSharedForTenSecondsThenALaterCallerStartsItsOwn() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    java.util.concurrent.atomic.AtomicInteger lookups =
        new java.util.concurrent.atomic.AtomicInteger();
    Dns hanging = hangingDns(release, lookups::incrementAndGet);
    java.util.concurrent.atomic.AtomicLong now = new java.util.concurrent.atomic.AtomicLong();
    java.util.concurrent.ExecutorService threads =
        java.util.concurrent.Executors.newCachedThreadPool();
    CallerDns dns = new CallerDns(hanging, threads, now::get);
    OkHttpClient unused = new OkHttpClient();
    List<Call> attempts = new CopyOnWriteArrayList<>();
    List<Throwable> ended = new CopyOnWriteArrayList<>();
    List<Thread> callers = new ArrayList<>();
    java.util.function.IntConsumer caller =
        i -> {
          Call attempt = unused.newCall(new Request.Builder().url("http://h.test/").build());
          attempts.add(attempt);
          Thread t =
              new Thread(
                  () -> {
                    CallerDns.LOOKING_UP.set(attempt);
                    try {
                      dns.lookup("h.test");
                      ended.add(new AssertionError("answered"));
                    } catch (Throwable e) {
                      ended.add(e);
                    }
                  },
                  "test-lookup-" + i);
          callers.add(t);
          t.start();
        };
    try {
      caller.accept(0);
      awaitLookups(lookups, 1);
      caller.accept(1); // joins the running lookup
      awaitWaiting(callers.get(1));
      now.addAndGet(CallerDns.SHARED_NANOS); // exactly 10 s: still shared
      caller.accept(2);
      awaitWaiting(callers.get(2));
      now.addAndGet(1);
      caller.accept(3); // more than 10 s: a lookup of its own
      awaitLookups(lookups, 2);
      for (Call a : attempts) {
        a.cancel();
      }
      for (Thread t : callers) {
        t.join(TimeUnit.SECONDS.toMillis(30));
        assertThat(t.isAlive()).isFalse();
      }
      // Each caller left when its attempt was cancelled; two lookups in all.
      assertThat(ended).hasSize(4).allMatch(e -> e instanceof UnknownHostException);
      assertThat(lookups.get()).isEqualTo(2);
    } finally {
      release.countDown();
      threads.shutdown();
    }
  }

  /** Waits (bounded) until {@code t} waits for a lookup's answer (a timed wait). */
  private static void awaitWaiting(Thread t) {
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (t.getState() != Thread.State.TIMED_WAITING && System.nanoTime() < until) {
      Thread.onSpinWait();
      Thread.yield();
    }
    assertThat(t.getState()).isEqualTo(Thread.State.TIMED_WAITING);
  }

  /** Waits (bounded) until {@code lookups} reaches {@code n}: the lookups' threads have started. */
  private static void awaitLookups(java.util.concurrent.atomic.AtomicInteger lookups, int n)
      throws InterruptedException {
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (lookups.get() < n && System.nanoTime() < until) {
      Thread.onSpinWait();
      Thread.yield();
    }
    assertThat(lookups.get()).isEqualTo(n);
  }
}
