package dev.failover;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.lang.ref.WeakReference;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.ToDoubleFunction;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Micrometer meters of failover clients: counters and timers fed by the clients' events, and gauges
 * on their live state ({@link FailoverClient#snapshot()}). A {@link FailoverListener} for the
 * builder and a {@link MeterBinder}; one instance may serve several clients.
 *
 * <pre>{@code
 * FailoverMetrics metrics = new FailoverMetrics();
 * FailoverClient directory = FailoverClient.builder()
 *     .service("directory")
 *     .home("us-east-1", "us-east-1a")
 *     .endpoint("https://dir-a.internal:8443", "us-east-1", "us-east-1a")
 *     .endpoint("https://dir-b.internal:8443", "us-east-1", "us-east-1b")
 *     .listener(metrics)          // counters and timers: every attempt, retry, hedge, call
 *     .build();
 * metrics.monitor(directory)      // gauges: endpoint and zone states, budget, discovery
 *     .bindTo(registry);
 * }</pre>
 *
 * <p>Every meter is tagged {@code client.name} (the client's service name); tag values that come
 * from the SDK's enums are lowercase ({@code outcome="connect_failed"}, {@code state="healthy"}).
 * The meters, their tags and their meaning are listed in {@code docs/observability.md}: {@code
 * failover.calls}, {@code failover.attempts}, {@code failover.retries}, {@code failover.hedges},
 * {@code failover.endpoint.*}, {@code failover.zone.*}, {@code failover.discovery.*}, and more.
 *
 * <p><b>Rules.</b> A client's meters are recorded once it is both {@linkplain #monitor monitored}
 * and this binder is {@linkplain #bindTo bound}; events before that are not counted (bind before
 * the first call). No gauge ever reports NaN: gauges read the last snapshot taken, so a closed
 * client's gauges keep their last values; {@code failover.hedge.delay} exists only for a client
 * with hedging on. Meters of an endpoint or zone that leaves the client's list (discovery) are
 * removed from the registry, and created for those that join; a client {@linkplain
 * FailoverClient#reconfigure reconfigured} in place is followed at its next call (its endpoint
 * list, whether it hedges). Monitoring a client of a name already monitored (another client built
 * for the same service) moves that name's meters to the new client and keeps its counters.
 *
 * <p><b>One client per name.</b> Only the events of the client monitored under a name are counted.
 * Another client of the same name that has this object among its listeners is not: one built with
 * {@link FailoverClient#newBuilder()} from a monitored client (which copies its listeners), or one
 * built for the same service with this listener and not monitored. Its first call that finishes
 * logs one line saying so (once per name until the name is monitored again).
 *
 * <p><b>Closing a client.</b> Call {@link #unmonitor} before closing a client for good: its meters
 * leave the registry, and this object forgets it. A registry often outlives the clients (Spring
 * Boot adds every application context's registry to {@code Metrics.globalRegistry}), and a closed
 * client's meters would stay there, reading its last values. This object holds a client only
 * weakly, gauges included: a client closed and dropped without {@code unmonitor} can still be
 * garbage-collected, and its gauges then keep the last values read.
 *
 * <p>Only this class refers to Micrometer's meter API: a client without it needs no Micrometer on
 * the class path. Thread-safe; listener methods take no lock on their common path.
 */
// Its API takes Micrometer types on purpose: Micrometer is optional (the module requires it
// statically), so javac's -Xlint:exports warning, that readers of dev.failover do not read
// Micrometer, is expected here and nowhere else.
@SuppressWarnings("exports")
public final class FailoverMetrics extends Events.ClientListener
    implements FailoverListener, MeterBinder {
  private static final Logger log = LoggerFactory.getLogger(FailoverMetrics.class);
  private static final String CLIENT_NAME = TagValues.CLIENT_NAME;

  /** Gauges read a client's snapshot at most this often, however many there are. */
  private static final long SNAPSHOT_TTL_NANOS = 500_000_000L;

  private final Object lock = new Object();

  // Guarded by lock: each client monitored, held weakly, with its snapshot when it was monitored.
  private final Map<String, Monitored> monitored = new LinkedHashMap<>();
  private @Nullable MeterRegistry registry;

  /** Meters of each client both monitored and bound; read without lock by the listener methods. */
  private final Map<String, ClientMeters> clients = new ConcurrentHashMap<>();

  private volatile boolean bound;
  private final Set<String> warned = ConcurrentHashMap.newKeySet();

  /** Creates a binder with no client; pass it to builders, then {@link #monitor} each client. */
  public FailoverMetrics() {}

  /**
   * Adds the gauges of a client built with this object as one of its listeners. Call it once the
   * client is built; for a client of a name already monitored, the name's meters follow the new
   * client from now on.
   *
   * @param client the client
   * @return this object, for {@link #bindTo}
   */
  public FailoverMetrics monitor(FailoverClient client) {
    Objects.requireNonNull(client, "client");
    if (!client.tells(this)) {
      // Its gauges would follow the client, and its counters and timers stay at 0 for good.
      log.warn(
          "FailoverMetrics monitors client '{}', which was not built with it as a listener: its"
              + " gauges follow the client, but its counters and timers (calls, attempts, retries,"
              + " hedges, ejections...) stay at 0; build the client with"
              + " FailoverClient.builder().listener(metrics)",
          client.service());
    }
    FailoverSnapshot first = client.snapshot();
    synchronized (lock) {
      monitored.put(client.service(), new Monitored(new WeakReference<>(client), first));
      warned.remove(client.service());
      MeterRegistry r = registry;
      if (r != null) {
        ClientMeters meters = clients.get(client.service());
        if (meters == null) {
          clients.put(client.service(), new ClientMeters(r, client.service(), client, first));
        } else {
          meters.attach(client, first);
        }
      }
    }
    return this;
  }

  /**
   * Stops monitoring a client: if it is the client monitored under its name (not one that another
   * client of the same name has replaced since), every meter of that name leaves the registry, its
   * counters included, and this object holds nothing of the client any more. Call it before closing
   * a client for good; the client's events are no longer counted (nor warned about). Doing it
   * twice, or for a client never monitored, does nothing.
   *
   * @param client the client
   * @return this object
   */
  public FailoverMetrics unmonitor(FailoverClient client) {
    Objects.requireNonNull(client, "client");
    String name = client.service();
    synchronized (lock) {
      Monitored m = monitored.get(name);
      if (m == null || m.client().get() != client) {
        return this;
      }
      monitored.remove(name);
      // Calls still ending on it (close() cancels them) are no forgotten monitor().
      warned.add(name);
      ClientMeters meters = clients.remove(name);
      if (meters != null) {
        meters.removeAll();
      }
    }
    return this;
  }

  /** A client monitored, held weakly, and its snapshot when it was monitored. */
  private record Monitored(WeakReference<FailoverClient> client, FailoverSnapshot first) {}

  /**
   * Registers the meters of every monitored client, and of clients monitored later, in {@code
   * registry}. Binding again to the same registry does nothing.
   *
   * @param registry the registry
   * @throws IllegalStateException if already bound to another registry: bind one {@code
   *     CompositeMeterRegistry} to publish to several
   */
  @Override
  public void bindTo(MeterRegistry registry) {
    Objects.requireNonNull(registry, "registry");
    synchronized (lock) {
      MeterRegistry current = this.registry;
      if (current == registry) {
        return;
      }
      if (current != null) {
        throw new IllegalStateException(
            "FailoverMetrics is already bound to "
                + current.getClass().getSimpleName()
                + "; bind it once, to a CompositeMeterRegistry to publish to several registries");
      }
      this.registry = registry;
      for (Map.Entry<String, Monitored> e : monitored.entrySet()) {
        FailoverClient client = e.getValue().client().get();
        FailoverSnapshot first = e.getValue().first();
        if (client != null) {
          try {
            first = client.snapshot();
          } catch (RuntimeException closed) {
            // Closed since: its meters read the snapshot taken when it was monitored.
          }
        }
        clients.put(e.getKey(), new ClientMeters(registry, e.getKey(), client, first));
      }
      bound = true;
    }
  }

  private @Nullable ClientMeters meters(String service) {
    return clients.get(service);
  }

  /**
   * Whether an event is counted: not when it comes from a client other than the one monitored under
   * its name (such as one built with {@code newBuilder()} from it, which copies its listeners, or
   * one built for the same service with this listener and not monitored).
   */
  @Override
  boolean takes(FailoverEvent event, Events from) {
    ClientMeters meters = meters(event.service());
    if (meters == null) {
      return true; // not monitored or not bound: counted nowhere, and onCallFinished says why
    }
    FailoverClient monitored = meters.snapshots.client();
    if (monitored == null || monitored.emits(from)) {
      return true;
    }
    if (event instanceof FailoverEvent.CallFinished && warned.add(event.service())) {
      log.info(
          "[{}] FailoverMetrics gets the calls of a client of this name that is not the one passed"
              + " to monitor() (built with newBuilder(), which copies the listeners, or for the"
              + " same service): they are not recorded; this name's meters count the monitored"
              + " client's alone",
          event.service());
    }
    return false;
  }

  @Override
  public void onAttempt(FailoverEvent.AttemptFinished event) {
    ClientMeters meters = meters(event.service());
    if (meters != null) {
      meters.attempt(event.attempt());
    }
  }

  @Override
  public void onRetry(FailoverEvent.RetryScheduled event) {
    ClientMeters meters = meters(event.service());
    if (meters != null) {
      get(meters.retries, event.failed().outcome()).increment();
    }
  }

  @Override
  public void onBudgetExhausted(FailoverEvent.BudgetExhausted event) {
    ClientMeters meters = meters(event.service());
    if (meters != null) {
      meters.budgetExhausted.increment();
    }
  }

  @Override
  public void onEjected(FailoverEvent.EndpointEjected event) {
    ClientMeters meters = meters(event.service());
    EndpointMeters endpoint = meters == null ? null : meters.endpoint(event.endpoint());
    if (endpoint != null) {
      get(endpoint.ejections, event.cause()).increment();
    }
  }

  @Override
  public void onRestored(FailoverEvent.EndpointRestored event) {
    ClientMeters meters = meters(event.service());
    EndpointMeters endpoint = meters == null ? null : meters.endpoint(event.endpoint());
    if (endpoint != null) {
      get(endpoint.restorations, event.cause()).increment();
    }
  }

  @Override
  public void onHedge(FailoverEvent.Hedge event) {
    ClientMeters meters = meters(event.service());
    if (meters != null) {
      get(meters.hedges, event.action()).increment();
    }
  }

  @Override
  public void onZoneEvacuated(FailoverEvent.ZoneEvacuated event) {
    ClientMeters meters = meters(event.service());
    ZoneMeters zone = meters == null ? null : meters.zones.get(event.zone());
    if (zone != null) {
      zone.evacuations.increment();
    }
  }

  @Override
  public void onStaleServed(FailoverEvent.StaleServed event) {
    ClientMeters meters = meters(event.service());
    if (meters != null) {
      meters.staleServed.increment();
    }
  }

  @Override
  public void onEndpointsChanged(FailoverEvent.EndpointsChanged event) {
    // During build() (a source's first list) the client is not monitored yet: monitor() registers
    // what the client has then.
    ClientMeters meters = clients.get(event.service());
    if (meters != null) {
      meters.sync();
    }
  }

  @Override
  public void onCallFinished(FailoverEvent.CallFinished event) {
    ClientMeters meters = meters(event.service());
    if (meters != null) {
      Timer timer = meters.call(TagValues.method(event.method()), TagValues.callOutcome(event));
      if (timer != null) {
        timer.record(event.elapsed());
      }
      meters.follow();
    } else if (bound && warned.add(event.service())) {
      // Only calls tell that monitor() was forgotten: other events (a health check's ejection)
      // may come between build() and monitor().
      log.warn(
          "[{}] FailoverMetrics gets this client's calls but the client was not passed to"
              + " monitor(): its meters are not recorded",
          event.service());
    }
  }

  /** A meter created for every constant of the enum, so present. */
  private static <E extends Enum<E>> Counter get(Map<E, Counter> counters, E key) {
    return Objects.requireNonNull(counters.get(key), key.name());
  }

  /** Endpoints are told apart by address and zone (an endpoint that moves zones is another). */
  private record EndpointKey(String address, Locality locality) {
    static EndpointKey of(Endpoint endpoint) {
      return new EndpointKey(endpoint.address(), endpoint.locality());
    }
  }

  /** A snapshot with its zones and endpoints indexed, as the gauges read it. */
  private record View(
      FailoverSnapshot snapshot,
      Map<Locality, FailoverSnapshot.Zone> zones,
      Map<EndpointKey, FailoverSnapshot.EndpointState> endpoints) {

    static View of(FailoverSnapshot snapshot) {
      Map<Locality, FailoverSnapshot.Zone> zones = new HashMap<>();
      Map<EndpointKey, FailoverSnapshot.EndpointState> endpoints = new HashMap<>();
      for (FailoverSnapshot.Zone zone : snapshot.zones()) {
        zones.put(zone.locality(), zone);
        for (FailoverSnapshot.EndpointState state : zone.endpoints()) {
          endpoints.put(EndpointKey.of(state.endpoint()), state);
        }
      }
      return new View(snapshot, zones, endpoints);
    }
  }

  /**
   * The snapshot of the client a name stands for, taken at most twice a second however many gauges
   * read it. Never empty: when a snapshot cannot be taken (the client is closed, or was collected),
   * the last one stays, so no gauge reads NaN. The client is held weakly: the registry holds the
   * gauges, and they hold this, but not a client that the application dropped.
   */
  private static final class Snapshots {
    private volatile WeakReference<FailoverClient> client; // written under this
    // Guarded by this.
    private View last;
    private long takenAt;

    Snapshots(@Nullable FailoverClient client, FailoverSnapshot first) {
      this.client = new WeakReference<>(client);
      this.last = View.of(first);
      this.takenAt = System.nanoTime();
    }

    synchronized void use(@Nullable FailoverClient client, FailoverSnapshot first) {
      this.client = new WeakReference<>(client);
      this.last = View.of(first);
      this.takenAt = System.nanoTime();
    }

    /** The client, or null once it was collected. */
    @Nullable FailoverClient client() {
      return client.get();
    }

    synchronized View get() {
      long now = System.nanoTime();
      if (now - takenAt > SNAPSHOT_TTL_NANOS) {
        refresh(now);
      }
      return last;
    }

    /**
     * Takes a new snapshot now (the endpoints changed, so the last one lacks some) and returns it.
     */
    synchronized View refresh() {
      refresh(System.nanoTime());
      return last;
    }

    private void refresh(long now) {
      FailoverClient c = client.get();
      try {
        if (c != null) {
          last = View.of(c.snapshot());
        }
      } catch (RuntimeException closed) {
        // Keep the last snapshot: its values are the client's last known state.
      }
      takenAt = now;
    }
  }

  /** The meters of one client name. */
  private static final class ClientMeters {
    final MeterRegistry registry;
    final Tags tags;
    final Snapshots snapshots;
    final Counter budgetExhausted;
    final Counter staleServed;
    final Map<Outcome, Counter> retries = new EnumMap<>(Outcome.class);
    final Map<FailoverEvent.HedgeAction, Counter> hedges =
        new EnumMap<>(FailoverEvent.HedgeAction.class);
    final Map<String, Timer> calls = new ConcurrentHashMap<>();
    final Map<Locality, ZoneMeters> zones = new ConcurrentHashMap<>();
    final Map<EndpointKey, EndpointMeters> endpoints = new ConcurrentHashMap<>();

    /** The client's endpoint list at the last sync, compared by identity. */
    private volatile List<Endpoint> synced = List.of();

    /**
     * The client's configuration at the last sync, compared by identity; held weakly, since it
     * holds the client's core.
     */
    private volatile WeakReference<@Nullable Object> syncedGeneration = new WeakReference<>(null);

    // Guarded by this: the gauges whose presence depends on the client's settings.
    private final List<Meter> hedgeMeters = new ArrayList<>();
    private final List<Meter> discoveryMeters = new ArrayList<>();

    /** The meters of the client as a whole, whatever its settings; guarded by this. */
    private final List<Meter> fixed = new ArrayList<>();

    /** Whether {@link #removeAll()} ran: no meter is registered any more; guarded by this. */
    private boolean removed;

    ClientMeters(
        MeterRegistry registry,
        String name,
        @Nullable FailoverClient client,
        FailoverSnapshot first) {
      this.registry = registry;
      this.tags = Tags.of(CLIENT_NAME, name);
      this.snapshots = new Snapshots(client, first);
      budgetExhausted =
          Counter.builder("failover.budget.exhausted")
              .description("Retries refused because the retry budget was empty")
              .tags(tags)
              .register(registry);
      fixed.add(budgetExhausted);
      staleServed =
          Counter.builder("failover.stale.served")
              .description("Stale responses served because every attempt failed")
              .tags(tags)
              .register(registry);
      fixed.add(staleServed);
      for (Outcome outcome : Outcome.values()) {
        retries.put(
            outcome,
            Counter.builder("failover.retries")
                .description("Retries scheduled, by the outcome of the attempt retried")
                .tags(tags)
                .tag("outcome", TagValues.lower(outcome))
                .register(registry));
      }
      fixed.addAll(retries.values());
      for (FailoverEvent.HedgeAction action : FailoverEvent.HedgeAction.values()) {
        hedges.put(
            action,
            Counter.builder("failover.hedges")
                .description(
                    "Hedges sent, won, cancelled (attempts that lost to another) or refused")
                .tags(tags)
                .tag("action", TagValues.lower(action))
                .register(registry));
      }
      fixed.addAll(hedges.values());
      fixed.add(
          gauge(
              "failover.budget.tokens",
              tags,
              v -> v.snapshot().budgetTokens(),
              "Retries the retry budget would allow now"));
      fixed.add(
          gauge(
              "failover.panic",
              tags,
              v -> v.snapshot().panic() ? 1 : 0,
              "1 while routing is in panic (too few endpoints healthy): it ignores health, or fails"
                  + " every call when it fails closed"));
      fixed.add(
          gauge(
              "failover.client.stalled",
              tags,
              v -> v.snapshot().clientStalled() ? 1 : 0,
              "1 while the client itself is the slow party (its scheduler runs late), so that"
                  + " timeouts are charged to no endpoint or zone"));
      fixed.add(
          FunctionCounter.builder(
                  "failover.client.stalls", snapshots, s -> s.get().snapshot().clientStalls())
              .description("Times the client found itself stalled since it was built")
              .tags(tags)
              .register(registry));
      attach(client, first);
    }

    /** Follows {@code client} from now on: settings-dependent gauges, endpoints and zones. */
    synchronized void attach(@Nullable FailoverClient client, FailoverSnapshot first) {
      snapshots.use(client, first);
      sync();
    }

    /**
     * Removes every meter of the name from the registry; none is registered from then on (events
     * that were under way count on meters no longer in it).
     */
    synchronized void removeAll() {
      removed = true;
      removeAll(fixed);
      removeAll(hedgeMeters);
      removeAll(discoveryMeters);
      calls.values().forEach(registry::remove);
      calls.clear();
      zones.values().forEach(ZoneMeters::remove);
      zones.clear();
      endpoints.values().forEach(EndpointMeters::remove);
      endpoints.clear();
    }

    /**
     * Registers or removes the gauges whose presence depends on the client's settings (a client
     * rebuilt, or reconfigured in place, may turn hedging on or off).
     */
    private void settingsGauges(FailoverSnapshot first) {
      boolean hedging = first.hedgeDelay() != null;
      if (hedging && hedgeMeters.isEmpty()) {
        hedgeMeters.add(
            Gauge.builder(
                    "failover.hedge.delay",
                    snapshots,
                    s -> {
                      Duration delay = s.get().snapshot().hedgeDelay();
                      return delay == null ? 0 : delay.toNanos() / 1e9;
                    })
                .tags(tags)
                .baseUnit("seconds")
                .description("Hedge delay in force (only for clients with hedging on)")
                .strongReference(true)
                .register(registry));
      } else if (!hedging) {
        removeAll(hedgeMeters);
      }
      boolean fromSource = first.discovery().status() != FailoverSnapshot.ListStatus.STATIC;
      if (fromSource && discoveryMeters.isEmpty()) {
        registerDiscovery();
      } else if (!fromSource) {
        removeAll(discoveryMeters);
      }
    }

    /** Meters of a client whose endpoints come from a source: how current its list is. */
    private void registerDiscovery() {
      for (FailoverSnapshot.ListStatus status : FailoverSnapshot.ListStatus.values()) {
        if (status != FailoverSnapshot.ListStatus.STATIC) {
          discoveryMeters.add(
              gauge(
                  "failover.discovery.state",
                  tags.and("state", TagValues.lower(status)),
                  v -> v.snapshot().discovery().status() == status ? 1 : 0,
                  "1 for the state of the endpoint list in use (fallback, current, held, stale),"
                      + " 0 for the others"));
        }
      }
      discoveryMeters.add(
          Gauge.builder(
                  "failover.discovery.list.age",
                  snapshots,
                  s -> {
                    FailoverSnapshot snapshot = s.get().snapshot();
                    return Duration.between(snapshot.discovery().lastGoodList(), snapshot.takenAt())
                            .toMillis()
                        / 1e3;
                  })
              .tags(tags)
              .baseUnit("seconds")
              .description("Time since the endpoint list in use was applied")
              .strongReference(true)
              .register(registry));
      discoveryMeters.add(
          gauge(
              "failover.discovery.endpoints",
              tags,
              v -> v.snapshot().discovery().endpoints(),
              "Endpoints in the list in use"));
      discoveryMeters.add(
          FunctionCounter.builder(
                  "failover.discovery.updates",
                  snapshots,
                  s -> s.get().snapshot().discovery().updates())
              .description("Endpoint lists from the source applied, the first one included")
              .tags(tags)
              .register(registry));
      discoveryMeters.add(
          FunctionCounter.builder(
                  "failover.discovery.held", snapshots, s -> s.get().snapshot().discovery().held())
              .description(
                  "Answers of the source not applied: failures, empty lists, lists that removed"
                      + " too many endpoints at once")
              .tags(tags)
              .register(registry));
    }

    /**
     * Brings the endpoint and zone meters in step with the endpoints the client routes over: meters
     * for those that joined, none left for those that went.
     */
    synchronized void sync() {
      FailoverClient client = snapshots.client();
      if (removed || client == null) {
        return;
      }
      List<Endpoint> list;
      Object generation;
      try {
        generation = client.generation();
        list = client.endpoints();
      } catch (RuntimeException closed) {
        return;
      }
      synced = list;
      syncedGeneration = new WeakReference<>(generation);
      settingsGauges(snapshots.refresh().snapshot());
      Map<EndpointKey, Endpoint> current = new LinkedHashMap<>();
      Set<Locality> localities = new LinkedHashSet<>();
      for (Endpoint endpoint : list) {
        current.putIfAbsent(EndpointKey.of(endpoint), endpoint);
        localities.add(endpoint.locality());
      }
      // Those that went first, then those that joined: whoever sees a new meter sees the old
      // ones gone.
      endpoints.entrySet().removeIf(e -> !current.containsKey(e.getKey()) && e.getValue().remove());
      zones.entrySet().removeIf(e -> !localities.contains(e.getKey()) && e.getValue().remove());
      for (Locality locality : localities) {
        zones.computeIfAbsent(locality, l -> new ZoneMeters(this, l));
      }
      current.forEach((key, endpoint) -> endpoints.computeIfAbsent(key, k -> endpointMeters(k)));
    }

    /**
     * Syncs if the client's endpoint list, or its configuration, is another object than at the last
     * sync: a client reconfigured in place ({@code FailoverClient.reconfigure}) changes its list,
     * or its settings (whether it hedges), without an {@code EndpointsChanged} event; with an
     * endpoint source its list may stay the same object. Cheap: two identity comparisons.
     */
    void follow() {
      FailoverClient client = snapshots.client();
      if (client == null) {
        return;
      }
      List<Endpoint> list;
      Object generation;
      try {
        generation = client.generation();
        list = client.endpoints();
      } catch (RuntimeException closed) {
        return;
      }
      if (list != synced || generation != syncedGeneration.get()) {
        sync();
      }
    }

    @Nullable EndpointMeters endpoint(Endpoint endpoint) {
      return endpoints.get(EndpointKey.of(endpoint));
    }

    void attempt(Attempt attempt) {
      Endpoint endpoint = attempt.endpoint();
      ZoneMeters zone = zones.get(endpoint.locality());
      Counter attempts = zone == null ? null : zone.attempts(attempt.kind(), attempt.outcome());
      if (attempts != null) {
        attempts.increment();
      }
      EndpointMeters meters = this.endpoints.get(EndpointKey.of(endpoint));
      if (meters != null) {
        meters.latency.record(attempt.duration());
      }
    }

    /** The timer of calls of a method and outcome, or null once the meters are removed. */
    @Nullable Timer call(String method, String outcome) {
      String key = method + ' ' + outcome;
      Timer timer = calls.get(key);
      if (timer != null) {
        return timer;
      }
      synchronized (this) {
        if (removed) {
          return null;
        }
        return calls.computeIfAbsent(
            key,
            k ->
                Timer.builder("failover.calls")
                    .description(
                        "Calls through the failover client, every attempt and backoff included")
                    .tags(tags)
                    .tag("method", method)
                    .tag("outcome", outcome)
                    .register(registry));
      }
    }

    Meter gauge(String name, Tags tags, ToDoubleFunction<View> value, String description) {
      return Gauge.builder(name, snapshots, s -> value.applyAsDouble(s.get()))
          .tags(tags)
          .description(description)
          .strongReference(true)
          .register(registry);
    }

    void removeAll(List<Meter> meters) {
      meters.forEach(registry::remove);
      meters.clear();
    }

    private EndpointMeters endpointMeters(EndpointKey key) {
      Tags endpointTags =
          tags.and(
              "region", key.locality().region(),
              "zone", key.locality().zone(),
              "endpoint", key.address());
      return new EndpointMeters(this, key, endpointTags);
    }
  }

  /** The meters of one zone of a client; attempt counters appear at their first attempt. */
  private static final class ZoneMeters {
    final ClientMeters client;
    final Tags tags;
    final Counter evacuations;
    final List<Meter> meters = new ArrayList<>();

    /** Filled lazily, so that only kinds and outcomes that happened have a meter. */
    final Map<Attempt.Kind, Map<Outcome, Counter>> attempts = new EnumMap<>(Attempt.Kind.class);

    private boolean removed; // guarded by this

    ZoneMeters(ClientMeters client, Locality locality) {
      this.client = client;
      this.tags = client.tags.and("region", locality.region(), "zone", locality.zone());
      for (Attempt.Kind kind : Attempt.Kind.values()) {
        attempts.put(kind, new ConcurrentHashMap<>());
      }
      evacuations =
          Counter.builder("failover.zone.evacuations")
              .description(
                  "Times the zone was evacuated: no first attempts until it is clean again")
              .tags(tags)
              .register(client.registry);
      meters.add(evacuations);
      for (FailoverSnapshot.ZoneStatus status : FailoverSnapshot.ZoneStatus.values()) {
        meters.add(
            client.gauge(
                "failover.zone.state",
                tags.and("state", TagValues.lower(status)),
                v -> {
                  FailoverSnapshot.Zone zone = v.zones().get(locality);
                  return zone != null && zone.status() == status ? 1 : 0;
                },
                "1 for the zone's current status (active, evacuated, ramping, shifted), 0 for"
                    + " the others"));
      }
    }

    /** The counter of attempts of a kind and outcome, or null once the zone is gone. */
    @Nullable Counter attempts(Attempt.Kind kind, Outcome outcome) {
      Map<Outcome, Counter> byOutcome = Objects.requireNonNull(attempts.get(kind), kind.name());
      Counter counter = byOutcome.get(outcome);
      if (counter != null) {
        return counter;
      }
      synchronized (this) {
        if (removed) {
          return null;
        }
        counter = byOutcome.get(outcome);
        if (counter == null) {
          counter =
              Counter.builder("failover.attempts")
                  .description("Attempts sent, by zone, kind and outcome")
                  .tags(tags)
                  .tag("attempt.kind", TagValues.lower(kind))
                  .tag("outcome", TagValues.lower(outcome))
                  .register(client.registry);
          meters.add(counter);
          byOutcome.put(outcome, counter);
        }
        return counter;
      }
    }

    /** Removes every meter of the zone from the registry; returns true. */
    synchronized boolean remove() {
      removed = true;
      client.removeAll(meters);
      return true;
    }
  }

  /** The meters of one endpoint of a client, all created when the endpoint joins. */
  private static final class EndpointMeters {
    final ClientMeters client;
    final List<Meter> meters = new ArrayList<>();
    final Timer latency;
    final Map<FailoverEvent.Cause, Counter> ejections = new EnumMap<>(FailoverEvent.Cause.class);
    final Map<FailoverEvent.Cause, Counter> restorations = new EnumMap<>(FailoverEvent.Cause.class);

    EndpointMeters(ClientMeters client, EndpointKey key, Tags tags) {
      this.client = client;
      MeterRegistry registry = client.registry;
      latency =
          Timer.builder("failover.endpoint.latency")
              .description("Duration of attempts to the endpoint, whatever their outcome")
              .tags(tags)
              .register(registry);
      meters.add(latency);
      for (FailoverEvent.Cause cause : FailoverEvent.Cause.values()) {
        Tags causeTags = tags.and("cause", TagValues.lower(cause));
        Counter ejected =
            Counter.builder("failover.endpoint.ejections")
                .description(
                    "Times the endpoint was ejected: its breaker opened, or its health check"
                        + " marked it down (a Retry-After pause is not counted)")
                .tags(causeTags)
                .register(registry);
        Counter restored =
            Counter.builder("failover.endpoint.restorations")
                .description("Times the endpoint returned from an ejection")
                .tags(causeTags)
                .register(registry);
        ejections.put(cause, ejected);
        restorations.put(cause, restored);
        meters.add(ejected);
        meters.add(restored);
      }
      for (FailoverSnapshot.Health health : FailoverSnapshot.Health.values()) {
        meters.add(
            client.gauge(
                "failover.endpoint.state",
                tags.and("state", TagValues.lower(health)),
                v -> {
                  FailoverSnapshot.EndpointState state = v.endpoints().get(key);
                  return state != null && state.health() == health ? 1 : 0;
                },
                "1 for the endpoint's current state (healthy, probing, ejected, down, held_off),"
                    + " 0 for the others"));
      }
      meters.add(
          client.gauge(
              "failover.endpoint.outstanding",
              tags,
              v -> {
                FailoverSnapshot.EndpointState state = v.endpoints().get(key);
                return state == null ? 0 : state.outstanding();
              },
              "Attempts in flight to the endpoint"));
    }

    /** Removes every meter of the endpoint from the registry; returns true. */
    boolean remove() {
      client.removeAll(meters);
      return true;
    }
  }
}
