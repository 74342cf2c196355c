package dev.failover.spring.boot.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import dev.failover.FailoverClient;
import dev.failover.FailoverSettings;
import java.time.Duration;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.assertj.AssertableApplicationContext;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/**
 * What Resilience4j and Spring Cloud LoadBalancer users look for: shared configurations with {@code
 * base-config}, retryable statuses, a connect timeout and a customizer of one client. Precedence is
 * proven with values of different magnitudes (1000 s, 100 s, 10 s, 1 s, 100 ms).
 */
class SharedConfigurationTests {
  private static final String C = "failover.clients.";

  private final ApplicationContextRunner runner =
      new ApplicationContextRunner()
          .withConfiguration(AutoConfigurations.of(FailoverAutoConfiguration.class))
          .withPropertyValues(
              "failover.home.region=us-east-1",
              "failover.home.zone=us-east-1a",
              C + "directory.endpoints[0].url=http://127.0.0.1:1",
              C + "directory.endpoints[0].region=us-east-1",
              C + "directory.endpoints[0].zone=us-east-1a",
              C + "groups.endpoints[0].url=http://127.0.0.1:2",
              C + "groups.endpoints[0].region=us-east-1",
              C + "groups.endpoints[0].zone=us-east-1a",
              C + "audit.endpoints[0].url=http://127.0.0.1:3",
              C + "audit.endpoints[0].region=us-east-1",
              C + "audit.endpoints[0].zone=us-east-1a");

  private static FailoverSettings settings(AssertableApplicationContext context, String name) {
    return context.getBean(name + "FailoverClient", FailoverClient.class).settings();
  }

  /** The failover exception behind the context's start-up failure, which must have one. */
  static FailoverConfigurationException failure(AssertableApplicationContext context) {
    Throwable t = context.getStartupFailure();
    while (t != null && !(t instanceof FailoverConfigurationException)) {
      t = t.getCause();
    }
    assertThat(t).as("start-up failure").isInstanceOf(FailoverConfigurationException.class);
    return (FailoverConfigurationException) t;
  }

