package dev.failover.examples.directory;

import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static org.assertj.core.api.Assertions.assertThat;

import dev.failover.FailoverClient;
import dev.failover.testkit.FakeZones;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.aot.AotDetector;
import org.springframework.beans.factory.annotation.BeanFactoryAnnotationUtils;
import org.springframework.beans.factory.aot.BeanInstanceSupplier;
import org.springframework.beans.factory.support.RootBeanDefinition;
import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.web.client.RestClient;

/**
 * The app started from the code that {@code spring-boot:process-aot} generated at build time (run
 * by the {@code aot-tests} execution, with {@code spring.aot.enabled=true}): the failover client's
 * beans are defined by that code, and its endpoints, given here only when the app starts, are read
 * at run time.
 */
class DirectoryApplicationAotTests {

  @RegisterExtension
  static final FakeZones zones =
      FakeZones.builder()
          .region("us-east-1", "us-east-1a", "us-east-1b")
          .region("us-west-2", "us-west-2a")
          .build();

  @Test
  void callGoesThroughTheFailoverClientDefinedByAotCode() {
    assertThat(AotDetector.useGeneratedArtifacts()).as("spring.aot.enabled").isTrue();
    zones.stubAll(
        get("/users/42")
            .willReturn(okJson("{\"id\":\"42\",\"name\":\"Ada\",\"email\":\"ada@example.com\"}")));
    List<String> args = new ArrayList<>();
    args.add("--server.port=0");
    args.add("--failover.clients.directory.health.enabled=false");
    zones.springProperties("directory").forEach((key, value) -> args.add("--" + key + "=" + value));

    SpringApplication application = new SpringApplication(DirectoryApplication.class);
    // Names the generated DirectoryApplication__ApplicationContextInitializer; else it is deduced
    // from the stack's main method, which here is surefire's.
    application.setMainApplicationClass(DirectoryApplication.class);

    try (ConfigurableApplicationContext context = application.run(args.toArray(String[]::new))) {
      RootBeanDefinition definition =
          (RootBeanDefinition)
              context.getBeanFactory().getBeanDefinition("directoryFailoverClient");
      assertThat(definition.getInstanceSupplier()).isInstanceOf(BeanInstanceSupplier.class);
      FailoverClient client =
          BeanFactoryAnnotationUtils.qualifiedBeanOfType(
              context.getBeanFactory(), FailoverClient.class, "directory");
      assertThat(context.getBean("directoryFailoverClient")).isSameAs(client);
      assertThat(
              BeanFactoryAnnotationUtils.qualifiedBeanOfType(
                  context.getBeanFactory(), RestClient.class, "directory"))
          .isSameAs(context.getBean("directoryRestClient"));

      DirectoryClient.User user = context.getBean(DirectoryClient.class).user("42");

      assertThat(user).isEqualTo(new DirectoryClient.User("42", "Ada", "ada@example.com"));
      assertThat(zones.zone("us-east-1a").requestCount()).isEqualTo(1);
    }
  }
}
