package dev.failover.spring.boot.autoconfigure;

import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.ok;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static org.assertj.core.api.Assertions.assertThat;

import dev.failover.FailoverClient;
import dev.failover.testkit.FakeZones;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.cloud.context.environment.EnvironmentChangeEvent;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.MapPropertySource;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.web.client.RestClient;

/**
 * A child context with the starter's auto-configuration (SpringApplicationBuilder's {@code
 * child(...)}) uses the clients of its parent: it builds no second client of a name an ancestor
 * has, so the parent's client keeps its meters and follows configuration changes, and closing the
 * child leaves it running. Real WireMock zones, real contexts.
 */
class ParentChildContextTests {

  @RegisterExtension
  static final FakeZones zones =
      FakeZones.builder().region("us-east-1", "us-east-1a", "us-east-1b").build();

  /** The property source a change writes to, first in the environment both contexts share. */
  private final Map<String, Object> changes = new HashMap<>();

  @BeforeEach
  void stub() {
    zones.stubAll(get(urlPathEqualTo("/users/42")).willReturn(ok("{\"id\":42}")));
  }

  @Configuration(proxyBeanMethods = false)
  @ImportAutoConfiguration({
    FailoverAutoConfiguration.class,
    FailoverMetricsAutoConfiguration.class
  })
  static class Parent {
    @Bean
    SimpleMeterRegistry meterRegistry() {
      return new SimpleMeterRegistry();
    }
  }

  /** The same auto-configuration, and beans that use the client. */
  @Configuration(proxyBeanMethods = false)
  @ImportAutoConfiguration({
    FailoverAutoConfiguration.class,
    FailoverMetricsAutoConfiguration.class
  })
  static class Child {
    @Bean
    Users users(
        @Qualifier("directory") FailoverClient client, @Qualifier("directory") RestClient rest) {
      return new Users(client, rest);
    }
  }

  record Users(FailoverClient client, RestClient rest) {}

  private ConfigurableApplicationContext start() {
    StandardEnvironment environment = new StandardEnvironment();
    environment.getPropertySources().addFirst(new MapPropertySource("changes", changes));
    List<String> properties = new ArrayList<>();
    properties.add("failover.home.region=us-east-1");
    properties.add("failover.home.zone=us-east-1a");
    zones.springProperties("directory").forEach((k, v) -> properties.add(k + "=" + v));
    return new SpringApplicationBuilder(Parent.class)
        .web(WebApplicationType.NONE)
        .environment(environment)
        .properties(properties.toArray(String[]::new))
        .child(Child.class)
        .web(WebApplicationType.NONE)
        .run();
  }

  private static String call(FailoverClient client) throws IOException {
    try (Response response =
        client.newCall(new Request.Builder().url("http://directory/users/42").build()).execute()) {
      return response.code() + " " + response.body().string();
    }
  }

  private static List<Meter> meters(MeterRegistry registry) {
    return registry.getMeters().stream()
        .filter(m -> "directory".equals(m.getId().getTag("client.name")))
        .toList();
  }

  private static long calls(MeterRegistry registry) {
    return meters(registry).stream()
        .filter(m -> m.getId().getName().equals("failover.calls"))
        .mapToLong(m -> ((Timer) m).count())
        .sum();
  }

  @Test
  void theChildUsesTheParentsClientAndBuildsNoOther() {
    ConfigurableApplicationContext child = start();
    ConfigurableApplicationContext parent = (ConfigurableApplicationContext) child.getParent();
    try {
      FailoverClient client = parent.getBean("directoryFailoverClient", FailoverClient.class);
      assertThat(child.getBean("directoryFailoverClient")).isSameAs(client);
      assertThat(child.getBean(Users.class).client()).isSameAs(client);
      assertThat(child.getBeanFactory().containsBeanDefinition("directoryFailoverClient"))
          .isFalse();
      assertThat(child.getBean(Users.class).rest())
          .isSameAs(parent.getBean("directoryRestClient", RestClient.class));
    } finally {
      child.close();
      parent.close();
    }
  }

  @Test
  void theParentsClientKeepsItsMetersAndFollowsChangesAndOutlivesTheChild() throws IOException {
    ConfigurableApplicationContext child = start();
    ConfigurableApplicationContext parent = (ConfigurableApplicationContext) child.getParent();
    MeterRegistry registry = parent.getBean(MeterRegistry.class);
    try {
      FailoverClient client = parent.getBean("directoryFailoverClient", FailoverClient.class);
      assertThat(call(client)).isEqualTo("200 {\"id\":42}");
      assertThat(call(client)).isEqualTo("200 {\"id\":42}");
      assertThat(calls(registry)).as("the parent's calls are metered").isEqualTo(2);

      changes.put("failover.clients.directory.deadline", "3s");
      parent.publishEvent(
          new EnvironmentChangeEvent(parent, Set.of("failover.clients.directory.deadline")));
      assertThat(client.settings().deadline())
          .as("the parent's client follows the change")
          .hasSeconds(3);

      child.close();
      assertThat(meters(registry))
          .extracting(m -> m.getId().getName())
          .as("the parent's meters stay while its client runs")
          .contains("failover.zone.state", "failover.endpoint.state");
      assertThat(call(client)).as("the parent's client still runs").isEqualTo("200 {\"id\":42}");
      assertThat(calls(registry)).isEqualTo(3);
    } finally {
      child.close();
      parent.close();
    }
    assertThat(meters(registry)).as("closing the parent removes its client's meters").isEmpty();
  }
}
