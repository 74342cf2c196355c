package dev.failover;

import java.time.Duration;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

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
 * <p>Immutable. {@link #fixed(Duration)}, {@link #adaptive(double)} and {@link #builder()} (which
 * starts from {@code adaptive(0.05)}) turn hedging on; {@link #toBuilder()} and the {@code with...}
 * methods copy a policy with changes; {@link #off()} (the client's default) is the one way to say
 * "no hedging":
 *
 * <pre>{@code
 * builder.hedging(HedgePolicy.adaptive(0.05));                      // p95, at most 5% extra
 * builder.hedging(HedgePolicy.fixed(Duration.ofMillis(50)).withMaxHedges(2));
 * builder.hedging(HedgePolicy.builder().mode(HedgePolicy.Mode.FIXED)
 *     .delay(Duration.ofMillis(50)).maxHedges(2).build());       // the same
 * }</pre>
 *
 * <p>{@link #off()} has no settings to change: its {@link #toBuilder()} and {@code with...} methods
 * throw {@link IllegalStateException} instead of quietly turning hedging on. Its {@link #mode()} is
 * {@link Mode#OFF}; its other accessors return the defaults, which it does not use.
 */
public final class HedgePolicy {

  /** How the hedge delay is chosen. */
  public enum Mode {
    /** No hedging: the mode of {@link HedgePolicy#off()} alone; a builder does not accept it. */
    OFF,
    /** A fixed delay. */
    FIXED,
    /** A high percentile of recent latency. */
    ADAPTIVE
  }

  private static final HedgePolicy OFF = new HedgePolicy(Mode.OFF, new Builder());

  private final Mode mode;
  private final Duration delay;
  private final double maxExtraLoad;
  private final int maxHedges;
  private final Duration minDelay;

  private HedgePolicy(Mode mode, Builder b) {
    this.mode = Objects.requireNonNull(mode, "mode");
    this.delay = checkDelay(b.delay);
    this.maxExtraLoad = checkMaxExtraLoad(b.maxExtraLoad);
    this.maxHedges = checkMaxHedges(b.maxHedges);
    this.minDelay = checkMinDelay(b.minDelay);
  }

  /**
   * Returns the policy that never hedges; the client's default. Always the same instance; it is the
   * only policy whose {@link #enabled()} is false.
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
    return builder().mode(Mode.FIXED).delay(delay).build();
  }

  /**
   * Hedges after the {@code 100 x (1 - maxExtraLoad)} percentile of recent latency.
   *
   * @param maxExtraLoad for example 0.05 for p95 and at most 5% extra attempts
   * @return the policy
   * @throws InvalidSettingException if not above 0 and at most 0.5
   */
  public static HedgePolicy adaptive(double maxExtraLoad) {
    return builder().maxExtraLoad(maxExtraLoad).build();
  }

  /**
   * Returns a builder holding the defaults: adaptive, 5% extra load (p95), an initial delay of 100
   * ms, one hedge per call, a 1 ms floor; that is, {@code adaptive(0.05)}.
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
   * @throws IllegalStateException on {@link #off()}, which has no settings to change
   */
  public Builder toBuilder() {
    if (mode == Mode.OFF) {
      throw new IllegalStateException(
          "HedgePolicy.off() has no settings to change; start from HedgePolicy.fixed(delay),"
              + " HedgePolicy.adaptive(maxExtraLoad) or HedgePolicy.builder() to turn hedging on");
    }
    return new Builder(this);
  }

  /**
   * Returns how the hedge delay is chosen.
   *
   * @return {@link Mode#OFF} only for {@link #off()}; otherwise fixed or adaptive
   */
  public Mode mode() {
    return mode;
  }

  /**
   * Returns the fixed delay; for adaptive, the delay used until enough latency was seen.
   *
   * @return 1 ms to 24 h
   */
  public Duration delay() {
    return delay;
  }

  /**
   * Returns the most hedges per call on average (and, if adaptive, {@code 1 -} the percentile).
   *
   * @return above 0 and at most 0.5
   */
  public double maxExtraLoad() {
    return maxExtraLoad;
  }

  /**
   * Returns the most hedges one call sends.
   *
   * @return 1 to 4
   */
  public int maxHedges() {
    return maxHedges;
  }

  /**
   * Returns the floor of the adaptive delay.
   *
   * @return 0 to 24 h
   */
  public Duration minDelay() {
    return minDelay;
  }

  /**
   * Whether hedges are sent at all.
   *
   * @return false only for {@link #off()}
   */
  public boolean enabled() {
    return mode != Mode.OFF;
  }

  /**
   * Returns a copy with another cap on hedges per call.
   *
   * @param maxHedges 1 to 4
   * @return the copy
   * @throws InvalidSettingException if out of range
   * @throws IllegalStateException on {@link #off()}
   */
  public HedgePolicy withMaxHedges(int maxHedges) {
    return toBuilder().maxHedges(maxHedges).build();
  }

  /**
   * Returns a copy with another extra-load cap (and, if adaptive, percentile).
   *
   * @param maxExtraLoad above 0 and at most 0.5
   * @return the copy
   * @throws InvalidSettingException if out of range
   * @throws IllegalStateException on {@link #off()}
   */
  public HedgePolicy withMaxExtraLoad(double maxExtraLoad) {
    return toBuilder().maxExtraLoad(maxExtraLoad).build();
  }

  /**
   * Returns a copy with another floor for the adaptive delay.
   *
   * @param minDelay 0 to 24 h
   * @return the copy
   * @throws InvalidSettingException if out of range
   * @throws IllegalStateException on {@link #off()}
   */
  public HedgePolicy withMinDelay(Duration minDelay) {
    return toBuilder().minDelay(minDelay).build();
  }

  /**
   * Returns a copy with another fixed (or initial adaptive) delay.
   *
   * @param delay 1 ms to 24 h
   * @return the copy
   * @throws InvalidSettingException if out of range
   * @throws IllegalStateException on {@link #off()}
   */
  public HedgePolicy withDelay(Duration delay) {
    return toBuilder().delay(delay).build();
  }

  @Override
  public boolean equals(@Nullable Object o) {
    if (o == this) {
      return true;
    }
    return o instanceof HedgePolicy h
        && mode == h.mode
        && delay.equals(h.delay)
        && Double.compare(maxExtraLoad, h.maxExtraLoad) == 0
        && maxHedges == h.maxHedges
        && minDelay.equals(h.minDelay);
  }

  @Override
  public int hashCode() {
    return Objects.hash(mode, delay, maxExtraLoad, maxHedges, minDelay);
  }

  @Override
  public String toString() {
    if (mode == Mode.OFF) {
      return "HedgePolicy.off()";
    }
    return "HedgePolicy[mode="
        + mode
        + ", delay="
        + delay
        + ", maxExtraLoad="
        + maxExtraLoad
        + ", maxHedges="
        + maxHedges
        + ", minDelay="
        + minDelay
        + "]";
  }

  /**
   * Builds a {@link HedgePolicy}; starts from {@code adaptive(0.05)}. Each setter checks its value
   * at once.
   */
  public static final class Builder {
    private Mode mode = Mode.ADAPTIVE;
    private Duration delay = Duration.ofMillis(100);
    private double maxExtraLoad = 0.05;
    private int maxHedges = 1;
    private Duration minDelay = Duration.ofMillis(1);

    private Builder() {}

    private Builder(HedgePolicy p) {
      mode = p.mode;
      delay = p.delay;
      maxExtraLoad = p.maxExtraLoad;
      maxHedges = p.maxHedges;
      minDelay = p.minDelay;
    }

    /**
     * Sets how the delay is chosen. Default {@link Mode#ADAPTIVE}.
     *
     * @param mode {@link Mode#FIXED} or {@link Mode#ADAPTIVE}
     * @return this builder
     * @throws InvalidSettingException for {@link Mode#OFF}: {@link HedgePolicy#off()} is the one
     *     policy without hedging
     */
    public Builder mode(Mode mode) {
      Objects.requireNonNull(mode, "mode");
      if (mode == Mode.OFF) {
        throw new InvalidSettingException(
            "hedging.mode",
            mode,
            "hedge mode must be FIXED or ADAPTIVE but was OFF; use HedgePolicy.off() for no"
                + " hedging");
      }
      this.mode = mode;
      return this;
    }

    /**
     * Sets the fixed delay; for adaptive, the delay used until enough latency was seen. Default 100
     * ms.
     *
     * @param delay 1 ms to 24 h
     * @return this builder
     * @throws InvalidSettingException if out of range
     */
    public Builder delay(Duration delay) {
      this.delay = checkDelay(delay);
      return this;
    }

    /**
     * Sets the most hedges per call on average (and, if adaptive, the percentile: 0.05 is p95).
     * Default 0.05.
     *
     * @param maxExtraLoad above 0 and at most 0.5
     * @return this builder
     * @throws InvalidSettingException if out of range
     */
    public Builder maxExtraLoad(double maxExtraLoad) {
      this.maxExtraLoad = checkMaxExtraLoad(maxExtraLoad);
      return this;
    }

    /**
     * Sets the most hedges one call sends. Default 1.
     *
     * @param maxHedges 1 to 4
     * @return this builder
     * @throws InvalidSettingException if out of range
     */
    public Builder maxHedges(int maxHedges) {
      this.maxHedges = checkMaxHedges(maxHedges);
      return this;
    }

    /**
     * Sets the floor of the adaptive delay. Default 1 ms.
     *
     * @param minDelay 0 to 24 h
     * @return this builder
     * @throws InvalidSettingException if out of range
     */
    public Builder minDelay(Duration minDelay) {
      this.minDelay = checkMinDelay(minDelay);
      return this;
    }

    /**
     * Returns the policy; hedging is on.
     *
     * @return the policy
     */
    public HedgePolicy build() {
      return new HedgePolicy(mode, this);
    }
  }

  private static Duration checkDelay(Duration delay) {
    HealthCheck.checkPositive("hedging.delay", "hedge delay", delay);
    return delay;
  }

  private static double checkMaxExtraLoad(double maxExtraLoad) {
    if (!(maxExtraLoad > 0 && maxExtraLoad <= 0.5)) {
      throw new InvalidSettingException(
          "hedging.maxExtraLoad",
          maxExtraLoad,
          "hedge maxExtraLoad must be above 0 and at most 0.5 but was " + maxExtraLoad);
    }
    return maxExtraLoad;
  }

  private static int checkMaxHedges(int maxHedges) {
    if (maxHedges < 1 || maxHedges > 4) {
      throw new InvalidSettingException(
          "hedging.maxHedges",
          maxHedges,
          "hedge maxHedges must be between 1 and 4 but was " + maxHedges);
    }
    return maxHedges;
  }

  private static Duration checkMinDelay(Duration minDelay) {
    Objects.requireNonNull(minDelay, "minDelay");
    HealthCheck.checkNotNegative("hedging.minDelay", "hedge minDelay", minDelay);
    return minDelay;
  }
}
