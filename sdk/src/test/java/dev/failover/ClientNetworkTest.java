package dev.failover;

import static org.assertj.core.api.Assertions.assertThat;

import dev.failover.testkit.EndpointDescriptor;
import dev.failover.testkit.FakeZones;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import javax.net.SocketFactory;
import okhttp3.ConnectionPool;
import okhttp3.OkHttpClient;
import okhttp3.Response;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The client's own network gone (its route withdrawn, an interface that flapped): every connect
 * fails at once with "Network is unreachable" (ENETUNREACH), in every zone. Counted as refusals,
 * such failures ejected every endpoint and evacuated every zone but one, in two regions and past
 * the cap, after a one-second blip. In two zones at once they are the client's, and no evidence.
 */
class ClientNetworkTest {
  @RegisterExtension static FakeZones zones = Zones3.zones();

  private final Zones3.Recorder events = new Zones3.Recorder();

  /** The ports to which the client's network has no route now. */
  private final Set<Integer> unreachable = ConcurrentHashMap.newKeySet();

  @BeforeEach
  void stub() {
    Zones3.stub(zones);
  }

  /**
   * Connects as the JDK does, but fails as it does for ENETUNREACH to an address the client's host
   * has no route to.
   */
  private static final class Routes extends SocketFactory {
    private final java.util.function.Predicate<InetSocketAddress> noRoute;

    Routes(java.util.function.Predicate<InetSocketAddress> noRoute) {
      this.noRoute = noRoute;
    }

    @Override
    public Socket createSocket() {
      return new Socket() {
        @Override
        public void connect(SocketAddress to, int timeout) throws IOException {
          if (noRoute.test((InetSocketAddress) to)) {
            throw new SocketException("Network is unreachable"); // as sun.nio.ch.Net throws it
          }
          super.connect(to, timeout);
        }
      };
    }

    @Override
    public Socket createSocket(String host, int port) {
      throw new UnsupportedOperationException();
    }

    @Override
    public Socket createSocket(String host, int port, InetAddress local, int localPort) {
      throw new UnsupportedOperationException();
    }

    @Override
    public Socket createSocket(InetAddress host, int port) {
      throw new UnsupportedOperationException();
    }

    @Override
    public Socket createSocket(InetAddress host, int port, InetAddress local, int localPort) {
      throw new UnsupportedOperationException();
    }
  }

  /** A client that connects for every attempt (no idle connection kept), through {@link Routes}. */
  private FailoverClient client() {
    OkHttpClient http =
        new OkHttpClient.Builder()
            .socketFactory(new Routes(to -> unreachable.contains(to.getPort())))
            .connectionPool(new ConnectionPool(0, 1, TimeUnit.MILLISECONDS))
            .build();
    return Zones3.client(zones).okHttpClient(http).listener(events).build();
  }

  private static boolean ok(FailoverClient client, int i) {
    try (Response r = client.newCall(Zones3.user(i)).execute()) {
      r.body().string();
      return r.code() == 200;
    } catch (IOException e) {
      return false;
    }
  }

  private void unreachable(String... zoneNames) {
    for (EndpointDescriptor d : zones.endpoints()) {
      for (String zone : zoneNames) {
        if (d.zone().equals(zone)) {
          unreachable.add(okhttp3.HttpUrl.get(d.url()).port());
        }
      }
    }
  }

  @Test
  void theClientsOwnNetworkGoneIsNoEvidenceAgainstAnyZone() {
    try (FailoverClient client = client()) {
      for (int i = 0; i < 20; i++) {
        assertThat(ok(client, i)).isTrue();
      }
      unreachable("us-east-1a", "us-east-1b", "us-west-2a");
      for (int i = 0; i < 60; i++) {
        assertThat(ok(client, i)).isFalse();
      }
      unreachable.clear();
      for (int i = 0; i < 50; i++) {
        assertThat(ok(client, i)).isTrue();
      }

      assertThat(events.of(FailoverEvent.EndpointEjected.class)).isEmpty();
      assertThat(events.of(FailoverEvent.ZoneEvacuated.class)).isEmpty();
      assertThat(client.snapshot().zones())
          .allSatisfy(z -> assertThat(z.status()).isEqualTo(FailoverSnapshot.ZoneStatus.ACTIVE));
      assertThat(events.attempts().subList(events.attempts().size() - 50, events.attempts().size()))
          .allSatisfy(a -> assertThat(a.endpoint().locality().zone()).isEqualTo("us-east-1a"));
    }
  }

