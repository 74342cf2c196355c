package dev.failover.spring.boot.autoconfigure;

import dev.failover.Endpoint;
import dev.failover.FailoverClient;
import dev.failover.FailoverEvent;
import dev.failover.FailoverListener;
import dev.failover.FailoverSnapshot;
import dev.failover.Locality;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.ToDoubleFunction;
import org.jspecify.annotations.Nullable;
import org.springframework.http.HttpStatus;

/**
 * Micrometer meters of every failover client: a listener for counters and timers, and gauges on
 * each client's live state.
 *
 * <table>
 *   <caption>Meters</caption>
 *   <tr><th>name</th><th>type</th><th>tags</th></tr>
 *   <tr><td>failover.calls</td><td>timer</td><td>client, method, outcome</td></tr>
 *   <tr><td>failover.attempts</td><td>counter</td><td>client, region, zone, kind, outcome</td></tr>
 *   <tr><td>failover.retries</td><td>counter</td><td>client, outcome</td></tr>
 *   <tr><td>failover.budget.exhausted</td><td>counter</td><td>client</td></tr>
 *   <tr><td>failover.budget.tokens</td><td>gauge</td><td>client</td></tr>
 *   <tr><td>failover.panic</td><td>gauge</td><td>client</td></tr>
 *   <tr><td>failover.endpoint.latency</td><td>timer</td><td>client, region, zone, endpoint</td></tr>
 *   <tr><td>failover.endpoint.ejections</td><td>counter</td><td>client, region, zone, endpoint,
 *       cause</td></tr>
 *   <tr><td>failover.endpoint.restorations</td><td>counter</td><td>client, region, zone,
 *       endpoint, cause</td></tr>
 *   <tr><td>failover.endpoint.state</td><td>gauge</td><td>client, region, zone, endpoint,
 *       state</td></tr>
 *   <tr><td>failover.endpoint.outstanding</td><td>gauge</td><td>client, region, zone,
 *       endpoint</td></tr>
 *   <tr><td>failover.hedges</td><td>counter</td><td>client, action</td></tr>
 *   <tr><td>failover.hedge.delay</td><td>gauge (seconds)</td><td>client</td></tr>
 *   <tr><td>failover.stale.served</td><td>counter</td><td>client</td></tr>
 *   <tr><td>failover.zone.evacuations</td><td>counter</td><td>client, region, zone</td></tr>
 *   <tr><td>failover.zone.state</td><td>gauge</td><td>client, region, zone, state</td></tr>
 *   <tr><td>failover.discovery.state</td><td>gauge</td><td>client, state</td></tr>
 *   <tr><td>failover.discovery.list.age</td><td>gauge (seconds)</td><td>client</td></tr>
 *   <tr><td>failover.discovery.endpoints</td><td>gauge</td><td>client</td></tr>
 *   <tr><td>failover.discovery.updates</td><td>function counter</td><td>client</td></tr>
 *   <tr><td>failover.discovery.held</td><td>function counter</td><td>client</td></tr>
 * </table>
 *
 * <p>Endpoint and zone gauges follow the endpoints a client routes over: with endpoints from a
 * registry, gauges appear for endpoints that join and are removed for those that leave. The {@code
 * failover.discovery.*} meters exist only for clients whose endpoints come from a source.
 */
final class FailoverMetrics implements ClientInstrumentation {
  private static final long SNAPSHOT_TTL_NANOS = 500_000_000L;

  private final MeterRegistry registry;
  private final Map<String, Topology> topologies = new ConcurrentHashMap<>();

  FailoverMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  @Override
  public FailoverListener listener(String clientName) {
    return new Listener(clientName);
  }

