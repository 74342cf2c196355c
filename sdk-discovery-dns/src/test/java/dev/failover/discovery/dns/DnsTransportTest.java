package dev.failover.discovery.dns;

import static dev.failover.discovery.dns.FakeDnsServer.responseTo;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.failover.Endpoint;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.CNAMERecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.SOARecord;
import org.xbill.DNS.SRVRecord;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;

/**
 * Answers a real server seldom gives, from a scripted one: stray datagrams, SERVFAIL, an SOA's
 * negative TTL, a CNAME in front of the SRV records, a target of ".".
 */
class DnsTransportTest {

  private static final Name SERVICE = Name.fromConstantString("_directory._tcp.example.internal.");
  private static final Name ALIAS = Name.fromConstantString("_alias._tcp.example.internal.");
  private static final Name ZONE = Name.fromConstantString("example.internal.");

  private static DnsTransport transport(int... ports) {
    return new DnsTransport(
        Arrays.stream(ports).mapToObj(p -> new InetSocketAddress("127.0.0.1", p)).toList(),
        Duration.ofSeconds(5));
  }

  private static SRVRecord srv(Name name, long ttl, String target, int port) {
    return new SRVRecord(name, DClass.IN, ttl, 0, 10, port, Name.fromConstantString(target));
  }

  @Test
  void strayDatagramsAreIgnoredAndTheRealAnswerIsUsed() throws Exception {
    try (FakeDnsServer server =
        new FakeDnsServer(
            query -> {
              Message wrongId = responseTo(query, Rcode.NOERROR);
              wrongId.getHeader().setID((query.getHeader().getID() + 1) & 0xffff);
              wrongId.addRecord(
                  srv(SERVICE, 30, "wrong.us-east-1a.dir.internal.", 1), Section.ANSWER);
              Message right = responseTo(query, Rcode.NOERROR);
              right.addRecord(
                  srv(SERVICE, 30, "a1.us-east-1a.dir.internal.", 8080), Section.ANSWER);
              return List.of(
                  wrongId.toWire(), "not dns".getBytes(StandardCharsets.US_ASCII), right.toWire());
            })) {
      DnsTransport.Answer answer = transport(server.port()).query(SERVICE, Type.SRV);

      assertThat(answer.records())
          .singleElement()
          .satisfies(r -> assertThat(((SRVRecord) r).getPort()).isEqualTo(8080));
    }
  }

  /**
   * A server that answers only with datagrams that are not DNS messages is named as such once its
   * time is up; before, the failure said it did not answer at all.
   */
  @Test
  void aServerThatAnswersOnlyMalformedMessagesIsNamedAsSuch() throws Exception {
    try (FakeDnsServer server =
        new FakeDnsServer(query -> List.of("not dns".getBytes(StandardCharsets.US_ASCII)))) {
      DnsTransport transport =
          new DnsTransport(
              List.of(new InetSocketAddress("127.0.0.1", server.port())), Duration.ofMillis(500));

      assertThatThrownBy(() -> transport.query(SERVICE, Type.SRV))
          .isInstanceOf(IOException.class)
          .hasMessageStartingWith(
              "DNS SRV lookup of _directory._tcp.example.internal. failed: 127.0.0.1:"
                  + server.port()
                  + " answered a malformed message (")
          .hasMessageNotContaining("did not answer");
    }
  }

  @Test
  void servfailFromEveryServerIsAFailureNamingEachServer() throws Exception {
    try (FakeDnsServer first =
            new FakeDnsServer(q -> List.of(responseTo(q, Rcode.SERVFAIL).toWire()));
        FakeDnsServer second =
            new FakeDnsServer(q -> List.of(responseTo(q, Rcode.REFUSED).toWire()))) {

      assertThatThrownBy(() -> transport(first.port(), second.port()).query(SERVICE, Type.SRV))
          .isInstanceOf(IOException.class)
          .hasMessage(
              "DNS SRV lookup of _directory._tcp.example.internal. failed: 127.0.0.1:"
                  + first.port()
                  + " answered SERVFAIL; 127.0.0.1:"
                  + second.port()
                  + " answered REFUSED");
    }
  }

