package dev.failover.examples.directory;

import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static org.assertj.core.api.Assertions.assertThat;

import dev.failover.testkit.FakeZones;
import dev.failover.testkit.Mark;
import dev.failover.testkit.ZoneFault;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.web.client.RestClient;

/** The example app against testkit zones: profiles keep coming while the home zone is down. */
@SpringBootTest(
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = "failover.clients.directory.health.enabled=false")
class DirectoryApplicationTests {

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

  @LocalServerPort int port;

  @Test
  void profileIsServedThroughAHomeZoneOutage() {
    zones.stubAll(
        get("/users/42")
            .willReturn(okJson("{\"id\":\"42\",\"name\":\"Ada\",\"email\":\"ada@example.com\"}")));
    zones.stubAll(
        get("/users/42/groups").willReturn(okJson("[{\"id\":\"eng\",\"name\":\"Eng\"}]")));
    RestClient app = RestClient.create("http://127.0.0.1:" + port);

    String before = app.get().uri("/api/users/42/profile").retrieve().body(String.class);
    assertThat(zones.zone("us-east-1a").requestCount()).isEqualTo(2);

    Mark outage = zones.mark();
    zones.zone("us-east-1a").fail(ZoneFault.refuse());
    String during = app.get().uri("/api/users/42/profile").retrieve().body(String.class);

    assertThat(during)
        .isEqualTo(before)
        .isEqualTo(
            "{\"user\":{\"id\":\"42\",\"name\":\"Ada\",\"email\":\"ada@example.com\"},"
                + "\"groups\":[{\"id\":\"eng\",\"name\":\"Eng\"}]}");
    // Both calls were answered by the next tier: the other zone of the home region.
    assertThat(zones.zone("us-east-1a").requestCount(outage)).isZero();
    assertThat(zones.zone("us-east-1b").requestCount(outage)).isGreaterThanOrEqualTo(2);
  }
}
