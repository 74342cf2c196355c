package dev.failover;

import java.time.Duration;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * What a {@link FailoverClient} reports to its {@link FailoverListener}. Events never carry
 * headers, bodies, queries or URL user info, so they are safe to log.
 */
public sealed interface FailoverEvent {

  /**
   * Returns the name of the service the event belongs to.
   *
   * @return the service name given to the builder
   */
  String service();

  /**
   * An attempt ended.
   *
   * @param service the service name
   * @param method the request method
   * @param path the request path, without query
   * @param attempt the attempt and its outcome
   */
  record AttemptFinished(String service, String method, String path, Attempt attempt)
      implements FailoverEvent {}

  /**
   * A retry was scheduled after a retryable outcome.
   *
   * @param service the service name
   * @param method the request method
   * @param path the request path, without query
   * @param failed the attempt that failed
   * @param backoff the delay before the retry is sent
   */
  record RetryScheduled(
      String service, String method, String path, Attempt failed, Duration backoff)
      implements FailoverEvent {}

  /**
   * A retry was due but the retry budget was empty, so the call ends with its last outcome.
   *
   * @param service the service name
   * @param method the request method
   * @param path the request path, without query
   * @param failed the attempt that would have been retried
   */
  record BudgetExhausted(String service, String method, String path, Attempt failed)
      implements FailoverEvent {}

  /**
   * An endpoint stopped getting traffic.
   *
   * @param service the service name
   * @param endpoint the endpoint
   * @param cause what ejected it
   * @param duration how long it is ejected before it is tried again, or null while an active health
   *     check holds it down
   */
  record EndpointEjected(
      String service, Endpoint endpoint, Cause cause, @Nullable Duration duration)
      implements FailoverEvent {}

  /**
   * The client applied a new endpoint list from its {@link EndpointSource}. Endpoints that stayed
   * kept their state; added ones ramp up over the zones' slow start; removed ones take no new
   * attempts (calls in flight on them finish).
   *
   * @param service the service name
   * @param source the source's description
   * @param added endpoints new in the list (an endpoint that moved zones is removed and added)
   * @param removed endpoints no longer in the list
   * @param endpoints how many endpoints the client routes over now
   */
  record EndpointsChanged(
      String service, String source, List<Endpoint> added, List<Endpoint> removed, int endpoints)
      implements FailoverEvent {
    /**
     * Copies the lists.
     *
     * @param service the service name
     * @param source the source's description
     * @param added endpoints new in the list
     * @param removed endpoints no longer in the list
     * @param endpoints how many endpoints the client routes over now
     */
    public EndpointsChanged {
      added = List.copyOf(added);
      removed = List.copyOf(removed);
    }
  }

  /**
   * The client did not apply what its {@link EndpointSource} reported, and keeps serving from the
   * last good list: the source failed, reported an empty list, or reported a list that would remove
   * more than {@link DiscoveryPolicy#maxRemovalPercent()} of the endpoints at once (held until it
   * has been the source's answer for {@link DiscoveryPolicy#removalConfirmation()}). Reported once
   * when holding starts and again when the reason changes, not for every failed poll.
   *
   * @param service the service name
   * @param source the source's description
   * @param reason why, without credentials
   * @param endpoints how many endpoints the last good list has
   */
  record EndpointListHeld(String service, String source, String reason, int endpoints)
      implements FailoverEvent {}

  /**
   * The client has served from a list its source no longer confirms for longer than {@link
   * DiscoveryPolicy#maxStaleness()}. Reported once per held period; the client keeps serving.
   *
   * @param service the service name
   * @param source the source's description
   * @param heldFor how long the source's answers have not been applied
   * @param reason the last reason
   */
  record EndpointListStale(String service, String source, Duration heldFor, String reason)
      implements FailoverEvent {}

  /**
   * An endpoint gets traffic again.
   *
   * @param service the service name
   * @param endpoint the endpoint
   * @param cause what had ejected it
   */
  record EndpointRestored(String service, Endpoint endpoint, Cause cause)
      implements FailoverEvent {}

  /**
   * Something happened to a hedge.
   *
   * @param service the service name
   * @param method the request method
   * @param path the request path, without query
   * @param action what happened
   * @param endpoint the hedge's endpoint, or null when it was refused before one was chosen
   * @param delay the hedge delay in force for the call
   */
  record Hedge(
      String service,
      String method,
      String path,
      HedgeAction action,
      @Nullable Endpoint endpoint,
      Duration delay)
      implements FailoverEvent {}

