package dev.failover;

import java.util.Objects;

/**
 * Where an endpoint, or the client itself, runs: a cloud region and an availability zone in it.
 *
 * <pre>{@code
 * Locality home = Locality.of("us-east-1", "us-east-1a");
 * }</pre>
 *
 * <p>Names are compared exactly (case included), so each must be written the same way wherever it
 * appears; a name with whitespace at its start or end is rejected, since it would quietly make a
 * zone or region of its own.
 *
 * @param region the region, for example {@code us-east-1}; never blank, no whitespace at its ends
 * @param zone the availability zone, for example {@code us-east-1a}; never blank, no whitespace at
 *     its ends
 */
public record Locality(String region, String zone) {

  /**
   * Checks both names.
   *
   * @param region the region, for example {@code us-east-1}; never blank, no whitespace at its ends
   * @param zone the availability zone, for example {@code us-east-1a}; never blank, no whitespace
   *     at its ends
   * @throws InvalidSettingException if a name is blank, or starts or ends with whitespace
   * @throws NullPointerException if a name is null
   */
  public Locality {
    Objects.requireNonNull(region, "region");
    Objects.requireNonNull(zone, "zone");
    if (region.isBlank()) {
      throw new InvalidSettingException("locality.region", region, "region must not be blank");
    }
    if (!region.strip().equals(region)) {
      // Names are compared exactly: "us-east-1 " would be a region of its own.
      throw new InvalidSettingException(
          "locality.region",
          region,
          "region must not start or end with whitespace but was '" + region + "'");
    }
    if (zone.isBlank()) {
      throw new InvalidSettingException(
          "locality.zone", zone, "zone must not be blank (region " + region + ")");
    }
    if (!zone.strip().equals(zone)) {
      // "us-east-1a " next to "us-east-1a" would split one zone into two, each judged, evacuated
      // and returned on its own.
      throw new InvalidSettingException(
          "locality.zone",
          zone,
          "zone must not start or end with whitespace but was '"
              + zone
              + "' (region "
              + region
              + ")");
    }
  }

  /**
   * Returns the locality of {@code zone} in {@code region}.
   *
   * @param region the region, for example {@code us-east-1}
   * @param zone the availability zone, for example {@code us-east-1a}
   * @return the locality
   * @throws InvalidSettingException if a name is blank, or starts or ends with whitespace
   */
  public static Locality of(String region, String zone) {
    return new Locality(region, zone);
  }

  @Override
  public String toString() {
    return region + "/" + zone;
  }
}
