package dev.failover;

import static org.assertj.core.api.Assertions.assertThat;

import dev.failover.FailoverSnapshot.Health;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The rules of judgement, each on a fake clock: what counts as evidence, the client's own stalls,
 * the blast radius of evacuations, the last resort, and bounded fail-back.
 */
class JudgementTest {
  private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);
  private final FakeClock clock = new FakeClock();
  private final List<FailoverEvent> events = new CopyOnWriteArrayList<>();
  private final Events sink =
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

                @Override
                public void onZoneEvacuated(FailoverEvent.ZoneEvacuated e) {
                  events.add(e);
                }

                @Override
                public void onZoneRestored(FailoverEvent.ZoneRestored e) {
                  events.add(e);
                }

                @Override
                public void onZoneShiftEnded(FailoverEvent.ZoneShiftEnded e) {
                  events.add(e);
                }

                @Override
                public void onClientStalled(FailoverEvent.ClientStalled e) {
                  events.add(e);
                }

                @Override
                public void onClientRecovered(FailoverEvent.ClientRecovered e) {
                  events.add(e);
                }
              }));

  private Router router(ZonePolicy policy, String... zones) {
    List<Endpoint> endpoints = new ArrayList<>();
    int port = 10000;
    for (String z : zones) {
      String region = z.substring(0, z.length() - 1);
      endpoints.add(Endpoint.of("http://127.0.0.1:" + port++, region, z));
      endpoints.add(Endpoint.of("http://127.0.0.1:" + port++, region, z));
    }
    return new Router(
        "directory",
        Locality.of("us-east-1", "us-east-1a"),
        endpoints,
        List.of(),
        EjectionPolicy.defaults().withEjectionTime(Duration.ofSeconds(5), Duration.ofSeconds(60)),
        policy,
        0,
        true,
        clock,
        clock,
        new Random(5),
        sink);
  }

  private Router router(String... zones) {
    return router(ZonePolicy.defaults(), zones);
  }

  private static ZoneState zone(Router r, String name) {
    return r.zones().all().stream()
        .filter(z -> z.locality.zone().equals(name))
        .findFirst()
        .orElseThrow();
  }

  private static EndpointState endpoint(Router r, String zone) {
    return zone(r, zone).endpoints.get(0);
  }

  /** An attempt that held a permission, ran {@code duration} and ended now. */
  private boolean attempt(EndpointState ep, Outcome outcome, long duration, boolean slow) {
    return attempt(ep, outcome, duration, slow, false);
  }

  private boolean attempt(
      EndpointState ep, Outcome outcome, long duration, boolean slow, boolean stalled) {
    assertThat(ep.tryAcquire()).isTrue();
    ep.begin();
    return ep.record(outcome, duration, clock.nanos(), slow, stalled, true);
  }

  /** One second of traffic to a zone: {@code n} attempts, some failed, some of those refused. */
  private void traffic(Router r, String name, int n, double errorRate, boolean refused) {
    ZoneState z = zone(r, name);
    int failures = (int) Math.round(n * errorRate);
    for (int i = 0; i < n; i++) {
      z.record(i < failures, refused, 5 * MS, clock.nanos());
    }
  }

  private List<String> evacuated(Router r) {
    List<String> out = new ArrayList<>();
    for (ZoneState z : r.zones().all()) {
      if (z.evacuated()) {
        out.add(z.locality.zone());
      }
    }
    return out;
  }

  @Test
  void aRaceLostByAHairIsNotEvidence() {
    EndpointState ep = endpoint(router("us-east-1a", "us-east-1b"), "us-east-1a");
    for (int i = 0; i < 20; i++) {
      clock.advance(Duration.ofMillis(100));
      // Overtaken by a hedge, but it had not run twice as long as the winner: not slow.
      assertThat(attempt(ep, Outcome.CANCELLED, 12 * MS, false)).isFalse();
    }
    assertThat(ep.health(clock.nanos())).isEqualTo(Health.HEALTHY);
  }

  @Test
  void anOvertakenAttemptIsJudgedByItsRegionsUsualLatencyNotByItsOwnHistory() {
    // See FarRegionJudgementTest for the drill's case.
    Router r = router("us-east-1a", "us-west-2a", "us-west-2b");
    EndpointState answered = endpoint(r, "us-west-2a");
    EndpointState fresh = zone(r, "us-west-2b").endpoints.get(1);
    for (int i = 0; i < 10; i++) {
      clock.advance(Duration.ofMillis(100));
      attempt(answered, Outcome.SUCCESS, 38 * MS, false);
    }
    // A west endpoint that never answered itself loses races to the near zones: its region is
    // known to be 38 ms away, so 14 ms is not slow.
    for (int i = 0; i < 10; i++) {
      clock.advance(Duration.ofMillis(100));
      assertThat(attempt(fresh, Outcome.CANCELLED, 14 * MS, true)).isFalse();
    }
    assertThat(fresh.health(clock.nanos())).isEqualTo(Health.HEALTHY);
    // An endpoint slow from the start (its own history would call 60 ms usual) in a region that
    // answers in 4 ms: its races lost after 30 ms are evidence.
    Router east = router("us-east-1a", "us-east-1b");
    EndpointState near = endpoint(east, "us-east-1a");
    EndpointState gray = endpoint(east, "us-east-1b");
    for (int i = 0; i < 10; i++) {
      clock.advance(Duration.ofMillis(100));
      attempt(near, Outcome.SUCCESS, 4 * MS, false);
      attempt(gray, Outcome.SUCCESS, 60 * MS, false);
    }
    for (int i = 0; i < 5; i++) {
      clock.advance(Duration.ofMillis(100));
      assertThat(attempt(gray, Outcome.CANCELLED, 30 * MS, true)).isTrue();
    }
    assertThat(gray.health(clock.nanos())).isEqualTo(Health.EJECTED);
  }

  @Test
  void oneStallSeenByEightConcurrentCallsIsOnePieceOfEvidence() {
    EndpointState ep = endpoint(router("us-east-1a", "us-east-1b"), "us-east-1a");
    // It answers in 5 ms as a rule: its region's usual latency.
    attempt(ep, Outcome.SUCCESS, 5 * MS, false);
    // Eight calls started within the same 10 ms, the endpoint paused 80 ms, all eight were
    // overtaken by their hedges.
    int counted = 0;
    for (int i = 0; i < 8; i++) {
      clock.advance(Duration.ofMillis(1));
      counted += attempt(ep, Outcome.CANCELLED, (80 - i) * MS, true) ? 1 : 0;
    }
    assertThat(counted).isEqualTo(1);
    // Three more overlapping stalls a second apart are still fewer than 5 in a row...
    for (int s = 0; s < 3; s++) {
      clock.advance(Duration.ofSeconds(1));
      for (int i = 0; i < 8; i++) {
        clock.advance(Duration.ofMillis(1));
        attempt(ep, Outcome.TIMEOUT, 300 * MS, false);
      }
    }
    assertThat(ep.health(clock.nanos())).isEqualTo(Health.HEALTHY);
    // ...but an endpoint that really hangs gives a new piece with every new attempt.
    clock.advance(Duration.ofSeconds(1));
    attempt(ep, Outcome.TIMEOUT, 300 * MS, false);
    assertThat(ep.health(clock.nanos())).isEqualTo(Health.EJECTED);
  }

  @Test
  void aStalledClientChargesNoTimeoutButStillChargesRefusalsAndRacesLostByFar() {
    EndpointState ep = endpoint(router("us-east-1a", "us-east-1b"), "us-east-1a");
    // It answers in 5 ms as a rule: its region's usual latency.
    attempt(ep, Outcome.SUCCESS, 5 * MS, false);
    for (int i = 0; i < 10; i++) {
      clock.advance(Duration.ofSeconds(1));
      assertThat(attempt(ep, Outcome.TIMEOUT, 300 * MS, false, true)).isFalse();
      // Overtaken, but not by far: no evidence, stalled or not.
      assertThat(attempt(ep, Outcome.CANCELLED, 300 * MS, false, true)).isFalse();
    }
    assertThat(ep.health(clock.nanos())).isEqualTo(Health.HEALTHY);
    // A race lost to a winner at least twice as fast is relative evidence: the winner ran on the
    // same stalled client at the same time. It counts.
    clock.advance(Duration.ofSeconds(1));
    assertThat(attempt(ep, Outcome.CANCELLED, 300 * MS, true, true)).isTrue();
    attempt(ep, Outcome.SUCCESS, MS, false, true);
    for (int i = 0; i < 5; i++) {
      assertThat(attempt(ep, Outcome.CONNECT_FAILED, MS, false, true)).isTrue();
    }
    assertThat(ep.health(clock.nanos())).isEqualTo(Health.EJECTED);
  }

  @Test
  void aNewEndpointIsHealthyWhenJudgedAtATimeReadBeforeItArrived() {
    // A zone judgement reads the time, then an endpoint list arrives and the judgement runs.
    long read = clock.nanos();
    clock.advance(Duration.ofMillis(1));
    Router r = router("us-east-1a", "us-east-1b");
    for (EndpointState ep : zone(r, "us-east-1a").endpoints) {
      assertThat(ep.health(read)).isEqualTo(Health.HEALTHY);
    }
  }

  @Test
  void aStallOfTheClientIsNotTakenForTheEndpointsLatency() {
    EndpointState ep = endpoint(router("us-east-1a", "us-east-1b"), "us-east-1a");
    for (int i = 0; i < 10; i++) {
      attempt(ep, Outcome.SUCCESS, 5 * MS, false);
    }
    // A one-second pause of the client, which explains the attempt in flight across it: a
    // success that measured the pause.
    attempt(ep, Outcome.SUCCESS, 1000 * MS, false, true);
    // Peak-EWMA takes a peak at once: a second taken for the endpoint's latency would steer its
    // traffic to the zone's other endpoints for tens of seconds.
    assertThat(ep.latency.cost(clock.nanos())).isLessThan(100.0 * MS);
    // Outside a stall a slow answer is the endpoint's.
    attempt(ep, Outcome.SUCCESS, 1000 * MS, false);
    assertThat(ep.latency.cost(clock.nanos())).isGreaterThan(500.0 * MS);
  }

  @Test
  void theSchedulersLatenessMarksAStallWithAGracePeriodAndEvents() {
    ClientHealth health = new ClientHealth("directory", sink, clock.nanos(), 0);
    for (int i = 0; i < 10; i++) {
      clock.advance(Duration.ofMillis(20));
      health.tick(clock.nanos());
    }
    assertThat(health.stalled(clock.nanos())).isFalse();
    // A 300 ms pause: the next tick runs 300 ms late.
    clock.advance(Duration.ofMillis(320));
    health.tick(clock.nanos());
    assertThat(health.stalled(clock.nanos())).isTrue();
    assertThat(health.stalls()).isEqualTo(1);
    assertThat(events).singleElement().isInstanceOf(FailoverEvent.ClientStalled.class);
    assertThat(((FailoverEvent.ClientStalled) events.get(0)).cause())
        .isEqualTo("scheduler ran 300 ms late");
    // A 300 ms stall explains a 500 ms timeout, not a 1 s one.
    assertThat(health.explains(500 * MS, clock.nanos())).isTrue();
    assertThat(health.explains(1000 * MS, clock.nanos())).isFalse();
    // On time again: still stalled for the 2 s grace, then recovered, once.
    for (int i = 0; i < 99; i++) {
      clock.advance(Duration.ofMillis(20));
      health.tick(clock.nanos());
      assertThat(health.stalled(clock.nanos())).isTrue();
    }
    clock.advance(Duration.ofMillis(20));
    health.tick(clock.nanos());
    assertThat(health.stalled(clock.nanos())).isFalse();
    assertThat(events).hasSize(2);
    assertThat(events.get(1)).isInstanceOf(FailoverEvent.ClientRecovered.class);
  }

  /**
   * A host starved for good (many more runnable threads than cores, a cold JVM): every tick runs 80
   * ms late, never half a 333 ms attempt, yet together the ticks' lateness takes up most of it.
   * Such timeouts were charged to the endpoints, a new one every 333 ms, and opened the breakers of
   * a healthy home zone, which was then evacuated. A stall of one tick in an attempt on time
   * otherwise explains no more than before.
   */
  @Test
  void aHostStarvedForGoodExplainsTheTimeoutsItsLateTicksAddUpTo() {
    ClientHealth health = new ClientHealth("directory", sink, clock.nanos(), 0);
    for (int i = 0; i < 10; i++) {
      clock.advance(Duration.ofMillis(20));
      health.tick(clock.nanos());
    }
    // Every tick 80 ms late, for a second.
    for (int i = 0; i < 10; i++) {
      clock.advance(Duration.ofMillis(100));
      health.tick(clock.nanos());
    }
    assertThat(health.stalled(clock.nanos())).isTrue();
    assertThat(health.explains(333 * MS, clock.nanos())).isTrue();
    assertThat(health.explains(1000 * MS, clock.nanos())).isTrue();
    // Not an attempt twice as long as the starvation: 800 ms of lateness in 2 s.
    assertThat(health.explains(2000 * MS, clock.nanos())).isFalse();

    // On time again, with one tick 60 ms late and the others 10 ms: 150 ms of 333 explain nothing.
    ClientHealth later = new ClientHealth("directory", sink, clock.nanos(), 0);
    clock.advance(Duration.ofMillis(80));
    later.tick(clock.nanos()); // 60 ms late: a stall
    for (int i = 0; i < 9; i++) {
      clock.advance(Duration.ofMillis(30));
      later.tick(clock.nanos()); // 10 ms late each
    }
    assertThat(later.stalled(clock.nanos())).isTrue();
    assertThat(later.explains(333 * MS, clock.nanos())).isFalse();
    // As before: the 60 ms stall explains an attempt up to twice as long.
    assertThat(later.explains(120 * MS, clock.nanos())).isTrue();
  }

  @Test
  void slownessInTwoRegionsAtOnceIsTheClient() {
    ClientHealth health = new ClientHealth("directory", sink, clock.nanos(), 0);
    health.slowIn("us-east-1", 300 * MS, clock.nanos());
    onTime(health, 100);
    health.slowIn("us-east-1", 300 * MS, clock.nanos());
    assertThat(health.stalled(clock.nanos())).isFalse();
    onTime(health, 100);
    health.slowIn("us-west-2", 300 * MS, clock.nanos());
    assertThat(health.stalled(clock.nanos())).isTrue();
    assertThat(((FailoverEvent.ClientStalled) events.get(0)).cause())
        .isEqualTo("attempts slow in us-east-1 and us-west-2 at once");
    // Latency is not trusted meanwhile; but such a stall explains no timeout: no lateness was
    // measured, and a region that hangs next to one with the odd timeout looks the same.
    assertThat(health.latencyUntrusted(clock.nanos())).isTrue();
    assertThat(health.explains(1, clock.nanos())).isFalse();
    assertThat(health.explains(333 * MS, clock.nanos())).isFalse();
  }

  /**
   * "Network is unreachable" in two zones within one slice is the client's own network: down until
   * the grace after the last such pair. In one zone, however often, it is that zone's.
   */
  @Test
  void theNetworkUnreachableInTwoZonesAtOnceIsTheClients() {
    Locality a = Locality.of("us-east-1", "us-east-1a");
    Locality b = Locality.of("us-east-1", "us-east-1b");
    ClientHealth health = new ClientHealth("directory", sink, clock.nanos(), 0);
    for (int i = 0; i < 10; i++) {
      health.unreachableIn(a, clock.nanos());
      onTime(health, 100);
    }
    assertThat(health.networkDown(clock.nanos())).isFalse();
    assertThat(health.stalled(clock.nanos())).isFalse();

    health.unreachableIn(b, clock.nanos());
    assertThat(health.networkDown(clock.nanos())).isTrue();
    // No stall: nothing else is excused, and latency still judges zones.
    assertThat(health.stalled(clock.nanos())).isFalse();
    assertThat(events).isEmpty();
    clock.advance(Duration.ofNanos(ClientHealth.GRACE_NANOS - 1));
    assertThat(health.networkDown(clock.nanos())).isTrue();
    clock.advance(Duration.ofNanos(1));
    assertThat(health.networkDown(clock.nanos())).isFalse();

    // Two zones more than a slice apart are not at once.
    health.unreachableIn(a, clock.nanos());
    clock.advance(Duration.ofNanos(2 * ClientHealth.SLICE_NANOS));
    health.unreachableIn(b, clock.nanos());
    assertThat(health.networkDown(clock.nanos())).isFalse();
  }

  /**
   * Zones unreachable while another answers: the client's network works. The success ends the mark,
   * and for a minute no pair with one of those zones marks anything (their failures count against
   * them), however many there are (a review found three such zones marked the network down again on
   * every call); a success in one of them ends nothing.
   */
  @Test
  void zonesUnreachableWhileAnotherAnswersAreTheirs() {
    Locality a = Locality.of("r", "a");
    Locality b = Locality.of("r", "b");
    Locality c = Locality.of("r", "c");
    Locality d = Locality.of("r", "d");
    ClientHealth health = new ClientHealth("directory", sink, clock.nanos(), 0);
    health.unreachableIn(a, clock.nanos());
    health.unreachableIn(b, clock.nanos());
    health.unreachableIn(c, clock.nanos());
    assertThat(health.networkDown(clock.nanos())).isTrue();
    health.answered(a, clock.nanos(), clock.nanos());
    assertThat(health.networkDown(clock.nanos())).as("a success in one of them").isTrue();

    health.answered(d, clock.nanos(), clock.nanos());
    assertThat(health.networkDown(clock.nanos())).isFalse();
    Locality[] cycle = {a, b, c};
    for (int i = 0; i < 300; i++) {
      onTime(health, 100);
      health.unreachableIn(cycle[i % 3], clock.nanos());
      assertThat(health.networkDown(clock.nanos())).as("at %d", i).isFalse();
    }
    // A minute after the success, they are news again.
    clock.advance(Duration.ofNanos(ClientHealth.PARTIAL_NANOS));
    health.unreachableIn(a, clock.nanos());
    health.unreachableIn(b, clock.nanos());
    assertThat(health.networkDown(clock.nanos())).isTrue();
  }

  /**
   * A mark that lapses between calls (seconds apart, or in bursts) and comes back is one episode:
   * its 30 s run on, and past them the zones count for ten minutes (a review found calls 2.5 s
   * apart excused for good: every lapse restarted the 30 s).
   */
  @Test
  void aMarkThatLapsesBetweenCallsIsOneEpisode() {
    Locality a = Locality.of("r", "a");
    Locality b = Locality.of("r", "b");
    ClientHealth health = new ClientHealth("directory", sink, clock.nanos(), 0);
    long begin = clock.nanos();
    boolean down = true;
    for (int call = 0; call < 60; call++) {
      health.unreachableIn(a, clock.nanos());
      health.unreachableIn(b, clock.nanos());
      down = health.networkDown(clock.nanos());
      long elapsed = clock.nanos() - begin;
      if (elapsed <= ClientHealth.MAX_DOWN_NANOS) {
        assertThat(down).as("call %d", call).isTrue();
      } else {
        assertThat(down).as("call %d", call).isFalse();
      }
      onTime(health, 2_500);
    }
    assertThat(down).isFalse();
  }

  /**
   * Blips of the client's network minutes or seconds apart, with the zones answering in between:
   * each is an episode of its own and excused (a review found the second joined the first's
   * episode, past its 30 s, and was counted against every zone).
   */
  @Test
  void blipsWithAnswersInBetweenAreEpisodesOfTheirOwn() {
    Locality a = Locality.of("r", "a");
    Locality b = Locality.of("r", "b");
    Locality c = Locality.of("r", "c");
    ClientHealth health = new ClientHealth("directory", sink, clock.nanos(), 0);
    for (int blip = 0; blip < 10; blip++) {
      health.unreachableIn(a, clock.nanos());
      health.unreachableIn(b, clock.nanos());
      health.unreachableIn(c, clock.nanos());
      assertThat(health.networkDown(clock.nanos())).as("blip %d", blip).isTrue();
      onTime(health, 3_000); // the mark runs out; then every zone answers
      for (Locality z : new Locality[] {a, b, c}) {
        health.answered(z, clock.nanos(), clock.nanos());
      }
      onTime(health, 17_000);
    }
  }

  /**
   * Two zones unreachable from a working network, calls seconds apart with two attempts (the mark
   * runs out between them): a success in the third zone after the mark ran out makes them count, as
   * one while it runs does (a review found it only closed the episode, and the next pair opened
   * another, excusing one zone's failures for good).
   */
  @Test
  void twoZonesUnreachableWithCallsSecondsApartCountAgainstThem() {
    Locality a = Locality.of("r", "a");
    Locality b = Locality.of("r", "b");
    Locality c = Locality.of("r", "c");
    ClientHealth health = new ClientHealth("directory", sink, clock.nanos(), 0);
    int excused = 0;
    for (int call = 0; call < 100; call++) {
      // Each call: two attempts, alternating which zone goes first; every other call's retry
      // reaches c, which answers.
      health.unreachableIn(call % 2 == 0 ? a : b, clock.nanos());
      if (call % 2 == 0) {
        health.unreachableIn(b, clock.nanos());
        excused += health.networkDown(clock.nanos()) ? 1 : 0;
      } else {
        health.answered(c, clock.nanos(), clock.nanos());
      }
      onTime(health, 3_000);
    }
    // The first pair, and one each time the zones' minute runs out (5 minutes here): no more.
    assertThat(excused).isLessThanOrEqualTo(6);
  }

  /**
   * A success begun before the episode (its answer was on its way as the route went) proves nothing
   * about the network now: the mark stays.
   */
  @Test
  void aSuccessBegunBeforeTheMarkDoesNotEndIt() {
    Locality a = Locality.of("r", "a");
    Locality b = Locality.of("r", "b");
    Locality c = Locality.of("r", "c");
    ClientHealth health = new ClientHealth("directory", sink, clock.nanos(), 0);
    long sentBefore = clock.nanos();
    onTime(health, 100);
    health.unreachableIn(a, clock.nanos());
    health.unreachableIn(b, clock.nanos());
    health.answered(c, sentBefore, clock.nanos());
    assertThat(health.networkDown(clock.nanos())).isTrue();
    health.answered(c, clock.nanos(), clock.nanos());
    assertThat(health.networkDown(clock.nanos())).isFalse();
  }

  /**
   * A probe or an attempt that never reaches a third zone (two attempts a call, no health checks
   * there) cannot end the mark: it ends after 30 s of no news, and the two zones count again.
   */
  @Test
  void theNetworkIsTakenToBeDownForThirtySecondsAtMost() {
    Locality a = Locality.of("r", "a");
    Locality b = Locality.of("r", "b");
    ClientHealth health = new ClientHealth("directory", sink, clock.nanos(), 0);
    boolean down = true;
    for (int ms = 0; ms <= 40_000; ms += 100) {
      onTime(health, 100);
      health.unreachableIn(ms % 200 == 0 ? a : b, clock.nanos());
      down = health.networkDown(clock.nanos());
      if (ms > 0 && ms < 29_000) {
        assertThat(down).as("at %d ms", ms).isTrue();
      }
    }
    assertThat(down).isFalse();
  }

  @Test
  void aRegionThatHangsNextToOneWithTheOddTimeoutIsNotExcused() {
    // us-east-1 hangs (every attempt times out at 300 ms); us-west-2, serving the failover, has a
    // timeout every 1.5 s. For 30 s, none of us-east-1's timeouts is the client's.
    ClientHealth health = new ClientHealth("directory", sink, clock.nanos(), 0);
    for (int ms = 10; ms <= 30_000; ms += 10) {
      clock.advance(Duration.ofMillis(10));
      if (ms % 20 == 0) {
        health.tick(clock.nanos()); // on time
      }
      if (ms % 1_500 == 0) {
        health.slowIn("us-west-2", 300 * MS, clock.nanos());
      }
      health.slowIn("us-east-1", 300 * MS, clock.nanos());
      assertThat(health.explains(300 * MS, clock.nanos())).as("at %d ms", ms).isFalse();
    }
  }

  @Test
  void aLongPauseExplainsTimeoutsForItsGraceNotForAsLongAsShortPausesFollowIt() {
    ClientHealth health = new ClientHealth("directory", sink, clock.nanos(), 0);
    clock.advance(Duration.ofMillis(320));
    health.tick(clock.nanos()); // a 300 ms pause
    assertThat(health.explains(600 * MS, clock.nanos())).isTrue();
    // Then on time, but 60 ms late every 1.5 s (routine young collections): the client stays
    // stalled, and the 300 ms pause explains nothing once 2 s have passed since it.
    for (int ms = 20; ms <= 30_000; ms += 20) {
      boolean late = ms % 1_500 == 0;
      clock.advance(Duration.ofMillis(late ? 80 : 20));
      health.tick(clock.nanos());
      assertThat(health.stalled(clock.nanos())).isTrue();
      if (ms > 2_100) {
        assertThat(health.explains(500 * MS, clock.nanos())).as("at %d ms", ms).isFalse();
        // The latest short pause still explains what it can: a timeout up to twice its 60 ms.
        assertThat(health.explains(120 * MS, clock.nanos())).as("at %d ms", ms).isTrue();
      }
    }
  }

  @Test
  void latencyIsNotTrustedInTheFirstSecondsAfterStart() {
    ClientHealth health =
        new ClientHealth("directory", sink, clock.nanos(), ClientHealth.STARTUP_GRACE_NANOS);
    assertThat(health.latencyUntrusted(clock.nanos())).isTrue();
    assertThat(health.stalled(clock.nanos())).isFalse();
    onTime(health, TimeUnit.NANOSECONDS.toMillis(ClientHealth.STARTUP_GRACE_NANOS));
    assertThat(health.latencyUntrusted(clock.nanos())).isFalse();
  }

  /**
   * A pause whose results arrive before the tick has run to measure it: the overdue tick is a stall
   * as it is, and explains timeouts up to twice as long as it is overdue. Before, the first results
   * after a pause were judged as if the client had run on time.
   */
  @Test
  void aTickOverdueAfterAPauseIsAStallBeforeItRuns() {
    ClientHealth health = new ClientHealth("directory", sink, clock.nanos(), 0);
    onTime(health, 200);
    clock.advance(Duration.ofMillis(40)); // due 20 ms ago: on time enough
    assertThat(health.stalled(clock.nanos())).isFalse();
    clock.advance(Duration.ofMillis(280)); // a 300 ms pause, the tick not yet run
    assertThat(health.stalled(clock.nanos())).isTrue();
    assertThat(health.latencyUntrusted(clock.nanos())).isTrue();
    assertThat(health.explains(500 * MS, clock.nanos())).isTrue();
    assertThat(health.explains(700 * MS, clock.nanos())).isFalse();
    assertThat(events).isEmpty(); // the tick marks the stall, and tells it, when it runs
    health.tick(clock.nanos());
    assertThat(health.stalls()).isEqualTo(1);
    assertThat(health.explains(500 * MS, clock.nanos())).isTrue();
    // A stopped tick (the configuration was replaced) is never overdue.
    ClientHealth stopped = new ClientHealth("directory", sink, clock.nanos(), 0);
    stopped.stopTicking();
    clock.advance(Duration.ofSeconds(10));
    assertThat(stopped.stalled(clock.nanos())).isFalse();
    assertThat(stopped.explains(MS, clock.nanos())).isFalse();
    // Nor is a tick whose task ended (a scheduler of the application's that was shut down).
    ClientHealth gone = new ClientHealth("directory", sink, clock.nanos(), 0);
    java.util.concurrent.ScheduledExecutorService scheduler =
        java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
    scheduler.shutdownNow();
    gone.watchTick(java.util.concurrent.CompletableFuture.completedFuture(null), scheduler);
    clock.advance(Duration.ofSeconds(1));
    assertThat(gone.stalled(clock.nanos())).isFalse();
    // Shut down with shutdownNow, whose periodic task is never cancelled: its scheduler says so.
    ClientHealth shut = new ClientHealth("directory", sink, clock.nanos(), 0);
    shut.watchTick(new java.util.concurrent.CompletableFuture<Void>(), scheduler);
    clock.advance(Duration.ofSeconds(1));
    assertThat(shut.stalled(clock.nanos())).isFalse();
    // A tick overdue by more than 10 s is taken for one that no longer runs: it excuses nothing.
    ClientHealth stuck = new ClientHealth("directory", sink, clock.nanos(), 0);
    clock.advance(Duration.ofSeconds(9));
    assertThat(stuck.stalled(clock.nanos())).isTrue();
    clock.advance(Duration.ofSeconds(2));
    assertThat(stuck.stalled(clock.nanos())).isFalse();
    assertThat(stuck.explains(MS, clock.nanos())).isFalse();
    // The tick is due from when it is scheduled, not from when the client began to be built.
    ClientHealth late = new ClientHealth("directory", sink, clock.nanos(), 0);
    clock.advance(Duration.ofMillis(300));
    late.restartTick(clock.nanos());
    assertThat(late.stalled(clock.nanos())).isFalse();
    clock.advance(Duration.ofMillis(20));
    late.tick(clock.nanos());
    assertThat(late.stalls()).isZero();
  }

  /** Moves the clock {@code ms} on with the tick running on time every 20 ms. */
  private void onTime(ClientHealth health, long ms) {
    for (long t = 20; t <= ms; t += 20) {
      clock.advance(Duration.ofMillis(20));
      health.tick(clock.nanos());
    }
  }

  /** Ejects every endpoint of {@code zone} with five failures each, and feeds its window. */
  private void eject(Router r, String zone, Outcome outcome) {
    for (EndpointState ep : zone(r, zone).endpoints) {
      for (int i = 0; i < 5; i++) {
        attempt(ep, outcome, MS, false);
        zone(r, zone).record(true, outcome == Outcome.CONNECT_FAILED, MS, clock.nanos());
      }
      assertThat(ep.health(clock.nanos())).isEqualTo(Health.EJECTED);
    }
  }

  @Test
  void passiveEvidenceNeverEvacuatesZonesInTwoRegionsAtOnce() {
    Router r = router("us-east-1a", "us-east-1b", "us-east-1c", "us-west-2a", "us-west-2b");
    for (int s = 0; s < 3; s++) {
      // 503s (no refusals, checks pass): passive evidence only, in zones of two regions.
      traffic(r, "us-east-1a", 50, 0.5, false);
      traffic(r, "us-east-1b", 50, 0.0, false);
      traffic(r, "us-east-1c", 50, 0.0, false);
      traffic(r, "us-west-2a", 50, 0.5, false);
      traffic(r, "us-west-2b", 50, 0.0, false);
      clock.advance(Duration.ofSeconds(1));
    }
    r.zones().evaluate(clock.nanos());
    assertThat(evacuated(r)).containsExactly("us-east-1a");
  }

  @Test
  void ejectionsAloneEvacuateAtMostHalfTheZones() {
    Router r = router("us-east-1a", "us-east-1b", "us-east-1c", "us-west-2a");
    // Every endpoint of three zones ejected by its breaker on 503s: passive evidence alone.
    eject(r, "us-east-1a", Outcome.UNAVAILABLE);
    eject(r, "us-east-1b", Outcome.UNAVAILABLE);
    eject(r, "us-east-1c", Outcome.UNAVAILABLE);
    r.zones().evaluate(clock.nanos());
    assertThat(evacuated(r)).containsExactly("us-east-1a", "us-east-1b");
    // A lower cap is honoured too.
    Router strict =
        router(
            ZonePolicy.defaults().withMaxEvacuatedPercent(25),
            "us-east-1a",
            "us-east-1b",
            "us-east-1c",
            "us-west-2a");
    eject(strict, "us-east-1a", Outcome.UNAVAILABLE);
    eject(strict, "us-east-1b", Outcome.UNAVAILABLE);
    strict.zones().evaluate(clock.nanos());
    assertThat(evacuated(strict)).containsExactly("us-east-1a");
  }

  /**
   * A whole host overloaded (a review: 64 busy threads beside the client) timed out the probes of
   * every endpoint at once: each marked down by its health checks, which corroborated its zone's
   * outage, and three zones in two regions were evacuated, past the cap. Probes that only time out
   * are passive evidence now; probes refused or answered with a bad status still corroborate.
   */
  @Test
  void endpointsDownOnProbeTimeoutsAloneEvacuateNoMoreThanPassiveEvidence() {
    assertThat(evacuatedAfterFailedProbes(true)).containsExactly("us-east-1a", "us-east-1b");
    assertThat(evacuatedAfterFailedProbes(false))
        .containsExactly("us-east-1a", "us-east-1b", "us-west-2a");
  }

  /** An endpoint down on timeouts that is then refused is hard evidence from then on. */
  @Test
  void aProbeRefusedWhileDownOnTimeoutsCorroborates() {
    Router r = router("us-east-1a", "us-east-1b", "us-east-1c", "us-west-2a", "us-west-2b");
    withChecker(
        1,
        (checker, scheduler) -> {
          failProbes(checker, r, true, "us-east-1a", "us-east-1b", "us-west-2a");
          for (EndpointState ep : zone(r, "us-west-2a").endpoints) {
            checker.result(ep, false, true, ep.incarnation); // refused
          }
        });
    traffic(r, "us-east-1c", 50, 0.0, false);
    traffic(r, "us-west-2b", 50, 0.0, false);
    r.zones().evaluate(clock.nanos());
    assertThat(evacuated(r)).containsExactly("us-east-1a", "us-east-1b", "us-west-2a");
  }

  /**
   * With an unhealthy threshold of 2, an endpoint is down on the streak of failures that marked it
   * down: one refusal among them corroborates; a good probe starts the streak over.
   */
  @Test
  void theStreakThatMarksAnEndpointDownDecidesWhetherItCorroborates() {
    Router r = router("us-east-1a", "us-east-1b");
    EndpointState ep = endpoint(r, "us-east-1a");
    withChecker(
        2,
        (checker, scheduler) -> {
          checker.result(ep, false, true, ep.incarnation); // refused
          checker.result(ep, true, ep.incarnation);
          checker.result(ep, false, false, ep.incarnation); // timed out
          assertThat(ep.isDown()).isFalse();
          checker.result(ep, false, false, ep.incarnation); // timed out
          assertThat(ep.isDown()).isTrue();
          assertThat(ep.downUncorroborated).as("the refusal was before a good probe").isTrue();
          checker.result(ep, true, ep.incarnation);
          assertThat(ep.isDown()).isFalse();
          checker.result(ep, false, true, ep.incarnation); // refused
          checker.result(ep, false, false, ep.incarnation); // timed out
          assertThat(ep.isDown()).isTrue();
          assertThat(ep.downUncorroborated).as("a refusal in the streak").isFalse();
        });
  }

  /**
   * Which failures of a probe corroborate: a refusal or no route; not a timeout or the client's.
   */
  @Test
  void onlyARefusedProbeCorroborates() {
    assertThat(HealthChecker.refused(new java.net.ConnectException("Connection refused"))).isTrue();
    assertThat(HealthChecker.refused(new java.net.NoRouteToHostException("No route to host")))
        .isTrue();
    assertThat(HealthChecker.refused(new java.net.SocketTimeoutException("connect timed out")))
        .isFalse();
    assertThat(HealthChecker.refused(new java.io.InterruptedIOException("timeout"))).isFalse();
    assertThat(HealthChecker.refused(new java.net.UnknownHostException("dir-a.internal")))
        .isFalse();
    assertThat(HealthChecker.refused(new javax.net.ssl.SSLHandshakeException("bad certificate")))
        .isFalse();
    assertThat(HealthChecker.refused(new java.net.ConnectException("Network is unreachable")))
        .isFalse();
    assertThat(HealthChecker.refused(new java.net.SocketException("Connection reset"))).isFalse();
  }

  /**
   * Every probe of us-east-1a, us-east-1b and us-west-2a fails ({@code timedOut}: by timing out,
   * else refused), once, with an unhealthy threshold of 1; us-east-1c and us-west-2b serve.
   */
  private List<String> evacuatedAfterFailedProbes(boolean timedOut) {
    Router r = router("us-east-1a", "us-east-1b", "us-east-1c", "us-west-2a", "us-west-2b");
    withChecker(
        1,
        (checker, scheduler) ->
            failProbes(checker, r, timedOut, "us-east-1a", "us-east-1b", "us-west-2a"));
    traffic(r, "us-east-1c", 50, 0.0, false);
    traffic(r, "us-west-2b", 50, 0.0, false);
    r.zones().evaluate(clock.nanos());
    return evacuated(r);
  }

  private static void failProbes(
      HealthChecker checker, Router r, boolean timedOut, String... zones) {
    for (String zone : zones) {
      for (EndpointState ep : r.endpoints()) {
        if (ep.endpoint.locality().zone().equals(zone)) {
          checker.result(ep, false, !timedOut, ep.incarnation);
          assertThat(ep.isDown()).isTrue();
          assertThat(ep.downUncorroborated).isEqualTo(timedOut);
        }
      }
    }
  }

  /**
   * Runs {@code use} with a health checker (a healthy threshold of 1, an unhealthy one of {@code
   * unhealthy}) on a scheduler of its own.
   */
  private void withChecker(
      int unhealthy,
      java.util.function.BiConsumer<HealthChecker, java.util.concurrent.ScheduledThreadPoolExecutor>
          use) {
    java.util.concurrent.ScheduledThreadPoolExecutor scheduler =
        new java.util.concurrent.ScheduledThreadPoolExecutor(1);
    HealthChecker checker =
        new HealthChecker(
            "directory",
            HealthCheck.http("/health").withThresholds(1, unhealthy),
            new okhttp3.OkHttpClient(),
            scheduler,
            new Random(1),
            sink);
    try {
      use.accept(checker, scheduler);
    } finally {
      checker.stop();
      scheduler.shutdownNow();
    }
  }

  @Test
  void refusalsCorroborateAndAreNotCappedButTheLastAnsweringZoneStays() {
    Router r = router("us-east-1a", "us-east-1b", "us-east-1c", "us-west-2a");
    eject(r, "us-east-1a", Outcome.CONNECT_FAILED);
    eject(r, "us-east-1b", Outcome.CONNECT_FAILED);
    eject(r, "us-east-1c", Outcome.CONNECT_FAILED);
    traffic(r, "us-west-2a", 50, 0.0, false);
    r.zones().evaluate(clock.nanos());
    assertThat(evacuated(r)).containsExactly("us-east-1a", "us-east-1b", "us-east-1c");

    // Now the last zone in rotation refuses too: it is never evacuated.
    clock.advance(Duration.ofSeconds(11));
    eject(r, "us-west-2a", Outcome.CONNECT_FAILED);
    r.zones().evaluate(clock.nanos());
    assertThat(zone(r, "us-west-2a").evacuated()).isFalse();
  }

  @Test
  void whenEverythingInRotationWasTriedEvacuatedZonesAndEjectedEndpointsAreTheLastResort() {
    Router r = router("us-east-1a", "us-east-1b");
    for (int s = 0; s < 3; s++) {
      traffic(r, "us-east-1a", 50, 1.0, true);
      traffic(r, "us-east-1b", 50, 0.0, false);
      clock.advance(Duration.ofSeconds(1));
    }
    r.zones().evaluate(clock.nanos());
    assertThat(evacuated(r)).containsExactly("us-east-1a");
    // Both endpoints of us-east-1b were tried and failed, and one of them is ejected.
    Set<EndpointState> tried = new HashSet<>(zone(r, "us-east-1b").endpoints);
    EndpointState ejected = zone(r, "us-east-1a").endpoints.get(1);
    for (int i = 0; i < 5; i++) {
      attempt(ejected, Outcome.CONNECT_FAILED, MS, false);
    }
    Router.Pick p = r.pick(clock.nanos(), tried, Set.of("us-east-1/us-east-1b"));
    assertThat(p).isNotNull();
    assertThat(p.lastResort()).isTrue();
    assertThat(p.endpoint()).isEqualTo(zone(r, "us-east-1a").endpoints.get(0));
    tried.add(p.endpoint());
    Router.Pick last = r.pick(clock.nanos(), tried, Set.of());
    assertThat(last).isNotNull();
    assertThat(last.endpoint()).isEqualTo(ejected);
    assertThat(last.lastResort()).isTrue();

    // The ejected endpoint answers: back at once, and so is its zone.
    ejected.begin();
    ejected.record(Outcome.SUCCESS, MS, clock.nanos(), false, false, false);
    assertThat(ejected.health(clock.nanos())).isEqualTo(Health.HEALTHY);
    r.zones().restoreNow(zone(r, "us-east-1a"), clock.nanos());
    assertThat(zone(r, "us-east-1a").evacuated()).isFalse();
  }

  @Test
  void aLastResortSuccessDoesNotRestoreAZoneWhoseEndpointsAreStillMostlyOut() {
    // A zone is evacuated when more than 40% of its endpoints are out: one of its two.
    Router r = router(ZonePolicy.defaults().withEjectedPercent(40), "us-east-1a", "us-east-1b");
    ZoneState a = zone(r, "us-east-1a");
    EndpointState down = a.endpoints.get(1);
    for (int i = 0; i < 5; i++) {
      attempt(down, Outcome.CONNECT_FAILED, MS, false);
    }
    traffic(r, "us-east-1b", 50, 0.0, false);
    r.zones().evaluate(clock.nanos());
    assertThat(evacuated(r)).containsExactly("us-east-1a");
    // Its other endpoint answers a call as a last resort: that proves the endpoint, not the zone,
    // which would be evacuated again at the next judgement.
    EndpointState up = a.endpoints.get(0);
    up.begin();
    up.record(Outcome.SUCCESS, MS, clock.nanos(), false, false, false);
    r.zones().restoreNow(a, clock.nanos());
    assertThat(a.evacuated()).isTrue();
    clock.advance(Duration.ofSeconds(1));
    r.zones().evaluate(clock.nanos());
    assertThat(a.evacuated()).isTrue();
    // The endpoint that was out answers as a last resort too: now the zone is back at once.
    down.begin();
    down.record(Outcome.SUCCESS, MS, clock.nanos(), false, false, false);
    r.zones().restoreNow(a, clock.nanos());
    assertThat(a.evacuated()).isFalse();
  }

  @Test
  void inPanicWithNothingInRotationAZoneOutOfRotationThatAnswersComesFirst() {
    Router r = router("us-east-1a", "us-east-1b", "us-east-1c");
    long now0 = clock.nanos();
    // An operator shifted us-east-1c away for a deploy...
    r.zones()
        .shiftAway("us-east-1c", now0 + TimeUnit.MINUTES.toNanos(10), clock.instant(), "t", now0);
    // ...us-east-1b refused for three seconds and was evacuated...
    for (int s = 0; s < 3; s++) {
      traffic(r, "us-east-1a", 50, 0.0, false);
      traffic(r, "us-east-1b", 50, 1.0, true);
      clock.advance(Duration.ofSeconds(1));
    }
    r.zones().evaluate(clock.nanos());
    assertThat(evacuated(r)).containsExactly("us-east-1b");
    // ...then the home zone's endpoints were all ejected: nothing in rotation takes traffic, and
    // routing panics. us-east-1b's and us-east-1c's endpoints were never ejected.
    for (EndpointState ep : zone(r, "us-east-1a").endpoints) {
      for (int i = 0; i < 5; i++) {
        attempt(ep, Outcome.CONNECT_FAILED, MS, false);
      }
    }
    assertThat(r.panic(clock.nanos())).isTrue();
    for (int i = 0; i < 20; i++) {
      Router.Pick p = r.pick(clock.nanos(), Set.of(), Set.of());
      assertThat(p).isNotNull();
      // The evacuated zone that answers, never the one shifted away, nor the dead home zone.
      assertThat(p.endpoint().zone).isSameAs(zone(r, "us-east-1b"));
      // A last resort: it takes no breaker permission, and its success brings its zone back.
      assertThat(p.lastResort()).isTrue();
      assertThat(p.acquired()).isFalse();
    }
    // A retry after an attempt there failed leaves that zone: the nearest untried zone, the home
    // zone, dead as it is, before the other endpoint of the zone that just failed.
    Router.Pick first = r.pick(clock.nanos(), Set.of(), Set.of());
    Router.Pick retry =
        r.pick(clock.nanos(), Set.of(first.endpoint()), Set.of("us-east-1/us-east-1b"));
    assertThat(retry).isNotNull();
    assertThat(retry.endpoint().zone).isSameAs(zone(r, "us-east-1a"));
    assertThat(retry.lastResort()).isFalse();
  }

  @Test
  void belowAPanicThresholdWithEndpointsInRotationAZoneOutOfRotationIsNoLastResort() {
    List<Endpoint> endpoints = new ArrayList<>();
    int port = 10000;
    for (String z : List.of("us-east-1a", "us-east-1b")) {
      for (int i = 0; i < 4; i++) {
        endpoints.add(Endpoint.of("http://127.0.0.1:" + port++, "us-east-1", z));
      }
    }
    Router r =
        new Router(
            "directory",
            Locality.of("us-east-1", "us-east-1a"),
            endpoints,
            List.of(),
            EjectionPolicy.defaults(),
            ZonePolicy.defaults(),
            90,
            true,
            clock,
            clock,
            new Random(5),
            sink);
    long now0 = clock.nanos();
    r.zones()
        .shiftAway("us-east-1b", now0 + TimeUnit.MINUTES.toNanos(10), clock.instant(), "t", now0);
    // One of the home zone's four endpoints ejected: 3 of 8 take traffic, below 90%, a panic,
    // but endpoints in rotation still answer.
    for (int i = 0; i < 5; i++) {
      attempt(zone(r, "us-east-1a").endpoints.get(0), Outcome.CONNECT_FAILED, MS, false);
    }
    assertThat(r.panic(clock.nanos())).isTrue();
    for (int i = 0; i < 200; i++) {
      Router.Pick p = r.pick(clock.nanos(), Set.of(), Set.of());
      assertThat(p).isNotNull();
      assertThat(p.lastResort()).isFalse();
    }
    // Panic ignores the shift (health and rotation are ignored below the threshold)...
    Router.Pick retry =
        r.pick(
            clock.nanos(),
            new HashSet<>(zone(r, "us-east-1a").endpoints),
            Set.of("us-east-1/us-east-1a"));
    assertThat(retry.endpoint().zone).isSameAs(zone(r, "us-east-1b"));
    // ...but a success there proves nothing about the zone: no last resort.
    assertThat(retry.lastResort()).isFalse();
  }

  @Test
  void failBackIsBoundedAndItsGrowthIsForgotten() {
    Router r = router("us-east-1a", "us-east-1b", "us-east-1c");
    ZoneState a = zone(r, "us-east-1a");
    long base = TimeUnit.SECONDS.toNanos(10);
    List<Long> waits = new ArrayList<>();
    for (int round = 0; round < 4; round++) {
      // Evacuate on refusals...
      for (int s = 0; s < 3; s++) {
        traffic(r, "us-east-1a", 50, 1.0, true);
        traffic(r, "us-east-1b", 50, 0.0, false);
        traffic(r, "us-east-1c", 50, 0.0, false);
        clock.advance(Duration.ofSeconds(1));
      }
      r.zones().evaluate(clock.nanos());
      assertThat(a.evacuated()).isTrue();
      // ...then clean: probes succeed once a second until it returns.
      long cleanFrom = clock.nanos();
      clock.advance(Duration.ofSeconds(10)); // the failures leave the window
      long start = clock.nanos();
      while (a.evacuated() && clock.nanos() - cleanFrom < TimeUnit.SECONDS.toNanos(120)) {
        traffic(r, "us-east-1a", 2, 0.0, false);
        traffic(r, "us-east-1b", 50, 0.0, false);
        traffic(r, "us-east-1c", 50, 0.0, false);
        clock.advance(Duration.ofSeconds(1));
        r.zones().evaluate(clock.nanos());
      }
      assertThat(a.evacuated()).isFalse();
      waits.add(clock.nanos() - start);
    }
    // 1x, 2x, 4x, and never more than 4x the base hysteresis (plus the 1 s evaluation step).
    assertThat(waits.get(0)).isBetween(base, base + 2 * TimeUnit.SECONDS.toNanos(1));
    assertThat(waits.get(1)).isBetween(2 * base, 2 * base + 2 * TimeUnit.SECONDS.toNanos(1));
    assertThat(waits.get(2)).isBetween(4 * base, 4 * base + 2 * TimeUnit.SECONDS.toNanos(1));
    assertThat(waits.get(3)).isBetween(4 * base, 4 * base + 2 * TimeUnit.SECONDS.toNanos(1));
    assertThat(r.zones().hysteresisNanos(a)).isEqualTo(4 * base);

    // A zone that stays in rotation for a minute starts from the base again.
    clock.advance(Duration.ofSeconds(61));
    for (int s = 0; s < 3; s++) {
      traffic(r, "us-east-1a", 50, 1.0, true);
      traffic(r, "us-east-1b", 50, 0.0, false);
      traffic(r, "us-east-1c", 50, 0.0, false);
      clock.advance(Duration.ofSeconds(1));
    }
    r.zones().evaluate(clock.nanos());
    assertThat(a.evacuated()).isTrue();
    assertThat(r.zones().hysteresisNanos(a)).isEqualTo(base);
  }

  @Test
  void aZoneDownOnRefusalsReturnsOnFreshSuccessesAndHalfTheWaitWhenChecksPass() {
    for (boolean checks : new boolean[] {false, true}) {
      Router r = router("us-east-1a", "us-east-1b", "us-west-2a");
      ZoneState a = zone(r, "us-east-1a");
      eject(r, "us-east-1a", Outcome.CONNECT_FAILED);
      traffic(r, "us-east-1b", 50, 0.0, false);
      r.zones().evaluate(clock.nanos());
      assertThat(a.evacuated()).isTrue();
      // It heals 6 s later: the breakers' ejection is over, the window still holds the refusals.
      clock.advance(Duration.ofSeconds(6));
      for (EndpointState ep : a.endpoints) {
        ep.probeSuccesses = checks ? 2 : 0;
      }
      long waited = untilReturned(r, a);
      // Clean after 3 good probes; then the hysteresis (10 s), halved when checks pass too.
      long expected = TimeUnit.SECONDS.toNanos(checks ? 3 + 5 : 3 + 10);
      assertThat(waited)
          .isBetween(
              expected - TimeUnit.SECONDS.toNanos(1), expected + TimeUnit.SECONDS.toNanos(1));
    }
  }

  /**
   * A zone whose endpoints went down on probes that only timed out (a zone that hangs) is under the
   * cap when it is evacuated, but it returns as a hard outage does once its checks pass: after half
   * the wait (it was evacuated for its endpoints out, and is clean once they take traffic).
   */
  @Test
  void aZoneDownOnProbeTimeoutsReturnsAsAHardOutageDoes() {
    Router r = router("us-east-1a", "us-east-1b", "us-west-2a");
    ZoneState a = zone(r, "us-east-1a");
    withChecker(
        1,
        (checker, scheduler) -> {
          for (EndpointState ep : a.endpoints) {
            checker.result(ep, false, false, ep.incarnation); // timed out
          }
          traffic(r, "us-east-1b", 50, 0.0, false);
          r.zones().evaluate(clock.nanos());
          assertThat(a.evacuated()).isTrue();
          clock.advance(Duration.ofSeconds(6));
          for (EndpointState ep : a.endpoints) {
            checker.result(ep, true, ep.incarnation); // it heals: its checks pass
          }
        });
    long waited = untilReturned(r, a);
    assertThat(waited)
        .isBetween(TimeUnit.SECONDS.toNanos(5), TimeUnit.SECONDS.toNanos(6))
        .as("half the hysteresis, judged once a second");
  }

  /**
   * From now, a successful probe a second reaches {@code a} and us-east-1b serves, with the zones
   * judged once a second, until {@code a} returns (30 s at most); returns how long that took.
   */
  private long untilReturned(Router r, ZoneState a) {
    long healed = clock.nanos();
    while (a.evacuated() && clock.nanos() - healed < TimeUnit.SECONDS.toNanos(30)) {
      a.record(false, false, 5 * MS, clock.nanos()); // a probe a second succeeds
      traffic(r, "us-east-1b", 50, 0.0, false);
      clock.advance(Duration.ofSeconds(1));
      r.zones().evaluate(clock.nanos());
    }
    return clock.nanos() - healed;
  }

  @Test
  void anAttemptSentWithoutAPermitNeverReleasesOneItDidNotTake() {
    EndpointState ep = endpoint(router("us-east-1a", "us-east-1b"), "us-east-1a");
    for (int i = 0; i < 5; i++) {
      attempt(ep, Outcome.CONNECT_FAILED, MS, false);
    }
    clock.advance(Duration.ofSeconds(7));
    // Half-open: three probes may go through; one is taken by a real attempt.
    assertThat(ep.tryAcquire()).isTrue();
    ep.begin();
    // Attempts sent in panic or as a last resort took no permit: their failures, and cancels,
    // must not hand back permits (which would let more than three probes through).
    for (int i = 0; i < 5; i++) {
      ep.begin();
      assertThat(ep.record(Outcome.CANCELLED, MS, clock.nanos(), false, false, false)).isFalse();
      ep.begin();
      assertThat(ep.record(Outcome.CONNECT_FAILED, MS, clock.nanos(), false, false, false))
          .isFalse();
    }
    assertThat(ep.tryAcquire()).isTrue();
    assertThat(ep.tryAcquire()).isTrue();
    assertThat(ep.tryAcquire()).as("no fourth probe").isFalse();
  }

  @Test
  void failuresFromManyThreadsAtOnceOpenTheBreakerOnceWithTheFirstEjectionTime() throws Exception {
    EndpointState ep = endpoint(router("us-east-1a", "us-east-1b"), "us-east-1a");
    int threads = 8;
    java.util.concurrent.ExecutorService pool =
        java.util.concurrent.Executors.newFixedThreadPool(threads);
    java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
    List<java.util.concurrent.Future<?>> done = new ArrayList<>();
    try {
      for (int t = 0; t < threads; t++) {
        done.add(
            pool.submit(
                () -> {
                  go.await();
                  for (int i = 0; i < 20; i++) {
                    if (ep.tryAcquire()) {
                      ep.begin();
                      ep.record(Outcome.UNAVAILABLE, MS, clock.nanos());
                    }
                  }
                  return null;
                }));
      }
      go.countDown();
      for (java.util.concurrent.Future<?> f : done) {
        f.get(10, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    List<FailoverEvent> ejections =
        events.stream().filter(e -> e instanceof FailoverEvent.EndpointEjected).toList();
    // Opened once, for the first ejection's time (5 s +-20%), not a doubled second one.
    assertThat(ejections).hasSize(1);
    assertThat(((FailoverEvent.EndpointEjected) ejections.get(0)).duration())
        .isBetween(Duration.ofSeconds(4), Duration.ofSeconds(6));
  }

  @Test
  void aZonalShiftEndsByItselfAtItsExpiryWithSlowStart() {
    Router r = router("us-east-1a", "us-east-1b");
    ZoneState a = zone(r, "us-east-1a");
    long now = clock.nanos();
    r.zones()
        .shiftAway("us-east-1a", now + TimeUnit.MINUTES.toNanos(10), clock.instant(), "test", now);
    assertThat(a.shifted(clock.nanos())).isTrue();
    assertThat(r.tierLoads(clock.nanos())[0]).isZero();
    clock.advance(Duration.ofMinutes(10).minusSeconds(1));
    r.zones().evaluate(clock.nanos());
    assertThat(a.shifted(clock.nanos())).isTrue();
    clock.advance(Duration.ofSeconds(1));
    r.zones().evaluate(clock.nanos());
    assertThat(a.shifted(clock.nanos())).isFalse();
    assertThat(events.get(events.size() - 1))
        .isEqualTo(new FailoverEvent.ZoneShiftEnded("directory", a.locality, "expired"));
    // Back with slow start: 10% of its share at first.
    assertThat(a.ramp(clock.nanos(), r.zones().slowStartNanos)).isEqualTo(0.1);
  }

  /**
   * Between a shift's expiry and the next judgement (a second, more on a busy host) the zone took
   * every first attempt at full weight, then dropped to a tenth as the judgement started its slow
   * start: it ramps from its expiry now, before and after that judgement alike.
   */
  @Test
  void aZoneWhoseShiftExpiredRampsFromItsExpiryBeforeTheJudgementEndsIt() {
    Router r = router("us-east-1a", "us-east-1b");
    ZoneState a = zone(r, "us-east-1a");
    long now = clock.nanos();
    long slow = r.zones().slowStartNanos;
    r.zones()
        .shiftAway("us-east-1a", now + TimeUnit.MINUTES.toNanos(10), clock.instant(), "test", now);
    clock.advance(Duration.ofMinutes(10).plusMillis(1)); // expired, not yet judged
    assertThat(a.ramp(clock.nanos(), slow)).isEqualTo(0.1);
    assertThat(r.tierLoads(clock.nanos())[0]).isLessThan(100);
    clock.advance(Duration.ofNanos(slow / 2));
    double before = a.ramp(clock.nanos(), slow);
    assertThat(before).isCloseTo(0.5, org.assertj.core.data.Offset.offset(0.01));
    r.zones().evaluate(clock.nanos()); // ends the shift: the ramp goes on from the expiry
    assertThat(a.ramp(clock.nanos(), slow)).isEqualTo(before);
  }

  /**
   * A probe in flight when its endpoint left the list, which came back (the same state) before the
   * probe ended: its result belongs to a loop that ended, not to the one the return started.
   * Before, it was applied and scheduled a second loop of probes beside the new one, for good.
   */
  @Test
  void aProbeResultFromBeforeTheEndpointLeftAndCameBackIsIgnored() {
    Router r = router("us-east-1a", "us-east-1b");
    EndpointState ep = endpoint(r, "us-east-1a");
    int sentIn = ep.incarnation; // the probe in flight
    List<Endpoint> all = r.endpoints().stream().map(s -> s.endpoint).toList();
    r.update(all.stream().filter(e -> e != ep.endpoint).toList(), clock.nanos(), false);
    r.update(all, clock.nanos(), false);
    assertThat(r.endpoints()).contains(ep);
    assertThat(ep.removed).isFalse();
    withChecker(
        1,
        (checker, scheduler) -> {
          checker.result(ep, false, sentIn);
          assertThat(ep.isDown()).isFalse();
          assertThat(scheduler.getQueue()).as("no probe loop of its own").isEmpty();

          checker.result(ep, false, ep.incarnation); // a probe of the loop the return started
          assertThat(ep.isDown()).isTrue();
          assertThat(scheduler.getQueue()).hasSize(1);
        });
  }

  @Test
  void anEndpointEjectedByItsBreakerReturnsWhenHealthChecksPass() {
    Router r = router("us-east-1a", "us-east-1b");
    EndpointState ep = endpoint(r, "us-east-1a");
    // Ejected three times in a row: its breaker would now hold it out for about 20 s.
    for (int round = 0; round < 3; round++) {
      for (int i = 0; i < 5; i++) {
        clock.advance(Duration.ofMillis(1));
        if (ep.tryAcquire()) {
          ep.begin();
          ep.record(Outcome.UNAVAILABLE, MS, clock.nanos());
        }
      }
      // Past this ejection: the next failures eject it again, for longer.
      clock.advance(Duration.ofSeconds(5L << round));
    }
    for (int i = 0; i < 5; i++) {
      if (ep.tryAcquire()) {
        ep.begin();
        ep.record(Outcome.UNAVAILABLE, MS, clock.nanos());
      }
    }
    assertThat(ep.health(clock.nanos())).isEqualTo(Health.EJECTED);
    HealthCheck check = HealthCheck.http("/health");
    HealthChecker checker =
        new HealthChecker(
            "directory",
            check,
            new okhttp3.OkHttpClient(),
            new java.util.concurrent.ScheduledThreadPoolExecutor(1),
            new Random(1),
            sink);
    try {
      // Checks pass, but not yet for the base ejection time: still out.
      for (int i = 0; i < check.healthyThreshold(); i++) {
        checker.result(ep, true);
      }
      assertThat(ep.health(clock.nanos())).isEqualTo(Health.EJECTED);
      clock.advance(Duration.ofSeconds(5));
      checker.result(ep, true);
      assertThat(ep.health(clock.nanos())).isEqualTo(Health.HEALTHY);
      // It returns with slow start.
      assertThat(ep.ramp(clock.nanos(), TimeUnit.SECONDS.toNanos(10))).isLessThan(0.2);
    } finally {
      checker.stop();
    }
  }
}
