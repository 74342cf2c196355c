package dev.failover;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.stream.Stream;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Input that would build and then fail every call (a duration whose nanoseconds overflow, a body
 * bound no array can hold, a region that no endpoint is in) is rejected at once, naming the
 * setting, the value and the allowed range.
 */
class BuilderRangeValidationTest {

  private static final Duration HUGE = Duration.ofSeconds(Long.MAX_VALUE);
  private static final Duration CENTURIES = Duration.ofDays(300L * 365);
  private static final Duration DAY = Duration.ofHours(24);
  private static final Duration JUST_OVER = DAY.plusNanos(1);
  private static final Duration FOREVER = ChronoUnit.FOREVER.getDuration();
  private static final Duration HALF_MS = Duration.ofNanos(500_000);

  private static FailoverClient.Builder valid() {
    return FailoverClient.builder()
        .service("directory")
        .home("us-east-1", "us-east-1a")
        .endpoint("http://127.0.0.1:1", "us-east-1", "us-east-1a")
        .endpoint("http://127.0.0.1:2", "us-east-1", "us-east-1b")
        .endpoint("http://127.0.0.1:3", "us-west-2", "us-west-2a");
  }

  static Stream<Arguments> badInputs() {
    FailoverClient.Builder b = valid();
    HealthCheck check = HealthCheck.http("/health");
    return Stream.of(
        bad(
            "deadline overflowing nanoseconds",
            () -> b.deadline(HUGE),
            "deadline must be between 1 ms and 24 h but was " + HUGE),
        bad(
            "deadline just over a day",
            () -> b.deadline(JUST_OVER),
            "deadline must be between 1 ms and 24 h but was PT24H0.000000001S"),
        bad(
            "deadline below a millisecond",
            () -> b.deadline(Duration.ofNanos(999_999)),
            "deadline must be between 1 ms and 24 h but was PT0.000999999S"),
        bad(
            "request deadline below a millisecond, as the client's",
            () -> RequestOptions.ofDeadline(Duration.ofNanos(1)),
            "deadline must be between 1 ms and 24 h but was PT0.000000001S"),
        bad(
            "request deadline just over a day, as the client's",
            () -> RequestOptions.markIdempotent().withDeadline(JUST_OVER),
            "deadline must be between 1 ms and 24 h but was PT24H0.000000001S"),
        bad(
            "attemptTimeout of centuries",
            () -> b.attemptTimeout(CENTURIES),
            "attemptTimeout must be between 1 ms and 24 h but was PT2628000H"),
        bad(
            "minAttemptTime overflowing",
            () -> b.minAttemptTime(HUGE),
            "minAttemptTime must be between 0 s and 24 h but was " + HUGE),
        bad(
            "backoff base of centuries",
            () -> b.backoff(CENTURIES, CENTURIES),
            "backoff base must be between 0 s and 24 h but was PT2628000H"),
        bad(
            "backoff cap overflowing",
            () -> b.backoff(Duration.ofMillis(25), HUGE),
            "backoff cap must be between 0 s and 24 h but was " + HUGE),
        bad(
            "backoff cap negative",
            () -> b.backoff(Duration.ZERO, Duration.ofMillis(-1)),
            "backoff cap must not be negative but was PT-0.001S"),
        bad(
            "maxRetryAfter of centuries",
            () -> b.maxRetryAfter(CENTURIES),
            "maxRetryAfter must be between 1 ms and 24 h but was PT2628000H"),
        bad(
            "maxRetryAfter zero",
            () -> b.maxRetryAfter(Duration.ZERO),
            "maxRetryAfter must be positive but was PT0S"),
        bad(
            "retryBudget window overflowing",
            () -> b.retryBudget(0.1, 1, HUGE),
            "retryBudget window must be between 1 s and 5 min but was " + HUGE),
        bad(
            "hedge delay of centuries",
            () -> HedgePolicy.fixed(CENTURIES),
            "hedge delay must be between 1 ms and 24 h but was PT2628000H"),
        bad(
            "hedge delay below a millisecond",
            () -> HedgePolicy.fixed(Duration.ofNanos(1)),
            "hedge delay must be between 1 ms and 24 h but was PT0.000000001S"),
        bad(
            "hedge delay via withDelay",
            () -> HedgePolicy.adaptive(0.05).withDelay(HUGE),
            "hedge delay must be between 1 ms and 24 h but was " + HUGE),
        bad(
            "hedge minDelay overflowing",
            () -> HedgePolicy.adaptive(0.05).withMinDelay(HUGE),
            "hedge minDelay must be between 0 s and 24 h but was " + HUGE),
        bad(
            "health check interval overflowing",
            () -> check.withInterval(HUGE),
            "health check interval must be between 1 ms and 24 h but was " + HUGE),
        bad(
            "health check downInterval of centuries",
            () -> check.withDownInterval(CENTURIES),
            "health check downInterval must be between 1 ms and 24 h but was PT2628000H"),
        bad(
            "health check timeout below a millisecond",
            () -> check.withTimeout(Duration.ofNanos(10)),
            "health check timeout must be between 1 ms and 24 h but was PT0.00000001S"),
        bad(
            "health check timeout over a day",
            () -> check.withTimeout(JUST_OVER),
            "health check timeout must be between 1 ms and 24 h but was PT24H0.000000001S"),
        bad(
            "stale maxBodyBytes of Long.MAX_VALUE",
            () -> StaleCache.of(10, Long.MAX_VALUE, Duration.ofMinutes(5)),
            "stale maxBodyBytes must be between 1 and 67108864 (64 MiB) but was " + Long.MAX_VALUE),
        bad(
            "stale maxBodyBytes just over 64 MiB",
            () -> StaleCache.of(10, 64L * 1024 * 1024 + 1, Duration.ofMinutes(5)),
            "stale maxBodyBytes must be between 1 and 67108864 (64 MiB) but was 67108865"),
        bad(
            "stale maxBodyBytes zero",
            () -> StaleCache.of(10, 0, Duration.ofMinutes(5)),
            "stale maxBodyBytes must be between 1 and 67108864 (64 MiB) but was 0"),
        bad(
            "stale maxAge overflowing",
            () -> StaleCache.of(10, 1024, HUGE),
            "stale maxAge must be between 1 ms and 24 h but was " + HUGE),
        // A hysteresis meant as "never return on its own" overflowed the zone judgement's
        // nanoseconds every second (or, for centuries, brought a re-evacuated zone back at once).
        bad(
            "zone hysteresis FOREVER",
            () -> ZonePolicy.defaults().withReturn(FOREVER, Duration.ofSeconds(10)),
            "zone hysteresis must be between 1 ms and 24 h but was " + FOREVER),
        bad(
            "zone hysteresis of a century",
            () -> ZonePolicy.builder().hysteresis(Duration.ofDays(36500)),
            "zone hysteresis must be between 1 ms and 24 h but was PT876000H"),
        bad(
            "zone hysteresis just over a day",
            () -> ZonePolicy.builder().hysteresis(JUST_OVER),
            "zone hysteresis must be between 1 ms and 24 h but was PT24H0.000000001S"),
        bad(
            "zone hysteresis below a millisecond",
            () -> ZonePolicy.builder().hysteresis(HALF_MS),
            "zone hysteresis must be between 1 ms and 24 h but was PT0.0005S"),
        bad(
            "zone window overflowing",
            () -> ZonePolicy.defaults().withOutliers(3.0, 20, HUGE),
            "zone window must be between 2 s and 24 h but was " + HUGE),
        bad(
            "zone window FOREVER",
            () -> ZonePolicy.builder().window(FOREVER),
            "zone window must be between 2 s and 24 h but was " + FOREVER),
        bad(
            "zone slowStart overflowing",
            () -> ZonePolicy.defaults().withReturn(Duration.ofSeconds(10), HUGE),
            "zone slowStart must be between 0 s and 24 h but was " + HUGE),
        bad(
            "zone slowStart FOREVER",
            () -> ZonePolicy.builder().slowStart(FOREVER),
            "zone slowStart must be between 0 s and 24 h but was " + FOREVER),
        // Ejection durations overflowed the breaker's nanoseconds in build() (a bare
        // ArithmeticException), and a base below 1 ms became 0 ms: every ejection 1 ms, never
        // doubling.
        bad(
            "ejection times FOREVER",
            () -> EjectionPolicy.defaults().withEjectionTime(FOREVER, FOREVER),
            "baseEjectionTime must be between 1 ms and 24 h but was " + FOREVER),
        bad(
            "base ejection time overflowing",
            () -> EjectionPolicy.builder().baseEjectionTime(HUGE),
            "baseEjectionTime must be between 1 ms and 24 h but was " + HUGE),
        bad(
            "base ejection time below a millisecond",
            () -> EjectionPolicy.builder().baseEjectionTime(HALF_MS),
            "baseEjectionTime must be between 1 ms and 24 h but was PT0.0005S"),
        bad(
            "max ejection time overflowing",
            () -> EjectionPolicy.builder().maxEjectionTime(HUGE),
            "maxEjectionTime must be between 1 ms and 24 h but was " + HUGE),
        bad(
            "max ejection time of centuries",
            () -> EjectionPolicy.defaults().withEjectionTime(Duration.ofSeconds(5), CENTURIES),
            "maxEjectionTime must be between 1 ms and 24 h but was PT2628000H"),
        bad(
            "max ejection time below a millisecond",
            () -> EjectionPolicy.builder().maxEjectionTime(HALF_MS),
            "maxEjectionTime must be between 1 ms and 24 h but was PT0.0005S"),
        bad(
            "slow call duration FOREVER",
            () -> EjectionPolicy.defaults().withSlowCalls(FOREVER, 80),
            "ejection slowCallDuration must be between 1 ms and 24 h but was " + FOREVER),
        bad(
            "slow call duration below a millisecond",
            () -> EjectionPolicy.builder().slowCallDuration(HALF_MS),
            "ejection slowCallDuration must be between 1 ms and 24 h but was PT0.0005S"),
        // One slot per attempt of the window (or per probe), per endpoint, allocated again on
        // every change of the breaker's state: Integer.MAX_VALUE ran the heap out.
        bad(
            "ejection window of Integer.MAX_VALUE",
            () -> EjectionPolicy.builder().windowSize(Integer.MAX_VALUE),
            "ejection windowSize must be between 1 and 10000 but was 2147483647"),
        bad(
            "ejection window just over the bound",
            () -> EjectionPolicy.defaults().withFailureRate(50, 10_001, 20),
            "ejection windowSize must be between 1 and 10000 but was 10001"),
        bad(
            "ejection window of zero",
            () -> EjectionPolicy.builder().windowSize(0),
            "ejection windowSize must be between 1 and 10000 but was 0"),
        bad(
            "half-open probes of Integer.MAX_VALUE",
            () -> EjectionPolicy.builder().halfOpenProbes(Integer.MAX_VALUE),
            "ejection halfOpenProbes must be between 1 and 1000 but was 2147483647"),
        bad(
            "half-open probes just over the bound",
            () -> EjectionPolicy.defaults().withHalfOpenProbes(1001),
            "ejection halfOpenProbes must be between 1 and 1000 but was 1001"),
        // DiscoveryPolicy printed the value in milliseconds: ArithmeticException for these, and a
        // value just over the bound printed as the bound itself.
        bad(
            "discovery startTimeout overflowing",
            () -> DiscoveryPolicy.defaults().withStartTimeout(HUGE),
            "discovery startTimeout must be between 0 s and 10 min but was " + HUGE),
        bad(
            "discovery removalConfirmation overflowing",
            () -> DiscoveryPolicy.builder().removalConfirmation(HUGE),
            "discovery removalConfirmation must be between 0 s and 24 h but was " + HUGE),
        bad(
            "discovery maxStaleness overflowing",
            () -> DiscoveryPolicy.defaults().withMaxStaleness(HUGE),
            "discovery maxStaleness must be between 1 s and 720 h but was " + HUGE),
        bad(
            "discovery startTimeout just over ten minutes",
            () -> DiscoveryPolicy.builder().startTimeout(Duration.ofMinutes(10).plusNanos(1)),
            "discovery startTimeout must be between 0 s and 10 min but was PT10M0.000000001S"));
  }

