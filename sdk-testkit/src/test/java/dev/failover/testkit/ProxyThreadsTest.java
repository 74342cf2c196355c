package dev.failover.testkit;

import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.ok;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The fault proxy carries every connection on one selector thread: held connections cost no thread,
 * and many of them are served at once when the fault heals.
 */
class ProxyThreadsTest {

  private static final int CONNECTIONS = 500;
  private static final byte[] REQUEST =
      "GET /x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

  @RegisterExtension static FakeZones zones = FakeZones.builder().region("r", "a", "b").build();

  @BeforeAll
  static void stubs() {
    zones.stubAll(get("/x").willReturn(ok("x")));
  }

  @Test
  void fiveHundredHungConnectionsAddNoThread() throws IOException {
    FakeEndpoint endpoint = zones.zone("a").endpoint(0);
    endpoint.fail(ZoneFault.hang());
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    int before = threads.getThreadCount();

    List<Socket> sockets = new ArrayList<>();
    try {
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      for (int i = 0; i < CONNECTIONS && System.nanoTime() < deadline; i++) {
        Socket socket = new Socket();
        sockets.add(socket);
        socket.connect(new InetSocketAddress("127.0.0.1", endpoint.port()), 5_000);
        socket.getOutputStream().write(REQUEST);
      }
      assertThat(sockets).as("connected within 30 s").hasSize(CONNECTIONS);
      Await.until(
          Duration.ofSeconds(20),
          CONNECTIONS + " connections held by the proxy",
          () -> endpoint.proxy().openConnections() == CONNECTIONS);

      assertThat(threads.getThreadCount() - before)
          .as("threads added by %s held connections", CONNECTIONS)
          .isLessThanOrEqualTo(2);
      Socket first = sockets.get(0);
      first.setSoTimeout(100);
      assertThatThrownBy(() -> first.getInputStream().read())
          .as("a hung connection gets no answer")
          .isInstanceOf(SocketTimeoutException.class);
      assertThat(endpoint.requestCount()).as("nothing reached WireMock").isZero();
    } finally {
      for (Socket socket : sockets) {
        socket.close();
      }
    }
    Await.until(
        Duration.ofSeconds(20),
        "the proxy to let go of connections their clients closed",
        () -> endpoint.proxy().openConnections() == 0);
  }

  @Test
  void healingAnswersEveryHeldRequest() throws IOException {
    int count = 200;
    FakeEndpoint endpoint = zones.zone("b").endpoint(0);
    endpoint.fail(ZoneFault.hang());
    List<Socket> sockets = new ArrayList<>();
    try {
      for (int i = 0; i < count; i++) {
        Socket socket = new Socket();
        sockets.add(socket);
        socket.connect(new InetSocketAddress("127.0.0.1", endpoint.port()), 5_000);
        socket.setSoTimeout(10_000);
        socket.getOutputStream().write(REQUEST);
      }
      Await.until(
          Duration.ofSeconds(20),
          count + " connections held by the proxy",
          () -> endpoint.proxy().openConnections() == count);
      assertThat(endpoint.requestCount()).isZero();

      endpoint.heal();

      for (Socket socket : sockets) {
        assertThat(statusLine(socket)).isEqualTo("HTTP/1.1 200 OK");
      }
      assertThat(endpoint.requestCount()).isEqualTo(count);
    } finally {
      for (Socket socket : sockets) {
        socket.close();
      }
    }
  }

  /** Reads the first line of the response, at most 200 bytes. */
  private static String statusLine(Socket socket) throws IOException {
    InputStream in = socket.getInputStream();
    StringBuilder line = new StringBuilder();
    for (int i = 0; i < 200; i++) {
      int b = in.read();
      if (b < 0 || b == '\n') {
        break;
      }
      line.append((char) b);
    }
    return line.toString().strip();
  }
}
