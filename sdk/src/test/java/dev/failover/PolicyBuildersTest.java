package dev.failover;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The policies as final classes: each builder starts from the policy's defaults, {@code
 * toBuilder()} round-trips, every builder setter checks its value at once with the setting's name,
 * the withers are the builder's, and {@code off()} is one instance that has no settings to change.
 */
class PolicyBuildersTest {

  private static final Duration MS_0 = Duration.ZERO;
  private static final Duration MS_NEGATIVE = Duration.ofMillis(-1);

  @Test
  void buildersStartFromTheDefaultsAndFactories() {
    assertThat(HealthCheck.builder().build()).isEqualTo(HealthCheck.http("/health"));
    assertThat(HealthCheck.builder().path("/ready").build()).isEqualTo(HealthCheck.http("/ready"));
    HealthCheck check = HealthCheck.http("/ready");
    assertThat(check.interval()).isEqualTo(Duration.ofSeconds(2));
    assertThat(check.downInterval()).isEqualTo(Duration.ofMillis(500));
    assertThat(check.timeout()).isEqualTo(Duration.ofSeconds(1));
    assertThat(check.healthyThreshold()).isEqualTo(2);
    assertThat(check.unhealthyThreshold()).isEqualTo(2);
    assertThat(check.noTrafficInterval()).isEqualTo(Duration.ofSeconds(60));

    assertThat(EjectionPolicy.builder().build()).isEqualTo(EjectionPolicy.defaults());
    assertThat(ZonePolicy.builder().build()).isEqualTo(ZonePolicy.defaults());
    assertThat(DiscoveryPolicy.builder().build()).isEqualTo(DiscoveryPolicy.defaults());

    assertThat(HedgePolicy.builder().build()).isEqualTo(HedgePolicy.adaptive(0.05));
    assertThat(HedgePolicy.builder().maxExtraLoad(0.1).build())
        .isEqualTo(HedgePolicy.adaptive(0.1));
    assertThat(
            HedgePolicy.builder().mode(HedgePolicy.Mode.FIXED).delay(Duration.ofMillis(50)).build())
        .isEqualTo(HedgePolicy.fixed(Duration.ofMillis(50)));
    HedgePolicy fixed = HedgePolicy.fixed(Duration.ofMillis(50));
    assertThat(fixed.mode()).isEqualTo(HedgePolicy.Mode.FIXED);
    assertThat(fixed.maxExtraLoad()).isEqualTo(0.05);
    assertThat(fixed.maxHedges()).isEqualTo(1);
    assertThat(fixed.minDelay()).isEqualTo(Duration.ofMillis(1));
    assertThat(HedgePolicy.adaptive(0.05).delay()).isEqualTo(Duration.ofMillis(100));

    assertThat(StaleCache.builder().build())
        .isEqualTo(StaleCache.of(1000, 64 * 1024, Duration.ofMinutes(5)));

    RequestOptions none = RequestOptions.builder().build();
    assertThat(none.idempotent()).isNull();
    assertThat(none.deadline()).isNull();
    assertThat(RequestOptions.builder().idempotent(true).build())
        .isEqualTo(RequestOptions.markIdempotent());
    assertThat(RequestOptions.builder().idempotent(false).build())
        .isEqualTo(RequestOptions.markNotIdempotent());
    assertThat(RequestOptions.builder().deadline(Duration.ofSeconds(2)).build())
        .isEqualTo(RequestOptions.ofDeadline(Duration.ofSeconds(2)));
  }

