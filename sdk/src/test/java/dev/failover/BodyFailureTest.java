package dev.failover;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A response whose body breaks off after its headers (a reset, a truncated body) fails the caller
 * as it reads: that is evidence against the endpoint, though its attempt counted as a success at
 * its headers. A body the caller closes early is not. Real sockets: a server that answers each
 * request with the headers of a 1,000-byte body and 10 bytes of it, then resets the connection.
 */
class BodyFailureTest {
  private final List<ServerSocket> servers = new ArrayList<>();
  private final List<Thread> threads = new ArrayList<>();

  @AfterEach
  void stop() throws Exception {
    for (ServerSocket s : servers) {
      s.close();
    }
    for (Thread t : threads) {
      t.join(TimeUnit.SECONDS.toMillis(30));
    }
  }

  /** A server that answers every request with {@code response}, then resets if {@code reset}. */
  private int serve(String response, boolean reset) throws IOException {
    ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    servers.add(server);
    Thread t =
        new Thread(
            () -> {
              while (true) {
                try (Socket s = server.accept()) {
                  s.setSoTimeout((int) TimeUnit.SECONDS.toMillis(30));
                  answerEachRequest(s, response, reset);
                } catch (IOException e) {
                  if (server.isClosed()) {
                    return;
                  }
                }
              }
            },
            "body-failure-server");
    t.setDaemon(true);
    t.start();
    threads.add(t);
    return server.getLocalPort();
  }

  private static void answerEachRequest(Socket s, String response, boolean reset)
      throws IOException {
    InputStream in = s.getInputStream();
    OutputStream out = s.getOutputStream();
    while (true) {
      StringBuilder head = new StringBuilder();
      while (head.indexOf("\r\n\r\n") < 0) {
        int c = in.read();
        if (c < 0) {
          return;
        }
        head.append((char) c);
      }
      out.write(response.getBytes(StandardCharsets.US_ASCII));
      out.flush();
      if (reset) {
        s.setSoLinger(true, 0); // closed by try-with-resources: a reset mid-body
        return;
      }
    }
  }

  private static final String BROKEN = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789";
  private static final String WHOLE = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

  private FailoverClient client(int home, int other) {
    return FailoverClient.builder()
        .service("directory")
        .home("us-east-1", "us-east-1a")
        .endpoint("http://127.0.0.1:" + home, "us-east-1", "us-east-1a")
        .endpoint("http://127.0.0.1:" + other, "us-east-1", "us-east-1b")
        .deadline(Duration.ofSeconds(20))
        .hedging(HedgePolicy.off())
        .healthCheck(HealthCheck.off())
        // Nothing but the breaker decides, and its ejection outlasts the test however slow the
        // machine: no probe of an evacuated zone, no half-open trial, races a call to the home
        // zone.
        .zones(ZonePolicy.off())
        .ejection(
            EjectionPolicy.defaults()
                .withEjectionTime(Duration.ofMinutes(10), Duration.ofMinutes(10)))
        .build();
  }

  private static Request get(int i) {
    return new Request.Builder().url("http://directory/users/" + i).build();
  }

  @Test
  void anEndpointWhoseBodiesBreakOffIsEjected() throws Exception {
    int broken = serve(BROKEN, true);
    int whole = serve(WHOLE, false);
    int failedReads = 0;
    try (FailoverClient client = client(broken, whole)) {
      for (int i = 0; i < 40; i++) {
        try (Response r = client.newCall(get(i)).execute()) {
          assertThat(r.code()).isEqualTo(200);
          r.body().string();
        } catch (IOException e) {
          failedReads++;
        }
      }
      FailoverSnapshot.EndpointState home = endpoint(client, "us-east-1a");
      // Ejected by its breaker: each of its answers counted as a success, then a failure.
      assertThat(home.ejections()).isGreaterThanOrEqualTo(1);
      assertThat(failedReads).isLessThan(40);
      // Then the other zone answers, whole.
      for (int i = 0; i < 5; i++) {
        try (Response r = client.newCall(get(100 + i)).execute()) {
          assertThat(r.body().string()).isEqualTo("ok");
        }
      }
    }
  }

  @Test
  void aBodyTheCallerClosesEarlyIsNoEvidence() throws Exception {
    int whole = serve("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + "x".repeat(1000), false);
    int other = serve(WHOLE, false);
    try (FailoverClient client = client(whole, other)) {
      for (int i = 0; i < 40; i++) {
        try (Response r = client.newCall(get(i)).execute()) {
          assertThat(r.code()).isEqualTo(200);
          r.body().source().require(10); // reads a little, then closes the rest unread
        }
      }
      FailoverSnapshot.EndpointState home = endpoint(client, "us-east-1a");
      assertThat(home.ejections()).isZero();
      assertThat(home.failureRatePercent()).isZero();
    }
  }

  private static FailoverSnapshot.EndpointState endpoint(FailoverClient client, String zone) {
    return client.snapshot().zones().stream()
        .filter(z -> z.locality().zone().equals(zone))
        .findFirst()
        .orElseThrow()
        .endpoints()
        .get(0);
  }
}
