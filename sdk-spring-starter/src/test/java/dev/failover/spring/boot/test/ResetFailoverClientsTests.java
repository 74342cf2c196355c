package dev.failover.spring.boot.test;

import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static org.assertj.core.api.Assertions.assertThat;

import dev.failover.FailoverClient;
import dev.failover.FailoverSnapshot;
import dev.failover.testkit.FakeZones;
import java.io.IOException;
import java.time.Duration;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.annotation.Bean;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * The starter's test support in a running Boot application on testkit zones: a zonal shift made by
 * one test method is gone in the next, for the starter's client bean and for one the application
 * defines itself; a class annotated {@link KeepFailoverClientState} keeps it.
 */
@SpringBootTest(
    properties = {
      "failover.home.region=us-east-1",
      "failover.home.zone=us-east-1a",
      // Spring Cloud's Eureka client is on the test class path for the starter's Eureka tests.
      "eureka.client.enabled=false",
    })
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ResetFailoverClientsTests {

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

  @BeforeAll
  static void stubs() {
    zones.stubAll(get("/users/42").willReturn(okJson("{\"id\":42}")));
  }

  @Autowired
  @Qualifier("directory")
  FailoverClient directory;

  @Autowired
  @Qualifier("own")
  FailoverClient own;

  @Test
  @Order(1)
  void aTestShiftsTrafficAwayFromTheHomeZone() throws IOException {
    shiftHomeAway();
    assertThat(homeZone(directory).status()).isEqualTo(FailoverSnapshot.ZoneStatus.SHIFTED);
    assertThat(homeZone(own).status()).isEqualTo(FailoverSnapshot.ZoneStatus.SHIFTED);
    assertThat(callLandsIn()).isEqualTo("us-east-1b");
  }

  @Test
  @Order(2)
  void theNextTestStartsWithClientsThatForgotTheShift() throws IOException {
    assertThat(homeZone(directory).status()).isEqualTo(FailoverSnapshot.ZoneStatus.ACTIVE);
    assertThat(homeZone(own).status()).isEqualTo(FailoverSnapshot.ZoneStatus.ACTIVE);
    assertThat(callLandsIn()).isEqualTo("us-east-1a");
  }

  @Nested
  @KeepFailoverClientState
  @TestMethodOrder(MethodOrderer.OrderAnnotation.class)
  class KeepingTheState {

    @Test
    @Order(1)
    void aTestShiftsTrafficAway() {
      shiftHomeAway();
      assertThat(homeZone(directory).status()).isEqualTo(FailoverSnapshot.ZoneStatus.SHIFTED);
    }

    @Test
    @Order(2)
    void theNextTestStillSeesTheShift() throws IOException {
      assertThat(homeZone(directory).status()).isEqualTo(FailoverSnapshot.ZoneStatus.SHIFTED);
      assertThat(callLandsIn()).isEqualTo("us-east-1b");
      directory.cancelShift("us-east-1a", "test");
      own.cancelShift("us-east-1a", "test");
    }
  }

  void shiftHomeAway() {
    directory.shiftAway("us-east-1a", Duration.ofMinutes(10), "test");
    own.shiftAway("us-east-1a", Duration.ofMinutes(10), "test");
  }

  /** Calls the directory client once; returns the zone whose endpoint answered. */
  String callLandsIn() throws IOException {
    zones.resetCounts();
    try (Response response =
        directory
            .newCall(new Request.Builder().url("http://directory/users/42").build())
            .execute()) {
      assertThat(response.code()).isEqualTo(200);
    }
    return zones.zones().stream()
        .filter(z -> z.requestCount(getRequestedFor(urlEqualTo("/users/42"))) == 1)
        .map(z -> z.name())
        .findFirst()
        .orElseThrow();
  }

  static FailoverSnapshot.Zone homeZone(FailoverClient client) {
    return client.snapshot().zones().get(0);
  }

  @SpringBootApplication
  static class App {
    /** A client the application builds itself, on the same zones. */
    @Bean
    FailoverClient own() {
      FailoverClient.Builder b =
          FailoverClient.builder().service("own").home("us-east-1", "us-east-1a");
      zones.endpoints().forEach(e -> b.endpoint(e.url(), e.region(), e.zone()));
      return b.build();
    }
  }
}
