package dev.failover;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import okhttp3.Cache;
import okhttp3.CacheControl;
import okhttp3.OkHttpClient;
import okhttp3.Protocol;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.ResponseBody;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Answers made in the client, without a request to any server: OkHttp's cache (its hits, and the
 * 504 it makes up for an only-if-cached request it cannot satisfy) and an application interceptor
 * that answers itself. They are the application's, not the endpoint's: once, they ejected healthy
 * endpoints and were retried on every endpoint, and a health answer OkHttp had cached kept a dead
 * endpoint up.
 */
class LocalAnswersTest {

  /** A zone's server on 127.0.0.1: answers 200 to everything, with what it is told to add. */
  private static final class Server implements AutoCloseable {
    final HttpServer http;
    final ExecutorService executor = Executors.newCachedThreadPool();
    final AtomicInteger requests = new AtomicInteger();
    final AtomicInteger healthRequests = new AtomicInteger();

    Server() throws IOException {
      http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50);
      http.createContext(
          "/",
          exchange -> {
            boolean health = exchange.getRequestURI().getPath().equals("/health");
            (health ? healthRequests : requests).incrementAndGet();
            exchange.getRequestBody().readAllBytes();
            // A health answer OkHttp may keep for ten minutes, as a static file's could be.
            exchange.getResponseHeaders().add("Cache-Control", "max-age=600");
            byte[] body = "up".getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
              out.write(body);
            }
          });
      http.setExecutor(executor);
      http.start();
    }

    String url() {
      return "http://127.0.0.1:" + http.getAddress().getPort();
    }

    @Override
    public void close() {
      http.stop(0);
      executor.shutdownNow();
    }
  }

  private final List<AutoCloseable> toClose = new ArrayList<>();
  private final Zones3.Recorder recorder = new Zones3.Recorder();

  @AfterEach
  void closeAll() throws Exception {
    for (int i = toClose.size() - 1; i >= 0; i--) {
      toClose.get(i).close();
    }
  }

  private Server server() throws IOException {
    Server s = new Server();
    toClose.add(s);
    return s;
  }

  private FailoverClient client(OkHttpClient okHttp, Server a, Server b) {
    return client(okHttp, a, b, HealthCheck.off());
  }

  private FailoverClient client(OkHttpClient okHttp, Server a, Server b, HealthCheck check) {
    FailoverClient client =
        FailoverClient.builder()
            .service("directory")
            .home("us-east-1", "us-east-1a")
            .endpoint(a.url(), "us-east-1", "us-east-1a")
            .endpoint(b.url(), "us-east-1", "us-east-1b")
            .okHttpClient(okHttp)
            .healthCheck(check)
            .listener(recorder)
            .build();
    toClose.add(client);
    return client;
  }

  /** Probes every 100 ms, one to mark an endpoint up or down. */
  private static HealthCheck fastChecks() {
    return HealthCheck.http("/health")
        .withInterval(Duration.ofMillis(100))
        .withDownInterval(Duration.ofMillis(100))
        .withThresholds(1, 1);
  }

  private static Request get(String path, CacheControl cacheControl) {
    return new Request.Builder().url("http://directory" + path).cacheControl(cacheControl).build();
  }

  /** Every attempt of the calls, and whether any endpoint or zone was judged for them. */
  private void assertNothingJudged(FailoverClient client, int calls) {
    assertThat(recorder.of(FailoverEvent.AttemptFinished.class)).hasSize(calls);
    assertThat(recorder.of(FailoverEvent.RetryScheduled.class)).isEmpty();
    assertThat(recorder.of(FailoverEvent.EndpointEjected.class)).isEmpty();
    FailoverSnapshot snapshot = client.snapshot();
    assertThat(snapshot.zones())
        .allSatisfy(
            z -> {
              assertThat(z.status()).isEqualTo(FailoverSnapshot.ZoneStatus.ACTIVE);
              assertThat(z.errorRatePercent()).isZero();
              assertThat(z.endpoints())
                  .allSatisfy(
                      e -> {
                        assertThat(e.health()).isEqualTo(FailoverSnapshot.Health.HEALTHY);
                        assertThat(e.breakerState()).isEqualTo("CLOSED");
                      });
            });
  }

  @Test
  void theResponseOkHttpsCacheMakesUpForAnOnlyIfCachedMissIsHandedOnAndJudgesNothing(
      @TempDir Path dir) throws IOException {
    Server a = server();
    Server b = server();
    OkHttpClient okHttp =
        new OkHttpClient.Builder().cache(new Cache(dir.toFile(), 1 << 20)).build();
    FailoverClient client = client(okHttp, a, b);

    int calls = 12;
    for (int i = 0; i < calls; i++) {
      try (Response response =
          client.newCall(get("/api/v1/users/" + i, CacheControl.FORCE_CACHE)).execute()) {
        assertThat(response.code()).isEqualTo(504); // OkHttp's "Unsatisfiable Request"
        assertThat(response.networkResponse()).isNull();
      }
    }

    assertThat(a.requests.get() + b.requests.get()).isZero();
    assertNothingJudged(client, calls);
  }

  @Test
  void aResponseTheApplicationsInterceptorMakesItselfIsHandedOnAndJudgesNothing()
      throws IOException {
    Server a = server();
    Server b = server();
    // A client-side limiter that answers 503 itself, without sending the request on.
    OkHttpClient okHttp =
        new OkHttpClient.Builder()
            .addInterceptor(
                chain ->
                    new Response.Builder()
                        .request(chain.request())
                        .protocol(Protocol.HTTP_1_1)
                        .code(503)
                        .message("limited in the client")
                        // Holds no endpoint off: the server never asked for a pause.
                        .header("Retry-After", "30")
                        .body(ResponseBody.create("slow down", null))
                        .build())
            .build();
    FailoverClient client = client(okHttp, a, b);

    int calls = 12;
    for (int i = 0; i < calls; i++) {
      try (Response response =
          client.newCall(get("/api/v1/users/" + i, new CacheControl.Builder().build())).execute()) {
        assertThat(response.code()).isEqualTo(503);
        assertThat(response.message()).isEqualTo("limited in the client");
      }
    }

    assertThat(a.requests.get() + b.requests.get()).isZero();
    assertNothingJudged(client, calls);
  }

  /**
   * An interceptor that turns a failure below it into a response of its own (a fallback for a
   * refused connection) hands on that failure, not an answer made in the client: the call fails
   * over, and the dead endpoint's probes fail.
   */
  @Test
  void aResponseAnInterceptorMakesOutOfAFailureBelowItIsTheFailure() throws Exception {
    Server a = server();
    Server b = server();
    OkHttpClient okHttp =
        new OkHttpClient.Builder()
            .addInterceptor(
                chain -> {
                  try {
                    return chain.proceed(chain.request());
                  } catch (IOException e) {
                    return new Response.Builder()
                        .request(chain.request())
                        .protocol(Protocol.HTTP_1_1)
                        .code(503)
                        .message("fallback: " + e.getClass().getSimpleName())
                        .body(ResponseBody.create("offline", null))
                        .build();
                  }
                })
            .build();
    FailoverClient client = client(okHttp, a, b, fastChecks());
    a.close(); // the home zone's endpoint refuses connections

    for (int i = 0; i < 6; i++) {
      try (Response response =
          client.newCall(get("/api/v1/users/" + i, new CacheControl.Builder().build())).execute()) {
        assertThat(response.code()).as("served by b after the fallback's 503").isEqualTo(200);
      }
    }
    assertThat(b.requests.get()).isGreaterThanOrEqualTo(6);
    long until = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (endpoint(client, a.url()).health() != FailoverSnapshot.Health.DOWN
        && System.nanoTime() < until) {
      Thread.sleep(10); // polling the snapshot, not waiting for time to pass
    }
    assertThat(endpoint(client, a.url()).health()).isEqualTo(FailoverSnapshot.Health.DOWN);
  }

  /**
   * Health probes never use the application's cache: an answer OkHttp kept for ten minutes answered
   * every probe, and an endpoint that had died stayed up.
   */
  @Test
  void healthProbesGoToTheEndpointPastTheApplicationsCache(@TempDir Path dir) throws Exception {
    Server a = server();
    Server b = server();
    OkHttpClient okHttp =
        new OkHttpClient.Builder().cache(new Cache(dir.toFile(), 1 << 20)).build();
    FailoverClient client = client(okHttp, a, b, fastChecks());

    // Three probes of a reached it: none was answered from the cache.
    long until = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (a.healthRequests.get() < 3 && System.nanoTime() < until) {
      Thread.sleep(10); // polling, not waiting for time to pass
    }
    assertThat(a.healthRequests.get()).isGreaterThanOrEqualTo(3);

    a.close();
    FailoverSnapshot.EndpointState down = null;
    while (System.nanoTime() < until) {
      FailoverSnapshot.EndpointState state = endpoint(client, a.url());
      if (state.health() == FailoverSnapshot.Health.DOWN) {
        down = state;
        break;
      }
      Thread.sleep(10);
    }
    assertThat(down).as("a, down on its probes once it died").isNotNull();
    assertThat(endpoint(client, b.url()).health()).isEqualTo(FailoverSnapshot.Health.HEALTHY);
  }

  private static FailoverSnapshot.EndpointState endpoint(FailoverClient client, String url) {
    return client.snapshot().zones().stream()
        .flatMap(z -> z.endpoints().stream())
        .filter(e -> e.endpoint().address().equals(url))
        .findFirst()
        .orElseThrow();
  }
}
