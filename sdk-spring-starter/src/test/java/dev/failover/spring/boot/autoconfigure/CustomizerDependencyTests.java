package dev.failover.spring.boot.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import dev.failover.FailoverClient;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.ApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.annotation.Order;
import org.springframework.web.client.RestClient;

/**
 * A customizer of one client may use another client (an auth client's RestClient to fetch the
 * directory client's tokens); a customizer that needs the very client it customizes fails start-up
 * naming the cycle and the way out.
 */
class CustomizerDependencyTests {
  private static final Duration CUSTOMIZED = Duration.ofMillis(700);

  private final ApplicationContextRunner runner =
      new ApplicationContextRunner()
          .withConfiguration(AutoConfigurations.of(FailoverAutoConfiguration.class))
          .withPropertyValues(
              "failover.home.region=r",
              "failover.home.zone=z1",
              "failover.clients.auth.endpoints[0].url=http://127.0.0.1:1",
              "failover.clients.auth.endpoints[0].region=r",
              "failover.clients.auth.endpoints[0].zone=z1",
              "failover.clients.directory.endpoints[0].url=http://127.0.0.1:2",
              "failover.clients.directory.endpoints[0].region=r",
              "failover.clients.directory.endpoints[0].zone=z1");

  @Configuration(proxyBeanMethods = false)
  static class DirectoryTokensFromAuth {
    @Bean
    FailoverClientCustomizer directoryTokens(@Qualifier("auth") RestClient auth) {
      return FailoverClientCustomizer.forClient("directory", b -> b.deadline(CUSTOMIZED));
    }
  }

  /** A bean using the directory client, created before the customizer. */
  @Configuration(proxyBeanMethods = false)
  static class DirectoryUser {
    @Bean
    Object directoryUser(@Qualifier("directory") RestClient directory) {
      return directory;
    }
  }

  /** A bean using the auth client, created before the customizer. */
  @Configuration(proxyBeanMethods = false)
  static class AuthUser {
    @Bean
    Object authUser(@Qualifier("auth") RestClient auth) {
      return auth;
    }
  }

  /** Nothing of its own: the customizer is created first. */
  @Configuration(proxyBeanMethods = false)
  static class NoUser {}

  @ParameterizedTest
  @ValueSource(classes = {NoUser.class, DirectoryUser.class, AuthUser.class})
  void aCustomizerOfOneClientMayUseAnotherClientWhateverIsCreatedFirst(Class<?> first) {
    runner
        .withUserConfiguration(first, DirectoryTokensFromAuth.class)
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              assertThat(deadline(context, "directory")).isEqualTo(CUSTOMIZED);
              assertThat(deadline(context, "auth")).isNotEqualTo(CUSTOMIZED);
            });
  }

  /** Declared in the reverse of their order. */
  @Configuration(proxyBeanMethods = false)
  static class OrderedCustomizers {
    @Bean
    @Order(2)
    FailoverClientCustomizer second() {
      return (name, b) -> b.deadline(Duration.ofSeconds(2));
    }

    @Bean
    @Order(1)
    FailoverClientCustomizer first() {
      return (name, b) -> b.deadline(Duration.ofSeconds(1));
    }
  }

  /**
   * Built while a customizer that needs it cannot be created yet, the auth client still gets the
   * other customizers in their order.
   */
  @Test
  void theOtherCustomizersKeepTheirOrder() {
    runner
        .withUserConfiguration(
            AuthUser.class, DirectoryTokensFromAuth.class, OrderedCustomizers.class)
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              assertThat(deadline(context, "auth")).isEqualTo(Duration.ofSeconds(2));
              assertThat(deadline(context, "directory")).isEqualTo(CUSTOMIZED);
            });
  }

  @Configuration(proxyBeanMethods = false)
  static class EveryClientUsingAuth {
    @Bean
    FailoverClientCustomizer everyClient(@Qualifier("auth") RestClient auth) {
      return (name, b) -> b.deadline(CUSTOMIZED);
    }
  }

  @Test
  void aCustomizerThatNeedsAClientItCustomizesFailsNamingTheCycle() {
    runner
        .withUserConfiguration(EveryClientUsingAuth.class)
        .run(
            context -> {
              FailureAnalysis analysis = FailoverFailureAnalyzerTests.analysis(context);
              assertThat(analysis.getDescription())
                  .contains("Property: failover.clients.auth\n")
                  .contains("'everyClient'");
              assertThat(analysis.getAction()).contains("ObjectProvider<RestClient>");
            });
  }

  @Configuration(proxyBeanMethods = false)
  static class EveryClientUsingAuthLater {
    @Bean
    FailoverClientCustomizer everyClient(@Qualifier("auth") ObjectProvider<RestClient> auth) {
      return (name, b) -> b.deadline(CUSTOMIZED);
    }
  }

  /** The advice of the failure: an ObjectProvider looks the client up when it is used. */
  @Test
  void aCustomizerThatLooksTheClientUpLaterCustomizesItToo() {
    runner
        .withUserConfiguration(EveryClientUsingAuthLater.class)
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              assertThat(deadline(context, "auth")).isEqualTo(CUSTOMIZED);
            });
  }

  private static Duration deadline(ApplicationContext context, String client) {
    return context.getBean(client + "FailoverClient", FailoverClient.class).settings().deadline();
  }
}
