package dev.failover.spring.boot.autoconfigure;

import dev.failover.FailoverClient;
import dev.failover.FailoverObservations;
import io.micrometer.observation.ObservationRegistry;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;

/**
 * Auto-configuration of Micrometer observations for every failover client: a {@code failover.call}
 * observation per call and a {@code failover.attempt} observation per attempt (the SDK's {@link
 * FailoverObservations}), when an {@link ObservationRegistry} bean exists (Spring Boot makes one
 * with Actuator). With Micrometer Tracing each attempt is a client span under its call's span and
 * carries the trace headers; with metrics each is also a timer.
 *
 * <p>A unique {@link FailoverObservations.CallConvention} or {@link
 * FailoverObservations.AttemptConvention} bean replaces the default convention. Turn the
 * observations off with {@code management.observations.enable.failover=false}.
 */
@AutoConfiguration(
    afterName =
        "org.springframework.boot.micrometer.observation.autoconfigure.ObservationAutoConfiguration")
@ConditionalOnClass({FailoverClient.class, FailoverObservations.class, ObservationRegistry.class})
@ConditionalOnBean(ObservationRegistry.class)
@ConditionalOnProperty(prefix = "failover", name = "enabled", matchIfMissing = true)
public final class FailoverObservationAutoConfiguration {

  /** Created by Spring. */
  public FailoverObservationAutoConfiguration() {}

  @Bean
  @ConditionalOnMissingBean
  ObservationInstrumentation failoverObservations(
      ObservationRegistry registry,
      ObjectProvider<FailoverObservations.CallConvention> callConvention,
      ObjectProvider<FailoverObservations.AttemptConvention> attemptConvention) {
    return new ObservationInstrumentation(
        new FailoverObservations(
            registry, callConvention.getIfUnique(), attemptConvention.getIfUnique()));
  }
}
