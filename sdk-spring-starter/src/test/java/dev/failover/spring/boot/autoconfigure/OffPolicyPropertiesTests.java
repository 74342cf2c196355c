package dev.failover.spring.boot.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import dev.failover.FailoverClient;
import dev.failover.FailoverSettings;
import dev.failover.HealthCheck;
import dev.failover.HedgePolicy;
import dev.failover.StaleCache;
import dev.failover.ZonePolicy;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/**
 * Properties that turn a feature off give the SDK's {@code off()} policy, whose settings cannot be
 * changed: the feature's other properties are still checked, and the one setting an off policy
 * still uses (the zones' slow start of returning endpoints) is rejected rather than dropped when it
 * differs.
 */
class OffPolicyPropertiesTests {

  private static final String C = "failover.clients.directory.";

  private final ApplicationContextRunner runner =
      new ApplicationContextRunner()
          .withConfiguration(AutoConfigurations.of(FailoverAutoConfiguration.class))
          .withPropertyValues(FailoverAutoConfigurationTests.DIRECTORY);

  @Test
  void featuresTurnedOffGiveTheOffPolicies() {
    runner
        .withPropertyValues(
            C + "zones.enabled=false",
            C + "zones.window=20s",
            C + "zones.slow-start=10s",
            C + "hedge.mode=off",
            C + "hedge.delay=40ms",
            C + "stale.enabled=false",
            C + "stale.max-entries=10",
            C + "health.enabled=false",
            C + "health.path=/ready")
        .run(
            context -> {
              FailoverSettings s = context.getBean(FailoverClient.class).settings();
              assertThat(s.zones()).isSameAs(ZonePolicy.off());
              assertThat(s.hedging()).isSameAs(HedgePolicy.off());
              assertThat(s.staleCache()).isSameAs(StaleCache.off());
              assertThat(s.healthCheck()).isSameAs(HealthCheck.off());
            });
  }

  @Test
  void hedgeSettingsWithoutAModeLeaveHedgingOffAndAModeTurnsItOn() {
    runner
        .withPropertyValues(C + "hedge.delay=40ms", C + "hedge.max-hedges=2")
        .run(
            context ->
                assertThat(context.getBean(FailoverClient.class).settings().hedging())
                    .isSameAs(HedgePolicy.off()));
    runner
        .withPropertyValues(
            C + "hedge.mode=fixed", C + "hedge.delay=40ms", C + "hedge.max-hedges=2")
        .run(
            context ->
                assertThat(context.getBean(FailoverClient.class).settings().hedging())
                    .isEqualTo(HedgePolicy.fixed(Duration.ofMillis(40)).withMaxHedges(2)));
  }

  @Test
  void settingsOfAFeatureThatIsOffAreStillChecked() {
    runner
        .withPropertyValues(C + "zones.enabled=false", C + "zones.window=1s")
        .run(context -> assertFailure(context.getStartupFailure(), C + "zones.window", "2s"));
    runner
        .withPropertyValues(C + "hedge.mode=off", C + "hedge.max-hedges=5")
        .run(context -> assertFailure(context.getStartupFailure(), C + "hedge.max-hedges", "4"));
  }

  @Test
  void healthSettingsAreCheckedWhileHealthChecksAreOff() {
    // Off because no path is set anywhere.
    runner
        .withPropertyValues("failover.defaults.health.interval=-1s")
        .run(
            context ->
                assertFailure(
                    context.getStartupFailure(),
                    "failover.defaults.health.interval",
                    "positive duration"));
    // Off although a path is set.
    runner
        .withPropertyValues(
            C + "health.enabled=false", C + "health.path=/ready", C + "health.timeout=25h")
        .run(context -> assertFailure(context.getStartupFailure(), C + "health.timeout", "24 h"));
    runner
        .withPropertyValues(C + "health.enabled=false", C + "health.unhealthy-threshold=0")
        .run(
            context ->
                assertFailure(
                    context.getStartupFailure(), C + "health.unhealthy-threshold", "1 or more"));
    runner
        .withPropertyValues(C + "health.enabled=false", C + "health.path=ready")
        .run(context -> assertFailure(context.getStartupFailure(), C + "health.path", "'/'"));
    // Valid settings of checks that are off still give HealthCheck.off().
    runner
        .withPropertyValues("failover.defaults.health.interval=5s", C + "health.timeout=200ms")
        .run(
            context ->
                assertThat(context.getBean(FailoverClient.class).settings().healthCheck())
                    .isSameAs(HealthCheck.off()));
  }

  @Test
  void aSlowStartForZonesThatAreOffIsRejectedNotDropped() {
    runner
        .withPropertyValues("failover.defaults.zones.slow-start=0s", C + "zones.enabled=false")
        .run(
            context -> {
              FailureAnalysis analysis =
                  assertFailure(
                      context.getStartupFailure(),
                      "failover.defaults.zones.slow-start",
                      "zones are off");
              assertThat(analysis.getDescription()).contains("Value: \"0s\"");
              assertThat(analysis.getAction()).contains("remove zones.slow-start");
            });
  }

  private static FailureAnalysis assertFailure(Throwable failure, String property, String hint) {
    assertThat(failure).as("start-up failure").isNotNull();
    FailureAnalysis analysis = new FailoverConfigurationFailureAnalyzer().analyze(failure);
    assertThat(analysis).as("analysis of %s", failure).isNotNull();
    assertThat(analysis.getDescription()).contains("Property: " + property + "\n");
    assertThat(analysis.getDescription() + "\n" + analysis.getAction()).contains(hint);
    return analysis;
  }
}