  /** Policies with every setting away from its default. */
  static Stream<Object> customized() {
    return Stream.of(
        HealthCheck.builder()
            .path("/ready")
            .interval(Duration.ofSeconds(3))
            .downInterval(Duration.ofMillis(300))
            .timeout(Duration.ofMillis(200))
            .healthyThreshold(3)
            .unhealthyThreshold(4)
            .noTrafficInterval(Duration.ofMinutes(5))
            .build(),
        EjectionPolicy.builder()
            .consecutiveFailures(6)
            .failureRatePercent(45)
            .slowCallDuration(Duration.ofMillis(800))
            .slowCallRatePercent(70)
            .windowSize(40)
            .minimumCalls(15)
            .baseEjectionTime(Duration.ofSeconds(3))
            .maxEjectionTime(Duration.ofSeconds(40))
            .halfOpenProbes(4)
            .build(),
        HedgePolicy.builder()
            .mode(HedgePolicy.Mode.FIXED)
            .delay(Duration.ofMillis(40))
            .maxExtraLoad(0.2)
            .maxHedges(3)
            .minDelay(Duration.ofMillis(3))
            .build(),
        StaleCache.builder()
            .maxEntries(500)
            .maxBodyBytes(128 * 1024)
            .maxAge(Duration.ofMinutes(2))
            .build(),
        ZonePolicy.builder()
            .ejectedPercent(60)
            .outlierK(2.5)
            .minSamples(30)
            .window(Duration.ofSeconds(20))
            .hysteresis(Duration.ofSeconds(15))
            .slowStart(Duration.ZERO)
            .maxEvacuatedPercent(34)
            .build(),
        DiscoveryPolicy.builder()
            .startTimeout(Duration.ofSeconds(3))
            .maxRemovalPercent(30)
            .removalConfirmation(Duration.ofSeconds(20))
            .maxStaleness(Duration.ofMinutes(10))
            .build(),
        RequestOptions.builder().idempotent(false).deadline(Duration.ofSeconds(2)).build());
  }

  @ParameterizedTest
  @MethodSource("customized")
  void toBuilderBuildsAnEqualPolicy(Object policy) throws ReflectiveOperationException {
    Object builder = policy.getClass().getMethod("toBuilder").invoke(policy);
    Object copy = builder.getClass().getMethod("build").invoke(builder);
    assertThat(copy).isNotSameAs(policy).isEqualTo(policy).hasSameHashCodeAs(policy);
    Object defaults = policy.getClass().getMethod("builder").invoke(null);
    assertThat(defaults.getClass().getMethod("build").invoke(defaults)).isNotEqualTo(policy);
    assertThat(policy.toString()).startsWith(policy.getClass().getSimpleName() + "[");
  }

  @Test
  void withersChangeOneSettingAsTheBuilderDoes() {
    assertThat(HealthCheck.http("/h").withThresholds(3, 4))
        .isEqualTo(
            HealthCheck.builder().path("/h").healthyThreshold(3).unhealthyThreshold(4).build());
    assertThat(HealthCheck.http("/h").withInterval(Duration.ofSeconds(5)).interval())
        .isEqualTo(Duration.ofSeconds(5));
    assertThat(
            EjectionPolicy.defaults()
                .withFailureRate(40, 30, 10)
                .withEjectionTime(Duration.ofSeconds(1), Duration.ofSeconds(2)))
        .isEqualTo(
            EjectionPolicy.builder()
                .failureRatePercent(40)
                .windowSize(30)
                .minimumCalls(10)
                .baseEjectionTime(Duration.ofSeconds(1))
                .maxEjectionTime(Duration.ofSeconds(2))
                .build());
    assertThat(HedgePolicy.fixed(Duration.ofMillis(50)).withMaxHedges(2))
        .isEqualTo(
            HedgePolicy.builder()
                .mode(HedgePolicy.Mode.FIXED)
                .delay(Duration.ofMillis(50))
                .maxHedges(2)
                .build());
    assertThat(ZonePolicy.defaults().withReturn(Duration.ofSeconds(30), Duration.ZERO))
        .isEqualTo(
            ZonePolicy.builder()
                .hysteresis(Duration.ofSeconds(30))
                .slowStart(Duration.ZERO)
                .build());
    assertThat(DiscoveryPolicy.defaults().withMaxRemovalPercent(30))
        .isEqualTo(DiscoveryPolicy.builder().maxRemovalPercent(30).build());
    assertThat(RequestOptions.markIdempotent().withDeadline(Duration.ofSeconds(1)))
        .isEqualTo(
            RequestOptions.builder().idempotent(true).deadline(Duration.ofSeconds(1)).build());
    // A wither never changes the policy it is called on.
    assertThat(EjectionPolicy.defaults().withConsecutiveFailures(1))
        .isNotEqualTo(EjectionPolicy.defaults());
    assertThat(EjectionPolicy.defaults().consecutiveFailures()).isEqualTo(5);
  }

