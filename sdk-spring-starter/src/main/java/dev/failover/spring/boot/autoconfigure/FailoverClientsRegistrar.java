package dev.failover.spring.boot.autoconfigure;

import dev.failover.FailoverClient;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import org.springframework.beans.BeansException;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.BeanFactoryAware;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.beans.factory.support.AutowireCandidateQualifier;
import org.springframework.beans.factory.support.BeanDefinitionRegistry;
import org.springframework.beans.factory.support.RootBeanDefinition;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.EnvironmentAware;
import org.springframework.context.annotation.ImportBeanDefinitionRegistrar;
import org.springframework.core.env.Environment;
import org.springframework.core.type.AnnotationMetadata;
import org.springframework.util.ClassUtils;
import org.springframework.web.client.RestClient;

/**
 * Registers, for each {@code failover.clients.<name>}, a {@link FailoverClient} bean called {@code
 * <name>FailoverClient} (closed with the context) and a {@link RestClient} bean called {@code
 * <name>RestClient}, both qualified {@code @Qualifier("<name>")}. A bean already defined under
 * either name wins, and no definition is registered for it.
 */
final class FailoverClientsRegistrar
    implements ImportBeanDefinitionRegistrar, EnvironmentAware, BeanFactoryAware {

  /** Suffix of the failover client bean of a client: {@code directoryFailoverClient}. */
  static final String CLIENT_SUFFIX = "FailoverClient";

  /** Suffix of the RestClient bean of a client: {@code directoryRestClient}. */
  static final String REST_CLIENT_SUFFIX = "RestClient";

  private @Nullable Environment environment;
  private @Nullable BeanFactory beanFactory;

  @Override
  public void setEnvironment(Environment environment) {
    this.environment = environment;
  }

  @Override
  public void setBeanFactory(BeanFactory beanFactory) throws BeansException {
    this.beanFactory = beanFactory;
  }

  @Override
  public void registerBeanDefinitions(
      AnnotationMetadata importingClassMetadata, BeanDefinitionRegistry registry) {
    Environment env = Objects.requireNonNull(environment, "environment");
    BeanFactory factory = Objects.requireNonNull(beanFactory, "beanFactory");
    Map<String, FailoverProperties.Client> clients =
        Binder.get(env)
            .bind("failover.clients", Bindable.mapOf(String.class, FailoverProperties.Client.class))
            .orElse(Map.of());
    boolean restClient =
        ClassUtils.isPresent(
            "org.springframework.web.client.RestClient",
            FailoverClientsRegistrar.class.getClassLoader());
    for (String name : clients.keySet()) {
      String clientBean = name + CLIENT_SUFFIX;
      if (!registry.containsBeanDefinition(clientBean)) {
        RootBeanDefinition definition =
            new RootBeanDefinition(
                FailoverClient.class,
                () -> factory.getBean(FailoverClientFactory.class).create(name));
        definition.setDestroyMethodName("close");
        definition.addQualifier(new AutowireCandidateQualifier(Qualifier.class, name));
        registry.registerBeanDefinition(clientBean, definition);
      }
      String restBean = name + REST_CLIENT_SUFFIX;
      if (restClient && !registry.containsBeanDefinition(restBean)) {
        RootBeanDefinition definition =
            new RootBeanDefinition(RestClient.class, () -> RestClients.create(factory, name));
        definition.addQualifier(new AutowireCandidateQualifier(Qualifier.class, name));
        registry.registerBeanDefinition(restBean, definition);
      }
    }
  }
}
