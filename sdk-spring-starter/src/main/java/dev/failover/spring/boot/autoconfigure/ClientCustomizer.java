package dev.failover.spring.boot.autoconfigure;

import dev.failover.FailoverClient;
import java.util.function.Consumer;

/**
 * A customizer of one client, made by {@link FailoverClientCustomizer#forClient}.
 *
 * @param clientName the client it changes
 * @param customizer what it does to that client's builder
 */
record ClientCustomizer(String clientName, Consumer<FailoverClient.Builder> customizer)
    implements FailoverClientCustomizer {
  @Override
  public void customize(String name, FailoverClient.Builder builder) {
    if (clientName.equals(name)) {
      customizer.accept(builder);
    }
  }
}
