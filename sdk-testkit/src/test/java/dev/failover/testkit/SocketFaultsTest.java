package dev.failover.testkit;

import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.ok;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Refuse, blackhole, hang, reset and flapping, as a client sees them on real sockets. */
class SocketFaultsTest {

  @RegisterExtension
  static FakeZones zones =
      FakeZones.builder().region("us-east-1", "us-east-1a", "us-east-1b").build();

  @BeforeAll
  static void stubs() {
    zones.stubAll(get("/users/42").willReturn(ok("alice")));
    zones.stubAll(post("/users").willReturn(ok("created")));
  }

  private static String url(String zone) {
    return zones.zone(zone).endpoint(0).url() + "/users/42";
  }

  @Test
  void refuseFailsFastWithConnectException() {
    zones.zone("us-east-1a").fail(ZoneFault.refuse());
    try (Http http = new Http()) {
      Http.Outcome outcome = http.call(url("us-east-1a"));

      assertThat(outcome.error()).isInstanceOf(ConnectException.class);
      assertThat(outcome.millis()).isLessThan(1_000);
      assertThat(http.call(url("us-east-1b")).body()).isEqualTo("alice");
    }
    assertThat(zones.zone("us-east-1a").requestCount()).isZero();
  }

  @Test
  void refuseDropsEstablishedConnections() {
    FakeEndpoint endpoint = zones.zone("us-east-1a").endpoint(0);
    try (Http http = new Http()) {
      assertThat(http.call(url("us-east-1a")).ok()).isTrue();
      assertThat(endpoint.proxy().openConnections()).isEqualTo(1);

      endpoint.fail(ZoneFault.refuse());

      assertThat(endpoint.proxy().openConnections()).isZero();
      Http.Outcome onPooledConnection = http.call(url("us-east-1a"));
      assertThat(onPooledConnection.error()).isInstanceOf(IOException.class);
      assertThat(onPooledConnection.millis()).isLessThan(1_000);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"refuse", "blackhole"})
  void healListensOnTheSamePortAgain(String faultName) {
    ZoneFault fault = faultName.equals("refuse") ? ZoneFault.refuse() : ZoneFault.blackhole();
    FakeEndpoint endpoint = zones.zone("us-east-1a").endpoint(0);
    String before = endpoint.url();
    endpoint.fail(fault);
    endpoint.heal();

    assertThat(endpoint.url()).isEqualTo(before);
    assertThat(endpoint.fault()).isEmpty();
    try (Http http = new Http()) {
      Http.Outcome outcome = http.call(url("us-east-1a"));
      assertThat(outcome.body()).as("%s", outcome).isEqualTo("alice");
      assertThat(outcome.millis()).as("no SYN retransmission wait").isLessThan(900);
    }
  }

