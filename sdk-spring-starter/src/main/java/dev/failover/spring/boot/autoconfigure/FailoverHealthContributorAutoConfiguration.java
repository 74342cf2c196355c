package dev.failover.spring.boot.autoconfigure;

import dev.failover.FailoverClient;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.health.contributor.CompositeHealthContributor;
import org.springframework.boot.health.contributor.HealthContributor;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.context.annotation.Bean;

/**
 * Auto-configuration of the {@code failover} health contributor: one indicator per failover client,
 * named after the client ({@code /actuator/health/failover/directory}); a FailoverClient bean that
 * is not a configured client is named after its bean (see {@link NamedClients}). Off by default,
 * turned on by {@code management.health.failover.enabled=true}: a downstream outage must not take
 * the app's own health down (a load balancer or Kubernetes probing {@code /actuator/health} would
 * pull every instance out). Once on, put it in a health group of its own, not in liveness or
 * readiness.
 */
@AutoConfiguration(after = FailoverAutoConfiguration.class)
@ConditionalOnClass({FailoverClient.class, HealthIndicator.class})
@ConditionalOnBean(FailoverClient.class)
@ConditionalOnProperty(prefix = "failover", name = "enabled", matchIfMissing = true)
public final class FailoverHealthContributorAutoConfiguration {

  /** Created by Spring. */
  public FailoverHealthContributorAutoConfiguration() {}

  @Bean
  @ConditionalOnProperty(
      prefix = "management.health.failover",
      name = "enabled",
      havingValue = "true")
  @ConditionalOnMissingBean(name = {"failoverHealthIndicator", "failoverHealthContributor"})
  HealthContributor failoverHealthContributor(ListableBeanFactory beans) {
    Map<String, HealthContributor> indicators = new LinkedHashMap<>();
    // Named as the failover endpoint names them: a configured client under its name, other
    // FailoverClient beans (such as a variant built with newBuilder()) under their bean names.
    new NamedClients(beans)
        .all()
        .forEach((name, client) -> indicators.put(name, new FailoverHealthIndicator(client)));
    return CompositeHealthContributor.fromMap(indicators);
  }
}
