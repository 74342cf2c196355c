package dev.failover.statemachine;

import dev.failover.Attempt;
import dev.failover.FailoverEvent;
import dev.failover.FailoverListener;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/** A listener that keeps every event, in order, and lets a test wait (bounded) for one. */
final class EventRecorder implements FailoverListener {
  private final List<FailoverEvent> events = new ArrayList<>();

  private synchronized void add(FailoverEvent e) {
    events.add(e);
    notifyAll();
  }

  /** Every event so far. */
  synchronized List<FailoverEvent> all() {
    return List.copyOf(events);
  }

  /** The events of one type so far. */
  synchronized <T extends FailoverEvent> List<T> of(Class<T> type) {
    return events.stream().filter(type::isInstance).map(type::cast).toList();
  }

  /** The events about one request path (attempts, retries, hedges, budget, call ends). */
  synchronized List<FailoverEvent> forPath(String path) {
    return events.stream().filter(e -> path.equals(pathOf(e))).toList();
  }

  /** The attempts of one request path, as their {@code AttemptFinished} events came. */
  List<Attempt> attempts(String path) {
    return forPath(path).stream()
        .filter(FailoverEvent.AttemptFinished.class::isInstance)
        .map(e -> ((FailoverEvent.AttemptFinished) e).attempt())
        .toList();
  }

  /** The events of one type about one request path. */
  <T extends FailoverEvent> List<T> of(Class<T> type, String path) {
    return forPath(path).stream().filter(type::isInstance).map(type::cast).toList();
  }

  /** Waits up to {@link BoundedWait#WAIT} until {@code count} events of a type match. */
  synchronized <T extends FailoverEvent> T await(Class<T> type, int count, Predicate<T> which) {
    List<T> matching = new ArrayList<>();
    BoundedWait.until(
        this,
        () -> {
          matching.clear();
          events.stream()
              .filter(type::isInstance)
              .map(type::cast)
              .filter(which)
              .forEach(matching::add);
          return matching.size() >= count;
        },
        () -> count + " " + type.getSimpleName() + " event(s); events so far: " + events);
    return matching.get(count - 1);
  }

  /** Waits for the {@code n}-th attempt of a path to finish; returns it. */
  Attempt awaitAttempt(String path, int n) {
    return await(FailoverEvent.AttemptFinished.class, n, e -> path.equals(e.path())).attempt();
  }

  /** Waits for the call of a path to finish. */
  FailoverEvent.CallFinished awaitCallFinished(String path) {
    return await(FailoverEvent.CallFinished.class, 1, e -> path.equals(e.path()));
  }

  /** Waits for the {@code n}-th retry of a path to be scheduled. */
  FailoverEvent.RetryScheduled awaitRetry(String path, int n) {
    return await(FailoverEvent.RetryScheduled.class, n, e -> path.equals(e.path()));
  }

  static String pathOf(FailoverEvent e) {
    if (e instanceof FailoverEvent.AttemptFinished a) {
      return a.path();
    } else if (e instanceof FailoverEvent.RetryScheduled r) {
      return r.path();
    } else if (e instanceof FailoverEvent.BudgetExhausted b) {
      return b.path();
    } else if (e instanceof FailoverEvent.Hedge h) {
      return h.path();
    } else if (e instanceof FailoverEvent.CallFinished c) {
      return c.path();
    } else if (e instanceof FailoverEvent.StaleServed s) {
      return s.path();
    }
    return null;
  }

  @Override
  public void onAttempt(FailoverEvent.AttemptFinished event) {
    add(event);
  }

  @Override
  public void onRetry(FailoverEvent.RetryScheduled event) {
    add(event);
  }

  @Override
  public void onBudgetExhausted(FailoverEvent.BudgetExhausted event) {
    add(event);
  }

  @Override
  public void onEjected(FailoverEvent.EndpointEjected event) {
    add(event);
  }

  @Override
  public void onRestored(FailoverEvent.EndpointRestored event) {
    add(event);
  }

  @Override
  public void onHedge(FailoverEvent.Hedge event) {
    add(event);
  }

  @Override
  public void onZoneEvacuated(FailoverEvent.ZoneEvacuated event) {
    add(event);
  }

  @Override
  public void onZoneRestored(FailoverEvent.ZoneRestored event) {
    add(event);
  }

  @Override
  public void onClientStalled(FailoverEvent.ClientStalled event) {
    add(event);
  }

  @Override
  public void onClientRecovered(FailoverEvent.ClientRecovered event) {
    add(event);
  }

  @Override
  public void onStaleServed(FailoverEvent.StaleServed event) {
    add(event);
  }

  @Override
  public void onCallFinished(FailoverEvent.CallFinished event) {
    add(event);
  }

  @Override
  public void onEndpointsChanged(FailoverEvent.EndpointsChanged event) {
    add(event);
  }

  @Override
  public void onEndpointListHeld(FailoverEvent.EndpointListHeld event) {
    add(event);
  }

  @Override
  public void onEndpointListStale(FailoverEvent.EndpointListStale event) {
    add(event);
  }
}
