package dev.failover.drill;

import java.time.Duration;
import java.util.List;

/**
 * A named span of the drill, from {@code start} (inclusive) to {@code end} (exclusive).
 *
 * @param saturatesClient whether the drill saturates its own host (the client's) in this phase, on
 *     purpose: the load generator is expected to lag there
 */
record Phase(
    String name, Duration start, Duration end, String description, boolean saturatesClient) {

  Phase(String name, Duration start, Duration end, String description) {
    this(name, start, end, description, false);
  }

  /** Returns the phase in progress at {@code offset}, or the last one past the end. */
  static Phase at(List<Phase> phases, long offsetNanos) {
    for (Phase p : phases) {
      if (offsetNanos < p.end.toNanos()) {
        return p;
      }
    }
    return phases.get(phases.size() - 1);
  }
}
