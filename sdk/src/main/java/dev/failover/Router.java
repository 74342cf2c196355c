package dev.failover;

import java.time.Clock;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
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
final class Router {
  static final double OVERPROVISIONING = 1.4;

  /** What routing works on: immutable, replaced as a whole when the endpoint list changes. */
  private record Topology(List<List<EndpointState>> tiers, List<EndpointState> all) {}

  private volatile Topology topology;
  private final Zones zones;
  private final int panicThresholdPercent;
  private final boolean panicFailOpen;
  private final RandomGenerator random;

  // For building endpoint states as the list changes; the region list only ever grows, so an
  // endpoint's tier never changes.
  private final String service;
  private final Locality home;
  private final List<String> regions = new ArrayList<>();
  private final EjectionPolicy policy;
  private final long zoneWindowNanos;
  private final Clock clock;
  private final Ticker ticker;
  private final Events events;

  /**
   * Every zone seen, so that a zone that empties and returns keeps its shift and history; one empty
   * for longer than {@link #REMEMBER_REMOVED_NANOS} (and not shifted, and not home) is forgotten.
   */
  private final Map<Locality, ZoneState> zoneStates = new LinkedHashMap<>();

  /**
   * How long a removed endpoint's state is kept for its return: an endpoint that a source drops for
   * one answer (a registry that re-registers its instances after an outage, DNS servers that
   * disagree, a flapping list) comes back as it left, its ejection, breaker, latency and history
   * kept, not as a new endpoint in slow start that would push the home zone's traffic out.
   */
  static final long REMEMBER_REMOVED_NANOS = TimeUnit.MINUTES.toNanos(5);

  /**
   * The most removed endpoints remembered at once (about 4.5 KB each): a source that replaces its
   * instances by the thousand every few minutes (new addresses each time) must not hold them all;
   * beyond this, the oldest are forgotten, and come back as new endpoints.
   */
  static final int MAX_REMEMBERED_REMOVED = 1024;

  /** Endpoints removed in the last {@link #REMEMBER_REMOVED_NANOS}, by address; guarded by this. */
  private final Map<String, Removed> recentlyRemoved = new LinkedHashMap<>();

