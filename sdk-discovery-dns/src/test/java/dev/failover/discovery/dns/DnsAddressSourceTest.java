package dev.failover.discovery.dns;

import static dev.failover.discovery.dns.DnsSrvSourceTest.fast;
import static dev.failover.discovery.dns.Dnsmasq.host;
import static org.assertj.core.api.Assertions.assertThat;

import dev.failover.Endpoint;
import dev.failover.Locality;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** One name per zone: each A and AAAA address from a real dnsmasq becomes an endpoint there. */
class DnsAddressSourceTest extends DnsmasqTestBase {

  private static final Locality A = Locality.of("us-east-1", "us-east-1a");
  private static final Locality B = Locality.of("us-east-1", "us-east-1b");

  private static Map<Locality, String> names() {
    Map<Locality, String> names = new LinkedHashMap<>();
    names.put(B, "directory.us-east-1b.internal");
    names.put(A, "directory.us-east-1a.internal");
    return names;
  }

  @Test
  void eachAddressOfAZonesNameBecomesAnEndpointInThatZone() throws Exception {
    dns =
        Dnsmasq.start(
            host("directory.us-east-1a.internal", "127.0.0.11"),
            host("directory.us-east-1a.internal", "127.0.0.12"),
            host("directory.us-east-1b.internal", "127.0.0.21", "fd00::21"));
    source =
        fast(DnsEndpointSource.addresses(names()).server("127.0.0.1", dns.port()))
            .scheme("https")
            .port(8443)
            .build();
    source.start(updates);

    assertThat(updates.awaitList(0))
        .containsExactly(
            Endpoint.of("https://127.0.0.11:8443", A),
            Endpoint.of("https://127.0.0.12:8443", A),
            Endpoint.of("https://127.0.0.21:8443", B),
            Endpoint.of("https://[fd00::21]:8443", B));
    assertThat(source.description())
        .isEqualTo(
            "dns-a+aaaa us-east-1a=directory.us-east-1a.internal"
                + " us-east-1b=directory.us-east-1b.internal @127.0.0.1:"
                + dns.port());
  }

  @Test
  void withIpv6OffOnlyARecordsAreUsedOnTheSchemesDefaultPort() throws Exception {
    dns =
        Dnsmasq.start(
            host("directory.us-east-1a.internal", "127.0.0.11", "fd00::11"),
            host("directory.us-east-1b.internal", "127.0.0.21", "fd00::21"));
    source =
        fast(DnsEndpointSource.addresses(names()).server("127.0.0.1", dns.port()))
            .ipv6(false)
            .build();
    source.start(updates);

    assertThat(updates.awaitList(0))
        .containsExactly(
            Endpoint.of("http://127.0.0.11:80", A), Endpoint.of("http://127.0.0.21:80", B));
  }

  @Test
  void aZoneWhoseNameIsGoneHasNoEndpointsAndComesBack() throws Exception {
    String a = host("directory.us-east-1a.internal", "127.0.0.11");
    String b = host("directory.us-east-1b.internal", "127.0.0.21");
    dns = Dnsmasq.start(a, b);
    source =
        fast(DnsEndpointSource.addresses(names()).server("127.0.0.1", dns.port()))
            .port(8080)
            .build();
    source.start(updates);
    assertThat(updates.awaitList(0)).hasSize(2);

    int mark = updates.size();
    dns.restart(a);
    assertThat(updates.awaitList(mark, l -> l.size() == 1, "zone b gone"))
        .containsExactly(Endpoint.of("http://127.0.0.11:8080", A));

    mark = updates.size();
    dns.restart(a, b);
    assertThat(updates.awaitList(mark, l -> l.size() == 2, "zone b back")).hasSize(2);
  }
}
