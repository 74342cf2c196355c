package dev.failover;

import java.time.Duration;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

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
 * <p>Immutable. {@link #http(String)} and {@link #builder()} start from the defaults; {@link
 * #toBuilder()} and the {@code with...} methods copy a health check with changes; {@link #off()}
 * (the client's default) sends no probes:
 *
 * <pre>{@code
 * HealthCheck check = HealthCheck.http("/health").withInterval(Duration.ofSeconds(2));
 * HealthCheck same = HealthCheck.builder().path("/health").interval(Duration.ofSeconds(2)).build();
 * }</pre>
 *
 * <p>{@link #off()} has no settings to change: its {@link #toBuilder()} and {@code with...} methods
 * throw {@link IllegalStateException} instead of quietly turning probes on (start from {@link
 * #http(String)} or {@link #builder()}). Its accessors return the defaults, which it does not use.
 */
public final class HealthCheck {

  /**
   * The longest duration any setting of the SDK accepts: 24 h. Longer values would only hide a unit
   * mistake, and would overflow nanosecond arithmetic at some point. (This and the next constant
   * come before {@code OFF}, whose construction checks against them.)
   */
  static final Duration MAX_DURATION = Duration.ofHours(24);

  /** The shortest positive duration a setting accepts: 1 ms. */
  static final Duration MIN_POSITIVE_DURATION = Duration.ofMillis(1);

  private static final String DEFAULT_PATH = "/health";
  private static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(2);
  private static final Duration DEFAULT_DOWN_INTERVAL = Duration.ofMillis(500);
  private static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(1);
  private static final int DEFAULT_THRESHOLD = 2;

  /** Envoy's default {@code no_traffic_interval}. */
  private static final Duration DEFAULT_NO_TRAFFIC_INTERVAL = Duration.ofSeconds(60);

  private static final HealthCheck OFF = new HealthCheck(false, new Builder());

  private final boolean enabled;
  private final String path;
  private final Duration interval;
  private final Duration downInterval;
  private final Duration timeout;
  private final int healthyThreshold;
  private final int unhealthyThreshold;
  private final Duration noTrafficInterval;

  private HealthCheck(boolean enabled, Builder b) {
    this.enabled = enabled;
    this.path = checkPath(b.path);
    this.interval = checkInterval(b.interval);
    this.downInterval = checkDownInterval(b.downInterval);
    this.timeout = checkTimeout(b.timeout);
    this.noTrafficInterval = checkNoTrafficInterval(b.noTrafficInterval);
    this.healthyThreshold = checkHealthyThreshold(b.healthyThreshold);
    this.unhealthyThreshold = checkUnhealthyThreshold(b.unhealthyThreshold);
  }

  /**
   * Returns the setting that sends no probes: health then comes from real traffic alone. The
   * client's default. Always the same instance; it is the only health check whose {@link
   * #enabled()} is false.
   *
   * @return no active health checks
   */
  public static HealthCheck off() {
    return OFF;
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
    return builder().path(path).build();
  }

  /**
   * Returns a builder holding the defaults of {@link #http(String)} and the path {@code /health}.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Returns a builder holding this health check's settings.
   *
   * @return a new builder
   * @throws IllegalStateException on {@link #off()}, which has no settings to change
   */
  public Builder toBuilder() {
    if (!enabled) {
      throw new IllegalStateException(
          "HealthCheck.off() has no settings to change; start from HealthCheck.http(path) or"
              + " HealthCheck.builder() to turn health checks on");
    }
    return new Builder(this);
  }

  /**
   * Whether probes are sent at all.
   *
   * @return false only for {@link #off()}
   */
  public boolean enabled() {
    return enabled;
  }

  /**
   * Returns the path probed, appended to each endpoint's base URL.
   *
   * @return the path, starting with {@code /}
   */
  public String path() {
    return path;
  }

  /**
   * Returns the delay between probes of an endpoint that is up.
   *
   * @return 1 ms to 24 h
   */
  public Duration interval() {
    return interval;
  }

  /**
   * Returns the delay between probes of an endpoint that is down.
   *
   * @return 1 ms to 24 h
   */
  public Duration downInterval() {
    return downInterval;
  }

  /**
   * Returns the time a probe may take.
   *
   * @return 1 ms to 24 h
   */
  public Duration timeout() {
    return timeout;
  }

  /**
   * Returns how many good probes in a row mark a down endpoint up.
   *
   * @return at least 1
   */
  public int healthyThreshold() {
    return healthyThreshold;
  }

  /**
   * Returns how many failed probes in a row mark an up endpoint down.
   *
   * @return at least 1
   */
  public int unhealthyThreshold() {
    return unhealthyThreshold;
  }

  /**
   * Returns the delay between probes of an endpoint while the client has started no call for that
   * long.
   *
   * @return 1 ms to 24 h
   */
  public Duration noTrafficInterval() {
    return noTrafficInterval;
  }

  /**
   * Returns a copy with another interval between probes of an endpoint that is up.
   *
   * @param interval the interval
   * @return the copy
   * @throws InvalidSettingException if outside 1 ms to 24 h
   * @throws IllegalStateException on {@link #off()}
   */
  public HealthCheck withInterval(Duration interval) {
    return toBuilder().interval(interval).build();
  }

  /**
   * Returns a copy with another interval between probes of an endpoint that is down.
   *
   * @param downInterval the interval
   * @return the copy
   * @throws InvalidSettingException if outside 1 ms to 24 h
   * @throws IllegalStateException on {@link #off()}
   */
  public HealthCheck withDownInterval(Duration downInterval) {
    return toBuilder().downInterval(downInterval).build();
  }

  /**
   * Returns a copy with another probe timeout.
   *
   * @param timeout the timeout
   * @return the copy
   * @throws InvalidSettingException if outside 1 ms to 24 h
   * @throws IllegalStateException on {@link #off()}
   */
  public HealthCheck withTimeout(Duration timeout) {
    return toBuilder().timeout(timeout).build();
  }

  /**
   * Returns a copy with other thresholds.
   *
   * @param healthyThreshold good probes in a row that mark a down endpoint up
   * @param unhealthyThreshold failed probes in a row that mark an up endpoint down
   * @return the copy
   * @throws InvalidSettingException if a threshold is below 1
   * @throws IllegalStateException on {@link #off()}
   */
  public HealthCheck withThresholds(int healthyThreshold, int unhealthyThreshold) {
    return toBuilder()
        .healthyThreshold(healthyThreshold)
        .unhealthyThreshold(unhealthyThreshold)
        .build();
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
   * @throws IllegalStateException on {@link #off()}
   */
  public HealthCheck withNoTrafficInterval(Duration noTrafficInterval) {
    return toBuilder().noTrafficInterval(noTrafficInterval).build();
  }

  @Override
  public boolean equals(@Nullable Object o) {
    if (o == this) {
      return true;
    }
    return o instanceof HealthCheck h
        && enabled == h.enabled
        && path.equals(h.path)
        && interval.equals(h.interval)
        && downInterval.equals(h.downInterval)
        && timeout.equals(h.timeout)
        && healthyThreshold == h.healthyThreshold
        && unhealthyThreshold == h.unhealthyThreshold
        && noTrafficInterval.equals(h.noTrafficInterval);
  }

  @Override
  public int hashCode() {
    return Objects.hash(
        enabled,
        path,
        interval,
        downInterval,
        timeout,
        healthyThreshold,
        unhealthyThreshold,
        noTrafficInterval);
  }

  /** The settings; the path without its query, which might carry a token. */
  @Override
  public String toString() {
    if (!enabled) {
      return "HealthCheck.off()";
    }
    return "HealthCheck[path="
        + maskQuery(path)
        + ", interval="
        + interval
        + ", downInterval="
        + downInterval
        + ", timeout="
        + timeout
        + ", healthyThreshold="
        + healthyThreshold
        + ", unhealthyThreshold="
        + unhealthyThreshold
        + ", noTrafficInterval="
        + noTrafficInterval
        + "]";
  }

  /**
   * Builds a {@link HealthCheck}; starts from the defaults of {@link HealthCheck#http(String)} with
   * the path {@code /health}. Each setter checks its value at once.
   */
  public static final class Builder {
    private String path = DEFAULT_PATH;
    private Duration interval = DEFAULT_INTERVAL;
    private Duration downInterval = DEFAULT_DOWN_INTERVAL;
    private Duration timeout = DEFAULT_TIMEOUT;
    private int healthyThreshold = DEFAULT_THRESHOLD;
    private int unhealthyThreshold = DEFAULT_THRESHOLD;
    private Duration noTrafficInterval = DEFAULT_NO_TRAFFIC_INTERVAL;

    private Builder() {}

    private Builder(HealthCheck h) {
      path = h.path;
      interval = h.interval;
      downInterval = h.downInterval;
      timeout = h.timeout;
      healthyThreshold = h.healthyThreshold;
      unhealthyThreshold = h.unhealthyThreshold;
      noTrafficInterval = h.noTrafficInterval;
    }

    /**
     * Sets the path probed, appended to each endpoint's base URL. Default {@code /health}.
     *
     * @param path starting with {@code /}
     * @return this builder
     * @throws InvalidSettingException if the path does not start with {@code /}
     */
    public Builder path(String path) {
      this.path = checkPath(path);
      return this;
    }

    /**
     * Sets the delay between probes of an endpoint that is up. Default 2 s.
     *
     * @param interval 1 ms to 24 h
     * @return this builder
     * @throws InvalidSettingException if out of range
     */
    public Builder interval(Duration interval) {
      this.interval = checkInterval(interval);
      return this;
    }

    /**
     * Sets the delay between probes of an endpoint that is down. Default 500 ms.
     *
     * @param downInterval 1 ms to 24 h
     * @return this builder
     * @throws InvalidSettingException if out of range
     */
    public Builder downInterval(Duration downInterval) {
      this.downInterval = checkDownInterval(downInterval);
      return this;
    }

    /**
     * Sets the time a probe may take. Default 1 s.
     *
     * @param timeout 1 ms to 24 h
     * @return this builder
     * @throws InvalidSettingException if out of range
     */
    public Builder timeout(Duration timeout) {
      this.timeout = checkTimeout(timeout);
      return this;
    }

    /**
     * Sets how many good probes in a row mark a down endpoint up. Default 2.
     *
     * @param healthyThreshold at least 1
     * @return this builder
     * @throws InvalidSettingException if below 1
     */
    public Builder healthyThreshold(int healthyThreshold) {
      this.healthyThreshold = checkHealthyThreshold(healthyThreshold);
      return this;
    }

    /**
     * Sets how many failed probes in a row mark an up endpoint down. Default 2.
     *
     * @param unhealthyThreshold at least 1
     * @return this builder
     * @throws InvalidSettingException if below 1
     */
    public Builder unhealthyThreshold(int unhealthyThreshold) {
      this.unhealthyThreshold = checkUnhealthyThreshold(unhealthyThreshold);
      return this;
    }

    /**
     * Sets the delay between probes while the client has started no call for that long; see {@link
     * HealthCheck#withNoTrafficInterval(Duration)}. Default 60 s.
     *
     * @param noTrafficInterval 1 ms to 24 h
     * @return this builder
     * @throws InvalidSettingException if out of range
     */
    public Builder noTrafficInterval(Duration noTrafficInterval) {
      this.noTrafficInterval = checkNoTrafficInterval(noTrafficInterval);
      return this;
    }

    /**
     * Returns the health check; probes are on.
     *
     * @return the health check
     */
    public HealthCheck build() {
      return new HealthCheck(true, this);
    }
  }

  private static String checkPath(String path) {
    Objects.requireNonNull(path, "path");
    if (!path.startsWith("/")) {
      String shown = maskQuery(path);
      throw new InvalidSettingException(
          "healthCheck.path",
          shown,
          "health check path must start with '/' but was '" + shown + "'");
    }
    if (path.indexOf('#') >= 0) {
      String shown = maskQuery(path);
      throw new InvalidSettingException(
          "healthCheck.path",
          shown,
          "health check path must not have a fragment ('#') but was '" + shown + "'");
    }
    for (int i = 0; i < path.length(); i++) {
      char c = path.charAt(i);
      // OkHttp would send a space as %20 (a path the server does not have: every probe fails and
      // every endpoint goes down) and drop tabs and line breaks. A value from a properties file
      // keeps the spaces around it.
      if (Character.isWhitespace(c) || Character.isISOControl(c) || Character.isSpaceChar(c)) {
        String shown = maskQuery(path);
        throw new InvalidSettingException(
            "healthCheck.path",
            shown,
            String.format(
                "health check path must not have white space or control characters (write a"
                    + " space as %%20) but was '%s' (U+%04X at index %d)",
                shown, (int) c, i));
      }
    }
    int query = path.indexOf('?');
    for (String segment : (query < 0 ? path : path.substring(0, query)).split("/", -1)) {
      String s = segment.toLowerCase(java.util.Locale.ROOT).replace("%2e", ".");
      if (s.equals(".") || s.equals("..")) {
        String shown = maskQuery(path);
        throw new InvalidSettingException(
            "healthCheck.path",
            shown,
            "health check path must not have '.' or '..' segments (they would leave the"
                + " endpoint's base path) but was '"
                + shown
                + "'");
      }
    }
    return path;
  }

  /** The path with its query's values hidden: a query may carry a token. */
  private static String maskQuery(String path) {
    int query = path.indexOf('?');
    return query < 0 ? path : path.substring(0, query) + "?***";
  }

  private static Duration checkInterval(Duration interval) {
    checkPositive("healthCheck.interval", "health check interval", interval);
    return interval;
  }

  private static Duration checkDownInterval(Duration downInterval) {
    checkPositive("healthCheck.downInterval", "health check downInterval", downInterval);
    return downInterval;
  }

  private static Duration checkTimeout(Duration timeout) {
    checkPositive("healthCheck.timeout", "health check timeout", timeout);
    return timeout;
  }

  private static Duration checkNoTrafficInterval(Duration noTrafficInterval) {
    checkPositive(
        "healthCheck.noTrafficInterval", "health check noTrafficInterval", noTrafficInterval);
    return noTrafficInterval;
  }

  private static int checkHealthyThreshold(int healthyThreshold) {
    return threshold("healthyThreshold", healthyThreshold);
  }

  private static int checkUnhealthyThreshold(int unhealthyThreshold) {
    return threshold("unhealthyThreshold", unhealthyThreshold);
  }

  private static int threshold(String name, int value) {
    if (value < 1) {
      throw new InvalidSettingException(
          "healthCheck." + name, value, "health check " + name + " must be >= 1 but was " + value);
    }
    return value;
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
