package dev.failover.spring.boot.autoconfigure;

import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.jayway.jsonpath.DocumentContext;
import com.jayway.jsonpath.JsonPath;
import dev.failover.testkit.FakeEndpoint;
import dev.failover.testkit.FakeZones;
import dev.failover.testkit.ZoneFault;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.web.client.RestClient;

/**
 * The whole starter in a running Boot application, on testkit zones: a RestClient call survives the
 * home zone refusing connections, and Actuator shows it. Writes the Actuator output it saw to
 * {@code target/docs-snippets/} for docs/spring-boot.md.
 */
@SpringBootTest(
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = {
      "failover.home.region=us-east-1",
      "failover.home.zone=us-east-1a",
      // Room for an attempt (deadline / 3 attempts) to a zone's first request on a busy machine:
      // a timed-out attempt would be retried once more than the call below counts.
      "failover.defaults.deadline=10s",
      "failover.clients.directory.ejection.consecutive-failures=1",
      // The home endpoint stays ejected (48-60 s with jitter) until every assertion has run on
      // however slow a machine: it must not return, nor be ejected again, while the test reads.
      "failover.clients.directory.ejection.base-ejection-time=60s",
      "management.endpoints.web.exposure.include=health,failover,metrics",
      "management.endpoint.health.show-details=always",
      "management.health.failover.enabled=true",
      // Spring Cloud's Eureka client is on the test class path for EurekaDiscoveryTests.
      "eureka.client.enabled=false",
    })
class ZoneOutageSpringBootTest {

  @RegisterExtension
  static final FakeZones zones =
      FakeZones.builder()
          .region("us-east-1", "us-east-1a", "us-east-1b")
          .region("us-west-2", "us-west-2a")
          .build();

  @DynamicPropertySource
  static void endpoints(DynamicPropertyRegistry registry) {
    zones.springProperties("directory").forEach((key, value) -> registry.add(key, () -> value));
  }

  @Autowired
  @Qualifier("directory")
  RestClient directory;

  @LocalServerPort int port;

