package dev.failover.statemachine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.failover.FailoverEvent;
import dev.failover.HealthCheck;
import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Active health checks and the client's own stalls, on fake time: a probe that times out while the
 * client is stalled counts for nothing; a refused probe counts as ever; a timeout once the client
 * runs on time again counts.
 */
class HealthProbeStallTest {

  /** One probe per endpoint each second, down after a single failure; the timeout never fires. */
  private static Harness harness() {
    return new Harness(
        b ->
            b.healthCheck(
                HealthCheck.http("/health")
                    .withInterval(Duration.ofSeconds(1))
                    .withTimeout(Duration.ofSeconds(60))
                    .withThresholds(1, 1)));
  }

  /** Answers the next probe of each of the three endpoints; {@code a1} gets {@code forA1}. */
  private static void answerRound(Harness h, IOException forA1) {
    answer(h, takeRound(h), forA1);
  }

  /**
   * Takes the next probe of each of the three endpoints as it arrives, marked as having reached the
   * SDK at the fake time of its arrival (which the scheduler's advance may move while they arrive):
   * taken before the time moves on further, they ran at least from then.
   */
  private static java.util.List<FakeTransport.Exchange> takeRound(Harness h) {
    java.util.List<FakeTransport.Exchange> round = new java.util.ArrayList<>();
    for (int i = 0; i < 3; i++) {
      FakeTransport.Exchange e = h.transport.next();
      assertThat(e.path()).isEqualTo("/health");
      round.add(e);
    }
    return round;
  }

  /** Answers a round of probes; {@code a1} gets {@code forA1}, the others 200. */
  private static void answer(
      Harness h, java.util.List<FakeTransport.Exchange> round, IOException forA1) {
    for (FakeTransport.Exchange e : round) {
      if (e.host().equals(Harness.A1) && forA1 != null) {
        e.fail(forA1);
      } else {
        e.respond(200);
      }
    }
    // Each endpoint's next probe is scheduled once its result was handled (on OkHttp's thread).
    h.scheduler.awaitOneShots(3);
  }

  /**
   * Runs probe rounds, all answered, until the client's start-up is over (a probe that began in it
   * and timed out is excused, see below).
   */
  private static void pastStartUp(Harness h) {
    long until = h.scheduler.now() + Duration.ofSeconds(5).toNanos(); // the start-up grace
    while (h.scheduler.now() - until < 0) {
      h.scheduler.advance(Duration.ofMillis(1200)); // the next probes go out within 1.2 s
      answerRound(h, null);
    }
  }

  @Test
  void aProbeTimeoutInTheClientsFirstSecondsIsNotCountedButOneAfterIs() {
    // A cold JVM: its first connections and TLS handshakes time out. Before, two such probes
    // marked the home endpoint down, which corroborates its zone's outage by itself.
    try (Harness h = harness()) {
      for (int round = 0; round < 3; round++) {
        h.scheduler.advance(Duration.ofMillis(1200));
        answerRound(h, new SocketTimeoutException("timeout"));
      }
      assertThat(h.events.of(FailoverEvent.EndpointEjected.class)).isEmpty();
      assertThat(h.endpoint(Harness.A1).health())
          .isEqualTo(dev.failover.FailoverSnapshot.Health.HEALTHY);
      pastStartUp(h);
      h.scheduler.advance(Duration.ofMillis(1200));
      answerRound(h, new SocketTimeoutException("timeout"));
      FailoverEvent.EndpointEjected ejected =
          h.events.await(FailoverEvent.EndpointEjected.class, 1, e -> true);
      assertThat(ejected.endpoint().url().host()).isEqualTo(Harness.A1);
    }
  }

  @Test
  void aProbeTimeoutRightAfterAResetCounts() {
    // The first seconds' excuse is for a cold JVM: a core that replaces another (reset, or a
    // reconfigure) runs in a warm one, and a blackholed endpoint must not go unseen for 5 s after
    // each change.
    try (Harness h = harness()) {
      pastStartUp(h);
      h.client.reset();
      h.scheduler.advance(Duration.ofMillis(1200)); // the new core's first probes
      answerRound(h, new SocketTimeoutException("timeout"));
      FailoverEvent.EndpointEjected ejected =
          h.events.await(FailoverEvent.EndpointEjected.class, 1, e -> true);
      assertThat(ejected.endpoint().url().host()).isEqualTo(Harness.A1);
    }
  }

  @Test
  void aResetInTheClientsFirstSecondsKeepsTheirExcuse() {
    // A configuration change right at start-up (a refresh applied as the application starts): the
    // JVM is still cold, and the new core's probe timeouts in those seconds are not counted either.
    try (Harness h = harness()) {
      h.client.reset(); // before the first core's first probes (at random in its first second)
      h.scheduler.advance(Duration.ofMillis(1200)); // the new core's first probes
      answerRound(h, new SocketTimeoutException("timeout"));
      h.scheduler.advance(Duration.ofMillis(1200));
      answerRound(h, new SocketTimeoutException("timeout"));
      assertThat(h.events.of(FailoverEvent.EndpointEjected.class)).isEmpty();
    }
  }

