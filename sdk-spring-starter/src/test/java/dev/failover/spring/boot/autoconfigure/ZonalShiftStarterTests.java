package dev.failover.spring.boot.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.failover.FailoverClient;
import dev.failover.FailoverSnapshot;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.assertj.core.api.AbstractThrowableAssert;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
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

  /** A zone name repeated across regions (Azure's 1, 2, 3) is planned as region/zone. */
  @Test
  void aPlannedShiftNamesARepeatedZoneAsRegionSlashZone() {
    new ApplicationContextRunner()
        .withConfiguration(AutoConfigurations.of(FailoverAutoConfiguration.class))
        .withPropertyValues(
            "failover.home.region=eastus",
            "failover.home.zone=1",
            "failover.clients.directory.endpoints[0].url=http://127.0.0.1:1",
            "failover.clients.directory.endpoints[0].region=eastus",
            "failover.clients.directory.endpoints[0].zone=1",
            "failover.clients.directory.endpoints[1].url=http://127.0.0.1:2",
            "failover.clients.directory.endpoints[1].region=westus",
            "failover.clients.directory.endpoints[1].zone=1",
            "failover.clients.directory.zonal-shifts.[westus/1]="
                + Instant.now().plus(Duration.ofHours(1)))
        .run(
            context -> {
              FailoverClient client = context.getBean(FailoverClient.class);
              assertThat(
                      client.snapshot().zones().stream()
                          .filter(z -> z.status() == FailoverSnapshot.ZoneStatus.SHIFTED)
                          .map(z -> z.locality().region()))
                  .containsExactly("westus");
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

  /** A request the write operation refuses: Actuator's InvalidEndpointRequestException, a 400. */
  private static AbstractThrowableAssert<?, ? extends Throwable> refused(ThrowingCallable request) {
    return assertThatThrownBy(request).isInstanceOf(InvalidEndpointRequestException.class);
  }

  /**
   * {@code requestedBy} goes into a WARN log line, the event and the zone's reason: blank, with
   * control characters (a forged log line) or longer than 200 characters, it is refused, naming the
   * field and the value (escaped, cut); a duration without a unit is refused rather than taken as
   * milliseconds.
   */
  @Test
  void theActuatorWriteOperationRefusesABadRequesterOrADurationWithoutUnit() {
    runner.run(
        context -> {
          FailoverEndpoint endpoint = context.getBean(FailoverEndpoint.class);
          FailoverClient client = context.getBean(FailoverClient.class);
          for (String blank : List.of("", "   ")) {
            refused(() -> endpoint.shift("directory", "us-east-1a", "30m", blank, null))
                .hasMessage(
                    "requestedBy must name who asks, such as alice or CHG-1234, but was '"
                        + blank
                        + "'");
          }
          refused(
                  () ->
                      endpoint.shift(
                          "directory", "us-east-1a", "30m", "alice\r\nWARN forged\u001b", null))
              .hasMessage(
                  "requestedBy must not contain control characters such as line breaks or tabs"
                      + " but was 'alice\\r\\nWARN forged\\u001b'");
          refused(() -> endpoint.shift("directory", "us-east-1a", null, "a\tb", true))
              .hasMessageContaining("but was 'a\\tb'");
          // A right-to-left override would make the log line read backwards from there.
          refused(() -> endpoint.shift("directory", "us-east-1a", "30m", "alice\u202Eecila", null))
              .hasMessageContaining("but was 'alice\\u202eecila'");
          String longest = "x".repeat(200);
          refused(() -> endpoint.shift("directory", "us-east-1a", "30m", longest + "y", null))
              .hasMessage(
                  "requestedBy must have at most 200 characters but had 201: '" + longest + "...'");
          for (String bare : List.of("7200", "7200000", " 30 ", "-5")) {
            refused(() -> endpoint.shift("directory", "us-east-1a", bare, "alice", null))
                .hasMessage("duration must have a unit, such as 30m or 2h, but was '" + bare + "'");
          }
          assertThat(status(client, "us-east-1a")).isEqualTo(FailoverSnapshot.ZoneStatus.ACTIVE);

          // 200 characters, and ISO-8601, are taken.
          endpoint.shift("directory", "us-east-1a", "PT2H", longest, null);
          assertThat(client.snapshot().zones().get(0).reason())
              .startsWith("shifted away by actuator:" + longest + " until ");
        });
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
          // A client name that does not exist is the request's fault, named with the clients.
          refused(() -> endpoint.shift("nope", "us-east-1a", "30m", "alice", null))
              .hasMessage("no failover client 'nope'; clients are [directory]");
          refused(() -> endpoint.shift("nope", "us-east-1a", null, "alice", true))
              .hasMessage("no failover client 'nope'; clients are [directory]");
          // A read of a client that does not exist is null: 404 over HTTP.
          assertThat(endpoint.client("nope")).isNull();
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

  /**
   * The SDK runs a call's first attempt on the caller's thread by default only where the client's
   * listeners are ones that never wait, and it knows the starter's planned shifts by this name: a
   * rename would hand every starter client with planned shifts to the dispatcher unnoticed.
   */
  @Test
  void theSdkKnowsThePlannedShiftsListenerByItsName() {
    assertThat(PlannedShifts.class.getName())
        .isEqualTo("dev.failover.spring.boot.autoconfigure.PlannedShifts");
  }
}
