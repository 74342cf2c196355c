package dev.failover.spring.boot.autoconfigure;

import dev.failover.EjectionPolicy;
import dev.failover.InvalidSettingException;
import java.time.Duration;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.springframework.util.unit.DataSize;

/**
 * Where each SDK setting comes from among the {@code failover.*} properties, and how a rejected
 * value is explained. The SDK judges every value and names the setting in its {@link
 * InvalidSettingException}; this table turns that name into the property (the key under {@code
 * failover.defaults}, {@code failover.configs.<name>} or {@code failover.clients.<name>}) and the
 * reason and advice the failure analyzer shows, in Boot's words where the starter has them ("must
 * be a positive duration but was PT-2S") and in the SDK's message otherwise.
 */
final class SettingKeys {

  /** How a setting's rejection is worded. */
  enum Kind {
    /** A duration the SDK wants positive (and in a range). */
    POSITIVE_DURATION,
    /** A duration the SDK wants zero or positive (and in a range). */
    NON_NEGATIVE_DURATION,
    /** A count of at least 1. */
    AT_LEAST_ONE,
    /** A whole percentage from 1 to 100. */
    PERCENT,
    /** A whole percentage from 0 to 100. */
    PERCENT_OR_ZERO,
    /** Anything else: the SDK's message. */
    OTHER
  }

  /**
   * A property key relative to its layer ({@code retry.max-attempts}), how its errors read, and the
   * advice when the kind has none or the value fails another rule.
   */
  record Key(String suffix, Kind kind, String action) {}

  private static final String POSITIVE = "use a positive duration such as 500ms or 2s";
  private static final String NOT_NEGATIVE = "use zero or a positive duration such as 25ms";

