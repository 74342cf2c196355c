package dev.failover;

import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fans events out to listeners and logs them; a listener that throws is logged and skipped.
 *
 * <p>Listeners are user code, which never runs on the client's scheduler thread: an event emitted
 * by a scheduler task wrapped with {@link #schedulerTask} (zone judging with the endpoint list's
 * checks, and the pause detector) is told on the client's dispatcher instead, in the order emitted.
 * A call's timers hand their whole step to the dispatcher themselves.
 *
 * <p>A {@link ClientListener} is asked, before each event, whether it takes an event of the client
 * whose core emits it (these events).
 */
final class Events {
  private static final Logger log = LoggerFactory.getLogger("dev.failover.FailoverClient");

  /** Set while the current thread runs a scheduler task of a client. */
  private static final ThreadLocal<Boolean> ON_SCHEDULER = new ThreadLocal<>();

  private final List<FailoverListener> listeners;

  /** Where events emitted on the scheduler are told; null until the client has its dispatcher. */
  private volatile @Nullable Executor offScheduler;

  /** Events emitted on the scheduler, waiting to be told, in order. */
  private final ConcurrentLinkedQueue<FailoverEvent> deferred = new ConcurrentLinkedQueue<>();

  /** Whether a dispatcher thread is telling the deferred events (one at a time keeps the order). */
  private final AtomicBoolean telling = new AtomicBoolean();

  public Events(List<FailoverListener> listeners) {
    this.listeners = List.copyOf(listeners);
  }

  /** Tells the events that scheduler tasks emit on {@code executor} (the client's dispatcher). */
  void tellOffSchedulerOn(Executor executor) {
    this.offScheduler = executor;
  }

  /**
   * Wraps a task for the client's scheduler: the events it emits are told on the dispatcher (see
   * {@link #tellOffSchedulerOn}), never on the scheduler's thread.
   */
  static Runnable schedulerTask(Runnable task) {
    return () -> {
      ON_SCHEDULER.set(Boolean.TRUE);
      try {
        task.run();
      } finally {
        ON_SCHEDULER.remove();
      }
    };
  }

  /** Whether any listener is registered (events no listener or log wants need not be built). */
  public boolean hasListeners() {
    return !listeners.isEmpty();
  }

  /**
   * The client's own health is told by a newer configuration's core from now on: this one's stall
   * events are logged at DEBUG only.
   */
  void muteClientHealth() {
    clientHealthMuted = true;
  }

  private volatile boolean clientHealthMuted;

  /** Whether the last of the client's stall events told was a {@code ClientStalled}. */
  private volatile boolean stallTold;

  public void emit(FailoverEvent event) {
    if (event instanceof FailoverEvent.ClientStalled
        || event instanceof FailoverEvent.ClientRecovered) {
      boolean stalled = event instanceof FailoverEvent.ClientStalled;
      if (clientHealthMuted && (stalled || !stallTold)) {
        // A stall that began before the core was replaced was told: its recovery is told too.
        log.debug("replaced configuration, not told: {}", event);
        return;
      }
      stallTold = stalled;
    }
    Executor executor = offScheduler;
    if (executor != null
        && !listeners.isEmpty()
        && (ON_SCHEDULER.get() != null || (describesState(event) && stateQueued()))) {
      // Also an endpoint's, zone's or the client's state told on another thread while such events
      // from the scheduler wait to be told: after them, in order (a ZoneRestored of a last resort
      // told before the ZoneEvacuated it ends left a listener believing the zone out). A call's
      // own events are told on its thread as ever (CallFinished before the caller has the result).
      deferred.add(event); // first: a state event on another thread now finds it queued
      logEvent(event);
      tellDeferred(executor);
      return;
    }
    logEvent(event);
    tell(event);
  }

  /** Whether events emitted on the scheduler wait to be told, or are being told now. */
  private boolean stateQueued() {
    return telling.get() || !deferred.isEmpty();
  }

  /**
   * Whether an event tells of an endpoint's or a zone's health, or the client's: what the
   * scheduler's judgement and calls' outcomes both change. (Shifts, told on the thread of the
   * operator's call, and endpoint lists, told on the thread that delivered them, are not.)
   */
  private static boolean describesState(FailoverEvent event) {
    return event instanceof FailoverEvent.EndpointEjected
        || event instanceof FailoverEvent.EndpointRestored
        || event instanceof FailoverEvent.ZoneEvacuated
        || event instanceof FailoverEvent.ZoneRestored
        || event instanceof FailoverEvent.ClientStalled
        || event instanceof FailoverEvent.ClientRecovered;
  }

  /** Starts a dispatcher thread telling the deferred events, unless one is. */
  private void tellDeferred(Executor executor) {
    if (!telling.compareAndSet(false, true)) {
      return;
    }
    try {
      executor.execute(this::tellDeferredNow);
    } catch (RejectedExecutionException e) {
      // The client is closing and its dispatcher is gone: the events are logged, not told.
      telling.set(false);
      deferred.clear();
    } catch (RuntimeException | Error e) {
      // No thread for it (OutOfMemoryError: unable to create native thread): these events are
      // logged, not told, and the next ones are tried again (left set, the flag would queue every
      // later state event for good).
      telling.set(false);
      deferred.clear();
      log.error("Failover: no dispatcher thread to tell events; they are logged only", e);
    }
  }

  /** Tells the deferred events in order; on a dispatcher thread, one at a time. */
  private void tellDeferredNow() {
    while (true) {
      for (FailoverEvent e = deferred.poll(); e != null; e = deferred.poll()) {
        tell(e);
      }
      telling.set(false);
      // An event added after the last poll but before the flag was cleared found it set.
      if (deferred.isEmpty() || !telling.compareAndSet(false, true)) {
        return;
      }
    }
  }

  private void tell(FailoverEvent event) {
    for (FailoverListener l : listeners) {
      try {
        if (l instanceof ClientListener c && !c.takes(event, this)) {
          continue;
        }
        dispatch(l, event);
      } catch (RuntimeException | Error e) {
        // Whatever a listener throws, an Error too (a StackOverflowError): the other listeners
        // are told, and the thread telling them (OkHttp's, which would cancel the attempt whose
        // response a call is about to hand over; the scheduler's) goes on.
        log.warn("Failover listener {} threw on {}", l.getClass().getName(), event, e);
      }
    }
  }

  /**
   * A listener told which client emitted an event: {@link FailoverMetrics}, whose meters stand for
   * the one client monitored under a name, and which must not count another client of that name. A
   * class, not an interface, so that the question stays out of the listener's public API.
   */
  abstract static class ClientListener implements FailoverListener {
    /**
     * Whether the listener is told {@code event}.
     *
     * @param event the event
     * @param from the events of the client core that emits it ({@link FailoverClient#emits} tells
     *     whether a client's current or replaced core does)
     * @return true to tell the listener, false to skip it
     */
    abstract boolean takes(FailoverEvent event, Events from);
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
