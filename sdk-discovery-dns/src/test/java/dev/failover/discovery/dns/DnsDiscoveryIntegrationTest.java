package dev.failover.discovery.dns;

import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static dev.failover.discovery.dns.DnsSrvSourceTest.SERVICE;
import static dev.failover.discovery.dns.DnsSrvSourceTest.srvSource;
import static dev.failover.discovery.dns.DnsSrvSourceTest.threadNames;
import static dev.failover.discovery.dns.Dnsmasq.srv;
import static org.assertj.core.api.Assertions.assertThat;

import dev.failover.DiscoveryPolicy;
import dev.failover.Endpoint;
import dev.failover.FailoverClient;
import dev.failover.FailoverSnapshot;
import dev.failover.testkit.FakeEndpoint;
import dev.failover.testkit.FakeZones;
import dev.failover.testkit.Mark;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A real {@link FailoverClient} on the testkit's fake zones, fed by SRV records from a real
 * dnsmasq: calls succeed, and replacing a zone's endpoints in DNS moves the traffic without a
 * failed call.
 */
class DnsDiscoveryIntegrationTest {

  @RegisterExtension
  static FakeZones zones =
      FakeZones.builder()
          .region("us-east-1", "us-east-1a", "us-east-1b")
          .endpointsPerZone(2)
          .seed(11)
          .build();

  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final int MAX_CALLS = 2_000;

  private Dnsmasq dns;
  private DnsEndpointSource source;
  private FailoverClient client;

  @BeforeAll
  static void stubs() {
    Dnsmasq.assumeInstalled();
    zones.stubAll(get(urlPathEqualTo("/users/42")).willReturn(okJson("{\"id\":42}")));
  }

  @AfterEach
  void stop() {
    if (client != null) {
      client.close();
    }
    if (source != null) {
      source.close(); // already closed by the client; idempotent
    }
    if (dns != null) {
      dns.close();
    }
  }

  /** An SRV record naming a fake endpoint: {@code name.<zone>.dir.internal}, its port. */
  private static String record(String name, FakeEndpoint e) {
    return srv(SERVICE, name + "." + e.zone().name() + ".dir.internal", e.port(), 0, 100);
  }

  private static String url(String name, FakeEndpoint e) {
    return "http://" + name + "." + e.zone().name() + ".dir.internal:" + e.port();
  }

  /** OkHttp resolves the SRV targets ({@code *.dir.internal}) to 127.0.0.1, and nothing else. */
  private static OkHttpClient loopbackDns() {
    return new OkHttpClient.Builder()
        .dns(
            host -> {
              if (host.endsWith(".dir.internal")) {
                return List.of(InetAddress.getByAddress(host, new byte[] {127, 0, 0, 1}));
              }
              throw new UnknownHostException(host + " is not a test name");
            })
        .build();
  }

  private static List<String> urls(List<Endpoint> endpoints) {
    return endpoints.stream().map(Endpoint::address).toList();
  }

  private void call() throws IOException {
    Request request = new Request.Builder().url("http://directory/users/42").build();
    try (Response response = client.newCall(request).execute()) {
      assertThat(response.code()).isEqualTo(200);
      assertThat(response.body().string()).isEqualTo("{\"id\":42}");
    }
  }

  /** Calls until the client's endpoints match, each call asserted to succeed; bounded. */
  private int callUntil(Predicate<List<String>> endpoints, String what) throws IOException {
    return callUntilState(() -> endpoints.test(urls(client.endpoints())), what);
  }

