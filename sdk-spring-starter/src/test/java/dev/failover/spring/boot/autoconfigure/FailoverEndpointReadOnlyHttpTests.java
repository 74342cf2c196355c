package dev.failover.spring.boot.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import dev.failover.FailoverClient;
import dev.failover.FailoverSnapshot;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.http.ResponseEntity;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.TestPropertySource;
import org.springframework.web.client.RestClient;

/**
 * Exposing the {@code failover} endpoint, as the docs do to read it, does not allow its write
 * operation: the endpoint's default access is read-only, and a POST shifts no zone. Nor does
 * unrestricted access for every endpoint.
 */
@SpringBootTest(
    // Named, for the nested class too (its search would find every test's application).
    classes = FailoverEndpointReadOnlyHttpTests.InventoryApp.class,
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
      "management.endpoints.web.exposure.include=health,failover",
      // Spring Cloud's Eureka client is on the test class path for EurekaDiscoveryTests.
      "eureka.client.enabled=false",
    })
// Closed after the class: its client's threads would be taken for those of other tests' clients.
@DirtiesContext
class FailoverEndpointReadOnlyHttpTests {

  @Autowired
  @Qualifier("inventory")
  FailoverClient inventory;

  @LocalServerPort int port;

  @Test
  void exposedTheEndpointIsReadButAPostShiftsNothing() {
    readButNotWritten(port, inventory);
  }

  /**
   * Unrestricted access for every endpoint, which Boot alone would give the {@code failover}
   * endpoint too, does not allow its write operation: that needs {@code
   * management.endpoint.failover.access=unrestricted} itself.
   */
  @Nested
  @TestPropertySource(properties = "management.endpoints.access.default=unrestricted")
  class WithUnrestrictedAccessForEveryEndpoint {
    @Autowired
    @Qualifier("inventory")
    FailoverClient inventory;

    @LocalServerPort int port;

    @Test
    void theEndpointIsReadButAPostShiftsNothing() {
      readButNotWritten(port, inventory);
    }
  }

  private static void readButNotWritten(int port, FailoverClient inventory) {
    ResponseEntity<String> read =
        RestClient.create("http://127.0.0.1:" + port + "/actuator")
            .get()
            .uri("/failover/inventory")
            .retrieve()
            .toEntity(String.class);
    assertThat(read.getStatusCode().value()).isEqualTo(200);

    ResponseEntity<String> write =
        FailoverEndpointHttpTests.post(
            port, "{\"zone\": \"us-east-1a\", \"duration\": \"2h\", \"requestedBy\": \"alice\"}");

    // No write operation is mapped: the path takes only GET.
    assertThat(write.getStatusCode().value()).isEqualTo(405);
    assertThat(ZonalShiftStarterTests.status(inventory, "us-east-1a"))
        .isEqualTo(FailoverSnapshot.ZoneStatus.ACTIVE);
  }

  @SpringBootApplication
  static class InventoryApp {}
}
