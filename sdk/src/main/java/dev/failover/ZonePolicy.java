package dev.failover;

import java.time.Duration;

/**
 * Zones as failure domains: when a whole zone stops getting first attempts, and how it returns.
 *
 * <p>Every second the client judges each zone over the last {@code window}. A zone is evacuated
 * when more than {@code ejectedPercent} of its endpoints are ejected, down or held off, or when,
 * with at least {@code minSamples} attempts, its error rate or mean latency stands out against the
 * other zones: beyond the median plus {@code outlierK} times the median absolute deviation across
 * zones (errors are compared across every zone, latency only among zones of the same region, since
 * other regions are far by nature), and by at least 10 percentage points of errors, or to at least
 * twice the reference latency and 20 ms above it. With fewer than three zones carrying enough
 * traffic to compare (the usual case, since first attempts stay in the home zone), a zone is
 * compared with the pooled attempts of all the other zones instead (retries and hedges land there),
 * given at least 10 of them. So a gray zone, whose health checks still pass, is drained too. An
 * attempt overtaken by its hedge counts as a failure of its zone here. At most half of the zones
 * are evacuated as outliers at once.
 *
 * <p>An evacuated zone gets no first attempts. About once a second an idempotent call also sends a
 * probe there, next to its normal first attempt: the probe answers the call only with a success, is
 * not counted against {@code maxAttempts}, and runs to its end (bounded by its attempt timeout) so
 * that its real outcome tells whether the zone healed; the cost is one extra request a second per
 * evacuated zone. A zone returns when it has been clean for {@code hysteresis} (doubled on each
 * evacuation that follows within 5 minutes of a return, up to eight times, so a flapping zone does
 * not bounce traffic back and forth), then ramps its share of traffic up from 10% over {@code
 * slowStart}. Restored endpoints ramp the same way inside their zone.
 *
 * @param enabled whether zones are judged as a whole
 * @param ejectedPercent the share of ejected endpoints, 1 to 100, beyond which a zone is evacuated
 * @param outlierK how many median absolute deviations make an outlier
 * @param minSamples the attempts a zone needs in the window to be judged on its errors and latency
 * @param window the sliding window of the judgement
 * @param hysteresis how long an evacuated zone must stay clean before it returns
 * @param slowStart how long a returning zone or endpoint takes to reach its full share
 * @param maxEvacuatedPercent the most zones, in percent of all, that passive evidence alone may
 *     evacuate at once (1 to 100)
 */
