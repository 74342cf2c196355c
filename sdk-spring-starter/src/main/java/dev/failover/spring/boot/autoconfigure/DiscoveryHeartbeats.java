package dev.failover.spring.boot.autoconfigure;

import java.util.concurrent.CopyOnWriteArraySet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.cloud.client.discovery.event.HeartbeatEvent;
import org.springframework.context.ApplicationListener;

/**
 * Passes Spring Cloud's {@link HeartbeatEvent}s (published by a registry client when it refreshed
 * its view: Eureka after each registry fetch, Consul and Kubernetes catalog watches) on to every
 * running {@link DiscoveryClientEndpointSource}, so that it asks at once rather than at its next
 * refresh.
 */
class DiscoveryHeartbeats implements ApplicationListener<HeartbeatEvent> {
  private static final Logger log = LoggerFactory.getLogger(DiscoveryHeartbeats.class);

  private final CopyOnWriteArraySet<Runnable> subscribers = new CopyOnWriteArraySet<>();

  @Override
  public void onApplicationEvent(HeartbeatEvent event) {
    for (Runnable subscriber : subscribers) {
      try {
        subscriber.run();
      } catch (RuntimeException e) {
        log.warn("A failover discovery source failed on a HeartbeatEvent", e);
      }
    }
  }

  void subscribe(Runnable subscriber) {
    subscribers.add(subscriber);
  }

  void unsubscribe(Runnable subscriber) {
    subscribers.remove(subscriber);
  }

  /** How many sources are subscribed now. */
  int subscribers() {
    return subscribers.size();
  }
}