  static Stream<Arguments> outOfRange() {
    return Stream.of(
        bad("healthCheck.path", () -> HealthCheck.builder().path("health")),
        bad("healthCheck.interval", () -> HealthCheck.builder().interval(MS_0)),
        bad("healthCheck.downInterval", () -> HealthCheck.builder().downInterval(MS_NEGATIVE)),
        bad("healthCheck.timeout", () -> HealthCheck.builder().timeout(Duration.ofHours(25))),
        bad("healthCheck.healthyThreshold", () -> HealthCheck.builder().healthyThreshold(0)),
        bad("healthCheck.unhealthyThreshold", () -> HealthCheck.builder().unhealthyThreshold(0)),
        bad("healthCheck.noTrafficInterval", () -> HealthCheck.builder().noTrafficInterval(MS_0)),
        bad("ejection.consecutiveFailures", () -> EjectionPolicy.builder().consecutiveFailures(0)),
        bad("ejection.failureRatePercent", () -> EjectionPolicy.builder().failureRatePercent(101)),
        bad("ejection.slowCallDuration", () -> EjectionPolicy.builder().slowCallDuration(MS_0)),
        bad("ejection.slowCallRatePercent", () -> EjectionPolicy.builder().slowCallRatePercent(0)),
        bad("ejection.windowSize", () -> EjectionPolicy.builder().windowSize(0)),
        bad("ejection.minimumCalls", () -> EjectionPolicy.builder().minimumCalls(0)),
        bad("ejection.baseEjectionTime", () -> EjectionPolicy.builder().baseEjectionTime(MS_0)),
        bad("ejection.maxEjectionTime", () -> EjectionPolicy.builder().maxEjectionTime(MS_0)),
        bad("ejection.halfOpenProbes", () -> EjectionPolicy.builder().halfOpenProbes(0)),
        bad("ejection.windowSize", () -> EjectionPolicy.builder().windowSize(Integer.MAX_VALUE)),
        bad(
            "ejection.halfOpenProbes",
            () -> EjectionPolicy.builder().halfOpenProbes(Integer.MAX_VALUE)),
        bad(
            "ejection.slowCallDuration",
            () -> EjectionPolicy.builder().slowCallDuration(Duration.ofHours(25))),
        bad(
            "ejection.baseEjectionTime",
            () -> EjectionPolicy.builder().baseEjectionTime(Duration.ofNanos(500_000))),
        bad(
            "ejection.maxEjectionTime",
            () -> EjectionPolicy.builder().maxEjectionTime(Duration.ofHours(25))),
        bad("hedging.mode", () -> HedgePolicy.builder().mode(HedgePolicy.Mode.OFF)),
        bad("hedging.delay", () -> HedgePolicy.builder().delay(MS_0)),
        bad("hedging.maxExtraLoad", () -> HedgePolicy.builder().maxExtraLoad(0.6)),
        bad("hedging.maxHedges", () -> HedgePolicy.builder().maxHedges(5)),
        bad("hedging.minDelay", () -> HedgePolicy.builder().minDelay(MS_NEGATIVE)),
        bad("staleIfError.maxEntries", () -> StaleCache.builder().maxEntries(0)),
        bad("staleIfError.maxBodyBytes", () -> StaleCache.builder().maxBodyBytes(0)),
        bad(
            "staleIfError.maxBodyBytes",
            () -> StaleCache.builder().maxBodyBytes(StaleCache.MAX_BODY_BYTES + 1)),
        bad("staleIfError.maxAge", () -> StaleCache.builder().maxAge(MS_0)),
        bad("zones.ejectedPercent", () -> ZonePolicy.builder().ejectedPercent(0)),
        bad("zones.outlierK", () -> ZonePolicy.builder().outlierK(Double.POSITIVE_INFINITY)),
        bad("zones.outlierK", () -> ZonePolicy.builder().outlierK(Double.NaN)),
        bad("zones.minSamples", () -> ZonePolicy.builder().minSamples(0)),
        bad("zones.window", () -> ZonePolicy.builder().window(Duration.ofSeconds(1))),
        bad("zones.hysteresis", () -> ZonePolicy.builder().hysteresis(MS_0)),
        bad("zones.slowStart", () -> ZonePolicy.builder().slowStart(MS_NEGATIVE)),
        bad("zones.maxEvacuatedPercent", () -> ZonePolicy.builder().maxEvacuatedPercent(101)),
        bad("discovery.startTimeout", () -> DiscoveryPolicy.builder().startTimeout(MS_NEGATIVE)),
        bad("discovery.maxRemovalPercent", () -> DiscoveryPolicy.builder().maxRemovalPercent(0)),
        bad(
            "discovery.removalConfirmation",
            () -> DiscoveryPolicy.builder().removalConfirmation(Duration.ofHours(25))),
        bad("discovery.maxStaleness", () -> DiscoveryPolicy.builder().maxStaleness(MS_0)),
        bad("requestOptions.deadline", () -> RequestOptions.builder().deadline(MS_0)));
  }

