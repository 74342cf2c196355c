package dev.failover.statemachine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.failover.DiscoveryPolicy;
import dev.failover.Endpoint;
import dev.failover.EndpointSource;
import dev.failover.FailoverClient;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** build() starts the source, and a build that fails closes what it started. */
class SourceOwnershipTest {
  private static final Endpoint A1 = Endpoint.of("http://" + Harness.A1, "us-east-1", "us-east-1a");

  /** A second client of the same service and settings, built outside the harness. */
  private static FailoverClient.Builder another(EndpointSource source) {
    return FailoverClient.builder()
        .service("svc-2")
        .home("us-east-1", "us-east-1a")
        .endpointSource(source)
        .discovery(DiscoveryPolicy.defaults().withStartTimeout(Duration.ZERO));
  }

  /**
   * An Error thrown by start() (a class missing from the registry client's jar) fails the build and
   * closes the source, which may have started threads before it threw. Before, only a
   * RuntimeException was caught: the source's threads outlived the failed build.
   */
  @Test
  void aSourceWhoseStartThrowsAnErrorIsClosed() {
    for (List<Endpoint> fallback : List.of(List.<Endpoint>of(), List.of(A1))) {
      AtomicInteger started = new AtomicInteger();
      AtomicInteger closed = new AtomicInteger();
      EndpointSource source =
          new EndpointSource() {
            @Override
            public void start(Updates updates) {
              started.incrementAndGet();
              throw new LinkageError("registry client class missing");
            }

            @Override
            public void close() {
              closed.incrementAndGet();
            }
          };

      assertThatThrownBy(() -> another(source).endpoints(fallback).build())
          .isInstanceOf(LinkageError.class)
          .hasMessage("registry client class missing");
      assertThat(started).as("with fallback %s", fallback).hasValue(1);
      assertThat(closed).as("with fallback %s", fallback).hasValue(1);
    }
  }
}
