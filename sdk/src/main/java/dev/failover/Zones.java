package dev.failover;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Judges zones as failure domains once a second: evacuates a zone whose endpoints are mostly
 * ejected or whose error rate or latency stands out against the others, and returns it after it
 * stayed clean for the hysteresis time.
 */
final class Zones {
  static final long PROBE_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(1);
  static final double MAD_SCALE = 1.4826;
  static final double MIN_ERROR_DELTA = 0.10;
  static final double MIN_LATENCY_RATIO = 1.0;
  static final int MIN_PROBE_SAMPLES = 2;
  static final int MIN_POOLED_SAMPLES = 10;
  static final double MIN_LATENCY_DELTA_NANOS = 20e6;

  /** Hysteresis doubles on a re-evacuation at most this many times: 4 x the base at most. */
  static final int MAX_LEVEL = 2;

  /** How the reason of a zone evacuated for its latency begins. */
  private static final String LATENCY_REASON = "mean latency";

  /**
   * A zone re-evacuated within this time after its return waits a doubled hysteresis; one that
   * stayed in rotation this long starts from the base again.
   */
  static final long REEVACUATION_MEMORY_NANOS = TimeUnit.SECONDS.toNanos(60);

  /** Successful attempts in a row that show a zone evacuated on hard evidence answers again. */
  static final int MIN_RECOVERY_SUCCESSES = 3;

  /** Refused connections in the window that corroborate a zone's outage by themselves. */
  static final int MIN_HARD_FAILURES = 3;

  /** How long a zone the endpoint list lost still counts for the evacuation cap's re-check. */
  static final long LIST_FLAP_NANOS = TimeUnit.SECONDS.toNanos(30);

  private final String service;
  private final ZonePolicy policy;
  private volatile List<ZoneState> zones;
  private final Events events;
  final long slowStartNanos;

  /**
   * Events decided under this object's lock, told to the listeners after it is released (a listener
   * is user code, which never runs under an SDK lock).
   */
  @GuardedBy("this")
  private final List<FailoverEvent> pending = new ArrayList<>();

  /** Whether the client itself is the slow party at a given time; set by the client. */
  private volatile java.util.function.LongPredicate clientStalled = now -> false;

  Zones(String service, ZonePolicy policy, List<ZoneState> zones, Events events) {
    this.service = service;
    this.policy = policy;
    this.zones = List.copyOf(zones);
    this.events = events;
    this.slowStartNanos = policy.slowStart().toNanos();
  }

  /** Takes the events decided under the lock, to be told after it. */
  @GuardedBy("this")
  private List<FailoverEvent> takePending() {
    if (pending.isEmpty()) {
      return List.of();
    }
    List<FailoverEvent> told = List.copyOf(pending);
    pending.clear();
    return told;
  }

  /** Tells {@code told} to the listeners, in order; never under the lock. */
  private void tell(List<FailoverEvent> told) {
    for (FailoverEvent e : told) {
      events.emit(e);
    }
  }

  void clientStalled(java.util.function.LongPredicate stalled) {
    this.clientStalled = stalled;
  }

  /**
   * Every zone the router still knows: those with endpoints and those emptied lately, whose zonal
   * shift an operator may still cancel (and which keep it until it expires, should they return).
   */
  @GuardedBy("this")
  private List<ZoneState> known = List.of();

  /**
   * Replaces the zones, when the endpoint list changed: {@code zones} those with endpoints, ordered
   * by tier; {@code known} those and the ones emptied lately.
   */
  synchronized void replace(List<ZoneState> zones, List<ZoneState> known) {
    this.zones = List.copyOf(zones);
    this.known = List.copyOf(known);
  }

  List<ZoneState> all() {
    return zones;
  }

  /** The zones with endpoints and those emptied lately (see {@link #replace}). */
  synchronized List<ZoneState> known() {
    return known;
  }

  boolean enabled() {
    return policy.enabled();
  }

  /** Claims a probe of an evacuated zone if one is due; returns the zone or null. */
  @org.jspecify.annotations.Nullable
  ZoneState probeDue(long now) {
    if (!policy.enabled()) {
      return null;
    }
    // By index: an iterator over the immutable list would be allocated on every call.
    List<ZoneState> all = zones;
    for (int i = 0, n = all.size(); i < n; i++) {
      ZoneState z = all.get(i);
      if (z.evacuated() && !z.shifted(now)) {
        long last = z.lastProbe.get();
        if ((last == Long.MIN_VALUE || now - last >= PROBE_INTERVAL_NANOS)
            && z.lastProbe.compareAndSet(last, now)) {
          return z;
        }
      }
    }
    return null;
  }

