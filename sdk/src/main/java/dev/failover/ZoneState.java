package dev.failover;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/** One zone: its endpoints, its recent outcomes, and whether it is evacuated or ramping back. */
final class ZoneState {
  enum Phase {
    ACTIVE,
    EVACUATED,
    RAMPING
  }

  final Locality locality;
  final String key;
  final int tier;

  /** The zone's endpoints now; replaced as a whole by the router when the list changes. */
  volatile List<EndpointState> endpoints = List.of();

  /**
   * The zones of this zone's region (this one included), set by the router with the endpoints: an
   * overtaken attempt is judged against its region's usual latency ({@link #regionUsualNanos}).
   */
  volatile List<ZoneState> regionZones = List.of(this);

  /** Per slot: attempts, failures, timed successes, their latency sum, hard failures. */
  private final SlidingWindow window;

  private static final int ATTEMPTS = 0;
  private static final int FAILURES = 1;
  private static final int SUCCESSES = 2;
  private static final int LATENCY_SUM = 3;
  private static final int HARD = 4;

  // Written by the evaluating thread only; read by routing.
  // phaseSince is written before phase (a router reads phase, then phaseSince): one that reads a
  // new phase reads its start, never the previous phase's. ACTIVE has no start that anything reads.
  volatile Phase phase = Phase.ACTIVE;
  volatile long phaseSince;
  volatile String reason = "";

  /** When the router's list last left the zone without endpoints; {@link #NOT_EMPTIED} if not. */
  long emptiedAt = NOT_EMPTIED;

  /** {@link #emptiedAt} while the zone has endpoints. */
  static final long NOT_EMPTIED = Long.MIN_VALUE;

  /** When the evacuated zone's evidence last became clean; {@link #NOT_CLEAN} while it is not. */
  long cleanSince = NOT_CLEAN;

  /** {@link #cleanSince} while the zone is not clean: a ticker's readings may be negative. */
  static final long NOT_CLEAN = Long.MIN_VALUE;

  /** Whether the zone was evacuated on hard evidence (refusals or failing health checks). */
  boolean corroborated;

  /**
   * Whether the zone was evacuated on evidence the evacuation cap does not limit (refusals, checks
   * refused or answered badly; not checks that only timed out, which {@link #corroborated} takes).
   */
  boolean uncapped;

  private final java.util.concurrent.atomic.AtomicInteger successesSinceFailure =
      new java.util.concurrent.atomic.AtomicInteger();
  int level;
  long lastRestored = Long.MIN_VALUE;
  final AtomicLong lastProbe = new AtomicLong(Long.MIN_VALUE);
  final AtomicLong evacuations = new AtomicLong();

  ZoneState(Locality locality, int tier, int slots, long slotNanos) {
    this.locality = locality;
    this.key = locality.toString();
    this.tier = tier;
    this.window = new SlidingWindow(slots, 5, slotNanos);
  }

  /**
   * The region's usual latency: the lowest usual latency of the region's endpoints that have
   * answered (each leans to its fast side, see {@link EndpointState#usualNanos}); 0 if none has
   * answered yet. Zones of one region are near each other, so an endpoint of the region that takes
   * twice this is slow for where it is; another region's distance is not held against it.
   */
  long regionUsualNanos() {
    long lowest = 0;
    for (ZoneState z : regionZones) {
      for (EndpointState e : z.endpoints) {
        long u = e.usualNanos();
        if (u > 0 && (lowest == 0 || u < lowest)) {
          lowest = u;
        }
      }
    }
    return lowest;
  }

  /** Makes a zone new to a running client ramp up over the slow start, as a returning zone does. */
  void startSlow(long now) {
    phaseSince = now; // first: a router that reads RAMPING reads this since too
    phase = Phase.RAMPING;
  }

  boolean evacuated() {
    return phase == Phase.EVACUATED;
  }