  private record Removed(EndpointState state, long at) {}

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
    this.service = service;
    this.home = home;
    this.policy = policy;
    this.zoneWindowNanos = zonePolicy.window().toNanos();
    this.clock = clock;
    this.ticker = ticker;
    this.events = events;
    regions.add(home.region());
    for (String r : regionOrder) {
      if (!regions.contains(r)) {
        regions.add(r);
      }
    }
    this.zones = new Zones(service, zonePolicy, List.of(), events);
    this.topology = new Topology(List.of(), List.of());
    update(endpoints, ticker.nanos(), false);
  }

  /** What {@link #update} changed. */
  public record Change(List<EndpointState> added, List<EndpointState> removed) {
    public boolean isEmpty() {
      return added.isEmpty() && removed.isEmpty();
    }
  }

  /**
   * Replaces the endpoint list. Endpoints that stay (same address and locality) keep their state
   * and take a changed weight; new ones are created, ramping up over the slow start when {@code
   * slowStart}; removed ones are marked so and get no new attempts. An endpoint that moved zones is
   * removed and added. The first occurrence of an address counts.
   */
  public synchronized Change update(List<Endpoint> endpoints, long now, boolean slowStart) {
    Map<String, EndpointState> current = new LinkedHashMap<>();
    for (EndpointState s : topology.all()) {
      current.put(s.endpoint.address(), s);
    }
    List<EndpointState> added = new ArrayList<>();
    Map<String, EndpointState> next = new LinkedHashMap<>();
    for (Endpoint e : endpoints) {
      String address = e.address();
      if (next.containsKey(address)) {
        continue;
      }
      EndpointState old = current.get(address);
      EndpointState s;
      Removed back = old == null ? recentlyRemoved.remove(address) : null;
      if (old != null && old.endpoint.locality().equals(e.locality())) {
        old.endpoint = e; // a new weight, if any
        s = old;
      } else if (back != null
          && back.state.endpoint.locality().equals(e.locality())
          && now - back.at <= REMEMBER_REMOVED_NANOS) {
        // Back soon after it left: the same state (its in-flight attempts, if any, still count).
        s = back.state;
        s.endpoint = e;
        s.removed = false;
        added.add(s);
      } else {
        String region = e.locality().region();
        if (!regions.contains(region)) {
          regions.add(region);
        }
        int tier = tierOf(e.locality());
        s = new EndpointState(service, e, tier, policy, clock, ticker, random, events);
        if (slowStart) {
          s.startSlow(now);
        }
        added.add(s);
      }
      next.put(address, s);
    }
    List<EndpointState> removed = new ArrayList<>();
    for (EndpointState s : current.values()) {
      if (next.get(s.endpoint.address()) != s) {
        removed.add(s);
      }
    }
    Map<Locality, List<EndpointState>> byZone = new LinkedHashMap<>();
    Map<Integer, List<EndpointState>> byTier = new java.util.TreeMap<>();
    for (EndpointState s : next.values()) {
      Locality l = s.endpoint.locality();
      ZoneState z = zoneStates.get(l);
      if (z == null) {
        z = new ZoneState(l, s.tier, 10, Math.max(1, zoneWindowNanos / 10));
        if (slowStart) {
          z.startSlow(now);
        }
        zoneStates.put(l, z);
      }
      s.zone = z;
      byZone.computeIfAbsent(l, k -> new ArrayList<>()).add(s);
      byTier.computeIfAbsent(s.tier, k -> new ArrayList<>()).add(s);
    }
    List<ZoneState> zoneList = new ArrayList<>();
    for (Map.Entry<Locality, List<EndpointState>> en : byZone.entrySet()) {
      ZoneState z = java.util.Objects.requireNonNull(zoneStates.get(en.getKey()));
      z.endpoints = List.copyOf(en.getValue());
      zoneList.add(z);
    }
    for (java.util.Iterator<ZoneState> it = zoneStates.values().iterator(); it.hasNext(); ) {
      ZoneState z = it.next();
      if (byZone.containsKey(z.locality)) {
        z.emptiedAt = ZoneState.NOT_EMPTIED;
        continue;
      }
      z.endpoints = List.of();
      if (z.emptiedAt == ZoneState.NOT_EMPTIED) {
        z.emptiedAt = now;
      } else if (now - z.emptiedAt > REMEMBER_REMOVED_NANOS
          && z.shiftedUntil == Long.MIN_VALUE
          && !z.locality.equals(home)) {
        // Gone for longer than a flapping list is remembered (zone labels that change, a zone
        // retired): forgotten, so that labels that keep changing do not pile up. Not while it
        // holds a shift, even one expired since the zones were last evaluated: that evaluation
        // ends it with its event.
        it.remove();
      }
    }
    zoneList.sort((a, b) -> Integer.compare(a.tier, b.tier));
    Map<String, List<ZoneState>> byRegion = new LinkedHashMap<>();
    for (ZoneState z : zoneList) {
      byRegion.computeIfAbsent(z.locality.region(), k -> new ArrayList<>()).add(z);
    }
    for (ZoneState z : zoneList) {
      z.regionZones = List.copyOf(byRegion.get(z.locality.region()));
    }
    List<List<EndpointState>> ordered = new ArrayList<>();
    for (List<EndpointState> t : byTier.values()) {
      ordered.add(List.copyOf(t));
    }
    zones.replace(zoneList, List.copyOf(zoneStates.values()));
    topology = new Topology(List.copyOf(ordered), List.copyOf(next.values()));
    // Marked after the new list is published: a pick that read the old list and finds its choice
    // marked reads the new one when it picks again (a whole list replaced is not "no endpoint").
    for (EndpointState s : removed) {
      s.incarnation++; // before removed: whoever sees it removed sees the new incarnation too
      s.removed = true;
      recentlyRemoved.put(s.endpoint.address(), new Removed(s, now));
    }
    recentlyRemoved.values().removeIf(r -> now - r.at > REMEMBER_REMOVED_NANOS);
    for (java.util.Iterator<Removed> it = recentlyRemoved.values().iterator();
        recentlyRemoved.size() > MAX_REMEMBERED_REMOVED; ) {
      it.next();
      it.remove(); // the oldest first: the map keeps insertion order
    }
    return new Change(List.copyOf(added), List.copyOf(removed));
  }

  /** How many removed endpoints are remembered for their return; for tests. */
  synchronized int rememberedRemoved() {
    return recentlyRemoved.size();
  }

  /**
   * Makes {@code l} a zone this router knows without endpoints, as if its list had emptied it at
   * {@code now}, so that it can hold a zonal shift carried over from a core that knew the zone
   * ({@link Zones#holdShift}); when the zone's endpoints come back, it is the zone they join. A
   * zone the router knows already is left as it is.
   */
  public synchronized void knowEmptied(Locality l, long now) {
    if (zoneStates.containsKey(l)) {
      return;
    }
    if (!regions.contains(l.region())) {
      regions.add(l.region()); // as a list with the zone would add it, so its tier is the same
    }
    ZoneState z = new ZoneState(l, tierOf(l), 10, Math.max(1, zoneWindowNanos / 10));
    // Emptied long enough ago not to count as a zone a flapping list just lost (Zones'
    // restoreOverTheCap): this core never had its endpoints.
    z.emptiedAt = now - Zones.LIST_FLAP_NANOS;
    zoneStates.put(l, z);
    zones.replace(zones.all(), List.copyOf(zoneStates.values()));
  }

  /** Tier 0: home zone; tier 1: rest of home region; tier 1 + i: the i-th other region. */
  private int tierOf(Locality l) {
    if (l.equals(home)) {
      return 0;
    } else if (l.region().equals(home.region())) {
      return 1;
    }
    return 1 + regions.indexOf(l.region());
  }

  public List<EndpointState> endpoints() {
    return topology.all();
  }

  public Zones zones() {
    return zones;
  }

  List<List<EndpointState>> tiers() {
    return topology.tiers();
  }

  /** Whether {@code s} may take a first attempt. */
  private static boolean routable(EndpointState s, long now) {
    return !s.zone.outOfRotation(now) && s.available(now);
  }

  /**
   * The share of its weight that {@code s} contributes to its tier's health: its zone's ramp (a
   * zone returning from evacuation or a shift takes its share back gradually), not its own. An
   * endpoint's slow start (new to the client, or back from an ejection) spreads traffic inside its
   * tier (its cost, {@link EndpointState#cost}), as Envoy's does within a locality. Counted in the
   * tier's health, it sent part of a healthy home zone's first attempts to other zones and regions
   * while endpoints added to it ramped; and when every tier's endpoints came back at once (a blip
   * that opened every breaker), the equal ramps cancelled out and first attempts were split evenly
   * over the tiers, far regions included; multiplied by a returning zone's ramp, it started a zone
   * that a last resort had just proven at a hundredth of its share.
   */
  private double effectiveWeight(EndpointState s, long now) {
    return s.endpoint.weight() * s.zone.ramp(now, zones.slowStartNanos);
  }

  /**
   * Returns each non-empty tier's share of first attempts, in percent, summing to 100; all zero in
   * panic. Allocates the array: for snapshots and tests; {@link #pick} chooses its tier with {@link
   * #firstTier}, which computes the same shares without arrays.
   */
  public double[] tierLoads(long now) {
    List<List<EndpointState>> tiers = topology.tiers();
    int n = tiers.size();
    double[] health = new double[n];
    double sum = 0;
    for (int i = 0; i < n; i++) {
      health[i] = tierHealth(tiers.get(i), now);
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

  /**
   * A tier's health in percent: min(100, 1.4 x the share of its weight that is routable, counted
   * with slow start).
   */
  private double tierHealth(List<EndpointState> tier, long now) {
    double total = 0;
    double healthy = 0;
    for (int j = 0, m = tier.size(); j < m; j++) {
      EndpointState s = tier.get(j);
      total += s.endpoint.weight();
      if (routable(s, now)) {
        healthy += effectiveWeight(s, now);
      }
    }
    return total == 0 ? 0 : Math.min(100.0, OVERPROVISIONING * 100.0 * healthy / total);
  }

  /**
   * The tier a first attempt starts from for a {@code draw} in [0, 100): the first tier whose
   * cumulative share of {@link #tierLoads} exceeds the draw, else the last tier; -1 without tiers.
   * The shares are computed as {@link #tierLoads} computes them, operation for operation, without
   * arrays, and usually from the first tier alone.
   *
   * <p>Once the tiers' health summed so far reaches 100, so does the sum over all tiers: {@link
   * #tierLoads}' total is then 100 and its shares need no normalizing, so each is known as soon as
   * its tier's health is, and the draw's tier is found in the same pass (a healthy home tier, at
   * 100 by itself, is the only tier looked at). Only when all the tiers' health sums to less than
   * 100 are the shares normalized, in a second pass that computes them again until the draw falls
   * in a tier.
   */
  int firstTier(List<List<EndpointState>> tiers, long now, double draw) {
    int n = tiers.size();
    double sum = 0;
    double remaining = 100;
    double r = draw;
    int chosen = -1;
    for (int i = 0; i < n; i++) {
      double health = tierHealth(tiers.get(i), now);
      sum += health;
      if (chosen < 0) {
        // The share as if the total were 100; right once the sum reaches 100.
        double load = Math.min(health, remaining);
        remaining -= load;
        r -= load;
        if (r < 0 || i == n - 1) {
          chosen = i;
        }
      }
      if (sum >= 100 && chosen >= 0) {
        return chosen;
      }
    }
    // The health of all tiers sums to less than 100: the shares are normalized to sum to 100.
    double total = Math.min(100, sum);
    remaining = 100;
    r = draw;
    for (int i = 0; i < n; i++) {
      double load = 0;
      if (sum != 0) {
        load = Math.min(tierHealth(tiers.get(i), now), remaining);
        remaining -= load;
        if (total < 100) {
          load = load * 100 / total;
        }
      }
      r -= load;
      if (r < 0 || i == n - 1) {
        return i;
      }
    }
    return -1;
  }

  /** Whether routing is in panic at {@code now}. */
  public boolean panic(long now) {
    return panic(topology.all(), now);
  }

  private boolean panic(List<EndpointState> all, long now) {
    if (panicThresholdPercent == 0) {
      // Panic only when nothing is healthy (weights are at least 1): the first routable endpoint
      // settles it, which is the usual first one, so a pick does not walk every endpoint.
      for (int i = 0, n = all.size(); i < n; i++) {
        if (routable(all.get(i), now)) {
          return false;
        }
      }
      return true;
    }
    long total = 0;
    long healthy = 0;
    for (int i = 0, n = all.size(); i < n; i++) {
      EndpointState s = all.get(i);
      if (s.zone.shifted(now)) {
        // Out by an operator's choice, not for its health: a shift of a large zone must not
        // itself push routing into panic, which would send traffic back there.
        continue;
      }
      total += s.endpoint.weight();
      if (routable(s, now)) {
        healthy += s.endpoint.weight();
      }
    }
    return healthy == 0 || healthy * 100 < (long) panicThresholdPercent * total;
  }

  /**
   * Panic with endpoints in rotation that take traffic (too few of them): every endpoint whatever
   * its health, as Envoy's panic routing, but zones an operator shifted away only when nothing else
   * is left.
   */
  private static final Mode[] PANIC_PASSES = {
    Mode.NOT_SHIFTED_NEW_ZONE, Mode.NOT_SHIFTED, Mode.ANY_NEW_ZONE, Mode.ANY
  };

  /**
   * Panic with no endpoint in rotation that takes traffic: an endpoint that takes traffic in an
   * evacuated zone comes before the ejected and refusing ones in rotation, as it does for a retry's
   * last resort; a zone not yet tried comes first, so that a retry leaves a zone whose attempt
   * failed. A zone an operator shifted away is tried only when no other zone has an endpoint left.
   */
  private static final Mode[] UNROUTABLE_PANIC_PASSES = {
    Mode.UNSHIFTED_NEW_ZONE,
    Mode.NOT_SHIFTED_NEW_ZONE,
    Mode.UNSHIFTED,
    Mode.NOT_SHIFTED,
    Mode.ANY_NEW_ZONE,
    Mode.ANY
  };

  /**
   * Outside panic: in rotation (an untried zone first); then as a last resort an endpoint that
   * takes traffic in an evacuated zone, then an ejected or down one; a zone an operator shifted
   * away only after all of these, as in panic (the operator took it out, the detectors only judged
   * the others).
   */
  private static final Mode[] PASSES = {
    Mode.ROUTABLE_NEW_ZONE,
    Mode.ROUTABLE,
    Mode.UNSHIFTED,
    Mode.UNSHIFTED_LAST_RESORT,
    Mode.AVAILABLE,
    Mode.LAST_RESORT
  };

  /**
   * Picks the endpoint of an attempt, excluding those in {@code tried}; {@code triedZones} holds
   * the zones already tried by this call. Returns null when nothing may be tried.
   *
   * <p>A first attempt outside panic allocates nothing: the tier is chosen without arrays, the
   * lists are walked by index, and the pick is the endpoint's own {@link EndpointState#routed}.
   */
  public @Nullable Pick pick(
      long now, Collection<EndpointState> tried, Collection<String> triedZones) {
    Topology t = topology;
    List<List<EndpointState>> tiers = t.tiers();
    boolean panic = panic(t.all(), now);
    if (panic && !panicFailOpen) {
      return failClosedLastResort(tiers, now, tried, triedZones);
    }
    if (tried.isEmpty() && !panic) {
      int first = firstTier(tiers, now, random.nextDouble() * 100);
      for (int i = Math.max(first, 0); first >= 0 && i < tiers.size(); i++) {
        EndpointState s = p2c(tiers.get(i), now, tried, null, Mode.ROUTABLE);
        if (s != null) {
          return s.routed;
        }
      }
    }
    // A retry or hedge (or a first attempt in panic, or whose tier had nothing): the nearest tier
    // holding an untried endpoint in an untried zone, then any untried endpoint, then evacuated
    // zones as a last resort.
    Mode[] passes = PASSES;
    boolean unroutable = false;
    if (panic) {
      unroutable = !anyRoutable(t.all(), now);
      passes = unroutable ? UNROUTABLE_PANIC_PASSES : PANIC_PASSES;
    }
    for (Mode mode : passes) {
      for (int i = 0, n = tiers.size(); i < n; i++) {
        EndpointState s = p2c(tiers.get(i), now, tried, mode.newZone ? triedZones : null, mode);
        if (s != null) {
          // In a panic with nothing in rotation taking traffic, an attempt in a zone out of
          // rotation is a last resort too: if it answers, that zone was wrongly judged and
          // returns at once. (Below the panic threshold, with endpoints in rotation answering, a
          // success there proves nothing of the kind.)
          boolean lastResort =
              panic
                  ? unroutable && s.zone.outOfRotation(now)
                  : mode.lastResort || s.zone.outOfRotation(now);
          return lastResort || panic ? new Pick(s, panic, lastResort) : s.routed;
        }
      }
    }
    return null;
  }

  /**
   * A fail-closed panic returns no endpoint, but when nothing in rotation takes traffic at all, an
   * endpoint that does in an evacuated zone is tried before the call gives up (a zone out of
   * rotation may have been wrongly judged, and no probe goes out in panic to show it): a last
   * resort, in a zone the call has not tried first, nearest tier first; never a zone an operator
   * shifted away. Null otherwise.
   */
  private @Nullable Pick failClosedLastResort(
      List<List<EndpointState>> tiers,
      long now,
      Collection<EndpointState> tried,
      Collection<String> triedZones) {
    if (anyRoutable(topology.all(), now)) {
      return null;
    }
    for (Mode mode : FAIL_CLOSED_LAST_RESORT) {
      for (int i = 0, n = tiers.size(); i < n; i++) {
        EndpointState s = p2c(tiers.get(i), now, tried, mode.newZone ? triedZones : null, mode);
        if (s != null) {
          return new Pick(s, true, true);
        }
      }
    }
    return null;
  }

  private static final Mode[] FAIL_CLOSED_LAST_RESORT = {Mode.UNSHIFTED_NEW_ZONE, Mode.UNSHIFTED};

  /**
   * Whether some endpoint in rotation takes traffic (panic may still hold, below its threshold).
   */
  private static boolean anyRoutable(List<EndpointState> all, long now) {
    for (int i = 0, n = all.size(); i < n; i++) {
      if (routable(all.get(i), now)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Chooses the endpoint of a call's next attempt (its first, a retry or a hedge) and takes the
   * endpoint's breaker permission for it: the endpoints the call {@code tried} are skipped, and
   * {@code triedZones} are avoided where another zone has one. An endpoint whose breaker refuses
   * the permission is skipped for this attempt and the next best is chosen. When the call tried
   * every endpoint (or tried it or had its permission refused), it starts over from all of them but
   * the refused ones rather than give up while its budget and time remain: the pick then says
   * {@link Pick#startedOver() so}, and the call starts a new round of tried endpoints from it.
   * Returns null when nothing may take the attempt.
   *
   * <p>The returned pick {@link Pick#acquired() holds} a permission unless chosen in panic or as a
   * last resort, which ignore breakers. A pick is a last resort only when every endpoint in
   * rotation was tried: one that an endpoint's refused permission (a half-open breaker whose probes
   * are out) pushed out of rotation is an ordinary attempt, which takes a permission and whose
   * success brings no evacuated zone back.
   */
  @Nullable Pick next(long now, Set<EndpointState> tried, Collection<String> triedZones) {
    return next(now, tried, triedZones, List.of());
  }

  /**
   * As {@link #next(long, Set, Collection)}, where {@code running} are the endpoints of the call's
   * attempts in flight: a start over leaves them out (a hedge goes to another endpoint than the
   * attempts it hedges), and finds nothing if nothing else is left.
   */
  @Nullable Pick next(
      long now,
      Set<EndpointState> tried,
      Collection<String> triedZones,
      Collection<EndpointState> running) {
    // Copied only when an endpoint must be skipped: the usual first pick allocates nothing here.
    Set<EndpointState> excluded = tried;
    Set<EndpointState> refused = null;
    Collection<String> zonesTried = triedZones;
    boolean startedOver = false;
    int endpoints = topology.all().size();
    for (int i = 0; i <= endpoints + 1; i++) {
      Pick p = pick(now, excluded, zonesTried);
      if (p == null && !tried.isEmpty() && !startedOver) {
        // Every endpoint was tried or refused its permission: start over, but the refused ones.
        startedOver = true;
        excluded = new HashSet<>(running);
        if (refused != null) {
          excluded.addAll(refused);
        }
        // The new round's tried zones are those of the attempts still in flight, as the call
        // counts them once this pick is made: a hedge leaves the zone of the attempt it hedges.
        if (running.isEmpty()) {
          zonesTried = List.of();
        } else {
          Set<String> zonesRunning = new HashSet<>();
          for (EndpointState s : running) {
            zonesRunning.add(s.zoneKey);
          }
          zonesTried = zonesRunning;
        }
        p = pick(now, excluded, zonesTried);
      }
      if (p == null) {
        return null;
      }
      if (refused != null && p.lastResort() && !p.panic()) {
        // Out of rotation only because a permission was refused here: not a last resort.
        p = new Pick(p.endpoint(), false, false);
      }
      // An endpoint removed from the list while this pick read the one before gets no attempt:
      // removed endpoints are marked after the new list is published, so the next pick reads it.
      if (!p.endpoint().removed && (!p.acquired() || p.endpoint().tryAcquire())) {
        return startedOver ? new Pick(p.endpoint(), p.panic(), p.lastResort(), true) : p;
      }
      if (excluded == tried) {
        excluded = new HashSet<>(tried);
      }
      excluded.add(p.endpoint());
      if (!p.endpoint().removed) {
        if (refused == null) {
          refused = new HashSet<>();
        }
        refused.add(p.endpoint()); // its breaker refused the permission
      }
    }
    return null;
  }

  /**
   * Chooses the endpoint of a probe, if an evacuated zone is due one (about once a second per
   * zone), and takes its breaker permission. Returns null when no probe is due, in panic (every
   * endpoint already gets traffic: a probe would only add load), or when no endpoint of the zone
   * takes traffic.
   */
  @Nullable EndpointState probeFor(long now) {
    ZoneState zone = zones.probeDue(now);
    // Panic is checked after probeDue, which is cheap while no zone is evacuated, to keep panic's
    // scan off the hot path.
    if (zone == null || panic(now)) {
      return null;
    }
    EndpointState ep = probe(zone, now);
    return ep != null && !ep.removed && ep.tryAcquire() ? ep : null;
  }

  /** Picks an endpoint of {@code zone} for a probe, or null if none takes traffic. */
  @Nullable EndpointState probe(ZoneState zone, long now) {
    return p2c(zone.endpoints, now, List.of(), null, Mode.AVAILABLE);
  }

  private enum Mode {
    ROUTABLE(false),
    ROUTABLE_NEW_ZONE(true),
    AVAILABLE(false),
    UNSHIFTED(false),
    UNSHIFTED_NEW_ZONE(true),
    ANY(false),
    ANY_NEW_ZONE(true),
    NOT_SHIFTED(false),
    NOT_SHIFTED_NEW_ZONE(true),
    UNSHIFTED_LAST_RESORT(false),
    LAST_RESORT(false);

    final boolean newZone;

    /** Whether a pick in this pass is a last resort, whatever its zone. */
    final boolean lastResort = name().endsWith("LAST_RESORT");

    Mode(boolean newZone) {
      this.newZone = newZone;
    }

    boolean accepts(EndpointState s, long now) {
      return switch (this) {
        case ROUTABLE, ROUTABLE_NEW_ZONE -> routable(s, now);
        case AVAILABLE -> s.available(now);
        // Takes traffic, in a zone no operator shifted away (an evacuated one is fine).
        case UNSHIFTED, UNSHIFTED_NEW_ZONE -> s.available(now) && !s.zone.shifted(now);
        case ANY, ANY_NEW_ZONE -> true;
        // Whatever its health, in a zone no operator shifted away.
        case NOT_SHIFTED, NOT_SHIFTED_NEW_ZONE -> !s.zone.shifted(now);
        // Ejected or down endpoints, when nothing else is left; never one a server held off.
        case LAST_RESORT -> s.health(now) != FailoverSnapshot.Health.HELD_OFF;
        case UNSHIFTED_LAST_RESORT ->
            !s.zone.shifted(now) && s.health(now) != FailoverSnapshot.Health.HELD_OFF;
      };
    }
  }

  /**
   * Power of two choices on cost among the acceptable members of {@code group} that are not in
   * {@code tried} and, when {@code triedZones} is given, not in one of those zones. The candidates
   * are walked in list order and sampled as they come, so the random draws are those of sampling
   * the filtered list.
   */
  private @Nullable EndpointState p2c(
      List<EndpointState> group,
      long now,
      Collection<EndpointState> tried,
      @Nullable Collection<String> triedZones,
      Mode mode) {
    EndpointState a = null;
    EndpointState b = null;
    int seen = 0;
    // Reservoir-sample two distinct candidates in one pass.
    for (int i = 0, n = group.size(); i < n; i++) {
      EndpointState s = group.get(i);
      if (tried.contains(s)
          || (triedZones != null && triedZones.contains(s.zoneKey))
          || !mode.accepts(s, now)) {
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

  /**
   * A live snapshot of every zone with endpoints and of every zone shifted away that has none (the
   * list emptied it, or a new configuration holds its shift until its endpoints come back), in tier
   * order.
   */
  public List<FailoverSnapshot.Zone> snapshot(long now) {
    List<FailoverSnapshot.Zone> out = new ArrayList<>();
    List<ZoneState> listed = zones.all();
    for (ZoneState z : listed) {
      out.add(snapshot(z, now));
    }
    boolean added = false;
    for (ZoneState z : zones.known()) {
      if (z.endpoints.isEmpty() && z.shifted(now) && !listed.contains(z)) {
        out.add(snapshot(z, now));
        added = true;
      }
    }
    if (added) {
      out.sort(java.util.Comparator.comparingInt(FailoverSnapshot.Zone::tier)); // stable
    }
    return out;
  }

  private static FailoverSnapshot.Zone snapshot(ZoneState z, long now) {
    List<FailoverSnapshot.EndpointState> eps = new ArrayList<>();
    for (EndpointState s : z.endpoints) {
      eps.add(s.snapshot(now));
    }
    long[] t = z.totals(now);
    boolean shifted = z.shifted(now);
    return new FailoverSnapshot.Zone(
        z.locality,
        z.tier,
        shifted
            ? FailoverSnapshot.ZoneStatus.SHIFTED
            : FailoverSnapshot.ZoneStatus.valueOf(z.phase.name()),
        shifted ? "shifted away by " + z.shiftedBy + " until " + z.shiftedUntilInstant : z.reason,
        z.evacuations.get(),
        t[0] == 0 ? 0 : (float) (100.0 * t[1] / t[0]),
        java.time.Duration.ofNanos(t[2] == 0 ? 0 : t[3] / t[2]),
        eps);
  }

  /**
   * A chosen endpoint; {@code panic} tells that it was chosen regardless of health, {@code
   * lastResort} that everything in rotation was tried and it is in an evacuated zone or ejected.
   */
  public record Pick(
      EndpointState endpoint, boolean panic, boolean lastResort, boolean startedOver) {
    Pick(EndpointState endpoint, boolean panic, boolean lastResort) {
      this(endpoint, panic, lastResort, false);
    }

    /** Whether the attempt holds a breaker permission (not chosen in panic or as a last resort). */
    boolean acquired() {
      return !panic && !lastResort;
    }
  }
}
