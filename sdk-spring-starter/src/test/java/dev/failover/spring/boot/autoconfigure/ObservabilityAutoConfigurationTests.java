package dev.failover.spring.boot.autoconfigure;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static org.assertj.core.api.Assertions.assertThat;

import com.github.tomakehurst.wiremock.WireMockServer;
import dev.failover.FailoverClient;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.actuate.autoconfigure.endpoint.EndpointAutoConfiguration;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.health.contributor.CompositeHealthContributor;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthContributor;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.http.ResponseEntity;
import org.springframework.web.client.RestClient;

/** Micrometer meters, health contributor and Actuator endpoint; and the starter without them. */
class ObservabilityAutoConfigurationTests {

  private static final WireMockServer up = new WireMockServer(wireMockConfig().dynamicPort());
  private static final WireMockServer failing = new WireMockServer(wireMockConfig().dynamicPort());
  private static final WireMockServer slow = new WireMockServer(wireMockConfig().dynamicPort());
  private static final WireMockServer flaky = new WireMockServer(wireMockConfig().dynamicPort());

  private final ApplicationContextRunner runner =
      new ApplicationContextRunner()
          .withConfiguration(
              AutoConfigurations.of(
                  FailoverAutoConfiguration.class,
                  FailoverMetricsAutoConfiguration.class,
                  FailoverHealthContributorAutoConfiguration.class,
                  EndpointAutoConfiguration.class,
                  FailoverEndpointAutoConfiguration.class))
          .withPropertyValues("management.endpoints.web.exposure.include=health,failover");

  @BeforeAll
  static void start() {
    up.start();
    failing.start();
    slow.start();
    flaky.start();
    slow.stubFor(get("/users/42").willReturn(okJson("{\"id\":42}").withFixedDelay(300)));
    up.stubFor(get("/users/42").willReturn(okJson("{\"id\":42}")));
    failing.stubFor(get("/users/42").willReturn(aResponse().withStatus(503)));
  }

  @AfterAll
  static void stop() {
    up.stop();
    failing.stop();
    slow.stop();
    flaky.stop();
  }

  private String[] twoZones() {
    return new String[] {
      "failover.home.region=us-east-1",
      "failover.home.zone=us-east-1a",
      "failover.clients.directory.endpoints[0].url=" + failing.baseUrl(),
      "failover.clients.directory.endpoints[0].region=us-east-1",
      "failover.clients.directory.endpoints[0].zone=us-east-1a",
      "failover.clients.directory.endpoints[1].url=" + up.baseUrl(),
      "failover.clients.directory.endpoints[1].region=us-east-1",
      "failover.clients.directory.endpoints[1].zone=us-east-1b",
      "failover.defaults.retry.backoff-base=0ms",
      "failover.defaults.retry.backoff-cap=0ms",
    };
  }

