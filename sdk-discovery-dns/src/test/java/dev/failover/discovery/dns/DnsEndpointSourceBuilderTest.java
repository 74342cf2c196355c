package dev.failover.discovery.dns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.failover.Locality;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Every setting is checked at once, with a message naming the setting and the value. */
class DnsEndpointSourceBuilderTest {

  private static final Locality A = Locality.of("us-east-1", "us-east-1a");

  private static DnsEndpointSource.Builder srv() {
    return DnsEndpointSource.srv("_directory._tcp.example.internal")
        .server("127.0.0.1", 5353)
        .locality(SrvLocalities.zoneLabel(1));
  }

  private static DnsEndpointSource.Builder addresses() {
    return DnsEndpointSource.addresses(Map.of(A, "directory.us-east-1a.internal"))
        .server("127.0.0.1", 5353);
  }

  @Test
  void namesAreChecked() {
    assertThatThrownBy(() -> DnsEndpointSource.srv(" "))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("dns serviceName must not be blank");
    assertThatThrownBy(() -> DnsEndpointSource.srv("a..b"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("dns serviceName must be a valid DNS name but was 'a..b'");
    assertThatThrownBy(() -> DnsEndpointSource.addresses(Map.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("dns namesByZone must name at least one zone");
    assertThatThrownBy(() -> DnsEndpointSource.addresses(Map.of(A, "")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("dns name of zone us-east-1/us-east-1a must not be blank");
  }

  @Test
  void settingsAreCheckedAtOnceWithTheSettingAndTheValue() {
    assertThatThrownBy(() -> srv().scheme("ftp"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("dns scheme must be http or https but was 'ftp'");
    assertThatThrownBy(() -> addresses().port(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("dns port must be between 1 and 65535 but was 0");
    assertThatThrownBy(() -> srv().server("127.0.0.1", 70000))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("dns server port must be between 1 and 65535 but was 70000 for 127.0.0.1");
    assertThatThrownBy(() -> srv().timeout(Duration.ofMillis(5)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("dns timeout must be between 10 ms and 60000 ms but was 5 ms");
    assertThatThrownBy(() -> srv().minRefresh(Duration.ofMillis(50)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("dns minRefresh must be between 100 ms and 86400000 ms but was 50 ms");
    assertThatThrownBy(() -> srv().maxRefresh(Duration.ofDays(2)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("dns maxRefresh must be between 100 ms and 86400000 ms but was 172800000 ms");
    assertThatThrownBy(() -> srv().initialBackoff(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("dns initialBackoff must be between 10 ms and 3600000 ms but was 0 ms");
    assertThatThrownBy(() -> srv().maxBackoff(Duration.ofHours(2)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("dns maxBackoff must be between 10 ms and 3600000 ms but was 7200000 ms");
  }

  @Test
  void buildChecksSettingsAgainstEachOther() {
    assertThatThrownBy(
            () ->
                srv().minRefresh(Duration.ofSeconds(10)).maxRefresh(Duration.ofSeconds(5)).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("dns minRefresh (10000 ms) must not exceed maxRefresh (5000 ms)");
    assertThatThrownBy(
            () ->
                srv()
                    .initialBackoff(Duration.ofSeconds(10))
                    .maxBackoff(Duration.ofSeconds(5))
                    .build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("dns initialBackoff (10000 ms) must not exceed maxBackoff (5000 ms)");
    assertThatThrownBy(() -> addresses().ipv4(false).ipv6(false).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("dns ipv4 and ipv6 must not both be false: nothing would be looked up");
    assertThatThrownBy(() -> DnsEndpointSource.srv("_directory._tcp.example.internal").build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith(
            "dns locality mapping required for SRV records of _directory._tcp.example.internal");
  }

  @Test
  void settingsOfTheOtherKindOfRecordAreRejected() {
    assertThatThrownBy(() -> srv().port(8080))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("port applies to A/AAAA records only");
    assertThatThrownBy(() -> srv().ipv6(false))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("ipv6 applies to A/AAAA records only");
    assertThatThrownBy(() -> addresses().locality(SrvLocalities.zoneLabel(1)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("locality mapping applies to SRV records only");
  }

  @Test
  void descriptionsSayWhatIsFollowedAndWhere() {
    assertThat(srv().build().description())
        .isEqualTo("dns-srv _directory._tcp.example.internal @127.0.0.1:5353");
    assertThat(addresses().ipv6(false).build().description())
        .isEqualTo("dns-a us-east-1a=directory.us-east-1a.internal @127.0.0.1:5353");
    // An IPv6 server in brackets, as the lookups' failure messages name it.
    assertThat(srv().server("::1", 53).build().description())
        .isEqualTo("dns-srv _directory._tcp.example.internal @127.0.0.1:5353,[0:0:0:0:0:0:0:1]:53");
    assertThat(
            DnsEndpointSource.srv("_directory._tcp.example.internal.")
                .locality(SrvLocalities.zoneLabel(1))
                .build()
                .description())
        .isEqualTo("dns-srv _directory._tcp.example.internal");
  }
}
