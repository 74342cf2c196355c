package dev.failover.spring.boot.autoconfigure;

import org.springframework.cloud.context.environment.EnvironmentChangeEvent;
import org.springframework.context.ApplicationListener;

/**
 * Follows Spring Cloud's refresh ({@code /actuator/refresh}, a Spring Cloud Config or Kubernetes
 * config map reload): when the environment changes, the failover clients the starter built take
 * their new settings in place, without losing a call (see {@link
 * FailoverClientFactory#refresh(java.util.Set)}).
 */
final class FailoverRefreshListener implements ApplicationListener<EnvironmentChangeEvent> {
  private final FailoverClientFactory factory;

  FailoverRefreshListener(FailoverClientFactory factory) {
    this.factory = factory;
  }

  @Override
  public void onApplicationEvent(EnvironmentChangeEvent event) {
    factory.refresh(event.getKeys());
  }
}
