package dev.failover;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.core.IntervalFunction;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * An endpoint skips Resilience4j for a fast success while the breaker's window holds nothing but
 * fast successes (its counts would not change). These tests hold it to what Resilience4j itself
 * counts when given every outcome: a breaker of the same settings beside it, fed every attempt.
 */
class BreakerStreakTest {
  private static final Duration SLOW = Duration.ofMillis(100);

  private final FakeClock clock = new FakeClock();
  private final Zones3.Recorder recorder = new Zones3.Recorder();

  private EndpointState endpoint(EjectionPolicy policy) {
    return new EndpointState(
        "directory",
        Endpoint.of("http://127.0.0.1:9", "us-east-1", "us-east-1a"),
        0,
        policy,
        clock,
        clock,
        new Random(7),
        new Events(List.of(recorder)));
  }

  /**
   * A breaker with the endpoint's own settings, fed every outcome (its wait in the open state is
   * its own, so that opening it does not set the endpoint's ejection time).
   */
  private static CircuitBreaker reference(EndpointState ep) {
    return CircuitBreaker.of(
        "reference",
        CircuitBreakerConfig.from(ep.breaker.getCircuitBreakerConfig())
            .waitIntervalFunctionInOpenState(IntervalFunction.of(Duration.ofSeconds(5)))
            .build());
  }

  /** Opens only on a failure rate (of a window of {@code window} calls) or a slow-call rate. */
  private static EjectionPolicy policy(int failureRatePercent, int window) {
    return EjectionPolicy.defaults()
        .withConsecutiveFailures(1_000)
        .withFailureRate(failureRatePercent, window, window)
        .withSlowCalls(SLOW, 100);
  }

  private void attempt(EndpointState ep, CircuitBreaker ref, Outcome outcome, long nanos) {
    assertThat(ep.tryAcquire()).isTrue();
    assertThat(ref.tryAcquirePermission()).isTrue();
    ep.begin();
    ep.record(outcome, nanos, clock.nanos());
    if (outcome == Outcome.SUCCESS) {
      ref.onSuccess(nanos, TimeUnit.NANOSECONDS);
    } else {
      ref.onError(nanos, TimeUnit.NANOSECONDS, new IOException("refused"));
    }
  }

  private static void assertSameCounts(EndpointState ep, CircuitBreaker ref, int step) {
    CircuitBreaker.Metrics m = ep.breaker.getMetrics();
    CircuitBreaker.Metrics r = ref.getMetrics();
    assertThat(
            List.of(
                m.getNumberOfBufferedCalls(),
                m.getNumberOfFailedCalls(),
                m.getNumberOfSuccessfulCalls(),
                m.getNumberOfSlowCalls(),
                m.getNumberOfSlowSuccessfulCalls(),
                m.getFailureRate(),
                m.getSlowCallRate()))
        .as("counts after step %d", step)
        .isEqualTo(
            List.of(
                r.getNumberOfBufferedCalls(),
                r.getNumberOfFailedCalls(),
                r.getNumberOfSuccessfulCalls(),
                r.getNumberOfSlowCalls(),
                r.getNumberOfSlowSuccessfulCalls(),
                r.getFailureRate(),
                r.getSlowCallRate()));
    assertThat(ep.breaker.getState()).as("state after step %d", step).isEqualTo(ref.getState());
  }

  @Test
  void countsWhatResilience4jCountsWhenGivenEveryOutcome() {
    EndpointState ep = endpoint(policy(100, 20));
    CircuitBreaker ref = reference(ep);
    Random random = new Random(11);
    int skipping = 0;
    int failuresInARow = 0;
    for (int step = 0; step < 5_000; step++) {
      int dice = random.nextInt(100);
      if (dice < 4 && failuresInARow < 3) {
        failuresInARow++;
        attempt(ep, ref, Outcome.CONNECT_FAILED, TimeUnit.MILLISECONDS.toNanos(2));
      } else {
        failuresInARow = 0;
        // Slow successes now and then, and one exactly at the threshold (which is not slow).
        long nanos =
            dice < 8
                ? SLOW.toNanos() + 1 + random.nextInt(300_000_000)
                : dice == 8 ? SLOW.toNanos() : 1 + random.nextInt(50_000_000);
        if (ep.skipsFastSuccesses()) {
          skipping++;
        }
        attempt(ep, ref, Outcome.SUCCESS, nanos);
      }
      assertSameCounts(ep, ref, step);
    }
    assertThat(ep.breaker.getState()).isEqualTo(CircuitBreaker.State.CLOSED);
    // The comparison covered skipped successes, not only recorded ones.
    assertThat(skipping).isGreaterThan(500);
  }

