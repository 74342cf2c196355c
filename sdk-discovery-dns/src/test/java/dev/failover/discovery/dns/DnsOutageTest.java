package dev.failover.discovery.dns;

import static dev.failover.discovery.dns.DnsSrvSourceTest.SERVICE;
import static dev.failover.discovery.dns.DnsSrvSourceTest.fast;
import static dev.failover.discovery.dns.DnsSrvSourceTest.srvSource;
import static dev.failover.discovery.dns.DnsSrvSourceTest.threadNames;
import static dev.failover.discovery.dns.Dnsmasq.srv;
import static org.assertj.core.api.Assertions.assertThat;

import dev.failover.Endpoint;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * DNS trouble is reported to {@code failed(...)}, never thrown from {@code start()}, and the source
 * recovers by itself once DNS answers again.
 */
class DnsOutageTest extends DnsmasqTestBase {

  private static final String A1 = srv(SERVICE, "a1.us-east-1a.dir.internal", 8080, 0, 10);

  private static DnsEndpointSource.Builder srvAt(int... ports) {
    DnsEndpointSource.Builder b =
        fast(DnsEndpointSource.srv(SERVICE).locality(SrvLocalities.zoneLabel(1)));
    for (int port : ports) {
      b.server("127.0.0.1", port);
    }
    return b;
  }

  @Test
  void aServerDownAtStartIsReportedAsAFailureThenTheSourceRecovers() throws Exception {
    int port = Dnsmasq.freePort();
    source = srvAt(port).build();
    source.start(updates); // does not throw, and does not wait for DNS

    Throwable failure = updates.awaitFailure(0);
    assertThat(failure)
        .isInstanceOf(IOException.class)
        .hasMessageContaining("SRV lookup of " + SERVICE)
        .hasMessageContaining("127.0.0.1:" + port);

    int mark = updates.size();
    dns = Dnsmasq.startOn(port, A1);
    assertThat(updates.awaitList(mark))
        .containsExactly(
            Endpoint.of("http://a1.us-east-1a.dir.internal:8080", "us-east-1", "us-east-1a")
                .withWeight(10));
  }

  @Test
  void aServerThatGoesDownLaterIsReportedThenTheSourceRecovers() throws Exception {
    dns = Dnsmasq.start(A1);
    source = srvAt(dns.port()).build();
    source.start(updates);
    List<Endpoint> before = updates.awaitList(0);

    int mark = updates.size();
    dns.stop();
    assertThat(updates.awaitFailure(mark)).hasMessageContaining("127.0.0.1:" + dns.port());

    mark = updates.size();
    dns.startAgain();
    assertThat(updates.awaitList(mark)).isEqualTo(before);
  }

  @Test
  void theNextServerIsAskedWhenTheFirstIsDown() throws Exception {
    dns = Dnsmasq.start(A1);
    source = srvAt(Dnsmasq.freePort(), dns.port()).build();
    source.start(updates);

    assertThat(updates.awaitList(0)).hasSize(1);
    assertThat(updates.reports()).allMatch(RecordingUpdates.Report::isList);
  }

  @Test
  void aRefusedQueryIsAFailure() throws Exception {
    // dnsmasq answers for .internal only and forwards nothing: other names are refused.
    dns = Dnsmasq.start(A1);
    source = srvSource("_directory._tcp.example.org", dns.port()).build();
    source.start(updates);

    assertThat(updates.awaitFailure(0)).hasMessageContaining("answered REFUSED");
  }

  @Test
  void aServerThatNeverAnswersTimesOut() throws Exception {
    InetAddress loopback = InetAddress.getByName("127.0.0.1");
    try (DatagramSocket silent = new DatagramSocket(new InetSocketAddress(loopback, 0))) {
      source = srvAt(silent.getLocalPort()).timeout(Duration.ofMillis(300)).build();
      source.start(updates);

      assertThat(updates.awaitFailure(0))
          .hasMessageContaining("127.0.0.1:" + silent.getLocalPort() + " did not answer within");
    }
  }

  @Test
  void closeEndsALookupInFlightWithoutWaitingForItsTimeout() throws Exception {
    InetAddress loopback = InetAddress.getByName("127.0.0.1");
    try (DatagramSocket silent = new DatagramSocket(new InetSocketAddress(loopback, 0))) {
      source = srvAt(silent.getLocalPort()).timeout(Duration.ofSeconds(60)).build();
      source.start(updates);
      silent.setSoTimeout((int) RecordingUpdates.WAIT.toMillis());
      silent.receive(new DatagramPacket(new byte[2048], 2048)); // the lookup is in flight

      long start = System.nanoTime();
      source.close();
      Duration took = Duration.ofNanos(System.nanoTime() - start);

      assertThat(took).isLessThan(Duration.ofSeconds(10)); // the lookup would have taken 60 s
      assertThat(threadNames())
          .doesNotContain(DnsEndpointSource.THREAD_NAME_PREFIX + source.description());
      assertThat(updates.size()).isZero(); // a lookup ended by close() is not reported
    }
  }
}
