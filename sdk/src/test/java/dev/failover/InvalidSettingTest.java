package dev.failover;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every kind of bad input to a setting throws {@link InvalidSettingException} with the setting's
 * name as the builder and docs/configuration.md name it, and the value as given (a credential never
 * echoed); it is still an {@link IllegalArgumentException}.
 */
class InvalidSettingTest {

  private static final Duration NEGATIVE = Duration.ofMillis(-1);
  private static final Duration OVER_A_DAY = Duration.ofHours(25);

  static Stream<Arguments> badSettings() {
    FailoverClient.Builder b = FailoverClient.builder();
    HealthCheck check = HealthCheck.http("/health");
    HedgePolicy hedge = HedgePolicy.fixed(Duration.ofMillis(50));
    EjectionPolicy ejection = EjectionPolicy.defaults();
    ZonePolicy zones = ZonePolicy.defaults();
    DiscoveryPolicy discovery = DiscoveryPolicy.defaults();
    Duration tenSeconds = Duration.ofSeconds(10);
    return Stream.of(
        // FailoverClient.Builder
        bad(() -> b.service("not a host"), "service", "not a host"),
        bad(() -> b.service("user:pw@directory"), "service", "***@directory"),
        bad(() -> b.deadline(Duration.ZERO), "deadline", Duration.ZERO),
        bad(() -> b.deadline(OVER_A_DAY), "deadline", OVER_A_DAY),
        bad(() -> b.attemptTimeout(NEGATIVE), "attemptTimeout", NEGATIVE),
        bad(() -> b.minAttemptTime(NEGATIVE), "minAttemptTime", NEGATIVE),
        bad(() -> b.maxAttempts(0), "maxAttempts", 0),
        bad(() -> b.maxAttempts(11), "maxAttempts", 11),
        bad(() -> b.backoff(NEGATIVE, tenSeconds), "backoff.base", NEGATIVE),
        bad(() -> b.backoff(Duration.ZERO, OVER_A_DAY), "backoff.cap", OVER_A_DAY),
        bad(
            () -> b.backoff(Duration.ofMillis(100), Duration.ofMillis(50)),
            "backoff.cap",
            Duration.ofMillis(50)),
        bad(() -> b.maxRetryAfter(Duration.ZERO), "maxRetryAfter", Duration.ZERO),
        bad(() -> b.retryableStatuses(Set.of(503, 200)), "retryableStatuses", Set.of(503, 200)),
        bad(() -> b.retryBudget(1.5, 1, tenSeconds), "retryBudget.ratio", 1.5),
        bad(() -> b.retryBudget(Double.NaN, 1, tenSeconds), "retryBudget.ratio", Double.NaN),
        bad(() -> b.retryBudget(0.1, -1, tenSeconds), "retryBudget.minPerSecond", -1),
        bad(
            () -> b.retryBudget(0.1, 1, Duration.ofMinutes(6)),
            "retryBudget.window",
            Duration.ofMinutes(6)),
        bad(() -> b.panic(101, true), "panic.thresholdPercent", 101),
        bad(
            () -> b.regionOrder(List.of("eu-west-1", "us-west-2", "eu-west-1")),
            "regionOrder",
            List.of("eu-west-1", "us-west-2", "eu-west-1")),
        bad(() -> b.maxRequests(0), "maxRequests", 0),
        // HealthCheck
        bad(() -> HealthCheck.http("health"), "healthCheck.path", "health"),
        bad(() -> check.withInterval(Duration.ZERO), "healthCheck.interval", Duration.ZERO),
        bad(() -> check.withDownInterval(NEGATIVE), "healthCheck.downInterval", NEGATIVE),
        bad(() -> check.withTimeout(OVER_A_DAY), "healthCheck.timeout", OVER_A_DAY),
        bad(
            () -> check.withNoTrafficInterval(Duration.ZERO),
            "healthCheck.noTrafficInterval",
            Duration.ZERO),
        bad(() -> check.withThresholds(0, 2), "healthCheck.healthyThreshold", 0),
        bad(() -> check.withThresholds(2, 0), "healthCheck.unhealthyThreshold", 0),
        // EjectionPolicy
        bad(() -> ejection.withConsecutiveFailures(0), "ejection.consecutiveFailures", 0),
        bad(() -> ejection.withFailureRate(101, 50, 20), "ejection.failureRatePercent", 101),
        bad(() -> ejection.withFailureRate(50, 0, 20), "ejection.windowSize", 0),
        bad(() -> ejection.withFailureRate(50, 50, 0), "ejection.minimumCalls", 0),
        bad(() -> ejection.withFailureRate(50, 10, 20), "ejection.minimumCalls", 20),
        bad(
            () -> ejection.withSlowCalls(Duration.ZERO, 80),
            "ejection.slowCallDuration",
            Duration.ZERO),
        bad(
            () -> ejection.withSlowCalls(Duration.ofSeconds(2), 0),
            "ejection.slowCallRatePercent",
            0),
        bad(
            () -> ejection.withEjectionTime(NEGATIVE, tenSeconds),
            "ejection.baseEjectionTime",
            NEGATIVE),
        bad(
            () -> ejection.withEjectionTime(tenSeconds, Duration.ofSeconds(5)),
            "ejection.maxEjectionTime",
            Duration.ofSeconds(5)),
        bad(() -> ejection.withHalfOpenProbes(0), "ejection.halfOpenProbes", 0),
        // HedgePolicy
        bad(() -> HedgePolicy.fixed(Duration.ZERO), "hedging.delay", Duration.ZERO),
        bad(() -> hedge.withDelay(OVER_A_DAY), "hedging.delay", OVER_A_DAY),
        bad(() -> HedgePolicy.adaptive(0.6), "hedging.maxExtraLoad", 0.6),
        bad(() -> hedge.withMaxExtraLoad(0), "hedging.maxExtraLoad", 0.0),
        bad(() -> hedge.withMaxHedges(5), "hedging.maxHedges", 5),
        bad(() -> hedge.withMinDelay(NEGATIVE), "hedging.minDelay", NEGATIVE),
        // StaleCache
        bad(() -> StaleCache.of(0, 1024, tenSeconds), "staleIfError.maxEntries", 0L),
        bad(() -> StaleCache.of(10, 0, tenSeconds), "staleIfError.maxBodyBytes", 0L),
        bad(() -> StaleCache.of(10, 1024, Duration.ZERO), "staleIfError.maxAge", Duration.ZERO),
        // ZonePolicy
        bad(() -> zones.withEjectedPercent(0), "zones.ejectedPercent", 0),
        bad(() -> zones.withMaxEvacuatedPercent(101), "zones.maxEvacuatedPercent", 101),
        bad(() -> zones.withOutliers(-1, 20, tenSeconds), "zones.outlierK", -1.0),
        bad(
            () -> zones.withOutliers(Double.POSITIVE_INFINITY, 20, tenSeconds),
            "zones.outlierK",
            Double.POSITIVE_INFINITY),
        bad(() -> zones.withOutliers(3, 0, tenSeconds), "zones.minSamples", 0),
        bad(
            () -> zones.withOutliers(3, 20, Duration.ofMillis(1500)),
            "zones.window",
            Duration.ofMillis(1500)),
        bad(() -> zones.withReturn(Duration.ZERO, tenSeconds), "zones.hysteresis", Duration.ZERO),
        bad(() -> zones.withReturn(tenSeconds, NEGATIVE), "zones.slowStart", NEGATIVE),
        // DiscoveryPolicy
        bad(
            () -> discovery.withStartTimeout(Duration.ofMinutes(11)),
            "discovery.startTimeout",
            Duration.ofMinutes(11)),
        bad(() -> discovery.withMaxRemovalPercent(150), "discovery.maxRemovalPercent", 150),
        bad(
            () -> discovery.withRemovalConfirmation(NEGATIVE),
            "discovery.removalConfirmation",
            NEGATIVE),
        bad(
            () -> discovery.withMaxStaleness(Duration.ZERO),
            "discovery.maxStaleness",
            Duration.ZERO),
        // Endpoint and Locality
        bad(() -> Endpoint.of("ftp//dir-b", "r", "z"), "endpoint.url", "ftp//dir-b"),
        bad(
            () -> Endpoint.of("https://admin:secret@dir-b", "r", "z"),
            "endpoint.url",
            "https://***@dir-b/"),
        bad(
            () -> Endpoint.of("https://admin:secret@dir-b/?q=1", "r", "z"),
            "endpoint.url",
            "https://***@dir-b/?***"),
        bad(() -> Endpoint.of("https://dir-b/?q=1", "r", "z"), "endpoint.url", "https://dir-b/"),
        bad(() -> Endpoint.of("https://dir-b/#f", "r", "z"), "endpoint.url", "https://dir-b/"),
        bad(() -> Endpoint.of("https://dir-b", "r", "z").withWeight(0), "endpoint.weight", 0),
        bad(() -> Locality.of(" ", "z"), "locality.region", " "),
        bad(() -> Locality.of("r", ""), "locality.zone", ""),
        bad(() -> Locality.of("us-east-1", "us-east-1a "), "locality.zone", "us-east-1a "),
        bad(() -> Locality.of(" us-east-1", "us-east-1a"), "locality.region", " us-east-1"),
        // RequestOptions
        bad(() -> RequestOptions.ofDeadline(NEGATIVE), "requestOptions.deadline", NEGATIVE),
        // Checked as the client's deadline: 1 ms at least.
        bad(
            () -> RequestOptions.ofDeadline(Duration.ofNanos(1)),
            "requestOptions.deadline",
            Duration.ofNanos(1)),
        bad(
            () -> RequestOptions.builder().deadline(Duration.ofNanos(999_999)),
            "requestOptions.deadline",
            Duration.ofNanos(999_999)),
        // Longer would overflow the call's nanoseconds (ChronoUnit.FOREVER threw from execute()).
        bad(
            () -> RequestOptions.ofDeadline(Duration.ofHours(25)),
            "requestOptions.deadline",
            Duration.ofHours(25)),
        bad(
            () -> RequestOptions.ofDeadline(java.time.temporal.ChronoUnit.FOREVER.getDuration()),
            "requestOptions.deadline",
            java.time.temporal.ChronoUnit.FOREVER.getDuration()));
  }

