package dev.failover.spring.boot.autoconfigure;

import dev.failover.FailoverClient;

/**
 * Customizes the builder of a failover client after the {@code failover.*} properties were applied,
 * and before the client is built.
 *
 * <p>Settings come from three places, each overriding the one before: {@code failover.defaults},
 * {@code failover.clients.<name>}, then every customizer bean, in {@link
 * org.springframework.core.annotation.Order @Order} / {@link org.springframework.core.Ordered}
 * order. Customizers see every client; check the name to change one.
 *
 * <pre>{@code
 * @Bean
 * FailoverClientCustomizer directoryDeadline() {
 *   return (name, builder) -> {
 *     if (name.equals("directory")) {
 *       builder.deadline(Duration.ofMillis(800));
 *     }
 *   };
 * }
 * }</pre>
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
}
