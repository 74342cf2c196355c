package dev.failover.spring.boot.autoconfigure;

import dev.failover.FailoverClient;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * Customizes the builder of a failover client after the {@code failover.*} properties were applied,
 * and before the client is built.
 *
 * <p>Settings come from these places, each overriding the ones before: {@code failover.defaults},
 * {@code failover.configs.default}, the client's {@code base-config}, {@code
 * failover.clients.<name>}, then every customizer bean, in {@link
 * org.springframework.core.annotation.Order @Order} / {@link org.springframework.core.Ordered}
 * order. A customizer made with {@link #forClient(String, Consumer)} changes one client; any other
 * sees every client and gets its name.
 *
 * <pre>{@code
 * @Bean
 * FailoverClientCustomizer directoryDeadline() {
 *   return FailoverClientCustomizer.forClient(
 *       "directory", builder -> builder.deadline(Duration.ofMillis(800)));
 * }
 *
 * @Bean
 * FailoverClientCustomizer everyClient(MyListener listener) {
 *   return (name, builder) -> builder.listener(listener);
 * }
 * }</pre>
 *
 * <p>Customizers run again when the configuration changes at run time (Spring Cloud's refresh), on
 * a builder made afresh from the properties, so that a change never stacks on an earlier one.
 *
 * <p>A customizer of one client may take another client's {@code RestClient} in its bean method (a
 * customizer of {@code directory} that fetches tokens with the {@code auth} client). One that takes
 * the {@code RestClient} of a client it customizes itself fails start-up: take an {@code
 * ObjectProvider<RestClient>} and get the client when it is used.
 */
@FunctionalInterface
public interface FailoverClientCustomizer {

  /**
   * Customizes the builder of one client.
   *
   * @param clientName the client's name, the key under {@code failover.clients}
   * @param builder the builder, with the properties already applied
   */
  void customize(String clientName, FailoverClient.Builder builder);

  /**
   * Returns a customizer of one client only, as Resilience4j's {@code
   * CircuitBreakerConfigCustomizer.of(name, ...)}. Start-up fails if no client of that name is
   * configured under {@code failover.clients}, since the name is then most likely misspelt.
   *
   * @param clientName the client's name, the key under {@code failover.clients}
   * @param customizer what to do to that client's builder
   * @return a customizer that leaves every other client alone
   */
  static FailoverClientCustomizer forClient(
      String clientName, Consumer<FailoverClient.Builder> customizer) {
    return new ClientCustomizer(
        Objects.requireNonNull(clientName, "clientName"),
        Objects.requireNonNull(customizer, "customizer"));
  }
}
