package dev.failover;

import java.time.Duration;

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
 * @param consecutiveFailures failures in a row that eject an endpoint at once
 * @param failureRatePercent failure rate, 1 to 100, that ejects an endpoint
 * @param slowCallDuration an attempt slower than this counts as slow
 * @param slowCallRatePercent share of slow attempts, 1 to 100, that ejects an endpoint
 * @param windowSize attempts over which the rates are measured
 * @param minimumCalls attempts needed in the window before the rates are judged
 * @param baseEjectionTime the first ejection's length
 * @param maxEjectionTime the longest ejection
 * @param halfOpenProbes calls let through after an ejection to test the endpoint
 */
public record EjectionPolicy(
    int consecutiveFailures,
    int failureRatePercent,
    Duration slowCallDuration,
    int slowCallRatePercent,
    int windowSize,
    int minimumCalls,
    Duration baseEjectionTime,
    Duration maxEjectionTime,
    int halfOpenProbes) {

  private static final EjectionPolicy DEFAULTS =
      new EjectionPolicy(
          5,
          50,
          Duration.ofSeconds(2),
          80,
          50,
          20,
          Duration.ofSeconds(5),
          Duration.ofSeconds(60),
          3);

  /**
   * Checks every setting.
   *
   * @param consecutiveFailures failures in a row that eject an endpoint at once
   * @param failureRatePercent failure rate, 1 to 100, that ejects an endpoint
   * @param slowCallDuration an attempt slower than this counts as slow
   * @param slowCallRatePercent share of slow attempts, 1 to 100, that ejects an endpoint
   * @param windowSize attempts over which the rates are measured
   * @param minimumCalls attempts needed in the window before the rates are judged
   * @param baseEjectionTime the first ejection's length
   * @param maxEjectionTime the longest ejection
   * @param halfOpenProbes calls let through after an ejection to test the endpoint
   * @throws InvalidSettingException if a count is below 1, a percentage is outside 1 to 100, a
   *     duration is not positive, {@code minimumCalls > windowSize} or {@code maxEjectionTime <
   *     baseEjectionTime}
   */
  public EjectionPolicy {
    atLeastOne("consecutiveFailures", consecutiveFailures);
    percent("failureRatePercent", failureRatePercent);
    HealthCheck.positive(
        "ejection.slowCallDuration", "ejection slowCallDuration", slowCallDuration);
    percent("slowCallRatePercent", slowCallRatePercent);
    atLeastOne("windowSize", windowSize);
    atLeastOne("minimumCalls", minimumCalls);
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
    HealthCheck.positive("ejection.baseEjectionTime", "baseEjectionTime", baseEjectionTime);
    HealthCheck.positive("ejection.maxEjectionTime", "maxEjectionTime", maxEjectionTime);
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
    atLeastOne("halfOpenProbes", halfOpenProbes);
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
   * Returns a copy with another number of failures in a row that eject.
   *
   * @param consecutiveFailures at least 1
   * @return the copy
   * @throws InvalidSettingException if below 1
   */
  public EjectionPolicy withConsecutiveFailures(int consecutiveFailures) {
    return new EjectionPolicy(
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

  /**
   * Returns a copy with another failure-rate rule.
   *
   * @param failureRatePercent 1 to 100
   * @param windowSize attempts measured
   * @param minimumCalls attempts needed before judging
   * @return the copy
   * @throws InvalidSettingException if out of range
   */
  public EjectionPolicy withFailureRate(int failureRatePercent, int windowSize, int minimumCalls) {
    return new EjectionPolicy(
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

  /**
   * Returns a copy with another slow-call rule.
   *
   * @param slowCallDuration an attempt slower than this is slow
   * @param slowCallRatePercent 1 to 100
   * @return the copy
   * @throws InvalidSettingException if out of range
   */
  public EjectionPolicy withSlowCalls(Duration slowCallDuration, int slowCallRatePercent) {
    return new EjectionPolicy(
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

  /**
   * Returns a copy with other ejection times.
   *
   * @param baseEjectionTime the first ejection's length
   * @param maxEjectionTime the cap
   * @return the copy
   * @throws InvalidSettingException if not positive, or the cap is below the base
   */
  public EjectionPolicy withEjectionTime(Duration baseEjectionTime, Duration maxEjectionTime) {
    return new EjectionPolicy(
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

  /**
   * Returns a copy with another number of half-open probes.
   *
   * @param halfOpenProbes at least 1
   * @return the copy
   * @throws InvalidSettingException if below 1
   */
  public EjectionPolicy withHalfOpenProbes(int halfOpenProbes) {
    return new EjectionPolicy(
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

  private static void atLeastOne(String name, int value) {
    if (value < 1) {
      throw new InvalidSettingException(
          "ejection." + name, value, "ejection " + name + " must be >= 1 but was " + value);
    }
  }

  private static void percent(String name, int value) {
    if (value < 1 || value > 100) {
      throw new InvalidSettingException(
          "ejection." + name,
          value,
          "ejection " + name + " must be between 1 and 100 but was " + value);
    }
  }
}
