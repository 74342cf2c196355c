package dev.failover.spring.boot.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import dev.failover.FailoverClient;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.core.env.MapPropertySource;

/**
 * An application in a zone without replicas, or in a region where the service does not run, is a
 * common layout: it starts (the SDK logs a warning only when the name looks misspelt).
 */
class HomeLayoutTests {
  private final ApplicationContextRunner runner =
      new ApplicationContextRunner()
          .withConfiguration(AutoConfigurations.of(FailoverAutoConfiguration.class))
          .withPropertyValues(
              "failover.clients.directory.endpoints[0].url=http://127.0.0.1:1",
              "failover.clients.directory.endpoints[0].region=us-east-1",
              "failover.clients.directory.endpoints[0].zone=us-east-1a",
              "failover.clients.directory.endpoints[1].url=http://127.0.0.1:2",
              "failover.clients.directory.endpoints[1].region=us-east-1",
              "failover.clients.directory.endpoints[1].zone=us-east-1b",
              "failover.clients.directory.endpoints[2].url=http://127.0.0.1:3",
              "failover.clients.directory.endpoints[2].region=us-west-2",
              "failover.clients.directory.endpoints[2].zone=us-west-2a");

  @Test
  void anAppInAZoneWithoutReplicasStarts() {
    runner
        .withPropertyValues("failover.home.region=us-east-1", "failover.home.zone=us-east-1c")
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              assertThat(context.getBean(FailoverClient.class).home().zone())
                  .isEqualTo("us-east-1c");
            });
  }

  @Test
  void anAppInARegionWhereTheServiceDoesNotRunStarts() {
    runner
        .withPropertyValues("failover.home.region=eu-west-1", "failover.home.zone=eu-west-1a")
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              assertThat(context.getBean(FailoverClient.class).endpoints()).hasSize(3);
            });
  }

  /**
   * A .properties file keeps the spaces after a value ({@code endpoints[1].zone=us-east-1a }): such
   * a name is the zone it names, not a zone of its own holding one endpoint, judged and evacuated
   * apart from the others. (Test property values are trimmed, and a list binds from one property
   * source, so these come from a property source of their own, as a file's would.)
   */
  @Test
  void zoneAndRegionNamesWithSpacesAroundThemAreTheZonesTheyName() {
    String e = "failover.clients.directory.endpoints";
    Map<String, Object> file =
        Map.ofEntries(
            Map.entry("failover.home.region", "us-east-1 "),
            Map.entry("failover.home.zone", " us-east-1a"),
            Map.entry(e + "[0].url", "http://127.0.0.1:1"),
            Map.entry(e + "[0].region", "us-east-1"),
            Map.entry(e + "[0].zone", "us-east-1a"),
            Map.entry(e + "[1].url", "http://127.0.0.1:2"),
            Map.entry(e + "[1].region", "us-east-1"),
            Map.entry(e + "[1].zone", "us-east-1a "),
            Map.entry(e + "[2].url", "http://127.0.0.1:3"),
            Map.entry(e + "[2].region", "\tus-west-2"),
            Map.entry(e + "[2].zone", "us-west-2a\t"));
    new ApplicationContextRunner()
        .withConfiguration(AutoConfigurations.of(FailoverAutoConfiguration.class))
        .withInitializer(
            context ->
                context
                    .getEnvironment()
                    .getPropertySources()
                    .addFirst(new MapPropertySource("application.properties", file)))
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              FailoverClient client = context.getBean(FailoverClient.class);
              assertThat(client.home().region()).isEqualTo("us-east-1");
              assertThat(client.home().zone()).isEqualTo("us-east-1a");
              assertThat(client.endpoints())
                  .extracting(endpoint -> endpoint.locality().toString())
                  .containsExactly(
                      "us-east-1/us-east-1a", "us-east-1/us-east-1a", "us-west-2/us-west-2a");
              assertThat(client.snapshot().zones()).hasSize(2);
            });
  }
}
