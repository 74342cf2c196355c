package dev.failover.discovery.dns;

import static dev.failover.discovery.dns.Dnsmasq.host;
import static dev.failover.discovery.dns.Dnsmasq.srv;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.failover.Endpoint;
import dev.failover.Locality;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** SRV records from a real dnsmasq become endpoints, in their zones, followed on their TTL. */
class DnsSrvSourceTest extends DnsmasqTestBase {

  static final String SERVICE = "_directory._tcp.example.internal";

  /** Short TTL clamps and backoffs so that changes show within a second or two. */
  static DnsEndpointSource.Builder fast(DnsEndpointSource.Builder builder) {
    return builder
        .timeout(Duration.ofSeconds(2))
        .minRefresh(Duration.ofMillis(200))
        .maxRefresh(Duration.ofSeconds(1))
        .initialBackoff(Duration.ofMillis(100))
        .maxBackoff(Duration.ofMillis(500));
  }

  /** An SRV source of {@code name} at dnsmasq on {@code port}, zones from label 1, fast. */
  static DnsEndpointSource.Builder srvSource(String name, int port) {
    return fast(
        DnsEndpointSource.srv(name).server("127.0.0.1", port).locality(SrvLocalities.zoneLabel(1)));
  }

  private DnsEndpointSource.Builder srvSource() {
    return srvSource(SERVICE, dns.port());
  }

  private static Endpoint endpoint(String url, String zone) {
    return Endpoint.of(url, zone.substring(0, zone.length() - 1), zone);
  }

  @Test
  void srvRecordsBecomeEndpointsInTheZonesOfTheirTargetNames() throws Exception {
    dns =
        Dnsmasq.start(
            srv(SERVICE, "b1.us-east-1b.dir.internal", 8081, 10, 100),
            srv(SERVICE, "a1.us-east-1a.dir.internal", 8080, 10, 100),
            srv(SERVICE, "c1.us-west-2c.dir.internal", 8082, 20, 100));
    source = srvSource().build();
    source.start(updates);

    // Every priority is used; the list is sorted by region, zone and URL.
    assertThat(updates.awaitList(0))
        .containsExactly(
            endpoint("http://a1.us-east-1a.dir.internal:8080", "us-east-1a"),
            endpoint("http://b1.us-east-1b.dir.internal:8081", "us-east-1b"),
            endpoint("http://c1.us-west-2c.dir.internal:8082", "us-west-2c"));
    assertThat(source.description()).isEqualTo("dns-srv " + SERVICE + " @127.0.0.1:" + dns.port());
  }

  @Test
  void weightsComeFromSrvWeightsWithZeroAsOneAndACapAt10000() throws Exception {
    dns =
        Dnsmasq.start(
            srv(SERVICE, "w0.us-east-1a.dir.internal", 443, 0, 0),
            srv(SERVICE, "w1.us-east-1a.dir.internal", 443, 0, 1),
            srv(SERVICE, "w250.us-east-1a.dir.internal", 443, 0, 250),
            srv(SERVICE, "wmax.us-east-1a.dir.internal", 443, 0, 65535));
    source = srvSource().scheme("HTTPS").build();
    source.start(updates);

    List<Endpoint> list = updates.awaitList(0);
    assertThat(list)
        .extracting(e -> e.url().host() + "=" + e.weight())
        .containsExactly(
            "w0.us-east-1a.dir.internal=1",
            "w1.us-east-1a.dir.internal=1",
            "w250.us-east-1a.dir.internal=250",
            "wmax.us-east-1a.dir.internal=10000");
    assertThat(list).allSatisfy(e -> assertThat(e.url().scheme()).isEqualTo("https"));
  }

  @Test
  void aRegionMapPlacesZoneNamesThatAreNotRegionPlusLetter() throws Exception {
    dns =
        Dnsmasq.start(
            srv(SERVICE, "a1.use1-az1.dir.internal", 8080, 0, 5),
            srv(SERVICE, "a2.usw2-az2.dir.internal", 8080, 0, 5));
    source =
        fast(DnsEndpointSource.srv(SERVICE)
                .server("127.0.0.1", dns.port())
                .locality(
                    SrvLocalities.zoneLabel(
                        1, Map.of("use1-az1", "us-east-1", "USW2-AZ2", "us-west-2"))))
            .build();
    source.start(updates);

    assertThat(updates.awaitList(0))
        .extracting(Endpoint::locality)
        .containsExactly(
            Locality.of("us-east-1", "use1-az1"), Locality.of("us-west-2", "usw2-az2"));
  }