  @Override
  public void bind(String clientName, FailoverClient client) {
    Snapshots snapshots = new Snapshots(client);
    Tags clientTags = Tags.of("client", clientName);
    gauge(
        "failover.budget.tokens",
        clientTags,
        snapshots,
        s -> s.budgetTokens(),
        "Retries the retry budget would allow now");
    gauge(
        "failover.panic",
        clientTags,
        snapshots,
        s -> s.panic() ? 1 : 0,
        "1 while routing ignores health because too few endpoints are healthy");
    gauge(
        "failover.client.stalled",
        clientTags,
        snapshots,
        s -> s.clientStalled() ? 1 : 0,
        "1 while the client itself is the slow party (its scheduler runs late), so that timeouts"
            + " are charged to no endpoint or zone");
    gauge(
        "failover.client.stalls",
        clientTags,
        snapshots,
        s -> s.clientStalls(),
        "Times the client found itself stalled since it was built");
    if (client.snapshot().hedgeDelay() != null) {
      // Only with hedging on: a gauge never reports NaN.
      Gauge.builder(
              "failover.hedge.delay",
              snapshots,
              s -> {
                FailoverSnapshot snapshot = s.get();
                Duration delay = snapshot == null ? null : snapshot.hedgeDelay();
                return delay == null ? Double.NaN : delay.toNanos() / 1e9;
              })
          .tags(clientTags)
          .baseUnit("seconds")
          .description("Hedge delay in force")
          .strongReference(true)
          .register(registry);
    }
    if (client.snapshot().discovery().status() != FailoverSnapshot.ListStatus.STATIC) {
      bindDiscovery(clientTags, snapshots);
    }
    Topology topology = new Topology(clientName, client, snapshots);
    topologies.put(clientName, topology);
    topology.sync();
  }

  /** Meters of a client whose endpoints come from a source: how current its list is. */
  private void bindDiscovery(Tags clientTags, Snapshots snapshots) {
    for (FailoverSnapshot.ListStatus status : FailoverSnapshot.ListStatus.values()) {
      if (status == FailoverSnapshot.ListStatus.STATIC) {
        continue;
      }
      gauge(
          "failover.discovery.state",
          clientTags.and("state", status.name()),
          snapshots,
          s -> s.discovery().status() == status ? 1 : 0,
          "1 for the state of the endpoint list in use (FALLBACK, CURRENT, HELD, STALE), 0 for the"
              + " others");
    }
    Gauge.builder(
            "failover.discovery.list.age",
            snapshots,
            s -> {
              FailoverSnapshot snapshot = s.get();
              return snapshot == null
                  ? Double.NaN
                  : Duration.between(snapshot.discovery().lastGoodList(), snapshot.takenAt())
                          .toMillis()
                      / 1e3;
            })
        .tags(clientTags)
        .baseUnit("seconds")
        .description("Time since the endpoint list in use was applied")
        .strongReference(true)
        .register(registry);
    gauge(
        "failover.discovery.endpoints",
        clientTags,
        snapshots,
        s -> s.discovery().endpoints(),
        "Endpoints in the list in use");
    functionCounter(
        "failover.discovery.updates",
        clientTags,
        snapshots,
        s -> s.discovery().updates(),
        "Endpoint lists from the source applied, the first one included");
    functionCounter(
        "failover.discovery.held",
        clientTags,
        snapshots,
        s -> s.discovery().held(),
        "Answers of the source not applied: failures, empty lists, lists that removed too many"
            + " endpoints at once");
  }

  private void functionCounter(
      String name,
      Tags tags,
      Snapshots snapshots,
      ToDoubleFunction<FailoverSnapshot> value,
      String description) {
    FunctionCounter.builder(
            name,
            snapshots,
            s -> {
              FailoverSnapshot snapshot = s.get();
              return snapshot == null ? Double.NaN : value.applyAsDouble(snapshot);
            })
        .tags(tags)
        .description(description)
        .register(registry);
  }

  private Gauge gauge(
      String name,
      Tags tags,
      Snapshots snapshots,
      ToDoubleFunction<FailoverSnapshot> value,
      String description) {
    return Gauge.builder(
            name,
            snapshots,
            s -> {
              FailoverSnapshot snapshot = s.get();
              return snapshot == null ? Double.NaN : value.applyAsDouble(snapshot);
            })
        .tags(tags)
        .description(description)
        .strongReference(true)
        .register(registry);
  }

  private static FailoverSnapshot.@Nullable EndpointState find(
      FailoverSnapshot snapshot, Endpoint endpoint) {
    for (FailoverSnapshot.Zone zone : snapshot.zones()) {
      for (FailoverSnapshot.EndpointState state : zone.endpoints()) {
        if (state.endpoint().address().equals(endpoint.address())) {
          return state;
        }
      }
    }
    return null;
  }