  /** One judgement of every zone. Called once a second from the scheduler, or by tests. */
  public void evaluate(long now) {
    List<FailoverEvent> told = List.of();
    try {
      synchronized (this) {
        try {
          evaluateLocked(now);
        } finally {
          told = takePending();
        }
      }
    } finally {
      tell(told); // what was decided before a failure too
    }
  }

  @GuardedBy("this")
  private void evaluateLocked(long now) {
    for (ZoneState z : known) {
      if (z.shiftedUntil != Long.MIN_VALUE && !z.shifted(now)) {
        endShift(z, now, "expired");
      }
    }
    restoreIfNothingElseServesLocked(now);
    if (!policy.enabled() || zones.size() < 2) {
      // Not judged: a zone that came with a new endpoint list (or whose shift ended) still
      // finishes its slow start.
      for (ZoneState z : zones) {
        if (z.phase == ZoneState.Phase.RAMPING && now - z.phaseSince >= slowStartNanos) {
          z.phase = ZoneState.Phase.ACTIVE;
        }
      }
      return;
    }
    int n = zones.size();
    long[][] totals = new long[n][];
    double[] errorRate = new double[n];
    double[] latency = new double[n];
    boolean[] judged = new boolean[n];
    // A zone sets the latency reference only with enough timed answers: hedges and probes that lost
    // their race carry no latency, and a zone with attempts but no timed answer would count as 0
    // ms.
    boolean[] timed = new boolean[n];
    for (int i = 0; i < n; i++) {
      ZoneState z = zones.get(i);
      totals[i] = z.totals(now);
      long attempts = totals[i][0];
      errorRate[i] = attempts == 0 ? 0 : (double) totals[i][1] / attempts;
      latency[i] = totals[i][2] == 0 ? 0 : (double) totals[i][3] / totals[i][2];
      judged[i] = attempts >= policy.minSamples() && !z.evacuated();
      timed[i] = judged[i] && totals[i][2] >= MIN_POOLED_SAMPLES;
    }
    restoreOverTheCap(totals, now);
    // Reference values from the zones with enough traffic that are not evacuated.
    double[] errRef = medianMad(errorRate, judged, null, null);
    Map<String, double[]> latRef = new HashMap<>();
    for (ZoneState z : zones) {
      String region = z.locality.region();
      latRef.computeIfAbsent(region, r -> medianMad(latency, timed, zones, r));
    }
    // While the client is the slow party, latency says nothing about the zones.
    boolean stalled = clientStalled.test(now);
    for (int i = 0; i < n; i++) {
      ZoneState z = zones.get(i);
      String bad = ejection(z, now);
      long attempts = totals[i][0];
      boolean enough =
          z.evacuated() ? attempts >= MIN_PROBE_SAMPLES : attempts >= policy.minSamples();
      double[] er = errRef != null ? errRef : pooled(totals, i, false, null);
      if (bad == null && enough && er != null) {
        double limit = er[0] + Math.max(policy.outlierK() * MAD_SCALE * er[1], MIN_ERROR_DELTA);
        if (errorRate[i] > limit) {
          bad =
              String.format(
                  Locale.ROOT,
                  errRef != null
                      ? "error rate %.0f%% vs median %.0f%% across zones"
                      : "error rate %.0f%% vs %.0f%% in the other zones",
                  100 * errorRate[i],
                  100 * er[0]);
        }
      }
      double[] lr = latRef.get(z.locality.region());
      if (lr == null) {
        lr = pooled(totals, i, true, z.locality.region());
      }
      if (bad == null && enough && lr != null && totals[i][2] > 0 && !stalled) {
        double limit =
            lr[0]
                + Math.max(
                    policy.outlierK() * MAD_SCALE * lr[1],
                    Math.max(MIN_LATENCY_RATIO * lr[0], MIN_LATENCY_DELTA_NANOS));
        // An evacuated zone gets a probe a second, too few answers to compare at the same times:
        // its slow probes keep it out, as before.
        if (latency[i] > limit && (z.evacuated() || slowerAtTheSameTimes(i, now))) {
          bad =
              String.format(
                  Locale.ROOT,
                  LATENCY_REASON + " %.1f ms vs %.1f ms in other zones of %s",
                  latency[i] / 1e6,
                  lr[0] / 1e6,
                  z.locality.region());
        }
      }
      switch (z.phase) {
        case ACTIVE, RAMPING -> {
          if (bad != null && mayEvacuate(z, totals, i, now)) {
            z.corroborated = hardOutage(z, totals[i]);
            z.uncapped = corroborated(z, totals[i]);
            evacuate(z, bad, now);
          } else if (z.phase == ZoneState.Phase.RAMPING && now - z.phaseSince >= slowStartNanos) {
            z.phase = ZoneState.Phase.ACTIVE;
          }
        }
        case EVACUATED -> {
          // A zone evacuated on hard evidence (refusals, failing checks) that now answers every
          // probe is clean without waiting for its old failures to leave the window.
          boolean recovered =
              z.corroborated
                  && ejection(z, now) == null
                  && z.successesSinceFailure() >= MIN_RECOVERY_SUCCESSES;
          // A zone that too few attempts reached to judge it, none of them failed, for a whole
          // window (a client that sends only non-idempotent calls, which never probe, or few or
          // none at all) has no evidence left against it: it is clean, as a zone evacuated for its
          // breakers is, and returns after the wait (if it is still bad, its first failures
          // evacuate it again, for twice as long).
          boolean noNews = attempts < MIN_PROBE_SAMPLES && totals[i][1] == 0;
          boolean clean =
              recovered || (bad == null && (enough || noNews || forEndpointsOut(z.reason)));
          // A zone out for its latency is not shown clean while latency says nothing (the client
          // stalls, or starts): its clean time does not begin then, else it returned still slow
          // and flapped. Up to twice its wait after it was evacuated: fail-back stays bounded for a
          // client that never stops stalling.
          boolean latencyUnjudged =
              stalled
                  && z.reason.startsWith(LATENCY_REASON)
                  && now - z.phaseSince < 2 * hysteresisNanos(z);
          if (!clean) {
            z.cleanSince = ZoneState.NOT_CLEAN;
          } else if (latencyUnjudged && z.cleanSince == ZoneState.NOT_CLEAN) {
            // Nothing shows it clean yet.
          } else {
            if (z.cleanSince == ZoneState.NOT_CLEAN) {
              z.cleanSince = now;
            }
            long wait = hysteresisNanos(z);
            if (z.corroborated && checksPass(z)) {
              // Active health checks confirm the recovery of a hard outage: half the wait.
              wait /= 2;
            }
            if (now - z.cleanSince >= wait) {
              restore(z, now);
            }
          }
        }
      }
    }
  }

