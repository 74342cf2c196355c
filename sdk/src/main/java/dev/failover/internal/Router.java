package dev.failover.internal;

import dev.failover.EjectionPolicy;
import dev.failover.Endpoint;
import dev.failover.FailoverSnapshot;
import dev.failover.Locality;
import dev.failover.ZonePolicy;
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
 * on Peak-EWMA cost. Evacuated zones count as unhealthy; returning zones and endpoints count with
 * their slow-start ramp. A retry or hedge goes to an endpoint not yet tried, in a zone not yet
 * tried where one exists, in the nearest tier that has one, and to an evacuated zone only as a last
 * resort. When the healthy share of all endpoints is below the panic threshold (or nothing is
 * healthy), routing panics: health is ignored (fail open) or no endpoint is returned (fail closed).
 */
public final class Router {
  static final double OVERPROVISIONING = 1.4;

  private final List<List<EndpointState>> tiers;
  private final List<EndpointState> all;
  private final Zones zones;
  private final int panicThresholdPercent;
  private final boolean panicFailOpen;
  private final RandomGenerator random;

  public Router(
      String service,
      Locality home,
      List<Endpoint> endpoints,
      List<String> regionOrder,
      EjectionPolicy policy,
      ZonePolicy zonePolicy,
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
    Map<Locality, ZoneState> byZone = new LinkedHashMap<>();
    List<EndpointState> everything = new ArrayList<>();
    long windowNanos = zonePolicy.window().toNanos();
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
      ZoneState z =
          byZone.computeIfAbsent(
              e.locality(), l -> new ZoneState(l, tier, 10, Math.max(1, windowNanos / 10)));
      s.zone = z;
      z.endpoints.add(s);
      byTier.computeIfAbsent(tier, k -> new ArrayList<>()).add(s);
      everything.add(s);
    }
    List<List<EndpointState>> ordered = new ArrayList<>();
    byTier.keySet().stream().sorted().forEach(t -> ordered.add(List.copyOf(byTier.get(t))));
    this.tiers = List.copyOf(ordered);
    this.all = List.copyOf(everything);
    List<ZoneState> zoneList = new ArrayList<>(byZone.values());
    zoneList.sort((a, b) -> Integer.compare(a.tier, b.tier));
    this.zones = new Zones(service, zonePolicy, zoneList, events);
  }

  public List<EndpointState> endpoints() {
    return all;
  }

  public Zones zones() {
    return zones;
  }

  List<List<EndpointState>> tiers() {
    return tiers;
  }

  /** Whether {@code s} may take a first attempt. */
  private static boolean routable(EndpointState s, long now) {
    return !s.zone.outOfRotation(now) && s.available(now);
  }

  /** The share of its weight that {@code s} contributes to its tier's health. */
  private double effectiveWeight(EndpointState s, long now) {
    long slow = zones.slowStartNanos;
    return s.endpoint.weight() * s.ramp(now, slow) * s.zone.ramp(now, slow);
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
      double total = 0;
      double healthy = 0;
      for (EndpointState s : tiers.get(i)) {
        total += s.endpoint.weight();
        if (routable(s, now)) {
          healthy += effectiveWeight(s, now);
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
      if (routable(s, now)) {
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
          EndpointState s = p2c(tiers.get(i), now, tried, Mode.ROUTABLE);
          if (s != null) {
            return new Pick(s, false, false);
          }
        }
      }
    }
    // A retry or hedge (or a first attempt in panic, or whose tier had nothing): the nearest tier
    // holding an untried endpoint in an untried zone, then any untried endpoint, then evacuated
    // zones as a last resort.
    Mode[] passes =
        panic
            ? new Mode[] {Mode.ANY_NEW_ZONE, Mode.ANY}
            : new Mode[] {Mode.ROUTABLE_NEW_ZONE, Mode.ROUTABLE, Mode.AVAILABLE, Mode.LAST_RESORT};
    for (Mode mode : passes) {
      for (List<EndpointState> tier : tiers) {
        List<EndpointState> candidates = new ArrayList<>(tier.size());
        for (EndpointState s : tier) {
          if (tried.contains(s)) {
            continue;
          }
          if (mode.newZone && triedZones.contains(s.zoneKey)) {
            continue;
          }
          candidates.add(s);
        }
        EndpointState s = p2c(candidates, now, List.of(), mode);
        if (s != null) {
          boolean lastResort = !panic && (mode == Mode.LAST_RESORT || s.zone.outOfRotation(now));
          return new Pick(s, panic, lastResort);
        }
      }
    }
    return null;
  }

  /** Picks an endpoint of {@code zone} for a probe, or null if none takes traffic. */
  @Nullable EndpointState probe(ZoneState zone, long now) {
    return p2c(zone.endpoints, now, List.of(), Mode.AVAILABLE);
  }

  private enum Mode {
    ROUTABLE(false),
    ROUTABLE_NEW_ZONE(true),
    AVAILABLE(false),
    ANY(false),
    ANY_NEW_ZONE(true),
    LAST_RESORT(false);

    final boolean newZone;

    Mode(boolean newZone) {
      this.newZone = newZone;
    }

    boolean accepts(EndpointState s, long now) {
      return switch (this) {
        case ROUTABLE, ROUTABLE_NEW_ZONE -> routable(s, now);
        case AVAILABLE -> s.available(now);
        case ANY, ANY_NEW_ZONE -> true;
        // Ejected or down endpoints, when nothing else is left; never one a server held off.
        case LAST_RESORT -> s.health(now) != FailoverSnapshot.Health.HELD_OFF;
      };
    }
  }

  /** Power of two choices on cost among the acceptable, untried members of {@code group}. */
  private @Nullable EndpointState p2c(
      List<EndpointState> group, long now, Collection<EndpointState> tried, Mode mode) {
    EndpointState a = null;
    EndpointState b = null;
    int seen = 0;
    // Reservoir-sample two distinct candidates in one pass.
    for (EndpointState s : group) {
      if (tried.contains(s) || !mode.accepts(s, now)) {
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
    long slow = zones.slowStartNanos;
    double ca = a.cost(now, slow);
    double cb = b.cost(now, slow);
    if (ca == cb) {
      return random.nextBoolean() ? a : b;
    }
    return ca < cb ? a : b;
  }

  /** A live snapshot of every zone. */
  public List<FailoverSnapshot.Zone> snapshot(long now) {
    List<FailoverSnapshot.Zone> out = new ArrayList<>();
    for (ZoneState z : zones.all()) {
      List<FailoverSnapshot.EndpointState> eps = new ArrayList<>();
      for (EndpointState s : z.endpoints) {
        eps.add(s.snapshot(now));
      }
      long[] t = z.totals(now);
      boolean shifted = z.shifted(now);
      out.add(
          new FailoverSnapshot.Zone(
              z.locality,
              z.tier,
              shifted
                  ? FailoverSnapshot.ZoneStatus.SHIFTED
                  : FailoverSnapshot.ZoneStatus.valueOf(z.phase.name()),
              shifted
                  ? "shifted away by " + z.shiftedBy + " until " + z.shiftedUntilInstant
                  : z.reason,
              z.evacuations.get(),
              t[0] == 0 ? 0 : (float) (100.0 * t[1] / t[0]),
              java.time.Duration.ofNanos(t[2] == 0 ? 0 : t[3] / t[2]),
              eps));
    }
    return out;
  }

  /**
   * A chosen endpoint; {@code panic} tells that it was chosen regardless of health, {@code
   * lastResort} that everything in rotation was tried and it is in an evacuated zone or ejected.
   */
  public record Pick(EndpointState endpoint, boolean panic, boolean lastResort) {}
}
