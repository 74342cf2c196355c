package dev.failover;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import org.slf4j.LoggerFactory;

/**
 * Where a client's endpoints come from while it runs: a service registry (DNS, ZooKeeper, Eureka,
 * Consul, Kubernetes through Spring Cloud), or the application itself pushing lists.
 *
 * <p>The client calls {@link #start(Updates)} once, when it is built, and {@link #close()} once,
 * when it is closed (or when its build fails, whatever {@code start} threw). A source feeds one
 * client: {@link FailoverClient.Builder#build()} refuses a source that another client, not yet
 * closed, uses (it neither starts nor closes it). From then on the source reports each complete,
 * current list of endpoints to {@link Updates#endpoints(List)}, and each failure to get one (the
 * registry is down, a lookup timed out) to {@link Updates#failed(Throwable)}, from any thread it
 * likes. The client decides what to do with them:
 *
 * <ul>
 *   <li>Endpoints that stay keep their state (breaker, latency, health checks); new ones enter with
 *       slow start (not those of the first list, which replaces the fallback endpoints as if the
 *       client had been built on it); removed ones take no new attempts, and calls in flight on
 *       them finish.
 *   <li>A failure, an empty list, a list with fewer endpoints than the list in use by more than
 *       {@link DiscoveryPolicy#maxRemovalPercent()} of it, or one that leaves the home zone without
 *       an endpoint, does not change the endpoints (the last two until the source has kept
 *       reporting them for {@link DiscoveryPolicy#removalConfirmation()}): the client keeps serving
 *       from the last good list (static stability), and says so in a {@link
 *       FailoverEvent.EndpointListHeld} event, the snapshot and a log line. A list that replaces
 *       members without shrinking that much is applied at once.
 * </ul>
 *
 * <p>An implementation never blocks in {@link Updates} calls' callers for long and never throws
 * from them; the client copies each list and validates it (an endpoint URL given twice keeps its
 * first entry).
 *
 * <pre>{@code
 * EndpointSource.Push pushed = EndpointSource.push();
 * FailoverClient client = FailoverClient.builder()
 *     .service("directory")
 *     .home("us-east-1", "us-east-1a")
 *     .endpointSource(pushed)
 *     .endpoints(fallback) // used until the source's first list, and if it fails at start
 *     .build();
 * pushed.update(List.of(Endpoint.of("http://10.0.0.7:8080", "us-east-1", "us-east-1a")));
 * }</pre>
 */
public interface EndpointSource extends AutoCloseable {

  /**
   * Starts reporting to {@code updates}. Called once, by {@link FailoverClient.Builder#build()},
   * before it returns; the source may report its first list from this call or later, from any
   * thread.
   *
   * @param updates where to report lists and failures
   */
  void start(Updates updates);

  /**
   * Stops reporting and releases the source's threads, connections and timers. Called once, by
   * {@link FailoverClient#close()}; lists reported after it are ignored.
   */
  @Override
  void close();

  /**
   * Returns a short description for events, logs and the snapshot, without credentials.
   *
   * @return for example {@code dns-srv _directory._tcp.internal}
   */
  default String description() {
    return getClass().getSimpleName();
  }

  /** Receives what a source finds. Thread-safe; the calls return quickly. */
  interface Updates {

    /**
     * Reports the complete, current list of endpoints (not a difference).
     *
     * @param endpoints every endpoint the registry lists now; may be empty
     */
    void endpoints(List<Endpoint> endpoints);

    /**
     * Reports that the source could not get a list; the client keeps the last good one.
     *
     * @param cause what went wrong; its message must not carry credentials
     */
    void failed(Throwable cause);
  }

  /**
   * Returns a source that reports {@code endpoints} once and never changes.
   *
   * @param endpoints the endpoints
   * @return the source
   * @throws InvalidSettingException if an element is null
   */
  static EndpointSource of(List<Endpoint> endpoints) {
    List<Endpoint> copy = FailoverClient.Builder.copyOf("endpoints", endpoints);
    return new EndpointSource() {
      @Override
      public void start(Updates updates) {
        updates.endpoints(copy);
      }

      @Override
      public void close() {}

      @Override
      public String description() {
        return "static list of " + copy.size();
      }
    };
  }

  /**
   * Returns a source the application pushes lists to, for registries the SDK has no source for
   * (call {@link Push#update(List)} from the registry's own watch callback).
   *
   * @return a new push source, with no list yet
   */
  static Push push() {
    return new Push("push");
  }

