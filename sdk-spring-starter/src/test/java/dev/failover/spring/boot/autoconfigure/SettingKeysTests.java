package dev.failover.spring.boot.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import dev.failover.InvalidSettingException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/**
 * The SDK judges every value of an SDK setting; the starter maps its {@link
 * InvalidSettingException} back to the property through {@link SettingKeys}, with the layer that
 * set it. These are rejections that only the SDK checks (the starter has no range of its own for
 * them).
 */
class SettingKeysTests {

  private static final String D = "failover.clients.directory.";

  private final ApplicationContextRunner runner =
      new ApplicationContextRunner()
          .withConfiguration(AutoConfigurations.of(FailoverAutoConfiguration.class));

  @Test
  void everyMappedSettingIsAPropertyOfEveryLayer() {
    for (Map.Entry<String, SettingKeys.Key> entry : SettingKeys.all().entrySet()) {
      for (String layer : List.of("failover.defaults.", "failover.configs.slow.", D)) {
        ConfigurationPropertyName name =
            ConfigurationPropertyName.of(layer + entry.getValue().suffix());
        assertThat(FailoverKeys.MODEL.accepts(name, false, false))
            .as("%s maps to %s", entry.getKey(), name)
            .isTrue();
      }
    }
  }

  static Stream<Arguments> rejectedBySdk() {
    return Stream.of(
        Arguments.of(
            new String[] {"failover.defaults.min-attempt-time=25h"},
            "failover.defaults.min-attempt-time",
            "minAttemptTime must be between 0 s and 24 h but was PT25H",
            "correct the value"),
        Arguments.of(
            new String[] {D + "health.path=/health", "failover.defaults.health.timeout=25h"},
            "failover.defaults.health.timeout",
            "health check timeout must be between 1 ms and 24 h but was PT25H",
            "correct the value"),
        Arguments.of(
            new String[] {D + "retry.backoff-base=100ms", D + "retry.backoff-cap=50ms"},
            D + "retry.backoff-cap",
            "backoff cap (PT0.05S) must not be below backoff base (PT0.1S)",
            "raise " + D + "retry.backoff-cap or lower the backoff base"),
        Arguments.of(
            new String[] {"failover.defaults.ejection.minimum-calls=60"},
            "failover.defaults.ejection.minimum-calls",
            "ejection minimumCalls (60) must not exceed windowSize (50)",
            "lower failover.defaults.ejection.minimum-calls or raise the window size"),
        Arguments.of(
            new String[] {D + "ejection.max-ejection-time=2s"},
            D + "ejection.max-ejection-time",
            "maxEjectionTime (PT2S) must not be shorter than baseEjectionTime (PT5S)",
            "raise " + D + "ejection.max-ejection-time or lower the base ejection time"),
        Arguments.of(
            new String[] {"failover.configs.default.budget.window=10m"},
            "failover.configs.default.budget.window",
            "retryBudget window must be between 1 s and 5 min but was PT10M",
            "use a window between 1s and 5m"),
        // Beyond the SDK's upper bounds: the SDK's range, and advice that does not say "1 or more"
        // or "2s or more" of a value that is too large.
        Arguments.of(
            new String[] {D + "zones.window=25h"},
            D + "zones.window",
            "zone window must be between 2 s and 24 h but was PT25H",
            "use a window between 2s and 24h"),
        Arguments.of(
            new String[] {"failover.defaults.zones.hysteresis=300000d"},
            "failover.defaults.zones.hysteresis",
            "zone hysteresis must be between 1 ms and 24 h but was PT7200000H",
            "correct the value"),
        Arguments.of(
            new String[] {D + "zones.slow-start=300000d"},
            D + "zones.slow-start",
            "zone slowStart must be between 0 s and 24 h but was PT7200000H",
            "correct the value"),
        Arguments.of(
            new String[] {D + "ejection.window-size=2147483647"},
            D + "ejection.window-size",
            "ejection windowSize must be between 1 and 10000 but was 2147483647",
            "use 1 to 10000 attempts"),
        Arguments.of(
            new String[] {D + "ejection.half-open-probes=1001"},
            D + "ejection.half-open-probes",
            "ejection halfOpenProbes must be between 1 and 1000 but was 1001",
            "use 1 to 1000 calls"),
        Arguments.of(
            new String[] {D + "ejection.max-ejection-time=300000d"},
            D + "ejection.max-ejection-time",
            "maxEjectionTime must be between 1 ms and 24 h but was PT7200000H",
            "use a duration between 1ms and 24h"),
        Arguments.of(
            new String[] {D + "retry.backoff-cap=25h"},
            D + "retry.backoff-cap",
            "backoff cap must be between 0 s and 24 h but was PT25H",
            "use a duration between 0s and 24h"),
        Arguments.of(
            new String[] {D + "ejection.base-ejection-time=500us"},
            D + "ejection.base-ejection-time",
            "baseEjectionTime must be between 1 ms and 24 h but was PT0.0005S",
            "correct the value"),
        Arguments.of(
            new String[] {D + "ejection.slow-call-duration=300000d"},
            D + "ejection.slow-call-duration",
            "ejection slowCallDuration must be between 1 ms and 24 h but was PT7200000H",
            "correct the value"),
        Arguments.of(
            new String[] {D + "zones.outlier-k=Infinity"},
            D + "zones.outlier-k",
            "zone outlierK must be finite but was Infinity",
            "such as 3"),
        Arguments.of(
            new String[] {D + "zones.outlier-k=-Infinity"},
            D + "zones.outlier-k",
            "zone outlierK must be finite but was -Infinity",
            "such as 3"),
        Arguments.of(
            new String[] {D + "zones.outlier-k=0"},
            D + "zones.outlier-k",
            "must be a positive number but was 0.0",
            "such as 3"),
        Arguments.of(
            new String[] {D + "stale.max-body-size=65MB"},
            D + "stale.max-body-size",
            "stale maxBodyBytes must be between 1 and 67108864 (64 MiB) but was 68157440",
            "use a size such as 64KB or 1MB"),
        Arguments.of(
            new String[] {D + "panic.threshold=101"},
            D + "panic.threshold",
            "must be a percentage between 0 and 100",
            "between 0 and 100"),
        Arguments.of(
            new String[] {D + "endpoints[1].weight=0"},
            D + "endpoints[1].weight",
            "endpoint weight must be between 1 and 10000 but was 0 for http://127.0.0.1:2/api",
            "use a weight between 1 and 10000"));
  }

  @ParameterizedTest
  @MethodSource("rejectedBySdk")
  void theSdksRejectionNamesTheProperty(
      String[] properties, String property, String reason, String action) {
    runner
        .withPropertyValues(with(properties))
        .run(
            context -> {
              assertThat(context).hasFailed();
              Throwable t = context.getStartupFailure();
              while (t != null && !(t instanceof FailoverConfigurationException)) {
                t = t.getCause();
              }
              assertThat(t).as("%s", context.getStartupFailure()).isNotNull();
              FailoverConfigurationException e = (FailoverConfigurationException) t;
              assertThat(e.property()).isEqualTo(property);
              assertThat(e.getMessage())
                  .isEqualTo(
                      "Property "
                          + property
                          + " with value '"
                          + e.value()
                          + "' is invalid: "
                          + reason);
              assertThat(e.action()).contains(action);
              assertThat(e.getCause()).isInstanceOf(InvalidSettingException.class);
            });
  }

  private static String[] with(String... overrides) {
    List<String> properties =
        new ArrayList<>(Arrays.asList(FailoverAutoConfigurationTests.DIRECTORY));
    properties.addAll(Arrays.asList(overrides));
    return properties.toArray(String[]::new);
  }
}