  /**
   * Brings the evacuated zones back when no zone with endpoints is left in rotation: the list lost
   * every zone that was serving (removed while another was evacuated), or operators shifted the
   * rest away. Routing is then in panic, which sends no probes, so nothing would ever show them
   * clean; a fail-closed client would answer {@code NO_ENDPOINT} for good. As nothing evacuates the
   * last zone in rotation that answers, nothing keeps the last zones out of it.
   */
  @GuardedBy("this")
  private void restoreIfNothingElseServesLocked(long now) {
    boolean evacuated = false;
    for (ZoneState z : zones) {
      if (z.endpoints.isEmpty()) {
        continue;
      }
      if (!z.outOfRotation(now)) {
        return;
      }
      evacuated |= z.evacuated();
    }
    if (evacuated) {
      for (ZoneState z : zones) {
        if (z.evacuated() && !z.endpoints.isEmpty() && !z.shifted(now)) {
          restore(z, now); // a shifted one returns from its evacuation when its shift ends
        }
      }
    }
  }

  /**
   * The cap again, on the zones as they are now: a list that lost zones (a registry that dropped
   * them) can leave more zones out on passive evidence alone than the cap allows, the cap being a
   * share of the zones. Then those zones return, the last evacuated first, until they are within
   * the cap again: what the cap would have refused first. Zones out on corroborated evidence
   * (refused connections, checks refused or answered badly, when they were evacuated or now) are
   * not counted and stay, as they are not capped: a hard outage elsewhere does not bring back a
   * zone out for its errors (it would send traffic back into a gray zone, or into a region going
   * down). A zone an operator shifted away stays too.
   */
  @GuardedBy("this")
  private void restoreOverTheCap(long[][] totals, long now) {
    List<ZoneState> passive = new ArrayList<>();
    for (int i = 0; i < zones.size(); i++) {
      ZoneState z = zones.get(i);
      if (z.evacuated() && !z.shifted(now) && !z.uncapped && !corroborated(z, totals[i])) {
        passive.add(z);
      }
    }
    // A zone the list lost within LIST_FLAP_NANOS still counts: a registry that drops a zone for a
    // refresh or two does not bring back a zone out for its errors.
    int n = zones.size();
    for (ZoneState z : known) {
      if (z.endpoints.isEmpty()
          && z.emptiedAt != ZoneState.NOT_EMPTIED
          && now - z.emptiedAt < LIST_FLAP_NANOS) {
        n++;
      }
    }
    int out = passive.size();
    if (out * 100 <= policy.maxEvacuatedPercent() * n) {
      return;
    }
    // The last evacuated first.
    passive.sort((x, y) -> Long.signum(y.phaseSince - x.phaseSince));
    for (int i = 0; out * 100 > policy.maxEvacuatedPercent() * n; i++, out--) {
      restore(passive.get(i), now);
    }
  }

