package dev.failover;

import java.time.Duration;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * How a client treats the lists of its {@link EndpointSource}: how long it waits for the first one,
 * which lists it refuses to apply, and when it warns that it is serving from an old list.
 *
 * <p>Immutable; start from {@link #defaults()} or {@link #builder()} and change what you need
 * ({@link #toBuilder()} and the {@code with...} methods copy a policy with changes):
 *
 * <pre>{@code
 * DiscoveryPolicy policy = DiscoveryPolicy.defaults()
 *     .withStartTimeout(Duration.ofSeconds(3))
 *     .withMaxRemovalPercent(30);
 * DiscoveryPolicy same = DiscoveryPolicy.builder()
 *     .startTimeout(Duration.ofSeconds(3))
 *     .maxRemovalPercent(30)
 *     .build();
 * }</pre>
 *
 * <p>Defaults and why:
 *
 * <ul>
 *   <li>{@code startTimeout} 5 s: how long {@link FailoverClient.Builder#build()} waits for the
 *       source's first list when no fallback endpoints are configured (with fallback endpoints it
 *       does not wait). Long enough for a registry lookup over a slow network, short enough that an
 *       application with a dead registry fails its start with a clear error.
 *   <li>{@code maxRemovalPercent} 50: a list with fewer endpoints than the list in use by more than
 *       half of it ({@code (inUse - new) * 100 > maxRemovalPercent * inUse}) is held, not applied:
 *       a registry that lost its data, a partitioned registry node or a bad deployment of the
 *       registry answers like that, and the endpoints themselves are usually still there (Envoy and
 *       Eureka's self-preservation keep the last membership for the same reason). The net loss
 *       counts, not how many members are replaced: the only endpoint replaced by another, or every
 *       endpoint replaced by as many others, is applied at once (a registry that lost its data
 *       answers with fewer members, not with as many others). A list that leaves the home zone
 *       without an endpoint is held too, whatever its size (not with 100, which applies every
 *       non-empty list at once). Replacing endpoints, scaling in steps and moving endpoints between
 *       zones are never held (unless they empty the home zone).
 *   <li>{@code removalConfirmation} 60 s: a held list is applied once the source has reported it
 *       (and nothing else) for this long, so a real, large scale-in still takes effect.
 *   <li>{@code maxStaleness} 5 min: when the source has failed, or its lists were held, for this
 *       long, the client logs a warning and reports the list as stale in the snapshot; it keeps
 *       serving from it all the same, as the endpoints are likely still there.
 * </ul>
 */
public final class DiscoveryPolicy {

  private static final DiscoveryPolicy DEFAULTS = new DiscoveryPolicy(new Builder());

  private final Duration startTimeout;
  private final int maxRemovalPercent;
  private final Duration removalConfirmation;
  private final Duration maxStaleness;

  private DiscoveryPolicy(Builder b) {
    this.startTimeout = checkStartTimeout(b.startTimeout);
    this.maxRemovalPercent = checkMaxRemovalPercent(b.maxRemovalPercent);
    this.removalConfirmation = checkRemovalConfirmation(b.removalConfirmation);
    this.maxStaleness = checkMaxStaleness(b.maxStaleness);
  }

  /**
   * Returns the defaults: start timeout 5 s, max removal 50%, removal confirmation 60 s, max
   * staleness 5 min.
   *
   * @return the default policy
   */
  public static DiscoveryPolicy defaults() {
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
   * Returns how long {@code build()} waits for the first list when there are no fallback endpoints.
   *
   * @return the start timeout
   */
  public Duration startTimeout() {
    return startTimeout;
  }

  /**
   * Returns the largest share of the endpoints in use, in percent, by which one list may have fewer
   * endpoints before it is held (members it replaces do not count; see the class description).
   *
   * @return 1 to 100
   */
  public int maxRemovalPercent() {
    return maxRemovalPercent;
  }

  /**
   * Returns how long a held list must stay the source's answer before it is applied.
   *
   * @return the confirmation time
   */
  public Duration removalConfirmation() {
    return removalConfirmation;
  }

  /**
   * Returns how long the client serves from a list the source no longer confirms before it warns.
   *
   * @return the staleness bound
   */
  public Duration maxStaleness() {
    return maxStaleness;
  }

  /**
   * Returns a copy with another start timeout.
   *
   * @param startTimeout 0 to 10 minutes; 0 fails {@code build()} at once when the source has not
   *     reported a list from {@code start()} and no fallback is configured
   * @return the copy
   * @throws InvalidSettingException if out of range
   */
  public DiscoveryPolicy withStartTimeout(Duration startTimeout) {
    return toBuilder().startTimeout(startTimeout).build();
  }

  /**
   * Returns a copy with another removal limit.
   *
   * @param maxRemovalPercent 1 to 100: the largest share of the endpoints in use by which one list
   *     may have fewer endpoints before it is held; 100 applies every non-empty list at once
   * @return the copy
   * @throws InvalidSettingException if out of range
   */
  public DiscoveryPolicy withMaxRemovalPercent(int maxRemovalPercent) {
    return toBuilder().maxRemovalPercent(maxRemovalPercent).build();
  }

  /**
   * Returns a copy with another removal confirmation time.
   *
   * @param removalConfirmation 0 to 24 hours
   * @return the copy
   * @throws InvalidSettingException if out of range
   */
  public DiscoveryPolicy withRemovalConfirmation(Duration removalConfirmation) {
    return toBuilder().removalConfirmation(removalConfirmation).build();
  }

  /**
   * Returns a copy with another staleness bound.
   *
   * @param maxStaleness 1 second to 30 days
   * @return the copy
   * @throws InvalidSettingException if out of range
   */
  public DiscoveryPolicy withMaxStaleness(Duration maxStaleness) {
    return toBuilder().maxStaleness(maxStaleness).build();
  }

  @Override
  public boolean equals(@Nullable Object o) {
    if (o == this) {
      return true;
    }
    return o instanceof DiscoveryPolicy p
        && startTimeout.equals(p.startTimeout)
        && maxRemovalPercent == p.maxRemovalPercent
        && removalConfirmation.equals(p.removalConfirmation)
        && maxStaleness.equals(p.maxStaleness);
  }

  @Override
  public int hashCode() {
    return Objects.hash(startTimeout, maxRemovalPercent, removalConfirmation, maxStaleness);
  }

  @Override
  public String toString() {
    return "DiscoveryPolicy[startTimeout="
        + startTimeout
        + ", maxRemovalPercent="
        + maxRemovalPercent
        + ", removalConfirmation="
        + removalConfirmation
        + ", maxStaleness="
        + maxStaleness
        + "]";
  }

  /**
   * Builds a {@link DiscoveryPolicy}; starts from the defaults. Each setter checks its value at
   * once.
   */
  public static final class Builder {
    private Duration startTimeout = Duration.ofSeconds(5);
    private int maxRemovalPercent = 50;
    private Duration removalConfirmation = Duration.ofSeconds(60);
    private Duration maxStaleness = Duration.ofMinutes(5);

    private Builder() {}

    private Builder(DiscoveryPolicy p) {
      startTimeout = p.startTimeout;
      maxRemovalPercent = p.maxRemovalPercent;
      removalConfirmation = p.removalConfirmation;
      maxStaleness = p.maxStaleness;
    }

    /**
     * Sets how long {@code build()} waits for the source's first list when no fallback endpoints
     * are configured. Default 5 s.
     *
     * @param startTimeout 0 to 10 minutes
     * @return this builder
     * @throws InvalidSettingException if out of range
     */
    public Builder startTimeout(Duration startTimeout) {
      this.startTimeout = checkStartTimeout(startTimeout);
      return this;
    }

    /**
     * Sets the largest share of the endpoints in use, in percent, by which one list may have fewer
     * endpoints before it is held (members it replaces do not count). Default 50.
     *
     * @param maxRemovalPercent 1 to 100
     * @return this builder
     * @throws InvalidSettingException if out of range
     */
    public Builder maxRemovalPercent(int maxRemovalPercent) {
      this.maxRemovalPercent = checkMaxRemovalPercent(maxRemovalPercent);
      return this;
    }

    /**
     * Sets how long a held list must stay the source's answer before it is applied. Default 60 s.
     *
     * @param removalConfirmation 0 to 24 hours
     * @return this builder
     * @throws InvalidSettingException if out of range
     */
    public Builder removalConfirmation(Duration removalConfirmation) {
      this.removalConfirmation = checkRemovalConfirmation(removalConfirmation);
      return this;
    }

    /**
     * Sets how long the client serves from a list the source no longer confirms before it warns.
     * Default 5 min.
     *
     * @param maxStaleness 1 second to 30 days
     * @return this builder
     * @throws InvalidSettingException if out of range
     */
    public Builder maxStaleness(Duration maxStaleness) {
      this.maxStaleness = checkMaxStaleness(maxStaleness);
      return this;
    }

    /**
     * Returns the policy.
     *
     * @return the policy
     */
    public DiscoveryPolicy build() {
      return new DiscoveryPolicy(this);
    }
  }

  private static Duration checkStartTimeout(Duration startTimeout) {
    return check("startTimeout", startTimeout, Duration.ZERO, Duration.ofMinutes(10));
  }

  private static int checkMaxRemovalPercent(int maxRemovalPercent) {
    if (maxRemovalPercent < 1 || maxRemovalPercent > 100) {
      throw new InvalidSettingException(
          "discovery.maxRemovalPercent",
          maxRemovalPercent,
          "discovery maxRemovalPercent must be between 1 and 100 but was " + maxRemovalPercent);
    }
    return maxRemovalPercent;
  }

  private static Duration checkRemovalConfirmation(Duration removalConfirmation) {
    return check("removalConfirmation", removalConfirmation, Duration.ZERO, Duration.ofHours(24));
  }

  private static Duration checkMaxStaleness(Duration maxStaleness) {
    return check("maxStaleness", maxStaleness, Duration.ofSeconds(1), Duration.ofDays(30));
  }

  /**
   * Checks a duration against its bounds. The message prints the value as it was given (a {@link
   * Duration} too large for milliseconds must not throw {@link ArithmeticException} instead, and a
   * value over the bound by less than a millisecond must not print as a value in range).
   */
  private static Duration check(String name, Duration value, Duration min, Duration max) {
    HealthCheck.checkRange("discovery." + name, "discovery " + name, value, min, max);
    return value;
  }
}
