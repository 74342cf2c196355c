package dev.failover;

import static com.github.tomakehurst.wiremock.client.WireMock.any;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.failover.testkit.FakeZones;
import dev.failover.testkit.ZoneFault;
import java.io.IOException;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import okhttp3.Call;
import okhttp3.Callback;
import okhttp3.Dns;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A call never outlives its deadline, respects maxRequests, and never runs user code on the
 * scheduler.
 */
class CallSafetyTest {

  @RegisterExtension static FakeZones zones = Zones3.zones();

  @BeforeEach
  void stub() {
    Zones3.stub(zones);
  }

  private static Request get(int id) {
    return new Request.Builder().url("http://directory/api/v1/users/" + id).build();
  }

  @Test
  void executeEndsAtItsDeadlineWhileADnsLookupBlocks() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    Dns slowDns =
        hostname -> {
          try {
            // The fault: a lookup that takes 6 s (released at the end of the test).
            release.await(6, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          return List.of(InetAddress.getLoopbackAddress());
        };
    List<Endpoint> byName = new ArrayList<>();
    for (Endpoint e : Zones3.endpoints(zones)) {
      byName.add(
          Endpoint.of(
              e.url().toString().replace("127.0.0.1", "localhost"),
              e.locality().region(),
              e.locality().zone()));
    }
    try (FailoverClient client =
        FailoverClient.builder()
            .service("directory")
            .home("us-east-1", "us-east-1a")
            .endpoints(byName)
            .okHttpClient(new OkHttpClient.Builder().dns(slowDns).build())
            .deadline(Duration.ofSeconds(1))
            .build()) {
      long start = System.nanoTime();
      assertThatThrownBy(() -> client.newCall(get(1)).execute())
          .isInstanceOf(FailoverException.class)
          .extracting(e -> ((FailoverException) e).reason())
          .isEqualTo(FailoverException.Reason.DEADLINE_EXCEEDED);
      long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      // 1 s deadline; the lookup alone takes 6 s, more than twice the bound. The margin above the
      // deadline is for a busy machine.
      assertThat(millis).isBetween(900L, 2900L);
      release.countDown();
    }
  }

  @Test
  void maxRequestsBoundsExecuteCallsToo() throws Exception {
    zones.stubAll(any(anyUrl()).willReturn(okJson("{}").withFixedDelay(200)));
    AtomicInteger inFlight = new AtomicInteger();
    AtomicInteger most = new AtomicInteger();
    OkHttpClient counting =
        new OkHttpClient.Builder()
            .addInterceptor(
                chain -> {
                  most.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
                  try {
                    return chain.proceed(chain.request());
                  } finally {
                    inFlight.decrementAndGet();
                  }
                })
            .build();
    ExecutorService callers = Executors.newFixedThreadPool(16);
    try (FailoverClient client =
        Zones3.client(zones)
            .okHttpClient(counting)
            .maxRequests(4)
            .deadline(Duration.ofSeconds(10))
            .build()) {
      List<Future<Integer>> codes = new ArrayList<>();
      for (int i = 0; i < 16; i++) {
        int id = i;
        codes.add(
            callers.submit(
                () -> {
                  try (Response r = client.newCall(get(id)).execute()) {
                    return r.code();
                  }
                }));
      }
      for (Future<Integer> f : codes) {
        assertThat(f.get(20, TimeUnit.SECONDS)).isEqualTo(200);
      }
      assertThat(most.get()).isBetween(1, 4);
    } finally {
      callers.shutdownNow();
    }
  }

  @Test
  void aCallbackDueAtTheDeadlineNeverRunsOnTheSchedulerThread() throws Exception {
    zones.fail(ZoneFault.hang());
    try (FailoverClient client = Zones3.client(zones).deadline(Duration.ofMillis(300)).build()) {
      CompletableFuture<String> thread = new CompletableFuture<>();
      client
          .newCall(get(1))
          .enqueue(
              new Callback() {
                @Override
                public void onFailure(Call call, IOException e) {
                  thread.complete(Thread.currentThread().getName());
                }

                @Override
                public void onResponse(Call call, Response response) {
                  response.close();
                  thread.complete(Thread.currentThread().getName());
                }
              });
      String name = thread.get(10, TimeUnit.SECONDS);
      assertThat(name).doesNotContain("scheduler");
    }
  }

  @Test
  void aOneShotPostWhoseConnectFailedIsSentOnceElsewhere() throws Exception {
    zones.zone("us-east-1a").fail(ZoneFault.refuse());
    AtomicInteger writes = new AtomicInteger();
    okhttp3.RequestBody oneShot =
        new okhttp3.RequestBody() {
          @Override
          public okhttp3.MediaType contentType() {
            return okhttp3.MediaType.get("application/json");
          }

          @Override
          public void writeTo(okio.BufferedSink sink) throws IOException {
            writes.incrementAndGet();
            sink.writeUtf8("{\"name\":\"ada\"}");
          }

          @Override
          public boolean isOneShot() {
            return true;
          }
        };
    try (FailoverClient client = Zones3.client(zones).build()) {
      Request post =
          new Request.Builder().url("http://directory/api/v1/users").post(oneShot).build();
      try (Response r = client.newCall(post).execute()) {
        assertThat(r.code()).isEqualTo(200);
      }
    }
    // Never written to the refusing zone (its connect failed first), written once where it landed.
    assertThat(writes.get()).isEqualTo(1);
    assertThat(
            zones.requestCount(
                com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor(
                    com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo(
                        "/api/v1/users"))))
        .isEqualTo(1);
  }
}
