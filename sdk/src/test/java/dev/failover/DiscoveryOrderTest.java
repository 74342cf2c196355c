package dev.failover;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The client's relay numbers the source's reports and hands each on outside its lock: an intake
 * drops a report older than one it took, so that two threads of a source reporting at once (or a
 * new core's catch-up racing the source's own delivery) never leave an older list applied last.
 */
class DiscoveryOrderTest {
  private static final Endpoint A = Endpoint.of("http://a.test", "us-east-1", "us-east-1a");
  private static final Endpoint B = Endpoint.of("http://b.test", "us-east-1", "us-east-1b");

  private static Discovery intake() {
    Clock clock = Clock.systemUTC();
    return Discovery.of(
        "directory",
        EndpointSource.of(List.of(A)),
        DiscoveryPolicy.defaults(),
        clock,
        Tickers.monotonic(null, clock));
  }

  @Test
  void aReportOlderThanOneTakenIsDropped() throws Exception {
    Discovery d = intake();
    d.endpoints(List.of(B), 2);
    d.endpoints(List.of(A), 1); // handed on late by another thread
    d.failed(new IOException("an older failure"), 1);
    assertThat(d.awaitFirst(Duration.ZERO)).containsExactly(B);
    assertThat(d.lastFailure()).isNull();

    d.endpoints(List.of(A), 3);
    assertThat(d.awaitFirst(Duration.ZERO)).containsExactly(A);
  }

  @Test
  void unnumberedReportsAreAlwaysTaken() throws Exception {
    Discovery d = intake();
    d.endpoints(List.of(B), 2);
    d.endpoints(List.of(A));
    assertThat(d.awaitFirst(Duration.ZERO)).containsExactly(A);
  }
}
