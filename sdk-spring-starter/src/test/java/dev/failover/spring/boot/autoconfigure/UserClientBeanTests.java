package dev.failover.spring.boot.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.failover.FailoverClient;
import dev.failover.FailoverSnapshot;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import okhttp3.Request;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.health.contributor.CompositeHealthContributor;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The application's own FailoverClient bean for a service makes the starter build none for it,
 * whatever the bean's name; the starter never closes it, and closes its own clients only after the
 * beans that use them.
 */
class UserClientBeanTests {

  private final ApplicationContextRunner runner =
      new ApplicationContextRunner()
          .withConfiguration(AutoConfigurations.of(FailoverAutoConfiguration.class))
          .withPropertyValues(FailoverAutoConfigurationTests.DIRECTORY)
          .withPropertyValues(FailoverAutoConfigurationTests.GROUPS);

  /** Every client this test's JVM built and has not closed, seen by their threads. */
  private static Set<String> liveClientThreads(String service) {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(Thread::isAlive)
        .map(Thread::getName)
        .filter(n -> n.startsWith("failover-" + service + "-"))
        .collect(Collectors.toSet());
  }

  @Test
  void theApplicationsBeanForAServiceIsTheClientWhateverItsName() {
    runner
        .withUserConfiguration(
            MyDirectory.class, FailoverAutoConfigurationTests.QualifiedInjection.class)
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              FailoverClient mine = context.getBean("myDirectory", FailoverClient.class);
              // By name, by qualifier and by the RestClient: the application's client.
              assertThat(context.getBean("directoryFailoverClient")).isSameAs(mine);
              assertThat(
                      context
                          .getBean(FailoverAutoConfigurationTests.QualifiedInjection.Holder.class)
                          .client())
                  .isSameAs(mine);
              assertThat(mine.endpoints())
                  .singleElement()
                  .satisfies(e -> assertThat(e.address()).isEqualTo("http://127.0.0.1:9"));
              assertThat(context).hasBean("directoryRestClient");
              // The other client is the starter's.
              FailoverClient groups = context.getBean("groupsFailoverClient", FailoverClient.class);
              assertThat(groups).isNotSameAs(mine);
              assertThat(groups.endpoints().get(0).address()).isEqualTo("http://127.0.0.1:4");
              // One directory client was built, not two: only the application's runs threads
              // (its scheduler); the starter built none from failover.clients.directory.
              assertThat(
                      context.getBeansOfType(FailoverClient.class).values().stream()
                          .filter(c -> c.service().equals("directory"))
                          .distinct())
                  .containsExactly(mine);
            });
  }

  @Test
  void theHealthContributorListsTheApplicationsClientOnce() {
    runner
        .withConfiguration(AutoConfigurations.of(FailoverHealthContributorAutoConfiguration.class))
        .withPropertyValues("management.health.failover.enabled=true")
        .withUserConfiguration(MyDirectory.class)
        .run(
            context -> {
              org.springframework.boot.health.contributor.CompositeHealthContributor composite =
                  context.getBean(
                      "failoverHealthContributor",
                      org.springframework.boot.health.contributor.CompositeHealthContributor.class);
              List<String> names = new ArrayList<>();
              composite.stream().forEach(e -> names.add(e.name()));
              // The application's client backs the starter's bean for "directory": one entry.
              assertThat(names).containsExactlyInAnyOrder("directory", "groups");
            });
  }

  @Test
  void injectionByTypePrefersTheApplicationsClient() {
    runner
        .withUserConfiguration(MyDirectory.class, ByType.class)
        .run(
            context ->
                assertThat(context.getBean(ByType.Injected.class).client())
                    .isSameAs(context.getBean("myDirectory")));
  }

  @Test
  void theStarterClosesNeitherTheApplicationsClientEarlyNorItsOwnBeforeTheirUsers() {
    List<String> closing = new ArrayList<>();
    List<FailoverClient> clients = new ArrayList<>();
    runner
        .withUserConfiguration(MyDirectory.class)
        .withBean(
            "userOfBoth",
            UserOfBoth.class,
            () -> new UserOfBoth(closing),
            d -> d.setDestroyMethodName("close"))
        .run(
            context -> {
              UserOfBoth user = context.getBean(UserOfBoth.class);
              user.directory = context.getBean("directoryFailoverClient", FailoverClient.class);
              user.groups = context.getBean("groupsFailoverClient", FailoverClient.class);
              clients.add(user.directory);
              clients.add(user.groups);
              context
                  .getBeanFactory()
                  .registerDependentBean("directoryFailoverClient", "userOfBoth");
              context.getBeanFactory().registerDependentBean("groupsFailoverClient", "userOfBoth");
            });
    // When the user closed, both clients still took calls.
    assertThat(closing).containsExactly("directory: open", "groups: open");
    Request request = new Request.Builder().url("http://groups/x").build();
    assertThatThrownBy(() -> clients.get(1).newCall(request))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("FailoverClient 'groups' is closed");
    assertThat(liveClientThreads("groups")).isEmpty();
    // The application's client was closed by its own bean's destroy method (inferred close()).
    assertThatThrownBy(
            () -> clients.get(0).newCall(new Request.Builder().url("http://directory/x").build()))
        .isInstanceOf(IllegalStateException.class);
  }

  /**
   * The starter never closes the application's client: an application that closes it itself (here
   * {@code destroyMethod = ""}, as it would to close it after its own users) finds it open when the
   * context has closed. Before, Spring inferred close() on {@code directoryFailoverClient}, which
   * is that same object, and closed it before the beans that use it by type.
   */
  @Test
  void theStarterNeverClosesTheApplicationsClient() {
    List<FailoverClient> clients = new ArrayList<>();
    runner
        .withUserConfiguration(MyDirectoryClosedByTheApplication.class)
        .run(
            context -> {
              FailoverClient mine = context.getBean("myDirectory", FailoverClient.class);
              assertThat(context.getBean("directoryFailoverClient")).isSameAs(mine);
              clients.add(mine);
            });
    Request request = new Request.Builder().url("http://directory/x").build();
    try (FailoverClient mine = clients.get(0)) {
      assertThat(mine.newCall(request)).isNotNull();
    }
    assertThatThrownBy(() -> clients.get(0).newCall(request))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("FailoverClient 'directory' is closed");
  }

  /**
   * A variant the application builds from the starter's client (docs/configuration.md's {@code
   * newBuilder()} pattern) is not the client of the service, whichever bean Spring creates first:
   * before, a bean that needs the starter's client, created before the variant, made the starter
   * create the variant, which needs that client too, and start-up failed.
   */
  @Test
  void aVariantBuiltFromTheStartersClientIsNotTheClientOfTheService() {
    for (Class<?> configuration : List.of(UserThenVariant.class, VariantThenUser.class)) {
      runner
          .withUserConfiguration(configuration)
          .run(
              context -> {
                assertThat(context).as("%s", configuration.getSimpleName()).hasNotFailed();
                FailoverClient starters =
                    context.getBean("directoryFailoverClient", FailoverClient.class);
                FailoverClient slow = context.getBean("slowDirectory", FailoverClient.class);
                // The starter built the client of the service from the properties; the user of
                // @Qualifier("directory") has it, and the variant is another client, built on it.
                assertThat(context.getBean("user", UsesDirectory.class).client())
                    .isSameAs(starters);
                assertThat(slow).isNotSameAs(starters);
                assertThat(slow.service()).isEqualTo("directory");
                assertThat(starters.settings().deadline()).isEqualTo(Duration.ofSeconds(10));
                assertThat(slow.settings().deadline()).isEqualTo(Duration.ofSeconds(30));
                assertThat(slow.endpoints()).isEqualTo(starters.endpoints());
                Request request = new Request.Builder().url("http://directory/x").build();
                assertThat(starters.newCall(request)).isNotNull();
                assertThat(slow.newCall(request)).isNotNull();
              });
    }
  }

  /**
   * The Actuator endpoint and the health contributor name the client the starter built from {@code
   * failover.clients.directory} {@code directory}, whatever order Spring creates the beans in, and
   * list a variant built from it (whose service is also {@code directory}) under its bean name: a
   * shift of {@code directory} shifts the client the application's beans use, not the variant.
   */
  @Test
  void theEndpointAndHealthNameTheStartersClientDirectoryAndAVariantByItsBeanName() {
    for (Class<?> configuration : List.of(UserThenVariant.class, VariantThenUser.class)) {
      runner
          .withConfiguration(
              AutoConfigurations.of(
                  FailoverEndpointAutoConfiguration.class,
                  FailoverHealthContributorAutoConfiguration.class))
          .withPropertyValues(
              "management.endpoints.web.exposure.include=failover",
              "management.health.failover.enabled=true")
          .withUserConfiguration(configuration)
          .run(
              context -> {
                String name = configuration.getSimpleName();
                FailoverClient starters =
                    context.getBean("directoryFailoverClient", FailoverClient.class);
                FailoverClient slow = context.getBean("slowDirectory", FailoverClient.class);
                FailoverEndpoint endpoint = context.getBean(FailoverEndpoint.class);

                assertThat(endpoint.clients().clients().keySet())
                    .as(name)
                    .containsExactly("directory", "groups", "slowDirectory");
                endpoint.shift("directory", "us-east-1a", "30m", "alice", null);
                assertThat(ZonalShiftStarterTests.status(starters, "us-east-1a"))
                    .as(name)
                    .isEqualTo(FailoverSnapshot.ZoneStatus.SHIFTED);
                assertThat(ZonalShiftStarterTests.status(slow, "us-east-1a"))
                    .as(name)
                    .isEqualTo(FailoverSnapshot.ZoneStatus.ACTIVE);
                // Read back under the same names: the starter's client shifted, the variant not.
                assertThat(endpoint.client("directory"))
                    .extracting(d -> d.zones().get(0).status())
                    .isEqualTo("SHIFTED");
                assertThat(endpoint.client("slowDirectory"))
                    .extracting(d -> d.zones().get(0).status())
                    .isEqualTo("ACTIVE");
                endpoint.shift("slowDirectory", "us-east-1b", "30m", "alice", null);
                assertThat(ZonalShiftStarterTests.status(slow, "us-east-1b"))
                    .isEqualTo(FailoverSnapshot.ZoneStatus.SHIFTED);
                assertThat(ZonalShiftStarterTests.status(starters, "us-east-1b"))
                    .isEqualTo(FailoverSnapshot.ZoneStatus.ACTIVE);

                CompositeHealthContributor composite =
                    context.getBean("failoverHealthContributor", CompositeHealthContributor.class);
                List<String> names = new ArrayList<>();
                composite.stream().forEach(e -> names.add(e.name()));
                assertThat(names).as(name).containsExactly("directory", "groups", "slowDirectory");
                assertThat(
                        ((HealthIndicator) composite.getContributor("directory"))
                            .health()
                            .getDetails())
                    .extractingByKey("zones")
                    .asString()
                    .contains("shifted away by actuator:alice");
              });
    }
  }

  /** A bean that fails to be created is not taken for a variant: its failure stops start-up. */
  @Test
  void aFailoverClientBeanThatCannotBeCreatedStillFailsStartUp() {
    runner
        .withUserConfiguration(UserThenBroken.class)
        .run(
            context ->
                assertThat(context)
                    .getFailure()
                    .rootCause()
                    .hasMessage("broken on purpose: no secrets"));
  }

  record UsesDirectory(FailoverClient client) {}

  static FailoverClient slowVariant(FailoverClient directory) {
    return directory.newBuilder().deadline(Duration.ofSeconds(30)).build();
  }

  @Configuration(proxyBeanMethods = false)
  static class UserThenVariant {
    @Bean
    UsesDirectory user(@Qualifier("directory") FailoverClient client) {
      return new UsesDirectory(client);
    }

    @Bean
    FailoverClient slowDirectory(@Qualifier("directory") FailoverClient directory) {
      return slowVariant(directory);
    }
  }

  @Configuration(proxyBeanMethods = false)
  static class VariantThenUser {
    @Bean
    FailoverClient slowDirectory(@Qualifier("directory") FailoverClient directory) {
      return slowVariant(directory);
    }

    @Bean
    UsesDirectory user(@Qualifier("directory") FailoverClient client) {
      return new UsesDirectory(client);
    }
  }

  @Configuration(proxyBeanMethods = false)
  static class UserThenBroken {
    @Bean
    UsesDirectory user(@Qualifier("directory") FailoverClient client) {
      return new UsesDirectory(client);
    }

    @Bean
    FailoverClient broken() {
      throw new IllegalStateException("broken on purpose: no secrets");
    }
  }

  /** The application's own client for service {@code directory}. */
  static FailoverClient directoryClient() {
    return FailoverClient.builder()
        .service("directory")
        .home("us-east-1", "us-east-1a")
        .endpoint("http://127.0.0.1:9", "us-east-1", "us-east-1a")
        .build();
  }

  @Configuration(proxyBeanMethods = false)
  static class MyDirectoryClosedByTheApplication {
    @Bean(destroyMethod = "")
    FailoverClient myDirectory() {
      return directoryClient();
    }
  }

  /** Records, when the context closes it, whether each client still takes calls. */
  static final class UserOfBoth {
    final List<String> closing;
    FailoverClient directory;
    FailoverClient groups;

    UserOfBoth(List<String> closing) {
      this.closing = closing;
    }

    public void close() {
      for (FailoverClient c : List.of(directory, groups)) {
        try {
          c.newCall(new Request.Builder().url("http://" + c.service() + "/x").build());
          closing.add(c.service() + ": open");
        } catch (IllegalStateException e) {
          closing.add(c.service() + ": closed");
        }
      }
    }
  }

  @Configuration(proxyBeanMethods = false)
  static class MyDirectory {
    @Bean
    FailoverClient myDirectory() {
      return directoryClient();
    }
  }

  @Configuration(proxyBeanMethods = false)
  static class ByType {
    record Injected(FailoverClient client) {}

    @Bean
    Injected byType(FailoverClient client) {
      return new Injected(client);
    }
  }
}