  private static FailoverSnapshot.@Nullable Zone find(
      FailoverSnapshot snapshot, Locality locality) {
    for (FailoverSnapshot.Zone zone : snapshot.zones()) {
      if (zone.locality().equals(locality)) {
        return zone;
      }
    }
    return null;
  }

  private static Tags zoneTags(String client, Locality locality) {
    return Tags.of("client", client, "region", locality.region(), "zone", locality.zone());
  }

  private static Tags endpointTags(String client, Endpoint endpoint) {
    return Tags.of(
        "client", client,
        "region", endpoint.locality().region(),
        "zone", endpoint.locality().zone(),
        "endpoint", endpoint.address());
  }

  /** Outcome of a call, as Spring names HTTP client outcomes, or the failure reason. */
  static String callOutcome(FailoverEvent.CallFinished event) {
    if (event.failure() != null) {
      return event.failure().name();
    }
    HttpStatus.Series series = HttpStatus.Series.resolve(event.status());
    return series == null
        ? "UNKNOWN"
        : switch (series) {
          case INFORMATIONAL -> "INFORMATIONAL";
          case SUCCESSFUL -> "SUCCESS";
          case REDIRECTION -> "REDIRECTION";
          case CLIENT_ERROR -> "CLIENT_ERROR";
          case SERVER_ERROR -> "SERVER_ERROR";
        };
  }

  /**
   * The endpoint and zone gauges of one client, kept in step with the endpoints it routes over:
   * gauges are added for endpoints and zones that appear and removed for those that go.
   */
  private final class Topology {
    private final String clientName;
    private final FailoverClient client;
    private final Snapshots snapshots;
    // Guarded by this.
    private final Map<String, List<Meter>> endpointMeters = new HashMap<>();
    private final Map<Locality, List<Meter>> zoneMeters = new HashMap<>();

    Topology(String clientName, FailoverClient client, Snapshots snapshots) {
      this.clientName = clientName;
      this.client = client;
      this.snapshots = snapshots;
    }

    synchronized void sync() {
      List<Endpoint> endpoints;
      try {
        endpoints = client.endpoints();
      } catch (RuntimeException closed) {
        return;
      }
      Map<String, Endpoint> current = new LinkedHashMap<>();
      Set<Locality> localities = new LinkedHashSet<>();
      for (Endpoint endpoint : endpoints) {
        current.putIfAbsent(endpoint.address(), endpoint);
        localities.add(endpoint.locality());
      }
      for (Locality locality : localities) {
        zoneMeters.computeIfAbsent(locality, this::zoneGauges);
      }
      for (Endpoint endpoint : current.values()) {
        endpointMeters.computeIfAbsent(endpoint.address(), a -> endpointGauges(endpoint));
      }
      endpointMeters.entrySet().removeIf(e -> !current.containsKey(e.getKey()) && remove(e));
      zoneMeters.entrySet().removeIf(e -> !localities.contains(e.getKey()) && remove(e));
    }

    private boolean remove(Map.Entry<?, List<Meter>> entry) {
      entry.getValue().forEach(registry::remove);
      return true;
    }

    private List<Meter> zoneGauges(Locality locality) {
      List<Meter> meters = new ArrayList<>();
      Tags tags = zoneTags(clientName, locality);
      for (FailoverSnapshot.ZoneStatus status : FailoverSnapshot.ZoneStatus.values()) {
        meters.add(
            gauge(
                "failover.zone.state",
                tags.and("state", status.name()),
                snapshots,
                s -> {
                  FailoverSnapshot.Zone zone = find(s, locality);
                  return zone != null && zone.status() == status ? 1 : 0;
                },
                "1 for the zone's current status, 0 for the others"));
      }
      return meters;
    }

    private List<Meter> endpointGauges(Endpoint endpoint) {
      List<Meter> meters = new ArrayList<>();
      Tags tags = endpointTags(clientName, endpoint);
      for (FailoverSnapshot.Health health : FailoverSnapshot.Health.values()) {
        meters.add(
            gauge(
                "failover.endpoint.state",
                tags.and("state", health.name()),
                snapshots,
                s -> {
                  FailoverSnapshot.EndpointState state = find(s, endpoint);
                  return state != null && state.health() == health ? 1 : 0;
                },
                "1 for the endpoint's current state, 0 for the others"));
      }
      meters.add(
          gauge(
              "failover.endpoint.outstanding",
              tags,
              snapshots,
              s -> {
                FailoverSnapshot.EndpointState state = find(s, endpoint);
                return state == null ? Double.NaN : state.outstanding();
              },
              "Attempts in flight to the endpoint"));
      return meters;
    }
  }

