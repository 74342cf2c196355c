package dev.failover.drill;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * How late the load generator itself sent the drill's calls: per second, per phase, in total, and
 * outside the phases that saturate the drill's own host on purpose. A call is late when it left
 * more than {@link #LATE} after its due time; its latency then includes that lag (it counts from
 * the due time), which is the truth for its caller but says the machine, not the clients, was slow.
 * The calls of the fail-back tail (due at or after the drill's end) are counted apart, per second
 * of the tail and in the tail's total, never in a phase or the drill's total. Thread-safe.
 */
final class GeneratorLag {
  /** A call sent more than this after its due time counts as late. */
  static final Duration LATE = Duration.ofMillis(10);

  private final List<Phase> phases;
  private final Bucket[] seconds;
  private final Map<String, Bucket> byPhase = new LinkedHashMap<>();
  private final Bucket total = new Bucket();
  private final Bucket unexpected = new Bucket();
  private final long endNanos;
  private final Bucket[] tailSeconds;
  private final Bucket tailTotal = new Bucket();

  GeneratorLag(List<Phase> phases, Duration duration) {
    this(phases, duration, Duration.ZERO);
  }

  /**
   * @param duration how long the drill's phases last
   * @param tail the longest fail-back tail after them (whole seconds), zero for none
   */
  GeneratorLag(List<Phase> phases, Duration duration, Duration tail) {
    this.phases = List.copyOf(phases);
    int n = (int) Math.max(1, (duration.toMillis() + 999) / 1000);
    this.seconds = new Bucket[n];
    for (int i = 0; i < n; i++) {
      seconds[i] = new Bucket();
    }
    for (Phase p : phases) {
      byPhase.put(p.name(), new Bucket());
    }
    this.endNanos = duration.toNanos();
    this.tailSeconds = new Bucket[(int) tail.toSeconds()];
    for (int i = 0; i < tailSeconds.length; i++) {
      tailSeconds[i] = new Bucket();
    }
  }

  /**
   * The generator's lateness over some calls.
   *
   * @param calls calls sent
   * @param late calls sent more than {@link #LATE} after their due time
   * @param maxLagNanos the largest lag seen, 0 with no call
   */
  record Summary(long calls, long late, long maxLagNanos) {
    double maxLagMillis() {
      return maxLagNanos / 1e6;
    }
  }

  /** Records a call sent {@code lagNanos} after its due time, {@code offsetNanos} from start. */
  void sent(long offsetNanos, long lagNanos) {
    long lagged = Math.max(0, lagNanos);
    if (offsetNanos >= endNanos && tailSeconds.length > 0) {
      int t = (int) Math.min(tailSeconds.length - 1, (offsetNanos - endNanos) / 1_000_000_000L);
      tailSeconds[t].add(lagged);
      tailTotal.add(lagged);
      return;
    }
    int s = (int) Math.min(seconds.length - 1, Math.max(0, offsetNanos / 1_000_000_000L));
    Phase phase = Phase.at(phases, Math.max(0, offsetNanos));
    seconds[s].add(lagged);
    Bucket b = byPhase.get(phase.name());
    if (b != null) {
      b.add(lagged);
    }
    total.add(lagged);
    if (!phase.saturatesClient()) {
      unexpected.add(lagged);
    }
  }

  int secondCount() {
    return seconds.length;
  }

  Summary second(int i) {
    return seconds[i].summary();
  }

  Summary phase(String name) {
    Bucket b = byPhase.get(name);
    if (b == null) {
      throw new IllegalArgumentException("no phase " + name);
    }
    return b.summary();
  }

  Summary total() {
    return total.summary();
  }

  /** Second {@code i} of the fail-back tail: its calls are the calls due in that second. */
  Summary tailSecond(int i) {
    return tailSeconds[i].summary();
  }

  /** Every call of the fail-back tail. */
  Summary tailTotal() {
    return tailTotal.summary();
  }

  /** Outside the phases where the drill saturates its own host (where lag is the point). */
  Summary unexpected() {
    return unexpected.summary();
  }

  /** Whether the generator was late outside the phases that saturate the host on purpose. */
  boolean lagged() {
    return unexpected.summary().late() > 0;
  }

  private static final class Bucket {
    private static final long LATE_NANOS = TimeUnit.MILLISECONDS.toNanos(LATE.toMillis());
    private long calls;
    private long late;
    private long max;

    synchronized void add(long lagNanos) {
      calls++;
      if (lagNanos > LATE_NANOS) {
        late++;
      }
      max = Math.max(max, lagNanos);
    }

    synchronized Summary summary() {
      return new Summary(calls, late, max);
    }
  }
}
