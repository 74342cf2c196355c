package dev.failover;

import static org.assertj.core.api.Assertions.assertThat;

import dev.failover.FailoverSnapshot.Health;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.core.EventProcessor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * How an endpoint sees its breaker's transitions without a consumer on the breaker's event
 * publisher: each transition into OPEN is one ejection (counted, announced), each into CLOSED one
 * restore, whichever call into the breaker made it, and once however many threads race.
 */
class EndpointStateTest {
  private final FakeClock clock = new FakeClock();
  private final Zones3.Recorder recorder = new Zones3.Recorder();
  private final List<FailoverEvent> events = recorder.events;
  private final Endpoint endpoint = Endpoint.of("http://127.0.0.1:9", "us-east-1", "us-east-1a");

  private EndpointState endpoint(EjectionPolicy policy) {
    return new EndpointState(
        "directory",
        endpoint,
        0,
        policy,
        clock,
        clock,
        new Random(7),
        new Events(List.of(recorder)));
  }

  private final EndpointState ep =
      endpoint(
          EjectionPolicy.defaults()
              .withEjectionTime(Duration.ofSeconds(5), Duration.ofSeconds(60))
              .withHalfOpenProbes(1));

  private void attempt(EndpointState s, Outcome outcome, Duration took) {
    assertThat(s.tryAcquire()).isTrue();
    s.begin();
    s.record(outcome, took.toNanos(), clock.nanos());
  }

  private void eject(EndpointState s) {
    for (int i = 0; i < 5; i++) {
      attempt(s, Outcome.CONNECT_FAILED, Duration.ofMillis(3));
    }
    assertThat(s.health(clock.nanos())).isEqualTo(Health.EJECTED);
  }

  /** A connection, for its identity; its socket closed if {@code closed}. */
  private static final class FakeConnection implements okhttp3.Connection {
    private final java.net.Socket socket = new java.net.Socket();

    FakeConnection() {}

    FakeConnection(boolean closed) throws java.io.IOException {
      if (closed) {
        socket.close();
      }
    }

    @Override
    public okhttp3.Route route() {
      throw new UnsupportedOperationException();
    }

    @Override
    public java.net.Socket socket() {
      return socket;
    }

    @Override
    public okhttp3.@org.jspecify.annotations.Nullable Handshake handshake() {
      return null;
    }

    @Override
    public okhttp3.Protocol protocol() {
      return okhttp3.Protocol.H2_PRIOR_KNOWLEDGE;
    }
  }

  /**
   * A connection whose socket failed fails every stream with the same exception: one loss. Streams
   * failed with resets of their own are one loss only as streams of a connection closed under them
   * (given up), both of them; another connection, or the same one after another loss was noted,
   * counts again.
   */
  @Test
  void oneConnectionThatDiesIsOneLoss() {
    okhttp3.Connection c1 = new FakeConnection();
    okhttp3.Connection c2 = new FakeConnection();
    java.io.IOException reset = new java.net.SocketException("Connection reset");
    assertThat(ep.sameLoss(new EndpointState.Loss(c1, reset, false))).isFalse();
    assertThat(ep.sameLoss(new EndpointState.Loss(c1, reset, false))).isTrue();
    // A stream reset of its own on the connection given up: not the socket's failure noted.
    java.io.IOException cancel1 = new java.io.IOException("stream was reset: CANCEL");
    assertThat(ep.sameLoss(new EndpointState.Loss(c1, cancel1, true))).isFalse();
    java.io.IOException cancel2 = new java.io.IOException("stream was reset: CANCEL");
    assertThat(ep.sameLoss(new EndpointState.Loss(c1, cancel2, true))).isTrue();
    java.io.IOException other = new java.io.IOException("y");
    assertThat(ep.sameLoss(new EndpointState.Loss(c1, other, false))).isFalse();
    assertThat(ep.sameLoss(new EndpointState.Loss(c2, other, true))).isFalse();
    assertThat(ep.sameLoss(new EndpointState.Loss(c2, other, false))).isTrue();
    assertThat(ep.sameLoss(null)).isFalse();
  }

