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

  /**
   * A hedge that finds every endpoint tried, each still running: starting over would put a second
   * attempt on an endpoint this call already waits on. None is sent, and the call goes on with the
   * attempts in flight.
   */
  /** A hedging client that may send three hedges, its bucket filled for them. */
  private static Harness threeHedges() {
    Harness h = Harness.hedging(b -> b.hedging(Harness.HEDGING.withMaxHedges(3)).maxAttempts(5));
    // Quick calls fill the hedge bucket for three hedges (each adds half a token).
    for (int i = 0; i < 6; i++) {
      RecordingCallback fill = new RecordingCallback();
      h.enqueue(get("/fill/" + i), fill);
      h.transport.next().respond(200);
      assertThat(fill.awaitStatus()).isEqualTo(200);
      h.events.awaitCallFinished("/fill/" + i);
    }
    return h;
  }

  @Test
  void aHedgeIsNotSentToAnEndpointTheCallAlreadyWaitsOn() {
    try (Harness h = threeHedges()) {
      RecordingCallback cb = new RecordingCallback();
      h.enqueue(get("/everything-slow"), cb);
      List<Exchange> running = new ArrayList<>();
      running.add(h.transport.next());
      for (int i = 0; i < 2; i++) {
        h.scheduler.advance(Harness.HEDGE_DELAY);
        running.add(h.transport.next());
      }
      assertThat(running).extracting(Exchange::host).doesNotHaveDuplicates();
      h.scheduler.advance(Harness.HEDGE_DELAY);
      h.scheduler.advance(Harness.HEDGE_DELAY);
      running.get(1).respond(200);
      assertThat(cb.awaitStatus()).isEqualTo(200);
      assertThat(h.events.awaitCallFinished("/everything-slow").attempts()).isEqualTo(3);
      assertThat(h.transport.exchanges()).hasSize(3 + 7); // the warm-up and fills, then three
    }
  }

  /**
   * A hedge that finds every endpoint tried while the first attempt still runs starts over among
   * the others: it was dropped, since the round begun again went back to the endpoint in flight.
   */
  @Test
  void aHedgeThatStartsOverGoesToAnEndpointNotInFlight() {
    try (Harness h = threeHedges()) {
      RecordingCallback cb = new RecordingCallback();
      h.enqueue(get("/one-hangs"), cb);
      Exchange hanging = h.transport.next();
      h.scheduler.advance(Harness.HEDGE_DELAY);
      Exchange second = h.transport.next();
      assertThat(second.host()).isNotEqualTo(hanging.host());
      second.respond(503); // the first still runs: a hedge goes out at once
      Exchange third = h.transport.next();
      assertThat(third.host()).isNotIn(hanging.host(), second.host());
      third.respond(503); // every endpoint tried: a new round, without the one in flight
      Exchange fourth = h.transport.next();
      assertThat(fourth.host()).isNotEqualTo(hanging.host());
      fourth.respond(200);
      assertThat(cb.awaitStatus()).isEqualTo(200);
    }
  }
}
