package dev.failover.spring.boot.autoconfigure;

import dev.failover.FailoverClient;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import org.springframework.beans.factory.ListableBeanFactory;

/**
 * The failover clients of the context under the names the Actuator endpoint and the health
 * contributor give them. Each client configured under {@code failover.clients.<name>} is its {@code
 * <name>FailoverClient} bean, under {@code <name>}: the client the starter built (or the
 * application's own client that stands for it), which {@code @Qualifier("<name>")} injects. Every
 * other singleton {@link FailoverClient} bean, such as a variant the application builds from a
 * configured client with {@code newBuilder()} (whose service is the same), is listed under its bean
 * name. A bean whose name is that of a configured client, and is not that client, is not listed.
 * Names are not matched by {@link FailoverClient#service()}, which such variants share.
 */
final class NamedClients {
  private final ListableBeanFactory beans;

  NamedClients(ListableBeanFactory beans) {
    this.beans = beans;
  }

  /** The names of the clients configured at start, in the order configured. */
  private Set<String> configured() {
    FailoverClientFactory factory =
        beans.getBeanProvider(FailoverClientFactory.class).getIfUnique();
    return factory == null ? Set.of() : factory.startNames();
  }

  /**
   * Every client by name: the configured ones first, in the order configured, then the others in
   * the order of their bean definitions; each object once.
   */
  Map<String, FailoverClient> all() {
    Map<String, FailoverClient> byName = new LinkedHashMap<>();
    Set<FailoverClient> seen = Collections.newSetFromMap(new IdentityHashMap<>());
    for (String name : configured()) {
      FailoverClient client = configuredClient(name);
      if (client != null) {
        byName.put(name, client);
        seen.add(client);
      }
    }
    for (String bean : beans.getBeanNamesForType(FailoverClient.class, false, true)) {
      if (!byName.containsKey(bean)) {
        FailoverClient client = beans.getBean(bean, FailoverClient.class);
        if (seen.add(client)) {
          byName.put(bean, client);
        }
      }
    }
    return byName;
  }

  /** The client listed under {@code name}, or null. */
  @Nullable FailoverClient get(String name) {
    return all().get(name);
  }

  private @Nullable FailoverClient configuredClient(String name) {
    String bean = name + FailoverClientsRegistrar.CLIENT_SUFFIX;
    return beans.containsBean(bean) ? beans.getBean(bean, FailoverClient.class) : null;
  }
}
