package dev.failover.spring.boot.autoconfigure;

import dev.failover.FailoverClient;
import dev.failover.FailoverMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;

/**
 * Auto-configuration of Micrometer meters for every failover client ({@code failover.calls}, {@code
 * failover.attempts}, {@code failover.endpoint.state}, ...: the SDK's {@link FailoverMetrics}),
 * when Micrometer is on the class path and a {@link MeterRegistry} bean exists. The meters'
 * listener is added to each client's builder before the {@link FailoverClientCustomizer}s run.
 */
@AutoConfiguration(
    afterName =
        "org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration")
@ConditionalOnClass({FailoverClient.class, FailoverMetrics.class, MeterRegistry.class})
@ConditionalOnBean(MeterRegistry.class)
@ConditionalOnProperty(prefix = "failover", name = "enabled", matchIfMissing = true)
public final class FailoverMetricsAutoConfiguration {

  /** Created by Spring. */
  public FailoverMetricsAutoConfiguration() {}

  @Bean
  @ConditionalOnMissingBean
  MetricsInstrumentation failoverMetrics(MeterRegistry registry) {
    return new MetricsInstrumentation(registry);
  }
}
