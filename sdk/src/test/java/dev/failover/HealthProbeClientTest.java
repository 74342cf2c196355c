package dev.failover;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import okhttp3.Dispatcher;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The OkHttp client health probes run on: the application's code that fails a probe is not the
 * endpoint's failure, probes never take more than a quarter of maxRequests, and a probe may be
 * resent on a fresh connection as a real GET is.
 */
class HealthProbeClientTest {
  private static final Duration WAIT = Duration.ofSeconds(30);

  private final FakeClock clock = new FakeClock();
  private final ScheduledThreadPoolExecutor scheduler = new ScheduledThreadPoolExecutor(1);
  private final List<OkHttpClient> clients = new ArrayList<>();

  @AfterEach
  void stop() {
    scheduler.shutdownNow();
    for (OkHttpClient c : clients) {
      c.dispatcher().cancelAll();
      c.dispatcher().executorService().shutdownNow();
    }
  }

  private Router router(int endpoints) {
    List<Endpoint> list = new ArrayList<>();
    for (int i = 0; i < endpoints; i++) {
      list.add(Endpoint.of("http://127.0.0.1:" + (10000 + i), "us-east-1", "us-east-1a"));
    }
    return router(list);
  }

  private Router router(List<Endpoint> list) {
    return new Router(
        "directory",
        Locality.of("us-east-1", "us-east-1a"),
        list,
        List.of(),
        EjectionPolicy.defaults(),
        ZonePolicy.off(),
        0,
        true,
        clock,
        clock,
        new Random(1),
        new Events(List.of()));
  }

  private HealthChecker checker(OkHttpClient http) {
    return checker(http, new Events(List.of()));
  }

  private HealthChecker checker(OkHttpClient http, Events events) {
    clients.add(http);
    // A timeout far longer than any test holds a probe: none is abandoned (abandonLost) here.
    return new HealthChecker(
        "directory",
        HealthCheck.http("/health")
            .withInterval(Duration.ofMillis(20))
            .withTimeout(Duration.ofSeconds(20))
            .withThresholds(1, 1),
        http,
        scheduler,
        new Random(1),
        events);
  }

  /**
   * A probe due at once (an endpoint added to the list) can run, answer and schedule the next probe
   * before the scheduler has returned its own future: the checker kept that run future as the
   * endpoint's, and the live next probe outlived the endpoint's removal (and close(), on a
   * scheduler the application gave). Here the probe runs, and is answered, on the thread that
   * schedules it.
   */
  @Test
  void aProbeThatRunsBeforeItsScheduleReturnsLeavesNoProbeBehindItsEndpointsRemoval() {
    Router r = router(1);
    EndpointState ep = r.endpoints().get(0);
    List<java.util.concurrent.ScheduledFuture<?>> later = new ArrayList<>();
    ScheduledThreadPoolExecutor inline =
        new ScheduledThreadPoolExecutor(1) {
          @Override
          public java.util.concurrent.ScheduledFuture<?> schedule(
              Runnable command, long delay, TimeUnit unit) {
            if (delay == 0) {
              command.run(); // due at once: run before the future is returned
              return super.schedule(() -> {}, 0, unit);
            }
            java.util.concurrent.ScheduledFuture<?> f = super.schedule(command, delay, unit);
            later.add(f);
            return f;
          }
        };
    java.util.concurrent.ExecutorService sameThread =
        new java.util.concurrent.AbstractExecutorService() {
          private volatile boolean shut;

          @Override
          public void execute(Runnable command) {
            command.run();
          }

          @Override
          public void shutdown() {
            shut = true;
          }

          @Override
          public List<Runnable> shutdownNow() {
            shut = true;
            return List.of();
          }

          @Override
          public boolean isShutdown() {
            return shut;
          }

          @Override
          public boolean isTerminated() {
            return shut;
          }

          @Override
          public boolean awaitTermination(long timeout, TimeUnit unit) {
            return true;
          }
        };
    OkHttpClient http =
        new OkHttpClient.Builder()
            .dispatcher(new Dispatcher(sameThread))
            .addInterceptor(
                chain ->
                    new okhttp3.Response.Builder()
                        .request(chain.request())
                        .protocol(okhttp3.Protocol.HTTP_1_1)
                        .code(200)
                        .message("OK")
                        .body(okhttp3.ResponseBody.create("up", null))
                        .build())
            .build();
    clients.add(http);
    HealthChecker checker =
        new HealthChecker(
            "directory",
            HealthCheck.http("/health").withInterval(Duration.ofHours(1)).withThresholds(1, 1),
            http,
            inline,
            new Random(1),
            new Events(List.of()));
    try {
      checker.added(List.of(ep));
      assertThat(later).hasSize(1); // the next probe, an hour on
      ep.removed = true;
      checker.removed(List.of(ep));
      assertThat(later).allMatch(java.util.concurrent.Future::isCancelled);
    } finally {
      checker.stop();
      inline.shutdownNow();
    }
  }