  @Test
  void metersCountCallsAttemptsAndRetries() {
    runner
        .withPropertyValues(twoZones())
        .withBean(MeterRegistry.class, SimpleMeterRegistry::new)
        .run(
            context -> {
              assertThat(context).hasSingleBean(MetricsInstrumentation.class);
              RestClient directory = context.getBean("directoryRestClient", RestClient.class);
              directory.get().uri("/users/42").retrieve().toBodilessEntity();
              MeterRegistry registry = context.getBean(MeterRegistry.class);
              assertThat(
                      registry
                          .get("failover.calls")
                          .tags("client.name", "directory", "method", "GET", "outcome", "success")
                          .timer()
                          .count())
                  .isEqualTo(1);
              assertThat(
                      registry
                          .get("failover.attempts")
                          .tags(
                              "zone",
                              "us-east-1a",
                              "attempt.kind",
                              "first",
                              "outcome",
                              "unavailable")
                          .counter()
                          .count())
                  .isEqualTo(1);
              assertThat(
                      registry
                          .get("failover.attempts")
                          .tags("zone", "us-east-1b", "attempt.kind", "retry", "outcome", "success")
                          .counter()
                          .count())
                  .isEqualTo(1);
              assertThat(
                      registry
                          .get("failover.retries")
                          .tags("client.name", "directory", "outcome", "unavailable")
                          .counter()
                          .count())
                  .isEqualTo(1);
              assertThat(
                      registry
                          .get("failover.endpoint.latency")
                          .tags("endpoint", up.baseUrl())
                          .timer()
                          .count())
                  .isEqualTo(1);
              assertThat(
                      registry
                          .get("failover.endpoint.state")
                          .tags("endpoint", up.baseUrl(), "state", "healthy")
                          .gauge()
                          .value())
                  .isEqualTo(1.0);
              assertThat(
                      registry
                          .get("failover.endpoint.state")
                          .tags("endpoint", up.baseUrl(), "state", "ejected")
                          .gauge()
                          .value())
                  .isZero();
              assertThat(registry.get("failover.budget.tokens").gauge().value()).isPositive();
              assertThat(registry.get("failover.panic").gauge().value()).isZero();
              assertThat(
                      registry
                          .get("failover.zone.state")
                          .tags(
                              "client.name",
                              "directory",
                              "region",
                              "us-east-1",
                              "zone",
                              "us-east-1b")
                          .tags("state", "active")
                          .gauge()
                          .value())
                  .isEqualTo(1.0);
              assertThat(
                      registry
                          .get("failover.zone.state")
                          .tags("zone", "us-east-1b", "state", "evacuated")
                          .gauge()
                          .value())
                  .isZero();
              // two zones x active, evacuated, ramping, shifted
              assertThat(registry.get("failover.zone.state").gauges()).hasSize(2 * 4);
              // hedging is off: no hedge-delay gauge (a gauge never reports NaN)
              assertThat(registry.find("failover.hedge.delay").gauge()).isNull();
            });
  }

  /**
   * Home zone slow (300 ms), hedge after 20 ms with at most 50% extra load: the first call's hedge
   * is refused (half a token), the second's is sent to us-east-1b and wins.
   */
  @Test
  void hedgesAreCountedByActionAndTheDelayIsAGauge() {
    runner
        .withPropertyValues(
            "failover.home.region=us-east-1",
            "failover.home.zone=us-east-1a",
            "failover.clients.directory.endpoints[0].url=" + slow.baseUrl(),
            "failover.clients.directory.endpoints[0].region=us-east-1",
            "failover.clients.directory.endpoints[0].zone=us-east-1a",
            "failover.clients.directory.endpoints[1].url=" + up.baseUrl(),
            "failover.clients.directory.endpoints[1].region=us-east-1",
            "failover.clients.directory.endpoints[1].zone=us-east-1b",
            "failover.clients.directory.hedge.mode=fixed",
            "failover.clients.directory.hedge.delay=20ms",
            "failover.clients.directory.hedge.max-extra-load=50%")
        .withBean(MeterRegistry.class, SimpleMeterRegistry::new)
        .run(
            context -> {
              RestClient directory = context.getBean("directoryRestClient", RestClient.class);
              directory.get().uri("/users/42").retrieve().toBodilessEntity();
              directory.get().uri("/users/42").retrieve().toBodilessEntity();
              MeterRegistry registry = context.getBean(MeterRegistry.class);
              assertThat(hedges(registry, "refused")).isEqualTo(1);
              assertThat(hedges(registry, "sent")).isEqualTo(1);
              assertThat(hedges(registry, "won")).isEqualTo(1);
              assertThat(
                      registry
                          .get("failover.hedge.delay")
                          .tags("client.name", "directory")
                          .gauge()
                          .value())
                  .isEqualTo(0.02);
              assertThat(registry.get("failover.hedge.delay").gauge().getId().getBaseUnit())
                  .isEqualTo("seconds");
              FailoverEndpoint.ClientDescriptor described =
                  FailoverEndpoint.describe(context.getBean(FailoverClient.class));
              assertThat(described.hedgeDelayMillis()).isEqualTo(20.0);
              assertThat(described.counters().calls()).isEqualTo(2);
              assertThat(described.counters().hedgesSent()).isEqualTo(1);
              assertThat(described.counters().hedgesWon()).isEqualTo(1);
              assertThat(described.counters().hedgesRefused()).isEqualTo(1);
            });
  }