  /** Calls until {@code done}, each call asserted to succeed; bounded in time and count. */
  private int callUntilState(BooleanSupplier done, String what) throws IOException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    for (int calls = 0; calls < MAX_CALLS; calls++) {
      if (done.getAsBoolean()) {
        return calls;
      }
      if (System.nanoTime() > deadline) {
        break;
      }
      call();
    }
    throw new AssertionError(
        "the client did not reach "
            + what
            + " within "
            + WAIT
            + " or "
            + MAX_CALLS
            + " calls: "
            + client.endpoints()
            + ", "
            + client.snapshot().discovery());
  }

  /** A client fed by {@code source}, on loopback DNS for the SRV targets, with a fallback. */
  private static FailoverClient client(DnsEndpointSource source, FakeEndpoint... fallback) {
    FailoverClient.Builder builder =
        FailoverClient.builder()
            .service("directory")
            .home("us-east-1", "us-east-1a")
            .okHttpClient(loopbackDns())
            .endpointSource(source)
            .discovery(DiscoveryPolicy.defaults().withStartTimeout(WAIT))
            .deadline(Duration.ofSeconds(5));
    for (FakeEndpoint e : fallback) {
      builder.endpoint(e.url(), e.zone().region().name(), e.zone().name());
    }
    return builder.build();
  }

  private FailoverSnapshot.ListStatus status() {
    return client.snapshot().discovery().status();
  }

  @Test
  void callsSucceedAndReplacingAZonesEndpointsInDnsMovesTrafficWithoutAFailedCall()
      throws Exception {
    FakeEndpoint a0 = zones.zone("us-east-1a").endpoint(0);
    FakeEndpoint a1 = zones.zone("us-east-1a").endpoint(1);
    FakeEndpoint b0 = zones.zone("us-east-1b").endpoint(0);
    dns = Dnsmasq.start(record("e0", a0), record("e0", b0));
    source = srvSource(SERVICE, dns.port()).build();
    client = client(source);

    // No fallback: build() waited for the first DNS answer.
    assertThat(urls(client.endpoints())).containsExactlyInAnyOrder(url("e0", a0), url("e0", b0));
    FailoverSnapshot.Discovery discovery = client.snapshot().discovery();
    assertThat(discovery.source()).isEqualTo(source.description());
    assertThat(discovery.status()).isEqualTo(FailoverSnapshot.ListStatus.CURRENT);
    for (int i = 0; i < 20; i++) {
      call();
    }
    assertThat(a0.requestCount()).isPositive();

    // Replace the home zone's endpoint: a1 in, a0 out, in one DNS change.
    dns.restart(record("e1", a1), record("e0", b0));
    long changed = System.nanoTime();
    int calls =
        callUntil(
            u -> u.contains(url("e1", a1)) && !u.contains(url("e0", a0)), "a1 in place of a0");
    System.out.printf(
        "[measured] DNS change applied by the client %d ms after dnsmasq restarted, %d calls"
            + " in between, none failed%n",
        Duration.ofNanos(System.nanoTime() - changed).toMillis(), calls);
    Mark mark = zones.mark();
    for (int i = 0; i < 50; i++) {
      call();
    }
    assertThat(a0.requestCount(mark)).isZero();
    assertThat(a1.requestCount(mark)).isPositive();
    assertThat(client.snapshot().counters().failedCalls()).isZero();
    assertThat(client.snapshot().discovery().status())
        .isEqualTo(FailoverSnapshot.ListStatus.CURRENT);

    String threadName = DnsEndpointSource.THREAD_NAME_PREFIX + source.description();
    client.close();
    assertThat(threadNames()).doesNotContain(threadName);
  }

  @Test
  void withDnsDownAtStartTheClientServesItsFallbackUntilDnsAnswers() throws Exception {
    FakeEndpoint a0 = zones.zone("us-east-1a").endpoint(0);
    FakeEndpoint b1 = zones.zone("us-east-1b").endpoint(1);
    int port = Dnsmasq.freePort();
    source = srvSource(SERVICE, port).build();
    client = client(source, a0);

    call();
    assertThat(client.snapshot().discovery().status())
        .isEqualTo(FailoverSnapshot.ListStatus.FALLBACK);

    dns = Dnsmasq.startOn(port, record("e1", b1));
    callUntil(u -> u.equals(List.of(url("e1", b1))), "the DNS list");
    call();
    assertThat(client.snapshot().discovery().status())
        .isEqualTo(FailoverSnapshot.ListStatus.CURRENT);
    assertThat(client.snapshot().counters().failedCalls()).isZero();
  }

  @Test
  void theExampleFollowsDns() throws Exception {
    FakeEndpoint a0 = zones.zone("us-east-1a").endpoint(0);
    FakeEndpoint b0 = zones.zone("us-east-1b").endpoint(0);
    dns = Dnsmasq.start(record("e0", a0), record("e0", b0));
    client =
        DnsDiscoveryExample.directory(
            "127.0.0.1",
            dns.port(),
            "http://vip.us-east-1a.dir.internal:" + a0.port(),
            loopbackDns());

    callUntil(u -> u.equals(List.of(url("e0", a0), url("e0", b0))), "the SRV records");
    call();
    assertThat(client.snapshot().discovery().source())
        .isEqualTo("dns-srv " + SERVICE + " @127.0.0.1:" + dns.port());

    DnsEndpointSource perZone = DnsDiscoveryExample.perZone();
    assertThat(perZone.description())
        .isEqualTo(
            "dns-a us-east-1a=directory.us-east-1a.internal us-east-1b=directory.us-east-1b.internal");
    perZone.close();
  }

  @Test
  void aDnsOutageKeepsTheListAndEveryCallSucceedsUntilDnsAnswersAgain() throws Exception {
    FakeEndpoint a0 = zones.zone("us-east-1a").endpoint(0);
    FakeEndpoint b0 = zones.zone("us-east-1b").endpoint(0);
    dns = Dnsmasq.start(record("e0", a0), record("e0", b0));
    source = srvSource(SERVICE, dns.port()).build();
    client = client(source);
    List<Endpoint> before = client.endpoints();

    dns.stop();
    int calls = callUntilState(() -> status() == FailoverSnapshot.ListStatus.HELD, "HELD");
    assertThat(client.snapshot().discovery().reason()).contains("the source failed");
    for (int i = 0; i < 20; i++) {
      call();
    }
    assertThat(client.endpoints()).isEqualTo(before);

    dns.startAgain();
    calls += callUntilState(() -> status() == FailoverSnapshot.ListStatus.CURRENT, "CURRENT");
    assertThat(client.endpoints()).isEqualTo(before);
    assertThat(client.snapshot().counters().failedCalls()).isZero();
    System.out.printf(
        "[measured] DNS outage: %d calls while the list was held and until it was current again,"
            + " none failed%n",
        calls + 20);
  }
}
