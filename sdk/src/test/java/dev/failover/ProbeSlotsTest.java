package dev.failover;

import static org.assertj.core.api.Assertions.assertThat;

import dev.failover.testkit.FakeZones;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import okhttp3.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * failover-semantics.md: health probes "never queue your calls behind them". They shared the
 * attempts' slots of {@code maxRequests}: with {@code maxRequests(1)}, a probe of an endpoint that
 * accepts connections and never answers held the only slot for its whole timeout, and calls to the
 * healthy home zone waited for it past their deadline. Probes now run on a dispatcher of their own.
 */
class ProbeSlotsTest {

  @RegisterExtension
  static final FakeZones zones =
      FakeZones.builder().region("us-east-1", "us-east-1a").endpointsPerZone(1).seed(5).build();

  private final List<Socket> held = new CopyOnWriteArrayList<>();
  private ServerSocket hanging;
  private Thread acceptor;

  @BeforeEach
  void start() throws IOException {
    Zones3.stub(zones);
    hanging = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    acceptor =
        new Thread(
            () -> {
              try {
                while (true) {
                  held.add(hanging.accept()); // accepts, never answers
                }
              } catch (IOException e) {
                // closed by stop()
              }
            },
            "hanging-endpoint");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  @AfterEach
  void stop() throws Exception {
    hanging.close();
    acceptor.join(TimeUnit.SECONDS.toMillis(30));
    for (Socket s : held) {
      s.close();
    }
  }

  @Test
  void aProbeOfAHangingEndpointNeverHoldsTheOnlySlotACallNeeds() throws Exception {
    try (FailoverClient client =
        FailoverClient.builder()
            .service("directory")
            .home("us-east-1", "us-east-1a")
            .endpoint(zones.endpoints().get(0).url(), "us-east-1", "us-east-1a")
            .endpoint("http://127.0.0.1:" + hanging.getLocalPort(), "us-east-1", "us-east-1b")
            .maxRequests(1)
            .deadline(Duration.ofSeconds(3))
            .healthCheck(
                HealthCheck.http("/health")
                    .withInterval(Duration.ofMillis(100))
                    .withTimeout(Duration.ofSeconds(10)))
            .build()) {
      // A probe of the hanging endpoint is in flight (connected, waiting for its answer).
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (held.isEmpty() && System.nanoTime() < until) {
        Thread.sleep(5); // polling for the probe's connection, not waiting for time to pass
      }
      assertThat(held).as("a probe connected to the hanging endpoint").isNotEmpty();
      // Each call needs the only slot of maxRequests for its attempt while the probe holds on.
      for (int i = 0; i < 5; i++) {
        try (Response r = client.newCall(Zones3.user(i)).execute()) {
          assertThat(r.code()).isEqualTo(200);
        }
      }
    }
  }
}
