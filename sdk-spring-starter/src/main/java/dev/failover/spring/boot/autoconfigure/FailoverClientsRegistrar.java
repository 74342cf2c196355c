package dev.failover.spring.boot.autoconfigure;

import dev.failover.FailoverClient;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.HierarchicalBeanFactory;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.beans.factory.config.AutowireCapableBeanFactory;
import org.springframework.beans.factory.config.BeanDefinition;
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
 * either name wins, and no definition is registered for it. The client beans are fallback beans:
 * the application's own FailoverClient bean for the same service, under any name, is what injection
 * by type finds, and what {@code <name>FailoverClient} returns (see {@link FailoverClientBeans}).
 *
 * <p>Each definition names a factory method ({@link FailoverClientBeans#failoverClient(String)},
 * {@link RestClientBeans#restClient(String)}) and the client's name as its argument, not an
 * instance supplier, so that Spring AOT can turn it into code. Under AOT this registrar runs at
 * build time only: which clients exist, and so their beans, is fixed then; their settings are bound
 * when the application starts.
 *
 * <p>In a child context (SpringApplicationBuilder's {@code child(...)}) no definition is registered
 * under a name an ancestor context already has a bean by: the child uses its parent's client and
 * RestClient, as it uses the parent's {@link FailoverClientFactory}. A second client of the same
 * name, built by that factory, would take the parent's client's place in it: its meters, its
 * configuration changes, and its end when the child closes.
 */
final class FailoverClientsRegistrar implements ImportBeanDefinitionRegistrar, EnvironmentAware {

  /** Suffix of the failover client bean of a client: {@code directoryFailoverClient}. */
  static final String CLIENT_SUFFIX = "FailoverClient";

  /** Suffix of the RestClient bean of a client: {@code directoryRestClient}. */
  static final String REST_CLIENT_SUFFIX = "RestClient";

  private @Nullable Environment environment;

  @Override
  public void setEnvironment(Environment environment) {
    this.environment = environment;
  }

  @Override
  public void registerBeanDefinitions(
      AnnotationMetadata importingClassMetadata, BeanDefinitionRegistry registry) {
    Environment env = Objects.requireNonNull(environment, "environment");
    Map<String, FailoverProperties.Client> clients =
        Binder.get(env)
            .bind("failover.clients", Bindable.mapOf(String.class, FailoverProperties.Client.class))
            .orElse(Map.of());
    if (clients.isEmpty()) {
      return;
    }
    boolean restClient =
        ClassUtils.isPresent(
            "org.springframework.web.client.RestClient",
            FailoverClientsRegistrar.class.getClassLoader());
    BeanFactory ancestors =
        registry instanceof HierarchicalBeanFactory h ? h.getParentBeanFactory() : null;
    for (String name : clients.keySet()) {
      String clientBean = name + CLIENT_SUFFIX;
      if (!registry.containsBeanDefinition(clientBean) && !inAncestor(ancestors, clientBean)) {
        registerFactory(registry, FailoverClientBeans.BEAN_NAME, FailoverClientBeans.class);
        RootBeanDefinition definition =
            clientDefinition(
                FailoverClient.class,
                FailoverClientBeans.BEAN_NAME,
                FailoverClientBeans.FACTORY_METHOD,
                name);
        // Closed by FailoverClientBeans, which knows whether the starter built it: no destroy
        // method here, where Spring would infer close() (a FailoverClient is Closeable) and close
        // the application's own client, which this bean may be, before that client's users.
        definition.setDestroyMethodName("");
        definition.setFallback(true);
        registry.registerBeanDefinition(clientBean, definition);
      }
      String restBean = name + REST_CLIENT_SUFFIX;
      if (restClient
          && !registry.containsBeanDefinition(restBean)
          && !inAncestor(ancestors, restBean)) {
        registerFactory(registry, RestClientBeans.BEAN_NAME, RestClientBeans.class);
        registry.registerBeanDefinition(
            restBean,
            clientDefinition(
                RestClient.class, RestClientBeans.BEAN_NAME, RestClientBeans.FACTORY_METHOD, name));
      }
    }
  }

  /** Whether an ancestor context has a bean called {@code name}. */
  private static boolean inAncestor(@Nullable BeanFactory ancestors, String name) {
    return ancestors != null && ancestors.containsBean(name);
  }

  /** A factory of client beans, built with the bean factory as its constructor argument. */
  private static void registerFactory(
      BeanDefinitionRegistry registry, String beanName, Class<?> type) {
    if (!registry.containsBeanDefinition(beanName)) {
      RootBeanDefinition definition = new RootBeanDefinition(type);
      definition.setAutowireMode(AutowireCapableBeanFactory.AUTOWIRE_CONSTRUCTOR);
      definition.setRole(BeanDefinition.ROLE_INFRASTRUCTURE);
      registry.registerBeanDefinition(beanName, definition);
    }
  }

  /**
   * A bean of {@code type} made by {@code factoryBean.factoryMethod(name)}, qualified {@code name}.
   */
  private static RootBeanDefinition clientDefinition(
      Class<?> type, String factoryBean, String factoryMethod, String name) {
    RootBeanDefinition definition = new RootBeanDefinition();
    definition.setTargetType(type);
    definition.setFactoryBeanName(factoryBean);
    definition.setFactoryMethodName(factoryMethod);
    definition.getConstructorArgumentValues().addIndexedArgumentValue(0, name);
    definition.addQualifier(new AutowireCandidateQualifier(Qualifier.class, name));
    return definition;
  }
}
