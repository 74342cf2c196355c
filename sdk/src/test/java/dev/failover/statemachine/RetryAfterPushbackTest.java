package dev.failover.statemachine;

import static dev.failover.statemachine.Harness.A1;
import static dev.failover.statemachine.Harness.B1;
import static dev.failover.statemachine.Harness.W1;
import static dev.failover.statemachine.Harness.get;
import static org.assertj.core.api.Assertions.assertThat;

import dev.failover.FailoverEvent;
import dev.failover.FailoverSnapshot;
import dev.failover.statemachine.FakeTransport.Exchange;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * A retry when every endpoint asked for a pause ({@code Retry-After}): it waits for the first pause
 * to end instead of going at once, in panic, to an endpoint that asked not to be sent to (gRPC's
 * retry pushback); if that wait does not fit the deadline, the call ends with the response it has.
 * While an endpoint takes traffic, a retry goes there after its usual backoff.
 */
class RetryAfterPushbackTest {

  /** Each endpoint answers 503 with {@code Retry-After: 2}, the first at {@code tA}. */
  private static long allAskForTwoSeconds(Harness h, String path) {
    long firstAt = 0;
    String[] hosts = {A1, B1, W1};
    for (int i = 0; i < hosts.length; i++) {
      Exchange e = h.transport.next();
      assertThat(e.host()).isEqualTo(hosts[i]);
      if (i == 0) {
        firstAt = h.scheduler.now();
      }
      e.respond(503, "Retry-After", "2");
      if (i < hosts.length - 1) {
        // Another endpoint takes traffic: the usual backoff, well under the pause.
        Duration backoff = h.awaitRetryTimer(path, i + 1);
        assertThat(backoff).isLessThan(Duration.ofSeconds(1));
        h.scheduler.advance(backoff);
      }
    }
    return firstAt;
  }

  @Test
  void aRetryWithEveryEndpointPausedWaitsForTheFirstPauseToEnd() {
    try (Harness h = new Harness(b -> b.maxAttempts(4))) {
      RecordingCallback cb = new RecordingCallback();
      h.enqueue(get("/paused"), cb);
      long firstAt = allAskForTwoSeconds(h, "/paused");
      assertThat(h.endpoint(A1).health()).isEqualTo(FailoverSnapshot.Health.HELD_OFF);
      long lastAt = h.scheduler.now();
      Duration wait = h.awaitRetryTimer("/paused", 3);
      // Until A1's pause ends, not 0 to 25 ms later into an endpoint that asked for it.
      assertThat(wait)
          .isEqualTo(Duration.ofNanos(firstAt + Duration.ofSeconds(2).toNanos() - lastAt));
      assertThat(h.transport.untaken()).isZero();
      h.scheduler.advance(wait);
      Exchange fourth = h.transport.next();
      assertThat(fourth.host()).isEqualTo(A1);
      fourth.respond(200);
      assertThat(cb.awaitStatus()).isEqualTo(200);
      h.quiesce();
    }
  }

  /** The first pause ends past the deadline: no retry; the caller gets the last 503. */
  @Test
  void aPauseThatOutlastsTheDeadlineEndsTheCallWithItsResponse() {
    try (Harness h = new Harness(b -> b.maxAttempts(4).maxRetryAfter(Duration.ofMinutes(2)))) {
      RecordingCallback cb = new RecordingCallback();
      h.enqueue(get("/too-long"), cb);
      String[] hosts = {A1, B1, W1};
      for (int i = 0; i < hosts.length; i++) {
        Exchange e = h.transport.next();
        assertThat(e.host()).isEqualTo(hosts[i]);
        e.respond(503, "Retry-After", "100"); // past the 60 s deadline
        if (i < hosts.length - 1) {
          h.scheduler.advance(h.awaitRetryTimer("/too-long", i + 1));
        }
      }
      assertThat(cb.awaitStatus()).isEqualTo(503);
      FailoverEvent.CallFinished finished = h.events.awaitCallFinished("/too-long");
      assertThat(finished.attempts()).isEqualTo(3);
      assertThat(finished.status()).isEqualTo(503);
      assertThat(h.transport.untaken()).isZero();
      h.quiesce();
    }
  }
}
