package dev.failover.discovery.zookeeper;

import static com.github.tomakehurst.wiremock.client.WireMock.any;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static org.assertj.core.api.Assertions.assertThat;

import dev.failover.DiscoveryPolicy;
import dev.failover.Endpoint;
import dev.failover.FailoverClient;
import dev.failover.FailoverSnapshot.ListStatus;
import dev.failover.testkit.FakeEndpoint;
import dev.failover.testkit.FakeZones;
import java.time.Duration;
import java.util.Map;
import okhttp3.Request;
import okhttp3.Response;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The ZooKeeper source as an application uses it: compiled and run by the build, and quoted in the
 * ZooKeeper section of docs/discovery.md.
 */
class ZooKeeperDiscoveryExample {

  @RegisterExtension
  static FakeZones zones =
      FakeZones.builder().region("us-east-1", "us-east-1a", "us-east-1b").build();

  // region example
  /**
   * A client of the {@code directory} service whose endpoints are the instances registered in
   * ZooKeeper under {@code /services/directory}.
   *
   * @param zookeeper the ensemble, such as {@code zk-1:2181,zk-2:2181,zk-3:2181}
   * @param fallback served until ZooKeeper has answered once, e.g. when it is down at start
   */
  static FailoverClient directoryClient(String zookeeper, Endpoint fallback) {
    ZooKeeperEndpointSource source =
        ZooKeeperEndpointSource.builder()
            .connectString(zookeeper) // the source builds, and closes, its own Curator client
            .serviceName("directory") // instances under /services/directory
            .defaultRegion("us-east-1") // for instances that register their zone only
            .build();
    return FailoverClient.builder()
        .service("directory")
        .home("us-east-1", "us-east-1a")
        .endpointSource(source) // started by build(), closed by the client's close()
        .endpoint(fallback)
        .discovery(DiscoveryPolicy.defaults().withMaxStaleness(Duration.ofMinutes(10)))
        .build();
  }

  // endregion

  @Test
  void theExampleServesFromTheInstancesRegisteredInZooKeeper() throws Exception {
    zones.stubAll(any(anyUrl()).willReturn(okJson("{\"id\":\"00u1\"}")));
    FakeEndpoint registered = zones.zone("us-east-1a").endpoint(0);
    FakeEndpoint fallback = zones.zone("us-east-1b").endpoint(0);
    try (TestingServer server = new TestingServer();
        Registry registry = new Registry(server.getConnectString())) {
      registry.register(
          "directory", "directory-1", registered.port(), Map.of("zone", "us-east-1a"));

      try (FailoverClient client =
          directoryClient(
              server.getConnectString(), Endpoint.of(fallback.url(), "us-east-1", "us-east-1b"))) {
        long until = System.nanoTime() + Recorder.WAIT.toNanos();
        while (client.snapshot().discovery().status() != ListStatus.CURRENT
            && System.nanoTime() < until) {
          Thread.sleep(10); // waiting for ZooKeeper's first answer, bounded
        }
        assertThat(client.snapshot().discovery().status()).isEqualTo(ListStatus.CURRENT);
        assertThat(client.endpoints())
            .containsExactly(Endpoint.of(registered.url(), "us-east-1", "us-east-1a"));
        Request request = new Request.Builder().url("http://directory/api/v1/users/1").build();
        try (Response response = client.newCall(request).execute()) {
          assertThat(response.code()).isEqualTo(200);
        }
      }
    }
  }
}
