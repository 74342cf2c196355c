package dev.failover;

import java.time.Duration;
import java.util.Objects;

/**
 * Hedged requests: when an idempotent call has no answer after the hedge delay, send one more
 * attempt to another endpoint (in another zone where one exists) and take whichever answers first.
 *
 * <p>The delay is fixed, or adaptive: the {@code 100 x (1 - maxExtraLoad)} percentile of recent
 * attempt latency (successes, timeouts, and attempts that lost a race at their elapsed time) (a
 * sliding window of 30 s, recomputed every second, never below {@code minDelay}), as Finagle's
 * backup requests, so that about {@code maxExtraLoad} of calls are hedged. Either way hedges draw
 * on their own token bucket ({@code maxExtraLoad} of calls) and on the client's retry budget, so
 * hedges and retries together never exceed the budget. When the bucket binds, a hedge is not
 * refused at random: it waits until its attempt is as slow as the latency percentile the tokens
 * left can afford (at least the {@code 1 - maxExtraLoad} quantile, rising as the bucket drains), so
 * the tokens go to the slowest calls, with a fixed delay as with an adaptive one.
 *
 * <p>Only idempotent requests are hedged (see {@link FailoverClient}); POST and PATCH without an
 * {@code Idempotency-Key} or mark, and requests with one-shot bodies, never are. The first good
 * response wins; every other attempt is cancelled and its body closed. A retryable failure of an
 * attempt fires the next hedge at once instead of waiting for the delay.
 *
 * <pre>{@code
 * builder.hedging(HedgePolicy.adaptive(0.05));                      // p95, at most 5% extra
 * builder.hedging(HedgePolicy.fixed(Duration.ofMillis(50)).withMaxHedges(2));
 * }</pre>
 *
 * @param mode off, fixed or adaptive
 * @param delay the fixed delay; for adaptive, the delay used until enough latency was seen; 1 ms to
 *     24 h
 * @param maxExtraLoad the most hedges per call on average, above 0 and at most 0.5
 * @param maxHedges the most hedges one call sends, 1 to 4
 * @param minDelay the floor of the adaptive delay, 0 to 24 h
 */
public record HedgePolicy(
    Mode mode, Duration delay, double maxExtraLoad, int maxHedges, Duration minDelay) {

  /** How the hedge delay is chosen. */
  public enum Mode {
    /** No hedging. */
    OFF,
    /** A fixed delay. */
    FIXED,
    /** A high percentile of recent latency. */
    ADAPTIVE
  }

  private static final HedgePolicy OFF =
      new HedgePolicy(Mode.OFF, Duration.ofMillis(100), 0.05, 1, Duration.ofMillis(1));

  /**
   * Checks every setting.
   *
   * @param mode off, fixed or adaptive
   * @param delay the fixed delay; for adaptive, the delay used until enough latency was seen; 1 ms
   *     to 24 h
   * @param maxExtraLoad the most hedges per call on average, above 0 and at most 0.5
   * @param maxHedges the most hedges one call sends, 1 to 4
   * @param minDelay the floor of the adaptive delay, 0 to 24 h
   * @throws InvalidSettingException if a value is out of range
   */
  public HedgePolicy {
    Objects.requireNonNull(mode, "mode");
    HealthCheck.checkPositive("hedging.delay", "hedge delay", delay);
    if (!(maxExtraLoad > 0 && maxExtraLoad <= 0.5)) {
      throw new InvalidSettingException(
          "hedging.maxExtraLoad",
          maxExtraLoad,
          "hedge maxExtraLoad must be above 0 and at most 0.5 but was " + maxExtraLoad);
    }
    if (maxHedges < 1 || maxHedges > 4) {
      throw new InvalidSettingException(
          "hedging.maxHedges",
          maxHedges,
          "hedge maxHedges must be between 1 and 4 but was " + maxHedges);
    }
    Objects.requireNonNull(minDelay, "minDelay");
    HealthCheck.checkNotNegative("hedging.minDelay", "hedge minDelay", minDelay);
  }

  /**
   * Returns the policy that never hedges; the client's default.
   *
   * @return no hedging
   */
  public static HedgePolicy off() {
    return OFF;
  }

  /**
   * Hedges after a fixed delay, at most 5% extra load.
   *
   * @param delay the delay after which a hedge is sent, 1 ms to 24 h
   * @return the policy
   * @throws InvalidSettingException if the delay is out of range
   */
  public static HedgePolicy fixed(Duration delay) {
    return new HedgePolicy(Mode.FIXED, delay, 0.05, 1, Duration.ofMillis(1));
  }

  /**
   * Hedges after the {@code 100 x (1 - maxExtraLoad)} percentile of recent latency.
   *
   * @param maxExtraLoad for example 0.05 for p95 and at most 5% extra attempts
   * @return the policy
   * @throws InvalidSettingException if not above 0 and at most 0.5
   */
  public static HedgePolicy adaptive(double maxExtraLoad) {
    return new HedgePolicy(
        Mode.ADAPTIVE, Duration.ofMillis(100), maxExtraLoad, 1, Duration.ofMillis(1));
  }

  /**
   * Returns a copy with another cap on hedges per call.
   *
   * @param maxHedges 1 to 4
   * @return the copy
   * @throws InvalidSettingException if out of range
   */
  public HedgePolicy withMaxHedges(int maxHedges) {
    return new HedgePolicy(mode, delay, maxExtraLoad, maxHedges, minDelay);
  }

  /**
   * Returns a copy with another extra-load cap (and, if adaptive, percentile).
   *
   * @param maxExtraLoad above 0 and at most 0.5
   * @return the copy
   * @throws InvalidSettingException if out of range
   */
  public HedgePolicy withMaxExtraLoad(double maxExtraLoad) {
    return new HedgePolicy(mode, delay, maxExtraLoad, maxHedges, minDelay);
  }

  /**
   * Returns a copy with another floor for the adaptive delay.
   *
   * @param minDelay 0 to 24 h
   * @return the copy
   * @throws InvalidSettingException if out of range
   */
  public HedgePolicy withMinDelay(Duration minDelay) {
    return new HedgePolicy(mode, delay, maxExtraLoad, maxHedges, minDelay);
  }

  /**
   * Returns a copy with another fixed (or initial adaptive) delay.
   *
   * @param delay 1 ms to 24 h
   * @return the copy
   * @throws InvalidSettingException if out of range
   */
  public HedgePolicy withDelay(Duration delay) {
    return new HedgePolicy(mode, delay, maxExtraLoad, maxHedges, minDelay);
  }

  /**
   * Whether hedges are sent at all.
   *
   * @return false for {@link Mode#OFF}
   */
  public boolean enabled() {
    return mode != Mode.OFF;
  }
}
