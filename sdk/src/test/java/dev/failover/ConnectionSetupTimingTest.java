package dev.failover;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Proxy;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import okhttp3.Call;
import okhttp3.ConnectionPool;
import okhttp3.EventListener;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.Test;

/**
 * Over a real socket: the SDK's network interceptor sees an attempt once its connection is ready,
 * so the time from the SDK's first interceptor to it is the connection's set-up, which a race the
 * attempt lost is not judged on.
 */
class ConnectionSetupTimingTest {

  @Test
  void theSetUpOfANewConnectionIsMeasuredAndAPooledOneCostsNone() throws IOException {
    // The ticker moves only when OkHttp connects: 40 ms a handshake.
    AtomicLong nanos = new AtomicLong(1_000);
    Ticker ticker = nanos::get;
    try (MockWebServer server = new MockWebServer()) {
      server.start(0);
      server.enqueue(new MockResponse.Builder().code(200).body("one").build());
      server.enqueue(new MockResponse.Builder().code(200).body("two").build());
      OkHttpClient http =
          new OkHttpClient.Builder()
              .connectionPool(new ConnectionPool())
              .eventListener(
                  new EventListener() {
                    @Override
                    public void connectStart(Call call, InetSocketAddress address, Proxy proxy) {
                      nanos.addAndGet(Duration.ofMillis(40).toNanos());
                    }
                  })
              .addInterceptor(new ClientCore.SeenCapture(null, ticker, false))
              .addNetworkInterceptor(new ClientCore.TransmissionCounter(ticker))
              .build();
      try {
        ClientCore.AttemptTag cold = send(http, server);
        assertThat(cold.sent()).isTrue();
        assertThat(cold.connectionSetupNanos()).isEqualTo(Duration.ofMillis(40).toNanos());
        ClientCore.AttemptTag pooled = send(http, server);
        assertThat(pooled.sent()).isTrue();
        assertThat(pooled.connectionSetupNanos()).isZero();
      } finally {
        http.dispatcher().executorService().shutdown();
        http.connectionPool().evictAll();
      }
    }
  }

  @Test
  void anAttemptNeverSentHasNoSetUp() {
    ClientCore.AttemptTag tag = new ClientCore.AttemptTag(true);
    assertThat(tag.connectionSetupNanos()).isZero();
    tag.reachedSdkAt = 5;
    tag.reachedSdk = true;
    assertThat(tag.connectionSetupNanos()).isZero();
  }

  private static ClientCore.AttemptTag send(OkHttpClient http, MockWebServer server)
      throws IOException {
    ClientCore.AttemptTag tag = new ClientCore.AttemptTag(true);
    Request request =
        new Request.Builder().url(server.url("/")).tag(ClientCore.AttemptTag.class, tag).build();
    try (Response response = http.newCall(request).execute()) {
      assertThat(response.code()).isEqualTo(200);
      response.body().string();
    }
    return tag;
  }
}
