package dev.failover.testkit;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * One fake availability zone: a fixed number of {@link FakeEndpoint}s in one {@link FakeRegion}.
 *
 * <pre>{@code
 * FakeZone zone = zones.zone("us-east-1a");
 * zone.fail(ZoneFault.refuse());          // every endpoint of the zone
 * zone.endpoint(0).fail(ZoneFault.hang()); // or just one
 * zone.heal();
 * }</pre>
 */
public final class FakeZone implements FakeTarget {

  private final String name;
  private final FakeRegion region;
  private final List<FakeEndpoint> endpoints;
  private final long declaredDistanceMillis;
  private volatile long distanceMillis;

  FakeZone(
      String name,
      FakeRegion region,
      int endpointCount,
      int firstGlobalIndex,
      long distanceMillis,
      int containerThreads) {
    this.name = name;
    this.region = region;
    List<FakeEndpoint> list = new ArrayList<>();
    for (int i = 0; i < endpointCount; i++) {
      list.add(new FakeEndpoint(this, i, firstGlobalIndex + i, containerThreads));
    }
    this.endpoints = List.copyOf(list);
    this.declaredDistanceMillis = distanceMillis;
    this.distanceMillis = distanceMillis;
  }

  /**
   * Returns the zone's name, such as {@code us-east-1a}.
   *
   * @return the name
   */
  public String name() {
    return name;
  }

  /**
   * Returns the region this zone belongs to.
   *
   * @return the region
   */
  public FakeRegion region() {
    return region;
  }

  /**
   * Returns the endpoint at {@code index}.
   *
   * @param index from 0 to {@code endpointsPerZone - 1}
   * @return the endpoint
   * @throws IndexOutOfBoundsException if there is no such endpoint
   */
  public FakeEndpoint endpoint(int index) {
    if (index < 0 || index >= endpoints.size()) {
      throw new IndexOutOfBoundsException(
          "endpoint index must be in [0, " + endpoints.size() + ") but was " + index);
    }
    return endpoints.get(index);
  }

  @Override
  public List<FakeEndpoint> fakeEndpoints() {
    return endpoints;
  }

  /**
   * Returns this zone's own distance, the delay added to each of its responses (the region's
   * distance is added on top).
   *
   * @return the distance
   */
  public Duration distance() {
    return Duration.ofMillis(distanceMillis);
  }

  /**
   * Sets this zone's distance: a delay added to every response of the zone, on top of its region's
   * distance and of any latency fault. {@link #heal()} keeps it; it returns to the value declared
   * on the builder between tests and on {@link FakeZones#reset()}.
   *
   * @param distance the delay, from 0 to 10 minutes
   * @throws IllegalArgumentException if {@code distance} is out of range
   */
  public void distance(Duration distance) {
    this.distanceMillis = Latency.millis("distance", distance);
  }

  /** The delay added to every response: this zone's distance plus its region's. */
  long distanceMillis() {
    return distanceMillis + region.distanceMillis();
  }

  void resetDistance() {
    distanceMillis = declaredDistanceMillis;
  }

  @Override
  public String toString() {
    return "FakeZone[" + name + " in " + region.name() + ", " + endpoints.size() + " endpoints]";
  }
}
