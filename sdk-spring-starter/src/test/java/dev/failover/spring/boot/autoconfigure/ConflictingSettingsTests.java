package dev.failover.spring.boot.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import dev.failover.Endpoint;
import dev.failover.InvalidConfigurationException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/**
 * Settings that are each acceptable but do not fit together, which {@code build()} rejects with
 * {@link InvalidConfigurationException}, fail start-up naming the property that set the setting to
 * change (the layer that set it), its value, and advice that names the property it conflicts with.
 */
class ConflictingSettingsTests {
  private static final String D = "failover.clients.directory.";

  private final ApplicationContextRunner runner =
      new ApplicationContextRunner()
          .withConfiguration(AutoConfigurations.of(FailoverAutoConfiguration.class));

  @Test
  void anAttemptTimeoutBeyondTheDeadlineNamesTheAttemptTimeout() {
    runner
        .withPropertyValues(with(D + "deadline=1s", D + "attempt-timeout=2s"))
        .run(
            context -> {
              FailoverConfigurationException e = SharedConfigurationTests.failure(context);
              assertThat(e.property()).isEqualTo(D + "attempt-timeout");
              assertThat(e.value()).isEqualTo("2s");
              assertThat(e.origin())
                  .isEqualTo("\"" + D + "attempt-timeout\" from property source \"test\"");
              assertThat(e.getReason())
                  .isEqualTo(
                      "must not exceed the deadline (PT1S, set by " + D + "deadline) but was PT2S");
              assertThat(e.action())
                  .isEqualTo(
                      "lower "
                          + D
                          + "attempt-timeout to at most the deadline (PT1S), or raise "
                          + D
                          + "deadline");
              assertThat(e.getCause()).isInstanceOf(InvalidConfigurationException.class);
              FailureAnalysis analysis = FailoverFailureAnalyzerTests.analysis(context);
              assertThat(analysis.getDescription())
                  .contains("Property: " + D + "attempt-timeout\n")
                  .contains("Value: \"2s\"\n");
            });
  }

  /** The attempt timeout inherited from failover.defaults: the key that was set is named. */
  @Test
  void anInheritedAttemptTimeoutNamesTheKeyThatWasSet() {
    runner
        .withPropertyValues(
            with("failover.defaults.attempt-timeout=3s", "failover.configs.default.deadline=2s"))
        .run(
            context -> {
              FailoverConfigurationException e = SharedConfigurationTests.failure(context);
              assertThat(e.property()).isEqualTo("failover.defaults.attempt-timeout");
              assertThat(e.value()).isEqualTo("3s");
              assertThat(e.action())
                  .isEqualTo(
                      "lower failover.defaults.attempt-timeout to at most the deadline (PT2S), or"
                          + " raise failover.configs.default.deadline");
            });
  }

  /** With the SDK's default deadline, the reason is the SDK's message, which gives the deadline. */
  @Test
  void anAttemptTimeoutBeyondTheDefaultDeadlineNamesTheDeadlineProperty() {
    runner
        .withPropertyValues(with(D + "attempt-timeout=11s"))
        .run(
            context -> {
              FailoverConfigurationException e = SharedConfigurationTests.failure(context);
              assertThat(e.property()).isEqualTo(D + "attempt-timeout");
              assertThat(e.value()).isEqualTo("11s");
              assertThat(e.getReason())
                  .isEqualTo("attemptTimeout (PT11S) must not exceed deadline (PT10S)");
              assertThat(e.action())
                  .isEqualTo(
                      "lower "
                          + D
                          + "attempt-timeout to at most the deadline, or raise "
                          + D
                          + "deadline");
            });
  }

  @Test
  void aMinAttemptTimeNotShorterThanTheDeadlineNamesTheMinAttemptTime() {
    runner
        .withPropertyValues(with(D + "deadline=1s", "failover.defaults.min-attempt-time=1s"))
        .run(
            context -> {
              FailoverConfigurationException e = SharedConfigurationTests.failure(context);
              assertThat(e.property()).isEqualTo("failover.defaults.min-attempt-time");
              assertThat(e.value()).isEqualTo("1s");
              assertThat(e.getReason())
                  .isEqualTo(
                      "must be shorter than the deadline (PT1S, set by "
                          + D
                          + "deadline) but was PT1S");
              assertThat(e.action())
                  .isEqualTo(
                      "lower failover.defaults.min-attempt-time below the deadline (PT1S), or"
                          + " raise "
                          + D
                          + "deadline");
              assertThat(e.getCause()).isInstanceOf(InvalidConfigurationException.class);
            });
  }

