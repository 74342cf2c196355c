package dev.failover.internal;

import dev.failover.EjectionPolicy;
import dev.failover.Endpoint;
import dev.failover.FailoverSnapshot;
import dev.failover.Locality;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.random.RandomGenerator;
import org.jspecify.annotations.Nullable;

/**
 * Chooses the endpoint of each attempt.
 *
 * <p>Endpoints form tiers by locality relative to home: the home zone, the other zones of the home
 * region, then each other region in order. A first attempt picks a tier by Envoy's priority rule (a
 * tier's health is min(100, 1.4 x its healthy share), and traffic spills to the next tiers in
 * proportion to the health a tier lacks), then an endpoint inside the tier by power of two choices
 * on Peak-EWMA cost. A retry goes to an endpoint not yet tried, in a zone not yet tried where one
 * exists, in the nearest tier that has one. When the healthy share of all endpoints is below the
 * panic threshold (or nothing is healthy), routing panics: health is ignored (fail open) or no
 * endpoint is returned (fail closed).
 */
public final class Router {
  static final double OVERPROVISIONING = 1.4;

  private final List<List<EndpointState>> tiers;
  private final List<EndpointState> all;
  private final int panicThresholdPercent;
  private final boolean panicFailOpen;
  private final RandomGenerator random;

  public Router(
      String service,
      Locality home,
      List<Endpoint> endpoints,
      List<String> regionOrder,
      EjectionPolicy policy,
      int panicThresholdPercent,
      boolean panicFailOpen,
      Clock clock,
      Ticker ticker,
      RandomGenerator random,
      Events events) {
    this.panicThresholdPercent = panicThresholdPercent;
    this.panicFailOpen = panicFailOpen;
    this.random = random;
    List<String> regions = new ArrayList<>();
    regions.add(home.region());
    for (String r : regionOrder) {
      if (!regions.contains(r)) {
        regions.add(r);
      }
    }
    for (Endpoint e : endpoints) {
      if (!regions.contains(e.locality().region())) {
        regions.add(e.locality().region());
      }
    }
    // tier 0: home zone; tier 1: rest of home region; tier 1 + i: i-th other region.
    Map<Integer, List<EndpointState>> byTier = new LinkedHashMap<>();
    List<EndpointState> everything = new ArrayList<>();
    for (Endpoint e : endpoints) {
      int tier;
      if (e.locality().equals(home)) {
        tier = 0;
      } else if (e.locality().region().equals(home.region())) {
        tier = 1;
      } else {
        tier = 1 + regions.indexOf(e.locality().region());
      }
      EndpointState s = new EndpointState(service, e, tier, policy, clock, ticker, random, events);
      byTier.computeIfAbsent(tier, k -> new ArrayList<>()).add(s);
      everything.add(s);
    }
    List<List<EndpointState>> ordered = new ArrayList<>();
    byTier.keySet().stream().sorted().forEach(t -> ordered.add(List.copyOf(byTier.get(t))));
    this.tiers = List.copyOf(ordered);
    this.all = List.copyOf(everything);
  }

  public List<EndpointState> endpoints() {
    return all;
  }

  List<List<EndpointState>> tiers() {
    return tiers;
  }

  /**
   * Returns each non-empty tier's share of first attempts, in percent, summing to 100; all zero in
   * panic.
   */
  public double[] tierLoads(long now) {
    int n = tiers.size();
    double[] health = new double[n];
    double sum = 0;
    for (int i = 0; i < n; i++) {
      long total = 0;
      long healthy = 0;
      for (EndpointState s : tiers.get(i)) {
        total += s.endpoint.weight();
        if (s.available(now)) {
          healthy += s.endpoint.weight();
        }
      }
      health[i] = total == 0 ? 0 : Math.min(100.0, OVERPROVISIONING * 100.0 * healthy / total);
      sum += health[i];
    }
    double[] load = new double[n];
    if (sum == 0) {
      return load;
    }
    double remaining = 100;
    for (int i = 0; i < n; i++) {
      load[i] = Math.min(health[i], remaining);
      remaining -= load[i];
    }
    double total = Math.min(100, sum);
    if (total < 100) {
      for (int i = 0; i < n; i++) {
        load[i] = load[i] * 100 / total;
      }
    }
    return load;
  }