  /** Whether every endpoint of {@code z} passes active health checks (false without checks). */
  private static boolean checksPass(ZoneState z) {
    for (EndpointState s : z.endpoints) {
      if (s.isDown() || s.probeSuccesses < 1) {
        return false;
      }
    }
    return !z.endpoints.isEmpty();
  }

  /** How long {@code z} must stay clean before it returns: the base, doubled per level, capped. */
  long hysteresisNanos(ZoneState z) {
    return policy.hysteresis().toNanos() << Math.min(z.level, MAX_LEVEL);
  }

  /**
   * The blast-radius rules: passive evidence alone (latency, errors, ejections by breakers)
   * evacuates at most {@code maxEvacuatedPercent} of the zones, and never a zone in a second region
   * at once; evidence corroborated by refused connections, or by health checks refused or answered
   * badly ({@link #corroborated}), is not capped. Nothing ever evacuates the last zone in rotation
   * that still answers.
   */
  private boolean mayEvacuate(ZoneState z, long[][] totals, int self, long now) {
    int n = zones.size();
    int evacuated = 0;
    boolean otherRegion = false;
    boolean anotherAnswers = false;
    for (int j = 0; j < n; j++) {
      ZoneState o = zones.get(j);
      if (o == z) {
        continue;
      }
      if (o.evacuated()) {
        evacuated++;
        otherRegion |= !o.locality.region().equals(z.locality.region());
      } else if (!o.shifted(now) && answers(o, totals[j], now)) {
        anotherAnswers = true;
      }
    }
    if (!anotherAnswers) {
      return false;
    }
    if (corroborated(z, totals[self])) {
      return true;
    }
    return !otherRegion && (evacuated + 1) * 100 <= policy.maxEvacuatedPercent() * n;
  }

  /** Whether a zone in rotation still answers: some success in the window, or no failure. */
  private static boolean answers(ZoneState z, long[] totals, long now) {
    if (totals[1] == 0 || totals[0] > totals[1]) {
      for (EndpointState s : z.endpoints) {
        if (s.available(now)) {
          return true;
        }
      }
    }
    return false;
  }

  /**
   * Whether active evidence backs the zone's outage, which lifts the evacuation cap: refused
   * connections, or checks refused or answered badly. Not checks that only timed out or failed in
   * the client: a client whose own host is too slow to read its probes' answers in time marks
   * endpoints down everywhere at once (a review's overloaded host: 3 zones in two regions evacuated
   * past the cap), so those count as passive evidence, under the cap.
   */
  private static boolean corroborated(ZoneState z, long[] totals) {
    return hardOutage(z, totals, false);
  }

  /**
   * Whether the zone's outage is a hard one, for its return (see {@code ZoneState.corroborated}):
   * refused connections, or more than half its endpoints down by health checks, whatever failed
   * their probes. Such an outage ends as a whole: its zone is clean once its endpoints take traffic
   * and its last attempts succeeded.
   */
  private static boolean hardOutage(ZoneState z, long[] totals) {
    return hardOutage(z, totals, true);
  }

