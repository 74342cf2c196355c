package dev.failover.discovery.zookeeper;

import dev.failover.Endpoint;
import dev.failover.Locality;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import okhttp3.HttpUrl;
import org.apache.curator.x.discovery.ServiceInstance;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns Curator service instances into endpoints: {@code https} on the SSL port when there is one,
 * else {@code http} on the port; the locality from the configured mapping. Instances that cannot be
 * used are left out with one warning per instance and reason (disabled instances at debug level),
 * among them an instance the mapping throws for, an Error too; an address is named in them without
 * its user info, which may hold a password.
 *
 * <p>Only the source's worker thread calls {@link #endpoints}: not thread-safe.
 */
final class InstanceMapper<T> {

  private static final Logger log = LoggerFactory.getLogger(ZooKeeperEndpointSource.class);

  /** The metadata keys read for the zone, in order. */
  static final List<String> ZONE_KEYS = List.of("zone", "topology.kubernetes.io/zone");

  /** The metadata keys read for the region, in order. */
  static final List<String> REGION_KEYS = List.of("region", "topology.kubernetes.io/region");

  private static final String DISABLED = "it is disabled";

  private final String service;
  private final Function<? super ServiceInstance<T>, ? extends @Nullable Locality> locality;

  /** Instance id to the reason it was last left out for; warned once per change of reason. */
  private final Map<String, String> skipped = new HashMap<>();

  InstanceMapper(
      String service, Function<? super ServiceInstance<T>, ? extends @Nullable Locality> locality) {
    this.service = service;
    this.locality = locality;
  }

  /**
   * Returns the endpoints of the usable instances, ordered by instance id.
   *
   * @param instances every instance the registry lists now
   * @return the endpoints
   */
  List<Endpoint> endpoints(List<ServiceInstance<T>> instances) {
    List<ServiceInstance<T>> sorted = new ArrayList<>(instances);
    // By id as text: a custom serializer may give an instance no id, which must not stop the watch.
    sorted.sort(Comparator.comparing(instance -> String.valueOf(instance.getId())));
    List<Endpoint> out = new ArrayList<>(sorted.size());
    Set<String> seen = new HashSet<>();
    for (ServiceInstance<T> instance : sorted) {
      String id = String.valueOf(instance.getId());
      seen.add(id);
      try {
        out.add(endpoint(instance));
        skipped.remove(id);
      } catch (IllegalArgumentException e) {
        skip(instance, id, String.valueOf(e.getMessage()));
      }
    }
    skipped.keySet().retainAll(seen);
    return out;
  }

  private Endpoint endpoint(ServiceInstance<T> instance) {
    if (!instance.isEnabled()) {
      throw new IllegalArgumentException(DISABLED);
    }
    String address = instance.getAddress();
    if (address == null || address.isBlank()) {
      throw new IllegalArgumentException("it has no address");
    }
    Integer sslPort = instance.getSslPort();
    Integer port = instance.getPort();
    String scheme = sslPort != null ? "https" : "http";
    Integer chosen = sslPort != null ? sslPort : port;
    if (chosen == null) {
      throw new IllegalArgumentException("it has neither a port nor an SSL port");
    }
    if (chosen < 1 || chosen > 65_535) {
      throw new IllegalArgumentException("its port " + chosen + " is not between 1 and 65535");
    }
    HttpUrl url;
    try {
      url = new HttpUrl.Builder().scheme(scheme).host(address.trim()).port(chosen).build();
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "its address '" + withoutUserInfo(address) + "' is not a host name or IP");
    }
    @Nullable Locality where;
    try {
      where = locality.apply(instance);
    } catch (RuntimeException | Error e) {
      // An Error too (an AssertionError, an ExceptionInInitializerError): it leaves this instance
      // out like an exception. Escaping, it ended the source's watch for good.
      throw new IllegalArgumentException("the locality mapping failed: " + e, e);
    }
    if (where == null) {
      throw new IllegalArgumentException("the locality mapping returned no locality");
    }
    return new Endpoint(url, where, Endpoint.DEFAULT_WEIGHT);
  }

  private void skip(ServiceInstance<T> instance, String id, String reason) {
    String previous = skipped.put(id, reason);
    if (reason.equals(previous)) {
      return;
    }
    if (reason.equals(DISABLED)) {
      log.debug("ZooKeeper instance {} of service {} left out: {}", id, service, reason);
      return;
    }
    log.warn(
        "ZooKeeper instance {} of service {} (address {}, port {}, SSL port {}) left out: {}",
        id,
        service,
        withoutUserInfo(instance.getAddress()),
        instance.getPort(),
        instance.getSslPort(),
        reason);
  }

  /**
   * Returns an address as logs and reasons may show it: anything up to its last {@code @} (the user
   * info of {@code user:password@host}, or of a URL given as the address), written as such or
   * percent-encoded ({@code %40}), replaced by {@code ***}.
   */
  static @Nullable String withoutUserInfo(@Nullable String address) {
    if (address == null) {
      return null;
    }
    int at = Math.max(address.lastIndexOf('@'), address.lastIndexOf("%40"));
    return at < 0 ? address : "***" + address.substring(at);
  }

  /**
   * Returns the mapping that reads the locality from metadata: the zone from {@code zone} or {@code
   * topology.kubernetes.io/zone}, the region from {@code region} or {@code
   * topology.kubernetes.io/region}, each falling back to its default when set.
   */
  static <T> Function<ServiceInstance<T>, Locality> fromMetadata(
      Function<? super ServiceInstance<T>, ? extends @Nullable Map<String, String>> metadata,
      @Nullable String defaultRegion,
      @Nullable String defaultZone) {
    return instance -> {
      Map<String, String> values = metadata.apply(instance);
      String zone = first(values, ZONE_KEYS);
      String region = first(values, REGION_KEYS);
      if (zone == null) {
        zone = defaultZone;
      }
      if (region == null) {
        region = defaultRegion;
      }
      if (zone == null || region == null) {
        throw new IllegalArgumentException(
            "its metadata "
                + (values == null ? "is empty" : values.keySet().toString())
                + " has no "
                + (zone == null ? "zone (keys " + ZONE_KEYS + ")" : "")
                + (zone == null && region == null ? " and no " : "")
                + (region == null ? "region (keys " + REGION_KEYS + ")" : "")
                + " and the source has no "
                + (zone == null ? "defaultZone" : "")
                + (zone == null && region == null ? " or " : "")
                + (region == null ? "defaultRegion" : ""));
      }
      return Locality.of(region, zone);
    };
  }

  private static @Nullable String first(@Nullable Map<String, String> values, List<String> keys) {
    if (values == null) {
      return null;
    }
    for (String key : keys) {
      Object value = values.get(key); // a Map payload read by another serializer may hold numbers
      if (value != null && !value.toString().isBlank()) {
        return value.toString().trim();
      }
    }
    return null;
  }
}
