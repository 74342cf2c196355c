package dev.failover.spring.boot.autoconfigure;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.failover.EjectionPolicy;
import dev.failover.Endpoint;
import dev.failover.FailoverClient;
import dev.failover.FailoverSettings;
import dev.failover.HealthCheck;
import dev.failover.HedgePolicy;
import dev.failover.Locality;
import dev.failover.StaleCache;
import dev.failover.ZonePolicy;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.env.YamlPropertySourceLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.annotation.Order;
import org.springframework.core.io.ByteArrayResource;
import org.springframework.web.client.RestClient;

class FailoverAutoConfigurationTests {

  static final String[] DIRECTORY = {
    "failover.home.region=us-east-1",
    "failover.home.zone=us-east-1a",
    "failover.clients.directory.endpoints[0].url=http://127.0.0.1:1",
    "failover.clients.directory.endpoints[0].region=us-east-1",
    "failover.clients.directory.endpoints[0].zone=us-east-1a",
    "failover.clients.directory.endpoints[1].url=http://127.0.0.1:2/api",
    "failover.clients.directory.endpoints[1].region=us-east-1",
    "failover.clients.directory.endpoints[1].zone=us-east-1b",
    "failover.clients.directory.endpoints[2].url=http://127.0.0.1:3",
    "failover.clients.directory.endpoints[2].region=us-west-2",
    "failover.clients.directory.endpoints[2].zone=us-west-2a",
    "failover.clients.directory.endpoints[2].weight=50",
  };

  static final String[] GROUPS = {
    "failover.clients.groups.endpoints[0].url=http://127.0.0.1:4",
    "failover.clients.groups.endpoints[0].region=us-east-1",
    "failover.clients.groups.endpoints[0].zone=us-east-1a",
  };

  private final ApplicationContextRunner runner =
      new ApplicationContextRunner()
          .withConfiguration(AutoConfigurations.of(FailoverAutoConfiguration.class));

  @Test
  void withoutClientsCreatesNoClient() {
    runner.run(
        context -> {
          assertThat(context).hasNotFailed();
          assertThat(context).hasSingleBean(FailoverProperties.class);
          assertThat(context).doesNotHaveBean(FailoverClient.class);
          assertThat(context).doesNotHaveBean(RestClient.class);
        });
  }

