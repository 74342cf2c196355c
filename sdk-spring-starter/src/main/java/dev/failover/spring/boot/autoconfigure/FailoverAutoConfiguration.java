package dev.failover.spring.boot.autoconfigure;

import dev.failover.FailoverClient;
import okhttp3.OkHttpClient;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.cloud.client.discovery.DiscoveryClient;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.core.env.Environment;
import org.springframework.web.client.RestClient;
import org.springframework.web.client.support.RestClientHttpServiceGroupConfigurer;

/**
 * Auto-configuration of the failover clients: for each {@code failover.clients.<name>}, a {@link
 * FailoverClient} bean {@code <name>FailoverClient} and a {@link RestClient} bean {@code
 * <name>RestClient} (both {@code @Qualifier("<name>")}), and the routing of the HTTP service group
 * {@code <name>} through the client.
 *
 * <p>Settings are applied in this order, each overriding the one before: {@code failover.defaults},
 * {@code failover.configs.default}, the client's {@code base-config}, {@code
 * failover.clients.<name>}, then {@link FailoverClientCustomizer} beans in order. A unique {@link
 * OkHttpClient} bean, if any, is what the clients build on. A client that sets {@code
 * discovery.service-id} takes its endpoints from the application's Spring Cloud DiscoveryClient.
 * With Spring Cloud Context on the class path, clients follow configuration changes at run time.
 */
@AutoConfiguration(
    afterName = "org.springframework.boot.restclient.autoconfigure.RestClientAutoConfiguration")
@ConditionalOnClass(FailoverClient.class)
@ConditionalOnProperty(prefix = "failover", name = "enabled", matchIfMissing = true)
@EnableConfigurationProperties(FailoverProperties.class)
@Import(FailoverClientsRegistrar.class)
public final class FailoverAutoConfiguration {

  /** Created by Spring. */
  public FailoverAutoConfiguration() {}

  @Bean
  @ConditionalOnMissingBean
  FailoverClientFactory failoverClientFactory(
      FailoverProperties properties,
      Environment environment,
      ObjectProvider<FailoverClientCustomizer> customizers,
      ObjectProvider<ClientInstrumentation> instrumentation,
      ObjectProvider<OkHttpClient> okHttpClient,
      ObjectProvider<EndpointSources> endpointSources) {
    return new FailoverClientFactory(
        properties, environment, customizers, instrumentation, okHttpClient, endpointSources);
  }

  /**
   * Endpoints from a service registry, for clients that set {@code discovery.service-id}: only with
   * Spring Cloud Commons on the class path.
   */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(name = "org.springframework.cloud.client.discovery.DiscoveryClient")
  static class DiscoveryClientConfiguration {

    @Bean
    @ConditionalOnMissingBean
    DiscoveryHeartbeats failoverDiscoveryHeartbeats() {
      return new DiscoveryHeartbeats();
    }

    @Bean
    @ConditionalOnMissingBean
    EndpointSources failoverEndpointSources(
        ObjectProvider<DiscoveryClient> discoveryClients, DiscoveryHeartbeats heartbeats) {
      return new SpringCloudEndpointSources(discoveryClients, heartbeats);
    }
  }

  /**
   * Clients follow configuration changes at run time: only with Spring Cloud Context (its {@code
   * EnvironmentChangeEvent}) on the class path.
   */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(name = "org.springframework.cloud.context.environment.EnvironmentChangeEvent")
  static class RefreshConfiguration {

    @Bean
    @ConditionalOnMissingBean
    FailoverRefreshListener failoverRefreshListener(FailoverClientFactory factory) {
      return new FailoverRefreshListener(factory);
    }
  }

  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(RestClientHttpServiceGroupConfigurer.class)
  static class HttpServiceGroupConfiguration {

    @Bean
    @ConditionalOnMissingBean(name = "failoverHttpServiceGroupConfigurer")
    RestClientHttpServiceGroupConfigurer failoverHttpServiceGroupConfigurer(
        FailoverClientFactory factory, BeanFactory beanFactory, Environment environment) {
      return new FailoverHttpServiceGroupConfigurer(factory, beanFactory, environment);
    }
  }
}
