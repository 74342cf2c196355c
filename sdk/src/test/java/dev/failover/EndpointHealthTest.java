package dev.failover;

import static org.assertj.core.api.Assertions.assertThat;

import dev.failover.FailoverSnapshot.Health;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class EndpointHealthTest {
  private final FakeClock clock = new FakeClock();
  private final List<FailoverEvent> events = new ArrayList<>();
  private final EjectionPolicy policy =
      EjectionPolicy.defaults().withEjectionTime(Duration.ofSeconds(5), Duration.ofSeconds(60));
  private final EndpointState ep =
      new EndpointState(
          "directory",
          Endpoint.of("http://127.0.0.1:9", "us-east-1", "us-east-1a"),
          0,
          policy,
          clock,
          clock,
          new Random(7),
          new Events(
              List.of(
                  new FailoverListener() {
                    @Override
                    public void onEjected(FailoverEvent.EndpointEjected e) {
                      events.add(e);
                    }

                    @Override
                    public void onRestored(FailoverEvent.EndpointRestored e) {
                      events.add(e);
                    }
                  })));

  private void attempt(Outcome outcome) {
    assertThat(ep.tryAcquire()).isTrue();
    ep.begin();
    ep.record(outcome, TimeUnit.MILLISECONDS.toNanos(3), clock.nanos());
  }

  @Test
  void consecutiveFailuresEjectAndProbesRestore() {
    for (int i = 0; i < 4; i++) {
      attempt(Outcome.CONNECT_FAILED);
    }
    assertThat(ep.health(clock.nanos())).isEqualTo(Health.HEALTHY);
    attempt(Outcome.RESET);
    assertThat(ep.health(clock.nanos())).isEqualTo(Health.EJECTED);
    assertThat(ep.tryAcquire()).isFalse();
    assertThat(events).singleElement().isInstanceOf(FailoverEvent.EndpointEjected.class);
    Duration first = ((FailoverEvent.EndpointEjected) events.get(0)).duration();
    assertThat(first).isBetween(Duration.ofSeconds(4), Duration.ofSeconds(6));

    // Still ejected just before the ejection time ends (jitter is at least -20%).
    clock.advance(Duration.ofMillis(3900));
    assertThat(ep.health(clock.nanos())).isEqualTo(Health.EJECTED);
    clock.advance(Duration.ofMillis(2200));
    assertThat(ep.health(clock.nanos())).isEqualTo(Health.PROBING);

    // Half-open: three probes are let through, then no more until they report.
    attempt(Outcome.SUCCESS);
    attempt(Outcome.SUCCESS);
    assertThat(ep.health(clock.nanos())).isEqualTo(Health.PROBING);
    attempt(Outcome.SUCCESS);
    assertThat(ep.health(clock.nanos())).isEqualTo(Health.HEALTHY);
    assertThat(events.get(1)).isInstanceOf(FailoverEvent.EndpointRestored.class);
  }

  @Test
  void repeatedEjectionGrowsTheEjectionTime() {
    // Timeouts count once per slice of time each: one stall is one piece of evidence.
    for (int i = 0; i < 5; i++) {
      attempt(Outcome.TIMEOUT);
      clock.advance(Duration.ofMillis(300));
    }
    clock.advance(Duration.ofSeconds(7));
    // The half-open probe fails: ejected again, for about twice as long.
    attempt(Outcome.TIMEOUT);
    clock.advance(Duration.ofMillis(300));
    attempt(Outcome.TIMEOUT);
    clock.advance(Duration.ofMillis(300));
    attempt(Outcome.TIMEOUT);
    assertThat(ep.health(clock.nanos())).isEqualTo(Health.EJECTED);
    Duration second = ((FailoverEvent.EndpointEjected) events.get(events.size() - 1)).duration();
    assertThat(second).isBetween(Duration.ofSeconds(8), Duration.ofSeconds(12));
    clock.advance(Duration.ofSeconds(7));
    assertThat(ep.health(clock.nanos())).isEqualTo(Health.EJECTED);
  }

  @Test
  void ejectionTimeIsCappedAndJittered() {
    Random r = new Random(1);
    for (int attempt = 1; attempt < 40; attempt++) {
      long ms = EndpointState.ejectionMillis(5000, 60000, attempt, r);
      long expected = Math.min(60000, 5000L << Math.min(attempt - 1, 20));
      assertThat(ms).isBetween((long) (expected * 0.8), (long) (expected * 1.2));
    }
  }

  @Test
  void failureRateEjectsWithoutAStreak() {
    // 50% failures, alternating, never 5 in a row: the rate rule ejects after the minimum calls.
    for (int i = 0; i < 20; i++) {
      attempt(i % 2 == 0 ? Outcome.UNAVAILABLE : Outcome.SUCCESS);
    }
    assertThat(ep.health(clock.nanos())).isEqualTo(Health.EJECTED);
  }

  @Test
  void clientErrorsAndThrottlingDoNotEject() {
    for (int i = 0; i < 30; i++) {
      attempt(i % 2 == 0 ? Outcome.THROTTLED : Outcome.SUCCESS);
    }
    assertThat(ep.health(clock.nanos())).isEqualTo(Health.HEALTHY);
  }

  @Test
  void retryAfterHoldsAnEndpointOff() {
    ep.holdOff(clock.nanos(), clock.nanos() + Duration.ofSeconds(2).toNanos());
    assertThat(ep.health(clock.nanos())).isEqualTo(Health.HELD_OFF);
    clock.advance(Duration.ofMillis(2001));
    assertThat(ep.health(clock.nanos())).isEqualTo(Health.HEALTHY);
  }

  /**
   * A success of an attempt sent after the pause was asked for (routing panicked and sent there)
   * takes the pause off its zone's count of endpoints out; routing still waits it out, as the
   * server asked.
   */
  @Test
  void aSuccessSentAfterTheRetryAfterTakesThePauseOffItsZonesCount() {
    long askedAt = clock.nanos();
    ep.holdOff(askedAt, askedAt + Duration.ofSeconds(5).toNanos());
    assertThat(ep.outForItsZone(clock.nanos())).isTrue();
    clock.advance(Duration.ofMillis(100));
    long sentAt = clock.nanos();
    clock.advance(Duration.ofMillis(5));
    ep.successAfterHoldOff(sentAt, clock.nanos());
    assertThat(ep.health(clock.nanos())).isEqualTo(Health.HELD_OFF);
    assertThat(ep.outForItsZone(clock.nanos())).isFalse();
    clock.advance(Duration.ofSeconds(5));
    assertThat(ep.health(clock.nanos())).isEqualTo(Health.HEALTHY);
  }

  /**
   * One sent before the pause was asked for, or before any later Retry-After (one that extends the
   * pause, or one asking for less than what remains), does not.
   */
  @Test
  void aSuccessSentBeforeTheLatestRetryAfterCountsForNothing() {
    long earlier = clock.nanos();
    clock.advance(Duration.ofMillis(10));
    long firstAsk = clock.nanos();
    ep.holdOff(firstAsk, firstAsk + Duration.ofSeconds(5).toNanos());
    clock.advance(Duration.ofMillis(10));
    ep.successAfterHoldOff(earlier, clock.nanos()); // in flight when the 503 came
    assertThat(ep.outForItsZone(clock.nanos())).isTrue();

    long between = clock.nanos();
    clock.advance(Duration.ofMillis(10));
    long secondAsk = clock.nanos();
    ep.holdOff(secondAsk, secondAsk + Duration.ofSeconds(5).toNanos()); // extends it
    clock.advance(Duration.ofMillis(10));
    ep.successAfterHoldOff(between, clock.nanos()); // sent before the second ask
    assertThat(ep.outForItsZone(clock.nanos())).isTrue();

    long beforeShorter = clock.nanos();
    clock.advance(Duration.ofMillis(10));
    // A shorter Retry-After inside the pause does not shorten it, but is the newest word.
    ep.holdOff(clock.nanos(), clock.nanos() + Duration.ofSeconds(1).toNanos());
    long shorterAsk = clock.nanos();
    ep.successAfterHoldOff(beforeShorter, clock.nanos());
    assertThat(ep.outForItsZone(clock.nanos())).isTrue();
    clock.advance(Duration.ofSeconds(2));
    assertThat(ep.health(clock.nanos())).isEqualTo(Health.HELD_OFF); // the longer pause runs on

    ep.successAfterHoldOff(shorterAsk, clock.nanos()); // sent as the last ask arrived: after it
    assertThat(ep.outForItsZone(clock.nanos())).isFalse();
    assertThat(ep.health(clock.nanos())).isEqualTo(Health.HELD_OFF);
  }

  @Test
  void healthCheckDownWinsAndRecoveryHalfOpensTheBreaker() {
    for (int i = 0; i < 5; i++) {
      attempt(Outcome.CONNECT_FAILED);
    }
    ep.setDown(true);
    assertThat(ep.health(clock.nanos())).isEqualTo(Health.DOWN);
    ep.setDown(false);
    ep.probeRecovered();
    assertThat(ep.health(clock.nanos())).isEqualTo(Health.PROBING);
  }
}
