package dev.failover.discovery.zookeeper;

import java.io.IOException;
import java.util.Map;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.x.discovery.ServiceDiscovery;
import org.apache.curator.x.discovery.ServiceDiscoveryBuilder;
import org.apache.curator.x.discovery.ServiceInstance;
import org.apache.curator.x.discovery.details.JsonInstanceSerializer;

/**
 * The registering side, as a service would run it: its own Curator client and a {@code
 * ServiceDiscovery} with Curator's {@code JsonInstanceSerializer} and a {@code Map} payload.
 */
@SuppressWarnings({"rawtypes", "unchecked"}) // Curator's Map payload is a raw Map.class
final class Registry implements AutoCloseable {

  private final CuratorFramework client;
  private final ServiceDiscovery<Map> discovery;

  Registry(String connectString) throws Exception {
    this(connectString, ZooKeeperEndpointSource.DEFAULT_BASE_PATH);
  }

  Registry(String connectString, String basePath) throws Exception {
    client =
        CuratorFrameworkFactory.builder()
            .connectString(connectString)
            .retryPolicy(new RetryOneTime(200))
            .connectionTimeoutMs(5_000)
            .sessionTimeoutMs(60_000)
            .build();
    client.start();
    discovery =
        ServiceDiscoveryBuilder.builder(Map.class)
            .client(client)
            .basePath(basePath)
            .serializer(new JsonInstanceSerializer<>(Map.class))
            .build();
    discovery.start();
  }

  CuratorFramework client() {
    return client;
  }

  /** Registers {@code id} of {@code service} on 127.0.0.1:port with the given metadata. */
  ServiceInstance<Map> register(String service, String id, int port, Map<String, String> metadata)
      throws Exception {
    ServiceInstance<Map> instance =
        ServiceInstance.<Map>builder()
            .name(service)
            .id(id)
            .address("127.0.0.1")
            .port(port)
            .payload(metadata)
            .build();
    discovery.registerService(instance);
    return instance;
  }

  /** Registers an instance with an SSL port only. */
  ServiceInstance<Map> registerSsl(
      String service, String id, int sslPort, Map<String, String> metadata) throws Exception {
    ServiceInstance<Map> instance =
        ServiceInstance.<Map>builder()
            .name(service)
            .id(id)
            .address("127.0.0.1")
            .sslPort(sslPort)
            .payload(metadata)
            .build();
    discovery.registerService(instance);
    return instance;
  }

  /** Rewrites a registered instance's data in place (its node is kept, its data changes). */
  ServiceInstance<Map> update(ServiceInstance<Map> instance, Map<String, String> metadata)
      throws Exception {
    ServiceInstance<Map> updated =
        ServiceInstance.<Map>builder()
            .name(instance.getName())
            .id(instance.getId())
            .address(instance.getAddress())
            .port(instance.getPort())
            .payload(metadata)
            .build();
    discovery.updateService(updated);
    return updated;
  }

  void unregister(ServiceInstance<Map> instance) throws Exception {
    discovery.unregisterService(instance);
  }

  @Override
  public void close() throws IOException {
    try {
      discovery.close();
    } finally {
      client.close();
    }
  }

  static Map<String, String> zone(String region, String zone) {
    return Map.of("region", region, "zone", zone);
  }
}
