package dev.failover;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A read-only picture of a client's live state, for dashboards and health endpoints.
 *
 * @param service the service name
 * @param home the client's home locality
 * @param takenAt when the snapshot was taken
 * @param budgetTokens retries the retry budget would allow now
 * @param hedgeDelay the hedge delay in force, or null when hedging is off
 * @param panic whether routing is in panic (too few healthy endpoints, so health is ignored)
 * @param clientStalled whether the client itself is the slow party now (its scheduler ran late, or
 *     attempts were slow in two regions at once): latency then judges no zone, and timeouts that
 *     the scheduler's lateness explains (up to twice as long) are charged to no endpoint or zone
 * @param clientStalls how many times the client found itself stalled since it was built
 * @param counters totals since the client was built
 * @param zones every zone, in routing order (home zone first)
 * @param discovery where the endpoints come from and how current the list is
 */
public record FailoverSnapshot(
    String service,
    Locality home,
    Instant takenAt,
    double budgetTokens,
    @Nullable Duration hedgeDelay,
    boolean panic,
    boolean clientStalled,
    long clientStalls,
    Counters counters,
    List<Zone> zones,
    Discovery discovery) {

  /**
   * Copies the list.
   *
   * @param service the service name
   * @param home the client's home locality
   * @param takenAt when the snapshot was taken
   * @param budgetTokens retries the retry budget would allow now
   * @param hedgeDelay the hedge delay in force, or null when hedging is off
   * @param panic whether routing is in panic (too few healthy endpoints, so health is ignored)
   * @param clientStalled whether the client itself is the slow party now
   * @param clientStalls how many times the client found itself stalled since it was built
   * @param counters totals since the client was built
   * @param zones every zone, in routing order (home zone first)
   * @param discovery where the endpoints come from and how current the list is
   * @throws NullPointerException if an argument is null
   */
  public FailoverSnapshot {
    zones = List.copyOf(zones);
    java.util.Objects.requireNonNull(discovery, "discovery");
  }

  /** How current a client's endpoint list is. */
  public enum ListStatus {
    /** The endpoints were given to the builder and never change. */
    STATIC,
    /** No list from the source yet: the client serves from the fallback endpoints. */
    FALLBACK,
    /** The last list the source reported is in use. */
    CURRENT,
    /**
     * The source's last answer was not applied (it failed, was empty, or would have removed too
     * many endpoints at once): the client serves from the last good list.
     */
    HELD,
    /** As {@link #HELD}, for longer than the policy's {@code maxStaleness}. */
    STALE
  }

  /**
   * Where a client's endpoints come from.
   *
   * @param source the source's description ({@code static} for endpoints given to the builder)
   * @param status how current the list in use is
   * @param reason why the list is held or stale, or null
   * @param lastGoodList when the list in use was applied (for a static list: when the client was
   *     built)
   * @param heldSince when the source's answers stopped being applied, or null while they are
   * @param endpoints how many endpoints the list in use has
   * @param updates lists applied since the client was built (the first one included)
   * @param held answers not applied (failures, empty lists, lists that removed too much)
   */
  public record Discovery(
      String source,
      ListStatus status,
      @Nullable String reason,
      Instant lastGoodList,
      @Nullable Instant heldSince,
      int endpoints,
      long updates,
      long held) {}

  /**
   * Totals since the client was built.
   *
   * @param calls calls started
   * @param attempts attempts sent (first attempts, retries, hedges and probes)
   * @param retries retries sent
   * @param hedgesSent hedges sent
   * @param hedgesWon hedges whose response won
   * @param hedgesCancelled attempts cancelled because another attempt of their call won
   * @param hedgesRefused hedges not sent because a budget was empty
   * @param budgetExhausted retries not sent because the retry budget was empty
   * @param staleServed stale responses served
   * @param failedCalls calls that ended with an exception
   */
  public record Counters(
      long calls,
      long attempts,
      long retries,
      long hedgesSent,
      long hedgesWon,
      long hedgesCancelled,
      long hedgesRefused,
      long budgetExhausted,
      long staleServed,
      long failedCalls) {}

  /** A zone's routing status. */
  public enum ZoneStatus {
    /** Takes its share of first attempts. */
    ACTIVE,
    /** Gets no first attempts; only probes and retries or hedges of last resort. */
    EVACUATED,
    /** Returned from evacuation; its share ramps up over the slow-start window. */
    RAMPING,
    /**
     * An operator shifted traffic away from it until an expiry ({@code FailoverClient.shiftAway}):
     * no first attempts, no probes; retries or hedges only as a last resort.
     */
    SHIFTED
  }

  /**
   * One zone and its endpoints.
   *
   * @param locality the zone
   * @param tier its routing tier: 0 for the home zone, 1 for the rest of the home region, 2 and up
   *     for other regions in order
   * @param status whether it takes first attempts
   * @param reason why it is evacuated or shifted, or empty
   * @param evacuations how many times it was evacuated
   * @param errorRatePercent its attempts' error rate over the zone window
   * @param meanLatency its successful attempts' mean latency over the zone window
   * @param endpoints its endpoints
   */
  public record Zone(
      Locality locality,
      int tier,
      ZoneStatus status,
      String reason,
      long evacuations,
      float errorRatePercent,
      Duration meanLatency,
      List<EndpointState> endpoints) {
    /**
     * Copies the list.
     *
     * @param locality the zone
     * @param tier its routing tier: 0 for the home zone, 1 for the rest of the home region, 2 and
     *     up for other regions in order
     * @param status whether it takes first attempts
     * @param reason why it is evacuated or shifted, or empty
     * @param evacuations how many times it was evacuated
     * @param errorRatePercent its attempts' error rate over the zone window
     * @param meanLatency its successful attempts' mean latency over the zone window
     * @param endpoints its endpoints
     * @throws NullPointerException if an argument is null
     */
    public Zone {
      endpoints = List.copyOf(endpoints);
    }

    /**
     * Returns how many of its endpoints take traffic.
     *
     * @return the number of endpoints whose health is {@link Health#HEALTHY} or {@link
     *     Health#PROBING}
     */
    public long healthyEndpoints() {
      return endpoints.stream().filter(e -> e.health().takesTraffic()).count();
    }
  }

  /**
   * One endpoint's live state.
   *
   * @param endpoint the endpoint
   * @param health its health
   * @param breakerState its circuit breaker's state: {@code CLOSED}, {@code OPEN} or {@code
   *     HALF_OPEN}
   * @param latency its Peak-EWMA latency estimate
   * @param outstanding attempts in flight to it
   * @param ejections how many times it was ejected (by its breaker) or marked down (by its health
   *     check) since the client started
   * @param failureRatePercent its breaker's failure rate over the window, or -1 with too few calls
   */
  public record EndpointState(
      Endpoint endpoint,
      Health health,
      String breakerState,
      Duration latency,
      int outstanding,
      long ejections,
      float failureRatePercent) {}

  /** An endpoint's health as routing sees it. */
  public enum Health {
    /** Takes traffic. */
    HEALTHY,
    /** Its ejection ended; a few calls are let through to test it. */
    PROBING,
    /** Ejected by its circuit breaker. */
    EJECTED,
    /** Marked down by its active health check. */
    DOWN,
    /**
     * Asked for a pause with {@code Retry-After}; gets no traffic until it ends, unless routing
     * panics.
     */
    HELD_OFF;

    /**
     * Whether routing sends traffic to an endpoint in this state.
     *
     * @return true for {@link #HEALTHY} and {@link #PROBING}
     */
    public boolean takesTraffic() {
      return this == HEALTHY || this == PROBING;
    }
  }
}