  @Test
  void aRegionOrderNamingARegionWithoutEndpointsNamesTheRegionOrder() {
    runner
        .withPropertyValues(with(D + "region-order=us-west-2,eu-west-9"))
        .run(
            context -> {
              FailoverConfigurationException e = SharedConfigurationTests.failure(context);
              assertThat(e.property()).isEqualTo(D + "region-order");
              assertThat(e.value()).isEqualTo("us-west-2,eu-west-9");
              assertThat(e.getReason())
                  .isEqualTo(
                      "regionOrder names region 'eu-west-9', which no endpoint is in; endpoints"
                          + " are in [us-east-1, us-west-2] (check its spelling)");
              assertThat(e.action())
                  .isEqualTo(
                      "correct the region's name, remove it from "
                          + D
                          + "region-order, or list an endpoint in region 'eu-west-9' under "
                          + D
                          + "endpoints");
            });
    // Written as a list (as in YAML), the region's own key is named, with its own origin.
    runner
        .withPropertyValues(with(D + "region-order[0]=us-west-2", D + "region-order[1]=eu-west-9"))
        .run(
            context -> {
              FailoverConfigurationException e = SharedConfigurationTests.failure(context);
              assertThat(e.property()).isEqualTo(D + "region-order[1]");
              assertThat(e.value()).isEqualTo("eu-west-9");
              assertThat(e.origin())
                  .isEqualTo("\"" + D + "region-order[1]\" from property source \"test\"");
            });
  }

  /** A region named twice is refused at the property, naming the region. */
  @Test
  void aRegionOrderNamingARegionTwiceNamesTheRegionOrder() {
    runner
        .withPropertyValues(with(D + "region-order=us-west-2,us-west-2"))
        .run(
            context -> {
              FailoverConfigurationException e = SharedConfigurationTests.failure(context);
              assertThat(e.property()).isEqualTo(D + "region-order");
              assertThat(e.getReason()).contains("regionOrder names region 'us-west-2' twice");
              assertThat(e.action()).contains("name each region once");
            });
  }

  /** The starter rejects its own duplicates; one a customizer adds is named at the property. */
  @Test
  void anEndpointAddedAgainByACustomizerNamesTheEndpointsUrl() {
    Endpoint again = Endpoint.of("http://127.0.0.1:2/api", "us-east-1", "us-east-1b");
    runner
        .withPropertyValues(FailoverAutoConfigurationTests.DIRECTORY)
        .withBean(
            FailoverClientCustomizer.class,
            () -> FailoverClientCustomizer.forClient("directory", b -> b.endpoint(again)))
        .run(
            context -> {
              FailoverConfigurationException e = SharedConfigurationTests.failure(context);
              assertThat(e.property()).isEqualTo(D + "endpoints[1].url");
              assertThat(e.value()).isEqualTo(again.address());
              assertThat(e.getReason())
                  .isEqualTo(
                      "endpoint "
                          + again.address()
                          + " is listed twice (by this property and by a"
                          + " FailoverClientCustomizer)");
              assertThat(e.action())
                  .isEqualTo(
                      "remove "
                          + D
                          + "endpoints[1], or stop the FailoverClientCustomizer adding the"
                          + " endpoint again");
            });
  }

  @Test
  void endpointsRemovedByACustomizerNameTheEndpoints() {
    runner
        .withPropertyValues(FailoverAutoConfigurationTests.DIRECTORY)
        .withBean(
            FailoverClientCustomizer.class,
            () -> FailoverClientCustomizer.forClient("directory", b -> b.endpoints(List.of())))
        .run(
            context -> {
              FailoverConfigurationException e = SharedConfigurationTests.failure(context);
              assertThat(e.property()).isEqualTo(D + "endpoints");
              assertThat(e.value()).isNull();
              assertThat(e.getReason())
                  .isEqualTo(
                      "at least one endpoint, or an endpointSource, is required for service"
                          + " directory");
              assertThat(e.action())
                  .isEqualTo(
                      "list the service's endpoints under "
                          + D
                          + "endpoints, and check that no FailoverClientCustomizer removes them");
            });
  }

  private static String[] with(String... overrides) {
    List<String> properties =
        new ArrayList<>(Arrays.asList(FailoverAutoConfigurationTests.DIRECTORY));
    properties.addAll(Arrays.asList(overrides));
    return properties.toArray(String[]::new);
  }
}
