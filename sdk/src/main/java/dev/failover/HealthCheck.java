package dev.failover;

import java.time.Duration;
import java.util.Objects;

/**
 * Active health checking: a jittered HTTP GET to every endpoint, on a schedule.
 *
 * <p>An endpoint is marked down after {@code unhealthyThreshold} failed probes in a row (a probe
 * fails on a connect failure, a timeout or a status outside 200-399) and up again after {@code
 * healthyThreshold} good ones. While an endpoint is down it is probed every {@code downInterval}
 * instead of every {@code interval}, so its return is seen quickly. Each delay is jittered by plus
 * or minus 20% so that many clients do not probe in step.
 *
 * <p>A client that has started no call for {@code noTrafficInterval} (60 s by default, Envoy's
 * {@code no_traffic_interval}) probes each endpoint only once per {@code noTrafficInterval},
 * whatever its state, until calls come again: an idle client, such as one in a cached Spring test
 * context, then costs its endpoints one probe a minute instead of one every 2 s. It still checks
 * for calls at the usual interval, so the first call after a lull brings the usual rate back within
 * one {@code interval} (or {@code downInterval}). A new client counts as busy for its first {@code
 * noTrafficInterval}, so that it learns its endpoints' state at the usual rate.
 *
 * <pre>{@code
 * HealthCheck check = HealthCheck.http("/health").withInterval(Duration.ofSeconds(2));
 * }</pre>
 *
 * @param enabled whether probes are sent at all
 * @param path the path probed, appended to each endpoint's base URL
 * @param interval the delay between probes of an endpoint that is up
 * @param downInterval the delay between probes of an endpoint that is down
 * @param timeout the time a probe may take
 * @param healthyThreshold good probes in a row that mark a down endpoint up
 * @param unhealthyThreshold failed probes in a row that mark an up endpoint down
 * @param noTrafficInterval the delay between probes of an endpoint while the client has started no
 *     call for that long
 */
