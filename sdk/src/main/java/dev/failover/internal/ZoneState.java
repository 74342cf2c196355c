package dev.failover.internal;

import dev.failover.Locality;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/** One zone: its endpoints, its recent outcomes, and whether it is evacuated or ramping back. */
public final class ZoneState {
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

  private final int slots;
  private final long slotNanos;
  private final long[] slotIndex;
  private final long[] attempts;
  private final long[] failures;
  private final long[] successes;
  private final long[] latencySum;
  private final long[] hard;

  // Written by the evaluating thread only; read by routing.
  volatile Phase phase = Phase.ACTIVE;
  volatile long phaseSince;
  volatile String reason = "";
  long cleanSince = -1;

  /** Whether the zone was evacuated on hard evidence (refusals or failing health checks). */
  boolean corroborated;

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
    this.slots = slots;
    this.slotNanos = slotNanos;
    this.slotIndex = new long[slots];
    this.attempts = new long[slots];
    this.failures = new long[slots];
    this.successes = new long[slots];
    this.latencySum = new long[slots];
    this.hard = new long[slots];
    java.util.Arrays.fill(slotIndex, Long.MIN_VALUE);
  }

  /** Makes a zone new to a running client ramp up over the slow start, as a returning zone does. */
  void startSlow(long now) {
    phase = Phase.RAMPING;
    phaseSince = now;
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
    if (shifted(now)) {
      return 0;
    }
    if (phase != Phase.RAMPING || slowStartNanos <= 0) {
      return phase == Phase.EVACUATED ? 0 : 1;
    }
    double f = (double) (now - phaseSince) / slowStartNanos;
    return Math.min(1, Math.max(0.1, f));
  }

  /**
   * Records one attempt's outcome. {@code hard} marks a failure that corroborates an outage by
   * itself (a refused or failed connection); a success with {@code latencyNanos < 0} counts without
   * a latency (its latency was the client's, not the zone's).
   */
  synchronized void record(boolean failure, boolean hard, long latencyNanos, long now) {
    int s = slot(now);
    attempts[s]++;
    if (failure) {
      successesSinceFailure.set(0);
    } else {
      successesSinceFailure.incrementAndGet();
    }
    if (failure) {
      failures[s]++;
      if (hard) {
        this.hard[s]++;
      }
    } else if (latencyNanos >= 0) {
      successes[s]++;
      latencySum[s] += latencyNanos;
    }
  }

  synchronized void record(boolean failure, long latencyNanos, long now) {
    record(failure, false, latencyNanos, now);
  }

  /** [attempts, failures, timed successes, latencySum, hard failures] over the window. */
  synchronized long[] totals(long now) {
    long current = Math.floorDiv(now, slotNanos);
    long[] t = new long[5];
    for (int i = 0; i < slots; i++) {
      if (slotIndex[i] > current - slots) {
        t[0] += attempts[i];
        t[1] += failures[i];
        t[2] += successes[i];
        t[3] += latencySum[i];
        t[4] += hard[i];
      }
    }
    return t;
  }

  /** Successful attempts since the last failed one. */
  int successesSinceFailure() {
    return successesSinceFailure.get();
  }

  /** Forgets the window: a returning zone is judged on what happens after its return. */
  synchronized void clearWindow() {
    java.util.Arrays.fill(slotIndex, Long.MIN_VALUE);
  }

  private int slot(long now) {
    long index = Math.floorDiv(now, slotNanos);
    int s = (int) Math.floorMod(index, (long) slots);
    if (slotIndex[s] != index) {
      slotIndex[s] = index;
      attempts[s] = 0;
      failures[s] = 0;
      successes[s] = 0;
      latencySum[s] = 0;
      hard[s] = 0;
    }
    return s;
  }

  @Override
  public String toString() {
    return key;
  }
}