  private static boolean hardOutage(ZoneState z, long[] totals, boolean anyDown) {
    if (totals[4] >= MIN_HARD_FAILURES) {
      return true;
    }
    int down = 0;
    for (EndpointState s : z.endpoints) {
      if (s.isDown() && (anyDown || !s.downUncorroborated)) {
        down++;
      }
    }
    return down * 2 > z.endpoints.size();
  }

  /**
   * An operator's zonal shift: {@code zone} gets no first attempts (and no probes) until {@code
   * until}, whatever the detectors say. Refused when no other zone in rotation would be left to
   * serve.
   *
   * @throws IllegalArgumentException if no zone has that name, or two regions have one
   * @throws IllegalStateException if it is the last zone in rotation with an endpoint that takes
   *     traffic
   */
  public ZoneState shiftAway(
      String zone, long until, java.time.Instant untilInstant, String requestedBy, long now) {
    List<FailoverEvent> told = List.of();
    try {
      synchronized (this) {
        try {
          return shiftAwayLocked(zone, until, untilInstant, requestedBy, now);
        } finally {
          told = takePending();
        }
      }
    } finally {
      tell(told);
    }
  }

  @GuardedBy("this")
  private ZoneState shiftAwayLocked(
      String zone, long until, java.time.Instant untilInstant, String requestedBy, long now) {
    ZoneState z = byName(zone, zones);
    boolean another = false;
    for (ZoneState o : zones) {
      if (o != z && !o.outOfRotation(now)) {
        for (EndpointState s : o.endpoints) {
          another |= s.available(now);
        }
      }
    }
    if (!another) {
      throw new IllegalStateException(
          "cannot shift traffic away from zone '"
              + zone
              + "': no other zone in rotation has an endpoint that takes traffic");
    }
    markShiftedLocked(z, until, untilInstant, requestedBy);
    return z;
  }

  /** Shifts {@code z} away until {@code until} for {@code requestedBy}, and tells of it. */
  @GuardedBy("this")
  private void markShiftedLocked(
      ZoneState z, long until, java.time.Instant untilInstant, String requestedBy) {
    z.shiftedBy = requestedBy;
    z.shiftedUntilInstant = untilInstant;
    z.shiftedUntil = until;
    pending.add(new FailoverEvent.ZoneShifted(service, z.locality, untilInstant, requestedBy));
  }

  /**
   * Holds a zonal shift carried over to this core on {@code zone}, a zone it knows without
   * endpoints ({@link Router#knowEmptied}): told as {@link #shiftAway} tells, without its check
   * that another zone serves (a zone without endpoints takes no traffic).
   *
   * <p>A list that brought the zone's endpoints back meanwhile makes it a shift as {@link
   * #shiftAway} makes one, with that check.
   *
   * @throws IllegalArgumentException if the zone is not known
   * @throws IllegalStateException if the zone has endpoints again and is the last one in rotation
   */
  public void holdShift(
      Locality zone, long until, java.time.Instant untilInstant, String requestedBy, long now) {
    List<FailoverEvent> told = List.of();
    try {
      synchronized (this) {
        try {
          ZoneState z = null;
          for (ZoneState k : known) {
            if (k.locality.equals(zone)) {
              z = k;
            }
          }
          if (z == null) {
            throw new IllegalArgumentException("no zone known is " + zone);
          }
          if (zones.contains(z)) {
            shiftAwayLocked(
                zone.region() + "/" + zone.zone(), until, untilInstant, requestedBy, now);
            return;
          }
          markShiftedLocked(z, until, untilInstant, requestedBy);
        } finally {
          told = takePending();
        }
      }
    } finally {
      tell(told);
    }
  }

  /**
   * Whether {@code zone} is shifted away until {@code until} by {@code requestedBy}; also a zone
   * the list emptied since, which keeps its shift.
   */
  public synchronized boolean shiftInForce(
      String zone, java.time.Instant until, String requestedBy, long now) {
    ZoneState z = listedOrKnown(zone);
    return z != null && isShift(z, until, requestedBy, now);
  }