public record HealthCheck(
    boolean enabled,
    String path,
    Duration interval,
    Duration downInterval,
    Duration timeout,
    int healthyThreshold,
    int unhealthyThreshold,
    Duration noTrafficInterval) {

  /**
   * The longest duration any setting of the SDK accepts: 24 h. Longer values would only hide a unit
   * mistake, and would overflow nanosecond arithmetic at some point. (This and the next constant
   * come before {@code DISABLED}, whose construction checks against them.)
   */
  static final Duration MAX_DURATION = Duration.ofHours(24);

  /** The shortest positive duration a setting accepts: 1 ms. */
  static final Duration MIN_POSITIVE_DURATION = Duration.ofMillis(1);

  /** Envoy's default {@code no_traffic_interval}. */
  private static final Duration DEFAULT_NO_TRAFFIC_INTERVAL = Duration.ofSeconds(60);

  private static final HealthCheck DISABLED =
      new HealthCheck(
          false,
          "/health",
          Duration.ofSeconds(2),
          Duration.ofMillis(500),
          Duration.ofSeconds(1),
          2,
          2,
          DEFAULT_NO_TRAFFIC_INTERVAL);

  /**
   * Checks every setting.
   *
   * @param enabled whether probes are sent at all
   * @param path the path probed, appended to each endpoint's base URL
   * @param interval the delay between probes of an endpoint that is up
   * @param downInterval the delay between probes of an endpoint that is down
   * @param timeout the time a probe may take
   * @param healthyThreshold good probes in a row that mark a down endpoint up
   * @param unhealthyThreshold failed probes in a row that mark an up endpoint down
   * @param noTrafficInterval the delay between probes of an endpoint while the client has started
   *     no call for that long
   * @throws InvalidSettingException if the path does not start with {@code /}, a duration is
   *     outside 1 ms to 24 h, or a threshold is below 1
   */
  public HealthCheck {
    Objects.requireNonNull(path, "path");
    if (!path.startsWith("/")) {
      throw new InvalidSettingException(
          "healthCheck.path", path, "health check path must start with '/' but was '" + path + "'");
    }
    checkPositive("healthCheck.interval", "health check interval", interval);
    checkPositive("healthCheck.downInterval", "health check downInterval", downInterval);
    checkPositive("healthCheck.timeout", "health check timeout", timeout);
    checkPositive(
        "healthCheck.noTrafficInterval", "health check noTrafficInterval", noTrafficInterval);
    if (healthyThreshold < 1) {
      throw new InvalidSettingException(
          "healthCheck.healthyThreshold",
          healthyThreshold,
          "health check healthyThreshold must be >= 1 but was " + healthyThreshold);
    }
    if (unhealthyThreshold < 1) {
      throw new InvalidSettingException(
          "healthCheck.unhealthyThreshold",
          unhealthyThreshold,
          "health check unhealthyThreshold must be >= 1 but was " + unhealthyThreshold);
    }
  }

  /**
   * Checks every setting; {@code noTrafficInterval} is the default, 60 s. This was the record's
   * constructor before {@code noTrafficInterval} came; it stays so that code built against it runs.
   *
   * @param enabled whether probes are sent at all
   * @param path the path probed, appended to each endpoint's base URL
   * @param interval the delay between probes of an endpoint that is up
   * @param downInterval the delay between probes of an endpoint that is down
   * @param timeout the time a probe may take
   * @param healthyThreshold good probes in a row that mark a down endpoint up
   * @param unhealthyThreshold failed probes in a row that mark an up endpoint down
   * @throws InvalidSettingException if the path does not start with {@code /}, a duration is
   *     outside 1 ms to 24 h, or a threshold is below 1
   */
  public HealthCheck(
      boolean enabled,
      String path,
      Duration interval,
      Duration downInterval,
      Duration timeout,
      int healthyThreshold,
      int unhealthyThreshold) {
    this(
        enabled,
        path,
        interval,
        downInterval,
        timeout,
        healthyThreshold,
        unhealthyThreshold,
        DEFAULT_NO_TRAFFIC_INTERVAL);
  }

  /**
   * Returns the setting that sends no probes: health then comes from real traffic alone.
   *
   * @return the disabled health check; this is the client's default
   */
  public static HealthCheck disabled() {
    return DISABLED;
  }

  /**
   * Returns a health check of {@code path} with the defaults: every 2 s, every 500 ms while down, 1
   * s timeout, 2 good probes to mark up, 2 failed probes to mark down, and every 60 s while the
   * client has started no call for 60 s.
   *
   * @param path the path to probe, starting with {@code /}
   * @return the health check
   * @throws InvalidSettingException if the path does not start with {@code /}
   */
  public static HealthCheck http(String path) {
    return new HealthCheck(
        true,
        path,
        DISABLED.interval,
        DISABLED.downInterval,
        DISABLED.timeout,
        DISABLED.healthyThreshold,
        DISABLED.unhealthyThreshold,
        DISABLED.noTrafficInterval);
  }

  /**
   * Returns a copy with another interval between probes of an endpoint that is up.
   *
   * @param interval the interval
   * @return the copy
   * @throws InvalidSettingException if outside 1 ms to 24 h
   */
  public HealthCheck withInterval(Duration interval) {
    return new HealthCheck(
        enabled,
        path,
        interval,
        downInterval,
        timeout,
        healthyThreshold,
        unhealthyThreshold,
        noTrafficInterval);
  }

  /**
   * Returns a copy with another interval between probes of an endpoint that is down.
   *
   * @param downInterval the interval
   * @return the copy
   * @throws InvalidSettingException if outside 1 ms to 24 h
   */
  public HealthCheck withDownInterval(Duration downInterval) {
    return new HealthCheck(
        enabled,
        path,
        interval,
        downInterval,
        timeout,
        healthyThreshold,
        unhealthyThreshold,
        noTrafficInterval);
  }

  /**
   * Returns a copy with another probe timeout.
   *
   * @param timeout the timeout
   * @return the copy
   * @throws InvalidSettingException if outside 1 ms to 24 h
   */
  public HealthCheck withTimeout(Duration timeout) {
    return new HealthCheck(
        enabled,
        path,
        interval,
        downInterval,
        timeout,
        healthyThreshold,
        unhealthyThreshold,
        noTrafficInterval);
  }

  /**
   * Returns a copy with other thresholds.
   *
   * @param healthyThreshold good probes in a row that mark a down endpoint up
   * @param unhealthyThreshold failed probes in a row that mark an up endpoint down
   * @return the copy
   * @throws InvalidSettingException if a threshold is below 1
   */
  public HealthCheck withThresholds(int healthyThreshold, int unhealthyThreshold) {
    return new HealthCheck(
        enabled,
        path,
        interval,
        downInterval,
        timeout,
        healthyThreshold,
        unhealthyThreshold,
        noTrafficInterval);
  }

  /**
   * Returns a copy with another interval for clients without traffic: once the client has started
   * no call for this long, each endpoint is probed once per this interval, whatever its state,
   * until calls come again. Envoy's {@code no_traffic_interval}, with the same default of 60 s. An
   * interval no longer than {@code interval} changes nothing; 24 h keeps probing at the usual rate
   * for a day without calls.
   *
   * <pre>{@code
   * HealthCheck check = HealthCheck.http("/health").withNoTrafficInterval(Duration.ofMinutes(5));
   * }</pre>
   *
   * @param noTrafficInterval the interval
   * @return the copy
   * @throws InvalidSettingException if outside 1 ms to 24 h
   */
  public HealthCheck withNoTrafficInterval(Duration noTrafficInterval) {
    return new HealthCheck(
        enabled,
        path,
        interval,
        downInterval,
        timeout,
        healthyThreshold,
        unhealthyThreshold,
        noTrafficInterval);
  }

  /** Checks that {@code d} is positive; {@code setting} names it in the exception. */
  static void positive(String setting, String name, Duration d) {
    Objects.requireNonNull(d, name);
    if (d.isNegative() || d.isZero()) {
      throw new InvalidSettingException(setting, d, name + " must be positive but was " + d);
    }
  }

  /** Checks that {@code d} is positive and between 1 ms and 24 h. */
  static void checkPositive(String setting, String name, Duration d) {
    positive(setting, name, d);
    checkRange(setting, name, d, MIN_POSITIVE_DURATION, MAX_DURATION);
  }

  /** Checks that {@code d} is zero or positive, and at most 24 h. */
  static void checkNotNegative(String setting, String name, Duration d) {
    Objects.requireNonNull(d, name);
    if (d.isNegative()) {
      throw new InvalidSettingException(setting, d, name + " must not be negative but was " + d);
    }
    checkRange(setting, name, d, Duration.ZERO, MAX_DURATION);
  }

  /** Checks that {@code d} is between {@code min} and {@code max}, both included. */
  static void checkRange(String setting, String name, Duration d, Duration min, Duration max) {
    Objects.requireNonNull(d, name);
    if (d.compareTo(min) < 0 || d.compareTo(max) > 0) {
      throw new InvalidSettingException(
          setting,
          d,
          name + " must be between " + human(min) + " and " + human(max) + " but was " + d);
    }
  }

  /**
   * A bound (whole milliseconds) in words: {@code 0 s}, {@code 1 ms}, {@code 5 min}, {@code 24 h}.
   */
  static String human(Duration bound) {
    long ms = bound.toMillis();
    if (ms == 0) {
      return "0 s";
    } else if (ms % 3_600_000 == 0) {
      return ms / 3_600_000 + " h";
    } else if (ms % 60_000 == 0) {
      return ms / 60_000 + " min";
    } else if (ms % 1000 == 0) {
      return ms / 1000 + " s";
    }
    return ms + " ms";
  }
}