  private static double hedges(MeterRegistry registry, String action) {
    return registry
        .get("failover.hedges")
        .tags("client.name", "directory", "action", action)
        .counter()
        .count();
  }

  /** A 200 is kept; when the endpoint then fails every attempt, the copy is served and counted. */
  @Test
  void staleResponsesAreCounted() {
    flaky.resetAll();
    flaky.stubFor(get("/users/42").willReturn(okJson("{\"id\":42}")));
    runner
        .withPropertyValues(
            "failover.home.region=us-east-1",
            "failover.home.zone=us-east-1a",
            "failover.clients.catalog.endpoints[0].url=" + flaky.baseUrl(),
            "failover.clients.catalog.endpoints[0].region=us-east-1",
            "failover.clients.catalog.endpoints[0].zone=us-east-1a",
            "failover.clients.catalog.stale.enabled=true",
            "failover.defaults.retry.backoff-base=0ms",
            "failover.defaults.retry.backoff-cap=0ms")
        .withBean(MeterRegistry.class, SimpleMeterRegistry::new)
        .run(
            context -> {
              RestClient catalog = context.getBean("catalogRestClient", RestClient.class);
              // A copy is kept of a body the caller read to its end.
              catalog.get().uri("/users/42").retrieve().toEntity(String.class);
              flaky.stubFor(get("/users/42").willReturn(aResponse().withStatus(503)));
              ResponseEntity<String> stale =
                  catalog.get().uri("/users/42").retrieve().toEntity(String.class);
              assertThat(stale.getStatusCode().value()).isEqualTo(200);
              assertThat(stale.getBody()).isEqualTo("{\"id\":42}");
              assertThat(stale.getHeaders().getFirst("Warning")).startsWith("110");
              MeterRegistry registry = context.getBean(MeterRegistry.class);
              assertThat(
                      registry
                          .get("failover.stale.served")
                          .tags("client.name", "catalog")
                          .counter())
                  .satisfies(c -> assertThat(c.count()).isEqualTo(1));
              assertThat(
                      FailoverEndpoint.describe(context.getBean(FailoverClient.class))
                          .counters()
                          .staleServed())
                  .isEqualTo(1);
            });
  }

  @Test
  void metricsListenerRunsBeforeCustomizers() {
    runner
        .withPropertyValues(twoZones())
        .withBean(MeterRegistry.class, SimpleMeterRegistry::new)
        .withBean(
            FailoverClientCustomizer.class,
            () -> (name, builder) -> builder.endpoints(java.util.List.of()))
        .run(
            context -> {
              // The customizer removed every endpoint, after the listener was added: build fails
              // on the endpoints, proving customizers run last.
              assertThat(context).hasFailed();
              assertThat(context.getStartupFailure())
                  .rootCause()
                  .hasMessageContaining("at least one endpoint, or an endpointSource, is required");
            });
  }

  @Test
  void healthIsUpWhileSomeZoneServesWithDetailsPerZoneAndEndpoint() {
    runner
        .withPropertyValues(twoZones())
        .withPropertyValues("management.health.failover.enabled=true")
        .run(
            context -> {
              assertThat(context).hasBean("failoverHealthContributor");
              CompositeHealthContributor composite =
                  context.getBean("failoverHealthContributor", CompositeHealthContributor.class);
              HealthContributor directory = composite.getContributor("directory");
              assertThat(directory).isInstanceOf(HealthIndicator.class);
              Health health = ((HealthIndicator) directory).health();
              assertThat(health.getStatus()).isEqualTo(Status.UP);
              assertThat(health.getDetails())
                  .containsEntry("home", "us-east-1/us-east-1a")
                  .containsEntry("serving", "2/2")
                  .containsEntry("panic", false);
              @SuppressWarnings("unchecked")
              Map<String, Map<String, Object>> zones =
                  (Map<String, Map<String, Object>>) health.getDetails().get("zones");
              assertThat(zones).containsOnlyKeys("us-east-1/us-east-1a", "us-east-1/us-east-1b");
              assertThat(zones.get("us-east-1/us-east-1a"))
                  .containsEntry("tier", 0)
                  .containsEntry("status", "ACTIVE")
                  .doesNotContainKey("reason");
              @SuppressWarnings("unchecked")
              Map<String, Map<String, Object>> endpoints =
                  (Map<String, Map<String, Object>>)
                      zones.get("us-east-1/us-east-1b").get("endpoints");
              assertThat(endpoints.get(up.baseUrl()))
                  .containsEntry("state", "HEALTHY")
                  .containsKeys("latencyMillis", "outstanding", "ejections");
            });
  }