  @Test
  void aStallToldBeforeAResetIsToldOverWithIt() {
    // The old core's tick stops once its calls have ended: without the end of its stall told at
    // the change, listeners believed the client stalled for good.
    try (Harness h = harness()) {
      pastStartUp(h);
      stall(h);
      h.events.await(FailoverEvent.ClientStalled.class, 1, e -> true);
      h.client.reset();
      h.events.await(FailoverEvent.ClientRecovered.class, 1, e -> true);
    }
  }

  private static void stall(Harness h) {
    // The scheduler's tick runs 1.5 s late: a stall that explains a probe's timeout up to 3 s
    // long (a shorter stall explains no probe that ran this long).
    h.clock.advance(Duration.ofMillis(1500));
    h.scheduler.runDue();
    assertThat(h.client.snapshot().clientStalled()).isTrue();
  }

  @Test
  void aProbeTimeoutWhileTheClientIsStalledIsNotCountedButOneAfterIs() {
    try (Harness h = harness()) {
      pastStartUp(h);
      stall(h);
      h.scheduler.advance(Duration.ofMillis(1200)); // the next round, within the 2 s grace
      answerRound(h, new SocketTimeoutException("timeout"));
      // The next probe of a1 exists only once the last one's result was handled.
      h.scheduler.advance(Duration.ofMillis(1200));
      assertThat(h.client.snapshot().clientStalled()).isFalse();
      assertThat(h.events.of(FailoverEvent.EndpointEjected.class)).isEmpty();
      answerRound(h, new SocketTimeoutException("timeout"));
      FailoverEvent.EndpointEjected ejected =
          h.events.await(FailoverEvent.EndpointEjected.class, 1, e -> true);
      assertThat(ejected.endpoint().url().host()).isEqualTo(Harness.A1);
      assertThat(ejected.cause()).isEqualTo(FailoverEvent.Cause.HEALTH_CHECK);
    }
  }

  /**
   * The client pauses 1.5 s and the probes' timeouts are handled before its tick has run to measure
   * the pause: the overdue tick is the stall, and explains them.
   */
  @Test
  void aProbeTimeoutHandledAfterAPauseBeforeTheTickRanIsNotCounted() {
    try (Harness h = harness()) {
      pastStartUp(h);
      h.scheduler.advance(Duration.ofMillis(1200)); // the next round is out
      h.clock.advance(Duration.ofMillis(1500)); // the pause: no task has run yet
      answerRound(h, new SocketTimeoutException("timeout"));
      assertThat(h.client.snapshot().clientStalled()).isTrue();
      h.scheduler.runDue(); // the tick measures the pause
      assertThat(h.client.snapshot().clientStalls()).isEqualTo(1);
      assertThat(h.events.of(FailoverEvent.EndpointEjected.class)).isEmpty();
      assertThat(h.endpoint(Harness.A1).health())
          .isEqualTo(dev.failover.FailoverSnapshot.Health.HEALTHY);
    }
  }

  @Test
  void aStallTooShortToExplainAProbesTimeoutExcusesNothing() {
    try (Harness h = harness()) {
      pastStartUp(h);
      // The tick runs 100 ms late: the client is stalled, but a 100 ms stall explains timeouts of
      // up to 200 ms. The next probes go out 0.8 to 1.2 s after the last ones were answered (all
      // of them within the next 1.2 s), and are answered 700 ms later at least, still in the grace.
      h.clock.advance(Duration.ofMillis(100));
      h.scheduler.runDue();
      assertThat(h.client.snapshot().clientStalled()).isTrue();
      h.scheduler.advance(Duration.ofMillis(1200));
      java.util.List<FakeTransport.Exchange> round = takeRound(h); // they ran from here at least
      h.scheduler.advance(Duration.ofMillis(700));
      assertThat(h.client.snapshot().clientStalled()).isTrue();
      answer(h, round, new SocketTimeoutException("timeout"));
      FailoverEvent.EndpointEjected ejected =
          h.events.await(FailoverEvent.EndpointEjected.class, 1, e -> true);
      assertThat(ejected.endpoint().url().host()).isEqualTo(Harness.A1);
      assertThat(ejected.cause()).isEqualTo(FailoverEvent.Cause.HEALTH_CHECK);
    }
  }

  @Test
  void aRefusedProbeCountsEvenWhileTheClientIsStalled() {
    try (Harness h = harness()) {
      pastStartUp(h);
      stall(h);
      h.scheduler.advance(Duration.ofMillis(1200));
      answerRound(h, new ConnectException("Connection refused"));
      FailoverEvent.EndpointEjected ejected =
          h.events.await(FailoverEvent.EndpointEjected.class, 1, e -> true);
      assertThat(ejected.endpoint().url().host()).isEqualTo(Harness.A1);
    }
  }
}