  private static Arguments bad(String name, ThrowingCallable call, String message) {
    return Arguments.of(name, call, message);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badInputs")
  void badInputIsRejectedNamingSettingValueAndRange(
      String name, ThrowingCallable call, String message) {
    assertThatThrownBy(call).isInstanceOf(IllegalArgumentException.class).hasMessage(message);
  }

  @Test
  void theBoundsThemselvesAreAcceptedAndBuild() {
    try (FailoverClient client =
        valid()
            .deadline(DAY)
            .attemptTimeout(DAY)
            .minAttemptTime(Duration.ZERO)
            .backoff(DAY, DAY)
            .maxRetryAfter(DAY)
            .retryBudget(0.1, 1, Duration.ofMinutes(5))
            .hedging(HedgePolicy.fixed(DAY).withMinDelay(DAY))
            .staleIfError(StaleCache.of(1, StaleCache.MAX_BODY_BYTES, DAY))
            .build()) {
      assertThat(client.snapshot()).isNotNull();
    }
    assertThatCode(
            () -> {
              valid().deadline(Duration.ofMillis(1)).minAttemptTime(Duration.ZERO);
              valid().attemptTimeout(Duration.ofMillis(1)).backoff(Duration.ZERO, Duration.ZERO);
              HedgePolicy.fixed(Duration.ofMillis(1)).withMinDelay(Duration.ZERO);
              HealthCheck.http("/h")
                  .withInterval(DAY)
                  .withDownInterval(Duration.ofMillis(1))
                  .withTimeout(DAY);
              StaleCache.of(1, 1, Duration.ofMillis(1));
            })
        .doesNotThrowAnyException();
  }

  @Test
  void theEjectionBoundsThemselvesAreAcceptedAndBuild() {
    EjectionPolicy longest =
        EjectionPolicy.builder()
            .slowCallDuration(DAY)
            .baseEjectionTime(DAY)
            .maxEjectionTime(DAY)
            .windowSize(EjectionPolicy.MAX_WINDOW_SIZE)
            .minimumCalls(EjectionPolicy.MAX_WINDOW_SIZE)
            .halfOpenProbes(EjectionPolicy.MAX_HALF_OPEN_PROBES)
            .build();
    EjectionPolicy shortest =
        EjectionPolicy.defaults()
            .withFailureRate(50, 1, 1)
            .withSlowCalls(Duration.ofMillis(1), 80)
            .withEjectionTime(Duration.ofMillis(1), Duration.ofMillis(1))
            .withHalfOpenProbes(1);
    assertThat(EjectionPolicy.MAX_WINDOW_SIZE).isEqualTo(10_000);
    assertThat(EjectionPolicy.MAX_HALF_OPEN_PROBES).isEqualTo(1_000);
    for (EjectionPolicy ejection : List.of(longest, shortest)) {
      try (FailoverClient client = valid().ejection(ejection).build()) {
        assertThat(client.settings().ejection()).isEqualTo(ejection);
      }
    }
  }

  @Test
  void theZoneBoundsThemselvesAreAcceptedAndBuild() {
    ZonePolicy longest = ZonePolicy.builder().window(DAY).hysteresis(DAY).slowStart(DAY).build();
    ZonePolicy shortest =
        ZonePolicy.defaults()
            .withOutliers(3.0, 20, Duration.ofSeconds(2))
            .withReturn(Duration.ofMillis(1), Duration.ZERO);
    for (ZonePolicy zones : List.of(longest, shortest)) {
      try (FailoverClient client = valid().zones(zones).build()) {
        assertThat(client.settings().zones()).isEqualTo(zones);
      }
    }
    // The zone judgement doubles the hysteresis of a flapping zone up to MAX_LEVEL times, in
    // nanoseconds: the longest hysteresis accepted stays far from overflowing there.
    long longestWait = DAY.toNanos() << Zones.MAX_LEVEL;
    assertThat(longestWait)
        .isEqualTo(Math.multiplyExact(DAY.toNanos(), 1L << Zones.MAX_LEVEL))
        .isLessThan(Long.MAX_VALUE / 1000);
  }

  @Test
  void anUnknownRegionOrderEntryIsRejectedAtBuild() {
    assertThatThrownBy(() -> valid().regionOrder(List.of("us-west-2", "us-wset-2")).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessage(
            "regionOrder names region 'us-wset-2', which no endpoint is in; endpoints are in"
                + " [us-east-1, us-west-2] (check its spelling)");
    assertThatThrownBy(() -> valid().regionOrder(List.of("eu-west-1")).build())
        .hasMessageContaining("'eu-west-1'")
        .hasMessageContaining("[us-east-1, us-west-2]");
  }

  @Test
  void knownRegionsInRegionOrderBuild() {
    try (FailoverClient client = valid().regionOrder(List.of("us-west-2", "us-east-1")).build()) {
      assertThat(client.endpoints()).hasSize(3);
    }
  }

  @Test
  void aHomeZoneWithoutEndpointsIsAcceptedAndWarnedWhenItLooksMisspelt() {
    try (FailoverClient client = valid().home("us-east-1", "us-east-1d").build()) {
      assertThat(client.home()).isEqualTo(Locality.of("us-east-1", "us-east-1d"));
    }
    assertThat(warnings(Locality.of("us-east-1", "us-east-1d")))
        .containsExactly("home zone 'us-east-1d' has no endpoint; did you mean 'us-east-1a'?");
  }

  @Test
  void homeZoneWarningsNameTheNearestZoneIgnoringCase() {
    assertThat(warnings(Locality.of("us-east-1", "US-EAST-1B")))
        .containsExactly("home zone 'US-EAST-1B' has no endpoint; did you mean 'us-east-1b'?");
    assertThat(warnings(Locality.of("us-east-1", "us-east-1bb")))
        .containsExactly("home zone 'us-east-1bb' has no endpoint; did you mean 'us-east-1b'?");
    // Far from every zone: a client in a zone without replicas, which is fine.
    assertThat(warnings(Locality.of("us-east-1", "use1-az4"))).isEmpty();
    assertThat(warnings(Locality.of("us-east-1", "us-east-1a"))).isEmpty();
  }

  @Test
  void homeRegionWarningsNameTheNearestRegion() {
    assertThat(warnings(Locality.of("us-east-2", "zz")))
        .containsExactly("home region 'us-east-2' has no endpoint; did you mean 'us-east-1'?");
    assertThat(warnings(Locality.of("eu-central-1", "zz"))).isEmpty();
  }

  @Test
  void aHealthCheckTimeoutLongerThanItsIntervalIsWarned() {
    HealthCheck slow =
        HealthCheck.http("/health")
            .withInterval(Duration.ofMillis(100))
            .withTimeout(Duration.ofMillis(200));
    assertThat(FailoverClient.warnings(Locality.of("us-east-1", "us-east-1a"), endpoints(), slow))
        .containsExactly(
            "health check timeout (PT0.2S) is longer than its interval (PT0.1S); probes of an"
                + " endpoint never overlap, so a hanging endpoint is probed less often than the"
                + " interval says");
    HealthCheck equal = slow.withTimeout(Duration.ofMillis(100));
    assertThat(FailoverClient.warnings(Locality.of("us-east-1", "us-east-1a"), endpoints(), equal))
        .isEmpty();
    assertThat(
            FailoverClient.warnings(
                Locality.of("us-east-1", "us-east-1a"), endpoints(), HealthCheck.off()))
        .isEmpty();
  }

  @Test
  void editDistanceIsLevenshtein() {
    assertThat(FailoverClient.editDistance("kitten", "sitting")).isEqualTo(3);
    assertThat(FailoverClient.editDistance("", "abc")).isEqualTo(3);
    assertThat(FailoverClient.editDistance("us-east-1d", "us-east-1a")).isEqualTo(1);
    assertThat(FailoverClient.editDistance("same", "same")).isZero();
    assertThat(FailoverClient.nearest("us-east-1c", List.of("us-east-1a", "us-east-1c"))).isNull();
    assertThat(FailoverClient.nearest("us-east-1", List.of("eu-west-1", "us-east-2")))
        .isEqualTo("us-east-2");
  }

  private static List<Endpoint> endpoints() {
    return List.of(
        Endpoint.of("http://127.0.0.1:1", "us-east-1", "us-east-1a"),
        Endpoint.of("http://127.0.0.1:2", "us-east-1", "us-east-1b"),
        Endpoint.of("http://127.0.0.1:3", "us-west-2", "us-west-2a"));
  }

  private static List<String> warnings(Locality home) {
    return FailoverClient.warnings(home, endpoints(), HealthCheck.off());
  }
}