  @Test
  void aFailureNamesAnIpv6ServerInBracketsAndAnIpv4OneAsItIs() throws Exception {
    try (FakeDnsServer ipv4 =
        new FakeDnsServer(q -> List.of(responseTo(q, Rcode.SERVFAIL).toWire()))) {
      int port = ipv4.port(); // bound on 127.0.0.1 only: nothing answers on ::1
      DnsTransport transport =
          new DnsTransport(
              List.of(new InetSocketAddress("::1", port), new InetSocketAddress("127.0.0.1", port)),
              Duration.ofSeconds(5));

      assertThatThrownBy(() -> transport.query(SERVICE, Type.SRV))
          .isInstanceOf(IOException.class)
          // ::1's own outcome (unreachable, no answer, no IPv6 at all) depends on the machine.
          .hasMessageStartingWith(
              "DNS SRV lookup of _directory._tcp.example.internal. failed: [0:0:0:0:0:0:0:1]:"
                  + port
                  + " ")
          .hasMessageEndingWith("; 127.0.0.1:" + port + " answered SERVFAIL");
    }
  }

  @Test
  void aServerIsNamedHostColonPortWithAnIpv6AddressInBrackets() {
    assertThat(DnsTransport.describe(new InetSocketAddress("127.0.0.1", 53)))
        .isEqualTo("127.0.0.1:53");
    assertThat(DnsTransport.describe(new InetSocketAddress("::1", 53)))
        .isEqualTo("[0:0:0:0:0:0:0:1]:53");
    assertThat(DnsTransport.describe(InetSocketAddress.createUnresolved("dns.internal", 53)))
        .isEqualTo("dns.internal:53");
  }

  @Test
  void anNxdomainIsLookedUpAgainAfterTheSoasNegativeTtl() throws Exception {
    try (FakeDnsServer server =
        new FakeDnsServer(
            query -> {
              Message nx = responseTo(query, Rcode.NXDOMAIN);
              nx.addRecord(
                  new SOARecord(
                      ZONE,
                      DClass.IN,
                      300,
                      Name.fromConstantString("ns.example.internal."),
                      Name.fromConstantString("admin.example.internal."),
                      1,
                      3600,
                      600,
                      86400,
                      60),
                  Section.AUTHORITY);
              return List.of(nx.toWire());
            })) {
      Lookup.Result result =
          new Lookup.Srv(SERVICE, "http", SrvLocalities.zoneLabel(1)).run(transport(server.port()));

      // RFC 2308: the smaller of the SOA's TTL (300) and its minimum (60).
      assertThat(result.endpoints()).isEmpty();
      assertThat(result.ttlSeconds()).isEqualTo(60);
    }
  }

  @Test
  void theCnamesTtlCountsAndADotTargetIsSkipped() throws Exception {
    try (FakeDnsServer server =
        new FakeDnsServer(
            query -> {
              Message m = responseTo(query, Rcode.NOERROR);
              m.addRecord(new CNAMERecord(SERVICE, DClass.IN, 5, ALIAS), Section.ANSWER);
              m.addRecord(srv(ALIAS, 30, "a1.us-east-1a.dir.internal.", 8080), Section.ANSWER);
              m.addRecord(srv(ALIAS, 30, ".", 0), Section.ANSWER);
              return List.of(m.toWire());
            })) {
      Lookup.Result result =
          new Lookup.Srv(SERVICE, "http", SrvLocalities.zoneLabel(1)).run(transport(server.port()));

      assertThat(result.endpoints())
          .containsExactly(
              Endpoint.of("http://a1.us-east-1a.dir.internal:8080", "us-east-1", "us-east-1a")
                  .withWeight(10));
      assertThat(result.ttlSeconds()).isEqualTo(5);
    }
  }

