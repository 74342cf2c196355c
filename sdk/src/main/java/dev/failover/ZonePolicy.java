package dev.failover;

import java.time.Duration;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

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
 * evacuation that follows within 60 seconds of a return, to four times at most, so a flapping zone
 * does not bounce traffic back and forth), then ramps its share of traffic up from 10% over {@code
 * slowStart}. Restored endpoints ramp the same way inside their zone.
 *
 * <p>Immutable. {@link #defaults()} (the client's default) and {@link #builder()} judge zones;
 * {@link #toBuilder()} and the {@code with...} methods copy a policy with changes; {@link #off()}
 * never evacuates a zone as a whole (endpoints are still ejected one by one):
 *
 * <pre>{@code
 * builder.zones(ZonePolicy.defaults().withReturn(Duration.ofSeconds(30), Duration.ofSeconds(20)));
 * builder.zones(ZonePolicy.builder().hysteresis(Duration.ofSeconds(30)).build());
 * builder.zones(ZonePolicy.off());
 * }</pre>
 *
 * <p>{@link #off()} has no settings to change: its {@link #toBuilder()} and {@code with...} methods
 * throw {@link IllegalStateException} instead of quietly turning zone judgement on. Its accessors
 * return the defaults; of them the client still uses {@link #slowStart()}, the ramp of endpoints
 * that return from ejection.
 */
public final class ZonePolicy {

  /** The shortest window: 2 s, two slots of the one-second judgement. */
  private static final Duration MIN_WINDOW = Duration.ofSeconds(2);

  /** The longest duration of any setting: 24 h. */
  private static final Duration MAX_DURATION = HealthCheck.MAX_DURATION;

  private static final ZonePolicy DEFAULTS = new ZonePolicy(true, new Builder());
  private static final ZonePolicy OFF = new ZonePolicy(false, new Builder());

  private final boolean enabled;
  private final int ejectedPercent;
  private final double outlierK;
  private final int minSamples;
  private final Duration window;
  private final Duration hysteresis;
  private final Duration slowStart;
  private final int maxEvacuatedPercent;

  private ZonePolicy(boolean enabled, Builder b) {
    this.enabled = enabled;
    this.maxEvacuatedPercent = checkMaxEvacuatedPercent(b.maxEvacuatedPercent);
    this.ejectedPercent = checkEjectedPercent(b.ejectedPercent);
    this.outlierK = checkOutlierK(b.outlierK);
    this.minSamples = checkMinSamples(b.minSamples);
    this.window = checkWindow(b.window);
    this.hysteresis = checkHysteresis(b.hysteresis);
    this.slowStart = checkSlowStart(b.slowStart);
  }

  /**
   * Returns the defaults: evacuate beyond 50% ejected or 3 MADs (with 20 samples in 10 s); at most
   * 50% of the zones on passive evidence alone; return after 10 s clean, ramping over 10 s.
   *
   * @return the default policy
   */
  public static ZonePolicy defaults() {
    return DEFAULTS;
  }

  /**
   * Returns the policy that never evacuates a zone as a whole (endpoints are still ejected). Always
   * the same instance; it is the only policy whose {@link #enabled()} is false.
   *
   * @return zone judgement off
   */
  public static ZonePolicy off() {
    return OFF;
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
   * @throws IllegalStateException on {@link #off()}, which has no settings to change
   */
  public Builder toBuilder() {
    if (!enabled) {
      throw new IllegalStateException(
          "ZonePolicy.off() has no settings to change; start from ZonePolicy.defaults() or"
              + " ZonePolicy.builder() to turn zone judgement on");
    }
    return new Builder(this);
  }

  /**
   * Whether zones are judged as a whole.
   *
   * @return false only for {@link #off()}
   */
  public boolean enabled() {
    return enabled;
  }

  /**
   * Returns the share of ejected endpoints beyond which a zone is evacuated.
   *
   * @return 1 to 100
   */
  public int ejectedPercent() {
    return ejectedPercent;
  }

  /**
   * Returns how many median absolute deviations make an outlier.
   *
   * @return positive and finite
   */
  public double outlierK() {
    return outlierK;
  }

  /**
   * Returns the attempts a zone needs in the window to be judged on its errors and latency.
   *
   * @return at least 1
   */
  public int minSamples() {
    return minSamples;
  }

  /**
   * Returns the sliding window of the judgement.
   *
   * @return 2 s to 24 h
   */
  public Duration window() {
    return window;
  }

  /**
   * Returns how long an evacuated zone must stay clean before it returns.
   *
   * @return 1 ms to 24 h
   */
  public Duration hysteresis() {
    return hysteresis;
  }

  /**
   * Returns how long a returning zone or endpoint takes to reach its full share.
   *
   * @return zero (at once) to 24 h
   */
  public Duration slowStart() {
    return slowStart;
  }

  /**
   * Returns the most zones, in percent of all, that passive evidence alone may evacuate at once.
   *
   * @return 1 to 100
   */
  public int maxEvacuatedPercent() {
    return maxEvacuatedPercent;
  }

  /**
   * Returns a copy with other return settings.
   *
   * @param hysteresis how long an evacuated zone must stay clean, 1 ms to 24 h
   * @param slowStart how long a returning zone takes to reach its full share, 0 (at once) to 24 h
   * @return the copy
   * @throws InvalidSettingException if out of range
   * @throws IllegalStateException on {@link #off()}
   */
  public ZonePolicy withReturn(Duration hysteresis, Duration slowStart) {
    return toBuilder().hysteresis(hysteresis).slowStart(slowStart).build();
  }

  /**
   * Returns a copy with other outlier settings.
   *
   * @param outlierK median absolute deviations that make an outlier
   * @param minSamples attempts a zone needs in the window
   * @param window the sliding window, 2 s to 24 h
   * @return the copy
   * @throws InvalidSettingException if out of range
   * @throws IllegalStateException on {@link #off()}
   */
  public ZonePolicy withOutliers(double outlierK, int minSamples, Duration window) {
    return toBuilder().outlierK(outlierK).minSamples(minSamples).window(window).build();
  }

  /**
   * Returns a copy with another ejected-endpoint share.
   *
   * @param ejectedPercent 1 to 100
   * @return the copy
   * @throws InvalidSettingException if out of range
   * @throws IllegalStateException on {@link #off()}
   */
  public ZonePolicy withEjectedPercent(int ejectedPercent) {
    return toBuilder().ejectedPercent(ejectedPercent).build();
  }

  /**
   * Returns a copy with another cap on evacuations by passive evidence alone.
   *
   * @param maxEvacuatedPercent 1 to 100: the most zones, in percent of all, that latency, error
   *     rates and breaker ejections may evacuate at once; zones whose outage is corroborated by
   *     refused connections or by health checks refused or answered badly (not ones that time out
   *     or fail in the client) are not counted against it
   * @return the copy
   * @throws InvalidSettingException if out of range
   * @throws IllegalStateException on {@link #off()}
   */
  public ZonePolicy withMaxEvacuatedPercent(int maxEvacuatedPercent) {
    return toBuilder().maxEvacuatedPercent(maxEvacuatedPercent).build();
  }

  @Override
  public boolean equals(@Nullable Object o) {
    if (o == this) {
      return true;
    }
    return o instanceof ZonePolicy z
        && enabled == z.enabled
        && ejectedPercent == z.ejectedPercent
        && Double.compare(outlierK, z.outlierK) == 0
        && minSamples == z.minSamples
        && window.equals(z.window)
        && hysteresis.equals(z.hysteresis)
        && slowStart.equals(z.slowStart)
        && maxEvacuatedPercent == z.maxEvacuatedPercent;
  }

  @Override
  public int hashCode() {
    return Objects.hash(
        enabled,
        ejectedPercent,
        outlierK,
        minSamples,
        window,
        hysteresis,
        slowStart,
        maxEvacuatedPercent);
  }

  @Override
  public String toString() {
    if (!enabled) {
      return "ZonePolicy.off()";
    }
    return "ZonePolicy[ejectedPercent="
        + ejectedPercent
        + ", outlierK="
        + outlierK
        + ", minSamples="
        + minSamples
        + ", window="
        + window
        + ", hysteresis="
        + hysteresis
        + ", slowStart="
        + slowStart
        + ", maxEvacuatedPercent="
        + maxEvacuatedPercent
        + "]";
  }

  /**
   * Builds a {@link ZonePolicy}; starts from the defaults. Each setter checks its value at once.
   */
  public static final class Builder {
    private int ejectedPercent = 50;
    private double outlierK = 3.0;
    private int minSamples = 20;
    private Duration window = Duration.ofSeconds(10);
    private Duration hysteresis = Duration.ofSeconds(10);
    private Duration slowStart = Duration.ofSeconds(10);
    private int maxEvacuatedPercent = 50;

    private Builder() {}

    private Builder(ZonePolicy z) {
      ejectedPercent = z.ejectedPercent;
      outlierK = z.outlierK;
      minSamples = z.minSamples;
      window = z.window;
      hysteresis = z.hysteresis;
      slowStart = z.slowStart;
      maxEvacuatedPercent = z.maxEvacuatedPercent;
    }

    /**
     * Sets the share of ejected, down or held-off endpoints beyond which a zone is evacuated.
     * Default 50.
     *
     * @param ejectedPercent 1 to 100
     * @return this builder
     * @throws InvalidSettingException if out of range
     */
    public Builder ejectedPercent(int ejectedPercent) {
      this.ejectedPercent = checkEjectedPercent(ejectedPercent);
      return this;
    }

    /**
     * Sets how many median absolute deviations make an outlier. Default 3.0.
     *
     * @param outlierK positive and finite
     * @return this builder
     * @throws InvalidSettingException if not positive or not finite
     */
    public Builder outlierK(double outlierK) {
      this.outlierK = checkOutlierK(outlierK);
      return this;
    }

    /**
     * Sets the attempts a zone needs in the window to be judged on its errors and latency. Default
     * 20.
     *
     * @param minSamples at least 1
     * @return this builder
     * @throws InvalidSettingException if below 1
     */
    public Builder minSamples(int minSamples) {
      this.minSamples = checkMinSamples(minSamples);
      return this;
    }

    /**
     * Sets the sliding window of the judgement. Default 10 s.
     *
     * @param window 2 s to 24 h
     * @return this builder
     * @throws InvalidSettingException if shorter than 2 s or longer than 24 h
     */
    public Builder window(Duration window) {
      this.window = checkWindow(window);
      return this;
    }

    /**
     * Sets how long an evacuated zone must stay clean before it returns. Default 10 s.
     *
     * @param hysteresis 1 ms to 24 h (doubled, up to four times, for a zone that flaps)
     * @return this builder
     * @throws InvalidSettingException if not positive, or out of range
     */
    public Builder hysteresis(Duration hysteresis) {
      this.hysteresis = checkHysteresis(hysteresis);
      return this;
    }

    /**
     * Sets how long a returning zone or endpoint takes to reach its full share. Default 10 s.
     *
     * @param slowStart zero (at once) to 24 h
     * @return this builder
     * @throws InvalidSettingException if negative, or longer than 24 h
     */
    public Builder slowStart(Duration slowStart) {
      this.slowStart = checkSlowStart(slowStart);
      return this;
    }

    /**
     * Sets the most zones, in percent of all, that passive evidence alone may evacuate at once; see
     * {@link ZonePolicy#withMaxEvacuatedPercent(int)}. Default 50.
     *
     * @param maxEvacuatedPercent 1 to 100
     * @return this builder
     * @throws InvalidSettingException if out of range
     */
    public Builder maxEvacuatedPercent(int maxEvacuatedPercent) {
      this.maxEvacuatedPercent = checkMaxEvacuatedPercent(maxEvacuatedPercent);
      return this;
    }

    /**
     * Returns the policy; zones are judged.
     *
     * @return the policy
     */
    public ZonePolicy build() {
      return new ZonePolicy(true, this);
    }
  }

  private static int checkMaxEvacuatedPercent(int maxEvacuatedPercent) {
    return percent("maxEvacuatedPercent", maxEvacuatedPercent);
  }

  private static int checkEjectedPercent(int ejectedPercent) {
    return percent("ejectedPercent", ejectedPercent);
  }

  private static int percent(String name, int value) {
    if (value < 1 || value > 100) {
      throw new InvalidSettingException(
          "zones." + name, value, "zone " + name + " must be between 1 and 100 but was " + value);
    }
    return value;
  }

  private static double checkOutlierK(double outlierK) {
    if (Double.isInfinite(outlierK)) {
      throw new InvalidSettingException(
          "zones.outlierK", outlierK, "zone outlierK must be finite but was " + outlierK);
    }
    if (!(outlierK > 0)) {
      throw new InvalidSettingException(
          "zones.outlierK", outlierK, "zone outlierK must be positive but was " + outlierK);
    }
    return outlierK;
  }

  private static int checkMinSamples(int minSamples) {
    if (minSamples < 1) {
      throw new InvalidSettingException(
          "zones.minSamples", minSamples, "zone minSamples must be >= 1 but was " + minSamples);
    }
    return minSamples;
  }

  private static Duration checkWindow(Duration window) {
    HealthCheck.positive("zones.window", "zone window", window);
    if (window.compareTo(MIN_WINDOW) < 0) {
      throw new InvalidSettingException(
          "zones.window", window, "zone window must be at least 2 s but was " + window);
    }
    // At most 24 h, as every duration: longer is a unit mistake, and the router measures the
    // window in nanoseconds.
    HealthCheck.checkRange("zones.window", "zone window", window, MIN_WINDOW, MAX_DURATION);
    return window;
  }

  private static Duration checkHysteresis(Duration hysteresis) {
    // 1 ms to 24 h: the wait is measured in nanoseconds and doubled up to four times for a zone
    // that flaps, so an unbounded one ("never return on its own") would overflow and either fail
    // every judgement or bring the zone back at once. 4 x 24 h is far from overflowing.
    HealthCheck.checkPositive("zones.hysteresis", "zone hysteresis", hysteresis);
    return hysteresis;
  }

  private static Duration checkSlowStart(Duration slowStart) {
    Objects.requireNonNull(slowStart, "slowStart");
    HealthCheck.checkNotNegative("zones.slowStart", "zone slowStart", slowStart);
    return slowStart;
  }
}