  /**
   * A stream the server reset counted first on a connection (not given up): the connection's death
   * that follows, its streams closed under them, is a loss of its own.
   */
  @Test
  void aDeathAfterAStreamResetOnTheSameConnectionCounts() {
    okhttp3.Connection c = new FakeConnection();
    java.io.IOException reset = new java.io.IOException("stream was reset: CANCEL");
    assertThat(ep.sameLoss(new EndpointState.Loss(c, reset, false))).isFalse();
    java.io.IOException dead1 = new java.io.IOException("stream was reset: CANCEL");
    java.io.IOException dead2 = new java.io.IOException("stream was reset: CANCEL");
    assertThat(ep.sameLoss(new EndpointState.Loss(c, dead1, true))).isFalse();
    assertThat(ep.sameLoss(new EndpointState.Loss(c, dead2, true))).isTrue();
  }

  /**
   * An attempt's loss is how it ended only if the failure that ended it is the one noted: OkHttp
   * (or an interceptor) that tried it again on a new connection, refused, ends it with another
   * failure, which counts on its own. A new connection forgets the noted loss (CallStateMachine's
   * connectStart).
   */
  @Test
  void aLossIsTheAttemptsOnlyIfItsFailureEndedIt() {
    ClientCore.AttemptTag tag = new ClientCore.AttemptTag(true);
    java.io.IOException reset = new java.net.SocketException("Connection reset");
    EndpointState.Loss loss = new EndpointState.Loss(new FakeConnection(), reset, false);
    assertThat(CallStateMachine.lossOf(tag, reset)).isNull();
    tag.loss = loss;
    assertThat(CallStateMachine.lossOf(tag, reset)).isSameAs(loss);
    assertThat(CallStateMachine.lossOf(tag, new java.net.ConnectException("refused"))).isNull();
    assertThat(CallStateMachine.lossOf(tag, null)).isNull();
  }

  /** An ejected endpoint's failures count each: a trial attempt's is never excused. */
  @Test
  void noLossIsMergedWhileTheBreakerIsNotClosed() {
    eject(ep);
    okhttp3.Connection c = new FakeConnection();
    java.io.IOException reset = new java.net.SocketException("Connection reset");
    assertThat(ep.sameLoss(new EndpointState.Loss(c, reset, true))).isFalse();
    assertThat(ep.sameLoss(new EndpointState.Loss(c, reset, true))).isFalse();
  }

  /**
   * How OkHttp fails the streams of a connection that dies: the socket's own failure, or a reset
   * with CANCEL (closed under them); not a reset the server sent for one stream.
   */
  @Test
  void whatAConnectionThatDiesFailsItsStreamsWith() {
    assertThat(Classifier.connectionFailure(new java.net.SocketException("Connection reset")))
        .isTrue();
    assertThat(Classifier.connectionFailure(new java.io.EOFException())).isTrue();
    assertThat(
            Classifier.connectionFailure(
                new okhttp3.internal.http2.StreamResetException(
                    okhttp3.internal.http2.ErrorCode.CANCEL)))
        .isTrue();
    for (okhttp3.internal.http2.ErrorCode code :
        List.of(
            okhttp3.internal.http2.ErrorCode.INTERNAL_ERROR,
            okhttp3.internal.http2.ErrorCode.PROTOCOL_ERROR,
            okhttp3.internal.http2.ErrorCode.REFUSED_STREAM)) {
      assertThat(
              Classifier.connectionFailure(new okhttp3.internal.http2.StreamResetException(code)))
          .as(code.name())
          .isFalse();
    }
  }

  /**
   * Only a CANCEL reset on a connection given up is a stream closed under its connection; another
   * failure there (a malformed answer on a connection draining after a GOAWAY) is not.
   */
  @Test
  void onlyACancelOnAConnectionGivenUpIsAStreamClosedUnderIt() throws java.io.IOException {
    okhttp3.Connection closed = new FakeConnection(true);
    okhttp3.Connection open = new FakeConnection(false);
    java.io.IOException cancel =
        new okhttp3.internal.http2.StreamResetException(okhttp3.internal.http2.ErrorCode.CANCEL);
    assertThat(Classifier.givenUpUnder(closed, cancel)).isTrue();
    assertThat(Classifier.givenUpUnder(open, cancel)).isFalse();
    assertThat(Classifier.givenUpUnder(closed, new java.net.ProtocolException("bad"))).isFalse();
  }

