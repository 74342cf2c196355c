package dev.failover.drill;

import dev.failover.testkit.load.LatencyRecorder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;

/**
 * One client's results: a bucket per second of the drill and one per phase. A call is counted in
 * the second and phase of its intended send time. Calls of the fail-back tail (intended send time
 * at or after the drill's end, when there is a tail) are counted apart, per second of the tail and
 * in the tail's total: never in a phase, a second of the drill or the total. Thread-safe.
 */
final class Stats {
  /** The name the tail's buckets carry as their phase. */
  static final String TAIL = "tail";

  final String client;
  final List<Phase> phases;
  final List<String> zones;
  private final Bucket[] seconds;
  private final Map<String, Bucket> byPhase = new LinkedHashMap<>();
  private final Bucket total;
  private final long endNanos;
  private final Bucket[] tailSeconds;
  private final Bucket tailTotal;

  /** The latest due offset of a call handed to the client; MIN_VALUE before the first. */
  private final AtomicLong latestHanded = new AtomicLong(Long.MIN_VALUE);

  Stats(String client, List<Phase> phases, List<String> zones, Duration duration) {
    this(client, phases, zones, duration, Duration.ZERO);
  }

  /**
   * @param duration how long the drill's phases last
   * @param tail the longest fail-back tail after them (whole seconds), zero for none
   */
  Stats(String client, List<Phase> phases, List<String> zones, Duration duration, Duration tail) {
    this.client = client;
    this.phases = List.copyOf(phases);
    this.zones = List.copyOf(zones);
    int n = (int) Math.max(1, (duration.toMillis() + 999) / 1000);
    this.seconds = new Bucket[n];
    for (int i = 0; i < n; i++) {
      seconds[i] = new Bucket(Phase.at(phases, TimeUnit.MILLISECONDS.toNanos(i * 1000L + 500)));
    }
    for (Phase p : phases) {
      byPhase.put(p.name(), new Bucket(p));
    }
    this.total = new Bucket(new Phase("total", Duration.ZERO, duration, "the whole drill"));
    this.endNanos = duration.toNanos();
    int t = (int) tail.toSeconds();
    this.tailSeconds = new Bucket[t];
    for (int i = 0; i < t; i++) {
      Duration from = duration.plusSeconds(i);
      tailSeconds[i] = new Bucket(new Phase(TAIL, from, from.plusSeconds(1), "fail-back tail"));
    }
    this.tailTotal =
        new Bucket(new Phase(TAIL, duration, duration.plus(tail), "the fail-back tail"));
  }

  /** The outcome of one call, as the client's caller saw it. */
  enum Result {
    OK,
    STALE,
    FAILED,
    NOT_SENT
  }

  /**
   * Records that the generator handed the client a call due {@code offsetNanos} after the start,
   * before the client sends it: each such call later ends in {@link #call} at the same offset.
   */
  void handed(long offsetNanos) {
    for (Bucket b : bucketsAt(offsetNanos)) {
      b.hand();
    }
    latestHanded.accumulateAndGet(offsetNanos, Math::max);
  }

  /**
   * Whether every call due in second {@code i} was handed to the client and has ended: the calls
   * are handed in due order, so once one due after the second was handed, none of the second's is
   * still to come.
   */
  boolean secondSettled(int i) {
    return latestHanded.get() >= TimeUnit.SECONDS.toNanos(i + 1L) && seconds[i].settled();
  }

  /** Whether every call due in second {@code i} of the tail was handed and has ended. */
  boolean tailSecondSettled(int i) {
    return latestHanded.get() >= endNanos + TimeUnit.SECONDS.toNanos(i + 1L)
        && tailSeconds[i].settled();
  }

  /**
   * Records a call that ended (or could not be sent).
   *
   * @param offsetNanos intended send time, from the start of the drill
   * @param latencyNanos from the intended send time to the end; ignored for NOT_SENT
   */
  void call(long offsetNanos, long latencyNanos, Result result) {
    for (Bucket b : bucketsAt(offsetNanos)) {
      b.call(latencyNanos, result);
    }
  }

