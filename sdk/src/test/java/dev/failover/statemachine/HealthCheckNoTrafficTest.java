package dev.failover.statemachine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.failover.FailoverEvent;
import dev.failover.HealthCheck;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Health checks of a client without traffic, on fake time: once it has started no call for {@code
 * noTrafficInterval}, each endpoint is probed once per {@code noTrafficInterval}, up or down, and
 * the first call after the lull brings the usual rate back within one interval. This is what keeps
 * an idle client, such as one in a cached Spring test context, from probing (and judging) its
 * endpoints every interval.
 */
class HealthCheckNoTrafficTest {

  private static final long SECOND = 1_000_000_000L;
  private static final Duration NO_TRAFFIC = Duration.ofSeconds(10);

  /** Probes every 1 s (200 ms while down); every 10 s without calls; the timeout never fires. */
  private static final HealthCheck CHECK =
      HealthCheck.http("/health")
          .withInterval(Duration.ofSeconds(1))
          .withDownInterval(Duration.ofMillis(200))
          .withTimeout(Duration.ofSeconds(60))
          .withNoTrafficInterval(NO_TRAFFIC);

  /** Fake times (nanos since the client was built) at which each endpoint was probed, by host. */
  private final Map<String, List<Long>> probes = new LinkedHashMap<>();

  /** The fake time at which the client was built. */
  private long t0;

  private Harness harness(HealthCheck check) {
    Harness h = new Harness(b -> b.healthCheck(check));
    t0 = h.scheduler.now();
    return h;
  }

  @Test
  void anIdleClientProbesOncePerNoTrafficIntervalAndACallBringsTheUsualRateBack() {
    try (Harness h = harness(CHECK)) {
      call(h, "/users/1"); // at time 0
      runProbes(h, 40 * SECOND, 200);

      for (String host : List.of(Harness.A1, Harness.B1, Harness.W1)) {
        List<Long> times = probes.get(host);
        // Busy for 10 s after the call (counted from the checker's first look, within 2.4 s):
        // every second, jittered by 20%.
        assertThat(gaps(times, 0, 10 * SECOND)).allSatisfy(g -> assertThat(g).isBetween(0.8, 1.2));
        // Idle from 12.4 s at the latest: once per 10 s, the first idle probe no later than 1.2 s
        // (one look) after 10 s since the one before.
        assertThat(gaps(times, 13 * SECOND, 40 * SECOND))
            .isNotEmpty()
            .allSatisfy(g -> assertThat(g).isBetween(10.0, 11.2));
        assertThat(count(times, 13 * SECOND, 40 * SECOND)).isBetween(2, 3);
      }

      long callAt = h.scheduler.now() - t0;
      call(h, "/users/2");
      runProbes(h, callAt + 5 * SECOND, 200);
      for (String host : List.of(Harness.A1, Harness.B1, Harness.W1)) {
        List<Long> after = since(probes.get(host), callAt);
        // The first look after the call probes: within one interval; then every interval.
        assertThat(after.get(0) - callAt).isLessThanOrEqualTo(1_200_000_000L);
        assertThat(gaps(after, callAt, callAt + 5 * SECOND))
            .hasSizeGreaterThanOrEqualTo(3)
            .allSatisfy(g -> assertThat(g).isBetween(0.8, 1.2));
      }
    }
  }

  @Test
  void aDownEndpointOfAnIdleClientIsProbedOncePerNoTrafficIntervalAndStillJudged() {
    try (Harness h = harness(CHECK)) {
      call(h, "/users/1");
      // Every probe of a1 fails: down after two, then probed every 200 ms while the client is busy.
      runProbes(h, 40 * SECOND, 503);

      assertThat(h.events.of(FailoverEvent.EndpointEjected.class))
          .singleElement()
          .satisfies(e -> assertThat(e.endpoint().url().host()).isEqualTo(Harness.A1));
      List<Long> a1 = probes.get(Harness.A1);
      assertThat(gaps(a1, 3 * SECOND, 10 * SECOND))
          .isNotEmpty()
          .allSatisfy(g -> assertThat(g).isBetween(0.16, 0.24));
      // Idle: once per 10 s, down or not, instead of five times a second.
      assertThat(gaps(a1, 13 * SECOND, 40 * SECOND))
          .isNotEmpty()
          .allSatisfy(g -> assertThat(g).isBetween(10.0, 10.24));
      // Still failing, it stays down; the others stay up.
      assertThat(h.client.snapshot().zones().get(0).endpoints().get(0).health())
          .isEqualTo(dev.failover.FailoverSnapshot.Health.DOWN);
      assertThat(h.events.of(FailoverEvent.EndpointEjected.class)).hasSize(1);
    }
  }

  @Test
  void aNewClientWithoutCallsProbesAtTheUsualRateForItsFirstNoTrafficInterval() {
    try (Harness h = harness(CHECK)) {
      runProbes(h, 30 * SECOND, 200);
      for (String host : List.of(Harness.A1, Harness.B1, Harness.W1)) {
        List<Long> times = probes.get(host);
        assertThat(gaps(times, 0, 10 * SECOND)).allSatisfy(g -> assertThat(g).isBetween(0.8, 1.2));
        assertThat(gaps(times, 13 * SECOND, 30 * SECOND))
            .allSatisfy(g -> assertThat(g).isBetween(10.0, 11.2));
      }
    }
  }