  /**
   * Ends the shift of {@code zone} if it is the one until {@code until} by {@code requestedBy}
   * (told, as {@link #cancelShift}); a shift made since stays.
   */
  public void cancelShiftIf(
      String zone, java.time.Instant until, String requestedBy, String by, long now) {
    List<FailoverEvent> told = List.of();
    try {
      synchronized (this) {
        try {
          ZoneState z = listedOrKnown(zone);
          if (z != null && isShift(z, until, requestedBy, now)) {
            endShift(z, now, "cancelled by " + by);
          }
        } finally {
          told = takePending();
        }
      }
    } finally {
      tell(told);
    }
  }

  private static boolean isShift(
      ZoneState z, java.time.Instant until, String requestedBy, long now) {
    return z.shifted(now) && until.equals(z.shiftedUntilInstant) && requestedBy.equals(z.shiftedBy);
  }

  /**
   * The name of the zone {@code zone} names, as {@code region/zone}, whichever way it is named (its
   * zone name alone, or already so): one key per zone for what is kept by name. {@code zone} itself
   * if no zone, listed or known, has that name.
   */
  public synchronized String canonicalName(String zone) {
    ZoneState z = listedOrKnown(zone);
    return z == null ? zone : z.locality.region() + "/" + z.locality.zone();
  }

  /** The zone of that name with endpoints, else one the list emptied since; null if none. */
  @GuardedBy("this")
  private @org.jspecify.annotations.Nullable ZoneState listedOrKnown(String zone) {
    try {
      return byName(zone, zones);
    } catch (IllegalArgumentException notListed) {
      try {
        return byName(zone, known);
      } catch (IllegalArgumentException unknown) {
        return null;
      }
    }
  }

  /** Ends the zonal shift of {@code zone}, if any; returns whether one was in force. */
  public boolean cancelShift(String zone, String requestedBy, long now) {
    List<FailoverEvent> told = List.of();
    try {
      synchronized (this) {
        try {
          return cancelShiftLocked(zone, requestedBy, now);
        } finally {
          told = takePending();
        }
      }
    } finally {
      tell(told);
    }
  }

  @GuardedBy("this")
  private boolean cancelShiftLocked(String zone, String requestedBy, long now) {
    // Also a zone emptied since it was shifted (it would come back shifted until the expiry); a
    // zone with endpoints first, so that a name an emptied zone of another region shares is not
    // taken for two.
    ZoneState z;
    try {
      z = byName(zone, zones);
    } catch (IllegalArgumentException notListed) {
      z = byName(zone, known);
    }
    if (!z.shifted(now)) {
      return false;
    }
    endShift(z, now, "cancelled by " + requestedBy);
    return true;
  }

  @GuardedBy("this")
  private void endShift(ZoneState z, long now, String reason) {
    long until = z.shiftedUntil;
    if ((z.phase == ZoneState.Phase.ACTIVE || z.phase == ZoneState.Phase.RAMPING)
        && slowStartNanos > 0) {
      // Back with slow start, as after an evacuation: from its expiry if it expired (the zone has
      // ramped from then, ZoneState.ramp), else from now. Before the shift is cleared, so that no
      // reader sees the zone at full weight in between.
      z.phaseSince = until != Long.MIN_VALUE && now - until >= 0 ? until : now;
      z.phase = ZoneState.Phase.RAMPING;
    }
    z.shiftedUntil = Long.MIN_VALUE;
    z.shiftedUntilInstant = null;
    z.shiftedBy = "";
    pending.add(new FailoverEvent.ZoneShiftEnded(service, z.locality, reason));
  }

  /**
   * The zone named {@code zone}: by its name alone, or, where zone names repeat across regions
   * (Azure's {@code 1}, {@code 2}, {@code 3}), as {@code region/zone}.
   */
  private static ZoneState byName(String zone, List<ZoneState> zones) {
    ZoneState found = null;
    for (ZoneState z : zones) {
      if (z.locality.zone().equals(zone)) {
        if (found != null) {
          throw new IllegalArgumentException(
              "zone '"
                  + zone
                  + "' names a zone in two regions; name it as region/zone (such as '"
                  + z.locality.region()
                  + "/"
                  + zone
                  + "'); zones are "
                  + zones);
        }
        found = z;
      }
    }
    // A region holds no '/' (Locality), so at most one zone is named so as region/zone.
    ZoneState bySlash = null;
    for (ZoneState z : zones) {
      if (zone.equals(z.locality.region() + "/" + z.locality.zone())) {
        bySlash = z;
      }
    }
    if (found != null && bySlash != null && bySlash != found) {
      // A zone named "eu/west/1" in one region, and zone "west/1" of region "eu": refused rather
      // than one of them picked.
      throw new IllegalArgumentException(
          "zone '"
              + zone
              + "' names two zones: zone '"
              + found.locality.zone()
              + "' of region '"
              + found.locality.region()
              + "', and zone '"
              + bySlash.locality.zone()
              + "' of region '"
              + bySlash.locality.region()
              + "' as region/zone; rename one of them");
    }
    if (found == null) {
      found = bySlash;
    }
    if (found == null) {
      throw new IllegalArgumentException("no zone '" + zone + "'; zones are " + zones);
    }
    return found;
  }