  @Test
  void reResolvedOnTheTtlPicksUpAnAddedAndThenARemovedRecord() throws Exception {
    String a1 = srv(SERVICE, "a1.us-east-1a.dir.internal", 8080, 0, 10);
    String b1 = srv(SERVICE, "b1.us-east-1b.dir.internal", 8080, 0, 10);
    dns = Dnsmasq.start(a1);
    source = srvSource().build();
    source.start(updates);
    assertThat(updates.awaitList(0))
        .containsExactly(
            endpoint("http://a1.us-east-1a.dir.internal:8080", "us-east-1a").withWeight(10));

    int mark = updates.size();
    dns.restart(a1, b1);
    assertThat(updates.awaitList(mark, l -> l.size() == 2, "the added record"))
        .containsExactly(
            endpoint("http://a1.us-east-1a.dir.internal:8080", "us-east-1a").withWeight(10),
            endpoint("http://b1.us-east-1b.dir.internal:8080", "us-east-1b").withWeight(10));

    mark = updates.size();
    dns.restart(b1);
    assertThat(updates.awaitList(mark, l -> l.size() == 1, "the removal"))
        .containsExactly(
            endpoint("http://b1.us-east-1b.dir.internal:8080", "us-east-1b").withWeight(10));
  }

  @Test
  void anUnchangedListIsReportedAgainOnEachRefresh() throws Exception {
    dns = Dnsmasq.start(srv(SERVICE, "a1.us-east-1a.dir.internal", 8080, 0, 10));
    source = srvSource().build();
    source.start(updates);
    List<Endpoint> first = updates.awaitList(0);

    // The client reads repeated lists as the source confirming them.
    assertThat(updates.awaitList(updates.size())).isEqualTo(first);
  }

  @Test
  void anUnknownNameIsReportedAsAnEmptyList() throws Exception {
    dns =
        Dnsmasq.start(srv("_other._tcp.example.internal", "a1.us-east-1a.dir.internal", 80, 0, 1));
    source = srvSource().build();
    source.start(updates);

    // NXDOMAIN: the source says what DNS says; the client holds its last good list.
    assertThat(updates.awaitList(0)).isEmpty();
    assertThat(updates.reports()).allMatch(RecordingUpdates.Report::isList);
  }

  @Test
  void aNameWithoutSrvRecordsIsReportedAsAnEmptyList() throws Exception {
    dns = Dnsmasq.start(host("nodata.example.internal", "127.0.0.9"));
    source = srvSource("nodata.example.internal", dns.port()).build();
    source.start(updates);

    assertThat(updates.awaitList(0)).isEmpty();
  }

  @Test
  void aTargetTheMappingCannotPlaceFailsTheWholeLookup() throws Exception {
    dns =
        Dnsmasq.start(
            srv(SERVICE, "a1.us-east-1a.dir.internal", 8080, 0, 10),
            srv(SERVICE, "x1.rack7.dir.internal", 8080, 0, 10));
    source = srvSource().build();
    source.start(updates);

    Throwable failure = updates.awaitFailure(0);
    assertThat(failure)
        .isInstanceOf(IOException.class)
        .hasMessageContaining("x1.rack7.dir.internal")
        .hasMessageContaining("zone 'rack7'")
        .hasMessageContaining("does not end with a letter");
    assertThat(updates.reports()).noneMatch(RecordingUpdates.Report::isList);
  }

  @Test
  void aLargeAnswerIsAskedAgainOverTcp() throws Exception {
    List<String> records = new ArrayList<>();
    for (int i = 0; i < 120; i++) {
      records.add(
          srv(SERVICE, "replica-" + i + "-of-the-directory.us-east-1a.dir.internal", 8080, 0, 10));
    }
    dns = Dnsmasq.start(records.toArray(String[]::new));
    source = srvSource().build();
    source.start(updates);

    // 120 records of ~70 bytes do not fit the 1232-byte UDP answer: truncated, then TCP.
    assertThat(updates.awaitList(0)).hasSize(120);
    assertThat(source.tcpQueries()).isPositive();
  }

  @Test
  void closeStopsTheThreadAndReportsNoMore() throws Exception {
    dns = Dnsmasq.start(srv(SERVICE, "a1.us-east-1a.dir.internal", 8080, 0, 10));
    source = srvSource().build();
    source.start(updates);
    updates.awaitList(0);
    String threadName = DnsEndpointSource.THREAD_NAME_PREFIX + source.description();
    assertThat(threadNames()).contains(threadName);

    source.close();

    assertThat(threadNames()).doesNotContain(threadName);
    assertThat(threadNames()).noneMatch(n -> n.startsWith("dnsjava"));
    int after = updates.size();
    source.close(); // idempotent
    assertThat(updates.size()).isEqualTo(after);
    assertThatThrownBy(() -> source.start(updates))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("already started");
  }

  @Test
  void aSourceClosedBeforeItStartsNeverStartsAThread() {
    DnsEndpointSource unused =
        DnsEndpointSource.srv(SERVICE)
            .server("127.0.0.1", 53)
            .locality(SrvLocalities.zoneLabel(1))
            .build();
    unused.close();
    unused.start(updates);

    assertThat(threadNames())
        .noneMatch(n -> n.equals(DnsEndpointSource.THREAD_NAME_PREFIX + unused.description()));
    assertThat(updates.size()).isZero();
  }

  static List<String> threadNames() {
    List<String> names = new ArrayList<>();
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      names.add(t.getName());
    }
    return names;
  }
}