public record ZonePolicy(
    boolean enabled,
    int ejectedPercent,
    double outlierK,
    int minSamples,
    Duration window,
    Duration hysteresis,
    Duration slowStart,
    int maxEvacuatedPercent) {

  private static final ZonePolicy DEFAULTS =
      new ZonePolicy(
          true,
          50,
          3.0,
          20,
          Duration.ofSeconds(10),
          Duration.ofSeconds(10),
          Duration.ofSeconds(10),
          50);

  /**
   * The policy with the default {@code maxEvacuatedPercent} of 50.
   *
   * @param enabled whether zones are judged as a whole
   * @param ejectedPercent the share of ejected endpoints beyond which a zone is evacuated
   * @param outlierK how many median absolute deviations make an outlier
   * @param minSamples the attempts a zone needs in the window to be judged
   * @param window the sliding window of the judgement
   * @param hysteresis how long an evacuated zone must stay clean before it returns
   * @param slowStart how long a returning zone or endpoint takes to reach its full share
   * @throws InvalidSettingException if a value is out of range
   */
  public ZonePolicy(
      boolean enabled,
      int ejectedPercent,
      double outlierK,
      int minSamples,
      Duration window,
      Duration hysteresis,
      Duration slowStart) {
    this(enabled, ejectedPercent, outlierK, minSamples, window, hysteresis, slowStart, 50);
  }

  /**
   * Checks every setting.
   *
   * @param enabled whether zones are judged as a whole
   * @param ejectedPercent the share of ejected endpoints beyond which a zone is evacuated
   * @param outlierK how many median absolute deviations make an outlier
   * @param minSamples the attempts a zone needs in the window to be judged
   * @param window the sliding window of the judgement
   * @param hysteresis how long an evacuated zone must stay clean before it returns
   * @param slowStart how long a returning zone or endpoint takes to reach its full share
   * @param maxEvacuatedPercent the most zones, in percent, passive evidence may evacuate at once
   * @throws InvalidSettingException if a value is out of range
   */
  public ZonePolicy {
    if (maxEvacuatedPercent < 1 || maxEvacuatedPercent > 100) {
      throw new InvalidSettingException(
          "zones.maxEvacuatedPercent",
          maxEvacuatedPercent,
          "zone maxEvacuatedPercent must be between 1 and 100 but was " + maxEvacuatedPercent);
    }
    if (ejectedPercent < 1 || ejectedPercent > 100) {
      throw new InvalidSettingException(
          "zones.ejectedPercent",
          ejectedPercent,
          "zone ejectedPercent must be between 1 and 100 but was " + ejectedPercent);
    }
    if (Double.isInfinite(outlierK)) {
      throw new InvalidSettingException(
          "zones.outlierK", outlierK, "zone outlierK must be finite but was " + outlierK);
    }
    if (!(outlierK > 0)) {
      throw new InvalidSettingException(
          "zones.outlierK", outlierK, "zone outlierK must be positive but was " + outlierK);
    }
    if (minSamples < 1) {
      throw new InvalidSettingException(
          "zones.minSamples", minSamples, "zone minSamples must be >= 1 but was " + minSamples);
    }
    HealthCheck.positive("zones.window", "zone window", window);
    if (window.compareTo(Duration.ofSeconds(2)) < 0) {
      throw new InvalidSettingException(
          "zones.window", window, "zone window must be at least 2 s but was " + window);
    }
    HealthCheck.positive("zones.hysteresis", "zone hysteresis", hysteresis);
    java.util.Objects.requireNonNull(slowStart, "slowStart");
    if (slowStart.isNegative()) {
      throw new InvalidSettingException(
          "zones.slowStart", slowStart, "zone slowStart must not be negative but was " + slowStart);
    }
  }

  /**
   * Returns the defaults: evacuate beyond 50% ejected or 3 MADs (with 20 samples in 10 s); return
   * after 10 s clean, ramping over 10 s.
   *
   * @return the default policy
   */
  public static ZonePolicy defaults() {
    return DEFAULTS;
  }

  /**
   * Returns the policy that never evacuates a zone as a whole (endpoints are still ejected).
   *
   * @return zone judgement off
   */
  public static ZonePolicy disabled() {
    return new ZonePolicy(
        false,
        DEFAULTS.ejectedPercent,
        DEFAULTS.outlierK,
        DEFAULTS.minSamples,
        DEFAULTS.window,
        DEFAULTS.hysteresis,
        DEFAULTS.slowStart,
        DEFAULTS.maxEvacuatedPercent);
  }

  /**
   * Returns a copy with other return settings.
   *
   * @param hysteresis how long an evacuated zone must stay clean
   * @param slowStart how long a returning zone takes to reach its full share; zero for at once
   * @return the copy
   * @throws InvalidSettingException if out of range
   */
  public ZonePolicy withReturn(Duration hysteresis, Duration slowStart) {
    return new ZonePolicy(
        enabled,
        ejectedPercent,
        outlierK,
        minSamples,
        window,
        hysteresis,
        slowStart,
        maxEvacuatedPercent);
  }

  /**
   * Returns a copy with other outlier settings.
   *
   * @param outlierK median absolute deviations that make an outlier
   * @param minSamples attempts a zone needs in the window
   * @param window the sliding window
   * @return the copy
   * @throws InvalidSettingException if out of range
   */
  public ZonePolicy withOutliers(double outlierK, int minSamples, Duration window) {
    return new ZonePolicy(
        enabled,
        ejectedPercent,
        outlierK,
        minSamples,
        window,
        hysteresis,
        slowStart,
        maxEvacuatedPercent);
  }

  /**
   * Returns a copy with another ejected-endpoint share.
   *
   * @param ejectedPercent 1 to 100
   * @return the copy
   * @throws InvalidSettingException if out of range
   */
  public ZonePolicy withEjectedPercent(int ejectedPercent) {
    return new ZonePolicy(
        enabled,
        ejectedPercent,
        outlierK,
        minSamples,
        window,
        hysteresis,
        slowStart,
        maxEvacuatedPercent);
  }

  /**
   * Returns a copy with another cap on evacuations by passive evidence alone.
   *
   * @param maxEvacuatedPercent 1 to 100: the most zones, in percent of all, that latency, error
   *     rates and breaker ejections may evacuate at once; zones whose outage is corroborated by
   *     refused connections or failing health checks are not counted against it
   * @return the copy
   * @throws InvalidSettingException if out of range
   */
  public ZonePolicy withMaxEvacuatedPercent(int maxEvacuatedPercent) {
    return new ZonePolicy(
        enabled,
        ejectedPercent,
        outlierK,
        minSamples,
        window,
        hysteresis,
        slowStart,
        maxEvacuatedPercent);
  }
}