  private static final Map<String, Key> BY_SETTING =
      Map.ofEntries(
          positive("deadline", "deadline", ""),
          positive("attemptTimeout", "attempt-timeout", ""),
          notNegative("minAttemptTime", "min-attempt-time", ""),
          other("maxRequests", "max-requests", "use 1 or more"),
          other("regionOrder", "region-order", "name each region once"),
          other(
              "retryableStatuses",
              "retryable-statuses",
              "list HTTP statuses from 400 to 599, such as 500,502,503,504"),
          other("maxAttempts", "retry.max-attempts", "use 1 (no retries) to 10"),
          notNegative("backoff.base", "retry.backoff-base", ""),
          notNegative("backoff.cap", "retry.backoff-cap", "raise it or lower the backoff base"),
          positive("maxRetryAfter", "retry.max-retry-after", ""),
          other("retryBudget.ratio", "budget.ratio", "use for example 0.1 or 10%"),
          other("retryBudget.minPerSecond", "budget.min-per-second", "use 0 or more"),
          positive("retryBudget.window", "budget.window", "use a window between 1s and 5m"),
          other(
              "healthCheck.path",
              "health.path",
              "use a path starting with '/' and without a fragment ('#'), such as /health"),
          positive("healthCheck.interval", "health.interval", ""),
          positive("healthCheck.downInterval", "health.down-interval", ""),
          positive("healthCheck.noTrafficInterval", "health.no-traffic-interval", ""),
          positive("healthCheck.timeout", "health.timeout", ""),
          count("healthCheck.healthyThreshold", "health.healthy-threshold"),
          count("healthCheck.unhealthyThreshold", "health.unhealthy-threshold"),
          count("ejection.consecutiveFailures", "ejection.consecutive-failures"),
          percent("ejection.failureRatePercent", "ejection.failure-rate"),
          Map.entry(
              "ejection.windowSize",
              new Key(
                  "ejection.window-size",
                  Kind.AT_LEAST_ONE,
                  "use 1 to " + EjectionPolicy.MAX_WINDOW_SIZE + " attempts, such as 50")),
          Map.entry(
              "ejection.minimumCalls",
              new Key(
                  "ejection.minimum-calls",
                  Kind.AT_LEAST_ONE,
                  "lower it or raise the window size")),
          positive("ejection.slowCallDuration", "ejection.slow-call-duration", ""),
          percent("ejection.slowCallRatePercent", "ejection.slow-call-rate"),
          positive("ejection.baseEjectionTime", "ejection.base-ejection-time", ""),
          positive(
              "ejection.maxEjectionTime",
              "ejection.max-ejection-time",
              "raise it or lower the base ejection time"),
          Map.entry(
              "ejection.halfOpenProbes",
              new Key(
                  "ejection.half-open-probes",
                  Kind.AT_LEAST_ONE,
                  "use 1 to " + EjectionPolicy.MAX_HALF_OPEN_PROBES + " calls, such as 3")),
          positive("hedging.delay", "hedge.delay", ""),
          other(
              "hedging.maxExtraLoad",
              "hedge.max-extra-load",
              "use a share of extra attempts such as 5% or 0.05"),
          other("hedging.maxHedges", "hedge.max-hedges", "use 1 to 4 hedges per call"),
          notNegative("hedging.minDelay", "hedge.min-delay", ""),
          Map.entry(
              "staleIfError.maxEntries",
              new Key("stale.max-entries", Kind.AT_LEAST_ONE, "use 1 or more, such as 1000")),
          other(
              "staleIfError.maxBodyBytes", "stale.max-body-size", "use a size such as 64KB or 1MB"),
          positive("staleIfError.maxAge", "stale.max-age", ""),
          percent("zones.ejectedPercent", "zones.ejected-percent"),
          percent("zones.maxEvacuatedPercent", "zones.max-evacuated-percent"),
          other(
              "zones.outlierK",
              "zones.outlier-k",
              "use a positive, finite number of median absolute deviations, such as 3"),
          count("zones.minSamples", "zones.min-samples"),
          positive("zones.window", "zones.window", "use a window between 2s and 24h, such as 10s"),
          positive("zones.hysteresis", "zones.hysteresis", ""),
          notNegative("zones.slowStart", "zones.slow-start", ""),
          Map.entry(
              "panic.thresholdPercent",
              new Key(
                  "panic.threshold",
                  Kind.PERCENT_OR_ZERO,
                  "use a whole number of percent between 0 and 100, such as 50")),
          other(
              "discovery.startTimeout",
              "discovery.start-timeout",
              "use a duration between 0s and 10m, such as 5s"),
          percent("discovery.maxRemovalPercent", "discovery.max-removal-percent"),
          other(
              "discovery.removalConfirmation",
              "discovery.removal-confirmation",
              "use a duration between 0s and 24h, such as 60s"),
          other(
              "discovery.maxStaleness",
              "discovery.max-staleness",
              "use a duration between 1s and 30d, such as 5m"));

  private SettingKeys() {}

  /**
   * Returns where the SDK setting comes from.
   *
   * @param setting the SDK's name, such as {@code hedging.maxExtraLoad}
   * @return its key, or null for a setting that no property maps to
   */
  static @Nullable Key of(String setting) {
    return BY_SETTING.get(setting);
  }

  /** The SDK settings that properties map to, for tests. */
  static Map<String, Key> all() {
    return BY_SETTING;
  }

  /**
   * The reason a value was rejected, in the starter's words where it has them.
   *
   * @param key the setting's key
   * @param value the value as bound from the property (a {@link Duration}, {@link Percentage},
   *     {@link DataSize}, number ...), or the SDK's value when no property set it
   * @param e the SDK's exception
   */
  static String reason(Key key, @Nullable Object value, InvalidSettingException e) {
    String sdk = String.valueOf(e.getMessage());
    return switch (key.kind()) {
      case POSITIVE_DURATION ->
          notPositive(value)
              ? "must be a positive duration but was " + value
              : key.suffix().equals("zones.window") && belowTwoSeconds(value)
                  ? "must be at least 2s but was " + value
                  : sdk;
      case NON_NEGATIVE_DURATION ->
          negative(value) ? "must not be a negative duration but was " + value : sdk;
      case AT_LEAST_ONE -> belowOne(value) ? "must be 1 or more" : sdk;
      case PERCENT -> "must be a percentage between 1 and 100";
      case PERCENT_OR_ZERO -> "must be a percentage between 0 and 100";
      case OTHER ->
          switch (key.suffix()) {
            case "hedge.max-extra-load" -> "must be above 0 and at most 0.5 (50%) but was " + value;
            case "budget.ratio" -> "must be between 0 and 1 (0% and 100%)";
            case "zones.outlier-k" ->
                // Infinity is positive: the SDK's reason ("must be finite") is the one that holds.
                value instanceof Double k && Double.isInfinite(k)
                    ? sdk
                    : "must be a positive number but was " + value;
            case "hedge.max-hedges" -> "must be between 1 and 4";
            case "stale.max-body-size" ->
                value instanceof DataSize size && size.toBytes() < 1
                    ? "must be at least 1B but was " + size
                    : sdk;
            default -> sdk;
          };
    };
  }

