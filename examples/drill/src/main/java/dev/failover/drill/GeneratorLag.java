package dev.failover.drill;

import dev.failover.testkit.load.Lateness;
import dev.failover.testkit.load.OpenLoopGenerator;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How late the load generator itself sent the drill's calls: per second, per phase, in total, and
 * outside the phases that saturate the drill's own host on purpose, each a {@link Lateness}. A call
 * is late when it left more than {@link Lateness#LATE} after its due time; its latency then
 * includes that lag (it counts from the due time), which is the truth for its caller but says the
 * machine, not the clients, was slow. The calls of the fail-back tail (due at or after the drill's
 * end) are counted apart, per second of the tail and in the tail's total, never in a phase or the
 * drill's total. Thread-safe.
 */
final class GeneratorLag implements OpenLoopGenerator.LagSink {
  private final List<Phase> phases;
  private final Lateness[] seconds;
  private final Map<String, Lateness> byPhase = new LinkedHashMap<>();
  private final Lateness total = new Lateness();
  private final Lateness unexpected = new Lateness();
  private final long endNanos;
  private final Lateness[] tailSeconds;
  private final Lateness tailTotal = new Lateness();

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
    this.seconds = new Lateness[n];
    for (int i = 0; i < n; i++) {
      seconds[i] = new Lateness();
    }
    for (Phase p : phases) {
      byPhase.put(p.name(), new Lateness());
    }
    this.endNanos = duration.toNanos();
    this.tailSeconds = new Lateness[(int) tail.toSeconds()];
    for (int i = 0; i < tailSeconds.length; i++) {
      tailSeconds[i] = new Lateness();
    }
  }

  /** Records a call sent {@code lagNanos} after its due time, {@code offsetNanos} from start. */
  @Override
  public void sent(long offsetNanos, long lagNanos) {
    if (offsetNanos >= endNanos && tailSeconds.length > 0) {
      int t = (int) Math.min(tailSeconds.length - 1, (offsetNanos - endNanos) / 1_000_000_000L);
      tailSeconds[t].sent(lagNanos);
      tailTotal.sent(lagNanos);
      return;
    }
    int s = (int) Math.min(seconds.length - 1, Math.max(0, offsetNanos / 1_000_000_000L));
    Phase phase = Phase.at(phases, Math.max(0, offsetNanos));
    seconds[s].sent(lagNanos);
    Lateness b = byPhase.get(phase.name());
    if (b != null) {
      b.sent(lagNanos);
    }
    total.sent(lagNanos);
    if (!phase.saturatesClient()) {
      unexpected.sent(lagNanos);
    }
  }

  int secondCount() {
    return seconds.length;
  }

  Lateness.Summary second(int i) {
    return seconds[i].summary();
  }

  Lateness.Summary phase(String name) {
    Lateness b = byPhase.get(name);
    if (b == null) {
      throw new IllegalArgumentException("no phase " + name);
    }
    return b.summary();
  }

  Lateness.Summary total() {
    return total.summary();
  }

  /** Second {@code i} of the fail-back tail: its calls are the calls due in that second. */
  Lateness.Summary tailSecond(int i) {
    return tailSeconds[i].summary();
  }

  /** Every call of the fail-back tail. */
  Lateness.Summary tailTotal() {
    return tailTotal.summary();
  }

  /** Outside the phases where the drill saturates its own host (where lag is the point). */
  Lateness.Summary unexpected() {
    return unexpected.summary();
  }

  /** Whether the generator was late outside the phases that saturate the host on purpose. */
  boolean lagged() {
    return unexpected.summary().late() > 0;
  }
}
