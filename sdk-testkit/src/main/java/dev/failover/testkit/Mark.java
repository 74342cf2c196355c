package dev.failover.testkit;

import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * A point in the request journals, from {@link FakeZones#mark()}: counts taken with a mark include
 * only the requests received after it.
 *
 * <pre>{@code
 * Mark before = zones.mark();
 * // ... drive traffic ...
 * assertThat(zones.zone("us-east-1a").requestCount(before)).isZero();
 * }</pre>
 *
 * <p>A mark is immutable. It stays valid across {@link FakeZones#resetCounts()} (requests received
 * after the reset are all counted).
 */
public final class Mark {

  private final Map<FakeEndpoint, Set<UUID>> seen;

  Mark(Map<FakeEndpoint, Set<UUID>> seen) {
    this.seen = Map.copyOf(seen);
  }

  /** Whether the request with this journal id was already received at the mark. */
  boolean saw(FakeEndpoint endpoint, UUID id) {
    Set<UUID> ids = seen.get(endpoint);
    return ids != null && ids.contains(id);
  }

  @Override
  public String toString() {
    int total = 0;
    for (Set<UUID> ids : seen.values()) {
      total += ids.size();
    }
    return "Mark[" + total + " requests before]";
  }
}
