package dev.failover.spring.boot.autoconfigure;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.ok;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.serviceUnavailable;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.failover.Endpoint;
import dev.failover.FailoverClient;
import dev.failover.FailoverException;
import dev.failover.HealthCheck;
import dev.failover.testkit.EndpointDescriptor;
import dev.failover.testkit.FakeZones;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.Status;

/**
 * The health contributor says what routing does in panic, with real clients on testkit zones: a
 * client that fails open still sends calls to every endpoint (UP), one that fails closed fails
 * every call (DOWN), however many endpoints each counts as healthy.
 */
class FailoverHealthIndicatorTests {

  @RegisterExtension
  static final FakeZones zones =
      FakeZones.builder()
          .region("us-east-1", "us-east-1a", "us-east-1b", "us-east-1c")
          .endpointsPerZone(2)
          .build();

  @BeforeAll
  static void stub() {
    zones.stubAll(get(urlPathMatching("/users/.*")).willReturn(okJson("{\"id\":42}")));
    // A fleet that sheds load: every endpoint asks for a pause of two minutes.
    zones.stubAll(
        get(urlPathMatching("/busy/.*"))
            .willReturn(aResponse().withStatus(429).withHeader("Retry-After", "120")));
    // Healthy in us-east-1c only: 2 of 6.
    zones.stubAll(get(urlPathEqualTo("/ready")).willReturn(ok("up")));
    zones
        .zone("us-east-1a")
        .stubFor(get(urlPathEqualTo("/ready")).willReturn(serviceUnavailable()));
    zones
        .zone("us-east-1b")
        .stubFor(get(urlPathEqualTo("/ready")).willReturn(serviceUnavailable()));
  }

  private static FailoverClient.Builder client() {
    List<Endpoint> endpoints = new ArrayList<>();
    for (EndpointDescriptor d : zones.endpoints()) {
      endpoints.add(Endpoint.of(d.url(), d.region(), d.zone()));
    }
    return FailoverClient.builder()
        .service("directory")
        .home("us-east-1", "us-east-1a")
        .endpoints(endpoints)
        .maxRetryAfter(Duration.ofMinutes(5));
  }

  private static int status(FailoverClient client, String path) throws IOException {
    Request request = new Request.Builder().url("http://directory" + path).build();
    try (Response response = client.newCall(request).execute()) {
      return response.code();
    }
  }

  /**
   * Every endpoint held off by its {@code Retry-After}: none is healthy, routing panics and,
   * failing open (the default), still sends each call to some endpoint, which answers.
   */
  @Test
  void aClientInPanicThatFailsOpenIsUpSinceEveryEndpointTakesCalls() throws IOException {
    try (FailoverClient client = client().maxAttempts(1).build()) {
      // Each call holds off the endpoint it went to; routing avoids those held off, until none is
      // left and it panics: at most one call per endpoint.
      for (int i = 0; i < 6 && !client.snapshot().panic(); i++) {
        assertThat(status(client, "/busy/" + i)).isEqualTo(429);
      }
      assertThat(client.snapshot().panic()).isTrue();
      assertThat(status(client, "/users/42")).isEqualTo(200);

      Health health = new FailoverHealthIndicator(client).health();

      assertThat(health.getStatus()).isEqualTo(Status.UP);
      assertThat(health.getDetails())
          .containsEntry("serving", "0/6")
          .containsEntry("panic", true)
          .containsEntry("routing", FailoverHealthIndicator.PANIC_FAIL_OPEN);
    }
  }

  /**
   * Two endpoints of six healthy, below a panic threshold of 50%: routing panics and, failing
   * closed, fails every call with NO_ENDPOINT though two endpoints would answer.
   */
  @Test
  void aClientInPanicThatFailsClosedIsDownThoughSomeEndpointsAreHealthy() {
    try (FailoverClient client =
        client()
            .panic(50, false)
            .healthCheck(
                HealthCheck.http("/ready")
                    .withInterval(Duration.ofMillis(100))
                    .withDownInterval(Duration.ofMillis(100))
                    .withThresholds(1, 2))
            .build()) {
      await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () ->
                  client.snapshot().panic()
                      && new FailoverHealthIndicator(client)
                          .health()
                          .getDetails()
                          .get("serving")
                          .equals("2/6"));
      assertThatThrownBy(() -> status(client, "/users/42"))
          .isInstanceOfSatisfying(
              FailoverException.class,
              e -> assertThat(e.reason()).isEqualTo(FailoverException.Reason.NO_ENDPOINT));

      Health health = new FailoverHealthIndicator(client).health();

      assertThat(health.getStatus()).isEqualTo(Status.DOWN);
      assertThat(health.getDetails())
          .containsEntry("panic", true)
          .containsEntry("routing", FailoverHealthIndicator.PANIC_FAIL_CLOSED);
    }
  }

  /** Outside panic nothing changes: UP while an endpoint is healthy, and no routing detail. */
  @Test
  void aClientOutOfPanicIsUpWithoutARoutingDetail() throws IOException {
    try (FailoverClient client = client().panic(50, false).build()) {
      assertThat(status(client, "/users/42")).isEqualTo(200);

      Health health = new FailoverHealthIndicator(client).health();

      assertThat(health.getStatus()).isEqualTo(Status.UP);
      assertThat(health.getDetails())
          .containsEntry("serving", "6/6")
          .containsEntry("panic", false)
          .doesNotContainKey("routing");
    }
  }
}
