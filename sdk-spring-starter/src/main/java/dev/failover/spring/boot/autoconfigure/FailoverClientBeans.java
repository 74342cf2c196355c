package dev.failover.spring.boot.autoconfigure;

import dev.failover.FailoverClient;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.BeanCreationException;
import org.springframework.beans.factory.BeanCurrentlyInCreationException;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.BeanFactoryUtils;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.beans.factory.config.ConfigurableBeanFactory;
import org.springframework.scheduling.TaskScheduler;
import org.springframework.scheduling.concurrent.ExecutorConfigurationSupport;

/**
 * The factory of the {@code <name>FailoverClient} beans: {@link FailoverClientsRegistrar} defines
 * each of them by this bean's name, the factory method {@link #failoverClient(String)} and the
 * client's name as its argument. Spring AOT can generate code for such a definition, not for an
 * instance supplier.
 *
 * <p>When the application defines a {@link FailoverClient} bean of its own for the service, under
 * any name, the starter builds none: {@code <name>FailoverClient} is then that bean (the starter's
 * definitions are fallback beans, so injection by type picks the application's). It closes, when
 * the context closes, only the clients it built, after every bean that uses them: the task
 * executors and schedulers of the context count as such, since their tasks may be calling through a
 * client (see {@link #closeExecutorsFirst()}).
 */
final class FailoverClientBeans implements DisposableBean, SmartInitializingSingleton {
  private static final Logger LOG = LoggerFactory.getLogger(FailoverClientBeans.class);

  /** Name of this bean; an infrastructure bean that applications do not inject. */
  static final String BEAN_NAME = "dev.failover.spring.boot.autoconfigure.FailoverClientBeans";

  /** Name of the factory method of the client beans. */
  static final String FACTORY_METHOD = "failoverClient";

  /**
   * The beans that run tasks, which may call through a client: executors ({@code
   * applicationTaskExecutor}, an ExecutorService), schedulers ({@code taskScheduler}) and the
   * factory beans that make them (ThreadPoolExecutorFactoryBean).
   */
  private static final List<Class<?>> EXECUTOR_TYPES =
      List.of(Executor.class, TaskScheduler.class, ExecutorConfigurationSupport.class);

  private final BeanFactory beanFactory;

  /** The clients built here, and the factory that built them; guarded by this. */
  private final List<FailoverClient> built = new ArrayList<>();

  private @Nullable FailoverClientFactory factory;

  FailoverClientBeans(BeanFactory beanFactory) {
    this.beanFactory = beanFactory;
  }

  /**
   * Returns the client called {@code name}: the application's own bean for that service if there is
   * one, else a client built from the properties.
   *
   * @throws FailoverConfigurationException if a property is wrong
   */
  FailoverClient failoverClient(String name) {
    String beanName = name + FailoverClientsRegistrar.CLIENT_SUFFIX;
    if (beanFactory instanceof ConfigurableBeanFactory c) {
      // The bean depends on this one, also when AOT replaced the factory method by a supplier:
      // this bean is destroyed (closing the client) only after the bean and its users.
      c.registerDependentBean(BEAN_NAME, beanName);
    }
    FailoverClientFactory f = beanFactory.getBean(FailoverClientFactory.class);
    FailoverClient mine = applicationClient(name, f);
    if (mine != null) {
      return mine;
    }
    FailoverClient client = f.create(name);
    synchronized (this) {
      factory = f;
      built.add(client);
    }
    closeExecutorsFirst();
    return client;
  }

  /** Executors defined once the singletons exist (registered by hand during start-up) too. */
  @Override
  public void afterSingletonsInstantiated() {
    boolean any;
    synchronized (this) {
      any = !built.isEmpty();
    }
    if (any) {
      closeExecutorsFirst();
    }
  }

