package dev.failover.spring.boot.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.failover.FailoverClient;
import dev.failover.FailoverSnapshot;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.springframework.boot.actuate.endpoint.InvalidEndpointRequestException;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/** Zonal shifts from properties (planned maintenance) and from the Actuator write operation. */
class ZonalShiftStarterTests {
  private final ApplicationContextRunner runner =
      new ApplicationContextRunner()
          .withConfiguration(
              AutoConfigurations.of(
                  FailoverAutoConfiguration.class, FailoverEndpointAutoConfiguration.class))
          .withPropertyValues(
              "failover.home.region=us-east-1",
              "failover.home.zone=us-east-1a",
              "management.endpoints.web.exposure.include=failover",
              "failover.clients.directory.endpoints[0].url=http://127.0.0.1:1",
              "failover.clients.directory.endpoints[0].region=us-east-1",
              "failover.clients.directory.endpoints[0].zone=us-east-1a",
              "failover.clients.directory.endpoints[1].url=http://127.0.0.1:2",
              "failover.clients.directory.endpoints[1].region=us-east-1",
              "failover.clients.directory.endpoints[1].zone=us-east-1b");

  static FailoverSnapshot.ZoneStatus status(FailoverClient client, String zone) {
    return client.snapshot().zones().stream()
        .filter(z -> z.locality().zone().equals(zone))
        .findFirst()
        .orElseThrow()
        .status();
  }

  @Test
  void aPlannedShiftFromPropertiesHoldsTheZoneOutUntilItsEnd() {
    runner
        .withPropertyValues(
            "failover.clients.directory.zonal-shifts.us-east-1a="
                + Instant.now().plus(Duration.ofHours(1)),
            "failover.clients.directory.zonal-shifts.us-east-1b="
                + Instant.now().minus(Duration.ofHours(1)))
        .run(
            context -> {
              FailoverClient client = context.getBean(FailoverClient.class);
              assertThat(status(client, "us-east-1a"))
                  .isEqualTo(FailoverSnapshot.ZoneStatus.SHIFTED);
              // A shift whose end has passed is ignored.
              assertThat(status(client, "us-east-1b"))
                  .isEqualTo(FailoverSnapshot.ZoneStatus.ACTIVE);
            });
  }

  @Test
  void aShiftOfAnUnknownZoneStopsTheAppNamingTheProperty() {
    runner
        .withPropertyValues(
            "failover.clients.directory.zonal-shifts.us-east-1x="
                + Instant.now().plus(Duration.ofHours(1)))
        .run(
            context ->
                assertThat(context)
                    .getFailure()
                    .rootCause()
                    .hasMessageContaining("no zone 'us-east-1x'"));
  }

  @Test
  void theActuatorWriteOperationShiftsAndCancels() {
    runner.run(
        context -> {
          FailoverEndpoint endpoint = context.getBean(FailoverEndpoint.class);
          FailoverClient client = context.getBean(FailoverClient.class);
          FailoverEndpoint.ClientDescriptor shifted =
              endpoint.shift("directory", "us-east-1a", "30m", "alice", null);
          assertThat(shifted).isNotNull();
          assertThat(status(client, "us-east-1a")).isEqualTo(FailoverSnapshot.ZoneStatus.SHIFTED);
          assertThat(client.snapshot().zones().get(0).reason())
              .startsWith("shifted away by actuator:alice until ");
          endpoint.shift("directory", "us-east-1a", null, "alice", true);
          assertThat(status(client, "us-east-1a"))
              .isNotEqualTo(FailoverSnapshot.ZoneStatus.SHIFTED);
          assertThat(endpoint.shift("nope", "us-east-1a", "30m", "alice", null)).isNull();
          // A bad request is Actuator's InvalidEndpointRequestException: 400 over HTTP.
          assertThatThrownBy(() -> endpoint.shift("directory", "us-east-1a", "soon", "alice", null))
              .isInstanceOf(InvalidEndpointRequestException.class)
              .hasMessage("duration must be a duration such as 30m or 2h but was 'soon'");
          assertThatThrownBy(() -> endpoint.shift("directory", "us-east-1a", null, "alice", null))
              .isInstanceOf(InvalidEndpointRequestException.class)
              .hasMessage("duration is required to shift, such as 30m or 2h");
          assertThatThrownBy(() -> endpoint.shift("directory", "us-east-1x", "30m", "alice", null))
              .isInstanceOf(InvalidEndpointRequestException.class)
              .hasMessageStartingWith("no zone 'us-east-1x'");
          assertThatThrownBy(() -> endpoint.shift("directory", "us-east-1x", null, "alice", true))
              .isInstanceOf(InvalidEndpointRequestException.class)
              .hasMessageStartingWith("no zone 'us-east-1x'");
          // The last zone in rotation is refused.
          endpoint.shift("directory", "us-east-1a", "30m", "alice", null);
          assertThatThrownBy(() -> endpoint.shift("directory", "us-east-1b", "30m", "alice", null))
              .isInstanceOf(InvalidEndpointRequestException.class)
              .hasMessageContaining("no other zone in rotation");
        });
  }
}
