package dev.failover.spring.boot.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import dev.failover.FailoverClient;
import dev.failover.FailoverSnapshot;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Bean;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.web.client.RestClient;

/**
 * The {@code failover} endpoint's write operation over HTTP, with its access set to {@code
 * unrestricted}: a shift is made, and a bad request (a missing or bad duration, an unknown zone,
 * the last zone in rotation) answers 400 with the reason, not 500.
 */
@SpringBootTest(
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = {
      "failover.home.region=us-east-1",
      "failover.home.zone=us-east-1a",
      "failover.clients.inventory.endpoints[0].url=http://127.0.0.1:1",
      "failover.clients.inventory.endpoints[0].region=us-east-1",
      "failover.clients.inventory.endpoints[0].zone=us-east-1a",
      "failover.clients.inventory.endpoints[1].url=http://127.0.0.1:2",
      "failover.clients.inventory.endpoints[1].region=us-east-1",
      "failover.clients.inventory.endpoints[1].zone=us-east-1b",
      "management.endpoints.web.exposure.include=failover",
      "management.endpoint.failover.access=unrestricted",
      "spring.web.error.include-message=always",
      // Spring Cloud's Eureka client is on the test class path for EurekaDiscoveryTests.
      "eureka.client.enabled=false",
    })
// Closed after the class: its client's threads would be taken for those of other tests' clients.
@DirtiesContext
class FailoverEndpointHttpTests {

  @Autowired
  @Qualifier("inventory")
  FailoverClient inventory;

  @Autowired
  @Qualifier("slowInventory")
  FailoverClient slowInventory;

  @LocalServerPort int port;

  /** POSTs a JSON body to {@code /actuator/failover/inventory}, whatever the answer's status. */
  static ResponseEntity<String> post(int port, String json) {
    return post(port, "inventory", json);
  }

  /** POSTs a JSON body to {@code /actuator/failover/<client>}, whatever the answer's status. */
  static ResponseEntity<String> post(int port, String client, String json) {
    return RestClient.create("http://127.0.0.1:" + port + "/actuator")
        .post()
        .uri("/failover/{client}", client)
        .contentType(MediaType.APPLICATION_JSON)
        .body(json)
        .retrieve()
        .onStatus(status -> true, (request, response) -> {})
        .toEntity(String.class);
  }

  @Test
  void aShiftIsMadeAndCancelled() {
    ResponseEntity<String> shifted =
        post(port, "{\"zone\": \"us-east-1a\", \"duration\": \"2h\", \"requestedBy\": \"alice\"}");

    assertThat(shifted.getStatusCode().value()).isEqualTo(200);
    assertThat(shifted.getBody()).contains("shifted away by actuator:alice until ");
    assertThat(ZonalShiftStarterTests.status(inventory, "us-east-1a"))
        .isEqualTo(FailoverSnapshot.ZoneStatus.SHIFTED);

    ResponseEntity<String> cancelled =
        post(port, "{\"zone\": \"us-east-1a\", \"cancel\": true, \"requestedBy\": \"alice\"}");

    assertThat(cancelled.getStatusCode().value()).isEqualTo(200);
    assertThat(ZonalShiftStarterTests.status(inventory, "us-east-1a"))
        .isNotEqualTo(FailoverSnapshot.ZoneStatus.SHIFTED);
  }

  @Test
  void aBadDurationAnswers400NamingIt() {
    ResponseEntity<String> answer =
        post(
            port, "{\"zone\": \"us-east-1a\", \"duration\": \"soon\", \"requestedBy\": \"alice\"}");

    assertThat(answer.getStatusCode().value()).isEqualTo(400);
    assertThat(answer.getBody())
        .contains("duration must be a duration such as 30m or 2h but was 'soon'");
    assertThat(ZonalShiftStarterTests.status(inventory, "us-east-1a"))
        .isEqualTo(FailoverSnapshot.ZoneStatus.ACTIVE);
  }

  @Test
  void aMissingOrOutOfRangeDurationAnswers400() {
    assertThat(post(port, "{\"zone\": \"us-east-1a\", \"requestedBy\": \"alice\"}"))
        .satisfies(a -> assertThat(a.getStatusCode().value()).isEqualTo(400))
        .satisfies(a -> assertThat(a.getBody()).contains("duration is required to shift"));
    assertThat(
            post(
                port,
                "{\"zone\": \"us-east-1a\", \"duration\": \"4d\", \"requestedBy\": \"alice\"}"))
        .satisfies(a -> assertThat(a.getStatusCode().value()).isEqualTo(400))
        .satisfies(a -> assertThat(a.getBody()).contains("between 1 s and 3 days"));
  }

  @Test
  void anUnknownZoneAnswers400NamingIt() {
    ResponseEntity<String> shift =
        post(port, "{\"zone\": \"us-east-1x\", \"duration\": \"2h\", \"requestedBy\": \"alice\"}");
    ResponseEntity<String> cancel =
        post(port, "{\"zone\": \"us-east-1x\", \"cancel\": true, \"requestedBy\": \"alice\"}");

    assertThat(shift.getStatusCode().value()).isEqualTo(400);
    assertThat(shift.getBody()).contains("no zone 'us-east-1x'");
    assertThat(cancel.getStatusCode().value()).isEqualTo(400);
    assertThat(cancel.getBody()).contains("no zone 'us-east-1x'");
  }