  private List<Class<?>> kinds() {
    List<Class<?>> kinds = new ArrayList<>();
    for (FailoverEvent e : events) {
      kinds.add(e.getClass());
    }
    return kinds;
  }

  @Test
  void theBreakerHasNoEventConsumerSoItBuildsNoEventPerCall() {
    eject(ep);
    clock.advance(Duration.ofSeconds(7));
    attempt(ep, Outcome.SUCCESS, Duration.ofMillis(3));
    assertThat(ep.breaker.getState()).isEqualTo(CircuitBreaker.State.CLOSED);
    // Resilience4j builds an event (with a timestamp and a duration) on every success and error
    // only when its publisher has a consumer.
    assertThat(((EventProcessor<?>) ep.breaker.getEventPublisher()).hasConsumers()).isFalse();
    assertThat(kinds())
        .containsExactly(FailoverEvent.EndpointEjected.class, FailoverEvent.EndpointRestored.class);
  }

  @Test
  void aFailedHalfOpenProbeIsASecondEjectionAndTheEventsNameTheEndpoint() {
    eject(ep);
    clock.advance(Duration.ofSeconds(7));
    // The permission half-opens the breaker (no event); the probe's failure opens it again.
    assertThat(ep.tryAcquire()).isTrue();
    assertThat(ep.breaker.getState()).isEqualTo(CircuitBreaker.State.HALF_OPEN);
    assertThat(events).hasSize(1);
    ep.begin();
    ep.record(Outcome.RESET, TimeUnit.MILLISECONDS.toNanos(3), clock.nanos());
    assertThat(ep.health(clock.nanos())).isEqualTo(Health.EJECTED);
    assertThat(kinds())
        .containsExactly(FailoverEvent.EndpointEjected.class, FailoverEvent.EndpointEjected.class);
    FailoverEvent.EndpointEjected second = (FailoverEvent.EndpointEjected) events.get(1);
    assertThat(second.endpoint()).isEqualTo(endpoint);
    assertThat(second.service()).isEqualTo("directory");
    assertThat(second.cause()).isEqualTo(FailoverEvent.Cause.CIRCUIT_BREAKER);
    assertThat(second.duration()).isBetween(Duration.ofSeconds(8), Duration.ofSeconds(12));
    assertThat(ep.snapshot(clock.nanos()).ejections()).isEqualTo(2);
  }

  @Test
  void anOpenBreakerOpenedAgainKeepsItsEjectionAndTheNextOneDoublesOnce() {
    eject(ep);
    // What open() does when the breaker tripped itself on its failure rate between open()'s look
    // at its state and its transition: Resilience4j moves OPEN to OPEN and numbers it a second
    // ejection.
    clock.advance(Duration.ofSeconds(1));
    ep.breaker.transitionToOpenState();
    assertThat(ep.breaker.getState()).isEqualTo(CircuitBreaker.State.OPEN);
    // The first ejection's end holds (5 s +-20% from its start), not a doubled one from now.
    clock.advance(Duration.ofMillis(5_100));
    assertThat(ep.health(clock.nanos())).isEqualTo(Health.PROBING);
    assertThat(ep.snapshot(clock.nanos()).ejections()).isEqualTo(1);
    // A failed half-open probe is the second ejection: twice the base, not four times.
    assertThat(ep.tryAcquire()).isTrue();
    ep.begin();
    ep.record(Outcome.RESET, TimeUnit.MILLISECONDS.toNanos(3), clock.nanos());
    FailoverEvent.EndpointEjected second = (FailoverEvent.EndpointEjected) events.get(1);
    assertThat(second.duration()).isBetween(Duration.ofSeconds(8), Duration.ofSeconds(12));
    // And after a close the count starts again from the base.
    clock.advance(Duration.ofSeconds(13));
    attempt(ep, Outcome.SUCCESS, Duration.ofMillis(3));
    assertThat(ep.breaker.getState()).isEqualTo(CircuitBreaker.State.CLOSED);
    eject(ep);
    FailoverEvent.EndpointEjected third = (FailoverEvent.EndpointEjected) events.get(3);
    assertThat(third.duration()).isBetween(Duration.ofSeconds(4), Duration.ofSeconds(6));
  }