  /**
   * A source the application feeds. Lists pushed before the client starts are kept and handed over
   * when it starts; only the last one counts. Lists and failures reach the client one at a time, in
   * the order they were pushed, whatever threads push them: one pushed while another is being
   * handed over is handed over by that thread, after it (so {@link #update} may return before its
   * list has reached the client). If the client's code throws on a report, that is logged and the
   * reports behind it are still handed over.
   *
   * <p>A push source feeds one client, once: it cannot start again once started or closed, and a
   * client's {@code build()} refuses it then. To feed several clients, give each its own and push
   * each list to all of them.
   */
  final class Push implements EndpointSource {
    private final String description;
    private final Object lock = new Object();
    private @Nullable Updates updates;
    private @Nullable List<Endpoint> pending;
    private boolean closed;

    /** Lists (a {@code List}) and failures (a {@code Throwable}) not yet handed over, in order. */
    private final ArrayDeque<Object> queue = new ArrayDeque<>();

    /** Whether a thread is handing over what is queued. */
    private boolean delivering;

    /**
     * Creates a push source.
     *
     * @param description what it is, for events and logs
     */
    public Push(String description) {
      this.description = Objects.requireNonNull(description, "description");
    }

    /**
     * {@inheritDoc}
     *
     * @throws IllegalStateException if this push source was started before, or closed: a push
     *     source feeds one client, once (a client refuses it in {@code build()} without starting
     *     it)
     */
    @Override
    public void start(Updates updates) {
      synchronized (lock) {
        String why = unavailableLocked();
        if (why != null) {
          throw new IllegalStateException("push source '" + description + "' " + why);
        }
        this.updates = Objects.requireNonNull(updates, "updates");
        List<Endpoint> first = pending;
        pending = null;
        if (first == null || !enqueueLocked(first)) {
          return;
        }
      }
      deliver();
    }

    /**
     * Why this source cannot be started, or null if it can: for {@code build()}, which refuses it
     * before starting it.
     */
    @Nullable String unavailable() {
      synchronized (lock) {
        return unavailableLocked();
      }
    }

    @GuardedBy("lock")
    private @Nullable String unavailableLocked() {
      if (closed) {
        return "is closed (its client was closed, or it was closed by hand)";
      }
      if (updates != null) {
        return "was already started";
      }
      return null;
    }

    /**
     * Pushes the complete, current list of endpoints.
     *
     * @param endpoints every endpoint there is now
     * @throws InvalidSettingException if an element is null
     */
    public void update(List<Endpoint> endpoints) {
      List<Endpoint> copy = FailoverClient.Builder.copyOf("endpoints", endpoints);
      synchronized (lock) {
        if (closed) {
          return;
        }
        if (updates == null) {
          pending = copy;
          return;
        }
        if (!enqueueLocked(copy)) {
          return;
        }
      }
      deliver();
    }

    /**
     * Reports that the registry could not be read; the client keeps its last good list.
     *
     * @param cause what went wrong
     */
    public void fail(Throwable cause) {
      Objects.requireNonNull(cause, "cause");
      synchronized (lock) {
        if (closed || updates == null || !enqueueLocked(cause)) {
          return;
        }
      }
      deliver();
    }

    /** Queues a report; returns whether this thread is to hand it over (none is handing over). */
    @GuardedBy("lock")
    private boolean enqueueLocked(Object report) {
      queue.add(report);
      if (delivering) {
        return false;
      }
      delivering = true;
      return true;
    }

    /** Hands over what is queued, in order, outside the lock, until nothing is left. */
    @SuppressWarnings("unchecked")
    private void deliver() {
      while (true) {
        Object next;
        Updates target;
        synchronized (lock) {
          next = closed ? null : queue.poll();
          target = updates;
          if (next == null || target == null) {
            queue.clear();
            delivering = false;
            return;
          }
        }
        try {
          if (next instanceof Throwable cause) {
            target.failed(cause);
          } else {
            target.endpoints((List<Endpoint>) next);
          }
        } catch (RuntimeException | Error e) {
          // What is queued behind it still goes: the client's code threw for this one report.
          LoggerFactory.getLogger(EndpointSource.class)
              .warn("push source '{}': handing a report to the client threw", description, e);
        }
      }
    }

    @Override
    public void close() {
      synchronized (lock) {
        closed = true;
        updates = null;
        pending = null;
        queue.clear();
      }
    }

    @Override
    public String description() {
      return description;
    }
  }
}
