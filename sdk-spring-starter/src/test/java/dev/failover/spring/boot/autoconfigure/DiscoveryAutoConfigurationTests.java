package dev.failover.spring.boot.autoconfigure;

import static dev.failover.spring.boot.autoconfigure.DiscoveryClientEndpointSourceTests.instance;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.failover.DiscoveryPolicy;
import dev.failover.Endpoint;
import dev.failover.FailoverClient;
import dev.failover.FailoverSnapshot;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.cloud.client.discovery.DiscoveryClient;
import org.springframework.cloud.client.discovery.event.HeartbeatEvent;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * {@code failover.clients.<name>.discovery.*}: endpoints from the application's Spring Cloud
 * DiscoveryClient (a fake one here; {@link EurekaDiscoveryTests} runs a real Eureka), the policy's
 * properties and their precedence, bad values, and the meters, health and endpoint details.
 */
class DiscoveryAutoConfigurationTests {
  private static final String D = "failover.clients.directory.";

  private final ApplicationContextRunner runner =
      new ApplicationContextRunner()
          .withConfiguration(
              AutoConfigurations.of(
                  FailoverAutoConfiguration.class, FailoverMetricsAutoConfiguration.class))
          .withUserConfiguration(Registry.class)
          .withPropertyValues(
              "failover.home.region=us-east-1",
              "failover.home.zone=us-east-1a",
              D + "discovery.service-id=directory-service");

  @Test
  void endpointsComeFromTheDiscoveryClient() {
    runner.run(
        context -> {
          assertThat(context).hasNotFailed();
          FailoverClient client = context.getBean(FailoverClient.class);
          assertThat(client.endpoints())
              .containsExactly(
                  Endpoint.of("http://10.0.0.1:8080", "us-east-1", "us-east-1a"),
                  Endpoint.of("http://10.0.0.2:8080", "us-east-1", "us-east-1b"));
          FailoverSnapshot.Discovery discovery = client.snapshot().discovery();
          assertThat(discovery.source()).isEqualTo("spring-cloud-discovery directory-service");
          assertThat(discovery.status()).isEqualTo(FailoverSnapshot.ListStatus.CURRENT);
          assertThat(client.settings().discovery())
              .hasToString(DiscoveryPolicy.defaults().toString());
        });
  }