  @Test
  void opensAtTheSameCallAsResilience4jAndCountsAfreshOnceClosedAgain() {
    EndpointState ep =
        endpoint(
            policy(50, 10)
                .withEjectionTime(Duration.ofSeconds(5), Duration.ofSeconds(60))
                .withHalfOpenProbes(1));
    CircuitBreaker ref = reference(ep);
    int step = 0;
    for (int round = 0; round < 2; round++) {
      for (int i = 0; i < 30; i++, step++) {
        attempt(ep, ref, Outcome.SUCCESS, TimeUnit.MILLISECONDS.toNanos(3));
        assertSameCounts(ep, ref, step);
      }
      assertThat(ep.skipsFastSuccesses()).isTrue();
      // Failures and fast successes alternate: the window reaches half failures after 5 of each.
      while (ep.breaker.getState() == CircuitBreaker.State.CLOSED) {
        attempt(ep, ref, Outcome.CONNECT_FAILED, TimeUnit.MILLISECONDS.toNanos(2));
        assertSameCounts(ep, ref, step++);
        if (ep.breaker.getState() == CircuitBreaker.State.CLOSED) {
          attempt(ep, ref, Outcome.SUCCESS, TimeUnit.MILLISECONDS.toNanos(3));
          assertSameCounts(ep, ref, step++);
        }
        assertThat(step).isLessThan(200);
      }
      assertThat(ep.breaker.getState()).isEqualTo(CircuitBreaker.State.OPEN);
      // One probe after the ejection closes it, with a new window; so does the reference's.
      clock.advance(Duration.ofSeconds(80));
      assertThat(ep.tryAcquire()).isTrue();
      ep.begin();
      ep.record(Outcome.SUCCESS, TimeUnit.MILLISECONDS.toNanos(3), clock.nanos());
      assertThat(ep.breaker.getState()).isEqualTo(CircuitBreaker.State.CLOSED);
      assertThat(ep.skipsFastSuccesses()).isFalse();
      ref = reference(ep);
    }
  }

  @Test
  void noFailureStaysInTheWindowOnceFastSuccessesFillItWhateverTheThreadsDid() throws Exception {
    EjectionPolicy policy = policy(100, 20);
    EndpointState ep = endpoint(policy);
    int threads = 4;
    CyclicBarrier start = new CyclicBarrier(threads);
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int id = t;
        done.add(
            pool.submit(
                () -> {
                  start.await();
                  for (int i = 0; i < 20_000; i++) {
                    // One thread in four fails one attempt in 40: never a whole window of them.
                    Outcome o = id == 0 && i % 40 == 0 ? Outcome.CONNECT_FAILED : Outcome.SUCCESS;
                    ep.tryAcquire();
                    ep.begin();
                    ep.record(o, TimeUnit.MILLISECONDS.toNanos(1), clock.nanos());
                  }
                  return null;
                }));
      }
      for (Future<?> f : done) {
        f.get(60, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(ep.breaker.getState()).isEqualTo(CircuitBreaker.State.CLOSED);
    // Whatever order the threads' outcomes took, a window's worth of fast successes after them
    // leaves no failure in the window.
    for (int i = 0; i < policy.windowSize(); i++) {
      ep.tryAcquire();
      ep.begin();
      ep.record(Outcome.SUCCESS, TimeUnit.MILLISECONDS.toNanos(1), clock.nanos());
    }
    assertThat(ep.breaker.getMetrics().getNumberOfFailedCalls()).isZero();
    assertThat(ep.breaker.getMetrics().getNumberOfBufferedCalls()).isEqualTo(20);
  }
}
