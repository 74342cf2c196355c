package dev.failover.benchmarks;

import dev.failover.testkit.load.LatencyRecorder;
import dev.failover.testkit.load.LoadClock;
import java.util.Set;
import java.util.concurrent.atomic.AtomicIntegerArray;

/**
 * What one client did in one scenario: every scheduled call's intended send time, latency and
 * outcome, its attempts, and where its first attempt went. Times are nanoseconds from the load's
 * start on its {@link LoadClock} (warm-up calls have negative times and are left out of every
 * figure); latencies go into a {@link LatencyRecorder} per window.
 */
final class Recorder {
  static final long MS = 1_000_000L;
  static final long SECOND = 1_000_000_000L;

  final String client;
  final LoadClock clock;
  private final long[] intended;
  private final long[] latency;
  private final byte[] result;
  private final AtomicIntegerArray attempts;
  private final AtomicIntegerArray firstEndpoint;
  private final long[] firstAt;

  Recorder(String client, int calls, LoadClock clock) {
    this.client = client;
    this.clock = clock;
    this.intended = new long[calls];
    this.latency = new long[calls];
    this.result = new byte[calls];
    this.attempts = new AtomicIntegerArray(calls);
    this.firstEndpoint = new AtomicIntegerArray(calls);
    this.firstAt = new long[calls];
    for (int i = 0; i < calls; i++) {
      firstEndpoint.set(i, -1);
    }
  }

  int calls() {
    return intended.length;
  }

  /** Call {@code seq} is due {@code offsetNanos} from the start (negative in the warm-up). */
  void scheduled(int seq, long offsetNanos) {
    intended[seq] = offsetNanos;
  }

  /** {@code nanoTime} from the start; negative before it. */
  long offset(long nanoTime) {
    return clock.offset(nanoTime);
  }

  synchronized void done(int seq, boolean ok, long intendedNanoTime) {
    if (result[seq] != 0) {
      return;
    }
    long took = clock.now() - intendedNanoTime;
    latency[seq] = took;
    // A success counts only within the deadline, measured from the intended send time.
    result[seq] = ok && took <= Scenarios.DEADLINE.toNanos() ? (byte) 1 : (byte) 2;
  }

  /** Counts an attempt of call {@code seq}; marks it the first if {@code mayBeFirst}. */
  void attempt(int seq, int endpoint, long startNanoTime, boolean mayBeFirst) {
    if (seq < 0 || seq >= intended.length) {
      return;
    }
    attempts.incrementAndGet(seq);
    if (mayBeFirst) {
      first(seq, endpoint, startNanoTime);
    }
  }

  /** Records where call {@code seq}'s first attempt went, once. */
  void first(int seq, int endpoint, long startNanoTime) {
    if (seq < 0 || seq >= intended.length || endpoint < 0) {
      return;
    }
    if (firstEndpoint.compareAndSet(seq, -1, endpoint)) {
      firstAt[seq] = offset(startNanoTime);
    }
  }

  /** Latency, success and attempts of the calls intended in {@code [from, to)}. */
  synchronized Stats stats(long from, long to) {
    LatencyRecorder h = new LatencyRecorder();
    long n = 0;
    long ok = 0;
    long failed = 0;
    long att = 0;
    for (int i = 0; i < intended.length; i++) {
      long t = intended[i];
      if (t < from || t >= to || t < 0) {
        continue;
      }
      n++;
      if (result[i] == 1) {
        ok++;
      } else {
        failed++;
      }
      att += attempts.get(i);
      if (result[i] != 0) {
        h.record(latency[i]);
      }
    }
    return new Stats(
        n,
        ok,
        failed,
        n == 0 ? 0 : (double) att / n,
        h.percentileMillis(50),
        h.percentileMillis(99),
        h.percentileMillis(99.9));
  }

  /** The share of first attempts started in {@code [from, to)} that went to {@code faulty}. */
  synchronized Share share(long from, long to, Set<Integer> faulty) {
    long all = 0;
    long bad = 0;
    for (int i = 0; i < intended.length; i++) {
      int e = firstEndpoint.get(i);
      long t = firstAt[i];
      if (e < 0 || t < from || t >= to || t < 0) {
        continue;
      }
      all++;
      if (faulty.contains(e)) {
        bad++;
      }
    }
    return new Share(all, bad);
  }

  /** The share of successful calls among those intended in {@code [from, to)}. */
  synchronized Share success(long from, long to) {
    long all = 0;
    long ok = 0;
    for (int i = 0; i < intended.length; i++) {
      long t = intended[i];
      if (t < from || t >= to || t < 0) {
        continue;
      }
      all++;
      if (result[i] == 1) {
        ok++;
      }
    }
    return new Share(all, ok);
  }

  /** Call statistics. Latencies in milliseconds, from the intended send time. */
  record Stats(
      long calls,
      long ok,
      long failed,
      double attemptsPerCall,
      double p50,
      double p99,
      double p999) {
    double successPercent() {
      return calls == 0 ? 0 : 100.0 * ok / calls;
    }
  }

  /** A count and how many of it matched. */
  record Share(long all, long matched) {
    double percent() {
      return all == 0 ? Double.NaN : 100.0 * matched / all;
    }
  }
}
