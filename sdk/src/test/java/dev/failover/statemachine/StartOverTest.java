package dev.failover.statemachine;

import static dev.failover.statemachine.Harness.A1;
import static dev.failover.statemachine.Harness.get;
import static org.assertj.core.api.Assertions.assertThat;

import dev.failover.statemachine.FakeTransport.Exchange;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * failover-semantics.md, retries: a call that tried every endpoint starts over rather than give up
 * while its attempts and time remain, and then goes round them again. It started over afresh for
 * every later attempt: each went back to the nearest tier, the endpoint that had just failed, and
 * the other zones were never tried again.
 */
class StartOverTest {

  @Test
  void aCallThatStartedOverGoesRoundTheEndpointsAgain() {
    try (Harness h =
        new Harness(b -> b.maxAttempts(5).retryBudget(1.0, 100, Duration.ofSeconds(10)))) {
      RecordingCallback cb = new RecordingCallback();
      h.enqueue(get("/everywhere-503"), cb);
      List<String> hosts = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        Exchange e = h.transport.next();
        hosts.add(e.host());
        e.respond(503);
        if (i < 4) {
          h.scheduler.advance(h.awaitRetryTimer("/everywhere-503", i + 1));
        }
      }
      assertThat(cb.awaitStatus()).isEqualTo(503);
      // a1, b1, w1 (nearest first), then a new round: a1 again, and then another endpoint.
      assertThat(hosts.subList(0, 3)).doesNotHaveDuplicates();
      assertThat(hosts.get(3)).isEqualTo(A1);
      assertThat(hosts.get(4)).isNotEqualTo(hosts.get(3));
    }
  }
}