  /**
   * A zone stopped getting first attempts.
   *
   * @param service the service name
   * @param zone the zone
   * @param reason why, for example {@code "error rate 21% vs median 0% across zones"}
   */
  record ZoneEvacuated(String service, Locality zone, String reason) implements FailoverEvent {}

  /**
   * An evacuated zone stayed clean for the hysteresis time and starts to get traffic again, ramping
   * up over the slow-start window.
   *
   * @param service the service name
   * @param zone the zone
   * @param evacuatedFor how long it was evacuated
   */
  record ZoneRestored(String service, Locality zone, Duration evacuatedFor)
      implements FailoverEvent {}

  /**
   * An operator shifted traffic away from a zone: it gets no first attempts until {@code until} or
   * until the shift is cancelled.
   *
   * @param service the service name
   * @param zone the zone
   * @param until when the shift ends by itself
   * @param requestedBy who or what asked, as given (for example {@code "actuator:alice"})
   */
  record ZoneShifted(String service, Locality zone, java.time.Instant until, String requestedBy)
      implements FailoverEvent {}

  /**
   * A zonal shift ended: it expired or was cancelled; the zone takes first attempts again (with
   * slow start).
   *
   * @param service the service name
   * @param zone the zone
   * @param reason {@code "expired"} or {@code "cancelled by <who>"}
   */
  record ZoneShiftEnded(String service, Locality zone, String reason) implements FailoverEvent {}

  /**
   * The client itself became the slow party: its scheduler ran late (a JVM pause, a saturated host,
   * a cold JVM), or attempts were slow in two regions at once. Until {@link ClientRecovered} (the
   * stall plus a grace period of 2 s), timeouts the stall explains (it lasted at least half the
   * attempt's time) are charged to no endpoint and no zone; refusals, error statuses and races lost
   * by far still are.
   *
   * @param service the service name
   * @param lateness how late the client's scheduler ran when the stall was detected
   * @param cause what was observed, for example {@code "scheduler ran 180 ms late"}
   */
  record ClientStalled(String service, Duration lateness, String cause) implements FailoverEvent {}

  /**
   * The client's scheduler runs on time again and the grace period after a stall has passed.
   *
   * @param service the service name
   * @param stalledFor how long the stall (with its grace period) lasted
   * @param worstLateness the worst lateness of the scheduler seen during the stall
   */
  record ClientRecovered(String service, Duration stalledFor, Duration worstLateness)
      implements FailoverEvent {}

  /**
   * Every attempt of a GET failed and a stale copy of an earlier response was served instead.
   *
   * @param service the service name
   * @param method the request method
   * @param path the request path, without query
   * @param age the age of the stale response
   */
  record StaleServed(String service, String method, String path, Duration age)
      implements FailoverEvent {}

  /**
   * A call ended, with its response or its failure.
   *
   * @param service the service name
   * @param method the request method
   * @param path the request path, without query
   * @param status the status of the response returned, or 0 when the call failed
   * @param failure why the call failed, or null when it returned a response
   * @param attempts the number of attempts sent, hedges, retries and probes included
   * @param retries the number of retries sent
   * @param hedges the number of hedges sent
   * @param stale whether the response returned is a stale copy
   * @param elapsed time from the start of the call to its end
   */
  record CallFinished(
      String service,
      String method,
      String path,
      int status,
      FailoverException.@Nullable Reason failure,
      int attempts,
      int retries,
      int hedges,
      boolean stale,
      Duration elapsed)
      implements FailoverEvent {}

  /** What happened to a hedge. */
  enum HedgeAction {
    /** A hedge was sent. */
    SENT,
    /** A hedge's response won the race. */
    WON,
    /** A hedge, or the attempt it raced, lost and was cancelled. */
    CANCELLED,
    /** A hedge was due but its budget (or the retry budget) was empty. */
    REFUSED
  }

  /** What took an endpoint out of rotation. */
  enum Cause {
    /** Passive health: its circuit breaker opened on real traffic. */
    CIRCUIT_BREAKER,
    /** Active health: its health check failed. */
    HEALTH_CHECK
  }
}
