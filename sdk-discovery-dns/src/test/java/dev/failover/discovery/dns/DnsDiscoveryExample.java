package dev.failover.discovery.dns;

import dev.failover.DiscoveryPolicy;
import dev.failover.FailoverClient;
import dev.failover.Locality;
import java.time.Duration;
import java.util.Map;
import okhttp3.OkHttpClient;

/**
 * The DNS discovery examples of {@code docs/discovery.md}, compiled with the tests and run by
 * {@link DnsDiscoveryIntegrationTest#theExampleFollowsDns()}.
 */
final class DnsDiscoveryExample {

  private DnsDiscoveryExample() {}

  /**
   * A directory client whose endpoints are the SRV records of {@code
   * _directory._tcp.example.internal}, with a fallback endpoint for when DNS is down at start.
   */
  static FailoverClient directory(
      String dnsHost, int dnsPort, String fallbackUrl, OkHttpClient okHttpClient) {
    // @start region="srv"
    // _directory._tcp.example.internal. 30 IN SRV 10 50 8443 a1.us-east-1a.dir.internal.
    DnsEndpointSource source =
        DnsEndpointSource.srv("_directory._tcp.example.internal")
            .server(dnsHost, dnsPort) // leave out to ask the system's resolvers
            .locality(SrvLocalities.zoneLabel(1)) // a1.us-east-1a.dir.internal: us-east-1a
            .build();
    FailoverClient client =
        FailoverClient.builder()
            .service("directory")
            .home("us-east-1", "us-east-1a")
            .okHttpClient(okHttpClient)
            .endpointSource(source) // started by build(), closed by client.close()
            // Served until DNS first answers, and while it is down at start.
            .endpoint(fallbackUrl, "us-east-1", "us-east-1a")
            .discovery(DiscoveryPolicy.defaults().withMaxStaleness(Duration.ofMinutes(10)))
            .build();
    // @end
    return client;
  }

  /** A source of one name per zone, each address an endpoint on port 8443. */
  static DnsEndpointSource perZone() {
    // @start region="addresses"
    DnsEndpointSource source =
        DnsEndpointSource.addresses(
                Map.of(
                    Locality.of("us-east-1", "us-east-1a"), "directory.us-east-1a.internal",
                    Locality.of("us-east-1", "us-east-1b"), "directory.us-east-1b.internal"))
            .scheme("https")
            .port(8443)
            .ipv6(false) // where hosts have no IPv6 route
            .build();
    // @end
    return source;
  }
}
