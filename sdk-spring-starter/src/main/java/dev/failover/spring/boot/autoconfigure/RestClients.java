package dev.failover.spring.boot.autoconfigure;

import dev.failover.FailoverClient;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.web.client.RestClient;

/** Builds the RestClient of a failover client. Kept apart so RestClient stays optional. */
final class RestClients {
  private RestClients() {}

  /**
   * Returns a RestClient whose calls go through the failover client called {@code name}: built from
   * Boot's {@code RestClient.Builder} when there is one (message converters, observations, {@code
   * RestClientCustomizer}s), with the base URL {@code http://<name>}.
   */
  static RestClient create(BeanFactory beanFactory, String name) {
    FailoverClient client =
        beanFactory.getBean(name + FailoverClientsRegistrar.CLIENT_SUFFIX, FailoverClient.class);
    RestClient.Builder builder =
        beanFactory.getBeanProvider(RestClient.Builder.class).getIfAvailable(RestClient::builder);
    return builder
        .baseUrl("http://" + client.service())
        .requestFactory(new CallFactoryClientHttpRequestFactory(client))
        .build();
  }
}