  @Test
  void blackholeMakesConnectTimeOutInsteadOfBeingRefused() throws IOException {
    FakeEndpoint endpoint = zones.zone("us-east-1a").endpoint(0);
    int acceptedBefore = endpoint.proxy().acceptedConnections();
    endpoint.fail(ZoneFault.blackhole());

    for (int attempt = 0; attempt < 3; attempt++) {
      try (Socket socket = new Socket()) {
        long start = System.nanoTime();
        assertThatThrownBy(
                () -> socket.connect(new InetSocketAddress("127.0.0.1", endpoint.port()), 300))
            .as("connect attempt %s", attempt)
            .isInstanceOf(SocketTimeoutException.class)
            .isNotInstanceOf(ConnectException.class);
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start))
            .isGreaterThanOrEqualTo(250);
      }
    }
    try (Http http = new Http(Duration.ofMillis(300), Duration.ofSeconds(5))) {
      Http.Outcome outcome = http.call(url("us-east-1a"));

      assertThat(outcome.error())
          .as("OkHttp's connect timeout")
          .isInstanceOf(SocketTimeoutException.class);
      assertThat(outcome.millis()).isGreaterThanOrEqualTo(250);
    }
    assertThat(endpoint.proxy().acceptedConnections()).isEqualTo(acceptedBefore);
    assertThat(endpoint.requestCount()).isZero();
  }

  /**
   * The proxy fills a black-holed port's accept queue with connects of its own; one that gets no
   * answer (the queue is full already, as a flood of clients can make it) must not hold the one
   * thread every proxy shares. Here a listener of the test shares the port (SO_REUSEPORT) with a
   * full queue, and the kernel hands it about half of the proxy's connects.
   */
  @Test
  void applyingBlackholeNeverWaitsOnTheProxyThread() throws IOException {
    FakeEndpoint endpoint = zones.zone("us-east-1a").endpoint(0);
    try (ServerSocketChannel probe = ServerSocketChannel.open()) {
      assumeTrue(
          probe.supportedOptions().contains(StandardSocketOptions.SO_REUSEPORT),
          "a second listener shares the port with SO_REUSEPORT");
    }
    endpoint.fail(ZoneFault.refuse()); // nothing of the proxy listens: the test's listener fills
    InetSocketAddress address = new InetSocketAddress("127.0.0.1", endpoint.port());
    List<SocketChannel> queued = new ArrayList<>();
    try (ServerSocketChannel full = ServerSocketChannel.open()) {
      full.setOption(StandardSocketOptions.SO_REUSEPORT, true);
      full.bind(address, 1);
      for (int i = 0; i < 2; i++) {
        SocketChannel client = SocketChannel.open(); // blocking: in the queue once it returns
        queued.add(client);
        client.connect(address);
      }

      long slowest = 0;
      long total = 0;
      for (int i = 0; i < 20; i++) {
        long start = System.nanoTime();
        endpoint.fail(ZoneFault.blackhole());
        long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        slowest = Math.max(slowest, took);
        total += took;
        endpoint.fail(ZoneFault.refuse());
      }
      // A connect the proxy waited for would cost 500 ms, for about three applies in four.
      assertThat(total).as("20 applies of blackhole, slowest %s ms", slowest).isLessThan(4_000);
    } finally {
      for (SocketChannel client : queued) {
        client.close();
      }
    }
  }

  @Test
  void faultsSwitchDirectlyBetweenBlackholeRefuseAndHang() {
    FakeEndpoint endpoint = zones.zone("us-east-1a").endpoint(0);
    int accepted = endpoint.proxy().acceptedConnections();
    try (Http http = new Http(Duration.ofMillis(200), Duration.ofMillis(200))) {
      endpoint.fail(ZoneFault.blackhole());
      assertThat(http.call(url("us-east-1a")).error()).isInstanceOf(SocketTimeoutException.class);
      endpoint.fail(ZoneFault.refuse());
      assertThat(http.call(url("us-east-1a")).error()).isInstanceOf(ConnectException.class);
      endpoint.fail(ZoneFault.blackhole());
      assertThat(http.call(url("us-east-1a")).error()).isInstanceOf(SocketTimeoutException.class);
      assertThat(endpoint.proxy().acceptedConnections()).isEqualTo(accepted);

      endpoint.fail(ZoneFault.hang());
      Http.Outcome hung = http.call(url("us-east-1a"));
      assertThat(hung.error()).isInstanceOf(SocketTimeoutException.class);
      assertThat(endpoint.proxy().acceptedConnections())
          .as("hang accepts, then holds")
          .isEqualTo(accepted + 1);
    }
    endpoint.heal();
    try (Http http = new Http()) {
      assertThat(http.call(url("us-east-1a")).body()).isEqualTo("alice");
    }
  }

  @Test
  void hangHoldsNewConnectionsUntilTheClientTimesOut() {
    zones.zone("us-east-1a").fail(ZoneFault.hang());
    try (Http http = new Http(Duration.ofMillis(300))) {
      Http.Outcome outcome = http.call(url("us-east-1a"));

      assertThat(outcome.error()).isInstanceOf(SocketTimeoutException.class);
      assertThat(outcome.millis()).isGreaterThanOrEqualTo(250);
    }
    assertThat(zones.zone("us-east-1a").requestCount())
        .as("a hung request never reaches WireMock")
        .isZero();
  }

  @ParameterizedTest
  @ValueSource(strings = {"hang", "blackhole"})
  void hangAndBlackholeStallKeepAliveConnectionsOpenedBefore(String faultName) {
    ZoneFault fault = faultName.equals("hang") ? ZoneFault.hang() : ZoneFault.blackhole();
    FakeEndpoint endpoint = zones.zone("us-east-1a").endpoint(0);
    int acceptedBefore = endpoint.proxy().acceptedConnections();
    try (Http http = new Http(Duration.ofMillis(300))) {
      assertThat(http.call(url("us-east-1a"), Duration.ofSeconds(5)).ok()).isTrue();

      endpoint.fail(fault);
      Http.Outcome outcome = http.call(url("us-east-1a"));

      assertThat(outcome.error())
          .as("the pooled connection hangs")
          .isInstanceOf(SocketTimeoutException.class);
      assertThat(endpoint.proxy().acceptedConnections())
          .as("the second call reused the keep-alive connection")
          .isEqualTo(acceptedBefore + 1);
    }
    assertThat(endpoint.requestCount()).isEqualTo(1);
  }

  @Test
  void healResumesARequestHeldByHang() throws Exception {
    FakeEndpoint endpoint = zones.zone("us-east-1a").endpoint(0);
    endpoint.fail(ZoneFault.hang());
    try (Http http = new Http(Duration.ofSeconds(5))) {
      CompletableFuture<Http.Outcome> call =
          CompletableFuture.supplyAsync(() -> http.call(url("us-east-1a")));
      Await.until(
          Duration.ofSeconds(2),
          "the call to connect",
          () -> endpoint.proxy().openConnections() > 0);

      endpoint.heal();

      Http.Outcome outcome = call.get(5, TimeUnit.SECONDS);
      assertThat(outcome.body()).isEqualTo("alice");
    }
  }

  /**
   * A request held by a hang longer than WireMock keeps an idle connection open (Jetty's idle
   * timeout, 30 s, here made 1 s) still reaches WireMock on heal: the proxy's connection to
   * WireMock was idle, WireMock closed it meanwhile, and the heal opens another for the request.
   */
  @Test
  void healDeliversARequestHeldLongerThanWireMockKeepsAnIdleConnection() throws Exception {
    longHangOnAPooledConnection(
        hung -> {
          CompletableFuture<Http.Outcome> call = CompletableFuture.supplyAsync(hung::call);
          hung.awaitWireMockClosing(true);
          hung.endpoint.heal();
          return call.get(10, TimeUnit.SECONDS);
        });
  }

  /** The same for the zones' reset, of an idle pooled connection the hang outlasted. */
  @Test
  void resetResumesAnIdleConnectionHeldLongerThanWireMockKeepsIt() throws Exception {
    longHangOnAPooledConnection(
        hung -> {
          hung.awaitWireMockClosing(false);
          hung.zones.reset();
          return hung.call();
        });
  }

  /** An endpoint that hangs, with a client whose pooled connection it holds. */
  record Hung(FakeZones zones, FakeEndpoint endpoint, Http http, int backendsClosedBefore) {
    Http.Outcome call() {
      return http.call(endpoint.url() + "/users/42");
    }

    void awaitWireMockClosing(boolean requestHeld) {
      Await.until(
          Duration.ofSeconds(10),
          "WireMock to close its idle connection while the endpoint hangs",
          () ->
              endpoint.proxy().backendsClosed() > backendsClosedBefore
                  && endpoint.proxy().holdsClientBytes() == requestHeld);
    }
  }

  /** What a test does once the endpoint hangs; returns the outcome of the call it made. */
  interface WhileHung {
    Http.Outcome run(Hung hung) throws Exception;
  }

  private static void longHangOnAPooledConnection(WhileHung whileHung) throws Exception {
    try (FakeZones own =
            FakeZones.builder()
                .region("r", "a")
                .backendIdleTimeout(Duration.ofSeconds(1))
                .build()
                .start();
        Http http = new Http(Duration.ofSeconds(10))) {
      own.stubAll(get("/users/42").willReturn(ok("alice")));
      FakeEndpoint endpoint = own.zone("a").endpoint(0);
      Hung hung = new Hung(own, endpoint, http, endpoint.proxy().backendsClosed());
      assertThat(hung.call().body()).isEqualTo("alice"); // a pooled connection, to WireMock too
      int accepted = endpoint.proxy().acceptedConnections();
      endpoint.fail(ZoneFault.hang());

      Http.Outcome outcome = whileHung.run(hung);

      assertThat(outcome.body())
          .as("the call on the pooled connection: %s", outcome)
          .isEqualTo("alice");
      assertThat(endpoint.proxy().acceptedConnections())
          .as("it went on the pooled connection")
          .isEqualTo(accepted);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"hang", "blackhole"})
  void zonesResetDropsARequestHeldByTheFaultInsteadOfAnsweringIt(String faultName)
      throws Exception {
    ZoneFault fault = faultName.equals("hang") ? ZoneFault.hang() : ZoneFault.blackhole();
    FakeEndpoint endpoint = zones.zone("us-east-1a").endpoint(0);
    int accepted = endpoint.proxy().acceptedConnections();
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", endpoint.port()), 5_000);
      Await.until(
          Duration.ofSeconds(10),
          "the proxy to accept the connection",
          () -> endpoint.proxy().acceptedConnections() == accepted + 1);
      endpoint.fail(fault);
      socket
          .getOutputStream()
          .write(
              "GET /users/42 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                  .getBytes(StandardCharsets.US_ASCII));
      socket.setSoTimeout(10_000);

      zones.reset();

      int firstByte;
      try {
        firstByte = socket.getInputStream().read();
      } catch (SocketException e) {
        firstByte = -1; // reset: what the proxy does with a held connection
      }
      assertThat(firstByte).as("the held request is dropped, never answered").isEqualTo(-1);
    }
    assertThat(endpoint.requestCount()).as("the held request never reached WireMock").isZero();
    try (Http http = new Http()) {
      assertThat(http.call(url("us-east-1a")).body()).isEqualTo("alice");
    }
    assertThat(endpoint.requestCount()).as("only the request sent after the reset").isEqualTo(1);
  }

  /**
   * A client's idle keep-alive connection to an endpoint that was hung or black-holed (the test
   * sent nothing more to it) serves the next test: OkHttp reuses a pooled connection for a GET
   * without checking it, so a connection the reset had dropped would fail the next test's first
   * call with "Connection reset".
   */
  @ParameterizedTest
  @ValueSource(strings = {"hang", "blackhole"})
  void zonesResetResumesAnIdleKeepAliveConnection(String faultName) {
    ZoneFault fault = faultName.equals("hang") ? ZoneFault.hang() : ZoneFault.blackhole();
    FakeEndpoint endpoint = zones.zone("us-east-1a").endpoint(0);
    try (Http http = new Http()) {
      assertThat(http.call(url("us-east-1a")).ok()).isTrue(); // leaves a pooled connection
      int accepted = endpoint.proxy().acceptedConnections();
      endpoint.fail(fault);

      zones.reset(); // as before the next test

      Http.Outcome next = http.call(url("us-east-1a"));
      assertThat(next.body()).as("the next test's first call: %s", next).isEqualTo("alice");
      assertThat(endpoint.proxy().acceptedConnections())
          .as("it went on the pooled connection")
          .isEqualTo(accepted);
    }
  }

  @Test
  void aHungConnectionStillSeesItsClientCloseAfterMoreThanItHolds() throws Exception {
    FakeEndpoint endpoint = zones.zone("us-east-1a").endpoint(0);
    Await.until(
        Duration.ofSeconds(10),
        "the connections of earlier tests to close",
        () -> endpoint.proxy().openConnections() == 0);
    endpoint.fail(ZoneFault.hang());
    byte[] body = new byte[64 * 1024];
    byte[] head =
        ("POST /users HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " + body.length + "\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII);
    Socket socket = new Socket();
    try {
      socket.connect(new InetSocketAddress("127.0.0.1", endpoint.port()), 5_000);
      Await.until(
          Duration.ofSeconds(10),
          "the proxy to hold the connection",
          () -> endpoint.proxy().openConnections() == 1);
      OutputStream out = socket.getOutputStream();
      CompletableFuture.runAsync(
              () -> {
                try {
                  out.write(head);
                  out.write(body); // 64 KiB: the proxy holds 16 KiB, the kernel the rest at most
                  out.flush();
                } catch (IOException e) {
                  throw new UncheckedIOException(e);
                }
              })
          .get(10, TimeUnit.SECONDS);
    } finally {
      socket.close();
    }

    Await.until(
        Duration.ofSeconds(10),
        "the proxy to see the client close the hung connection",
        () -> endpoint.proxy().openConnections() == 0);
    assertThat(endpoint.requestCount()).isZero();
  }

  @Test
  void aRefusedPortStaysReservedSoThatHealListensOnItAgain() throws IOException {
    try (Socket probe = new Socket()) {
      assumeTrue(
          probe.supportedOptions().contains(StandardSocketOptions.SO_REUSEPORT),
          "the port is reserved with SO_REUSEPORT");
    }
    FakeEndpoint endpoint = zones.zone("us-east-1a").endpoint(0);
    int port = endpoint.port();
    InetSocketAddress address = new InetSocketAddress("127.0.0.1", port);
    endpoint.fail(ZoneFault.refuse());

    try (Socket outgoing = new Socket();
        ServerSocket server = new ServerSocket()) {
      outgoing.setReuseAddress(false);
      assertThatThrownBy(() -> outgoing.bind(address))
          .as("a socket binding the refused port %s", port)
          .isInstanceOf(BindException.class);
      server.setReuseAddress(true);
      assertThatThrownBy(() -> server.bind(address))
          .as("a server binding the refused port %s with SO_REUSEADDR", port)
          .isInstanceOf(BindException.class);
    }
    try (Http http = new Http()) {
      assertThat(http.call(url("us-east-1a")).error()).isInstanceOf(ConnectException.class);
      endpoint.heal();
      assertThat(endpoint.port()).isEqualTo(port);
      assertThat(http.call(url("us-east-1a")).body()).isEqualTo("alice");
    }
  }

  @Test
  void resetCutsTheResponseAfterTheRequestArrived() {
    zones.zone("us-east-1a").fail(ZoneFault.reset());
    try (Http http = new Http()) {
      Http.Outcome outcome =
          http.post(zones.zone("us-east-1a").endpoint(0).url() + "/users", "{}", "k-1");

      assertThat(outcome.error()).isInstanceOf(IOException.class);
      assertThat(outcome.millis()).isLessThan(1_000);
    }
    assertThat(zones.zone("us-east-1a").findAll(postRequestedFor(urlEqualTo("/users"))))
        .singleElement()
        .satisfies(r -> assertThat(r.getHeader("Idempotency-Key")).isEqualTo("k-1"));
  }

  @Test
  void socketFaultsHitHealthChecksToo() {
    zones.stubAll(get(anyUrl()).atPriority(10).willReturn(ok("up")));
    zones.zone("us-east-1a").fail(ZoneFault.refuse());
    try (Http http = new Http()) {
      assertThat(http.call(zones.zone("us-east-1a").endpoint(0).url() + "/health").error())
          .isInstanceOf(ConnectException.class);
    }
  }

  @Test
  void flappingRefuseAlternatesDownAndUp() {
    FakeZone zone = zones.zone("us-east-1a");
    String port = zone.endpoint(0).url();

    List<Boolean> seen = new ArrayList<>();
    try (Http http = new Http()) {
      // Warm first (the client and the endpoint), so that the first call after fail() lands in
      // the first down phase; phases of 1 s, so that a scheduling hiccup on a busy machine cannot
      // skip one.
      assertThat(http.callFresh(url("us-east-1a")).ok()).isTrue();
      zone.fail(
          ZoneFault.flapping(ZoneFault.refuse(), Duration.ofSeconds(1), Duration.ofSeconds(1)));
      // Four phases take 3 s and a little: stop once four states are seen, or at 8 s.
      long deadline = System.nanoTime() + Duration.ofSeconds(8).toNanos();
      for (int i = 0; i < 1_000 && seen.size() < 4 && System.nanoTime() < deadline; i++) {
        Http.Outcome outcome = http.callFresh(url("us-east-1a"));
        boolean up = outcome.ok();
        if (seen.isEmpty() || seen.get(seen.size() - 1) != up) {
          seen.add(up);
        }
        if (!up) {
          // Refused, or reset when the switch caught the call in flight.
          assertThat(outcome.error()).isInstanceOf(IOException.class);
        }
        Await.until(Duration.ofSeconds(1), "10 ms to pass", pause(10));
      }
    }
    zone.heal();

    assertThat(seen).as("up/down transitions").hasSizeGreaterThanOrEqualTo(4);
    assertThat(seen.get(0)).as("a flapping fault starts down").isFalse();
    assertThat(zone.endpoint(0).url()).isEqualTo(port);
  }

  @Test
  void flappingBlackholeAlternatesTimeoutsAndAnswers() {
    FakeZone zone = zones.zone("us-east-1a");
    zone.fail(
        ZoneFault.flapping(ZoneFault.blackhole(), Duration.ofMillis(200), Duration.ofMillis(200)));

    int answered = 0;
    int timedOut = 0;
    try (Http http = new Http(Duration.ofMillis(100), Duration.ofSeconds(1))) {
      long deadline = System.nanoTime() + Duration.ofMillis(2_500).toNanos();
      for (int i = 0; i < 200 && System.nanoTime() < deadline; i++) {
        Http.Outcome outcome = http.callFresh(url("us-east-1a"));
        if (outcome.ok()) {
          answered++;
        } else if (outcome.error() instanceof SocketTimeoutException) {
          timedOut++;
        } else {
          // A switch caught the call in flight: reset with the listener, or held as hung.
          assertThat(outcome.error()).isInstanceOf(IOException.class);
        }
        if (answered > 0 && timedOut > 0) {
          break;
        }
      }
    }
    zone.heal();

    assertThat(timedOut).as("connect timeouts while down").isPositive();
    assertThat(answered).as("answers while up").isPositive();
  }

  private static java.util.function.BooleanSupplier pause(long millis) {
    long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
    return () -> System.nanoTime() >= until;
  }
}