  /** Records a call's attempts, retries and hedges, counted in the second the call started. */
  void attempts(long offsetNanos, int attempts, int retries, int hedges) {
    for (Bucket b : bucketsAt(offsetNanos)) {
      b.attempts(attempts, retries, hedges);
    }
  }

  /**
   * Records that a call was handed to the client {@code offsetNanos} after the start, by the clock,
   * not by its due time: the second (and phase) its first attempt is counted in, as a client that
   * stamps its own call start counts it (the sdk's listener does).
   */
  void started(long offsetNanos) {
    for (Bucket b : bucketsAt(offsetNanos)) {
      b.start();
    }
  }

  /** Records the zone of a call's first attempt. */
  void firstAttempt(long offsetNanos, String zone) {
    for (Bucket b : bucketsAt(offsetNanos)) {
      b.first(zone);
    }
  }

  private List<Bucket> bucketsAt(long offsetNanos) {
    if (offsetNanos >= endNanos && tailSeconds.length > 0) {
      int t = (int) Math.min(tailSeconds.length - 1, (offsetNanos - endNanos) / 1_000_000_000L);
      return List.of(tailSeconds[t], tailTotal);
    }
    int s = (int) Math.min(seconds.length - 1, Math.max(0, offsetNanos / 1_000_000_000L));
    Bucket second = seconds[s];
    Bucket phase = byPhase.get(Phase.at(phases, Math.max(0, offsetNanos)).name());
    List<Bucket> out = new ArrayList<>(3);
    out.add(second);
    if (phase != null) {
      out.add(phase);
    }
    out.add(total);
    return out;
  }

  int secondCount() {
    return seconds.length;
  }

  Summary second(int i) {
    return seconds[i].summary(zones);
  }

  Summary phase(String name) {
    Bucket b = byPhase.get(name);
    if (b == null) {
      throw new IllegalArgumentException("no phase " + name);
    }
    return b.summary(zones);
  }

  Summary total() {
    return total.summary(zones);
  }

  /** Seconds the tail can have at most; 0 without a tail. */
  int tailSecondCapacity() {
    return tailSeconds.length;
  }

  /** Second {@code i} of the tail, from the drill's end. */
  Summary tailSecond(int i) {
    return tailSeconds[i].summary(zones);
  }

  /** Every call of the tail. */
  Summary tailTotal() {
    return tailTotal.summary(zones);
  }

  /**
   * First attempts so far in second {@code i} of the tail that went to {@code zone}; cheap enough
   * to ask while the load runs.
   */
  long tailFirstAttempts(int i, String zone) {
    return tailSeconds[i].firstAttempts(zone);
  }

  /** The same for second {@code i} of the drill. */
  long firstAttempts(int i, String zone) {
    return seconds[i].firstAttempts(zone);
  }

  /** Calls handed to the client in second {@code i} of the tail (see {@link #started(long)}). */
  long tailStarted(int i) {
    return tailSeconds[i].startedCount();
  }

  /** Calls handed to the client in second {@code i} of the drill (see {@link #started(long)}). */
  long started(int i) {
    return seconds[i].startedCount();
  }

