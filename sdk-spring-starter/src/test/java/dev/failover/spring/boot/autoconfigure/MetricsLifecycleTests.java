package dev.failover.spring.boot.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import dev.failover.FailoverClient;
import dev.failover.FailoverListener;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;

/**
 * The meters of a client the starter built leave the registry when the starter closes the client:
 * the registry may outlive the context (Spring Boot adds each context's registry to {@code
 * Metrics.globalRegistry}), and would keep the closed client's meters, and through them the client.
 */
class MetricsLifecycleTests {

  /** A registry that outlives the contexts, as the global registry does. */
  private final MeterRegistry registry = new SimpleMeterRegistry();

  private final ApplicationContextRunner runner =
      new ApplicationContextRunner()
          .withConfiguration(
              AutoConfigurations.of(
                  FailoverAutoConfiguration.class, FailoverMetricsAutoConfiguration.class))
          .withBean(MeterRegistry.class, () -> registry)
          .withPropertyValues(FailoverAutoConfigurationTests.DIRECTORY);

  private List<Meter> metersOf(String name) {
    return registry.getMeters().stream()
        .filter(m -> name.equals(m.getId().getTag("client.name")))
        .toList();
  }

  @Test
  void aClosedContextLeavesNoMeterOfItsClients() {
    runner.run(
        context -> {
          assertThat(context).hasNotFailed();
          context.getBean("directoryFailoverClient", FailoverClient.class);
          assertThat(metersOf("directory"))
              .extracting(m -> m.getId().getName())
              .contains("failover.budget.tokens", "failover.endpoint.state", "failover.zone.state");
        });

    assertThat(metersOf("directory")).isEmpty();
  }

  /**
   * An instrumentation bound after the meters fails: the client is not started, and leaves neither
   * meters nor threads.
   */
  @Test
  void aClientWhoseInstrumentationFailsLeavesNoMeterAndNoThread() {
    runner
        .withConfiguration(AutoConfigurations.of(FailingInstrumentationConfiguration.class))
        .run(
            context -> {
              assertThat(context).hasFailed();
              assertThat(context.getStartupFailure())
                  .hasStackTraceContaining("instrumentation failed");
            });

    assertThat(metersOf("directory")).isEmpty();
    long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!clientThreads().isEmpty() && System.nanoTime() < until) {
      Thread.onSpinWait();
    }
    assertThat(clientThreads()).isEmpty();
  }

  private static Set<Thread> clientThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(Thread::isAlive)
        .filter(t -> t.getName().startsWith("failover-directory-"))
        .collect(Collectors.toSet());
  }

  /** After the metrics auto-configuration, so that its instrumentation binds after the meters. */
  @AutoConfiguration(after = FailoverMetricsAutoConfiguration.class)
  static class FailingInstrumentationConfiguration {
    @Bean
    ClientInstrumentation failingInstrumentation() {
      return new ClientInstrumentation() {
        @Override
        public FailoverListener listener(String clientName) {
          return new FailoverListener() {};
        }

        @Override
        public void bind(String clientName, FailoverClient client) {
          throw new IllegalStateException("instrumentation failed");
        }

        @Override
        public void unbind(String clientName, FailoverClient client) {}
      };
    }
  }
}
