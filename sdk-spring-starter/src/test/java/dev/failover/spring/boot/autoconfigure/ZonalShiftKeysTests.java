package dev.failover.spring.boot.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import dev.failover.FailoverClient;
import dev.failover.FailoverSnapshot;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.core.env.SystemEnvironmentPropertySource;

/**
 * A zone under {@code zonal-shifts} is one element of the key. Spring Boot's binder joins the
 * remaining elements of a key into one map key only for maps of strings, enums and other {@code
 * java.lang} values, not for the instants of {@code zonal-shifts}: a key with more elements after
 * {@code zonal-shifts} (an environment variable {@code ..._ZONALSHIFTS_US_EAST_1B}, {@code
 * zonal-shifts.us.east.1b}, {@code zonal-shifts.us-east-1b.until}) binds to no shift, so start-up
 * fails naming it and saying how to write such a zone.
 */
class ZonalShiftKeysTests {
  private static final String D = "failover.clients.directory.";

  private static final String[] DOTTED_ZONE = {
    "failover.home.region=us-east-1",
    "failover.home.zone=us.east.1a",
    D + "endpoints[0].url=http://127.0.0.1:1",
    D + "endpoints[0].region=us-east-1",
    D + "endpoints[0].zone=us.east.1a",
    D + "endpoints[1].url=http://127.0.0.1:2",
    D + "endpoints[1].region=us-east-1",
    D + "endpoints[1].zone=us.east.1b"
  };

  private final ApplicationContextRunner runner =
      new ApplicationContextRunner()
          .withConfiguration(AutoConfigurations.of(FailoverAutoConfiguration.class))
          .withPropertyValues(FailoverAutoConfigurationTests.DIRECTORY);

  private static String inAnHour() {
    return Instant.now().plus(Duration.ofHours(1)).toString();
  }

  private static FailoverSnapshot.ZoneStatus status(FailoverClient client, String zone) {
    return ZonalShiftStarterTests.status(client, zone);
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"zonal-shifts.us-east-1b.until", "zonal-shifts.us.east.1b"})
  void aKeyWithSeveralElementsAfterZonalShiftsFailsStartUpSayingHowToWriteTheZone(String key) {
    runner
        .withPropertyValues(D + key + "=" + inAnHour())
        .run(
            context -> {
              assertThat(context).hasFailed();
              FailureAnalysis analysis =
                  new FailoverConfigurationFailureAnalyzer().analyze(context.getStartupFailure());
              assertThat(analysis).as("analysis of %s", context.getStartupFailure()).isNotNull();
              assertThat(analysis.getDescription())
                  .contains("Property: " + D + key + "\n")
                  .contains("a zone under zonal-shifts is one element of the key")
                  .contains(D + "zonal-shifts[");
              assertThat(analysis.getAction())
                  .contains(D + "zonal-shifts[")
                  .contains("SPRING_APPLICATION_JSON");
            });
  }

  @Test
  void theNestedKeyOfAZoneWithDotsSuggestsTheZoneInBrackets() {
    runner
        .withPropertyValues(D + "zonal-shifts.us.east.1b=" + inAnHour())
        .run(
            context ->
                assertThat(
                        new FailoverConfigurationFailureAnalyzer()
                            .analyze(context.getStartupFailure())
                            .getDescription())
                    .contains("did you mean " + D + "zonal-shifts[us.east.1b]?"));
  }

  @Test
  void anEnvironmentVariableOfAZoneWithDashesFailsStartUpPointingToSpringApplicationJson() {
    runner
        .withInitializer(
            context ->
                context
                    .getEnvironment()
                    .getPropertySources()
                    .addFirst(
                        new SystemEnvironmentPropertySource(
                            "test-systemEnvironment",
                            Map.of(
                                "FAILOVER_CLIENTS_DIRECTORY_ZONALSHIFTS_US_EAST_1B", inAnHour()))))
        .run(
            context -> {
              assertThat(context).hasFailed();
              FailureAnalysis analysis =
                  new FailoverConfigurationFailureAnalyzer().analyze(context.getStartupFailure());
              assertThat(analysis.getDescription())
                  .contains("Property: " + D + "zonalshifts.us.east.1b\n")
                  .contains("FAILOVER_CLIENTS_DIRECTORY_ZONALSHIFTS_US_EAST_1B")
                  .contains("did you mean " + D + "zonal-shifts[us-east-1b]?");
              assertThat(analysis.getAction())
                  .contains(
                      "SPRING_APPLICATION_JSON={\""
                          + D
                          + "zonal-shifts[us-east-1b]\":\"<instant>\"}");
            });
  }

  /** The ways the failure gives to write such a zone shift it. */
  @Test
  void aZoneWithDotsInBracketsIsShifted() {
    new ApplicationContextRunner()
        .withConfiguration(AutoConfigurations.of(FailoverAutoConfiguration.class))
        .withPropertyValues(DOTTED_ZONE)
        .withPropertyValues(D + "zonal-shifts[us.east.1b]=" + inAnHour())
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              FailoverClient client = context.getBean(FailoverClient.class);
              assertThat(status(client, "us.east.1b"))
                  .isEqualTo(FailoverSnapshot.ZoneStatus.SHIFTED);
              assertThat(status(client, "us.east.1a"))
                  .isEqualTo(FailoverSnapshot.ZoneStatus.ACTIVE);
            });
  }

  @Configuration(proxyBeanMethods = false)
  @ImportAutoConfiguration(FailoverAutoConfiguration.class)
  static class App {}

  @Test
  void aZoneWithDashesFromSpringApplicationJsonIsShifted() {
    StandardEnvironment environment = new StandardEnvironment();
    environment
        .getPropertySources()
        .replace(
            StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME,
            new SystemEnvironmentPropertySource(
                StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME,
                Map.of(
                    "SPRING_APPLICATION_JSON",
                    "{\"" + D + "zonal-shifts[us-east-1b]\":\"" + inAnHour() + "\"}")));
    SpringApplication application = new SpringApplication(App.class);
    application.setWebApplicationType(WebApplicationType.NONE);
    application.setEnvironment(environment);
    application.setDefaultProperties(
        Map.of(
            "failover.home.region",
            "us-east-1",
            "failover.home.zone",
            "us-east-1a",
            D + "endpoints[0].url",
            "http://127.0.0.1:1",
            D + "endpoints[0].region",
            "us-east-1",
            D + "endpoints[0].zone",
            "us-east-1a",
            D + "endpoints[1].url",
            "http://127.0.0.1:2",
            D + "endpoints[1].region",
            "us-east-1",
            D + "endpoints[1].zone",
            "us-east-1b"));
    try (ConfigurableApplicationContext context = application.run()) {
      FailoverClient client = context.getBean(FailoverClient.class);
      assertThat(status(client, "us-east-1b")).isEqualTo(FailoverSnapshot.ZoneStatus.SHIFTED);
      assertThat(status(client, "us-east-1a")).isEqualTo(FailoverSnapshot.ZoneStatus.ACTIVE);
    }
  }
}