  @Test
  void anSrvRecordWithPortZeroFailsTheLookup() throws Exception {
    try (FakeDnsServer server =
        new FakeDnsServer(
            query -> {
              Message m = responseTo(query, Rcode.NOERROR);
              m.addRecord(srv(SERVICE, 30, "a1.us-east-1a.dir.internal.", 0), Section.ANSWER);
              return List.of(m.toWire());
            })) {
      assertThatThrownBy(
              () ->
                  new Lookup.Srv(SERVICE, "http", SrvLocalities.zoneLabel(1))
                      .run(transport(server.port())))
          .isInstanceOf(IOException.class)
          .hasMessageContaining("is not a usable endpoint");
    }
  }

  /**
   * A server whose TCP answer (after a truncated UDP one) comes a byte at a time, each byte within
   * the socket's timeout, costs its share of the query's timeout and no more: the next server is
   * asked. The socket's timeout bounds one read only; the query's whole answer took 29 s with a 1 s
   * timeout, and the next server was never asked.
   */
  @Test
  void aTcpAnswerThatTricklesInCostsItsShareOfTheTimeoutOnly() throws Exception {
    try (FakeDnsServer truncating =
            new FakeDnsServer(
                q -> {
                  Message tc = responseTo(q, Rcode.NOERROR);
                  tc.getHeader().setFlag(org.xbill.DNS.Flags.TC);
                  return List.of(tc.toWire());
                });
        FakeDnsServer good =
            new FakeDnsServer(
                q -> {
                  Message m = responseTo(q, Rcode.NOERROR);
                  m.addRecord(
                      srv(SERVICE, 30, "a1.us-east-1a.dir.internal.", 8081), Section.ANSWER);
                  return List.of(m.toWire());
                });
        java.net.ServerSocket tcp = new java.net.ServerSocket()) {
      tcp.bind(new InetSocketAddress("127.0.0.1", truncating.port()));
      Thread trickler =
          new Thread(
              () -> {
                try (java.net.Socket s = tcp.accept()) {
                  java.io.DataInputStream in = new java.io.DataInputStream(s.getInputStream());
                  byte[] query = new byte[in.readUnsignedShort()];
                  in.readFully(query);
                  Message m = responseTo(new Message(query), Rcode.NOERROR);
                  m.addRecord(
                      srv(SERVICE, 30, "a1.us-east-1a.dir.internal.", 8080), Section.ANSWER);
                  byte[] answer = m.toWire();
                  byte[] framed = new byte[answer.length + 2];
                  framed[0] = (byte) (answer.length >> 8);
                  framed[1] = (byte) answer.length;
                  System.arraycopy(answer, 0, framed, 2, answer.length);
                  java.io.OutputStream out = s.getOutputStream();
                  for (byte b : framed) { // the fault: a byte every 300 ms (bounded: ~100 bytes)
                    out.write(b);
                    out.flush();
                    Thread.sleep(300);
                  }
                } catch (IOException | InterruptedException e) {
                  // The client gave up and closed, or the test ended.
                }
              },
              "trickling-dns-server");
      trickler.setDaemon(true);
      trickler.start();
      DnsTransport transport =
          new DnsTransport(
              List.of(
                  new InetSocketAddress("127.0.0.1", truncating.port()),
                  new InetSocketAddress("127.0.0.1", good.port())),
              Duration.ofSeconds(1));

      long start = System.nanoTime();
      DnsTransport.Answer answer = transport.query(SERVICE, Type.SRV);
      long tookMillis = (System.nanoTime() - start) / 1_000_000;

      assertThat(answer.records())
          .singleElement()
          .satisfies(r -> assertThat(((SRVRecord) r).getPort()).isEqualTo(8081));
      assertThat(tookMillis).isLessThan(5_000); // 29 s before; about 0.5 s to 1 s on time
      trickler.interrupt();
    }
  }
}