  @Test
  void aNoTrafficIntervalNoLongerThanTheIntervalChangesNothing() {
    HealthCheck check = CHECK.withNoTrafficInterval(Duration.ofMillis(500));
    try (Harness h = harness(check)) {
      runProbes(h, 20 * SECOND, 200);
      for (String host : List.of(Harness.A1, Harness.B1, Harness.W1)) {
        assertThat(gaps(probes.get(host), 0, 20 * SECOND))
            .hasSizeGreaterThanOrEqualTo(15)
            .allSatisfy(g -> assertThat(g).isBetween(0.8, 1.2));
      }
    }
  }

  /**
   * Equal to the interval changes nothing either, for endpoints up or down. Before, an idle client
   * skipped each probe its jitter brought due less than the interval after the one before, and
   * probed a down endpoint once per interval instead of once per downInterval.
   */
  @Test
  void aNoTrafficIntervalEqualToTheIntervalChangesNothingUpOrDown() {
    HealthCheck check = CHECK.withNoTrafficInterval(Duration.ofSeconds(1));
    try (Harness h = harness(check)) {
      runProbes(h, 20 * SECOND, 503);
      for (String host : List.of(Harness.B1, Harness.W1)) {
        assertThat(gaps(probes.get(host), 0, 20 * SECOND))
            .hasSizeGreaterThanOrEqualTo(15)
            .allSatisfy(g -> assertThat(g).isBetween(0.8, 1.2));
      }
      // a1 fails every probe: down after two, then probed every 200 ms, idle client or not.
      assertThat(gaps(probes.get(Harness.A1), 3 * SECOND, 20 * SECOND))
          .hasSizeGreaterThanOrEqualTo(60)
          .allSatisfy(g -> assertThat(g).isBetween(0.16, 0.24));
    }
  }

  @Test
  void theNoTrafficIntervalIsCheckedAndDefaultsToEnvoys60Seconds() {
    assertThat(HealthCheck.http("/health").noTrafficInterval()).isEqualTo(Duration.ofSeconds(60));
    assertThat(HealthCheck.off().noTrafficInterval()).isEqualTo(Duration.ofSeconds(60));
    // A health check built without the setting (as code from before it existed) keeps the default.
    HealthCheck old =
        HealthCheck.builder()
            .path("/health")
            .interval(Duration.ofSeconds(2))
            .downInterval(Duration.ofMillis(500))
            .timeout(Duration.ofSeconds(1))
            .healthyThreshold(2)
            .unhealthyThreshold(2)
            .build();
    assertThat(old).isEqualTo(HealthCheck.http("/health"));
    assertThat(CHECK.withNoTrafficInterval(Duration.ofMinutes(5)).noTrafficInterval())
        .isEqualTo(Duration.ofMinutes(5));
    assertThatThrownBy(() -> CHECK.withNoTrafficInterval(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("health check noTrafficInterval must be positive but was PT0S");
    assertThatThrownBy(() -> CHECK.withNoTrafficInterval(Duration.ofHours(25)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("health check noTrafficInterval must be between 1 ms and 24 h but was PT25H");
    assertThatThrownBy(() -> CHECK.withNoTrafficInterval(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("health check noTrafficInterval");
  }

  /** One call, answered at once; returns when it has finished. */
  private static void call(Harness h, String path) {
    RecordingCallback cb = new RecordingCallback();
    h.enqueue(Harness.get(path), cb);
    FakeTransport.Exchange attempt = h.transport.next();
    assertThat(attempt.path()).isEqualTo(path);
    attempt.respond(200);
    assertThat(cb.awaitStatus()).isEqualTo(200);
    h.events.awaitCallFinished(path);
  }

  /**
   * Moves the fake time from one probe task to the next until {@code until} (since the client was
   * built), answering every probe sent: a1's with {@code a1Status}, the others' with 200. Each
   * endpoint has one one-shot task at a time (no call is in flight here); a task that sent a probe
   * is replaced only once the probe's answer was handled, so the tasks missing right after a step
   * are the probes in flight.
   */
  private void runProbes(Harness h, long until, int a1Status) {
    h.scheduler.awaitOneShots(3);
    while (true) {
      long next = h.scheduler.pendingOneShots().get(0).due();
      if (next > t0 + until) {
        h.scheduler.advanceTo(t0 + until);
        return;
      }
      h.scheduler.advanceTo(next);
      int inFlight = 3 - h.scheduler.pendingOneShots().size();
      for (int i = 0; i < inFlight; i++) {
        FakeTransport.Exchange probe = h.transport.next();
        assertThat(probe.path()).isEqualTo("/health");
        probes.computeIfAbsent(probe.host(), k -> new ArrayList<>()).add(h.scheduler.now() - t0);
        probe.respond(probe.host().equals(Harness.A1) ? a1Status : 200);
      }
      h.scheduler.awaitOneShots(3);
    }
  }

  /** Gaps in seconds between consecutive probes both within [from, to). */
  private static List<Double> gaps(List<Long> times, long from, long to) {
    List<Double> out = new ArrayList<>();
    for (int i = 1; i < times.size(); i++) {
      long a = times.get(i - 1);
      long b = times.get(i);
      if (a >= from && b < to) {
        out.add((b - a) / 1e9);
      }
    }
    return out;
  }

  private static int count(List<Long> times, long from, long to) {
    return (int) times.stream().filter(t -> t >= from && t < to).count();
  }

  private static List<Long> since(List<Long> times, long from) {
    return times.stream().filter(t -> t >= from).toList();
  }
}