  /** Whether routing is in panic at {@code now}. */
  public boolean panic(long now) {
    long total = 0;
    long healthy = 0;
    for (EndpointState s : all) {
      total += s.endpoint.weight();
      if (s.available(now)) {
        healthy += s.endpoint.weight();
      }
    }
    return healthy == 0 || healthy * 100 < (long) panicThresholdPercent * total;
  }

  /**
   * Picks the endpoint of an attempt, excluding those in {@code tried}; {@code triedZones} holds
   * the zones already tried by this call. Returns null when nothing may be tried.
   */
  public @Nullable Pick pick(
      long now, Collection<EndpointState> tried, Collection<String> triedZones) {
    boolean panic = panic(now);
    if (panic && !panicFailOpen) {
      return null;
    }
    if (tried.isEmpty() && !panic) {
      double[] loads = tierLoads(now);
      double r = random.nextDouble() * 100;
      for (int i = 0; i < loads.length; i++) {
        r -= loads[i];
        if (r < 0 || i == loads.length - 1) {
          EndpointState s = p2c(tiers.get(i), now, tried, false);
          if (s != null) {
            return new Pick(s, false);
          }
        }
      }
    }
    // A retry (or a first attempt in panic, or whose tier had nothing): nearest tier holding an
    // untried endpoint in an untried zone, then the nearest holding any untried endpoint.
    for (boolean newZoneOnly : new boolean[] {true, false}) {
      for (List<EndpointState> tier : tiers) {
        List<EndpointState> candidates = new ArrayList<>(tier.size());
        for (EndpointState s : tier) {
          if (tried.contains(s)) {
            continue;
          }
          if (newZoneOnly && triedZones.contains(s.zoneKey)) {
            continue;
          }
          if (panic || s.available(now)) {
            candidates.add(s);
          }
        }
        EndpointState s = p2c(candidates, now, List.of(), panic);
        if (s != null) {
          return new Pick(s, panic);
        }
      }
    }
    return null;
  }

  /** Power of two choices on cost among the available, untried members of {@code group}. */
  private @Nullable EndpointState p2c(
      List<EndpointState> group, long now, Collection<EndpointState> tried, boolean ignoreHealth) {
    EndpointState a = null;
    EndpointState b = null;
    int seen = 0;
    // Reservoir-sample two distinct candidates in one pass without allocating.
    for (EndpointState s : group) {
      if (tried.contains(s) || !(ignoreHealth || s.available(now))) {
        continue;
      }
      seen++;
      if (seen == 1) {
        a = s;
      } else if (seen == 2) {
        b = s;
      } else {
        int j = random.nextInt(seen);
        if (j == 0) {
          a = s;
        } else if (j == 1) {
          b = s;
        }
      }
    }
    if (b == null) {
      return a;
    }
    if (a == null) {
      return b;
    }
    double ca = a.cost(now);
    double cb = b.cost(now);
    if (ca == cb) {
      return random.nextBoolean() ? a : b;
    }
    return ca < cb ? a : b;
  }

  /** A live snapshot of every zone. */
  public List<FailoverSnapshot.Zone> zones(long now) {
    Map<String, List<FailoverSnapshot.EndpointState>> byZone = new LinkedHashMap<>();
    Map<String, EndpointState> first = new LinkedHashMap<>();
    for (List<EndpointState> tier : tiers) {
      for (EndpointState s : tier) {
        byZone.computeIfAbsent(s.zoneKey, k -> new ArrayList<>()).add(s.snapshot(now));
        first.putIfAbsent(s.zoneKey, s);
      }
    }
    List<FailoverSnapshot.Zone> zones = new ArrayList<>();
    for (Map.Entry<String, List<FailoverSnapshot.EndpointState>> e : byZone.entrySet()) {
      EndpointState s = first.get(e.getKey());
      if (s != null) {
        zones.add(new FailoverSnapshot.Zone(s.endpoint.locality(), s.tier, e.getValue()));
      }
    }
    return zones;
  }

  /** A chosen endpoint; {@code panic} tells that it was chosen regardless of health. */
  public record Pick(EndpointState endpoint, boolean panic) {}
}