  /**
   * Brings an evacuated zone back at once: everything in rotation failed and this zone answered, so
   * it was wrongly judged (or has healed). Returns with slow start.
   */
  public void restoreNow(ZoneState z, long now) {
    List<FailoverEvent> told = List.of();
    try {
      synchronized (this) {
        try {
          restoreNowLocked(z, now);
        } finally {
          told = takePending();
        }
      }
    } finally {
      tell(told); // what was decided before a failure too
    }
  }

  @GuardedBy("this")
  private void restoreNowLocked(ZoneState z, long now) {
    // Not while most of its endpoints are still out: the next judgement would evacuate it again
    // at once, and with a longer hysteresis. One endpoint answering as a last resort proves that
    // endpoint, which is restored; the zone returns through its judgement.
    if (z.evacuated() && !z.shifted(now) && ejection(z, now) == null) {
      restore(z, now);
    }
  }

  /**
   * Whether a zone was evacuated for its share of endpoints out ({@link #ejection}): ejected, down
   * or held off.
   */
  private static boolean forEndpointsOut(String reason) {
    return reason.startsWith("ejected ") || reason.startsWith("held off ");
  }

  private @org.jspecify.annotations.Nullable String ejection(ZoneState z, long now) {
    int total = z.endpoints.size();
    int out = 0;
    int heldOff = 0;
    for (EndpointState s : z.endpoints) {
      if (s.outForItsZone(now)) {
        out++;
        if (s.outOnlyForAPause(now)) {
          heldOff++;
        }
      }
    }
    if (total > 0 && out * 100 > policy.ejectedPercent() * total) {
      // Says which: endpoints held off by their servers' Retry-After are not ejected, and no
      // ejection event tells of them.
      if (heldOff == 0) {
        return "ejected " + out + " of " + total + " endpoints";
      }
      if (heldOff == out) {
        return "held off (Retry-After) " + out + " of " + total + " endpoints";
      }
      return "ejected "
          + (out - heldOff)
          + " and held off (Retry-After) "
          + heldOff
          + " of "
          + total
          + " endpoints";
    }
    return null;
  }

  @GuardedBy("this")
  private void evacuate(ZoneState z, String reason, long now) {
    if (z.lastRestored != Long.MIN_VALUE && now - z.lastRestored < REEVACUATION_MEMORY_NANOS) {
      z.level = Math.min(MAX_LEVEL, z.level + 1);
    } else {
      z.level = 0;
    }
    z.phaseSince = now;
    z.phase = ZoneState.Phase.EVACUATED;
    z.reason = reason;
    z.cleanSince = ZoneState.NOT_CLEAN;
    z.evacuations.incrementAndGet();
    pending.add(new FailoverEvent.ZoneEvacuated(service, z.locality, reason));
  }

  @GuardedBy("this")
  private void restore(ZoneState z, long now) {
    Duration evacuatedFor = Duration.ofNanos(now - z.phaseSince);
    // Judge the zone on what happens from now on, and let traffic test its ejected endpoints.
    z.clearWindow();
    for (EndpointState s : z.endpoints) {
      s.probeRecovered();
    }
    z.phaseSince = now;
    z.phase = slowStartNanos > 0 ? ZoneState.Phase.RAMPING : ZoneState.Phase.ACTIVE;
    z.reason = "";
    z.cleanSince = ZoneState.NOT_CLEAN;
    z.lastRestored = now;
    pending.add(new FailoverEvent.ZoneRestored(service, z.locality, evacuatedFor));
  }

