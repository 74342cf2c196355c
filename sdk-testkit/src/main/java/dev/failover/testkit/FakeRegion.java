package dev.failover.testkit;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * One fake region: a group of {@link FakeZone}s.
 *
 * <pre>{@code
 * zones.region("us-west-2").distance(Duration.ofMillis(35)); // farther than the home region
 * zones.region("us-east-1").fail(ZoneFault.refuse());        // a whole-region outage
 * }</pre>
 */
public final class FakeRegion implements FakeTarget {

  private final String name;
  private final List<FakeZone> zones;
  private final List<FakeEndpoint> endpoints;
  private final long declaredDistanceMillis;
  private volatile long distanceMillis;

  FakeRegion(String name, List<String> zoneNames, Topology topology) {
    this.name = name;
    this.declaredDistanceMillis = topology.distanceMillis(name);
    this.distanceMillis = declaredDistanceMillis;
    List<FakeZone> zoneList = new ArrayList<>();
    List<FakeEndpoint> endpointList = new ArrayList<>();
    for (String zoneName : zoneNames) {
      FakeZone zone =
          new FakeZone(
              zoneName,
              this,
              topology.endpointsPerZone(),
              topology.nextGlobalIndex(),
              topology.distanceMillis(zoneName),
              topology.containerThreads());
      zoneList.add(zone);
      endpointList.addAll(zone.fakeEndpoints());
    }
    this.zones = List.copyOf(zoneList);
    this.endpoints = List.copyOf(endpointList);
  }

  /**
   * Returns the region's name, such as {@code us-east-1}.
   *
   * @return the name
   */
  public String name() {
    return name;
  }

  /**
   * Returns the region's zones, in declaration order.
   *
   * @return the zones
   */
  public List<FakeZone> zones() {
    return zones;
  }

  @Override
  public List<FakeEndpoint> fakeEndpoints() {
    return endpoints;
  }

  /**
   * Returns this region's distance, the delay added to each response of its zones.
   *
   * @return the distance
   */
  public Duration distance() {
    return Duration.ofMillis(distanceMillis);
  }

  /**
   * Sets this region's distance: a delay added to every response of every zone in the region, on
   * top of the zone's own distance. {@link #heal()} keeps it; it returns to the value declared on
   * the builder between tests and on {@link FakeZones#reset()}.
   *
   * @param distance the delay, from 0 to 10 minutes
   * @throws IllegalArgumentException if {@code distance} is out of range
   */
  public void distance(Duration distance) {
    this.distanceMillis = Latency.millis("distance", distance);
  }

  long distanceMillis() {
    return distanceMillis;
  }

  void resetDistance() {
    distanceMillis = declaredDistanceMillis;
    for (FakeZone zone : zones) {
      zone.resetDistance();
    }
  }

  @Override
  public String toString() {
    return "FakeRegion[" + name + ", zones " + zones.stream().map(FakeZone::name).toList() + "]";
  }

  /** What the builder declared, handed to the constructors. */
  interface Topology {
    int endpointsPerZone();

    int containerThreads();

    long distanceMillis(String regionOrZone);

    /** Returns the global index of the next zone's first endpoint and advances past the zone. */
    int nextGlobalIndex();
  }
}
