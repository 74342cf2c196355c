package dev.failover.spring.boot.autoconfigure;

import dev.failover.FailoverClient;
import dev.failover.FailoverListener;
import dev.failover.FailoverObservations;

/**
 * The SDK's {@link FailoverObservations} on every client the starter builds: one instance is each
 * client's listener, so that each call and each attempt is an observation (a span with Micrometer
 * Tracing, a timer with a meter handler) and each attempt carries the trace headers.
 */
final class ObservationInstrumentation implements ClientInstrumentation {
  private final FailoverObservations observations;

  ObservationInstrumentation(FailoverObservations observations) {
    this.observations = observations;
  }

  @Override
  public FailoverListener listener(String clientName) {
    return observations;
  }

  @Override
  public void bind(String clientName, FailoverClient client) {
    // Observations need nothing from the built client.
  }

  @Override
  public void unbind(String clientName, FailoverClient client) {
    // Nothing was bound.
  }
}