  @Test
  void aShiftOfTheLastZoneInRotationAnswers400() {
    assertThat(
            post(
                    port,
                    "{\"zone\": \"us-east-1a\", \"duration\": \"2h\", \"requestedBy\": \"alice\"}")
                .getStatusCode()
                .value())
        .isEqualTo(200);

    ResponseEntity<String> last =
        post(port, "{\"zone\": \"us-east-1b\", \"duration\": \"2h\", \"requestedBy\": \"alice\"}");

    assertThat(last.getStatusCode().value()).isEqualTo(400);
    assertThat(last.getBody()).contains("no other zone in rotation");
    assertThat(ZonalShiftStarterTests.status(inventory, "us-east-1b"))
        .isEqualTo(FailoverSnapshot.ZoneStatus.ACTIVE);
  }

  /** GETs {@code /actuator/failover<path>}, whatever the answer's status. */
  private ResponseEntity<String> get(String path) {
    return RestClient.create("http://127.0.0.1:" + port + "/actuator")
        .get()
        .uri("/failover" + path)
        .retrieve()
        .onStatus(status -> true, (request, response) -> {})
        .toEntity(String.class);
  }

  /**
   * The application's variant of the client ({@code slowInventory}, service {@code inventory} too)
   * is listed under its bean name; {@code /actuator/failover/inventory} is the client the starter
   * built, which {@code @Qualifier("inventory")} injects.
   */
  @Test
  void theConfiguredClientIsShiftedNotAVariantOfTheSameService() {
    assertThat(get("").getBody())
        .contains("\"inventory\":{\"service\":\"inventory\"")
        .contains("\"slowInventory\":{\"service\":\"inventory\"");

    ResponseEntity<String> shifted =
        post(port, "{\"zone\": \"us-east-1a\", \"duration\": \"2h\", \"requestedBy\": \"alice\"}");

    assertThat(shifted.getStatusCode().value()).isEqualTo(200);
    assertThat(ZonalShiftStarterTests.status(inventory, "us-east-1a"))
        .isEqualTo(FailoverSnapshot.ZoneStatus.SHIFTED);
    assertThat(ZonalShiftStarterTests.status(slowInventory, "us-east-1a"))
        .isEqualTo(FailoverSnapshot.ZoneStatus.ACTIVE);
    assertThat(get("/inventory").getBody()).contains("shifted away by actuator:alice until ");
    assertThat(get("/slowInventory").getBody()).doesNotContain("shifted away");
  }

  /** A typo in the client's name is not a success (204): 400, naming the clients there are. */
  @Test
  void anUnknownClientAnswers400NamingTheClients() {
    ResponseEntity<String> shift =
        post(
            port,
            "inventroy",
            "{\"zone\": \"us-east-1a\", \"duration\": \"2h\", \"requestedBy\": \"alice\"}");
    ResponseEntity<String> cancel =
        post(
            port,
            "inventroy",
            "{\"zone\": \"us-east-1a\", \"cancel\": true, \"requestedBy\": \"alice\"}");

    for (ResponseEntity<String> answer : List.of(shift, cancel)) {
      assertThat(answer.getStatusCode().value()).isEqualTo(400);
      assertThat(answer.getBody())
          .contains("no failover client 'inventroy'; clients are [inventory, slowInventory]");
    }
    assertThat(get("/inventroy").getStatusCode().value()).isEqualTo(404);
  }

  /**
   * A requester with a line break (a forged log line), a blank one or a duration without a unit
   * answers 400 naming the field and the value; nothing is shifted.
   */
  @Test
  void aBadRequesterOrADurationWithoutUnitAnswers400() {
    ResponseEntity<String> forged =
        post(
            port,
            "{\"zone\": \"us-east-1a\", \"duration\": \"2h\","
                + " \"requestedBy\": \"alice\\r\\n2026-01-01 WARN forged\"}");
    ResponseEntity<String> blank =
        post(port, "{\"zone\": \"us-east-1a\", \"duration\": \"2h\", \"requestedBy\": \" \"}");
    ResponseEntity<String> bare =
        post(
            port, "{\"zone\": \"us-east-1a\", \"duration\": \"7200\", \"requestedBy\": \"alice\"}");

    assertThat(forged.getStatusCode().value()).isEqualTo(400);
    assertThat(forged.getBody())
        .contains("requestedBy must not contain control characters")
        .contains("alice\\\\r\\\\n2026-01-01 WARN forged");
    assertThat(blank.getStatusCode().value()).isEqualTo(400);
    assertThat(blank.getBody()).contains("requestedBy must name who asks");
    ResponseEntity<String> missing = post(port, "{\"zone\": \"us-east-1a\", \"duration\": \"2h\"}");
    assertThat(missing.getStatusCode().value()).isEqualTo(400);
    assertThat(missing.getBody()).contains("requestedBy");
    assertThat(bare.getStatusCode().value()).isEqualTo(400);
    assertThat(bare.getBody())
        .contains("duration must have a unit, such as 30m or 2h, but was '7200'");
    assertThat(ZonalShiftStarterTests.status(inventory, "us-east-1a"))
        .isEqualTo(FailoverSnapshot.ZoneStatus.ACTIVE);
  }

  @SpringBootApplication
  static class InventoryApp {
    /** A variant of the starter's client, as docs/spring-boot.md shows: service inventory too. */
    @Bean
    FailoverClient slowInventory(@Qualifier("inventory") FailoverClient inventory) {
      return inventory.newBuilder().deadline(Duration.ofSeconds(30)).build();
    }
  }
}