  @Test
  void endpointListsEveryClientZoneAndEndpoint() {
    runner
        .withPropertyValues(twoZones())
        .run(
            context -> {
              FailoverEndpoint endpoint = context.getBean(FailoverEndpoint.class);
              FailoverEndpoint.ClientsDescriptor all = endpoint.clients();
              assertThat(all.clients()).containsOnlyKeys("directory");
              FailoverEndpoint.ClientDescriptor directory = endpoint.client("directory");
              assertThat(directory).isNotNull();
              assertThat(directory.homeZone()).isEqualTo("us-east-1a");
              assertThat(directory.zones())
                  .extracting(FailoverEndpoint.ZoneDescriptor::zone)
                  .containsExactly("us-east-1a", "us-east-1b");
              assertThat(directory.zones())
                  .allSatisfy(
                      z -> {
                        assertThat(z.status()).isEqualTo("ACTIVE");
                        assertThat(z.reason()).isEmpty();
                        assertThat(z.evacuations()).isZero();
                      });
              assertThat(directory.hedgeDelayMillis()).isNull();
              assertThat(directory.counters().calls()).isZero();
              assertThat(directory.zones().get(1).endpoints())
                  .singleElement()
                  .satisfies(
                      e -> {
                        assertThat(e.url()).isEqualTo(up.baseUrl());
                        assertThat(e.state()).isEqualTo("HEALTHY");
                        assertThat(e.breaker()).isEqualTo("CLOSED");
                      });
              assertThat(endpoint.client("nope")).isNull();
            });
  }

  @Test
  void healthIndicatorIsOffUnlessEnabledSoThatADownstreamOutageNeverFailsTheAppsHealth() {
    runner
        .withPropertyValues(twoZones())
        .run(context -> assertThat(context).doesNotHaveBean("failoverHealthContributor"));
    runner
        .withPropertyValues(twoZones())
        .withPropertyValues("management.health.failover.enabled=false")
        .run(context -> assertThat(context).doesNotHaveBean("failoverHealthContributor"));
  }

  @Test
  void endpointIsOffUnlessExposed() {
    runner
        .withPropertyValues(twoZones())
        .withPropertyValues("management.endpoints.web.exposure.include=health")
        .run(context -> assertThat(context).doesNotHaveBean(FailoverEndpoint.class));
  }

  @Test
  void withoutMicrometerClientsStillWork() {
    runner
        .withPropertyValues(twoZones())
        .withClassLoader(new FilteredClassLoader(MeterRegistry.class))
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              assertThat(context).doesNotHaveBean(MetricsInstrumentation.class);
              assertThat(context).hasSingleBean(FailoverClient.class);
            });
  }

  @Test
  void withoutActuatorClientsStillWork() {
    // As in an application without Actuator: its auto-configurations are not on the list either.
    new ApplicationContextRunner()
        .withConfiguration(
            AutoConfigurations.of(
                FailoverAutoConfiguration.class,
                FailoverHealthContributorAutoConfiguration.class,
                FailoverEndpointAutoConfiguration.class))
        .withPropertyValues(twoZones())
        .withClassLoader(
            new FilteredClassLoader(
                "org.springframework.boot.actuate", "org.springframework.boot.health"))
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              assertThat(context).doesNotHaveBean("failoverHealthContributor");
              assertThat(context).doesNotHaveBean(FailoverEndpoint.class);
              assertThat(context).hasSingleBean(FailoverClient.class);
              assertThat(context).hasBean("directoryRestClient");
            });
  }

  @Test
  void withoutClientsNoHealthContributor() {
    runner.run(
        context -> {
          assertThat(context).hasNotFailed();
          assertThat(context).doesNotHaveBean("failoverHealthContributor");
        });
  }
}
