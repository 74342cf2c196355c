package dev.failover;

import java.time.Duration;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Passive health: when real traffic ejects an endpoint, and for how long.
 *
 * <p>Each endpoint has a circuit breaker fed by the outcome of every attempt. It opens (the
 * endpoint is ejected) after {@code consecutiveFailures} failures in a row, or when, over the last
 * {@code windowSize} attempts (at least {@code minimumCalls} of them), the failure rate reaches
 * {@code failureRatePercent} or the share of attempts slower than {@code slowCallDuration} reaches
 * {@code slowCallRatePercent}. An ejected endpoint gets no traffic for the ejection time: {@code
 * baseEjectionTime} the first time, doubling on each ejection that follows without a full recovery
 * in between, capped at {@code maxEjectionTime}, jittered by plus or minus 20%. Then it is
 * half-open: {@code halfOpenProbes} real calls are let through, and it returns if their failure
 * rate is below {@code failureRatePercent} (otherwise it is ejected again, for longer). An active
 * health check that sees a down endpoint recover also half-opens its breaker at once. An attempt
 * overtaken by its hedge (the hedge, sent later, answered first) counts in the streak of failures
 * (a success ends it), so that hedging cannot hide an endpoint that hangs. A failure is a connect
 * failure, a reset, a timeout, a protocol error or a 5xx response; 4xx responses, 429 and cancelled
 * attempts are not failures.
 *
 * <p>Immutable. {@link #defaults()} (the client's default) and {@link #builder()} start from the
 * defaults; {@link #toBuilder()} and the {@code with...} methods copy a policy with changes:
 *
 * <pre>{@code
 * builder.ejection(EjectionPolicy.defaults().withConsecutiveFailures(3));
 * builder.ejection(EjectionPolicy.builder().consecutiveFailures(3).halfOpenProbes(1).build());
 * }</pre>
 */
public final class EjectionPolicy {

  /**
   * The largest {@code windowSize}: 10,000 attempts. The breaker keeps one slot per attempt of the
   * window for each endpoint, allocated again on every change of its state; a larger window would
   * only spend memory (and, near {@code Integer.MAX_VALUE}, run out of it).
   */
  public static final int MAX_WINDOW_SIZE = 10_000;

  /**
   * The largest {@code halfOpenProbes}: 1,000 calls. The breaker allocates one slot per probe each
   * time an ejection ends, on the thread of the call that ends it.
   */
  public static final int MAX_HALF_OPEN_PROBES = 1_000;

  private static final EjectionPolicy DEFAULTS = new EjectionPolicy(new Builder());

  private final int consecutiveFailures;
  private final int failureRatePercent;
  private final Duration slowCallDuration;
  private final int slowCallRatePercent;
  private final int windowSize;
  private final int minimumCalls;
  private final Duration baseEjectionTime;
  private final Duration maxEjectionTime;
  private final int halfOpenProbes;

  private EjectionPolicy(Builder b) {
    this.consecutiveFailures = atLeastOne("consecutiveFailures", b.consecutiveFailures);
    this.failureRatePercent = percent("failureRatePercent", b.failureRatePercent);
    this.slowCallDuration = checkSlowCallDuration(b.slowCallDuration);
    this.slowCallRatePercent = percent("slowCallRatePercent", b.slowCallRatePercent);
    this.windowSize = checkWindowSize(b.windowSize);
    this.minimumCalls = atLeastOne("minimumCalls", b.minimumCalls);
    if (minimumCalls > windowSize) {
      throw new InvalidSettingException(
          "ejection.minimumCalls",
          minimumCalls,
          "ejection minimumCalls ("
              + minimumCalls
              + ") must not exceed windowSize ("
              + windowSize
              + ")");
    }
    this.baseEjectionTime = checkBaseEjectionTime(b.baseEjectionTime);
    this.maxEjectionTime = checkMaxEjectionTime(b.maxEjectionTime);
    if (maxEjectionTime.compareTo(baseEjectionTime) < 0) {
      throw new InvalidSettingException(
          "ejection.maxEjectionTime",
          maxEjectionTime,
          "maxEjectionTime ("
              + maxEjectionTime
              + ") must not be shorter than baseEjectionTime ("
              + baseEjectionTime
              + ")");
    }
    this.halfOpenProbes = checkHalfOpenProbes(b.halfOpenProbes);
  }

  /**
   * Returns the defaults: 5 failures in a row, or 50% failures or 80% of attempts slower than 2 s
   * over the last 50 attempts (at least 20); ejection 5 s doubling up to 60 s; 3 half-open probes.
   *
   * @return the default policy
   */
  public static EjectionPolicy defaults() {
    return DEFAULTS;
  }

  /**
   * Returns a builder holding the {@link #defaults()}.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Returns a builder holding this policy's settings.
   *
   * @return a new builder
   */
  public Builder toBuilder() {
    return new Builder(this);
  }

  /**
   * Returns how many failures in a row eject an endpoint at once.
   *
   * @return at least 1
   */
  public int consecutiveFailures() {
    return consecutiveFailures;
  }

  /**
   * Returns the failure rate that ejects an endpoint.
   *
   * @return 1 to 100
   */
  public int failureRatePercent() {
    return failureRatePercent;
  }

  /**
   * Returns the duration beyond which an attempt counts as slow.
   *
   * @return 1 ms to 24 h
   */
  public Duration slowCallDuration() {
    return slowCallDuration;
  }

  /**
   * Returns the share of slow attempts that ejects an endpoint.
   *
   * @return 1 to 100
   */
  public int slowCallRatePercent() {
    return slowCallRatePercent;
  }

  /**
   * Returns the attempts over which the rates are measured.
   *
   * @return 1 to {@value #MAX_WINDOW_SIZE}
   */
  public int windowSize() {
    return windowSize;
  }

  /**
   * Returns the attempts needed in the window before the rates are judged.
   *
   * @return 1 to {@link #windowSize()}
   */
  public int minimumCalls() {
    return minimumCalls;
  }

  /**
   * Returns the first ejection's length.
   *
   * @return 1 ms to 24 h
   */
  public Duration baseEjectionTime() {
    return baseEjectionTime;
  }

  /**
   * Returns the longest ejection.
   *
   * @return at least {@link #baseEjectionTime()}, at most 24 h
   */
  public Duration maxEjectionTime() {
    return maxEjectionTime;
  }

  /**
   * Returns how many calls are let through after an ejection to test the endpoint.
   *
   * @return 1 to {@value #MAX_HALF_OPEN_PROBES}
   */
  public int halfOpenProbes() {
    return halfOpenProbes;
  }

  /**
   * Returns a copy with another number of failures in a row that eject.
   *
   * @param consecutiveFailures at least 1
   * @return the copy
   * @throws InvalidSettingException if below 1
   */
  public EjectionPolicy withConsecutiveFailures(int consecutiveFailures) {
    return toBuilder().consecutiveFailures(consecutiveFailures).build();
  }

  /**
   * Returns a copy with another failure-rate rule.
   *
   * @param failureRatePercent 1 to 100
   * @param windowSize attempts measured, 1 to {@value #MAX_WINDOW_SIZE}
   * @param minimumCalls attempts needed before judging, 1 to {@code windowSize}
   * @return the copy
   * @throws InvalidSettingException if out of range
   */
  public EjectionPolicy withFailureRate(int failureRatePercent, int windowSize, int minimumCalls) {
    return toBuilder()
        .failureRatePercent(failureRatePercent)
        .windowSize(windowSize)
        .minimumCalls(minimumCalls)
        .build();
  }

  /**
   * Returns a copy with another slow-call rule.
   *
   * @param slowCallDuration an attempt slower than this is slow, 1 ms to 24 h
   * @param slowCallRatePercent 1 to 100
   * @return the copy
   * @throws InvalidSettingException if out of range
   */
  public EjectionPolicy withSlowCalls(Duration slowCallDuration, int slowCallRatePercent) {
    return toBuilder()
        .slowCallDuration(slowCallDuration)
        .slowCallRatePercent(slowCallRatePercent)
        .build();
  }

  /**
   * Returns a copy with other ejection times.
   *
   * @param baseEjectionTime the first ejection's length, 1 ms to 24 h
   * @param maxEjectionTime the cap, 1 ms to 24 h
   * @return the copy
   * @throws InvalidSettingException if not positive, out of range, or the cap is below the base
   */
  public EjectionPolicy withEjectionTime(Duration baseEjectionTime, Duration maxEjectionTime) {
    return toBuilder().baseEjectionTime(baseEjectionTime).maxEjectionTime(maxEjectionTime).build();
  }

  /**
   * Returns a copy with another number of half-open probes.
   *
   * @param halfOpenProbes 1 to {@value #MAX_HALF_OPEN_PROBES}
   * @return the copy
   * @throws InvalidSettingException if out of range
   */
  public EjectionPolicy withHalfOpenProbes(int halfOpenProbes) {
    return toBuilder().halfOpenProbes(halfOpenProbes).build();
  }

  @Override
  public boolean equals(@Nullable Object o) {
    if (o == this) {
      return true;
    }
    return o instanceof EjectionPolicy e
        && consecutiveFailures == e.consecutiveFailures
        && failureRatePercent == e.failureRatePercent
        && slowCallDuration.equals(e.slowCallDuration)
        && slowCallRatePercent == e.slowCallRatePercent
        && windowSize == e.windowSize
        && minimumCalls == e.minimumCalls
        && baseEjectionTime.equals(e.baseEjectionTime)
        && maxEjectionTime.equals(e.maxEjectionTime)
        && halfOpenProbes == e.halfOpenProbes;
  }

  @Override
  public int hashCode() {
    return Objects.hash(
        consecutiveFailures,
        failureRatePercent,
        slowCallDuration,
        slowCallRatePercent,
        windowSize,
        minimumCalls,
        baseEjectionTime,
        maxEjectionTime,
        halfOpenProbes);
  }

  @Override
  public String toString() {
    return "EjectionPolicy[consecutiveFailures="
        + consecutiveFailures
        + ", failureRatePercent="
        + failureRatePercent
        + ", slowCallDuration="
        + slowCallDuration
        + ", slowCallRatePercent="
        + slowCallRatePercent
        + ", windowSize="
        + windowSize
        + ", minimumCalls="
        + minimumCalls
        + ", baseEjectionTime="
        + baseEjectionTime
        + ", maxEjectionTime="
        + maxEjectionTime
        + ", halfOpenProbes="
        + halfOpenProbes
        + "]";
  }

  /**
   * Builds an {@link EjectionPolicy}; starts from the defaults. Each setter checks its value at
   * once; {@link #build()} checks that {@code minimumCalls <= windowSize} and {@code
   * maxEjectionTime >= baseEjectionTime}.
   */
  public static final class Builder {
    private int consecutiveFailures = 5;
    private int failureRatePercent = 50;
    private Duration slowCallDuration = Duration.ofSeconds(2);
    private int slowCallRatePercent = 80;
    private int windowSize = 50;
    private int minimumCalls = 20;
    private Duration baseEjectionTime = Duration.ofSeconds(5);
    private Duration maxEjectionTime = Duration.ofSeconds(60);
    private int halfOpenProbes = 3;

    private Builder() {}

    private Builder(EjectionPolicy e) {
      consecutiveFailures = e.consecutiveFailures;
      failureRatePercent = e.failureRatePercent;
      slowCallDuration = e.slowCallDuration;
      slowCallRatePercent = e.slowCallRatePercent;
      windowSize = e.windowSize;
      minimumCalls = e.minimumCalls;
      baseEjectionTime = e.baseEjectionTime;
      maxEjectionTime = e.maxEjectionTime;
      halfOpenProbes = e.halfOpenProbes;
    }

    /**
     * Sets how many failures in a row eject an endpoint at once. Default 5.
     *
     * @param consecutiveFailures at least 1
     * @return this builder
     * @throws InvalidSettingException if below 1
     */
    public Builder consecutiveFailures(int consecutiveFailures) {
      this.consecutiveFailures = atLeastOne("consecutiveFailures", consecutiveFailures);
      return this;
    }

    /**
     * Sets the failure rate over the window that ejects an endpoint. Default 50.
     *
     * @param failureRatePercent 1 to 100
     * @return this builder
     * @throws InvalidSettingException if out of range
     */
    public Builder failureRatePercent(int failureRatePercent) {
      this.failureRatePercent = percent("failureRatePercent", failureRatePercent);
      return this;
    }

    /**
     * Sets the duration beyond which an attempt counts as slow. Default 2 s.
     *
     * @param slowCallDuration 1 ms to 24 h
     * @return this builder
     * @throws InvalidSettingException if not positive, or out of range
     */
    public Builder slowCallDuration(Duration slowCallDuration) {
      this.slowCallDuration = checkSlowCallDuration(slowCallDuration);
      return this;
    }

    /**
     * Sets the share of slow attempts over the window that ejects an endpoint. Default 80.
     *
     * @param slowCallRatePercent 1 to 100
     * @return this builder
     * @throws InvalidSettingException if out of range
     */
    public Builder slowCallRatePercent(int slowCallRatePercent) {
      this.slowCallRatePercent = percent("slowCallRatePercent", slowCallRatePercent);
      return this;
    }

    /**
     * Sets the attempts over which the rates are measured. Default 50.
     *
     * @param windowSize 1 to {@value #MAX_WINDOW_SIZE}, and at least {@code minimumCalls} when
     *     built
     * @return this builder
     * @throws InvalidSettingException if out of range
     */
    public Builder windowSize(int windowSize) {
      this.windowSize = checkWindowSize(windowSize);
      return this;
    }

    /**
     * Sets the attempts needed in the window before the rates are judged. Default 20.
     *
     * @param minimumCalls at least 1, and at most {@code windowSize} when built
     * @return this builder
     * @throws InvalidSettingException if below 1
     */
    public Builder minimumCalls(int minimumCalls) {
      this.minimumCalls = atLeastOne("minimumCalls", minimumCalls);
      return this;
    }

    /**
     * Sets the first ejection's length. Default 5 s.
     *
     * @param baseEjectionTime 1 ms to 24 h, and no longer than the longest ejection when built
     * @return this builder
     * @throws InvalidSettingException if not positive, or out of range
     */
    public Builder baseEjectionTime(Duration baseEjectionTime) {
      this.baseEjectionTime = checkBaseEjectionTime(baseEjectionTime);
      return this;
    }

    /**
     * Sets the longest ejection. Default 60 s.
     *
     * @param maxEjectionTime 1 ms to 24 h, and no shorter than the first ejection when built
     * @return this builder
     * @throws InvalidSettingException if not positive, or out of range
     */
    public Builder maxEjectionTime(Duration maxEjectionTime) {
      this.maxEjectionTime = checkMaxEjectionTime(maxEjectionTime);
      return this;
    }

    /**
     * Sets how many calls are let through after an ejection to test the endpoint. Default 3.
     *
     * @param halfOpenProbes 1 to {@value #MAX_HALF_OPEN_PROBES}
     * @return this builder
     * @throws InvalidSettingException if out of range
     */
    public Builder halfOpenProbes(int halfOpenProbes) {
      this.halfOpenProbes = checkHalfOpenProbes(halfOpenProbes);
      return this;
    }

    /**
     * Returns the policy.
     *
     * @return the policy
     * @throws InvalidSettingException ({@code ejection.minimumCalls}) if {@code minimumCalls >
     *     windowSize}, or ({@code ejection.maxEjectionTime}) if {@code maxEjectionTime <
     *     baseEjectionTime}
     */
    public EjectionPolicy build() {
      return new EjectionPolicy(this);
    }
  }

  // Durations: 1 ms to 24 h, as every duration of the SDK. The breaker counts ejections in whole
  // milliseconds (a shorter base would be 0 ms, never doubling) and the client in nanoseconds
  // (a longer one would overflow them, failing build() without naming the setting).

  private static Duration checkSlowCallDuration(Duration slowCallDuration) {
    HealthCheck.checkPositive(
        "ejection.slowCallDuration", "ejection slowCallDuration", slowCallDuration);
    return slowCallDuration;
  }

  private static Duration checkBaseEjectionTime(Duration baseEjectionTime) {
    HealthCheck.checkPositive("ejection.baseEjectionTime", "baseEjectionTime", baseEjectionTime);
    return baseEjectionTime;
  }

  private static Duration checkMaxEjectionTime(Duration maxEjectionTime) {
    HealthCheck.checkPositive("ejection.maxEjectionTime", "maxEjectionTime", maxEjectionTime);
    return maxEjectionTime;
  }

  private static int checkWindowSize(int windowSize) {
    return between("windowSize", windowSize, MAX_WINDOW_SIZE);
  }

  private static int checkHalfOpenProbes(int halfOpenProbes) {
    return between("halfOpenProbes", halfOpenProbes, MAX_HALF_OPEN_PROBES);
  }

  private static int between(String name, int value, int max) {
    if (value < 1 || value > max) {
      throw new InvalidSettingException(
          "ejection." + name,
          value,
          "ejection " + name + " must be between 1 and " + max + " but was " + value);
    }
    return value;
  }

  private static int atLeastOne(String name, int value) {
    if (value < 1) {
      throw new InvalidSettingException(
          "ejection." + name, value, "ejection " + name + " must be >= 1 but was " + value);
    }
    return value;
  }

  private static int percent(String name, int value) {
    if (value < 1 || value > 100) {
      throw new InvalidSettingException(
          "ejection." + name,
          value,
          "ejection " + name + " must be between 1 and 100 but was " + value);
    }
    return value;
  }
}