  /**
   * Two zones unreachable while the third answers (endpoints with IPv6 addresses only on a host
   * without IPv6, say): the client's network works, and after the first call, whose retry the third
   * zone answered, their failures count against them.
   */
  @Test
  void twoZonesUnreachableWhileTheThirdAnswersCountAgainstThem() {
    try (FailoverClient client = client()) {
      unreachable("us-east-1a", "us-east-1b");
      for (int i = 0; i < 60; i++) {
        ok(client, i); // a retry in us-west-2a answers, while the retry budget lasts
      }
      assertThat(events.of(FailoverEvent.EndpointEjected.class))
          .extracting(e -> e.endpoint().locality().zone())
          .contains("us-east-1a", "us-east-1b")
          .doesNotContain("us-west-2a");
      for (int i = 0; i < 20; i++) {
        assertThat(ok(client, i)).isTrue();
      }
    }
  }

  /**
   * Endpoints named by host names with an IPv6 address the client's host cannot reach and an IPv4
   * address that refuses (a zone down, on a host without IPv6): OkHttp throws the first route's
   * "Network is unreachable" with the refusal suppressed in it. That is a refusal, and two zones of
   * them an outage: taken for the client's network, it excused them all, and a review measured 5
   * calls of 553 succeed where 543 had.
   */
  @Test
  void refusalsBehindAnUnreachableIpv6AddressStillCount() throws Exception {
    java.net.InetAddress v6 = java.net.InetAddress.getByName("2001:db8::1");
    java.util.List<Endpoint> named = new java.util.ArrayList<>();
    for (EndpointDescriptor d : zones.endpoints()) {
      int port = okhttp3.HttpUrl.get(d.url()).port();
      named.add(Endpoint.of("http://e" + port + ".test:" + port, d.region(), d.zone()));
    }
    OkHttpClient http =
        new OkHttpClient.Builder()
            .dns(
                host ->
                    java.util.List.of(
                        v6, java.net.InetAddress.getByAddress(host, new byte[] {127, 0, 0, 1})))
            // A host without IPv6.
            .socketFactory(new Routes(to -> to.getAddress() instanceof java.net.Inet6Address))
            .connectionPool(new ConnectionPool(0, 1, TimeUnit.MILLISECONDS))
            .build();
    zones.zone("us-east-1a").fail(dev.failover.testkit.ZoneFault.refuse());
    zones.zone("us-east-1b").fail(dev.failover.testkit.ZoneFault.refuse());
    try (FailoverClient client =
        FailoverClient.builder()
            .service("directory")
            .home("us-east-1", "us-east-1a")
            .endpoints(named)
            .okHttpClient(http)
            .listener(events)
            .build()) {
      // Refusals corroborate an outage by themselves: both zones go, past the cap of one zone in
      // three that passive evidence has (zone judgement runs once a second).
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      for (int i = 0;
          events.of(FailoverEvent.ZoneEvacuated.class).size() < 2 && System.nanoTime() < until;
          i++) {
        ok(client, i);
      }
      assertThat(events.of(FailoverEvent.ZoneEvacuated.class))
          .extracting(e -> e.zone().zone())
          .containsExactlyInAnyOrder("us-east-1a", "us-east-1b");
    }
  }

  /**
   * One zone unreachable and the others not (an IPv6-only endpoint on an IPv4-only host, a route to
   * one network withdrawn): evidence against that zone's endpoints as any failed connection, though
   * not a refusal that corroborates an outage by itself.
   */
  @Test
  void oneZoneUnreachableStillCountsAgainstIt() {
    try (FailoverClient client = client()) {
      unreachable("us-east-1a");
      for (int i = 0; i < 60; i++) {
        assertThat(ok(client, i)).isTrue(); // the retry in another zone answers
      }
      assertThat(events.of(FailoverEvent.EndpointEjected.class))
          .isNotEmpty()
          .allSatisfy(e -> assertThat(e.endpoint().locality().zone()).isEqualTo("us-east-1a"));
      assertThat(events.of(FailoverEvent.ClientStalled.class)).isEmpty();
    }
  }
}
