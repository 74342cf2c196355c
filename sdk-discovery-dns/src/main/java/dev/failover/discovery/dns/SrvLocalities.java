package dev.failover.discovery.dns;

import dev.failover.Locality;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * Ready-made ways to tell the {@link Locality} of an SRV target from its host name.
 *
 * <p>Both read the zone from one label of the target name, counted from the left starting at 0: in
 * {@code a1.us-east-1a.dir.internal} label 0 is {@code a1} and label 1 is {@code us-east-1a}.
 *
 * <pre>{@code
 * // region = zone without its trailing letter: us-east-1a -> us-east-1
 * Function<SrvTarget, Locality> byLabel = SrvLocalities.zoneLabel(1);
 * // zone names that are not region + letter (zone ids, on-premises rooms)
 * Function<SrvTarget, Locality> byMap =
 *     SrvLocalities.zoneLabel(1, Map.of("use1-az1", "us-east-1", "use1-az2", "us-east-1"));
 * }</pre>
 *
 * <p>A mapping throws {@link IllegalArgumentException} for a target it cannot place (too few
 * labels, a zone without a trailing letter, a zone missing from the map); the source then reports
 * the whole lookup as failed, naming the record, so the client keeps its last good list rather than
 * losing endpoints to a naming mistake.
 */
public final class SrvLocalities {

  private SrvLocalities() {}

  /**
   * Returns a mapping that takes the zone from label {@code position} of the target name and the
   * region from the zone without its trailing letter ({@code us-east-1a} is in {@code us-east-1}),
   * as cloud zone names are formed.
   *
   * @param position the label's index from the left, starting at 0; 0 to 126
   * @return the mapping
   * @throws IllegalArgumentException if {@code position} is out of range
   */
  public static Function<SrvTarget, Locality> zoneLabel(int position) {
    checkPosition(position);
    return new LabelMapping(position, null);
  }

  /**
   * Returns a mapping that takes the zone from label {@code position} of the target name and the
   * region from {@code regionByZone}.
   *
   * @param position the label's index from the left, starting at 0; 0 to 126
   * @param regionByZone the region of each zone, for example {@code use1-az1 -> us-east-1}; zone
   *     names are compared in lower case, as DNS names are case-insensitive
   * @return the mapping
   * @throws IllegalArgumentException if {@code position} is out of range, or the map is empty or
   *     has a blank zone or region
   */
  public static Function<SrvTarget, Locality> zoneLabel(
      int position, Map<String, String> regionByZone) {
    checkPosition(position);
    Objects.requireNonNull(regionByZone, "regionByZone");
    if (regionByZone.isEmpty()) {
      throw new IllegalArgumentException("dns regionByZone must not be empty");
    }
    Map<String, String> lower = new HashMap<>();
    regionByZone.forEach(
        (zone, region) -> {
          if (zone.isBlank() || region.isBlank()) {
            throw new IllegalArgumentException(
                "dns regionByZone must not have blank names but had '"
                    + zone
                    + "' -> '"
                    + region
                    + "'");
          }
          lower.put(zone.toLowerCase(Locale.ROOT), region);
        });
    return new LabelMapping(position, Map.copyOf(lower));
  }

  /**
   * Returns a mapping that places every target in {@code locality}, for a service name per zone
   * (one SRV source per zone, merged by the application) or a single-zone service.
   *
   * @param locality where every target runs
   * @return the mapping
   */
  public static Function<SrvTarget, Locality> fixed(Locality locality) {
    Objects.requireNonNull(locality, "locality");
    return target -> locality;
  }

  private static void checkPosition(int position) {
    if (position < 0 || position > 126) {
      throw new IllegalArgumentException(
          "dns zone label position must be between 0 and 126 but was " + position);
    }
  }

  /** The zone from one label; the region from a map or from the zone minus its last letter. */
  private static final class LabelMapping implements Function<SrvTarget, Locality> {
    private final int position;
    private final @Nullable Map<String, String> regionByZone;

    LabelMapping(int position, @Nullable Map<String, String> regionByZone) {
      this.position = position;
      this.regionByZone = regionByZone;
    }

    @Override
    public Locality apply(SrvTarget target) {
      String[] labels = target.host().split("\\.", -1);
      if (position >= labels.length || labels[position].isEmpty()) {
        throw new IllegalArgumentException(
            "target "
                + target.host()
                + " has no label "
                + position
                + " to take the zone from (labels count from 0 on the left)");
      }
      String zone = labels[position].toLowerCase(Locale.ROOT);
      Map<String, String> regions = regionByZone;
      if (regions != null) {
        String region = regions.get(zone);
        if (region == null) {
          throw new IllegalArgumentException(
              "zone '"
                  + zone
                  + "' of target "
                  + target.host()
                  + " is not in the region map; zones there are "
                  + new TreeSet<>(regions.keySet()));
        }
        return Locality.of(region, zone);
      }
      char last = zone.charAt(zone.length() - 1);
      if (zone.length() < 2 || last < 'a' || last > 'z') {
        throw new IllegalArgumentException(
            "zone '"
                + zone
                + "' of target "
                + target.host()
                + " does not end with a letter after its region (as us-east-1a does); give a"
                + " region map with SrvLocalities.zoneLabel(position, regionByZone)");
      }
      return Locality.of(zone.substring(0, zone.length() - 1), zone);
    }

    @Override
    public String toString() {
      return "zone from label " + position + (regionByZone == null ? "" : " with a region map");
    }
  }
}
