package dev.failover.examples.directory;

import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.ok;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.failover.FailoverClient;
import dev.failover.FailoverSnapshot;
import dev.failover.testkit.FakeZones;
import dev.failover.testkit.ZoneFault;
import java.time.Duration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * The Spring Boot example of docs/testing.md, compiled and run against the example app: the doc
 * copies the region of this file, and {@link TestingGuideQuoteTests} checks that it does.
 */
// region spring-boot
@SpringBootTest(properties = "failover.clients.directory.health.interval=200ms")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TestingGuideSpringExampleTests {

  @RegisterExtension
  static final FakeZones zones =
      FakeZones.builder()
          .region("us-east-1", "us-east-1a", "us-east-1b")
          .region("us-west-2", "us-west-2a")
          .build();

  @DynamicPropertySource
  static void directoryOnFakeZones(DynamicPropertyRegistry registry) {
    registry.add("failover.home.region", () -> "us-east-1");
    registry.add("failover.home.zone", () -> "us-east-1a");
    zones.springProperties("directory").forEach((key, value) -> registry.add(key, () -> value));
  }

  @BeforeAll
  static void stubs() {
    zones.stubAll(get("/health").willReturn(ok()));
    zones.stubAll(
        get("/users/42")
            .willReturn(okJson("{\"id\":\"42\",\"name\":\"Ada\",\"email\":\"ada@example.com\"}")));
  }

  @Autowired DirectoryClient directory; // the app's @HttpExchange client

  @Autowired
  @Qualifier("directory")
  FailoverClient failover;

  @Test
  @Order(1)
  void servesThroughAHomeZoneOutage() {
    zones.zone("us-east-1a").fail(ZoneFault.refuse());

    assertThat(directory.user("42").name()).isEqualTo("Ada");
    assertThat(zones.zone("us-east-1b").requestCount(getRequestedFor(urlEqualTo("/users/42"))))
        .isEqualTo(1);
    // Health checks mark the refusing endpoint down within a few probes.
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> homeEndpoint().health() == FailoverSnapshot.Health.DOWN);
  }

  @Test
  @Order(2)
  void theNextTestFindsTheHomeZoneHealedAndTheClientFresh() {
    // FakeZones healed the zone before this test; the starter reset the client after the last.
    assertThat(homeEndpoint().health()).isEqualTo(FailoverSnapshot.Health.HEALTHY);
    assertThat(directory.user("42").name()).isEqualTo("Ada");
    assertThat(zones.zone("us-east-1a").requestCount(getRequestedFor(urlEqualTo("/users/42"))))
        .isEqualTo(1);
  }

  FailoverSnapshot.EndpointState homeEndpoint() {
    return failover.snapshot().zones().get(0).endpoints().get(0);
  }
}
// endregion
