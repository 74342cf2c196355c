/**
 * An {@link dev.failover.EndpointSource} that follows DNS: SRV records of one service name, or the
 * A and AAAA records of one name per zone, looked up again when their TTL runs out.
 *
 * <p>Start with {@link dev.failover.discovery.dns.DnsEndpointSource#srv(String)} or {@link
 * dev.failover.discovery.dns.DnsEndpointSource#addresses(java.util.Map)}.
 */
@NullMarked
package dev.failover.discovery.dns;

import org.jspecify.annotations.NullMarked;