  /** A client's snapshot, taken at most twice a second however many gauges read it. */
  private static final class Snapshots {
    private final FailoverClient client;
    private @Nullable FailoverSnapshot last;
    private long takenAt;

    Snapshots(FailoverClient client) {
      this.client = client;
    }

    synchronized @Nullable FailoverSnapshot get() {
      long now = System.nanoTime();
      FailoverSnapshot s = last;
      if (s == null || now - takenAt > SNAPSHOT_TTL_NANOS) {
        try {
          s = client.snapshot();
        } catch (RuntimeException closed) {
          return null;
        }
        last = s;
        takenAt = now;
      }
      return s;
    }
  }

  private final class Listener implements FailoverListener {
    private final String client;

    Listener(String client) {
      this.client = client;
    }

    @Override
    public void onAttempt(FailoverEvent.AttemptFinished event) {
      Endpoint endpoint = event.attempt().endpoint();
      Counter.builder("failover.attempts")
          .description("Attempts sent, by zone, kind and outcome")
          .tags(
              "client", client,
              "region", endpoint.locality().region(),
              "zone", endpoint.locality().zone(),
              "kind", event.attempt().kind().name(),
              "outcome", event.attempt().outcome().name())
          .register(registry)
          .increment();
      Timer.builder("failover.endpoint.latency")
          .description("Duration of attempts to the endpoint, whatever their outcome")
          .tags(endpointTags(client, endpoint))
          .register(registry)
          .record(event.attempt().duration());
    }

    @Override
    public void onRetry(FailoverEvent.RetryScheduled event) {
      Counter.builder("failover.retries")
          .description("Retries scheduled, by the outcome of the attempt retried")
          .tags("client", client, "outcome", event.failed().outcome().name())
          .register(registry)
          .increment();
    }

    @Override
    public void onBudgetExhausted(FailoverEvent.BudgetExhausted event) {
      Counter.builder("failover.budget.exhausted")
          .description("Retries refused because the retry budget was empty")
          .tags("client", client)
          .register(registry)
          .increment();
    }

    @Override
    public void onEjected(FailoverEvent.EndpointEjected event) {
      Counter.builder("failover.endpoint.ejections")
          .description("Times the endpoint was taken out of rotation")
          .tags(endpointTags(client, event.endpoint()).and("cause", event.cause().name()))
          .register(registry)
          .increment();
    }

    @Override
    public void onRestored(FailoverEvent.EndpointRestored event) {
      Counter.builder("failover.endpoint.restorations")
          .description("Times the endpoint returned to rotation")
          .tags(endpointTags(client, event.endpoint()).and("cause", event.cause().name()))
          .register(registry)
          .increment();
    }

    @Override
    public void onHedge(FailoverEvent.Hedge event) {
      Counter.builder("failover.hedges")
          .description("Hedges sent, won, cancelled (attempts that lost to another) or refused")
          .tags("client", client, "action", event.action().name())
          .register(registry)
          .increment();
    }

    @Override
    public void onZoneEvacuated(FailoverEvent.ZoneEvacuated event) {
      Counter.builder("failover.zone.evacuations")
          .description("Times the zone was evacuated: no first attempts until it is clean again")
          .tags(zoneTags(client, event.zone()))
          .register(registry)
          .increment();
    }

    @Override
    public void onEndpointsChanged(FailoverEvent.EndpointsChanged event) {
      // Before bind() (a first list during build()), bind() registers what the client has then.
      Topology topology = topologies.get(client);
      if (topology != null) {
        topology.sync();
      }
    }

    @Override
    public void onStaleServed(FailoverEvent.StaleServed event) {
      Counter.builder("failover.stale.served")
          .description("Stale responses served because every attempt failed")
          .tags("client", client)
          .register(registry)
          .increment();
    }

    @Override
    public void onCallFinished(FailoverEvent.CallFinished event) {
      Timer.builder("failover.calls")
          .description("Calls through the failover client, every attempt and backoff included")
          .tags("client", client, "method", event.method(), "outcome", callOutcome(event))
          .register(registry)
          .record(event.elapsed());
    }
  }
}