  private static Arguments bad(ThrowingCallable call, String setting, Object value) {
    return Arguments.of(setting + " = " + value, call, setting, value);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badSettings")
  void badInputNamesTheSettingAndTheValue(
      String name, ThrowingCallable call, String setting, Object value) {
    Throwable thrown = catchThrowable(call);
    assertThat(thrown).isInstanceOf(InvalidSettingException.class);
    InvalidSettingException e = (InvalidSettingException) thrown;
    assertThat(e.setting()).isEqualTo(setting);
    assertThat(e.value()).isEqualTo(value);
    assertThat(e).isInstanceOf(IllegalArgumentException.class);
    assertThat(e.getMessage()).doesNotContain("secret").doesNotContain("admin");
  }

  /**
   * A null element of a list setting is named by its index (List.copyOf threw a
   * NullPointerException that named neither the setting nor the element).
   */
  @Test
  void aNullElementOfAListIsNamedByItsIndex() {
    List<Endpoint> endpoints =
        Arrays.asList(Endpoint.of("http://127.0.0.1:1", "us-east-1", "us-east-1a"), null);
    List<String> regions = Arrays.asList("us-west-2", null);
    FailoverClient.Builder b = FailoverClient.builder();
    EndpointSource.Push push = EndpointSource.push();
    Map<String, ThrowingCallable> calls =
        Map.of(
            "endpoints", () -> b.endpoints(endpoints),
            "endpoints ", () -> EndpointSource.of(endpoints),
            "endpoints  ", () -> push.update(endpoints),
            "regionOrder", () -> b.regionOrder(regions));
    calls.forEach(
        (expected, call) -> {
          Throwable thrown = catchThrowable(call);
          assertThat(thrown).isInstanceOf(InvalidSettingException.class);
          InvalidSettingException e = (InvalidSettingException) thrown;
          assertThat(e.setting()).isEqualTo(expected.trim());
          assertThat(e.value()).isNull();
          assertThat(e.getMessage())
              .isEqualTo(expected.trim() + "[1] is null: the list may hold no null element");
        });
  }
}