  /**
   * Whether zone {@code i} is also slower than the other zones of its region (the zones the pooled
   * reference takes) when compared at the same times: over the window's slots in which both it and
   * they had timed answers, each slot's mean latency weighted alike on both sides (by the smaller
   * of the two counts), it is above {@code others + max(others x MIN_LATENCY_RATIO,
   * MIN_LATENCY_DELTA)}. A zone's mean over the window mixes the moments it happened to get
   * traffic: the zone that takes the failover traffic in the second the client or its host was slow
   * (the retries of a zone that just went down) would otherwise stand out against a zone that got
   * its traffic only afterwards. With too few answers at the same times ({@code
   * MIN_POOLED_SAMPLES}), the zone was not seen beside the others and is not judged slow.
   */
  private boolean slowerAtTheSameTimes(int i, long now) {
    ZoneState z = zones.get(i);
    int slots = z.slots();
    long[] mine = new long[slots];
    long[] mineSum = new long[slots];
    z.timedPerSlot(now, mine, mineSum);
    long[] others = new long[slots];
    long[] othersSum = new long[slots];
    long[] count = new long[slots];
    long[] sum = new long[slots];
    for (ZoneState o : zones) {
      if (o == z || o.slots() != slots || !o.locality.region().equals(z.locality.region())) {
        continue;
      }
      o.timedPerSlot(now, count, sum);
      for (int s = 0; s < slots; s++) {
        others[s] += count[s];
        othersSum[s] += sum[s];
      }
    }
    double weights = 0;
    double mineWeighted = 0;
    double othersWeighted = 0;
    for (int s = 0; s < slots; s++) {
      if (mine[s] == 0 || others[s] == 0) {
        continue;
      }
      double w = Math.min(mine[s], others[s]);
      weights += w;
      mineWeighted += w * ((double) mineSum[s] / mine[s]);
      othersWeighted += w * ((double) othersSum[s] / others[s]);
    }
    if (weights < MIN_POOLED_SAMPLES) {
      return false;
    }
    double mean = mineWeighted / weights;
    double reference = othersWeighted / weights;
    return mean > reference + Math.max(MIN_LATENCY_RATIO * reference, MIN_LATENCY_DELTA_NANOS);
  }

  /**
   * With fewer than three zones to compare, the pooled error rate (or mean latency, within {@code
   * region}) of every other zone, as {median, 0}; null with too few samples.
   */
  private double @org.jspecify.annotations.Nullable [] pooled(
      long[][] totals,
      int self,
      boolean latency,
      @org.jspecify.annotations.Nullable String region) {
    long attempts = 0;
    long failures = 0;
    long successes = 0;
    long latencySum = 0;
    for (int j = 0; j < totals.length; j++) {
      if (j == self || (region != null && !zones.get(j).locality.region().equals(region))) {
        continue;
      }
      attempts += totals[j][0];
      failures += totals[j][1];
      successes += totals[j][2];
      latencySum += totals[j][3];
    }
    if (latency) {
      return successes < MIN_POOLED_SAMPLES
          ? null
          : new double[] {(double) latencySum / successes, 0};
    }
    return attempts < MIN_POOLED_SAMPLES ? null : new double[] {(double) failures / attempts, 0};
  }

  /**
   * Median and median absolute deviation of {@code values} over the judged zones (of {@code region}
   * when given); null with fewer than three such zones.
   */
  private static double @org.jspecify.annotations.Nullable [] medianMad(
      double[] values,
      boolean[] judged,
      @org.jspecify.annotations.Nullable List<ZoneState> zones,
      @org.jspecify.annotations.Nullable String region) {
    List<Double> picked = new ArrayList<>();
    for (int i = 0; i < values.length; i++) {
      if (judged[i]
          && (region == null || zones == null || zones.get(i).locality.region().equals(region))) {
        picked.add(values[i]);
      }
    }
    if (picked.size() < 3) {
      return null;
    }
    double[] v = picked.stream().mapToDouble(Double::doubleValue).toArray();
    double median = median(v);
    double[] dev = Arrays.stream(v).map(x -> Math.abs(x - median)).toArray();
    return new double[] {median, median(dev)};
  }

  static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    int m = s.length / 2;
    return s.length % 2 == 1 ? s[m] : (s[m - 1] + s[m]) / 2;
  }
}
