package dev.failover;

import java.util.Objects;

/**
 * Where an endpoint, or the client itself, runs: a cloud region and an availability zone in it.
 *
 * <pre>{@code
 * Locality home = Locality.of("us-east-1", "us-east-1a");
 * }</pre>
 *
 * @param region the region, for example {@code us-east-1}; never blank
 * @param zone the availability zone, for example {@code us-east-1a}; never blank
 */
public record Locality(String region, String zone) {

  /**
   * Checks both names.
   *
   * @param region the region, for example {@code us-east-1}; never blank
   * @param zone the availability zone, for example {@code us-east-1a}; never blank
   * @throws InvalidSettingException if a name is blank
   * @throws NullPointerException if a name is null
   */
  public Locality {
    Objects.requireNonNull(region, "region");
    Objects.requireNonNull(zone, "zone");
    if (region.isBlank()) {
      throw new InvalidSettingException("locality.region", region, "region must not be blank");
    }
    if (zone.isBlank()) {
      throw new InvalidSettingException(
          "locality.zone", zone, "zone must not be blank (region " + region + ")");
    }
  }

  /**
   * Returns the locality of {@code zone} in {@code region}.
   *
   * @param region the region, for example {@code us-east-1}
   * @param zone the availability zone, for example {@code us-east-1a}
   * @return the locality
   * @throws InvalidSettingException if a name is blank
   */
  public static Locality of(String region, String zone) {
    return new Locality(region, zone);
  }

  @Override
  public String toString() {
    return region + "/" + zone;
  }
}
