package dev.failover.spring.boot.autoconfigure;

import dev.failover.EndpointSource;
import java.time.Duration;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Makes the {@link EndpointSource} of a client whose endpoints come from a service registry. Only
 * our own types here, so that {@link FailoverClientFactory} loads without Spring Cloud on the class
 * path; the bean exists only when Spring Cloud Commons does.
 */
interface EndpointSources {

  /**
   * Returns a source that polls the application's DiscoveryClient, not yet started.
   *
   * @param clientName the failover client's name, for thread names and logs
   * @param settings what to ask for and how to read the answers
   * @return the source
   * @throws IllegalStateException if the application has no DiscoveryClient
   */
  EndpointSource create(String clientName, Settings settings);

  /**
   * How a client reads its registry.
   *
   * @param serviceId the service id to look up
   * @param refreshInterval how often to ask
   * @param heartbeatTimeout longest gap between HeartbeatEvents before answers count as failures,
   *     or null to ignore heartbeats
   * @param mapping how instances become endpoints
   */
  record Settings(
      String serviceId,
      Duration refreshInterval,
      @Nullable Duration heartbeatTimeout,
      InstanceMapping mapping) {}

  /**
   * How an instance's metadata becomes an endpoint's locality and weight.
   *
   * @param region the region of instances whose metadata names none
   * @param defaultZone the zone of instances whose metadata names none, or null to skip them
   * @param zoneKeys metadata keys read for the zone, first found wins
   * @param regionKeys metadata keys read for the region, first found wins
   * @param weightKey metadata key read for the weight
   */
  record InstanceMapping(
      String region,
      @Nullable String defaultZone,
      List<String> zoneKeys,
      List<String> regionKeys,
      String weightKey) {

    /** Metadata keys read for the zone when none are configured. */
    static final List<String> ZONE_KEYS = List.of("zone", "topology.kubernetes.io/zone");

    /** Metadata keys read for the region when none are configured. */
    static final List<String> REGION_KEYS = List.of("region", "topology.kubernetes.io/region");

    /** Metadata key read for the weight when none is configured. */
    static final String WEIGHT_KEY = "weight";

    /**
     * Copies the lists.
     *
     * @param region the region of instances whose metadata names none
     * @param defaultZone the zone of instances whose metadata names none, or null to skip them
     * @param zoneKeys metadata keys read for the zone
     * @param regionKeys metadata keys read for the region
     * @param weightKey metadata key read for the weight
     */
    public InstanceMapping {
      zoneKeys = List.copyOf(zoneKeys);
      regionKeys = List.copyOf(regionKeys);
    }
  }
}
