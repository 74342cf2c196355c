package dev.failover.spring.boot.autoconfigure;

import dev.failover.EndpointSource;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.cloud.client.discovery.DiscoveryClient;

/**
 * Sources over the application's Spring Cloud {@link DiscoveryClient}: the primary one, which is
 * Spring Cloud's composite of every registry client on the class path.
 */
final class SpringCloudEndpointSources implements EndpointSources {
  private final ObjectProvider<DiscoveryClient> discoveryClients;
  private final DiscoveryHeartbeats heartbeats;

  SpringCloudEndpointSources(
      ObjectProvider<DiscoveryClient> discoveryClients, DiscoveryHeartbeats heartbeats) {
    this.discoveryClients = discoveryClients;
    this.heartbeats = heartbeats;
  }

  @Override
  public EndpointSource create(String clientName, Settings settings) {
    DiscoveryClient discoveryClient = discoveryClients.getIfAvailable();
    if (discoveryClient == null) {
      throw new IllegalStateException(
          "the application has no Spring Cloud DiscoveryClient bean (or more than one, none of"
              + " them primary)");
    }
    return new DiscoveryClientEndpointSource(
        clientName, discoveryClient, settings, heartbeats, System::nanoTime);
  }
}