  private static Arguments bad(String setting, ThrowingCallable setter) {
    return Arguments.of(setting, setter);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("outOfRange")
  void aSetterRejectsAValueOutOfRangeAtOnce(String setting, ThrowingCallable setter) {
    assertThatThrownBy(setter)
        .isInstanceOfSatisfying(
            InvalidSettingException.class, e -> assertThat(e.setting()).isEqualTo(setting))
        .hasMessageContaining(setting.substring(setting.indexOf('.') + 1));
  }

  @Test
  void buildChecksTheSettingsThatMustFitTogether() {
    // The order of the setters does not matter: a pair is judged when the policy is built.
    assertThat(EjectionPolicy.builder().minimumCalls(80).windowSize(100).build().minimumCalls())
        .isEqualTo(80);
    assertThatThrownBy(() -> EjectionPolicy.builder().minimumCalls(60).build())
        .isInstanceOfSatisfying(
            InvalidSettingException.class,
            e -> {
              assertThat(e.setting()).isEqualTo("ejection.minimumCalls");
              assertThat(e.value()).isEqualTo(60);
            })
        .hasMessage("ejection minimumCalls (60) must not exceed windowSize (50)");
    assertThatThrownBy(
            () -> EjectionPolicy.builder().maxEjectionTime(Duration.ofSeconds(1)).build())
        .isInstanceOfSatisfying(
            InvalidSettingException.class,
            e -> assertThat(e.setting()).isEqualTo("ejection.maxEjectionTime"))
        .hasMessage("maxEjectionTime (PT1S) must not be shorter than baseEjectionTime (PT5S)");
    // A failed build leaves the builder usable.
    EjectionPolicy.Builder builder = EjectionPolicy.builder().minimumCalls(60);
    assertThatThrownBy(builder::build).isInstanceOf(InvalidSettingException.class);
    assertThat(builder.windowSize(60).build().windowSize()).isEqualTo(60);
  }

  @Test
  void offIsOneInstanceAndTheOnlyOneThatIsNotEnabled() {
    assertThat(HedgePolicy.off()).isSameAs(HedgePolicy.off());
    assertThat(HealthCheck.off()).isSameAs(HealthCheck.off());
    assertThat(ZonePolicy.off()).isSameAs(ZonePolicy.off());
    assertThat(StaleCache.off()).isSameAs(StaleCache.off());

    assertThat(HedgePolicy.off().enabled()).isFalse();
    assertThat(HedgePolicy.off().mode()).isEqualTo(HedgePolicy.Mode.OFF);
    assertThat(HealthCheck.off().enabled()).isFalse();
    assertThat(ZonePolicy.off().enabled()).isFalse();
    assertThat(StaleCache.off().enabled()).isFalse();

    for (HedgePolicy p :
        List.of(
            HedgePolicy.builder().build(),
            HedgePolicy.fixed(Duration.ofMillis(1)),
            HedgePolicy.adaptive(0.5))) {
      assertThat(p.enabled()).isTrue();
      assertThat(p).isNotEqualTo(HedgePolicy.off());
    }
    for (HealthCheck c : List.of(HealthCheck.builder().build(), HealthCheck.http("/health"))) {
      assertThat(c.enabled()).isTrue();
      assertThat(c).isNotEqualTo(HealthCheck.off());
    }
    for (ZonePolicy z : List.of(ZonePolicy.builder().build(), ZonePolicy.defaults())) {
      assertThat(z.enabled()).isTrue();
      assertThat(z).isNotEqualTo(ZonePolicy.off());
    }
    for (StaleCache c :
        List.of(StaleCache.builder().build(), StaleCache.of(1, 1, MS_0.plusMillis(1)))) {
      assertThat(c.enabled()).isTrue();
      assertThat(c).isNotEqualTo(StaleCache.off());
    }

    assertThat(HedgePolicy.off()).hasToString("HedgePolicy.off()");
    assertThat(HealthCheck.off()).hasToString("HealthCheck.off()");
    assertThat(ZonePolicy.off()).hasToString("ZonePolicy.off()");
    assertThat(StaleCache.off()).hasToString("StaleCache.off()");
  }

  /** What the client and the starter read from an off policy: the defaults it does not use. */
  @Test
  void offHoldsTheDefaults() {
    HedgePolicy hedgeDefaults = HedgePolicy.builder().build();
    assertThat(HedgePolicy.off().delay()).isEqualTo(hedgeDefaults.delay());
    assertThat(HedgePolicy.off().maxExtraLoad()).isEqualTo(hedgeDefaults.maxExtraLoad());
    assertThat(HedgePolicy.off().maxHedges()).isEqualTo(hedgeDefaults.maxHedges());
    assertThat(HedgePolicy.off().minDelay()).isEqualTo(hedgeDefaults.minDelay());
    assertThat(HealthCheck.off().path()).isEqualTo("/health");
    assertThat(HealthCheck.off().interval()).isEqualTo(HealthCheck.http("/health").interval());
    // Endpoints returning from ejection still ramp over the slow start when zones are off.
    assertThat(ZonePolicy.off().slowStart()).isEqualTo(ZonePolicy.defaults().slowStart());
    assertThat(ZonePolicy.off().window()).isEqualTo(ZonePolicy.defaults().window());
    assertThat(StaleCache.off().maxEntries()).isEqualTo(StaleCache.builder().build().maxEntries());
    assertThat(StaleCache.off().maxAge()).isEqualTo(StaleCache.builder().build().maxAge());
  }

  /**
   * The behaviour chosen for off: it has no settings to change, so toBuilder() and every wither
   * throw IllegalStateException naming the policy and the way to turn it on, rather than quietly
   * turning the feature on or dropping the setting.
   */
  static Stream<Arguments> changesToOff() {
    Duration d = Duration.ofSeconds(1);
    return Stream.of(
        off("HedgePolicy", () -> HedgePolicy.off().toBuilder()),
        off("HedgePolicy", () -> HedgePolicy.off().withDelay(d)),
        off("HedgePolicy", () -> HedgePolicy.off().withMaxExtraLoad(0.1)),
        off("HedgePolicy", () -> HedgePolicy.off().withMaxHedges(2)),
        off("HedgePolicy", () -> HedgePolicy.off().withMinDelay(d)),
        off("HealthCheck", () -> HealthCheck.off().toBuilder()),
        off("HealthCheck", () -> HealthCheck.off().withInterval(d)),
        off("HealthCheck", () -> HealthCheck.off().withDownInterval(d)),
        off("HealthCheck", () -> HealthCheck.off().withTimeout(d)),
        off("HealthCheck", () -> HealthCheck.off().withThresholds(1, 1)),
        off("HealthCheck", () -> HealthCheck.off().withNoTrafficInterval(d)),
        off("ZonePolicy", () -> ZonePolicy.off().toBuilder()),
        off("ZonePolicy", () -> ZonePolicy.off().withReturn(d, d)),
        off("ZonePolicy", () -> ZonePolicy.off().withOutliers(3, 20, Duration.ofSeconds(10))),
        off("ZonePolicy", () -> ZonePolicy.off().withEjectedPercent(50)),
        off("ZonePolicy", () -> ZonePolicy.off().withMaxEvacuatedPercent(50)),
        off("StaleCache", () -> StaleCache.off().toBuilder()));
  }

  private static Arguments off(String policy, ThrowingCallable change) {
    return Arguments.of(policy, change);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("changesToOff")
  void offHasNoSettingsToChange(String policy, ThrowingCallable change) {
    assertThatThrownBy(change)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith(policy + ".off() has no settings to change; start from " + policy);
  }

  @Test
  void toStringShowsTheSettingsButNotAProbeQuery() {
    assertThat(HealthCheck.http("/health?token=s3cret").toString())
        .startsWith("HealthCheck[path=/health?***, interval=PT2S")
        .doesNotContain("s3cret");
    assertThat(HedgePolicy.fixed(Duration.ofMillis(50)).toString())
        .isEqualTo(
            "HedgePolicy[mode=FIXED, delay=PT0.05S, maxExtraLoad=0.05, maxHedges=1,"
                + " minDelay=PT0.001S]");
    assertThat(StaleCache.of(10, 20, Duration.ofMinutes(1)).toString())
        .isEqualTo("StaleCache[maxEntries=10, maxBodyBytes=20, maxAge=PT1M]");
  }
}
