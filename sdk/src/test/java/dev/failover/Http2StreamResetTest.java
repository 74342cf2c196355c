package dev.failover;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.SocketEffect;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Protocol;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Over real HTTP/2 (cleartext with prior knowledge, on OkHttp's own test server, which resets
 * streams on cue): a stream the server refused was not processed (RFC 9113 8.7), so a POST goes to
 * another endpoint; a stream reset once the server began to answer may have been processed, so a
 * POST is not sent again.
 */
class Http2StreamResetTest {
  private static final int REFUSED_STREAM = 0x7;
  private static final int INTERNAL_ERROR = 0x2;

  private final MockWebServer home = new MockWebServer();
  private final MockWebServer other = new MockWebServer();
  private final Zones3.Recorder events = new Zones3.Recorder();

  @BeforeEach
  void start() throws IOException {
    for (MockWebServer s : List.of(home, other)) {
      s.setProtocols(List.of(Protocol.H2_PRIOR_KNOWLEDGE));
      s.start(0);
    }
    other.enqueue(new MockResponse.Builder().code(201).body("created").build());
  }

  @AfterEach
  void stop() {
    home.close();
    other.close();
  }

  /** One endpoint per zone: with its home zone healthy, a call's first attempt goes home. */
  private FailoverClient client() {
    return FailoverClient.builder()
        .service("directory")
        .home("us-east-1", "us-east-1a")
        .endpoint(home.url("/").toString(), "us-east-1", "us-east-1a")
        .endpoint(other.url("/").toString(), "us-east-1", "us-east-1b")
        .okHttpClient(
            new OkHttpClient.Builder().protocols(List.of(Protocol.H2_PRIOR_KNOWLEDGE)).build())
        .hedging(HedgePolicy.off())
        .deadline(Duration.ofSeconds(30))
        .attemptTimeout(Duration.ofSeconds(10))
        .listener(events)
        .build();
  }

  private static Request post() {
    return new Request.Builder()
        .url("http://directory/users")
        .post(RequestBody.create("{\"login\":\"ada\"}", MediaType.get("application/json")))
        .build();
  }

  private List<Attempt> homeAttempts() {
    return events.attempts().stream()
        .filter(a -> a.endpoint().locality().zone().equals("us-east-1a"))
        .toList();
  }

  @Test
  void aPostWhoseStreamTheServerRefusedGoesToAnotherEndpoint() throws IOException {
    home.enqueue(
        new MockResponse.Builder()
            .onRequestStart(new SocketEffect.CloseStream(REFUSED_STREAM))
            .build());
    try (FailoverClient client = client();
        Response r = client.newCall(post()).execute()) {
      assertThat(r.code()).isEqualTo(201);
      assertThat(r.body().string()).isEqualTo("created");
    }
    assertThat(homeAttempts())
        .singleElement()
        .extracting(Attempt::outcome)
        .isEqualTo(Outcome.CONNECT_FAILED);
    assertThat(home.getRequestCount()).isEqualTo(1);
    assertThat(other.getRequestCount()).isEqualTo(1);
  }

  @Test
  void aPostWhoseStreamWasResetAsTheServerAnsweredIsNotSentAgain() {
    home.enqueue(
        new MockResponse.Builder()
            .onResponseStart(new SocketEffect.CloseStream(INTERNAL_ERROR))
            .build());
    try (FailoverClient client = client()) {
      assertThatThrownBy(() -> client.newCall(post()).execute().close())
          .isInstanceOf(FailoverException.class);
    }
    assertThat(homeAttempts())
        .singleElement()
        .extracting(Attempt::outcome)
        .isEqualTo(Outcome.RESET);
    assertThat(home.getRequestCount()).isEqualTo(1);
    assertThat(other.getRequestCount()).isZero();
  }
}
