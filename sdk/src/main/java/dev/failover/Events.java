package dev.failover;

import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Fans events out to listeners and logs them; a listener that throws is logged and skipped. */
final class Events {
  private static final Logger log = LoggerFactory.getLogger("dev.failover.FailoverClient");

  private final List<FailoverListener> listeners;

  public Events(List<FailoverListener> listeners) {
    this.listeners = List.copyOf(listeners);
  }

  /** Whether any listener is registered (events no listener or log wants need not be built). */
  public boolean hasListeners() {
    return !listeners.isEmpty();
  }

  public void emit(FailoverEvent event) {
    logEvent(event);
    for (FailoverListener l : listeners) {
      try {
        dispatch(l, event);
      } catch (RuntimeException | LinkageError | AssertionError e) {
        log.warn("Failover listener {} threw on {}", l.getClass().getName(), event, e);
      }
    }
  }

  private static void dispatch(FailoverListener l, FailoverEvent event) {
    if (event instanceof FailoverEvent.AttemptFinished e) {
      l.onAttempt(e);
    } else if (event instanceof FailoverEvent.RetryScheduled e) {
      l.onRetry(e);
    } else if (event instanceof FailoverEvent.BudgetExhausted e) {
      l.onBudgetExhausted(e);
    } else if (event instanceof FailoverEvent.EndpointEjected e) {
      l.onEjected(e);
    } else if (event instanceof FailoverEvent.EndpointRestored e) {
      l.onRestored(e);
    } else if (event instanceof FailoverEvent.CallFinished e) {
      l.onCallFinished(e);
    } else if (event instanceof FailoverEvent.Hedge e) {
      l.onHedge(e);
    } else if (event instanceof FailoverEvent.ZoneEvacuated e) {
      l.onZoneEvacuated(e);
    } else if (event instanceof FailoverEvent.ZoneRestored e) {
      l.onZoneRestored(e);
    } else if (event instanceof FailoverEvent.StaleServed e) {
      l.onStaleServed(e);
    } else if (event instanceof FailoverEvent.ZoneShifted e) {
      l.onZoneShifted(e);
    } else if (event instanceof FailoverEvent.ZoneShiftEnded e) {
      l.onZoneShiftEnded(e);
    } else if (event instanceof FailoverEvent.ClientStalled e) {
      l.onClientStalled(e);
    } else if (event instanceof FailoverEvent.ClientRecovered e) {
      l.onClientRecovered(e);
    } else if (event instanceof FailoverEvent.EndpointsChanged e) {
      l.onEndpointsChanged(e);
    } else if (event instanceof FailoverEvent.EndpointListHeld e) {
      l.onEndpointListHeld(e);
    } else if (event instanceof FailoverEvent.EndpointListStale e) {
      l.onEndpointListStale(e);
    }
  }

  private static void logEvent(FailoverEvent event) {
    if (event instanceof FailoverEvent.EndpointEjected e) {
      log.warn(
          "[{}] endpoint {} ejected by {}{}",
          e.service(),
          e.endpoint(),
          e.cause(),
          e.duration() == null ? "" : " for " + e.duration().toMillis() + " ms");
    } else if (event instanceof FailoverEvent.EndpointRestored e) {
      log.info("[{}] endpoint {} restored", e.service(), e.endpoint());
    } else if (event instanceof FailoverEvent.ZoneEvacuated e) {
      log.warn("[{}] zone {} evacuated: {}", e.service(), e.zone(), e.reason());
    } else if (event instanceof FailoverEvent.ZoneRestored e) {
      log.info(
          "[{}] zone {} restored after {} ms", e.service(), e.zone(), e.evacuatedFor().toMillis());
    } else if (event instanceof FailoverEvent.ZoneShifted e) {
      log.warn(
          "[{}] zone {} shifted away until {} (requested by {})",
          e.service(),
          e.zone(),
          e.until(),
          e.requestedBy());
    } else if (event instanceof FailoverEvent.ZoneShiftEnded e) {
      log.warn("[{}] zonal shift of {} ended: {}", e.service(), e.zone(), e.reason());
    } else if (event instanceof FailoverEvent.ClientStalled e) {
      log.warn(
          "[{}] the client itself is slow ({}): timeouts it explains are charged to no endpoint"
              + " or zone until it recovers",
          e.service(),
          e.cause());
    } else if (event instanceof FailoverEvent.ClientRecovered e) {
      log.info(
          "[{}] the client runs on time again after {} ms (worst lateness {} ms)",
          e.service(),
          e.stalledFor().toMillis(),
          e.worstLateness().toMillis());
    } else if (event instanceof FailoverEvent.EndpointsChanged e) {
      log.info(
          "[{}] endpoints from {}: {} added, {} removed, {} in use",
          e.service(),
          e.source(),
          e.added().size(),
          e.removed().size(),
          e.endpoints());
    } else if (event instanceof FailoverEvent.EndpointListHeld e) {
      log.warn(
          "[{}] keeping the last good list of {} endpoints: {} ({})",
          e.service(),
          e.endpoints(),
          e.reason(),
          e.source());
    } else if (event instanceof FailoverEvent.EndpointListStale e) {
      log.warn(
          "[{}] the endpoint list has not been confirmed by {} for {} s ({}); still serving from it",
          e.service(),
          e.source(),
          e.heldFor().toSeconds(),
          e.reason());
    } else if (event instanceof FailoverEvent.BudgetExhausted e) {
      log.debug(
          "[{}] retry budget exhausted: {} {} ends with {}",
          e.service(),
          e.method(),
          e.path(),
          e.failed());
    } else if (log.isDebugEnabled()) {
      log.debug("[{}] {}", event.service(), event);
    }
  }
}