  /**
   * An interceptor of the application that throws on a probe (it expects a caller's context that a
   * probe does not have, or a token service is down): OkHttp cancels the probe, which counted as a
   * failed probe, and every endpoint went down while every one was healthy.
   */
  @Test
  void aProbeTheApplicationsCodeFailedIsNotCountedAgainstTheEndpoint() throws Exception {
    Router r = router(1);
    EndpointState ep = r.endpoints().get(0);
    CountDownLatch thrice = new CountDownLatch(3);
    OkHttpClient http =
        new OkHttpClient.Builder()
            .addInterceptor(
                chain -> {
                  thrice.countDown();
                  throw new IllegalStateException("no tenant in this context");
                })
            .build();
    HealthChecker checker = checker(http);
    try {
      checker.start(r.endpoints());
      // Each probe is sent once the one before it was handled: two were handled by the third.
      assertThat(thrice.await(WAIT.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
      assertThat(ep.isDown()).isFalse();
    } finally {
      checker.stop();
    }
  }

  /**
   * An interceptor of the application that fails a probe with an IOException of its own (its token
   * service is down) before the SDK's interceptor: not counted, as an attempt; a probe that fails
   * below the SDK's interceptor (a refused connection) still is.
   */
  @Test
  void aProbeFailedByTheApplicationsInterceptorIsNotCountedButARefusalIs() throws Exception {
    // Nothing listens on either port: the second endpoint's probes are refused.
    Router r = router(2);
    EndpointState own = r.endpoints().get(0);
    EndpointState refused = r.endpoints().get(1);
    CountDownLatch thrice = new CountDownLatch(3);
    CountDownLatch twiceRefused = new CountDownLatch(2);
    OkHttpClient http =
        new OkHttpClient.Builder()
            .addInterceptor(
                chain -> {
                  if (chain.request().url().port() == own.endpoint.url().port()) {
                    thrice.countDown();
                    throw new java.io.IOException("token service unavailable");
                  }
                  twiceRefused.countDown();
                  return chain.proceed(chain.request());
                })
            .addInterceptor(new ClientCore.SeenCapture(null, clock, false))
            .build();
    HealthChecker checker = checker(http);
    try {
      checker.start(r.endpoints());
      // Each probe is sent once the one before it was handled: by the second, the first was.
      assertThat(thrice.await(WAIT.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
      assertThat(twiceRefused.await(WAIT.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
      assertThat(refused.isDown()).as("refused").isTrue();
      // Refused: hard evidence, which corroborates its zone's outage.
      assertThat(refused.downUncorroborated).isFalse();
      assertThat(own.isDown()).as("failed by the application's interceptor").isFalse();
    } finally {
      checker.stop();
    }
  }

  /**
   * An endpoint that accepts connections and never answers: its probes time out and it goes down,
   * on timeouts alone, which do not corroborate its zone's outage (a client too slow to read its
   * probes' answers times them out everywhere at once).
   */
  @Test
  void anEndpointDownOnProbesThatTimedOutDoesNotLiftTheCap() throws Exception {
    try (java.net.ServerSocket silent =
        new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
      Router r =
          router(
              List.of(
                  Endpoint.of(
                      "http://127.0.0.1:" + silent.getLocalPort(), "us-east-1", "us-east-1a")));
      CountDownLatch down = new CountDownLatch(1);
      // The SDK's interceptor (a probe that never reached it would not count), and a read timeout:
      // the socket's own, which ran at the endpoint (the test's clock does not move).
      OkHttpClient http =
          new OkHttpClient.Builder()
              .addInterceptor(new ClientCore.SeenCapture(null, clock, false))
              .readTimeout(Duration.ofMillis(200))
              .build();
      HealthChecker checker =
          checker(
              http,
              new Events(
                  List.of(
                      new FailoverListener() {
                        @Override
                        public void onEjected(FailoverEvent.EndpointEjected e) {
                          down.countDown();
                        }
                      })));
      try {
        checker.start(r.endpoints());
        assertThat(down.await(WAIT.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
        EndpointState ep = r.endpoints().get(0);
        assertThat(ep.isDown()).isTrue();
        assertThat(ep.downUncorroborated).isTrue();
      } finally {
        checker.stop();
      }
    }
  }

  /** The client's host out of ephemeral ports: its probes say nothing about the endpoint. */
  @Test
  void aProbeThatFindsNoLocalPortIsNotCounted() throws Exception {
    Router r = router(1);
    EndpointState ep = r.endpoints().get(0);
    CountDownLatch thrice = new CountDownLatch(3);
    javax.net.SocketFactory noPorts =
        new javax.net.SocketFactory() {
          @Override
          public java.net.Socket createSocket() {
            return new java.net.Socket() {
              @Override
              public void connect(java.net.SocketAddress to, int timeout)
                  throws java.io.IOException {
                thrice.countDown();
                throw new java.net.BindException("Cannot assign requested address");
              }
            };
          }

          @Override
          public java.net.Socket createSocket(String host, int port) {
            throw new UnsupportedOperationException();
          }

          @Override
          public java.net.Socket createSocket(
              String host, int port, java.net.InetAddress local, int localPort) {
            throw new UnsupportedOperationException();
          }

          @Override
          public java.net.Socket createSocket(java.net.InetAddress host, int port) {
            throw new UnsupportedOperationException();
          }

          @Override
          public java.net.Socket createSocket(
              java.net.InetAddress host, int port, java.net.InetAddress local, int localPort) {
            throw new UnsupportedOperationException();
          }
        };
    OkHttpClient http =
        new OkHttpClient.Builder()
            .socketFactory(noPorts)
            .addInterceptor(new ClientCore.SeenCapture(null, clock, false))
            .build();
    HealthChecker checker = checker(http);
    try {
      checker.start(r.endpoints());
      // Each probe is sent once the one before it was handled: two were handled by the third.
      assertThat(thrice.await(WAIT.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
      assertThat(ep.isDown()).isFalse();
    } finally {
      checker.stop();
    }
  }

  /**
   * Probes share the dispatcher's maxRequests with real attempts: of many dead endpoints, each
   * holding a slot for its whole timeout, they took every slot and real calls queued behind them.
   * Now at most a quarter of it (here 1 of 4) is in flight.
   */
  @Test
  void probesTakeAtMostAQuarterOfMaxRequests() throws Exception {
    Router r = router(3);
    AtomicInteger inFlight = new AtomicInteger();
    AtomicInteger most = new AtomicInteger();
    CountDownLatch held = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    Dispatcher dispatcher = new Dispatcher();
    dispatcher.setMaxRequests(4);
    OkHttpClient http =
        new OkHttpClient.Builder()
            .dispatcher(dispatcher)
            .addInterceptor(
                chain -> {
                  most.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
                  try {
                    held.countDown();
                    boolean unused = release.await(WAIT.toMillis(), TimeUnit.MILLISECONDS);
                    throw new java.io.IOException("dead endpoint");
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new java.io.InterruptedIOException("interrupted");
                  } finally {
                    inFlight.decrementAndGet();
                  }
                })
            .build();
    HealthChecker checker = checker(http);
    try {
      checker.start(r.endpoints());
      assertThat(held.await(WAIT.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
      // The other endpoints' probes come due many times (every 20 ms) while the first is held.
      long seen = scheduler.getCompletedTaskCount();
      long until = System.nanoTime() + WAIT.toNanos();
      while (scheduler.getCompletedTaskCount() < seen + 20 && System.nanoTime() < until) {
        Thread.onSpinWait();
      }
      assertThat(scheduler.getCompletedTaskCount()).isGreaterThanOrEqualTo(seen + 20);
      assertThat(most.get()).isEqualTo(1);
    } finally {
      release.countDown();
      checker.stop();
    }
  }

  /**
   * OkHttp reads a Retry-After of digits as an int: a health answer's {@code 503} with a larger one
   * threw on the dispatcher thread (killing it), and the probe ended cancelled, not as the failed
   * probe it was. The SDK's network interceptor hands OkHttp a value it can read, for probes too.
   */
  @Test
  void aHealthAnswerWithARetryAfterTooLargeForAnIntIsAFailedProbe() throws Exception {
    try (dev.failover.testkit.FakeZones zones =
        dev.failover.testkit.FakeZones.builder()
            .region("us-east-1", "us-east-1a")
            .endpointsPerZone(1)
            .build()
            .start()) {
      zones.stubAll(
          com.github.tomakehurst.wiremock.client.WireMock.get(
                  com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo("/health"))
              .willReturn(
                  com.github.tomakehurst.wiremock.client.WireMock.aResponse()
                      .withStatus(503)
                      .withHeader("Retry-After", "9999999999")));
      Router r =
          router(
              List.of(Endpoint.of(zones.fakeEndpoints().get(0).url(), "us-east-1", "us-east-1a")));
      CountDownLatch down = new CountDownLatch(1);
      OkHttpClient http =
          new OkHttpClient.Builder()
              .addNetworkInterceptor(new ClientCore.TransmissionCounter(Ticker.system()))
              .build();
      HealthChecker checker =
          checker(
              http,
              new Events(
                  List.of(
                      new FailoverListener() {
                        @Override
                        public void onEjected(FailoverEvent.EndpointEjected e) {
                          down.countDown();
                        }
                      })));
      try {
        checker.start(r.endpoints());
        assertThat(down.await(WAIT.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
        assertThat(r.endpoints().get(0).isDown()).isTrue();
      } finally {
        checker.stop();
      }
    }
  }

  /**
   * A probe neither sends the application's cookies nor stores a health answer's Set-Cookie in its
   * jar (a load balancer's stickiness cookie would replace a user's).
   */
  @Test
  void aProbeNeitherReadsNorWritesTheApplicationsCookieJar() throws Exception {
    Router r = router(1);
    CountDownLatch asked = new CountDownLatch(2); // the second once the first was handled
    AtomicInteger jarUsed = new AtomicInteger();
    okhttp3.CookieJar jar =
        new okhttp3.CookieJar() {
          @Override
          public void saveFromResponse(okhttp3.HttpUrl url, List<okhttp3.Cookie> cookies) {
            jarUsed.incrementAndGet();
          }

          @Override
          public List<okhttp3.Cookie> loadForRequest(okhttp3.HttpUrl url) {
            jarUsed.incrementAndGet();
            return List.of();
          }
        };
    OkHttpClient http =
        new OkHttpClient.Builder()
            .cookieJar(jar)
            .addInterceptor(
                chain -> {
                  asked.countDown();
                  return chain.proceed(chain.request());
                })
            .build();
    HealthChecker checker = checker(http);
    try {
      checker.start(r.endpoints()); // nothing listens there: refused, after the bridge's cookies
      assertThat(asked.await(WAIT.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
    } finally {
      checker.stop();
    }
    assertThat(jarUsed.get()).isZero();
  }

  /**
   * A probe whose callback never comes (here the application's interceptor hangs, ignoring
   * cancellation) gave its share of maxRequests back never: with a cap of one, no endpoint was
   * probed again. Long after its timeout its slot goes back, and the others are probed.
   */
  @Test
  void aProbeThatNeverAnswersGivesItsSlotBackLongAfterItsTimeout() throws Exception {
    Router r = router(2);
    String hung = r.endpoints().get(0).endpoint.url().toString();
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch hanging = new CountDownLatch(1);
    CountDownLatch otherProbed = new CountDownLatch(1);
    Dispatcher dispatcher = new Dispatcher();
    dispatcher.setMaxRequests(4); // probes may take 1
    OkHttpClient http =
        new OkHttpClient.Builder()
            .dispatcher(dispatcher)
            .addInterceptor(
                chain -> {
                  if (chain.request().url().toString().startsWith(hung)) {
                    hanging.countDown();
                    long until = System.nanoTime() + WAIT.toNanos();
                    while (release.getCount() > 0 && System.nanoTime() < until) {
                      try {
                        boolean unused = release.await(WAIT.toMillis(), TimeUnit.MILLISECONDS);
                      } catch (InterruptedException ignoredOnPurpose) {
                        // application code that ignores cancellation
                      }
                    }
                    throw new java.io.IOException("released");
                  }
                  otherProbed.countDown();
                  throw new java.io.IOException("refused");
                })
            .build();
    clients.add(http);
    HealthChecker checker =
        new HealthChecker(
            "directory",
            HealthCheck.http("/health")
                .withInterval(Duration.ofMillis(20))
                .withTimeout(Duration.ofMillis(100))
                .withThresholds(1, 1),
            http,
            scheduler,
            new Random(1),
            new Events(List.of()));
    try {
      checker.start(List.of(r.endpoints().get(0)));
      assertThat(hanging.await(WAIT.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
      checker.added(List.of(r.endpoints().get(1)));
      assertThat(otherProbed.await(WAIT.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
    } finally {
      release.countDown();
      checker.stop();
    }
  }

  /** A probe is a GET the SDK owns: OkHttp may resend it on a fresh connection. */
  @Test
  void aProbeMayBeResentAfterAFailureOnAPooledConnection() throws Exception {
    Router r = router(1);
    CountDownLatch asked = new CountDownLatch(1);
    AtomicInteger resends = new AtomicInteger(-1);
    OkHttpClient http =
        new OkHttpClient.Builder()
            .retryOnConnectionFailure(false) // the application's choice, for its own calls
            .addInterceptor(
                chain -> {
                  resends.compareAndSet(-1, chain.getRetryOnConnectionFailure() ? 1 : 0);
                  asked.countDown();
                  throw new java.io.IOException("not sent");
                })
            .build();
    HealthChecker checker = checker(http);
    try {
      checker.start(r.endpoints());
      assertThat(asked.await(WAIT.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
      assertThat(resends.get()).isEqualTo(1);
    } finally {
      checker.stop();
    }
  }
}