  @Test
  void callSurvivesHomeZoneRefusingConnectionsAndActuatorShowsIt() throws IOException {
    zones.stubAll(get(urlPathMatching("/users/.*")).willReturn(okJson("{\"id\":42}")));
    RestClient actuator = RestClient.create("http://127.0.0.1:" + port + "/actuator");
    warmUp(actuator);
    zones.zone("us-east-1a").fail(ZoneFault.refuse());

    String body = directory.get().uri("/users/42").retrieve().body(String.class);

    assertThat(body).isEqualTo("{\"id\":42}");
    assertThat(zones.zone("us-east-1b").requestCount()).isEqualTo(1);
    assertThat(zones.zone("us-east-1a").requestCount()).isZero();

    // Its only endpoint ejected, the home zone is evacuated at the client's next judgement (each
    // second), long before the ejection ends (at least 48 s); the wait stops there. Its bound
    // leaves room for a slow request to the actuator on a busy machine.
    await()
        .atMost(Duration.ofSeconds(10))
        .pollInterval(Duration.ofMillis(50))
        .until(
            () ->
                JsonPath.parse(actuator.get().uri("/failover").retrieve().body(String.class))
                    .read("$.clients.directory.zones[0].status", String.class)
                    .equals("EVACUATED"));
    String health = actuator.get().uri("/health/failover").retrieve().body(String.class);
    String failover = actuator.get().uri("/failover").retrieve().body(String.class);
    String attempts =
        actuator.get().uri("/metrics/failover.attempts").retrieve().body(String.class);
    save("health-failover.json", health);
    save("failover.json", failover);
    save("metrics-failover.attempts.json", attempts);
    List<String> meterNames =
        JsonPath.parse(actuator.get().uri("/metrics").retrieve().body(String.class))
            .read("$.names[?(@ =~ /failover.*/)]");
    save("metrics-names.txt", String.join("\n", meterNames) + "\n");
    assertThat(meterNames)
        .contains(
            "failover.calls",
            "failover.attempts",
            "failover.retries",
            "failover.endpoint.latency",
            "failover.endpoint.ejections",
            "failover.endpoint.state",
            "failover.endpoint.outstanding",
            "failover.budget.tokens",
            "failover.panic",
            "failover.client.stalled",
            "failover.zone.state",
            "failover.zone.evacuations")
        // Hedging is off for this client: no hedge-delay gauge, which would only report NaN.
        .doesNotContain("failover.hedge.delay");

    String homeEndpoint = zones.zone("us-east-1a").endpoint(0).url();
    DocumentContext h = JsonPath.parse(health);
    assertThat(h.read("$.status", String.class)).isEqualTo("UP");
    assertThat(h.read("$.components.directory.status", String.class)).isEqualTo("UP");
    assertThat(h.read("$.components.directory.details.serving", String.class)).isEqualTo("2/3");
    Map<String, Object> homeState =
        h.read(
            "$.components.directory.details.zones['us-east-1/us-east-1a'].endpoints['"
                + homeEndpoint
                + "']");
    assertThat(homeState).containsEntry("state", "EJECTED").containsEntry("ejections", 1);
    Map<String, Object> homeZone =
        h.read("$.components.directory.details.zones['us-east-1/us-east-1a']");
    assertThat(homeZone)
        .containsEntry("status", "EVACUATED")
        .containsEntry("reason", "ejected 1 of 1 endpoints");
    assertThat(
            h.read(
                "$.components.directory.details.zones['us-east-1/us-east-1b'].status",
                String.class))
        .isEqualTo("ACTIVE");

    DocumentContext f = JsonPath.parse(failover);
    List<String> zoneNames = f.read("$.clients.directory.zones[*].zone");
    assertThat(zoneNames).containsExactly("us-east-1a", "us-east-1b", "us-west-2a");
    assertThat(f.read("$.clients.directory.zones[0].endpoints[0].url", String.class))
        .isEqualTo(homeEndpoint);
    assertThat(f.read("$.clients.directory.zones[0].endpoints[0].state", String.class))
        .isEqualTo("EJECTED");
    assertThat(f.read("$.clients.directory.zones[1].endpoints[0].state", String.class))
        .isEqualTo("HEALTHY");
    List<String> statuses = f.read("$.clients.directory.zones[*].status");
    assertThat(statuses).containsExactly("EVACUATED", "ACTIVE", "ACTIVE");
    assertThat(f.read("$.clients.directory.zones[0].reason", String.class))
        .isEqualTo("ejected 1 of 1 endpoints");
    assertThat(f.read("$.clients.directory.zones[0].evacuations", Integer.class)).isEqualTo(1);
    assertThat(f.read("$.clients.directory.counters.calls", Integer.class)).isEqualTo(1);
    assertThat(f.read("$.clients.directory.counters.retries", Integer.class)).isEqualTo(1);
    // Hedging is off: no hedge delay (Actuator leaves nulls out).
    Map<String, Object> client = f.read("$.clients.directory");
    assertThat(client).doesNotContainKey("hedgeDelayMillis");
    String evacuations =
        actuator.get().uri("/metrics/failover.zone.evacuations").retrieve().body(String.class);
    assertThat(JsonPath.parse(evacuations).read("$.measurements[0].value", Double.class))
        .isEqualTo(1.0);
    assertThat(attempts).contains("\"connect_failed\"").contains("\"us-east-1a\"");
  }

  /**
   * Warms the in-JVM zones and the actuator's endpoints before the fault, so that neither the
   * call's attempt to a zone nor the actuator's first requests are a cold JVM's: a plain OkHttp
   * client (not the failover client, whose counters the test reads) sends the test's request to
   * every endpoint, then the zones' request counts are cleared. Every request here has been
   * answered (and journaled) when it returns.
   */
  private static void warmUp(RestClient actuator) throws IOException {
    OkHttpClient plain = new OkHttpClient.Builder().callTimeout(Duration.ofSeconds(30)).build();
    try {
      for (FakeEndpoint endpoint : zones.fakeEndpoints()) {
        for (int i = 0; i < 20; i++) {
          try (Response r =
              plain
                  .newCall(new Request.Builder().url(endpoint.url() + "/users/42").build())
                  .execute()) {
            assertThat(r.code()).isEqualTo(200);
            r.body().string();
          }
        }
      }
    } finally {
      plain.dispatcher().executorService().shutdown();
      plain.connectionPool().evictAll();
    }
    zones.resetCounts();
    for (int i = 0; i < 5; i++) {
      for (String uri :
          List.of(
              "/health/failover",
              "/failover",
              "/metrics",
              "/metrics/failover.attempts",
              "/metrics/failover.zone.evacuations")) {
        // A meter that no attempt has made yet is a 404: the request is warm all the same.
        actuator
            .get()
            .uri(uri)
            .retrieve()
            .onStatus(status -> true, (request, response) -> {})
            .toBodilessEntity();
      }
    }
  }

  private static void save(String name, String json) throws IOException {
    Path dir = Path.of("target", "docs-snippets");
    Files.createDirectories(dir);
    Files.writeString(dir.resolve(name), json);
  }

  @SpringBootApplication
  static class DirectoryApp {}
}
