package dev.failover.spring.boot.autoconfigure;

import dev.failover.FailoverClient;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.core.Ordered;
import org.springframework.core.env.Environment;
import org.springframework.web.client.RestClient;
import org.springframework.web.client.support.RestClientHttpServiceGroupConfigurer;
import org.springframework.web.service.registry.HttpServiceGroup;

/**
 * Routes every HTTP service group named like a failover client through that client (the bean {@code
 * <group>FailoverClient}, configured or your own): for {@code @ImportHttpServices(group =
 * "directory", types = DirectoryClient.class)} and {@code failover.clients.directory}, the group's
 * RestClient gets the failover client as its request factory and {@code http://directory} as its
 * base URL (unless {@code spring.http.serviceclient.directory.base-url} sets one, such as {@code
 * http://directory/api}).
 *
 * <p>It runs after Boot's own properties configurer (which sets a request factory on every group)
 * and before configurers of the default order, so applications can still change a group.
 */
final class FailoverHttpServiceGroupConfigurer implements RestClientHttpServiceGroupConfigurer {

  /** After Boot's PropertiesRestClientHttpServiceGroupConfigurer (HIGHEST_PRECEDENCE + 10). */
  static final int ORDER = Ordered.HIGHEST_PRECEDENCE + 20;

  private final FailoverClientFactory factory;
  private final BeanFactory beanFactory;
  private final Environment environment;

  FailoverHttpServiceGroupConfigurer(
      FailoverClientFactory factory, BeanFactory beanFactory, Environment environment) {
    this.factory = factory;
    this.beanFactory = beanFactory;
    this.environment = environment;
  }

  @Override
  public int getOrder() {
    return ORDER;
  }

  @Override
  public void configureGroups(Groups<RestClient.Builder> groups) {
    groups.filter(this::hasClient).forEachClient(this::configure);
  }

  /**
   * A configured client, or a user-defined FailoverClient bean named {@code <group>FailoverClient}.
   */
  private boolean hasClient(HttpServiceGroup group) {
    return factory.clientNames().contains(group.name())
        || beanFactory.containsBean(group.name() + FailoverClientsRegistrar.CLIENT_SUFFIX);
  }

  private void configure(HttpServiceGroup group, RestClient.Builder builder) {
    FailoverClient client =
        beanFactory.getBean(
            group.name() + FailoverClientsRegistrar.CLIENT_SUFFIX, FailoverClient.class);
    builder.requestFactory(new CallFactoryClientHttpRequestFactory(client));
    if (!environment.containsProperty("spring.http.serviceclient." + group.name() + ".base-url")) {
      builder.baseUrl("http://" + client.service());
    }
  }
}
