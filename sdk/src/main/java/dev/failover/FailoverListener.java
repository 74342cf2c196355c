package dev.failover;

/**
 * Receives a {@link FailoverClient}'s events, one method per event type.
 *
 * <p>Methods are called on the thread where the event happened (the application's thread, a thread
 * of the client's dispatcher, or, for a new endpoint list or a failed lookup, the thread of the
 * endpoint source that delivered it), never under a lock of the client and never on its scheduler
 * thread (what a timer decides is told on a dispatcher thread; an endpoint's or a zone's health or
 * a stall emitted while such events wait to be told is told after them, on that thread), and must
 * return quickly. A listener that throws is logged and never breaks a call.
 *
 * <pre>{@code
 * FailoverListener listener = new FailoverListener() {
 *   @Override
 *   public void onEjected(FailoverEvent.EndpointEjected event) {
 *     log.warn("{} ejected by {}", event.endpoint(), event.cause());
 *   }
 * };
 * }</pre>
 */
public interface FailoverListener {

  /**
   * Called when an attempt ends.
   *
   * @param event the event
   */
  default void onAttempt(FailoverEvent.AttemptFinished event) {}

  /**
   * Called when a retry is scheduled.
   *
   * @param event the event
   */
  default void onRetry(FailoverEvent.RetryScheduled event) {}

  /**
   * Called when a retry is refused because the retry budget is empty.
   *
   * @param event the event
   */
  default void onBudgetExhausted(FailoverEvent.BudgetExhausted event) {}

  /**
   * Called when an endpoint is ejected by its circuit breaker or marked down by its health check.
   *
   * @param event the event
   */
  default void onEjected(FailoverEvent.EndpointEjected event) {}

  /**
   * Called when an endpoint returns to rotation.
   *
   * @param event the event
   */
  default void onRestored(FailoverEvent.EndpointRestored event) {}

  /**
   * Called when a hedge is sent, wins, is cancelled or is refused by its budget.
   *
   * @param event the event
   */
  default void onHedge(FailoverEvent.Hedge event) {}

  /**
   * Called when a zone is evacuated.
   *
   * @param event the event
   */
  default void onZoneEvacuated(FailoverEvent.ZoneEvacuated event) {}

  /**
   * Called when an evacuated zone returns.
   *
   * @param event the event
   */
  default void onZoneRestored(FailoverEvent.ZoneRestored event) {}

  /**
   * Called when an operator shifts traffic away from a zone.
   *
   * @param event the event
   */
  default void onZoneShifted(FailoverEvent.ZoneShifted event) {}

  /**
   * Called when a zonal shift expires or is cancelled.
   *
   * @param event the event
   */
  default void onZoneShiftEnded(FailoverEvent.ZoneShiftEnded event) {}

  /**
   * Called when the client detects that it is itself the slow party (a pause or saturated host).
   *
   * @param event the event
   */
  default void onClientStalled(FailoverEvent.ClientStalled event) {}

  /**
   * Called when the client runs on time again after a stall.
   *
   * @param event the event
   */
  default void onClientRecovered(FailoverEvent.ClientRecovered event) {}

  /**
   * Called when a stale response is served.
   *
   * @param event the event
   */
  default void onStaleServed(FailoverEvent.StaleServed event) {}

  /**
   * The client applied a new endpoint list from its source.
   *
   * @param event the event
   */
  default void onEndpointsChanged(FailoverEvent.EndpointsChanged event) {}

  /**
   * The client keeps its last good endpoint list instead of what its source reported.
   *
   * @param event the event
   */
  default void onEndpointListHeld(FailoverEvent.EndpointListHeld event) {}

  /**
   * The endpoint list in use has not been confirmed by the source for longer than the policy's
   * maximum staleness.
   *
   * @param event the event
   */
  default void onEndpointListStale(FailoverEvent.EndpointListStale event) {}

  /**
   * Called when a call ends.
   *
   * @param event the event
   */
  default void onCallFinished(FailoverEvent.CallFinished event) {}
}