  @Test
  void aHealthCheckHalfOpensWithoutAnEventAndAProbeThatAnswersRestoresOnce() {
    eject(ep);
    ep.probeRecovered();
    assertThat(ep.breaker.getState()).isEqualTo(CircuitBreaker.State.HALF_OPEN);
    assertThat(events).hasSize(1);
    attempt(ep, Outcome.SUCCESS, Duration.ofMillis(3));
    assertThat(ep.breaker.getState()).isEqualTo(CircuitBreaker.State.CLOSED);
    // Restored with slow start: its share of traffic starts again from 10%.
    assertThat(ep.ramp(clock.nanos(), Duration.ofSeconds(30).toNanos())).isEqualTo(0.1);
    ep.restoreNow(); // already closed: nothing happens
    assertThat(kinds())
        .containsExactly(FailoverEvent.EndpointEjected.class, FailoverEvent.EndpointRestored.class);
  }

  @Test
  void anAttemptWithoutAPermissionThatAnswersRestoresAnEjectedEndpointOnce() {
    eject(ep);
    ep.begin();
    // Sent in panic or as a last resort: no permission, and its success closes the breaker.
    ep.record(
        Outcome.SUCCESS, TimeUnit.MILLISECONDS.toNanos(3), clock.nanos(), false, false, false);
    ep.restoreNow();
    assertThat(ep.health(clock.nanos())).isEqualTo(Health.HEALTHY);
    assertThat(kinds())
        .containsExactly(FailoverEvent.EndpointEjected.class, FailoverEvent.EndpointRestored.class);
    // The streak starts again after the restore: four more failures do not eject.
    for (int i = 0; i < 4; i++) {
      attempt(ep, Outcome.CONNECT_FAILED, Duration.ofMillis(3));
    }
    assertThat(ep.health(clock.nanos())).isEqualTo(Health.HEALTHY);
  }

  @Test
  void slowSuccessesEjectThroughTheBreakersSlowCallRate() {
    EndpointState slow =
        endpoint(
            EjectionPolicy.defaults()
                .withSlowCalls(Duration.ofMillis(100), 50)
                .withFailureRate(50, 10, 10));
    for (int i = 0; i < 10; i++) {
      attempt(slow, Outcome.SUCCESS, Duration.ofMillis(500));
    }
    assertThat(slow.health(clock.nanos())).isEqualTo(Health.EJECTED);
    assertThat(kinds()).containsExactly(FailoverEvent.EndpointEjected.class);
  }

  @Test
  void threadsThatFailAtOnceEjectTheEndpointOnce() throws Exception {
    int threads = 4;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      CountDownLatch start = new CountDownLatch(1);
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        done.add(
            pool.submit(
                () -> {
                  start.await();
                  for (int i = 0; i < 50; i++) {
                    ep.begin();
                    ep.record(
                        Outcome.CONNECT_FAILED,
                        TimeUnit.MILLISECONDS.toNanos(3),
                        clock.nanos(),
                        false,
                        false,
                        true);
                  }
                  return null;
                }));
      }
      start.countDown();
      for (Future<?> f : done) {
        f.get(30, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(ep.health(clock.nanos())).isEqualTo(Health.EJECTED);
    assertThat(kinds()).containsExactly(FailoverEvent.EndpointEjected.class);
    assertThat(ep.snapshot(clock.nanos()).ejections()).isEqualTo(1);
  }

  @Test
  void aSuccessThatRanAcrossAPauseOfTheClientFeedsNoLatencyEstimate() {
    for (int i = 0; i < 20; i++) {
      attempt(ep, Outcome.SUCCESS, Duration.ofMillis(5));
      clock.advance(Duration.ofMillis(50));
    }
    double before = ep.latency.cost(clock.nanos());
    // A 3 s success across a 1 s pause of the client: too long for the stall to explain it (no
    // excuse as evidence), but what it measured was the pause. Before, Peak-EWMA took it as a 3 s
    // peak at once and steered the endpoint's traffic away for tens of seconds.
    assertThat(ep.tryAcquire()).isTrue();
    ep.begin();
    ep.record(
        Outcome.SUCCESS,
        Duration.ofSeconds(3).toNanos(),
        clock.nanos(),
        false,
        false,
        true,
        false,
        true);
    assertThat(ep.latency.cost(clock.nanos())).isEqualTo(before);
  }
}