  /**
   * failover.defaults (1000 s) < configs.default (100 s) < the base-config (10 s) < the client (1
   * s) < a customizer of that client (100 ms); each layer field by field.
   */
  @Test
  void aClientTakesItsOwnSettingsThenItsBaseConfigThenTheDefaultConfigThenTheDefaults() {
    runner
        .withPropertyValues(
            "failover.defaults.deadline=1000s",
            "failover.defaults.retry.max-retry-after=1000s",
            "failover.defaults.ejection.base-ejection-time=1s",
            "failover.defaults.ejection.max-ejection-time=1000s",
            "failover.configs.default.deadline=100s",
            "failover.configs.default.retry.max-retry-after=100s",
            "failover.configs.default.ejection.max-ejection-time=100s",
            "failover.configs.slow.deadline=10s",
            "failover.configs.slow.retry.max-retry-after=10s",
            "failover.configs.slow.retry.max-attempts=5",
            C + "directory.base-config=slow",
            C + "directory.deadline=1s",
            C + "audit.base-config=slow")
        .withBean(
            "auditCustomizer",
            FailoverClientCustomizer.class,
            () ->
                FailoverClientCustomizer.forClient(
                    "audit", b -> b.deadline(Duration.ofMillis(100))))
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              // groups: no base-config, so configs.default over failover.defaults
              FailoverSettings groups = settings(context, "groups");
              assertThat(groups.deadline()).isEqualTo(Duration.ofSeconds(100));
              assertThat(groups.maxRetryAfter()).isEqualTo(Duration.ofSeconds(100));
              assertThat(groups.maxAttempts()).isEqualTo(3); // the SDK's
              // directory: its own deadline, its base-config's other values
              FailoverSettings directory = settings(context, "directory");
              assertThat(directory.deadline()).isEqualTo(Duration.ofSeconds(1));
              assertThat(directory.maxRetryAfter()).isEqualTo(Duration.ofSeconds(10));
              assertThat(directory.maxAttempts()).isEqualTo(5);
              // ... then configs.default, then failover.defaults, inside one group too
              assertThat(directory.ejection().maxEjectionTime()).isEqualTo(Duration.ofSeconds(100));
              assertThat(directory.ejection().baseEjectionTime()).isEqualTo(Duration.ofSeconds(1));
              // audit: the same base-config, and the customizer of audit alone beats all
              FailoverSettings audit = settings(context, "audit");
              assertThat(audit.deadline()).isEqualTo(Duration.ofMillis(100));
              assertThat(audit.maxRetryAfter()).isEqualTo(Duration.ofSeconds(10));
            });
  }

  @Test
  void aBaseConfigOfDefaultIsTheDefaultConfig() {
    runner
        .withPropertyValues(
            "failover.configs.default.deadline=100s", C + "directory.base-config=default")
        .run(
            context ->
                assertThat(settings(context, "directory").deadline())
                    .isEqualTo(Duration.ofSeconds(100)));
  }

  @Test
  void anUnknownBaseConfigStopsStartUpNamingThePropertyAndTheNearestName() {
    runner
        .withPropertyValues(
            "failover.configs.slow.deadline=10s",
            "failover.configs.fast.deadline=1s",
            C + "directory.base-config=slwo")
        .run(
            context -> {
              FailoverConfigurationException e = failure(context);
              assertThat(e.property()).isEqualTo("failover.clients.directory.base-config");
              assertThat(e.value()).isEqualTo("slwo");
              assertThat(e.getMessage())
                  .isEqualTo(
                      "Property failover.clients.directory.base-config with value 'slwo' is invalid:"
                          + " names no shared configuration; failover.configs defines [slow, fast]");
              assertThat(e.action()).isEqualTo("did you mean 'slow'?");
            });
    runner
        .withPropertyValues(C + "directory.base-config=slow")
        .run(
            context ->
                assertThat(failure(context).getMessage())
                    .endsWith("names no shared configuration; failover.configs defines none"));
  }

  @Test
  void retryableStatusesBindFromEveryLayer() {
    runner
        .withPropertyValues(
            "failover.defaults.retryable-statuses=502,503",
            "failover.configs.lenient.retryable-statuses=500,502,503,504",
            C + "audit.base-config=lenient",
            C + "directory.retryable-statuses=")
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              assertThat(settings(context, "groups").retryableStatuses())
                  .containsExactlyInAnyOrder(502, 503);
              assertThat(settings(context, "audit").retryableStatuses())
                  .containsExactlyInAnyOrder(500, 502, 503, 504);
              // Empty: no status is retried.
              assertThat(settings(context, "directory").retryableStatuses()).isEmpty();
            });
  }

  @Test
  void unsetRetryableStatusesAndConnectTimeoutKeepTheDefaults() {
    runner.run(
        context -> {
          FailoverSettings s = settings(context, "directory");
          assertThat(s.retryableStatuses()).containsExactlyInAnyOrder(429, 502, 503, 504);
          assertThat(s.okHttpClient()).isEmpty(); // the SDK makes its own
        });
  }

  @Test
  void aStatusOutsideFourHundredToFiveNinetyNineIsNamed() {
    runner
        .withPropertyValues(C + "directory.retryable-statuses=503,200")
        .run(
            context -> {
              FailoverConfigurationException e = failure(context);
              assertThat(e.property()).isEqualTo("failover.clients.directory.retryable-statuses");
              assertThat(e.value()).isEqualTo("503,200");
              assertThat(e.getMessage())
                  .endsWith(
                      "retryableStatuses must hold HTTP statuses from 400 to 599 but held 200");
            });
  }

  @Test
  void aConnectTimeoutIsSetOnTheClientsOkHttpClient() {
    OkHttpClient application = new OkHttpClient();
    runner
        .withPropertyValues(
            "failover.configs.default.connect-timeout=2s", C + "directory.connect-timeout=750ms")
        .run(
            context -> {
              OkHttpClient directory = settings(context, "directory").okHttpClient().orElseThrow();
              assertThat(directory.connectTimeoutMillis()).isEqualTo(750);
              assertThat(
                      settings(context, "groups")
                          .okHttpClient()
                          .orElseThrow()
                          .connectTimeoutMillis())
                  .isEqualTo(2000);
            });
    // On the application's OkHttpClient: a copy with the timeout, sharing its connection pool.
    runner
        .withPropertyValues(C + "directory.connect-timeout=750ms")
        .withBean(OkHttpClient.class, () -> application)
        .run(
            context -> {
              OkHttpClient directory = settings(context, "directory").okHttpClient().orElseThrow();
              assertThat(directory.connectTimeoutMillis()).isEqualTo(750);
              assertThat(directory.connectionPool()).isSameAs(application.connectionPool());
              assertThat(settings(context, "groups").okHttpClient()).containsSame(application);
            });
  }

  @Test
  void aConnectTimeoutThatIsNotPositiveOrTooLongIsNamed() {
    runner
        .withPropertyValues(C + "directory.connect-timeout=0s")
        .run(
            context -> {
              FailoverConfigurationException e = failure(context);
              assertThat(e.property()).isEqualTo("failover.clients.directory.connect-timeout");
              assertThat(e.value()).isEqualTo("0s");
              assertThat(e.getMessage()).endsWith("must be a positive duration but was PT0S");
            });
    runner
        .withPropertyValues("failover.configs.default.connect-timeout=30d")
        .run(
            context -> {
              FailoverConfigurationException e = failure(context);
              assertThat(e.property()).isEqualTo("failover.configs.default.connect-timeout");
              assertThat(e.getMessage()).contains("timeout too large");
            });
  }

  @Test
  void aCustomizerForAClientThatIsNotConfiguredStopsStartUp() {
    runner
        .withBean(
            "typo",
            FailoverClientCustomizer.class,
            () -> FailoverClientCustomizer.forClient("dirctory", b -> {}))
        .run(
            context -> {
              FailoverConfigurationException e = failure(context);
              assertThat(e.property()).isEqualTo("failover.clients.dirctory");
              assertThat(e.getMessage())
                  .contains("FailoverClientCustomizer.forClient(\"dirctory\", ...)")
                  .contains("names no configured client");
              assertThat(e.action()).startsWith("did you mean 'directory'?");
            });
  }
}
