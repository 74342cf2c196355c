package dev.failover.statemachine;

import static dev.failover.statemachine.Harness.A1;
import static dev.failover.statemachine.Harness.B1;
import static dev.failover.statemachine.Harness.get;
import static org.assertj.core.api.Assertions.assertThat;

import dev.failover.FailoverEvent;
import dev.failover.ZonePolicy;
import dev.failover.statemachine.FakeTransport.Exchange;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A connection that did not open in time (a connect or TLS handshake timeout) while the client
 * starts up or stalls is judged as a timeout is: the attempts that timed out together are one piece
 * of evidence, because a cold JVM's first handshakes or a starved host time them all out at once.
 * Otherwise each counts, as a refused connection does. On fake time.
 */
class ConnectTimeoutJudgementTest {
  private static final int CALLS = 6;

  /** Starts {@link #CALLS} calls whose first attempts, to A1, fail together with {@code e}. */
  private static List<RecordingCallback> failTogether(
      Harness h, String prefix, java.io.IOException e) {
    List<RecordingCallback> callbacks = new ArrayList<>();
    List<Exchange> firsts = new ArrayList<>();
    for (int i = 0; i < CALLS; i++) {
      RecordingCallback cb = new RecordingCallback();
      h.enqueue(get(prefix + i), cb);
      callbacks.add(cb);
      Exchange first = h.transport.next();
      assertThat(first.host()).isEqualTo(A1);
      firsts.add(first);
    }
    h.scheduler.advance(Duration.ofMillis(800));
    Duration longest = Duration.ZERO;
    for (int i = 0; i < CALLS; i++) {
      firsts.get(i).fail(e);
      Duration backoff = h.awaitRetryTimer(prefix + i, 1);
      longest = backoff.compareTo(longest) > 0 ? backoff : longest;
    }
    h.scheduler.advance(longest);
    for (int i = 0; i < CALLS; i++) {
      Exchange retry = h.transport.next();
      assertThat(retry.host()).isEqualTo(B1);
      retry.respond(200);
    }
    for (RecordingCallback cb : callbacks) {
      assertThat(cb.awaitStatus()).isEqualTo(200);
    }
    return callbacks;
  }

  @Test
  void connectsThatTimeOutTogetherWhileTheClientStartsAreOnePieceOfEvidence() {
    try (Harness h = new Harness(b -> b.zones(ZonePolicy.defaults()))) {
      // In the client's first seconds: a cold JVM's first handshakes.
      failTogether(h, "/cold/", new SocketTimeoutException("connect timed out"));
      assertThat(h.endpoint(A1).breakerState()).isEqualTo("CLOSED");
      assertThat(h.endpoint(A1).ejections()).isZero();
      assertThat(h.events.of(FailoverEvent.EndpointEjected.class)).isEmpty();
    }
  }

  @Test
  void onceTheClientIsWarmEachConnectThatTimesOutCounts() {
    try (Harness h = new Harness(b -> b.zones(ZonePolicy.defaults()))) {
      // Past the client's start-up, with no stall: a blackholed endpoint, whose every connect
      // times out, is ejected as promptly as one that refuses.
      h.scheduler.advance(Duration.ofSeconds(6));
      failTogether(h, "/blackholed/", new SocketTimeoutException("connect timed out"));
      assertThat(h.endpoint(A1).ejections()).isEqualTo(1);
    }
  }

  @Test
  void refusedConnectionsCountEachTime() {
    try (Harness h = new Harness(b -> b.zones(ZonePolicy.defaults()))) {
      failTogether(h, "/refused/", new ConnectException("Connection refused"));
      assertThat(h.endpoint(A1).ejections()).isEqualTo(1);
    }
  }

  @Test
  void aClientOutOfPortsOrFileDescriptorsBlamesNoEndpointNorZone() {
    // The client's host ran out of ephemeral ports, then of file descriptors: before, each was a
    // refused connection of the home endpoint, which ejected it and, as a refusal corroborates an
    // outage by itself, evacuated the home zone past the cap.
    try (Harness h = new Harness(b -> b.zones(ZonePolicy.defaults()))) {
      h.failOnA1ThenServeOnB1(
          "/no-port/",
          5,
          e -> e.fail(new java.net.BindException("Cannot assign requested address")));
      h.failOnA1ThenServeOnB1(
          "/no-fd/", 5, e -> e.fail(new java.net.SocketException("Too many open files")));
      h.scheduler.advance(Duration.ofSeconds(2)); // zone judgement runs every second
      assertThat(h.endpoint(A1).breakerState()).isEqualTo("CLOSED");
      assertThat(h.events.of(FailoverEvent.EndpointEjected.class)).isEmpty();
      assertThat(h.events.of(FailoverEvent.ZoneEvacuated.class)).isEmpty();
    }
  }
}
