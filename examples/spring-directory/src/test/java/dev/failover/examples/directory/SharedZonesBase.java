package dev.failover.examples.directory;

import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.ok;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.failover.Endpoint;
import dev.failover.FailoverClient;
import dev.failover.testkit.FakeZones;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import okhttp3.Request;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Two test classes ({@link SharedZonesFirstTests}, {@link SharedZonesSecondTests}) of one base that
 * holds the fake zones: one Spring configuration, so Spring would hand the second class the context
 * cached for the first, whose failover client points at the first class's zones, closed since, and
 * keeps probing them every 100 ms. The testkit closes that context when the first class's zones
 * close: whichever class runs second gets a context on the zones it started, and the client of the
 * class before is closed (it probes nothing any more).
 */
@SpringBootTest(properties = "failover.clients.directory.health.interval=100ms")
abstract class SharedZonesBase {

  @RegisterExtension
  static final FakeZones zones =
      FakeZones.builder()
          .region("us-east-1", "us-east-1a", "us-east-1b")
          .region("us-west-2", "us-west-2a")
          .build();

  @DynamicPropertySource
  static void directoryOnFakeZones(DynamicPropertyRegistry registry) {
    zones.springProperties("directory").forEach((key, value) -> registry.add(key, () -> value));
  }

  /** The failover client of every class that ran, in order. */
  static final List<FailoverClient> CLIENTS = new CopyOnWriteArrayList<>();

  @Autowired DirectoryClient directory;

  @Autowired
  @Qualifier("directory")
  FailoverClient failover;

  @BeforeAll
  static void stubs() {
    zones.stubAll(get("/health").willReturn(ok()));
    zones.stubAll(
        get("/users/42")
            .willReturn(okJson("{\"id\":\"42\",\"name\":\"Ada\",\"email\":\"ada@example.com\"}")));
  }

  @Test
  void theContextIsOnThisClassesZonesAndTheClientOfTheClassBeforeIsClosed() {

    assertThat(failover.endpoints())
        .extracting(Endpoint::url)
        .extracting(Object::toString)
        .containsExactlyElementsOf(zones.endpoints().stream().map(e -> e.url() + "/").toList());
    assertThat(directory.user("42").name()).isEqualTo("Ada");
    for (FailoverClient before : CLIENTS) {
      assertThat(before).isNotSameAs(failover);
      assertThatThrownBy(
              () -> before.newCall(new Request.Builder().url("http://directory/health").build()))
          .isInstanceOf(IllegalStateException.class)
          .hasMessage("FailoverClient 'directory' is closed");
    }
    CLIENTS.add(failover);
  }
}
