package dev.failover.spring.boot.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import dev.failover.FailoverClient;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

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
}
