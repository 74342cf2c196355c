package dev.failover.spring.boot.autoconfigure;

import org.springframework.beans.factory.BeanFactory;
import org.springframework.web.client.RestClient;

/**
 * The factory of the {@code <name>RestClient} beans, as {@link FailoverClientBeans} is of the
 * clients; apart from it so that RestClient stays optional.
 */
final class RestClientBeans {

  /** Name of this bean; an infrastructure bean that applications do not inject. */
  static final String BEAN_NAME = "dev.failover.spring.boot.autoconfigure.RestClientBeans";

  /** Name of the factory method of the RestClient beans. */
  static final String FACTORY_METHOD = "restClient";

  private final BeanFactory beanFactory;

  RestClientBeans(BeanFactory beanFactory) {
    this.beanFactory = beanFactory;
  }

  /** Returns the RestClient over the failover client called {@code name}. */
  RestClient restClient(String name) {
    return RestClients.create(beanFactory, name);
  }
}
