package dev.failover.matrix;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.failover.matrix.RawServer.Fault;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import okhttp3.HttpUrl;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The test server does what each fault says, seen from a plain socket. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class RawServerTest {

  /** How long a client read waits where the server is expected to stay silent. */
  private static final int SILENCE_MILLIS = 200;

  private static Socket connect(RawServer server, String name) throws IOException {
    Socket socket = new Socket();
    socket.connect(new InetSocketAddress("127.0.0.1", HttpUrl.get(server.url(name)).port()), 2000);
    socket.setSoTimeout(5000);
    return socket;
  }

  /** A server with one endpoint, a, and this fault on it. */
  private static RawServer serverWith(Fault fault) throws IOException {
    RawServer server = RawServer.start("a");
    server.fault("a", fault);
    return server;
  }

  /** Asserts that nothing arrives on the socket for {@link #SILENCE_MILLIS}. */
  private static void assertSilent(Socket socket) throws IOException {
    socket.setSoTimeout(SILENCE_MILLIS);
    assertThatThrownBy(() -> socket.getInputStream().read())
        .isInstanceOf(SocketTimeoutException.class);
  }

  private static void send(Socket socket, String id, String body) throws IOException {
    String head =
        "POST /x HTTP/1.1\r\nHost: test\r\n"
            + RawServer.REQUEST_ID
            + ": "
            + id
            + "\r\nContent-Length: "
            + body.length()
            + "\r\n\r\n";
    OutputStream out = socket.getOutputStream();
    out.write((head + body).getBytes(StandardCharsets.ISO_8859_1));
    out.flush();
  }

  private static void sendChunked(Socket socket, String id) throws IOException {
    String request =
        "POST /x HTTP/1.1\r\nHost: test\r\n"
            + RawServer.REQUEST_ID
            + ": "
            + id
            + "\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\n\r\n";
    socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
    socket.getOutputStream().flush();
  }

  /** Reads one response with a Content-Length body; returns its head and body. */
  private static String response(Socket socket) throws IOException {
    InputStream in = socket.getInputStream();
    StringBuilder head = new StringBuilder();
    while (!head.toString().endsWith("\r\n\r\n")) {
      int b = in.read();
      if (b < 0) {
        throw new IOException("end of stream after: " + head);
      }
      head.append((char) b);
      if (head.length() > 8192) {
        throw new IOException("head too long: " + head);
      }
    }
    int length = 0;
    for (String line : head.toString().split("\r\n")) {
      if (line.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
        length = Integer.parseInt(line.substring("content-length:".length()).trim());
      }
    }
    return head + new String(in.readNBytes(length), StandardCharsets.ISO_8859_1);
  }

  @Test
  void okAnswersEveryRequestOnAKeptAliveConnectionAndCountsReceiptsById() throws Exception {
    try (RawServer server = RawServer.start("a", "b");
        Socket socket = connect(server, "a")) {
      send(socket, "r1", "{}");
      assertThat(response(socket)).startsWith("HTTP/1.1 200 OK\r\n").contains("X-Served-By: a");
      sendChunked(socket, "r1");
      assertThat(response(socket)).startsWith("HTTP/1.1 200 OK\r\n");
      send(socket, "r2", "");
      assertThat(response(socket)).startsWith("HTTP/1.1 200 OK\r\n");
      assertThat(server.receipts("r1")).containsExactly(entry("a", 2), entry("b", 0));
      assertThat(server.receipts("a", "r2")).isEqualTo(1);
      assertThat(server.connections("a")).isEqualTo(1);
    }
  }

  @Test
  void refuseStopsListeningAtOnce() throws Exception {
    try (RawServer server = serverWith(Fault.refuse())) {
      // No accept is left running: every connect is refused, none is accepted and reset.
      for (int i = 0; i < 20; i++) {
        assertThatThrownBy(() -> connect(server, "a").close()).isInstanceOf(ConnectException.class);
      }
    }
  }

  @Test
  void resetAfterReadReadsTheRequestThenResets() throws Exception {
    try (RawServer server = serverWith(Fault.resetAfterRead());
        Socket socket = connect(server, "a")) {
      send(socket, "r1", "{}");
      assertThatThrownBy(() -> socket.getInputStream().read())
          .isInstanceOf(SocketException.class)
          .hasMessageContaining("reset");
      assertThat(server.receipts("a", "r1")).isEqualTo(1);
    }
  }

  @Test
  void hangReadsTheRequestAndHoldsTheSocketUntilTheServerCloses() throws Exception {
    Socket socket;
    try (RawServer server = serverWith(Fault.hang())) {
      socket = connect(server, "a");
      send(socket, "r1", "{}");
      assertThat(server.awaitReceipts("r1", Map.of("a", 1), Duration.ofSeconds(5))).isTrue();
      assertSilent(socket);
    }
    try (socket) {
      socket.setSoTimeout(5000);
      assertThat(socket.getInputStream().read()).as("closed with the server").isEqualTo(-1);
    }
  }

  @Test
  void silentOnPooledAnswersTheFirstRequestOfAConnectionOnly() throws Exception {
    try (RawServer server = serverWith(Fault.silentOnPooled());
        Socket socket = connect(server, "a")) {
      send(socket, "r1", "{}");
      assertThat(response(socket)).startsWith("HTTP/1.1 200 OK\r\n").doesNotContain("close");
      send(socket, "r2", "{}");
      assertThat(server.awaitReceipts("r2", Map.of("a", 1), Duration.ofSeconds(5))).isTrue();
      assertSilent(socket);
      try (Socket fresh = connect(server, "a")) {
        send(fresh, "r3", "{}");
        assertThat(response(fresh)).startsWith("HTTP/1.1 200 OK\r\n");
      }
    }
  }

  @Test
  void slowAnswersAfterItsDelay() throws Exception {
    try (RawServer server = serverWith(Fault.slow(Duration.ofMillis(SILENCE_MILLIS * 2)));
        Socket socket = connect(server, "a")) {
      long start = System.nanoTime();
      send(socket, "r1", "{}");
      assertThat(response(socket)).startsWith("HTTP/1.1 200 OK\r\n");
      assertThat(System.nanoTime() - start)
          .isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(SILENCE_MILLIS * 2));
    }
  }

  @Test
  void garbageWritesBytesThatAreNotHttp() throws Exception {
    try (RawServer server = serverWith(Fault.garbage());
        Socket socket = connect(server, "a")) {
      send(socket, "r1", "{}");
      String got = new String(socket.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
      assertThat(got).isNotEmpty().doesNotStartWith("HTTP/");
      assertThat(server.receipts("a", "r1")).isEqualTo(1);
    }
  }

  @Test
  void statusAnswersWithTheGivenStatusAndHeaders() throws Exception {
    try (RawServer server = serverWith(Fault.status(503, "Retry-After", "120"));
        Socket socket = connect(server, "a")) {
      send(socket, "r1", "{}");
      assertThat(response(socket))
          .startsWith("HTTP/1.1 503 Service Unavailable\r\n")
          .contains("\r\nRetry-After: 120\r\n");
    }
  }

  @Test
  void flappingResetsEveryOtherConnectionBeforeReadingAndAnswersTheRest() throws Exception {
    try (RawServer server = serverWith(Fault.flapping())) {
      for (int n = 0; n < 4; n++) {
        int i = n;
        if (i % 2 == 0) {
          // The reset may surface on the connect (it can arrive before the connect completes),
          // the write or the read.
          assertThatThrownBy(
                  () -> {
                    try (Socket socket = connect(server, "a")) {
                      send(socket, "r" + i, "{}");
                      if (socket.getInputStream().read() >= 0) {
                        throw new AssertionError("answered");
                      }
                      throw new SocketException("closed without an answer");
                    }
                  })
              .isInstanceOf(SocketException.class);
          assertThat(server.receipts("a", "r" + i)).isZero();
        } else {
          try (Socket socket = connect(server, "a")) {
            send(socket, "r" + i, "{}");
            assertThat(response(socket))
                .startsWith("HTTP/1.1 200 OK\r\n")
                .contains("Connection: close");
            assertThat(server.receipts("a", "r" + i)).isEqualTo(1);
          }
        }
      }
    }
  }

  @Test
  void closeEndsEveryThreadItStarted() throws Exception {
    RawServer server = RawServer.start("a", "b");
    server.fault("a", Fault.hang());
    Socket held = connect(server, "a");
    send(held, "r1", "{}");
    Socket idle = connect(server, "b");
    send(idle, "r2", "");
    assertThat(response(idle)).startsWith("HTTP/1.1 200 OK\r\n"); // then idle, kept alive
    // Closed once the request is read: a socket closed with unread data would reset, not end.
    assertThat(server.awaitReceipts("r1", Map.of("a", 1), Duration.ofSeconds(5))).isTrue();
    server.close(); // throws if a thread it started is still alive
    try (held;
        idle) {
      assertThat(held.getInputStream().read()).as("the held connection is closed").isEqualTo(-1);
      assertThat(idle.getInputStream().read()).as("the idle connection is closed").isEqualTo(-1);
      assertThat(
              Thread.getAllStackTraces().keySet().stream()
                  .filter(t -> t.getName().startsWith("raw-server-") && t.isAlive()))
          .isEmpty();
    }
  }

  private static Map.Entry<String, Integer> entry(String name, int n) {
    return Map.entry(name, n);
  }
}
