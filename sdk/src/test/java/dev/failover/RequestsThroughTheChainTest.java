package dev.failover;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.core.WireMockConfiguration;
import com.github.tomakehurst.wiremock.http.Fault;
import dev.failover.testkit.FakeZones;
import dev.failover.testkit.ZoneFault;
import java.io.IOException;
import java.time.Duration;
import okhttp3.HttpUrl;
import okhttp3.Interceptor;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A request the application's interceptor sends through the chain to another origin for itself (a
 * token fetched before the real request) is not the attempt: it is not one of the attempt's
 * transmissions, so it neither makes a refused connection look like a request the server may have
 * processed, nor the real request look like a silent resend charged to the retry budget.
 */
class RequestsThroughTheChainTest {
  @RegisterExtension static FakeZones zones = Zones3.zones();

  private static final WireMockServer tokens =
      new WireMockServer(WireMockConfiguration.options().dynamicPort().bindAddress("127.0.0.1"));

  @BeforeAll
  static void startTokens() {
    tokens.start();
    tokens.stubFor(post(urlPathEqualTo("/token")).willReturn(okJson("{\"token\":\"t0k\"}")));
  }

  @AfterAll
  static void stopTokens() {
    tokens.stop();
  }

  @BeforeEach
  void stub() {
    Zones3.stub(zones);
  }

  /** Fetches a token from the token service through the chain, then sends the request with it. */
  private static final Interceptor FETCHES_A_TOKEN =
      chain -> {
        Request token =
            new Request.Builder()
                .url(tokens.baseUrl() + "/token")
                .post(
                    RequestBody.create(
                        "grant_type=client_credentials", MediaType.get("text/plain")))
                .build();
        try (Response r = chain.proceed(token)) {
          assertThat(r.code()).isEqualTo(200);
          r.body().string();
        }
        return chain.proceed(
            chain.request().newBuilder().header("Authorization", "Bearer t0k").build());
      };

  private static FailoverClient client(FailoverListener events) {
    return Zones3.client(zones)
        .okHttpClient(new OkHttpClient.Builder().addInterceptor(FETCHES_A_TOKEN).build())
        .deadline(Duration.ofSeconds(30))
        .hedging(HedgePolicy.off())
        .listener(events)
        .build();
  }

  private static Request createUser(int i) {
    return new Request.Builder()
        .url("http://directory/users")
        .post(RequestBody.create("{\"login\":\"u" + i + "\"}", MediaType.get("application/json")))
        .build();
  }

  /**
   * A POST whose connection the home zone refuses goes to another endpoint, as every POST whose
   * connection was refused does: the token's request before it is not the POST's transmission.
   */
  @Test
  void aPostWhoseConnectionWasRefusedAfterATokenFetchGoesElsewhere() throws IOException {
    Zones3.Recorder events = new Zones3.Recorder();
    try (FailoverClient client = client(events)) {
      zones.zone("us-east-1a").fail(ZoneFault.refuse());
      for (int i = 0; i < 5; i++) {
        try (Response r = client.newCall(createUser(i)).execute()) {
          assertThat(r.code()).isEqualTo(200);
        }
      }
      assertThat(events.attempts())
          .filteredOn(a -> a.endpoint().locality().zone().equals("us-east-1a"))
          .isNotEmpty()
          .allSatisfy(a -> assertThat(a.outcome()).isEqualTo(Outcome.CONNECT_FAILED));
    }
  }

  /**
   * The attempt's own POST that an interceptor builds anew without its tags and sends to another
   * origin (an egress gateway), which reset it once it had it: it was on the network, and is not
   * sent again. (Its body is the attempt's: what tells it from a request of the application's own.)
   */
  @Test
  void theAttemptsPostRebuiltForAGatewayIsNeverSentTwice() throws IOException {
    tokens.stubFor(
        post(urlPathEqualTo("/users"))
            .willReturn(aResponse().withFault(Fault.CONNECTION_RESET_BY_PEER)));
    HttpUrl gateway = HttpUrl.get(tokens.baseUrl());
    Interceptor viaTheGateway =
        chain -> {
          Request r = chain.request();
          return chain.proceed(
              new Request.Builder()
                  .url(r.url().newBuilder().host(gateway.host()).port(gateway.port()).build())
                  .headers(r.headers())
                  .method(r.method(), r.body())
                  .build());
        };
    Zones3.Recorder events = new Zones3.Recorder();
    try (FailoverClient client =
        Zones3.client(zones)
            .okHttpClient(new OkHttpClient.Builder().addInterceptor(viaTheGateway).build())
            .deadline(Duration.ofSeconds(30))
            .hedging(HedgePolicy.off())
            .listener(events)
            .build()) {
      assertThatThrownBy(() -> client.newCall(createUser(1)).execute().close())
          .isInstanceOf(FailoverException.class);
    }
    assertThat(tokens.findAll(postRequestedFor(urlPathEqualTo("/users")))).hasSize(1);
    assertThat(events.attempts())
        .singleElement()
        .extracting(Attempt::outcome)
        .isEqualTo(Outcome.RESET);
  }

  /** Calls that succeed at once cost the retry budget nothing, token fetch or not. */
  @Test
  void successfulCallsAfterATokenFetchLeaveTheRetryBudgetFull() throws IOException {
    try (FailoverClient client = client(new Zones3.Recorder())) {
      double before = client.snapshot().budgetTokens();
      for (int i = 0; i < 50; i++) {
        try (Response r =
            client
                .newCall(new Request.Builder().url("http://directory/users/" + i).build())
                .execute()) {
          assertThat(r.code()).isEqualTo(200);
        }
      }
      assertThat(client.snapshot().counters().attempts()).isEqualTo(50);
      assertThat(client.snapshot().budgetTokens()).isGreaterThanOrEqualTo(before);
    }
  }
}
