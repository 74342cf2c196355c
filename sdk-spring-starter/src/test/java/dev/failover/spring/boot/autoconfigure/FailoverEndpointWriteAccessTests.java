package dev.failover.spring.boot.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Collection;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.springframework.boot.actuate.autoconfigure.endpoint.EndpointAutoConfiguration;
import org.springframework.boot.actuate.autoconfigure.endpoint.jmx.JmxEndpointAutoConfiguration;
import org.springframework.boot.actuate.autoconfigure.endpoint.web.WebEndpointAutoConfiguration;
import org.springframework.boot.actuate.endpoint.ExposableEndpoint;
import org.springframework.boot.actuate.endpoint.Operation;
import org.springframework.boot.actuate.endpoint.OperationType;
import org.springframework.boot.actuate.endpoint.jmx.JmxEndpointsSupplier;
import org.springframework.boot.actuate.endpoint.web.WebEndpointsSupplier;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.jmx.JmxAutoConfiguration;
import org.springframework.boot.convert.ApplicationConversionService;
import org.springframework.boot.test.context.runner.WebApplicationContextRunner;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

/**
 * Which settings let the {@code failover} endpoint's write operation (a zonal shift) be mapped,
 * over HTTP and JMX: only {@code management.endpoint.failover.access=unrestricted}, set explicitly,
 * within {@code management.endpoints.access.max-permitted}. Boot's other ways to grant an endpoint
 * unrestricted access (the deprecated {@code enabled} flags, the default access of every endpoint)
 * still allow it to be read.
 */
@ExtendWith(OutputCaptureExtension.class)
class FailoverEndpointWriteAccessTests {
  private static final String E = "management.endpoint.failover.";

  private final WebApplicationContextRunner runner =
      new WebApplicationContextRunner()
          .withConfiguration(
              AutoConfigurations.of(
                  EndpointAutoConfiguration.class,
                  WebEndpointAutoConfiguration.class,
                  JmxAutoConfiguration.class,
                  JmxEndpointAutoConfiguration.class,
                  FailoverAutoConfiguration.class,
                  FailoverEndpointAutoConfiguration.class))
          // As in an application: Boot reads access values such as read-only leniently.
          .withInitializer(
              c -> c.getEnvironment().setConversionService(new ApplicationConversionService()))
          .withPropertyValues(FailoverAutoConfigurationTests.DIRECTORY)
          .withPropertyValues(
              "spring.jmx.enabled=true",
              "management.endpoints.web.exposure.include=failover",
              "management.endpoints.jmx.exposure.include=failover");

  static Stream<Arguments> settings() {
    Set<OperationType> read = Set.of(OperationType.READ);
    Set<OperationType> write = Set.of(OperationType.READ, OperationType.WRITE);
    return Stream.of(
        Arguments.of(new String[] {}, read),
        Arguments.of(new String[] {E + "access=read-only"}, read),
        Arguments.of(new String[] {E + "access=unrestricted"}, write),
        Arguments.of(
            new String[] {E + "access=unrestricted", "management.endpoints.access.default=none"},
            write),
        // Boot alone would map the write operation for each of these.
        Arguments.of(new String[] {E + "enabled=true"}, read),
        Arguments.of(new String[] {"management.endpoints.access.default=unrestricted"}, read),
        Arguments.of(new String[] {"management.endpoints.enabled-by-default=true"}, read),
        // Boot's cap still applies to the explicit setting.
        Arguments.of(
            new String[] {
              E + "access=unrestricted", "management.endpoints.access.max-permitted=read-only"
            },
            read));
  }

  @ParameterizedTest
  @MethodSource("settings")
  void theWriteOperationNeedsTheEndpointsOwnAccessSetToUnrestricted(
      String[] properties, Set<OperationType> expected) {
    runner
        .withPropertyValues(properties)
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              assertThat(types(context.getBean(WebEndpointsSupplier.class).getEndpoints()))
                  .as("web, %s", String.join(", ", properties))
                  .isEqualTo(expected);
              assertThat(types(context.getBean(JmxEndpointsSupplier.class).getEndpoints()))
                  .as("jmx, %s", String.join(", ", properties))
                  .isEqualTo(expected);
            });
  }

  @Test
  void aWriteOperationBootWouldMapIsLoggedAsNotMapped(CapturedOutput output) {
    runner
        .withPropertyValues("management.endpoints.access.default=unrestricted")
        .run(
            context -> {
              context.getBean(WebEndpointsSupplier.class).getEndpoints();
              assertThat(output)
                  .contains(
                      "The failover endpoint's write operation (a zonal shift) is not mapped: it"
                          + " needs management.endpoint.failover.access=unrestricted set"
                          + " explicitly");
            });
  }

  /** The types of the failover endpoint's operations among {@code endpoints}. */
  private static Set<OperationType> types(Collection<? extends ExposableEndpoint<?>> endpoints) {
    ExposableEndpoint<?> failover =
        endpoints.stream()
            .filter(e -> e.getEndpointId().toString().equals("failover"))
            .findFirst()
            .orElseThrow();
    Set<OperationType> types = new TreeSet<>();
    for (Operation operation : failover.getOperations()) {
      types.add(operation.getType());
    }
    return types;
  }
}
