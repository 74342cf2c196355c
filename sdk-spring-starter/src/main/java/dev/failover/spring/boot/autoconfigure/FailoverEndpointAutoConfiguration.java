package dev.failover.spring.boot.autoconfigure;

import dev.failover.FailoverClient;
import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.boot.actuate.autoconfigure.endpoint.condition.ConditionalOnAvailableEndpoint;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;

/** Auto-configuration of the {@code failover} Actuator endpoint, when it is available. */
@AutoConfiguration(after = FailoverAutoConfiguration.class)
@ConditionalOnClass({FailoverClient.class, ConditionalOnAvailableEndpoint.class})
@ConditionalOnProperty(prefix = "failover", name = "enabled", matchIfMissing = true)
public final class FailoverEndpointAutoConfiguration {

  /** Created by Spring. */
  public FailoverEndpointAutoConfiguration() {}

  @Bean
  @ConditionalOnMissingBean
  @ConditionalOnAvailableEndpoint(FailoverEndpoint.class)
  FailoverEndpoint failoverEndpoint(ListableBeanFactory beans) {
    return new FailoverEndpoint(beans);
  }
}
