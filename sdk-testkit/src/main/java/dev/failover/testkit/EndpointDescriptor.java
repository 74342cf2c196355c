package dev.failover.testkit;

import java.util.Objects;

/**
 * One fake endpoint as plain data: its base URL and locality, ready to feed a client's endpoint
 * list or configuration properties without depending on the SDK.
 *
 * <pre>{@code
 * for (EndpointDescriptor e : zones.endpoints()) {
 *   builder.endpoint(e.url(), e.region(), e.zone());
 * }
 * }</pre>
 *
 * @param url the base URL, such as {@code http://127.0.0.1:53117}; no trailing slash
 * @param region the region's name, such as {@code us-east-1}
 * @param zone the zone's name, such as {@code us-east-1a}
 */
public record EndpointDescriptor(String url, String region, String zone) {

  /**
   * Checks that no component is null.
   *
   * @param url the base URL
   * @param region the region's name
   * @param zone the zone's name
   * @throws NullPointerException if a component is null
   */
  public EndpointDescriptor {
    Objects.requireNonNull(url, "url");
    Objects.requireNonNull(region, "region");
    Objects.requireNonNull(zone, "zone");
  }
}