  /**
   * A bucket's numbers, frozen.
   *
   * @param phase the phase (for a second: the phase at its middle)
   * @param calls calls whose intended send time is in the bucket
   * @param ok calls that returned a 2xx response, stale copies included
   * @param stale calls served a stale copy
   * @param failed calls that failed or returned a non-2xx response, or could not be sent
   * @param notSent calls not sent because too many were in flight (part of failed)
   * @param attempts attempts sent (first, retries, hedges, probes)
   * @param hedges hedges sent
   * @param retries retries sent
   * @param latency latency percentiles, or null with no call sent
   * @param shareByZone fraction of first attempts per zone; empty with no first attempt
   * @param firstAttempts first attempts counted
   * @param started calls handed to the client in the bucket, by when they were (see {@link
   *     Stats#started(long)}): the calls whose first attempts the bucket counts, with or without
   *     one
   * @param firstByZone first attempts per zone, counted
   * @param handed calls handed to the client in the bucket (by intended send time): every call that
   *     ended (in {@code calls}) and those that had not when the summary was taken
   */
  record Summary(
      Phase phase,
      long calls,
      long ok,
      long stale,
      long failed,
      long notSent,
      long attempts,
      long hedges,
      long retries,
      @Nullable Percentiles latency,
      Map<String, Double> shareByZone,
      long firstAttempts,
      long started,
      Map<String, Long> firstByZone,
      long handed) {

    /**
     * Calls handed to the client that had not ended when the summary was taken: still in flight
     * when the drill stopped waiting for them, so in no other figure.
     */
    long unfinished() {
      return Math.max(0, handed - calls);
    }

    double successPercent() {
      return calls == 0 ? Double.NaN : 100.0 * ok / calls;
    }

    double attemptsPerCall() {
      long sent = calls - notSent;
      return sent == 0 ? Double.NaN : (double) attempts / sent;
    }

    double share(String zone) {
      Double d = shareByZone.get(zone);
      return d == null ? Double.NaN : d;
    }

    /**
     * The share of the calls started in the bucket whose first attempt went to {@code zone}: a call
     * that never sent one (it failed first, or was answered from the stale cache) counts as not
     * there. NaN with no call started.
     */
    double shareOfStarted(String zone) {
      // A call stamped started just before a boundary may have its first attempt stamped just
      // after it (the sdk stamps its own start): never count more first attempts than calls.
      long of = Math.max(started, firstAttempts);
      return of == 0 ? Double.NaN : firstByZone.getOrDefault(zone, 0L) / (double) of;
    }

    /** The share of calls answered 2xx fresh, not from the stale cache; NaN with no call. */
    double freshPercent() {
      return calls == 0 ? Double.NaN : 100.0 * (ok - stale) / calls;
    }
  }

  /** Latency percentiles in milliseconds, from the intended send time. */
  record Percentiles(double p50, double p90, double p99, double p999, double max) {}

  private static final class Bucket {
    private final Phase phase;
    private final LatencyRecorder latency = new LatencyRecorder();
    private final Map<String, Long> first = new LinkedHashMap<>();
    private long calls;
    private long ok;
    private long stale;
    private long failed;
    private long notSent;
    private long attempts;
    private long hedges;
    private long retries;
    private long started;
    private long handed;

    Bucket(Phase phase) {
      this.phase = phase;
    }

    synchronized void call(long latencyNanos, Result result) {
      calls++;
      switch (result) {
        case OK -> ok++;
        case STALE -> {
          ok++;
          stale++;
        }
        case FAILED -> failed++;
        case NOT_SENT -> {
          failed++;
          notSent++;
        }
      }
      if (result != Result.NOT_SENT) {
        latency.record(latencyNanos);
      }
    }

    synchronized void attempts(int a, int r, int h) {
      attempts += a;
      retries += r;
      hedges += h;
    }

    synchronized void first(String zone) {
      first.merge(zone, 1L, Long::sum);
    }

    synchronized void start() {
      started++;
    }

    synchronized void hand() {
      handed++;
    }

    /** Whether every call handed for this bucket has ended. */
    synchronized boolean settled() {
      return calls >= handed;
    }

    synchronized long startedCount() {
      return started;
    }

    synchronized long firstAttempts(String zone) {
      return first.getOrDefault(zone, 0L);
    }

    synchronized Summary summary(List<String> zones) {
      Percentiles pct = null;
      if (latency.count() > 0) {
        pct =
            new Percentiles(
                latency.percentileMillis(50),
                latency.percentileMillis(90),
                latency.percentileMillis(99),
                latency.percentileMillis(99.9),
                latency.maxMillis());
      }
      long firsts = first.values().stream().mapToLong(Long::longValue).sum();
      Map<String, Double> share = new LinkedHashMap<>();
      if (firsts > 0) {
        for (String z : zones) {
          share.put(z, first.getOrDefault(z, 0L) / (double) firsts);
        }
      }
      return new Summary(
          phase,
          calls,
          ok,
          stale,
          failed,
          notSent,
          attempts,
          hedges,
          retries,
          pct,
          share,
          firsts,
          started,
          Map.copyOf(first),
          handed);
    }
  }
}
