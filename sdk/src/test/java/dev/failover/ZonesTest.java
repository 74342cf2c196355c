package dev.failover;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ZonesTest {
  private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);
  private final FakeClock clock = new FakeClock();
  private final List<FailoverEvent> events = new ArrayList<>();
  private final ZonePolicy policy =
      ZonePolicy.defaults()
          .withReturn(Duration.ofSeconds(10), Duration.ofSeconds(10))
          .withOutliers(3.0, 20, Duration.ofSeconds(10));

  private Router router(String... zones) {
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
        EjectionPolicy.defaults(),
        policy,
        0,
        true,
        clock,
        clock,
        new Random(5),
        new Events(
            List.of(
                new FailoverListener() {
                  @Override
                  public void onZoneEvacuated(FailoverEvent.ZoneEvacuated e) {
                    events.add(e);
                  }

                  @Override
                  public void onZoneRestored(FailoverEvent.ZoneRestored e) {
                    events.add(e);
                  }
                })));
  }

  private ZoneState zone(Router r, String name) {
    return r.zones().all().stream()
        .filter(z -> z.locality.zone().equals(name))
        .findFirst()
        .orElseThrow();
  }

  /** One second of traffic: {@code n} attempts per zone with the given error rate and latency. */
  private void traffic(Router r, String name, int n, double errorRate, long latencyNanos) {
    ZoneState z = zone(r, name);
    int failures = (int) Math.round(n * errorRate);
    for (int i = 0; i < n; i++) {
      z.record(i < failures, latencyNanos, clock.nanos());
    }
  }

  /**
   * A zone evacuated while another served, whose list then lost every zone that served: routing is
   * in panic, which sends no probes, so it never came back (a fail-closed client answered
   * NO_ENDPOINT for good). With nothing else in rotation it returns at the next judgement.
   */
  @Test
  void anEvacuatedZoneReturnsWhenTheListLeavesNoOtherZoneInRotation() {
    Router r = router("us-east-1a", "us-east-1b", "us-east-1c", "us-west-2a");
    errorsStandOutInTheHomeZone(r);
    assertThat(zone(r, "us-east-1a").evacuated()).isTrue();
    List<Endpoint> onlyA =
        r.endpoints().stream()
            .map(s -> s.endpoint)
            .filter(e -> e.locality().zone().equals("us-east-1a"))
            .toList();
    r.update(onlyA, clock.nanos(), false);
    assertThat(r.next(clock.nanos(), new SmallSet<>(), List.of())).isNotNull(); // panic: any
    clock.advance(Duration.ofSeconds(1));
    r.zones().evaluate(clock.nanos());
    assertThat(zone(r, "us-east-1a").evacuated()).isFalse();
    assertThat(events).last().isInstanceOf(FailoverEvent.ZoneRestored.class);
    assertThat(r.panic(clock.nanos())).isFalse();
  }

  /**
   * Two zones of four evacuated for their errors (50%, the default cap); then the registry drops a
   * third zone: two of three evacuated is past the cap, and the one evacuated last returns at the
   * next judgement, as the cap would have refused it on the list as it is now.
   */
  @Test
  void aListThatLostZonesBringsBackTheZonesPastTheCap() {
    Router r = homeAnd1bOut(false);

    listLosesAndIsJudged(r, "us-east-1c");
    assertThat(zone(r, "us-east-1b").evacuated()).isFalse();
    assertThat(zone(r, "us-east-1a").evacuated()).isTrue(); // one of three: within the cap
    assertOnlyRestored("us-east-1b");
  }

  /**
   * As above, but the zone evacuated last refused its connections: corroborated evidence is not
   * capped, nor counted against the cap; the zone out for its errors is one of three on passive
   * evidence, within the cap, and both stay out (also once the refusals have left the window).
   */
  @Test
  void zonesOutOnRefusalsDoNotCountAgainstTheCapWhenTheListLosesZones() {
    Router r = homeAnd1bOut(true);
    clock.advance(Duration.ofSeconds(11)); // the 10 s window, not judged meanwhile

    listLosesAndIsJudged(r, "us-east-1c");
    assertThat(zone(r, "us-east-1b").evacuated()).isTrue();
    assertThat(zone(r, "us-east-1a").evacuated()).isTrue();
    assertThat(events).isEmpty();
  }

  /**
   * The drill's region outage: us-east-1b is out for its errors when 1a and 1c refuse their
   * connections and are evacuated on that (3 of 5 zones out, past 50%). The hard outages are not
   * capped and do not count against the cap: 1b stays out (it was brought back into its failing
   * region for 2 s before this was so).
   */
  @Test
  void hardOutagesElsewhereDoNotBringBackAZoneOutForItsErrors() {
    Router r = router("us-east-1a", "us-east-1b", "us-east-1c", "us-west-2a", "us-west-2b");
    errorsStandOutIn(r, "us-east-1b", false);
    errorsStandOutIn(r, "us-east-1a", true);
    errorsStandOutIn(r, "us-east-1c", true);
    assertThat(zone(r, "us-east-1a").evacuated()).isTrue();
    assertThat(zone(r, "us-east-1c").evacuated()).isTrue();
    events.clear();
    clock.advance(Duration.ofSeconds(1));
    r.zones().evaluate(clock.nanos());
    assertThat(zone(r, "us-east-1b").evacuated()).isTrue();
    assertThat(events).isEmpty();
  }

  /**
   * As above, with both zones out on errors, but the one evacuated last refused its probes since:
   * its outage is corroborated now, so it does not count against the cap, and both stay.
   */
  @Test
  void aZoneWhoseProbesWereRefusedSinceDoesNotCountAgainstTheCap() {
    Router r = homeAnd1bOut(false);
    ZoneState b = zone(r, "us-east-1b");
    r.update(without(r, "us-east-1c"), clock.nanos(), false);
    clock.advance(Duration.ofNanos(Zones.LIST_FLAP_NANOS).plusSeconds(1));
    for (int i = 0; i < Zones.MIN_HARD_FAILURES; i++) {
      b.record(true, true, 1 * MS, clock.nanos()); // a probe refused
    }
    r.zones().evaluate(clock.nanos());
    assertThat(b.evacuated()).isTrue();
    assertThat(zone(r, "us-east-1a").evacuated()).isTrue();
    assertThat(events).isEmpty();
  }

  /**
   * Zones out because their endpoints are down on health checks that only timed out: passive
   * evidence (a client too slow to read its probes times them out everywhere), under the cap, and
   * so counted in its re-check; the one evacuated last returns when the list loses a zone.
   */
  @Test
  void zonesOutOnTimedOutChecksCountAgainstTheCap() {
    Router r = router("us-east-1a", "us-east-1b", "us-east-1c", "us-west-2a");
    for (String name : List.of("us-east-1a", "us-east-1b")) {
      for (EndpointState s : zone(r, name).endpoints) {
        s.downUncorroborated = true; // its probes timed out
        s.setDown(true);
      }
      clock.advance(Duration.ofSeconds(1));
      r.zones().evaluate(clock.nanos());
      assertThat(zone(r, name).evacuated()).isTrue();
    }
    events.clear();

    listLosesAndIsJudged(r, "us-east-1c");
    assertThat(zone(r, "us-east-1a").evacuated()).isTrue();
    assertOnlyRestored("us-east-1b");
  }

  /**
   * A zone the list has just lost still counts for the cap: a registry that drops it for a refresh
   * or two brings nothing back (2 of 4 zones out, not 2 of 3).
   */
  @Test
  void aListThatLosesAZoneForARefreshBringsNothingBack() {
    Router r = homeAnd1bOut(false);
    r.update(without(r, "us-east-1c"), clock.nanos(), false);
    clock.advance(Duration.ofNanos(Zones.LIST_FLAP_NANOS).minusSeconds(1));
    r.zones().evaluate(clock.nanos());
    assertThat(zone(r, "us-east-1a").evacuated()).isTrue();
    assertThat(zone(r, "us-east-1b").evacuated()).isTrue();
    assertThat(events).isEmpty();
  }

  /**
   * Four zones, of which the home zone and then us-east-1b are evacuated for their errors (1b's
   * refused connections if {@code refused}): two of four, the default cap. Events cleared.
   */
  private Router homeAnd1bOut(boolean refused) {
    Router r = router("us-east-1a", "us-east-1b", "us-east-1c", "us-west-2a");
    errorsStandOutInTheHomeZone(r);
    errorsStandOutIn(r, "us-east-1b", refused);
    assertThat(zone(r, "us-east-1a").evacuated()).isTrue();
    assertThat(zone(r, "us-east-1b").evacuated()).isTrue();
    events.clear();
    return r;
  }

  /**
   * Three seconds in which {@code zone} fails half its attempts ({@code refused}: by refused
   * connections) and the zones in rotation 0 to 2%, then a judgement.
   */
  private void errorsStandOutIn(Router r, String zone, boolean refused) {
    for (int s = 0; s < 3; s++) {
      for (ZoneState z : r.zones().all()) {
        if (z.evacuated()) {
          continue;
        }
        String name = z.locality.zone();
        long latency = name.startsWith("us-west") ? 40 * MS : 5 * MS;
        if (name.equals(zone)) {
          for (int i = 0; i < 50; i++) {
            z.record(i < 25, refused && i < 25, latency, clock.nanos());
          }
        } else {
          traffic(r, name, 50, name.equals("us-east-1c") ? 0.02 : 0.0, latency);
        }
      }
      clock.advance(Duration.ofSeconds(1));
    }
    r.zones().evaluate(clock.nanos());
  }

  /**
   * The endpoint list loses {@code zone}; a judgement once the lost zone no longer counts (a list
   * may lose a zone for a refresh: {@link #aListThatLosesAZoneForARefreshBringsNothingBack}).
   */
  private void listLosesAndIsJudged(Router r, String zone) {
    r.update(without(r, zone), clock.nanos(), false);
    clock.advance(Duration.ofNanos(Zones.LIST_FLAP_NANOS).plusSeconds(1));
    r.zones().evaluate(clock.nanos());
  }

  private static List<Endpoint> without(Router r, String zone) {
    return r.endpoints().stream()
        .map(s -> s.endpoint)
        .filter(e -> !e.locality().zone().equals(zone))
        .toList();
  }

  private void assertOnlyRestored(String zone) {
    assertThat(events)
        .singleElement()
        .isInstanceOfSatisfying(
            FailoverEvent.ZoneRestored.class, e -> assertThat(e.zone().zone()).isEqualTo(zone));
  }

  /** Three seconds in which the home zone fails 20% of attempts and the others 0 to 2%. */
  private void errorsStandOutInTheHomeZone(Router r) {
    for (int s = 0; s < 3; s++) {
      traffic(r, "us-east-1a", 50, 0.2, 5 * MS);
      traffic(r, "us-east-1b", 50, 0.0, 5 * MS);
      traffic(r, "us-east-1c", 50, 0.02, 5 * MS);
      traffic(r, "us-west-2a", 50, 0.0, 40 * MS);
      clock.advance(Duration.ofSeconds(1));
    }
    r.zones().evaluate(clock.nanos());
  }

  @Test
  void zonesWithoutTimedAnswersDoNotSetTheLatencyReference() {
    // A fan-out: the home zone takes every first attempt (30 ms under load); the other zones see
    // only hedges and probes that lost their race, which carry no latency. Their "0 ms" must not
    // make the home zone a latency outlier.
    Router r = router("us-east-1a", "us-east-1b", "us-east-1c");
    for (int s = 0; s < 3; s++) {
      traffic(r, "us-east-1a", 50, 0.0, 30 * MS);
      traffic(r, "us-east-1b", 25, 0.0, -1);
      traffic(r, "us-east-1c", 25, 0.0, -1);
      clock.advance(Duration.ofSeconds(1));
    }
    r.zones().evaluate(clock.nanos());
    assertThat(zone(r, "us-east-1a").evacuated()).isFalse();
    assertThat(events).isEmpty();
  }

  @Test
  void aZoneWhoseErrorRateStandsOutIsEvacuatedAndGetsNoFirstAttempts() {
    Router r = router("us-east-1a", "us-east-1b", "us-east-1c", "us-west-2a");
    errorsStandOutInTheHomeZone(r);
    assertThat(zone(r, "us-east-1a").evacuated()).isTrue();
    assertThat(zone(r, "us-east-1c").evacuated()).isFalse();
    assertThat(events).singleElement().isInstanceOf(FailoverEvent.ZoneEvacuated.class);
    assertThat(((FailoverEvent.ZoneEvacuated) events.get(0)).reason())
        .isEqualTo("error rate 20% vs median 1% across zones");
    // The home zone's share moves to the rest of the home region.
    double[] loads = r.tierLoads(clock.nanos());
    assertThat(loads[0]).isZero();
    assertThat(loads[1]).isCloseTo(100, within(0.001));
    for (int i = 0; i < 200; i++) {
      Router.Pick p = r.pick(clock.nanos(), Set.of(), Set.of());
      assertThat(p).isNotNull();
      assertThat(p.endpoint().endpoint.locality().zone()).isNotEqualTo("us-east-1a");
    }
  }

  @Test
  void aZoneWhoseLatencyStandsOutInItsRegionIsEvacuated() {
    Router r = router("us-east-1a", "us-east-1b", "us-east-1c", "us-west-2a");
    for (int s = 0; s < 3; s++) {
      traffic(r, "us-east-1a", 50, 0, 5 * MS);
      traffic(r, "us-east-1b", 50, 0, 60 * MS);
      traffic(r, "us-east-1c", 50, 0, 6 * MS);
      // Far, but that is distance, not a fault: compared only within its region.
      traffic(r, "us-west-2a", 50, 0, 40 * MS);
      clock.advance(Duration.ofSeconds(1));
    }
    r.zones().evaluate(clock.nanos());
    assertThat(zone(r, "us-east-1b").evacuated()).isTrue();
    assertThat(zone(r, "us-west-2a").evacuated()).isFalse();
    assertThat(zone(r, "us-east-1b").reason).startsWith("mean latency 60.0 ms vs");
  }

  /**
   * A zone out for its latency while the client stalls for longer than its wait: latency says
   * nothing meanwhile, and before, the zone counted as clean and returned after the wait, still ten
   * times slower (and went again once the stall ended). It stays out until latency can judge it,
   * for up to twice its wait.
   */
  @Test
  void aZoneOutForItsLatencyIsNotCleanWhileTheClientStalls() {
    Router r = router("us-east-1a", "us-east-1b", "us-east-1c", "us-west-2a");
    boolean[] stalled = {false};
    r.zones().clientStalled(now -> stalled[0]);
    for (int s = 0; s < 3; s++) {
      traffic(r, "us-east-1a", 50, 0, 5 * MS);
      traffic(r, "us-east-1b", 50, 0, 60 * MS);
      traffic(r, "us-east-1c", 50, 0, 6 * MS);
      clock.advance(Duration.ofSeconds(1));
    }
    r.zones().evaluate(clock.nanos());
    ZoneState b = zone(r, "us-east-1b");
    assertThat(b.evacuated()).isTrue();
    long wait = r.zones().hysteresisNanos(b);
    stalled[0] = true;
    long until = clock.nanos() + 2 * wait - TimeUnit.SECONDS.toNanos(1);
    while (clock.nanos() < until) {
      traffic(r, "us-east-1a", 20, 0, 5 * MS);
      traffic(r, "us-east-1b", 2, 0, 60 * MS); // its probes: still slow
      traffic(r, "us-east-1c", 20, 0, 6 * MS);
      clock.advance(Duration.ofSeconds(1));
      r.zones().evaluate(clock.nanos());
      assertThat(b.evacuated()).as("after %d ms", clock.nanos() / MS).isTrue();
    }
    // The stall ends: latency judges it again, still slow.
    stalled[0] = false;
    for (int s = 0; s < 3; s++) {
      traffic(r, "us-east-1a", 20, 0, 5 * MS);
      traffic(r, "us-east-1b", 2, 0, 60 * MS);
      traffic(r, "us-east-1c", 20, 0, 6 * MS);
      clock.advance(Duration.ofSeconds(1));
      r.zones().evaluate(clock.nanos());
    }
    assertThat(b.evacuated()).isTrue();
  }

  /**
   * The second the home zone went down, the client's host was slow (seen in a drill on a busy
   * machine): the retries all landed in us-east-1b, slow, while us-east-1c got no traffic yet. Over
   * the window 1b's mean was 103 ms against 1c's 5 ms, and 1b was evacuated for latency; at the
   * same times, the two were alike.
   */
  @Test
  void aZoneSlowOnlyWhenNoOtherZoneGotTrafficIsNotALatencyOutlier() {
    Router r = slowSecondThenAlike(0); // the slow second: only 1b answered
    assertThat(zone(r, "us-east-1b").evacuated()).isFalse();
    assertThat(zone(r, "us-east-1c").evacuated()).isFalse();
  }

  /** The same slow second, with us-east-1c answering fast beside it: 1b stands out and goes. */
  @Test
  void aZoneSlowerThanAnotherAtTheSameTimesIsALatencyOutlier() {
    Router r = slowSecondThenAlike(10);
    assertThat(zone(r, "us-east-1b").evacuated()).isTrue();
    assertThat(zone(r, "us-east-1b").reason).startsWith("mean latency");
  }

  /**
   * One second in which us-east-1b answers 30 calls in 300 ms and us-east-1c {@code fastBeside}
   * calls in 5 ms, then three seconds in which both answer 20 calls in 5 ms; then the zones are
   * judged.
   */
  private Router slowSecondThenAlike(int fastBeside) {
    Router r = router("us-east-1a", "us-east-1b", "us-east-1c");
    traffic(r, "us-east-1b", 30, 0, 300 * MS);
    traffic(r, "us-east-1c", fastBeside, 0, 5 * MS);
    clock.advance(Duration.ofSeconds(1));
    for (int s = 0; s < 3; s++) {
      traffic(r, "us-east-1b", 20, 0, 5 * MS);
      traffic(r, "us-east-1c", 20, 0, 5 * MS);
      clock.advance(Duration.ofSeconds(1));
    }
    r.zones().evaluate(clock.nanos());
    return r;
  }

  /**
   * An evacuated zone gets a probe a second: too few answers to compare at the same times, so its
   * slow probes alone keep it out (compared at the same times, it came back while still slow).
   */
  @Test
  void aZoneEvacuatedForLatencyWhoseProbesStaySlowStaysOut() {
    Router r = router("us-east-1a", "us-east-1b", "us-east-1c");
    for (int s = 0; s < 3; s++) {
      traffic(r, "us-east-1a", 50, 0, 5 * MS);
      traffic(r, "us-east-1b", 50, 0, 60 * MS);
      traffic(r, "us-east-1c", 50, 0, 6 * MS);
      clock.advance(Duration.ofSeconds(1));
    }
    r.zones().evaluate(clock.nanos());
    assertThat(zone(r, "us-east-1b").evacuated()).isTrue();
    for (int s = 0; s < 30; s++) {
      traffic(r, "us-east-1a", 50, 0, 5 * MS);
      traffic(r, "us-east-1b", 1, 0, 60 * MS); // its probe
      traffic(r, "us-east-1c", 50, 0, 6 * MS);
      clock.advance(Duration.ofSeconds(1));
      r.zones().evaluate(clock.nanos());
      assertThat(zone(r, "us-east-1b").evacuated()).as("after %d s", s + 1).isTrue();
    }
  }

  @Test
  void withTwoZonesTheOthersArePooled() {
    Router r = router("us-east-1a", "us-east-1b");
    for (int s = 0; s < 3; s++) {
      traffic(r, "us-east-1a", 50, 0.2, 5 * MS);
      traffic(r, "us-east-1b", 10, 0.0, 5 * MS); // only retries reach it
      clock.advance(Duration.ofSeconds(1));
    }
    r.zones().evaluate(clock.nanos());
    assertThat(zone(r, "us-east-1a").evacuated()).isTrue();
    assertThat(zone(r, "us-east-1a").reason).isEqualTo("error rate 20% vs 0% in the other zones");
    assertThat(zone(r, "us-east-1b").evacuated()).isFalse();
  }

  @Test
  void tooFewSamplesJudgeNothing() {
    Router r = router("us-east-1a", "us-east-1b", "us-east-1c");
    traffic(r, "us-east-1a", 10, 1.0, 5 * MS);
    traffic(r, "us-east-1b", 10, 0, 5 * MS);
    traffic(r, "us-east-1c", 10, 0, 5 * MS);
    r.zones().evaluate(clock.nanos());
    assertThat(events).isEmpty();
  }

  @Test
  void aZoneWithMostEndpointsEjectedIsEvacuatedAsAWhole() {
    Router r = router("us-east-1a", "us-east-1b", "us-west-2a");
    zone(r, "us-east-1a").endpoints.get(0).breaker.transitionToOpenState();
    r.zones().evaluate(clock.nanos());
    assertThat(zone(r, "us-east-1a").evacuated()).isFalse(); // 1 of 2 is not most
    zone(r, "us-east-1a").endpoints.get(1).setDown(true);
    r.zones().evaluate(clock.nanos());
    assertThat(zone(r, "us-east-1a").evacuated()).isTrue();
    assertThat(zone(r, "us-east-1a").reason).isEqualTo("ejected 2 of 2 endpoints");
  }

  /**
   * A zone whose endpoints all asked for a pause ({@code Retry-After}) is evacuated, as its servers
   * asked; but not when each has since answered a success within its pause (routing panicked and
   * sent there): routing still waits the pauses out, and the zone is not evacuated for them. After
   * a total outage, a home zone that served again was evacuated (hysteresis, slow start) once the
   * other zones' shorter pauses ended.
   */
  @Test
  void aZoneIsNotEvacuatedForPausesItsServersAnsweredWithin() {
    Router r = router("us-east-1a", "us-east-1b", "us-west-2a");
    List<EndpointState> home = zone(r, "us-east-1a").endpoints;
    long asked = clock.nanos();
    long until = asked + Duration.ofSeconds(30).toNanos();
    home.forEach(e -> e.holdOff(asked, until));
    clock.advance(Duration.ofMillis(100));
    long sent = clock.nanos();
    clock.advance(Duration.ofMillis(5));
    home.forEach(e -> e.successAfterHoldOff(sent, clock.nanos()));
    r.zones().evaluate(clock.nanos());
    assertThat(zone(r, "us-east-1a").evacuated()).isFalse();
    assertThat(home)
        .allSatisfy(
            e -> assertThat(e.health(clock.nanos())).isEqualTo(FailoverSnapshot.Health.HELD_OFF));

    // A new Retry-After, unanswered since: the zone's servers ask for a pause again.
    long again = clock.nanos();
    home.forEach(e -> e.holdOff(again, again + Duration.ofSeconds(30).toNanos()));
    r.zones().evaluate(clock.nanos());
    assertThat(zone(r, "us-east-1a").evacuated()).isTrue();
    // Held off, not ejected: no ejection event tells of them, and the reason says so.
    assertThat(zone(r, "us-east-1a").reason).isEqualTo("held off (Retry-After) 2 of 2 endpoints");
  }

  /**
   * A zone evacuated because its servers asked for pauses returns as one evacuated for ejected
   * endpoints does: clean once the pauses are over and nothing else is wrong with it, though the
   * failure that asked for them is still in the window and too few attempts judge it.
   */
  @Test
  void aZoneOutForItsPausesReturnsOnceTheyAreOver() {
    Router r = router("us-east-1a", "us-east-1b", "us-east-1c");
    ZoneState home = zone(r, "us-east-1a");
    traffic(r, "us-east-1a", 1, 1.0, 5 * MS); // the 503 that asked for the pauses
    long asked = clock.nanos();
    home.endpoints.forEach(e -> e.holdOff(asked, asked + Duration.ofSeconds(5).toNanos()));
    r.zones().evaluate(clock.nanos());
    assertThat(home.evacuated()).isTrue();
    assertThat(home.reason).startsWith("held off");

    int seconds = secondsToReturn(r, home, 0, 120);

    // The pause (5 s), then the hysteresis (10 s); not until its failure leaves the window (20 s).
    assertThat(home.evacuated()).isFalse();
    assertThat(seconds).isLessThanOrEqualTo(15);
  }

  /** A zone out for endpoints of both kinds says how many of each. */
  @Test
  void theReasonTellsEjectedFromHeldOffEndpoints() {
    Router r = router("us-east-1a", "us-east-1b", "us-west-2a");
    List<EndpointState> home = zone(r, "us-east-1a").endpoints;
    home.get(0).breaker.transitionToOpenState();
    long asked = clock.nanos();
    home.get(1).holdOff(asked, asked + Duration.ofSeconds(30).toNanos());
    r.zones().evaluate(clock.nanos());
    assertThat(zone(r, "us-east-1a").evacuated()).isTrue();
    assertThat(zone(r, "us-east-1a").reason)
        .isEqualTo("ejected 1 and held off (Retry-After) 1 of 2 endpoints");

    // Held off and ejected too (a retryable 503 with Retry-After counts against the breaker): an
    // ejection, which an event told of.
    Router again = router("us-east-1a", "us-east-1b", "us-west-2a");
    List<EndpointState> both = zone(again, "us-east-1a").endpoints;
    both.forEach(e -> e.holdOff(asked, asked + Duration.ofSeconds(30).toNanos()));
    both.get(0).breaker.transitionToOpenState();
    again.zones().evaluate(clock.nanos());
    assertThat(zone(again, "us-east-1a").reason)
        .isEqualTo("ejected 1 and held off (Retry-After) 1 of 2 endpoints");
  }

  /**
   * Seconds of healthy traffic (60 calls a second to us-east-1b and us-east-1c, {@code probes} to
   * the evacuated home zone), judged each second, until {@code home} returns or {@code limit}
   * seconds have passed.
   */
  private int secondsToReturn(Router r, ZoneState home, int probes, int limit) {
    int seconds = 0;
    while (home.evacuated() && seconds < limit) {
      traffic(r, "us-east-1a", probes, 0, 5 * MS);
      traffic(r, "us-east-1b", 60, 0, 5 * MS);
      traffic(r, "us-east-1c", 60, 0, 5 * MS);
      clock.advance(Duration.ofSeconds(1));
      seconds++;
      r.zones().evaluate(clock.nanos());
    }
    return seconds;
  }

  /** Three seconds of 50% errors in the home zone of three: it is evacuated; returns it. */
  private ZoneState evacuateHomeForItsErrors(Router r) {
    ZoneState home = zone(r, "us-east-1a");
    for (int s = 0; s < 3; s++) {
      traffic(r, "us-east-1a", 50, 0.5, 5 * MS);
      traffic(r, "us-east-1b", 50, 0, 5 * MS);
      traffic(r, "us-east-1c", 50, 0, 5 * MS);
      clock.advance(Duration.ofSeconds(1));
    }
    r.zones().evaluate(clock.nanos());
    assertThat(home.evacuated()).isTrue();
    return home;
  }

  /**
   * A zone evacuated and then shifted away gets no attempts and no probes: with no news against it
   * it returns from its evacuation during the shift, after its wait, and so holds no share of the
   * evacuation cap for the rest of the shift (up to three days): a second bad zone can still be
   * evacuated. When the shift ends it comes back with slow start.
   */
  @Test
  void anEvacuatedZoneShiftedAwayReturnsDuringItsShiftAndLeavesTheCap() {
    Router r = router("us-east-1a", "us-east-1b", "us-east-1c");
    ZoneState home = evacuateHomeForItsErrors(r);
    shiftHome(r, Duration.ofHours(2));
    othersCleanFor(r, 30);
    assertThat(home.evacuated()).isFalse();
    assertThat(home.shifted(clock.nanos())).isTrue();
    for (int s = 0; s < 3; s++) {
      traffic(r, "us-east-1b", 50, 0.5, 5 * MS);
      traffic(r, "us-east-1c", 50, 0, 5 * MS);
      clock.advance(Duration.ofSeconds(1));
    }
    r.zones().evaluate(clock.nanos());
    assertThat(zone(r, "us-east-1b").evacuated()).isTrue();
    r.zones().cancelShift("us-east-1a", "test", clock.nanos());
    assertThat(home.phase).isEqualTo(ZoneState.Phase.RAMPING);
  }

  /**
   * A zone shifted away while it ramped back came back at the ramp it had reached as if it had
   * ramped through the shift; it starts its slow start again when the shift ends.
   */
  @Test
  void aZoneShiftedWhileItRampsStartsItsSlowStartAgainWhenTheShiftEnds() {
    Router r = router("us-east-1a", "us-east-1b", "us-east-1c");
    ZoneState home = evacuateHomeForItsErrors(r);
    secondsToReturn(r, home, 1, 60);
    assertThat(home.phase).isEqualTo(ZoneState.Phase.RAMPING);
    shiftHome(r, Duration.ofMinutes(1));
    clock.advance(Duration.ofSeconds(8));
    r.zones().cancelShift("us-east-1a", "test", clock.nanos());
    assertThat(home.phase).isEqualTo(ZoneState.Phase.RAMPING);
    assertThat(r.tierLoads(clock.nanos())[0]).isCloseTo(14, within(0.01)); // 1.4 x 10%
  }

  /** {@code seconds} of clean traffic in 1b and 1c, none in 1a, judged each second. */
  private void othersCleanFor(Router r, int seconds) {
    for (int s = 0; s < seconds; s++) {
      traffic(r, "us-east-1b", 60, 0, 5 * MS);
      traffic(r, "us-east-1c", 60, 0, 5 * MS);
      clock.advance(Duration.ofSeconds(1));
      r.zones().evaluate(clock.nanos());
    }
  }

  /** Shifts the home zone away for {@code d}, by "test". */
  private void shiftHome(Router r, Duration d) {
    r.zones()
        .shiftAway(
            "us-east-1a",
            clock.nanos() + d.toNanos(),
            clock.instant().plus(d),
            "test",
            clock.nanos());
  }

  @Test
  void returnWaitsForTheHysteresisThenRampsUp() {
    Router r = router("us-east-1a", "us-east-1b", "us-east-1c");
    ZoneState home = evacuateHomeForItsErrors(r);

    // Healed: probes (one a second) succeed; old failures age out of the 10 s window.
    int seconds = secondsToReturn(r, home, 1, 60);
    // 10 s for the bad samples to leave the window, then 10 s clean.
    assertThat(seconds).isBetween(19, 23);
    assertThat(home.phase).isEqualTo(ZoneState.Phase.RAMPING);
    assertThat(events.get(events.size() - 1)).isInstanceOf(FailoverEvent.ZoneRestored.class);
    double start = r.tierLoads(clock.nanos())[0];
    assertThat(start).isCloseTo(14, within(0.01)); // 1.4 x 10%
    clock.advance(Duration.ofSeconds(5));
    assertThat(r.tierLoads(clock.nanos())[0]).isCloseTo(70, within(0.01)); // 1.4 x 50%
    clock.advance(Duration.ofSeconds(5));
    r.zones().evaluate(clock.nanos());
    assertThat(home.phase).isEqualTo(ZoneState.Phase.ACTIVE);
    assertThat(r.tierLoads(clock.nanos())[0]).isCloseTo(100, within(0.01));
  }

  /**
   * A ticker's origin is arbitrary: on one whose readings are negative, an evacuated zone never
   * returned (the time it became clean, -1 when it was not, was taken for "not clean" again at
   * every evaluation).
   */
  @Test
  void anEvacuatedZoneReturnsOnATickerWhoseReadingsAreNegative() {
    clock.advance(Duration.ofNanos(-clock.nanos()).minus(Duration.ofDays(1)));
    assertThat(clock.nanos()).isNegative();
    Router r = router("us-east-1a", "us-east-1b", "us-east-1c");
    ZoneState home = evacuateHomeForItsErrors(r);

    int seconds = secondsToReturn(r, home, 1, 60);
    assertThat(seconds).isBetween(19, 23);
    assertThat(home.phase).isEqualTo(ZoneState.Phase.RAMPING);
  }

  @Test
  void aZoneThatNoAttemptReachesAnyMoreReturnsOnceItsEvidenceHasAgedOut() {
    // A client that sends only POSTs: an evacuated zone gets no probes (they are only raced with
    // idempotent calls), so no attempt reaches it; it must not stay evacuated for good.
    Router r = router("us-east-1a", "us-east-1b", "us-east-1c");
    ZoneState home = evacuateHomeForItsErrors(r);
    assertThat(home.reason).startsWith("error rate");

    int seconds = secondsToReturn(r, home, 0, 120);
    // 10 s for its failures to leave the window, then the 10 s wait, as for a zone that heals.
    assertThat(seconds).isBetween(19, 23);
    assertThat(home.phase).isEqualTo(ZoneState.Phase.RAMPING);
    assertThat(events.get(events.size() - 1)).isInstanceOf(FailoverEvent.ZoneRestored.class);
  }

  @Test
  void aZoneThatFailsAgainSoonAfterReturningWaitsTwiceAsLong() {
    Router r = router("us-east-1a", "us-east-1b", "us-east-1c");
    ZoneState home = zone(r, "us-east-1a");
    home.endpoints.forEach(e -> e.setDown(true));
    r.zones().evaluate(clock.nanos());
    assertThat(home.evacuated()).isTrue();
    home.endpoints.forEach(e -> e.setDown(false));
    int seconds = 0;
    while (home.evacuated() && seconds < 60) {
      clock.advance(Duration.ofSeconds(1));
      seconds++;
      r.zones().evaluate(clock.nanos());
    }
    assertThat(seconds).isEqualTo(11);
    // Flaps down again: evacuated, and now needs 20 s clean.
    home.endpoints.forEach(e -> e.setDown(true));
    r.zones().evaluate(clock.nanos());
    assertThat(home.evacuated()).isTrue();
    home.endpoints.forEach(e -> e.setDown(false));
    seconds = 0;
    while (home.evacuated() && seconds < 60) {
      clock.advance(Duration.ofSeconds(1));
      seconds++;
      r.zones().evaluate(clock.nanos());
    }
    assertThat(seconds).isEqualTo(21);
  }

  @Test
  void aFlappingZoneCausesAtMostOneRoutingChangePerThirtySeconds() {
    Router r = router("us-east-1a", "us-east-1b", "us-east-1c");
    ZoneState home = zone(r, "us-east-1a");
    // Down 5 s, up 5 s, for two minutes.
    for (int s = 0; s < 120; s++) {
      boolean down = (s / 5) % 2 == 0;
      home.endpoints.forEach(e -> e.setDown(down));
      clock.advance(Duration.ofSeconds(1));
      r.zones().evaluate(clock.nanos());
    }
    // Evacuated once and never bounced back: the clean spells are shorter than the hysteresis.
    assertThat(events).hasSize(1);
  }

  @Test
  void atMostHalfTheZonesAreEvacuatedAsOutliers() {
    Router r = router("us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d");
    for (int s = 0; s < 3; s++) {
      traffic(r, "us-east-1a", 50, 0.5, 5 * MS);
      traffic(r, "us-east-1b", 50, 0.5, 5 * MS);
      traffic(r, "us-east-1c", 50, 0.0, 5 * MS);
      traffic(r, "us-east-1d", 50, 0.0, 5 * MS);
      clock.advance(Duration.ofSeconds(1));
    }
    r.zones().evaluate(clock.nanos());
    long evacuated = r.zones().all().stream().filter(ZoneState::evacuated).count();
    assertThat(evacuated).isLessThanOrEqualTo(2);
  }

  @Test
  void probesOfEvacuatedZonesAreDueOnceASecond() {
    Router r = router("us-east-1a", "us-east-1b", "us-east-1c");
    ZoneState home = zone(r, "us-east-1a");
    home.endpoints.forEach(e -> e.setDown(true));
    r.zones().evaluate(clock.nanos());
    home.endpoints.forEach(e -> e.setDown(false));
    assertThat(r.zones().probeDue(clock.nanos())).isSameAs(home);
    assertThat(r.zones().probeDue(clock.nanos())).isNull();
    clock.advance(Duration.ofMillis(999));
    assertThat(r.zones().probeDue(clock.nanos())).isNull();
    clock.advance(Duration.ofMillis(1));
    assertThat(r.zones().probeDue(clock.nanos())).isSameAs(home);
    assertThat(r.probe(home, clock.nanos())).isNotNull();
  }
}
