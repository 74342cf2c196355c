package dev.failover.spring.boot.autoconfigure;

import dev.failover.FailoverClient;
import dev.failover.FailoverListener;
import dev.failover.FailoverMetrics;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * The SDK's {@link FailoverMetrics} on every client the starter builds: one instance, bound to the
 * application's registry, is each client's listener, and monitors each client once it is built. A
 * client rebuilt under the same name keeps its counters. A client the starter closes leaves no
 * meter behind.
 *
 * <p>Not a {@code MeterBinder} bean itself, so that Spring Boot does not bind it a second time.
 */
final class MetricsInstrumentation implements ClientInstrumentation {
  private final FailoverMetrics metrics = new FailoverMetrics();

  MetricsInstrumentation(MeterRegistry registry) {
    metrics.bindTo(registry);
  }

  @Override
  public FailoverListener listener(String clientName) {
    return metrics;
  }

  @Override
  public void bind(String clientName, FailoverClient client) {
    metrics.monitor(client);
  }

  /** Removes the client's meters: the registry may outlive the context (the global registry). */
  @Override
  public void unbind(String clientName, FailoverClient client) {
    metrics.unmonitor(client);
  }
}
