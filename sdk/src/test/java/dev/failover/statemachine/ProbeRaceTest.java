package dev.failover.statemachine;

import static dev.failover.statemachine.Harness.A1;
import static dev.failover.statemachine.Harness.B1;
import static dev.failover.statemachine.Harness.get;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.failover.Attempt;
import dev.failover.FailoverEvent;
import dev.failover.FailoverException;
import dev.failover.FailoverSnapshot;
import dev.failover.Outcome;
import dev.failover.ZonePolicy;
import dev.failover.statemachine.FakeTransport.Exchange;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Probes of an evacuated zone, on fake time: a call that finds a probe due sends it next to its
 * first attempt, and the two race. A probe answers the call only with a success, a failed probe
 * never decides a call that has another attempt, and a probe still running when the call is
 * answered runs to its end (its outcome tells whether the zone healed).
 */
class ProbeRaceTest {

  /**
   * A client whose home zone (a1) is evacuated, with a1 out of its ejection again, so that the next
   * call finds a probe of the home zone due.
   */
  private static Harness evacuatedHome() {
    Harness h = new Harness(b -> b.zones(ZonePolicy.defaults()));
    try {
      // Five 503s in a row eject a1 (each call is then answered by b1): its zone, all ejected,
      // is evacuated at the next judgement.
      h.failOnA1ThenServeOnB1("/evacuate/", 5, first -> first.respond(503));
      h.events.await(FailoverEvent.EndpointEjected.class, 1, e -> true);
      h.scheduler.advance(Duration.ofSeconds(1));
      FailoverEvent.ZoneEvacuated evacuated =
          h.events.await(FailoverEvent.ZoneEvacuated.class, 1, e -> true);
      assertThat(evacuated.zone().zone()).isEqualTo("us-east-1a");
      // The ejection ends (5 s to 60 s): a1 takes probes again while its zone stays evacuated.
      for (int s = 0; s < 70 && h.endpoint(A1).health() == FailoverSnapshot.Health.EJECTED; s++) {
        h.scheduler.advance(Duration.ofSeconds(1));
      }
      assertThat(h.endpoint(A1).health()).isEqualTo(FailoverSnapshot.Health.PROBING);
      assertThat(zoneStatus(h, "us-east-1a")).isEqualTo(FailoverSnapshot.ZoneStatus.EVACUATED);
      return h;
    } catch (RuntimeException | Error e) {
      h.client.close();
      throw e;
    }
  }

  private static FailoverSnapshot.ZoneStatus zoneStatus(Harness h, String zone) {
    return h.client.snapshot().zones().stream()
        .filter(z -> z.locality().zone().equals(zone))
        .findFirst()
        .orElseThrow()
        .status();
  }

  /** The two attempts a call sent, the first attempt's (to b1) first, then the probe's (a1). */
  private static List<Exchange> firstAndProbe(Harness h) {
    List<Exchange> two = new java.util.ArrayList<>(List.of(h.transport.next(), h.transport.next()));
    two.sort(Comparator.comparing(Exchange::host).reversed()); // b1..., then a1...
    assertThat(two).extracting(Exchange::host).containsExactly(B1, A1);
    return two;
  }

  @Test
  void aProbeThatFailsWhileTheFirstAttemptRunsDoesNotDecideTheCall() {
    try (Harness h = evacuatedHome()) {
      String path = "/probe/fails";
      RecordingCallback cb = new RecordingCallback();
      h.enqueue(get(path), cb);
      List<Exchange> two = firstAndProbe(h);
      two.get(1).respond(503);
      Attempt probe = h.events.awaitAttempt(path, 1);
      assertThat(probe.kind()).isEqualTo(Attempt.Kind.PROBE);
      assertThat(cb.called()).isFalse();
      two.get(0).respond(200);
      assertThat(cb.awaitStatus()).isEqualTo(200);
      h.quiesce();
      assertThat(cb.invocations()).isEqualTo(1);
      assertThat(two.get(1).body().closed()).isTrue();
      assertThat(h.events.attempts(path))
          .extracting(Attempt::kind, a -> a.endpoint().url().host(), Attempt::outcome)
          .containsExactlyInAnyOrder(
              tuple(Attempt.Kind.PROBE, A1, Outcome.UNAVAILABLE),
              tuple(Attempt.Kind.FIRST, B1, Outcome.SUCCESS));
      assertThat(h.events.of(FailoverEvent.CallFinished.class, path))
          .singleElement()
          .satisfies(end -> assertThat(end.retries()).isZero());
    }
  }

  @Test
  void aProbeStillRunningWhenTheCallIsAnsweredRunsToItsEndAndItsResponseIsClosed() {
    try (Harness h = evacuatedHome()) {
      String path = "/probe/outlives";
      RecordingCallback cb = new RecordingCallback();
      h.enqueue(get(path), cb);
      List<Exchange> two = firstAndProbe(h);
      two.get(0).respond(200);
      assertThat(cb.awaitStatus()).isEqualTo(200);
      h.events.awaitCallFinished(path);
      assertThat(two.get(1).cancelled()).isFalse();
      two.get(1).respond(200);
      Attempt probe = h.events.awaitAttempt(path, 2);
      assertThat(probe.kind()).isEqualTo(Attempt.Kind.PROBE);
      assertThat(probe.outcome()).isEqualTo(Outcome.SUCCESS);
      h.quiesce();
      assertThat(two.get(1).body().closed()).isTrue();
      assertThat(cb.invocations()).isEqualTo(1);
    }
  }

  @Test
  void aProbeThatSucceedsFirstAnswersTheCallAndTheFirstAttemptIsCancelled() {
    try (Harness h = evacuatedHome()) {
      String path = "/probe/wins";
      RecordingCallback cb = new RecordingCallback();
      h.enqueue(get(path), cb);
      List<Exchange> two = firstAndProbe(h);
      two.get(1).respond(200);
      assertThat(cb.awaitStatus()).isEqualTo(200);
      h.quiesce();
      assertThat(two.get(0).cancelled()).isTrue();
      assertThat(cb.invocations()).isEqualTo(1);
      assertThat(h.events.attempts(path))
          .extracting(Attempt::kind, Attempt::outcome)
          .containsExactlyInAnyOrder(
              tuple(Attempt.Kind.PROBE, Outcome.SUCCESS),
              tuple(Attempt.Kind.FIRST, Outcome.CANCELLED));
      // Losing to a probe's luck says nothing about b1: no hedge was cancelled, no race lost.
      assertThat(h.events.of(FailoverEvent.Hedge.class, path)).isEmpty();
    }
  }

  @Test
  void theDeadlineCancelsAProbeStillInFlight() {
    try (Harness h = evacuatedHome()) {
      String path = "/probe/deadline";
      long t0 = h.scheduler.now();
      RecordingCallback cb = new RecordingCallback();
      h.enqueue(get(path), cb);
      List<Exchange> two = firstAndProbe(h);
      h.scheduler.advanceTo(t0 + Harness.DEADLINE.toNanos());
      FailoverException e = cb.awaitFailure();
      assertThat(e.reason()).isEqualTo(FailoverException.Reason.DEADLINE_EXCEEDED);
      h.quiesce();
      assertThat(two.get(0).cancelled()).isTrue();
      assertThat(two.get(1).cancelled()).isTrue();
      assertThat(cb.invocations()).isEqualTo(1);
    }
  }
}