  /**
   * Makes every task executor and scheduler bean of this context a dependent of this bean, so that
   * Spring destroys it before this bean closes the clients. Destroying such a bean stops it, and
   * waits for its tasks when told to ({@code spring.task.execution.shutdown.await-termination},
   * {@code setWaitForTasksToCompleteOnShutdown}): a task with a call in flight when the context
   * closes completes it, as with any other HTTP client. Without this, an executor created before
   * this bean (Boot's {@code applicationTaskExecutor}, an application's own) is destroyed after it,
   * and its tasks' calls are cancelled. An executor that itself needs this bean (one that uses a
   * client the starter builds) is destroyed before it already, and one this bean needs is left
   * alone; beans of an ancestor context are that context's.
   */
  private void closeExecutorsFirst() {
    if (!(beanFactory instanceof ConfigurableBeanFactory c)
        || !(beanFactory instanceof ListableBeanFactory beans)) {
      return;
    }
    for (Class<?> type : EXECUTOR_TYPES) {
      // Only the names: no bean is created here, nor a FactoryBean to learn what it makes.
      for (String name : beans.getBeanNamesForType(type, false, false)) {
        String executor = BeanFactoryUtils.transformedBeanName(name);
        if (!executor.equals(BEAN_NAME) && !dependsOn(c, BEAN_NAME, executor)) {
          c.registerDependentBean(BEAN_NAME, executor);
        }
      }
    }
  }

  /** Whether {@code bean} is, directly or not, a dependent of {@code dependency}. */
  private static boolean dependsOn(ConfigurableBeanFactory c, String bean, String dependency) {
    Set<String> seen = new HashSet<>();
    Deque<String> todo = new ArrayDeque<>();
    todo.add(dependency);
    while (!todo.isEmpty()) {
      String next = todo.poll();
      if (seen.add(next)) {
        for (String dependent : c.getDependentBeans(next)) {
          if (dependent.equals(bean)) {
            return true;
          }
          todo.add(dependent);
        }
      }
    }
    return false;
  }

  /**
   * The application's own FailoverClient bean for service {@code name}, whatever its bean name, or
   * null. Every singleton FailoverClient bean that is not a configured client's {@code
   * <client>FailoverClient} is created to read its service, except one that cannot be created yet
   * because it needs a bean being created, such as this client: a variant the application builds
   * from it ({@code @Qualifier("<name>") FailoverClient c} and {@code c.newBuilder()...build()}) is
   * not the client of the service. Spring creates that bean later; any other failure to create a
   * bean is thrown.
   */
  private @Nullable FailoverClient applicationClient(String name, FailoverClientFactory f) {
    if (!(beanFactory instanceof ListableBeanFactory beans)) {
      return null;
    }
    Set<String> configured =
        f.clientNames().stream()
            .map(n -> n + FailoverClientsRegistrar.CLIENT_SUFFIX)
            .collect(Collectors.toSet());
    for (String bean : beans.getBeanNamesForType(FailoverClient.class, false, false)) {
      if (configured.contains(bean)) {
        continue;
      }
      FailoverClient client;
      try {
        client = beans.getBean(bean, FailoverClient.class);
      } catch (BeanCreationException e) {
        // Thrown as is when the bean itself is being created, wrapped (such as in an
        // UnsatisfiedDependencyException) when it needs one that is, such as this client.
        if (e.contains(BeanCurrentlyInCreationException.class)) {
          continue; // it needs this client: it cannot be the one for this service
        }
        throw e;
      }
      if (client.service().equals(name)) {
        if (beanFactory instanceof ConfigurableBeanFactory c) {
          // Users of <name>FailoverClient use that bean: it must outlive them.
          c.registerDependentBean(bean, name + FailoverClientsRegistrar.CLIENT_SUFFIX);
        }
        LOG.info(
            "failover.clients.{}: using the application's FailoverClient bean '{}' for service"
                + " '{}'; the starter builds none",
            name,
            bean,
            name);
        return client;
      }
    }
    return null;
  }

  /**
   * Closes the clients built here, last built first, each once its instrumentation is unbound (its
   * meters removed from the registry), then empties the pools made for them.
   */
  @Override
  public void destroy() {
    List<FailoverClient> clients;
    FailoverClientFactory f;
    synchronized (this) {
      clients = new ArrayList<>(built);
      built.clear();
      f = factory;
    }
    for (int i = clients.size() - 1; i >= 0; i--) {
      try {
        if (f != null) {
          f.unbind(clients.get(i)); // its meters leave the registry, which may outlive the context
        }
        clients.get(i).close();
      } catch (RuntimeException e) {
        LOG.warn("closing failover client '{}' failed", clients.get(i).service(), e);
      }
    }
    if (f != null) {
      f.release();
    }
  }
}