  /** When an operator's zonal shift ends (ticker time), or MIN_VALUE with none. */
  volatile long shiftedUntil = Long.MIN_VALUE;

  /** Who asked for the zonal shift in force. */
  volatile String shiftedBy = "";

  /** When the zonal shift in force ends, in wall-clock time, for display. */
  volatile java.time.@org.jspecify.annotations.Nullable Instant shiftedUntilInstant;

  /** Whether an operator's zonal shift holds the zone out of rotation at {@code now}. */
  boolean shifted(long now) {
    long until = shiftedUntil;
    return until != Long.MIN_VALUE && now - until < 0;
  }

  /** Whether the zone gets no first attempts at {@code now}: evacuated or shifted away. */
  boolean outOfRotation(long now) {
    return phase == Phase.EVACUATED || shifted(now);
  }

  /** Share of traffic a returning zone may take now: 10% rising to 100% over slow start. */
  double ramp(long now, long slowStartNanos) {
    long until = shiftedUntil;
    if (until != Long.MIN_VALUE) {
      if (now - until < 0) {
        return 0; // shifted away
      }
      if (phase == Phase.ACTIVE && slowStartNanos > 0) {
        // The shift expired and the next judgement has not ended it yet: the zone ramps from its
        // expiry already (that judgement starts the ramp there), not at full weight until then.
        return rampFrom(until, now, slowStartNanos);
      }
    }
    if (phase != Phase.RAMPING || slowStartNanos <= 0) {
      return phase == Phase.EVACUATED ? 0 : 1;
    }
    return rampFrom(phaseSince, now, slowStartNanos);
  }

  private static double rampFrom(long since, long now, long slowStartNanos) {
    double f = (double) (now - since) / slowStartNanos;
    return Math.min(1, Math.max(0.1, f));
  }

  /**
   * Records one attempt's outcome. {@code hard} marks a failure that corroborates an outage by
   * itself (a refused or failed connection); a success with {@code latencyNanos < 0} counts without
   * a latency (its latency was the client's, not the zone's).
   */
  void record(boolean failure, boolean hard, long latencyNanos, long now) {
    window.add(now, ATTEMPTS, 1);
    if (failure) {
      successesSinceFailure.set(0);
      window.add(now, FAILURES, 1);
      if (hard) {
        window.add(now, HARD, 1);
      }
    } else {
      // Only "at least MIN_RECOVERY_SUCCESSES" is ever asked: past it, no shared write per call.
      if (successesSinceFailure.get() < Zones.MIN_RECOVERY_SUCCESSES) {
        successesSinceFailure.incrementAndGet();
      }
      if (latencyNanos >= 0) {
        window.add(now, SUCCESSES, 1);
        window.add(now, LATENCY_SUM, latencyNanos);
      }
    }
  }

  void record(boolean failure, long latencyNanos, long now) {
    record(failure, false, latencyNanos, now);
  }

  /** [attempts, failures, timed successes, latencySum, hard failures] over the window. */
  long[] totals(long now) {
    long[] t = new long[5];
    window.sums(now, t);
    return t;
  }

  /**
   * The timed successes and their latency sum of each slot of the window ending at {@code now}, by
   * slot: zones' windows line up slot by slot, so that their latency can be compared at the same
   * times.
   */
  void timedPerSlot(long now, long[] successes, long[] latencySums) {
    window.perSlot(now, SUCCESSES, LATENCY_SUM, successes, latencySums);
  }

  /** How many slots the zone's window has. */
  int slots() {
    return window.slots();
  }

  /**
   * Successful attempts since the last failed one, counted up to {@link
   * Zones#MIN_RECOVERY_SUCCESSES} (all that is asked of it).
   */
  int successesSinceFailure() {
    return successesSinceFailure.get();
  }

  /** Forgets the window: a returning zone is judged on what happens after its return. */
  void clearWindow() {
    window.clear();
  }

  @Override
  public String toString() {
    return key;
  }
}
