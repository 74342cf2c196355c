package dev.failover.spring.boot.autoconfigure;

import dev.failover.FailoverClient;
import org.springframework.beans.factory.BeanFactory;

/**
 * The factory of the {@code <name>FailoverClient} beans: {@link FailoverClientsRegistrar} defines
 * each of them by this bean's name, the factory method {@link #failoverClient(String)} and the
 * client's name as its argument. Spring AOT can generate code for such a definition, not for an
 * instance supplier.
 */
final class FailoverClientBeans {

  /** Name of this bean; an infrastructure bean that applications do not inject. */
  static final String BEAN_NAME = "dev.failover.spring.boot.autoconfigure.FailoverClientBeans";

  /** Name of the factory method of the client beans. */
  static final String FACTORY_METHOD = "failoverClient";

  private final BeanFactory beanFactory;

  FailoverClientBeans(BeanFactory beanFactory) {
    this.beanFactory = beanFactory;
  }

  /**
   * Builds the client called {@code name}.
   *
   * @throws FailoverConfigurationException if a property is wrong
   */
  FailoverClient failoverClient(String name) {
    return beanFactory.getBean(FailoverClientFactory.class).create(name);
  }
}