  /**
   * The advice for a rejected value.
   *
   * @param key the setting's key
   * @param property the property at fault, for advice that names it
   * @param value the value as bound
   */
  static String action(Key key, String property, @Nullable Object value) {
    String given = key.action().isEmpty() ? "correct the value" : key.action();
    // The advice for a pair that does not fit ("raise it or lower the base") is wrong for a value
    // beyond the range every duration has.
    boolean pairAdvice = given.startsWith("raise ");
    return switch (key.kind()) {
      case POSITIVE_DURATION ->
          notPositive(value)
              ? POSITIVE
              : pairAdvice && outside(value, Duration.ofMillis(1))
                  ? "use a duration between 1ms and 24h"
                  : named(given, property);
      case NON_NEGATIVE_DURATION ->
          negative(value)
              ? NOT_NEGATIVE
              : pairAdvice && outside(value, Duration.ZERO)
                  ? "use a duration between 0s and 24h"
                  : named(given, property);
      case AT_LEAST_ONE ->
          belowOne(value) && !given.startsWith("use ") ? "use 1 or more" : named(given, property);
      case PERCENT -> "use a whole number of percent between 1 and 100, such as 50";
      case PERCENT_OR_ZERO, OTHER -> given;
    };
  }

  /** The advice with "it" replaced by the property, as in "raise it or lower the base". */
  private static String named(String action, String property) {
    return action.replace(" it ", " " + property + " ");
  }

  private static boolean notPositive(@Nullable Object value) {
    return value instanceof Duration d && (d.isNegative() || d.isZero());
  }

  /** Whether {@code value} is a duration below {@code min} or above 24 h, the SDK's range. */
  private static boolean outside(@Nullable Object value, Duration min) {
    return value instanceof Duration d
        && (d.compareTo(min) < 0 || d.compareTo(Duration.ofHours(24)) > 0);
  }

  private static boolean belowTwoSeconds(@Nullable Object value) {
    return value instanceof Duration d && d.compareTo(Duration.ofSeconds(2)) < 0;
  }

  private static boolean negative(@Nullable Object value) {
    return value instanceof Duration d && d.isNegative();
  }

  private static boolean belowOne(@Nullable Object value) {
    return value instanceof Number n && n.longValue() < 1;
  }

  private static Map.Entry<String, Key> positive(String setting, String suffix, String action) {
    return Map.entry(setting, new Key(suffix, Kind.POSITIVE_DURATION, action));
  }

  private static Map.Entry<String, Key> notNegative(String setting, String suffix, String action) {
    return Map.entry(setting, new Key(suffix, Kind.NON_NEGATIVE_DURATION, action));
  }

  private static Map.Entry<String, Key> count(String setting, String suffix) {
    return Map.entry(setting, new Key(suffix, Kind.AT_LEAST_ONE, "use 1 or more"));
  }

  private static Map.Entry<String, Key> percent(String setting, String suffix) {
    return Map.entry(setting, new Key(suffix, Kind.PERCENT, ""));
  }

  private static Map.Entry<String, Key> other(String setting, String suffix, String action) {
    return Map.entry(setting, new Key(suffix, Kind.OTHER, action));
  }
}