  @Test
  void bindsEachClientToBeansNamedAfterIt() {
    runner
        .withPropertyValues(DIRECTORY)
        .withPropertyValues(GROUPS)
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              assertThat(context.getBeansOfType(FailoverClient.class))
                  .containsOnlyKeys("directoryFailoverClient", "groupsFailoverClient");
              assertThat(context.getBeansOfType(RestClient.class))
                  .containsOnlyKeys("directoryRestClient", "groupsRestClient");
              FailoverClient directory =
                  context.getBean("directoryFailoverClient", FailoverClient.class);
              assertThat(directory.service()).isEqualTo("directory");
              assertThat(directory.home()).isEqualTo(Locality.of("us-east-1", "us-east-1a"));
              assertThat(directory.endpoints())
                  .extracting(Endpoint::address, e -> e.locality().zone(), Endpoint::weight)
                  .containsExactly(
                      org.assertj.core.groups.Tuple.tuple("http://127.0.0.1:1", "us-east-1a", 100),
                      org.assertj.core.groups.Tuple.tuple(
                          "http://127.0.0.1:2/api", "us-east-1b", 100),
                      org.assertj.core.groups.Tuple.tuple("http://127.0.0.1:3", "us-west-2a", 50));
            });
  }

  @Test
  void qualifierSelectsTheClientsBeans() {
    runner
        .withPropertyValues(DIRECTORY)
        .withPropertyValues(GROUPS)
        .withUserConfiguration(QualifiedInjection.class)
        .run(
            context -> {
              QualifiedInjection.Holder holder = context.getBean(QualifiedInjection.Holder.class);
              assertThat(holder.client()).isSameAs(context.getBean("directoryFailoverClient"));
              assertThat(holder.restClient()).isSameAs(context.getBean("directoryRestClient"));
            });
  }

  @Test
  void unsetSettingsKeepTheSdkDefaults() {
    runner
        .withPropertyValues(DIRECTORY)
        .run(
            context -> {
              FailoverSettings s = context.getBean(FailoverClient.class).settings();
              assertThat(s.deadline()).isEqualTo(Duration.ofSeconds(10));
              assertThat(s.maxAttempts()).isEqualTo(3);
              assertThat(s.healthCheck()).isEqualTo(HealthCheck.off());
              assertThat(s.ejection()).isEqualTo(EjectionPolicy.defaults());
              assertThat(s.panicThresholdPercent()).isZero();
              assertThat(s.panicFailOpen()).isTrue();
              assertThat(s.hedging()).isEqualTo(HedgePolicy.off());
              assertThat(s.staleCache()).isEqualTo(StaleCache.off());
              assertThat(s.zones()).isEqualTo(ZonePolicy.defaults());
              assertThat(s.callerRunsFirstAttempt()).isEmpty();
            });
  }

  @Test
  void bindsEverySetting() {
    String c = "failover.clients.directory.";
    runner
        .withPropertyValues(DIRECTORY)
        .withPropertyValues(
            c + "deadline=3s",
            c + "attempt-timeout=700ms",
            c + "min-attempt-time=5ms",
            c + "max-requests=64",
            c + "caller-runs-first-attempt=true",
            c + "region-order=us-west-2",
            c + "retry.max-attempts=4",
            c + "retry.backoff-base=10ms",
            c + "retry.backoff-cap=80ms",
            c + "retry.max-retry-after=5s",
            c + "budget.ratio=0.2",
            c + "budget.min-per-second=3",
            c + "budget.window=20s",
            c + "health.enabled=false",
            c + "health.path=/ready",
            c + "ejection.consecutive-failures=7",
            c + "ejection.failure-rate=40",
            c + "ejection.window-size=30",
            c + "ejection.minimum-calls=10",
            c + "ejection.slow-call-duration=900ms",
            c + "ejection.slow-call-rate=60",
            c + "ejection.base-ejection-time=2s",
            c + "ejection.max-ejection-time=30s",
            c + "ejection.half-open-probes=2",
            c + "panic.threshold=30",
            c + "panic.fail-open=false")
        .run(
            context -> {
              FailoverSettings s = context.getBean(FailoverClient.class).settings();
              assertThat(s.deadline()).isEqualTo(Duration.ofSeconds(3));
              assertThat(s.attemptTimeout()).contains(Duration.ofMillis(700));
              assertThat(s.minAttemptTime()).isEqualTo(Duration.ofMillis(5));
              assertThat(s.maxRequests()).isEqualTo(64);
              assertThat(s.callerRunsFirstAttempt()).contains(true);
              assertThat(s.regionOrder()).containsExactly("us-west-2");
              assertThat(s.maxAttempts()).isEqualTo(4);
              assertThat(s.backoffBase()).isEqualTo(Duration.ofMillis(10));
              assertThat(s.backoffCap()).isEqualTo(Duration.ofMillis(80));
              assertThat(s.maxRetryAfter()).isEqualTo(Duration.ofSeconds(5));
              assertThat(s.budgetRatio()).isEqualTo(0.2);
              assertThat(s.budgetMinPerSecond()).isEqualTo(3);
              assertThat(s.budgetWindow()).isEqualTo(Duration.ofSeconds(20));
              assertThat(s.healthCheck().enabled()).isFalse();
              assertThat(s.ejection())
                  .isEqualTo(
                      EjectionPolicy.builder()
                          .consecutiveFailures(7)
                          .failureRatePercent(40)
                          .slowCallDuration(Duration.ofMillis(900))
                          .slowCallRatePercent(60)
                          .windowSize(30)
                          .minimumCalls(10)
                          .baseEjectionTime(Duration.ofSeconds(2))
                          .maxEjectionTime(Duration.ofSeconds(30))
                          .halfOpenProbes(2)
                          .build());
              assertThat(s.panicThresholdPercent()).isEqualTo(30);
              assertThat(s.panicFailOpen()).isFalse();
            });
  }

  @Test
  void bindsHedgeStaleAndZoneSettings() {
    String c = "failover.clients.directory.";
    runner
        .withPropertyValues(DIRECTORY)
        .withPropertyValues(
            c + "hedge.mode=adaptive",
            c + "hedge.delay=40ms",
            c + "hedge.max-extra-load=5%",
            c + "hedge.max-hedges=2",
            c + "hedge.min-delay=3ms",
            c + "stale.enabled=true",
            c + "stale.max-entries=500",
            c + "stale.max-body-size=128KB",
            c + "stale.max-age=2m",
            c + "stale.network-interceptors-add-no-identity=true",
            c + "zones.enabled=true",
            c + "zones.ejected-percent=60",
            c + "zones.outlier-k=2.5",
            c + "zones.min-samples=30",
            c + "zones.window=20s",
            c + "zones.hysteresis=15s",
            c + "zones.slow-start=0s")
        .run(
            context -> {
              FailoverSettings s = context.getBean(FailoverClient.class).settings();
              assertThat(s.hedging())
                  .isEqualTo(
                      HedgePolicy.builder()
                          .mode(HedgePolicy.Mode.ADAPTIVE)
                          .delay(Duration.ofMillis(40))
                          .maxExtraLoad(0.05)
                          .maxHedges(2)
                          .minDelay(Duration.ofMillis(3))
                          .build());
              assertThat(s.staleCache())
                  .isEqualTo(
                      StaleCache.builder()
                          .maxEntries(500)
                          .maxBodyBytes(128 * 1024)
                          .maxAge(Duration.ofMinutes(2))
                          .networkInterceptorsAddNoIdentity(true)
                          .build());
              assertThat(s.zones())
                  .isEqualTo(
                      ZonePolicy.builder()
                          .ejectedPercent(60)
                          .outlierK(2.5)
                          .minSamples(30)
                          .window(Duration.ofSeconds(20))
                          .hysteresis(Duration.ofSeconds(15))
                          .slowStart(Duration.ZERO)
                          .build());
            });
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"5%", "0.05", "5 %", "0.050"})
  void maxExtraLoadTakesAPercentageOrAFraction(String value) {
    runner
        .withPropertyValues(DIRECTORY)
        .withPropertyValues(
            "failover.defaults.hedge.mode=fixed", "failover.defaults.hedge.max-extra-load=" + value)
        .run(
            context -> {
              HedgePolicy hedging = context.getBean(FailoverClient.class).settings().hedging();
              assertThat(hedging.mode()).isEqualTo(HedgePolicy.Mode.FIXED);
              assertThat(hedging.delay()).isEqualTo(Duration.ofMillis(100));
              assertThat(hedging.maxExtraLoad()).isEqualTo(0.05);
            });
  }

  /** YAML gives 5% as text but 0.05 and 1 as numbers: each must bind. */
  @Test
  void percentagesBindFromYamlTextAndNumbers() {
    String yaml =
        """
        failover:
          defaults:
            hedge: { mode: adaptive, max-extra-load: 5% }
            budget: { ratio: 1 }
          clients:
            directory:
              hedge: { max-extra-load: 0.25 }
              budget: { ratio: 20% }
            groups:
              budget: { ratio: 0.3 }
        """;
    runner
        .withPropertyValues(DIRECTORY)
        .withPropertyValues(GROUPS)
        .withInitializer(
            context -> {
              try {
                context
                    .getEnvironment()
                    .getPropertySources()
                    .addFirst(
                        new YamlPropertySourceLoader()
                            .load("test.yml", new ByteArrayResource(yaml.getBytes(UTF_8)))
                            .get(0));
              } catch (IOException e) {
                throw new UncheckedIOException(e);
              }
            })
        .run(
            context -> {
              FailoverSettings directory =
                  context.getBean("directoryFailoverClient", FailoverClient.class).settings();
              FailoverSettings groups =
                  context.getBean("groupsFailoverClient", FailoverClient.class).settings();
              assertThat(directory.hedging().maxExtraLoad()).isEqualTo(0.25);
              assertThat(directory.budgetRatio()).isEqualTo(0.2);
              assertThat(groups.hedging().maxExtraLoad()).isEqualTo(0.05);
              assertThat(groups.hedging().mode()).isEqualTo(HedgePolicy.Mode.ADAPTIVE);
              assertThat(groups.budgetRatio()).isEqualTo(0.3);
              FailoverProperties properties = context.getBean(FailoverProperties.class);
              assertThat(properties.getDefaults().getBudget().getRatio())
                  .isEqualTo(Percentage.valueOf("100%"));
              assertThat(properties.getDefaults().getHedge().getMaxExtraLoad()).hasToString("5%");
            });
  }

  @Test
  void staleSettingsAloneDoNotTurnItOn() {
    runner
        .withPropertyValues(DIRECTORY)
        .withPropertyValues("failover.defaults.stale.max-age=1m")
        .run(
            context ->
                assertThat(context.getBean(FailoverClient.class).settings().staleCache())
                    .isSameAs(StaleCache.off()));
  }

  @Test
  void healthCheckIsOnWhenAPathIsSet() {
    String c = "failover.clients.directory.";
    runner
        .withPropertyValues(DIRECTORY)
        .withPropertyValues(
            c + "health.path=/health",
            c + "health.interval=3s",
            c + "health.down-interval=300ms",
            c + "health.timeout=200ms",
            c + "health.healthy-threshold=3",
            c + "health.unhealthy-threshold=4")
        .run(
            context ->
                assertThat(context.getBean(FailoverClient.class).settings().healthCheck())
                    .isEqualTo(
                        HealthCheck.builder()
                            .path("/health")
                            .interval(Duration.ofSeconds(3))
                            .downInterval(Duration.ofMillis(300))
                            .timeout(Duration.ofMillis(200))
                            .healthyThreshold(3)
                            .unhealthyThreshold(4)
                            .build()));
  }

  /** defaults (1000 ms) < client (100 ms) < customizer (10 ms), field by field. */
  @Test
  void clientOverridesDefaultsAndCustomizersOverrideBoth() {
    runner
        .withPropertyValues(DIRECTORY)
        .withPropertyValues(GROUPS)
        .withPropertyValues(
            "failover.defaults.deadline=1000ms",
            "failover.defaults.retry.backoff-base=1000ms",
            "failover.defaults.retry.backoff-cap=1000ms",
            "failover.defaults.ejection.base-ejection-time=1000ms",
            "failover.defaults.ejection.max-ejection-time=1000ms",
            "failover.clients.directory.deadline=100ms",
            "failover.clients.directory.retry.backoff-base=100ms",
            "failover.clients.directory.ejection.base-ejection-time=100ms")
        .withBean(
            "shorterDeadline",
            FailoverClientCustomizer.class,
            () ->
                (name, builder) -> {
                  if (name.equals("directory")) {
                    builder.backoff(Duration.ofMillis(10), Duration.ofMillis(1000));
                  }
                })
        .run(
            context -> {
              FailoverSettings directory =
                  context.getBean("directoryFailoverClient", FailoverClient.class).settings();
              FailoverSettings groups =
                  context.getBean("groupsFailoverClient", FailoverClient.class).settings();
              // groups sets nothing: defaults everywhere
              assertThat(groups.deadline()).isEqualTo(Duration.ofMillis(1000));
              assertThat(groups.backoffBase()).isEqualTo(Duration.ofMillis(1000));
              assertThat(groups.ejection().baseEjectionTime()).isEqualTo(Duration.ofMillis(1000));
              // directory: its own values beat the defaults, field by field inside a group
              assertThat(directory.deadline()).isEqualTo(Duration.ofMillis(100));
              assertThat(directory.ejection().baseEjectionTime()).isEqualTo(Duration.ofMillis(100));
              assertThat(directory.ejection().maxEjectionTime()).isEqualTo(Duration.ofMillis(1000));
              assertThat(directory.backoffCap()).isEqualTo(Duration.ofMillis(1000));
              // and the customizer beats both
              assertThat(directory.backoffBase()).isEqualTo(Duration.ofMillis(10));
            });
  }

  /**
   * The same order for a hedge and a zone value: defaults (1000 ms, 1000 s) < client (100 ms, 100
   * s) < customizer (10 ms, 10 s). groups sets nothing, directory sets its own, audit sets its own
   * and has a customizer.
   */
  @Test
  void hedgeAndZoneSettingsFollowTheSameOrder() {
    runner
        .withPropertyValues(DIRECTORY)
        .withPropertyValues(GROUPS)
        .withPropertyValues(
            "failover.clients.audit.endpoints[0].url=http://127.0.0.1:5",
            "failover.clients.audit.endpoints[0].region=us-east-1",
            "failover.clients.audit.endpoints[0].zone=us-east-1a",
            "failover.defaults.hedge.mode=fixed",
            "failover.defaults.hedge.delay=1000ms",
            "failover.defaults.hedge.max-hedges=3",
            "failover.defaults.zones.hysteresis=1000s",
            "failover.defaults.zones.ejected-percent=70",
            "failover.clients.directory.hedge.delay=100ms",
            "failover.clients.directory.zones.hysteresis=100s",
            "failover.clients.audit.hedge.delay=100ms",
            "failover.clients.audit.zones.hysteresis=100s")
        .withBean(
            "auditHedging",
            FailoverClientCustomizer.class,
            () ->
                (name, builder) -> {
                  if (name.equals("audit")) {
                    builder.hedging(HedgePolicy.fixed(Duration.ofMillis(10)));
                    builder.zones(
                        ZonePolicy.defaults()
                            .withReturn(Duration.ofSeconds(10), Duration.ofSeconds(10)));
                  }
                })
        .run(
            context -> {
              FailoverSettings groups =
                  context.getBean("groupsFailoverClient", FailoverClient.class).settings();
              FailoverSettings directory =
                  context.getBean("directoryFailoverClient", FailoverClient.class).settings();
              FailoverSettings audit =
                  context.getBean("auditFailoverClient", FailoverClient.class).settings();
              // groups sets nothing: the defaults
              assertThat(groups.hedging().delay()).isEqualTo(Duration.ofMillis(1000));
              assertThat(groups.zones().hysteresis()).isEqualTo(Duration.ofSeconds(1000));
              // directory: its own values beat the defaults, field by field inside the group
              assertThat(directory.hedging())
                  .isEqualTo(HedgePolicy.fixed(Duration.ofMillis(100)).withMaxHedges(3));
              assertThat(directory.zones().hysteresis()).isEqualTo(Duration.ofSeconds(100));
              assertThat(directory.zones().ejectedPercent()).isEqualTo(70);
              // audit: the customizer beats both
              assertThat(audit.hedging().delay()).isEqualTo(Duration.ofMillis(10));
              assertThat(audit.zones().hysteresis()).isEqualTo(Duration.ofSeconds(10));
            });
  }

  @Test
  void customizersRunInOrderAndSeeEveryClient() {
    runner
        .withPropertyValues(DIRECTORY)
        .withPropertyValues(GROUPS)
        .withUserConfiguration(OrderedCustomizers.class)
        .run(
            context -> {
              assertThat(OrderedCustomizers.calls(context))
                  .containsExactly(
                      "first:directory", "second:directory", "first:groups", "second:groups");
              assertThat(
                      context
                          .getBean("directoryFailoverClient", FailoverClient.class)
                          .settings()
                          .deadline())
                  .isEqualTo(Duration.ofMillis(1000));
            });
  }

  @Test
  void userDefinedClientBeanWins() {
    runner
        .withPropertyValues(DIRECTORY)
        .withUserConfiguration(UserClient.class)
        .run(
            context -> {
              assertThat(context).hasSingleBean(FailoverClient.class);
              FailoverClient client =
                  context.getBean("directoryFailoverClient", FailoverClient.class);
              assertThat(client.endpoints()).hasSize(1);
              assertThat(client.endpoints().get(0).address()).isEqualTo("http://127.0.0.1:9");
              assertThat(context).hasBean("directoryRestClient");
            });
  }

  @Test
  void userDefinedRestClientBeanWins() {
    RestClient mine = RestClient.create();
    runner
        .withPropertyValues(DIRECTORY)
        .withBean("directoryRestClient", RestClient.class, () -> mine)
        .run(context -> assertThat(context.getBean(RestClient.class)).isSameAs(mine));
  }

  @Test
  void usesAUniqueOkHttpClientBean() {
    OkHttpClient okHttp = new OkHttpClient();
    runner
        .withPropertyValues(DIRECTORY)
        .withBean(OkHttpClient.class, () -> okHttp)
        .run(
            context ->
                assertThat(context.getBean(FailoverClient.class).settings().okHttpClient())
                    .containsSame(okHttp));
  }

  @Test
  void clientsAreClosedWithTheContext() {
    List<FailoverClient> clients = new ArrayList<>();
    runner
        .withPropertyValues(DIRECTORY)
        .run(context -> clients.add(context.getBean(FailoverClient.class)));
    Request request = new Request.Builder().url("http://directory/users/42").build();
    assertThatThrownBy(() -> clients.get(0).newCall(request))
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void disabledCreatesNothing() {
    runner
        .withPropertyValues(DIRECTORY)
        .withPropertyValues("failover.enabled=false")
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              assertThat(context).doesNotHaveBean(FailoverClient.class);
              assertThat(context).doesNotHaveBean(FailoverProperties.class);
              assertThat(context).doesNotHaveBean(RestClient.class);
            });
  }

  @Configuration(proxyBeanMethods = false)
  static class QualifiedInjection {
    record Holder(FailoverClient client, RestClient restClient) {}

    @Bean
    Holder holder(
        @Qualifier("directory") FailoverClient client,
        @Qualifier("directory") RestClient restClient) {
      return new Holder(client, restClient);
    }
  }

  @Configuration(proxyBeanMethods = false)
  static class OrderedCustomizers {
    static List<String> calls(org.springframework.context.ApplicationContext context) {
      @SuppressWarnings("unchecked")
      List<String> calls = context.getBean("customizerCalls", List.class);
      return calls;
    }

    @Bean
    List<String> customizerCalls() {
      return new ArrayList<>();
    }

    @Bean
    @Order(2)
    FailoverClientCustomizer second(List<String> customizerCalls) {
      return (name, builder) -> {
        customizerCalls.add("second:" + name);
        builder.deadline(Duration.ofMillis(1000));
      };
    }

    @Bean
    @Order(1)
    FailoverClientCustomizer first(List<String> customizerCalls) {
      return (name, builder) -> {
        customizerCalls.add("first:" + name);
        builder.deadline(Duration.ofMillis(100));
      };
    }
  }

  @Configuration(proxyBeanMethods = false)
  static class UserClient {
    @Bean
    FailoverClient directoryFailoverClient() {
      return FailoverClient.builder()
          .service("directory")
          .home("us-east-1", "us-east-1a")
          .endpoint("http://127.0.0.1:9", "us-east-1", "us-east-1a")
          .build();
    }
  }
}
