package dev.failover.discovery.dns;

import java.util.Objects;

/**
 * One SRV record of the service, as handed to the function that gives its {@link
 * dev.failover.Locality} (see {@link
 * DnsEndpointSource.Builder#locality(java.util.function.Function)} and the ready-made mappings of
 * {@link SrvLocalities}).
 *
 * <pre>{@code
 * // _directory._tcp.example.internal. 30 IN SRV 10 50 8443 a1.us-east-1a.dir.internal.
 * SrvTarget t = new SrvTarget("a1.us-east-1a.dir.internal", 8443, 10, 50);
 * }</pre>
 *
 * @param host the target's host name, without the final dot, for example {@code
 *     a1.us-east-1a.dir.internal}
 * @param port the target's port, 0 to 65535 as the record says
 * @param priority the record's priority, 0 to 65535 (not used for routing: see {@link
 *     DnsEndpointSource})
 * @param weight the record's weight, 0 to 65535
 */
public record SrvTarget(String host, int port, int priority, int weight) {

  /**
   * Checks the host name.
   *
   * @param host the target's host name, without the final dot
   * @param port the target's port
   * @param priority the record's priority
   * @param weight the record's weight
   * @throws NullPointerException if {@code host} is null
   */
  public SrvTarget {
    Objects.requireNonNull(host, "host");
  }

  @Override
  public String toString() {
    return "SRV " + priority + " " + weight + " " + port + " " + host;
  }
}