  @Test
  void endpointsGivenWithAServiceIdAreTheFallback() {
    runner
        .withPropertyValues(
            D + "endpoints[0].url=http://10.9.9.9:8080",
            D + "endpoints[0].region=us-east-1",
            D + "endpoints[0].zone=us-east-1a")
        .withBean(Failing.class, () -> new Failing(new IllegalStateException("down")))
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              FailoverClient client = context.getBean(FailoverClient.class);
              // The registry throws: the fallback stays in use.
              await()
                  .atMost(Duration.ofSeconds(30))
                  .until(() -> client.snapshot().discovery().held() >= 1);
              assertThat(client.endpoints())
                  .containsExactly(Endpoint.of("http://10.9.9.9:8080", "us-east-1", "us-east-1a"));
              FailoverSnapshot.Discovery discovery = client.snapshot().discovery();
              assertThat(discovery.status()).isEqualTo(FailoverSnapshot.ListStatus.FALLBACK);
              assertThat(discovery.reason()).contains("getInstances(\"directory-service\") failed");
            });
  }

  @Test
  void aHeartbeatEventRefreshesTheListAtOnce() {
    runner
        .withPropertyValues(D + "discovery.refresh-interval=1h")
        .run(
            context -> {
              FailoverClient client = context.getBean(FailoverClient.class);
              assertThat(client.endpoints()).hasSize(2);
              context
                  .getBean(DiscoveryClientEndpointSourceTests.FakeDiscoveryClient.class)
                  .instances
                  .set(
                      List.of(
                          instance("a", "http://10.0.0.1:8080", Map.of("zone", "us-east-1a")),
                          instance("b", "http://10.0.0.2:8080", Map.of("zone", "us-east-1b")),
                          instance(
                              "w",
                              "http://10.0.0.3:8080",
                              Map.of("zone", "us-west-2a", "region", "us-west-2"))));

              context.publishEvent(new HeartbeatEvent(this, 1L));

              await().atMost(Duration.ofSeconds(30)).until(() -> client.endpoints().size() == 3);
            });
  }

  @Test
  void policyPropertiesTakeFailoverDefaultsThenTheClient() {
    runner
        .withPropertyValues(
            "failover.defaults.discovery.removal-confirmation=10s",
            "failover.defaults.discovery.max-staleness=1000s",
            D + "discovery.removal-confirmation=100s",
            D + "discovery.start-timeout=1s",
            D + "discovery.max-removal-percent=30")
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              DiscoveryPolicy policy = context.getBean(FailoverClient.class).settings().discovery();
              assertThat(policy.removalConfirmation()).isEqualTo(Duration.ofSeconds(100));
              assertThat(policy.maxStaleness()).isEqualTo(Duration.ofSeconds(1000));
              assertThat(policy.startTimeout()).isEqualTo(Duration.ofSeconds(1));
              assertThat(policy.maxRemovalPercent()).isEqualTo(30);
            });
  }

  static Stream<Arguments> badValues() {
    return Stream.of(
        Arguments.of(D + "discovery.refresh-interval", "0s", "use a positive duration"),
        Arguments.of(
            "failover.defaults.discovery.refresh-interval",
            "50ms",
            "use an interval between 100ms and 24h"),
        // Longer overflowed the source's nanoseconds: it never started (or, for the heartbeat
        // timeout, stopped polling), and only without fallback endpoints did start-up fail, naming
        // discovery.service-id.
        Arguments.of(
            D + "discovery.refresh-interval", "25h", "use an interval between 100ms and 24h"),
        Arguments.of(
            D + "discovery.refresh-interval", "300000d", "use an interval between 100ms and 24h"),
        Arguments.of(D + "discovery.heartbeat-timeout", "-1s", "use a positive duration"),
        Arguments.of(D + "discovery.heartbeat-timeout", "25h", "use a timeout between 1ms and 24h"),
        Arguments.of(
            D + "discovery.heartbeat-timeout", "300000d", "use a timeout between 1ms and 24h"),
        Arguments.of(
            D + "discovery.heartbeat-timeout", "500us", "use a timeout between 1ms and 24h"),
        Arguments.of(D + "discovery.max-removal-percent", "150", "between 1 and 100"),
        Arguments.of(D + "discovery.start-timeout", "11m", "between 0s and 10m"),
        Arguments.of(D + "discovery.removal-confirmation", "-1s", "between 0s and 24h"),
        Arguments.of(D + "discovery.max-staleness", "0s", "between 1s and 30d"),
        Arguments.of(D + "discovery.zone-keys[0]", "", "list metadata keys"),
        Arguments.of(D + "discovery.default-zone", "", "name a zone"),
        Arguments.of(D + "discovery.service-id", "", "set the id the registry knows"));
  }

  @ParameterizedTest(name = "{0}={1}")
  @MethodSource("badValues")
  void badValuesFailStartUpNamingTheProperty(String property, String value, String action) {
    runner
        .withPropertyValues(property + "=" + value)
        .run(
            context -> {
              assertThat(context).hasFailed();
              FailureAnalysis analysis =
                  new FailoverConfigurationFailureAnalyzer().analyze(context.getStartupFailure());
              assertThat(analysis).as("analysis of %s", context.getStartupFailure()).isNotNull();
              String expected = property.endsWith("[0]") ? property.replace("[0]", "") : property;
              assertThat(analysis.getDescription()).contains("Property: " + expected);
              assertThat(analysis.getAction()).contains(action);
            });
  }

  /**
   * A client without a service id was built with any {@code discovery.*} value, the wrong ones
   * unseen until a registry was switched on at a later start; they are checked for every client.
   */
  @ParameterizedTest(name = "{0}={1}")
  @CsvSource({
    "failover.clients.directory.discovery.max-removal-percent,0,between 1 and 100",
    "failover.clients.directory.discovery.removal-confirmation,-1s,between 0s and 24h",
    "failover.clients.directory.discovery.refresh-interval,50ms,between 100ms and 24h",
    "failover.defaults.discovery.max-staleness,500ms,between 1s and 30d",
    "failover.defaults.discovery.start-timeout,11m,between 0s and 10m"
  })
  void badValuesFailStartUpWithoutAServiceIdToo(String property, String value, String action) {
    new ApplicationContextRunner()
        .withConfiguration(AutoConfigurations.of(FailoverAutoConfiguration.class))
        .withPropertyValues(FailoverAutoConfigurationTests.DIRECTORY)
        .withPropertyValues(property + "=" + value)
        .run(
            context -> {
              assertThat(context).hasFailed();
              FailureAnalysis analysis =
                  new FailoverConfigurationFailureAnalyzer().analyze(context.getStartupFailure());
              assertThat(analysis).as("analysis of %s", context.getStartupFailure()).isNotNull();
              assertThat(analysis.getDescription()).contains("Property: " + property);
              assertThat(analysis.getDescription() + analysis.getAction()).contains(action);
            });
  }

  /**
   * With fallback endpoints, start-up does not wait for the registry: an interval that overflowed
   * the source's nanoseconds let the application start on its fallback list for good, the source
   * never polling. Now it fails naming the property, with its range.
   */
  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"discovery.refresh-interval", "discovery.heartbeat-timeout"})
  void anIntervalBeyondADayFailsStartUpWithFallbackEndpointsToo(String key) {
    runner
        .withPropertyValues(
            D + "endpoints[0].url=http://10.9.9.9:8080",
            D + "endpoints[0].region=us-east-1",
            D + "endpoints[0].zone=us-east-1a",
            D + key + "=300000d")
        .run(
            context -> {
              assertThat(context).hasFailed();
              FailureAnalysis analysis =
                  new FailoverConfigurationFailureAnalyzer().analyze(context.getStartupFailure());
              assertThat(analysis).as("analysis of %s", context.getStartupFailure()).isNotNull();
              assertThat(analysis.getDescription())
                  .contains("Property: " + D + key + "\n")
                  .contains("Value: \"300000d\"")
                  .containsPattern(
                      "Reason: must be between (100ms|1ms) and 24h but was PT7200000H\n");
            });
  }

  @Test
  void withoutSpringCloudTheServiceIdIsRefused() {
    runner
        .withClassLoader(new FilteredClassLoader(DiscoveryClient.class))
        .run(
            context -> {
              assertThat(context).hasFailed();
              assertThat(context.getStartupFailure())
                  .hasStackTraceContaining(D + "discovery.service-id")
                  .hasStackTraceContaining("needs Spring Cloud Commons");
            });
  }

  @Test
  void withoutADiscoveryClientTheServiceIdIsRefused() {
    new ApplicationContextRunner()
        .withConfiguration(AutoConfigurations.of(FailoverAutoConfiguration.class))
        .withPropertyValues(
            "failover.home.region=us-east-1",
            "failover.home.zone=us-east-1a",
            D + "discovery.service-id=directory-service")
        .run(
            context -> {
              assertThat(context).hasFailed();
              assertThat(context.getStartupFailure())
                  .hasStackTraceContaining(D + "discovery.service-id")
                  .hasStackTraceContaining("no Spring Cloud DiscoveryClient");
            });
  }

  @Test
  void withoutFallbackAnEmptyRegistryFailsStartUpAfterTheStartTimeout() {
    runner
        .withPropertyValues(D + "discovery.start-timeout=300ms")
        .withBean(Empty.class, Empty::new)
        .run(
            context -> {
              assertThat(context).hasFailed();
              FailureAnalysis analysis =
                  new FailoverConfigurationFailureAnalyzer().analyze(context.getStartupFailure());
              assertThat(analysis.getDescription())
                  .contains("Property: " + D + "discovery.service-id")
                  .contains("Value: \"directory-service\"")
                  .contains("reported no endpoints within 300 ms");
              assertThat(analysis.getAction()).contains(D + "endpoints as a fallback");
            });
  }

  @Test
  void metersShowTheListAndFollowItsEndpoints() {
    runner
        .withPropertyValues(D + "discovery.refresh-interval=1h")
        .withBean(MeterRegistry.class, SimpleMeterRegistry::new)
        .run(
            context -> {
              MeterRegistry meters = context.getBean(MeterRegistry.class);
              await()
                  .atMost(Duration.ofSeconds(30))
                  .until(
                      () ->
                          meters
                                  .get("failover.discovery.state")
                                  .tags("client.name", "directory", "state", "current")
                                  .gauge()
                                  .value()
                              == 1);
              assertThat(
                      meters
                          .get("failover.discovery.endpoints")
                          .tag("client.name", "directory")
                          .gauge()
                          .value())
                  .isEqualTo(2);
              assertThat(
                      meters
                          .get("failover.discovery.updates")
                          .tag("client.name", "directory")
                          .functionCounter()
                          .count())
                  .isGreaterThanOrEqualTo(1);
              assertThat(
                      meters
                          .get("failover.discovery.held")
                          .tag("client.name", "directory")
                          .functionCounter()
                          .count())
                  .isZero();
              assertThat(
                      meters
                          .get("failover.discovery.list.age")
                          .tag("client.name", "directory")
                          .gauge()
                          .value())
                  .isBetween(0.0, 60.0);
              assertThat(
                      meters
                          .find("failover.endpoint.outstanding")
                          .tag("endpoint", "http://10.0.0.2:8080")
                          .gauge())
                  .isNotNull();

              // One endpoint replaced by another: gauges follow.
              context
                  .getBean(DiscoveryClientEndpointSourceTests.FakeDiscoveryClient.class)
                  .instances
                  .set(
                      List.of(
                          instance("a", "http://10.0.0.1:8080", Map.of("zone", "us-east-1a")),
                          instance("c", "http://10.0.0.3:8080", Map.of("zone", "us-east-1c"))));
              context.publishEvent(new HeartbeatEvent(this, 1L));
              await()
                  .atMost(Duration.ofSeconds(30))
                  .until(
                      () ->
                          meters
                                  .find("failover.endpoint.outstanding")
                                  .tag("endpoint", "http://10.0.0.3:8080")
                                  .gauge()
                              != null);
              assertThat(
                      meters
                          .find("failover.endpoint.outstanding")
                          .tag("endpoint", "http://10.0.0.2:8080")
                          .gauge())
                  .isNull();
              assertThat(meters.find("failover.zone.state").tag("zone", "us-east-1c").gauges())
                  .hasSize(FailoverSnapshot.ZoneStatus.values().length);
              assertThat(meters.find("failover.zone.state").tag("zone", "us-east-1b").gauges())
                  .isEmpty();
            });
  }

  @Test
  void staticClientsHaveNoDiscoveryMeters() {
    new ApplicationContextRunner()
        .withConfiguration(
            AutoConfigurations.of(
                FailoverAutoConfiguration.class, FailoverMetricsAutoConfiguration.class))
        .withPropertyValues(FailoverAutoConfigurationTests.DIRECTORY)
        .withBean(MeterRegistry.class, SimpleMeterRegistry::new)
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              MeterRegistry meters = context.getBean(MeterRegistry.class);
              assertThat(meters.find("failover.discovery.state").gauges()).isEmpty();
              assertThat(meters.find("failover.endpoint.outstanding").gauges()).hasSize(3);
              FailoverClient client = context.getBean(FailoverClient.class);
              assertThat(new FailoverHealthIndicator(client).health().getDetails())
                  .doesNotContainKey("discovery");
              assertThat(FailoverEndpoint.describe(client).discovery().status())
                  .isEqualTo("STATIC");
            });
  }

  @Test
  void healthAndEndpointShowTheDiscoveryRecord() {
    runner.run(
        context -> {
          FailoverClient client = context.getBean(FailoverClient.class);
          Health health = new FailoverHealthIndicator(client).health();
          assertThat(health.getDetails()).containsKey("discovery");
          FailoverEndpoint.DiscoveryDescriptor discovery =
              (FailoverEndpoint.DiscoveryDescriptor) health.getDetails().get("discovery");
          assertThat(discovery.status()).isEqualTo("CURRENT");
          assertThat(discovery.source()).isEqualTo("spring-cloud-discovery directory-service");
          assertThat(discovery.endpoints()).isEqualTo(2);
          assertThat(FailoverEndpoint.describe(client).discovery()).isEqualTo(discovery);
        });
  }

  /** Makes the registry throw. */
  record Failing(RuntimeException failure) {}

  /** Makes the registry list no instance. */
  record Empty() {}

  /**
   * A DiscoveryClient with two instances, unless a {@link Failing} or {@link Empty} bean exists.
   */
  @Configuration(proxyBeanMethods = false)
  static class Registry {
    @Bean
    DiscoveryClientEndpointSourceTests.FakeDiscoveryClient discoveryClient(
        org.springframework.beans.factory.ObjectProvider<Failing> failure,
        org.springframework.beans.factory.ObjectProvider<Empty> empty) {
      DiscoveryClientEndpointSourceTests.FakeDiscoveryClient registry =
          new DiscoveryClientEndpointSourceTests.FakeDiscoveryClient();
      registry.instances.set(
          List.of(
              instance("a", "http://10.0.0.1:8080", Map.of("zone", "us-east-1a")),
              instance("b", "http://10.0.0.2:8080", Map.of("zone", "us-east-1b"))));
      failure.ifAvailable(f -> registry.failure.set(f.failure()));
      empty.ifAvailable(e -> registry.instances.set(List.of()));
      return registry;
    }
  }
}
