package dev.failover;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RouterTest {
  private final FakeClock clock = new FakeClock();
  private final Random random = new Random(42);
  private final Locality home = Locality.of("us-east-1", "us-east-1a");

  private Router router(List<Endpoint> endpoints) {
    return router(endpoints, new Events(List.of()));
  }

  private Router router(List<Endpoint> endpoints, Events events) {
    return router(endpoints, 0, true, events);
  }

  /** A router with the given panic threshold and whether panic fails open. */
  private Router router(List<Endpoint> endpoints, int panicThresholdPercent, boolean failOpen) {
    return router(endpoints, panicThresholdPercent, failOpen, new Events(List.of()));
  }

  private Router router(
      List<Endpoint> endpoints, int panicThresholdPercent, boolean failOpen, Events events) {
    return new Router(
        "directory",
        home,
        endpoints,
        List.of(),
        EjectionPolicy.defaults(),
        ZonePolicy.defaults(),
        panicThresholdPercent,
        failOpen,
        clock,
        clock,
        random,
        events);
  }

  private static List<Endpoint> zone(String region, String zone, int count, int firstPort) {
    List<Endpoint> list = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      list.add(Endpoint.of("http://127.0.0.1:" + (firstPort + i), region, zone));
    }
    return list;
  }

  /** Shifts {@code zone} away for an hour, by "test". */
  private void shiftForAnHour(Router r, String zone) {
    Duration hour = Duration.ofHours(1);
    r.zones()
        .shiftAway(
            zone,
            clock.nanos() + hour.toNanos(),
            clock.instant().plus(hour),
            "test",
            clock.nanos());
  }

  private static void eject(EndpointState s) {
    s.breaker.transitionToOpenState();
  }

  /**
   * A source that replaces its instances by the thousand (new addresses each time) within the 5
   * minutes removed endpoints are remembered: at most {@link Router#MAX_REMEMBERED_REMOVED} are
   * kept, the latest removed; before, every one was, about 4.5 KB each (15,000 held 60 MB).
   */
  @Test
  void removedEndpointsAreRememberedUpToABound() {
    Router r = router(zone("us-east-1", "us-east-1a", 3, 20000));
    for (int round = 1; round <= 500; round++) {
      r.update(zone("us-east-1", "us-east-1a", 3, 20000 + 3 * round), clock.nanos(), false);
      clock.advance(Duration.ofMillis(100)); // 50 s in all: inside the 5 minutes
    }
    assertThat(r.rememberedRemoved()).isEqualTo(Router.MAX_REMEMBERED_REMOVED);
    // The latest removed is remembered: it comes back as it left.
    EndpointState last = r.endpoints().get(0);
    r.update(zone("us-east-1", "us-east-1a", 3, 20000 + 3 * 501), clock.nanos(), false);
    r.update(zone("us-east-1", "us-east-1a", 3, 20000 + 3 * 500), clock.nanos(), false);
    assertThat(r.endpoints()).contains(last);
  }

  /**
   * Zone labels that keep changing (a zone key naming a per-pod label) made a zone state each, kept
   * for good; one emptied for longer than a flapping list is remembered is now forgotten, unless it
   * is shifted away (an operator may still cancel it) or home.
   */
  @Test
  void aZoneEmptyForLongerThanAFlapIsRememberedIsForgottenUnlessShiftedOrHome() {
    Router r = router(zone("us-east-1", "us-east-1a", 1, 10000));
    List<Endpoint> list = new ArrayList<>(zone("us-east-1", "us-east-1a", 1, 10000));
    list.addAll(zone("us-east-1", "us-east-1b", 1, 10001));
    r.update(list, clock.nanos(), false);
    r.zones()
        .shiftAway(
            "us-east-1b",
            clock.nanos() + Duration.ofHours(1).toNanos(),
            clock.instant(),
            "test",
            clock.nanos());
    for (int i = 0; i < 12; i++) {
      // Endpoint 10002 gets a new zone label each minute; 1b empties at the first change.
      List<Endpoint> next = new ArrayList<>(zone("us-east-1", "us-east-1a", 1, 10000));
      next.addAll(zone("us-east-1", "us-east-1-pod" + i, 1, 10002));
      r.update(next, clock.nanos(), false);
      clock.advance(Duration.ofMinutes(1));
    }
    List<String> known = r.zones().known().stream().map(z -> z.locality.zone()).toList();
    // The home zone, the shifted 1b, the label in use (pod11), and the labels emptied at most 5
    // minutes before the last list (pod5, emptied by the list of minute 6, is 5 minutes gone).
    assertThat(known)
        .containsExactlyInAnyOrder(
            "us-east-1a",
            "us-east-1b",
            "us-east-1-pod5",
            "us-east-1-pod6",
            "us-east-1-pod7",
            "us-east-1-pod8",
            "us-east-1-pod9",
            "us-east-1-pod10",
            "us-east-1-pod11");
    // 1b, emptied while shifted, keeps its shift until an operator cancels it.
    assertThat(r.zones().cancelShift("us-east-1b", "test", clock.nanos())).isTrue();
  }

  /**
   * A shift that expired while its zone was emptied is ended with its event before the zone is
   * forgotten: pruning it at the first list after its expiry lost the {@code ZoneShiftEnded}.
   */
  @Test
  void aShiftThatExpiredOnAnEmptiedZoneEndsWithItsEventBeforeTheZoneIsForgotten() {
    Zones3.Recorder recorder = new Zones3.Recorder();
    List<Endpoint> both = new ArrayList<>(zone("us-east-1", "us-east-1a", 1, 10000));
    both.addAll(zone("us-east-1", "us-east-1b", 1, 10001));
    Router r = router(both, new Events(List.of(recorder)));
    r.zones()
        .shiftAway(
            "us-east-1b",
            clock.nanos() + Duration.ofMinutes(1).toNanos(),
            clock.instant(),
            "test",
            clock.nanos());
    List<Endpoint> onlyA = zone("us-east-1", "us-east-1a", 1, 10000);
    r.update(onlyA, clock.nanos(), false); // 1b empties
    clock.advance(Duration.ofMinutes(6)); // its shift expired, and it is empty for longer than 5
    r.update(onlyA, clock.nanos(), false);
    r.zones().evaluate(clock.nanos());
    assertThat(recorder.events)
        .filteredOn(e -> e instanceof FailoverEvent.ZoneShiftEnded)
        .singleElement()
        .satisfies(
            e -> assertThat(((FailoverEvent.ZoneShiftEnded) e).reason()).isEqualTo("expired"));
    r.update(onlyA, clock.nanos(), false); // now forgotten
    assertThat(r.zones().known()).extracting(z -> z.locality.zone()).containsExactly("us-east-1a");
  }

  /**
   * Zone names may repeat across regions (Azure's 1, 2, 3): a shift of a zone whose namesake in
   * another region has just emptied is cancelled by its name, the zone with endpoints first.
   */
  @Test
  void aShiftIsCancelledByNameWhileANamesakeInAnotherRegionWasEmptiedLately() {
    List<Endpoint> both = new ArrayList<>(zone("eastus", "1", 1, 10000));
    both.addAll(zone("eastus", "2", 1, 10001));
    both.addAll(zone("westus", "1", 1, 10002));
    Router r = router(both);
    r.update(both.subList(0, 2), clock.nanos(), false); // westus/1 empties
    r.zones()
        .shiftAway(
            "1",
            clock.nanos() + Duration.ofHours(1).toNanos(),
            clock.instant(),
            "test",
            clock.nanos());
    assertThat(r.zones().cancelShift("1", "test", clock.nanos())).isTrue();
  }

  /**
   * A zone name used in two regions could be neither shifted nor cancelled: the operator override
   * failed with "names a zone in two regions". It is named as region/zone.
   */
  @Test
  void aZoneNameRepeatedAcrossRegionsIsShiftedAsRegionSlashZone() {
    List<Endpoint> both = new ArrayList<>(zone("eastus", "1", 1, 10000));
    both.addAll(zone("eastus", "2", 1, 10001));
    both.addAll(zone("westus", "1", 1, 10002));
    Router r = router(both);
    long until = clock.nanos() + Duration.ofHours(1).toNanos();
    assertThatThrownBy(() -> r.zones().shiftAway("1", until, clock.instant(), "ops", clock.nanos()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("name it as region/zone");
    ZoneState shifted =
        r.zones().shiftAway("westus/1", until, clock.instant(), "ops", clock.nanos());
    assertThat(shifted.locality).isEqualTo(Locality.of("westus", "1"));
    assertThat(r.zones().cancelShift("westus/1", "ops", clock.nanos())).isTrue();
  }

  @Test
  void tiersFollowLocality() {
    List<Endpoint> all = new ArrayList<>();
    all.addAll(zone("us-west-2", "us-west-2a", 1, 3000));
    all.addAll(zone("us-east-1", "us-east-1b", 1, 2000));
    all.addAll(zone("us-east-1", "us-east-1a", 1, 1000));
    all.addAll(zone("eu-west-1", "eu-west-1a", 1, 4000));
    Router r = router(all);
    assertThat(r.tiers()).hasSize(4);
    assertThat(r.tiers().get(0).get(0).endpoint.locality().zone()).isEqualTo("us-east-1a");
    assertThat(r.tiers().get(1).get(0).endpoint.locality().zone()).isEqualTo("us-east-1b");
    assertThat(r.tiers().get(2).get(0).endpoint.locality().zone()).isEqualTo("us-west-2a");
    assertThat(r.tiers().get(3).get(0).endpoint.locality().zone()).isEqualTo("eu-west-1a");
  }

  /** Envoy's priority rule with overprovisioning 1.4, tier 1 fully healthy. */
  @ParameterizedTest(name = "home tier {0}% healthy -> {1}/{2}")
  @CsvSource({"100, 100, 0", "80, 100, 0", "71, 99.4, 0.6", "50, 70, 30", "0, 0, 100"})
  void tierSpill(int healthyPercent, double load0, double load1) {
    List<Endpoint> all = new ArrayList<>(zone("us-east-1", "us-east-1a", 100, 10000));
    all.addAll(zone("us-east-1", "us-east-1b", 10, 20000));
    Router r = router(all);
    List<EndpointState> tier0 = r.tiers().get(0);
    for (int i = 0; i < 100 - healthyPercent; i++) {
      eject(tier0.get(i));
    }
    double[] loads = r.tierLoads(clock.nanos());
    assertThat(loads[0]).isCloseTo(load0, within(0.001));
    assertThat(loads[1]).isCloseTo(load1, within(0.001));
    assertThat(r.panic(clock.nanos())).isFalse();

    // The picks follow the loads.
    int inTier0 = 0;
    int n = 20_000;
    for (int i = 0; i < n; i++) {
      Router.Pick p = r.pick(clock.nanos(), Set.of(), Set.of());
      assertThat(p).isNotNull();
      assertThat(p.endpoint().available(clock.nanos())).isTrue();
      if (p.endpoint().tier == 0) {
        inTier0++;
      }
    }
    assertThat(100.0 * inTier0 / n).isCloseTo(load0, within(1.5));
  }

  @Test
  void partialHealthEverywhereIsNormalized() {
    List<Endpoint> all = new ArrayList<>(zone("us-east-1", "us-east-1a", 10, 10000));
    all.addAll(zone("us-east-1", "us-east-1b", 10, 20000));
    Router r = router(all);
    for (int i = 0; i < 5; i++) {
      eject(r.tiers().get(0).get(i)); // 50% -> health 70
    }
    for (int i = 0; i < 9; i++) {
      eject(r.tiers().get(1).get(i)); // 10% -> health 14
    }
    double[] loads = r.tierLoads(clock.nanos());
    assertThat(loads[0]).isCloseTo(70 * 100 / 84.0, within(0.001));
    assertThat(loads[1]).isCloseTo(14 * 100 / 84.0, within(0.001));
  }

  /**
   * With a panic threshold above 0, an operator's shift of a zone holding most endpoints counted
   * them as unhealthy: routing went into panic, whose picks ignored the shift, and every first
   * attempt went back to the shifted zone. A shifted zone is now left out of the panic's count, and
   * a panic (here from ejections) tries it only when nothing else is left.
   */
  @Test
  void aShiftIsHonouredUnderAPanicThreshold() {
    List<Endpoint> all = new ArrayList<>(zone("us-east-1", "us-east-1a", 3, 10000));
    all.addAll(zone("us-east-1", "us-east-1b", 2, 20000));
    Router r = router(all, 50, true);
    r.zones()
        .shiftAway(
            "us-east-1a",
            clock.nanos() + Duration.ofHours(2).toNanos(),
            clock.instant(),
            "ops",
            clock.nanos());
    assertThat(r.panic(clock.nanos())).isFalse();
    for (int i = 0; i < 200; i++) {
      Router.Pick p = r.pick(clock.nanos(), Set.of(), Set.of());
      assertThat(p).isNotNull();
      assertThat(p.endpoint().endpoint.locality().zone()).isEqualTo("us-east-1b");
    }
    eject(r.tiers().get(1).get(0)); // 1 of 2 in rotation healthy: 50%, not below it
    assertThat(r.panic(clock.nanos())).isFalse();
    eject(r.tiers().get(1).get(1));
    assertThat(r.panic(clock.nanos())).isTrue();
    for (int i = 0; i < 200; i++) {
      Router.Pick p = r.pick(clock.nanos(), Set.of(), Set.of());
      assertThat(p).isNotNull();
      assertThat(p.endpoint().endpoint.locality().zone()).isEqualTo("us-east-1b");
    }
  }

  /**
   * A retry went to a zone an operator shifted away before an evacuated one, and before an ejected
   * endpoint of a zone in rotation: the operator's zone comes last, as in panic.
   */
  @Test
  void aRetryTriesEvacuatedZonesAndEjectedEndpointsBeforeAShiftedZone() {
    List<Endpoint> all = new ArrayList<>(zone("us-east-1", "us-east-1a", 1, 10000));
    all.addAll(zone("us-east-1", "us-east-1b", 2, 20000));
    all.addAll(zone("us-west-2", "us-west-2a", 1, 30000));
    Router r = router(all);
    EndpointState a1 = r.tiers().get(0).get(0);
    EndpointState b1 = r.tiers().get(1).get(0);
    EndpointState b2 = r.tiers().get(1).get(1);
    EndpointState w1 = r.tiers().get(2).get(0);
    shiftForAnHour(r, "us-east-1a");
    w1.zone.phase = ZoneState.Phase.EVACUATED;
    eject(b2);
    for (int i = 0; i < 50; i++) {
      Router.Pick p = r.next(clock.nanos(), Set.of(b1), List.of("us-east-1/us-east-1b"));
      assertThat(p).isNotNull();
      assertThat(p.endpoint()).isSameAs(w1); // the evacuated zone
      assertThat(p.lastResort()).isTrue();
    }
    Router.Pick p = r.next(clock.nanos(), Set.of(b1, w1), List.of());
    assertThat(p).isNotNull();
    assertThat(p.endpoint()).isSameAs(b2); // ejected, in a zone in rotation
    assertThat(p.lastResort()).isTrue();
    p = r.next(clock.nanos(), Set.of(b1, w1, b2), List.of());
    assertThat(p).isNotNull();
    assertThat(p.endpoint()).isSameAs(a1); // the shifted zone, when nothing else is left
    assertThat(p.lastResort()).isTrue();
  }

  /**
   * A fail-closed panic returned no endpoint even when an evacuated zone had endpoints taking
   * traffic and nothing in rotation did: every call failed NO_ENDPOINT until "no news" brought the
   * zone back (10 s to 40 s), though evacuated zones are to be tried before giving up.
   */
  @Test
  void aFailClosedPanicTriesAnEvacuatedZoneBeforeGivingUp() {
    List<Endpoint> all = new ArrayList<>(zone("us-east-1", "us-east-1a", 1, 10000));
    all.addAll(zone("us-east-1", "us-east-1b", 1, 20000));
    all.addAll(zone("us-west-2", "us-west-2a", 1, 30000));
    Router r = router(all, 0, false);
    EndpointState a1 = r.tiers().get(0).get(0);
    EndpointState b1 = r.tiers().get(1).get(0);
    shiftForAnHour(r, "us-west-2a");
    b1.zone.phase = ZoneState.Phase.EVACUATED;
    assertThat(r.next(clock.nanos(), Set.of(), List.of()).endpoint()).isSameAs(a1);
    eject(a1);
    assertThat(r.panic(clock.nanos())).isTrue();
    for (int i = 0; i < 20; i++) {
      Router.Pick p = r.next(clock.nanos(), Set.of(), List.of());
      assertThat(p).isNotNull();
      assertThat(p.endpoint()).isSameAs(b1); // never the ejected a1, nor the shifted zone
      assertThat(p.lastResort()).isTrue();
    }
    // Its endpoint ejected too: nothing takes traffic outside the shifted zone; fail closed.
    eject(b1);
    assertThat(r.next(clock.nanos(), Set.of(), List.of())).isNull();
  }

  /**
   * An endpoint whose half-open breaker refused a permit (its probes are out) was counted as tried:
   * the next pick, an endpoint of an evacuated zone, was taken for a last resort, whose success
   * brings that zone back at once, though nothing in rotation had failed.
   */
  @Test
  void aRefusedPermitMakesNoLastResort() {
    List<Endpoint> all = new ArrayList<>(zone("us-east-1", "us-east-1a", 1, 10000));
    all.addAll(zone("us-east-1", "us-east-1b", 1, 20000));
    Router r = router(all);
    EndpointState a1 = r.tiers().get(0).get(0);
    EndpointState b1 = r.tiers().get(1).get(0);
    b1.zone.phase = ZoneState.Phase.EVACUATED;
    eject(a1);
    clock.advance(Duration.ofSeconds(7)); // past its ejection: it half-opens at the next permit
    for (int i = 0; i < EjectionPolicy.defaults().halfOpenProbes(); i++) {
      assertThat(a1.tryAcquire()).isTrue();
    }
    Router.Pick p = r.next(clock.nanos(), new SmallSet<>(), List.of());
    assertThat(p).isNotNull();
    assertThat(p.endpoint()).isSameAs(b1);
    assertThat(p.lastResort()).isFalse();
    assertThat(p.acquired()).isTrue();
  }

  /**
   * Endpoints added to a healthy home zone start slow inside it, but the zone keeps every first
   * attempt: their slow start counted in the tier's health (2 + 2 x 10% of 4 = 77), and 23% of
   * first attempts left home because capacity was added.
   */
  @Test
  void endpointsAddedToAHealthyZoneDoNotSendItsTrafficElsewhere() {
    List<Endpoint> all = new ArrayList<>(zone("us-east-1", "us-east-1a", 2, 10000));
    all.addAll(zone("us-west-2", "us-west-2a", 2, 20000));
    Router r = router(all);
    List<Endpoint> scaled = new ArrayList<>(all);
    scaled.addAll(zone("us-east-1", "us-east-1a", 2, 10002));
    r.update(scaled, clock.nanos(), true);
    assertThat(r.tierLoads(clock.nanos())[0]).isEqualTo(100);
    EndpointState added = r.tiers().get(0).get(3);
    assertThat(added.ramp(clock.nanos(), r.zones().slowStartNanos)).isEqualTo(0.1);
  }

  /**
   * Every tier's endpoints back at once (a blip opened every breaker): the home tier takes its
   * first attempts back at once, while each endpoint ramps inside its tier. With the endpoints'
   * ramps in the tiers' health, the equal ramps cancelled out and first attempts were split evenly
   * over the tiers, far regions included.
   */
  @Test
  void endpointsReturningEverywhereAtOnceKeepFirstAttemptsHome() {
    List<Endpoint> all = new ArrayList<>(zone("us-east-1", "us-east-1a", 1, 10000));
    all.addAll(zone("us-east-1", "us-east-1b", 1, 20000));
    all.addAll(zone("us-west-2", "us-west-2a", 1, 30000));
    Router r = router(all);
    for (EndpointState s : r.endpoints()) {
      for (int i = 0; i < 5; i++) {
        assertThat(s.tryAcquire()).isTrue();
        s.begin();
        s.record(Outcome.CONNECT_FAILED, TimeUnit.MILLISECONDS.toNanos(3), clock.nanos());
      }
      assertThat(s.available(clock.nanos())).isFalse();
    }
    r.endpoints().forEach(EndpointState::restoreNow);
    assertThat(r.tierLoads(clock.nanos())[0]).isEqualTo(100);
    assertThat(r.tiers().get(0).get(0).ramp(clock.nanos(), r.zones().slowStartNanos))
        .isEqualTo(0.1);
  }

  /**
   * A start over leaves out the endpoints of the call's attempts in flight, and prefers a zone
   * other than theirs: a hedge of a slow attempt on A1 whose other tries failed went to A2, in the
   * slow attempt's own zone, though B1 was there.
   */
  @Test
  void aStartOverLeavesOutTheAttemptsInFlightAndTheirZones() {
    List<Endpoint> all = new ArrayList<>(zone("us-east-1", "us-east-1a", 2, 10000));
    all.addAll(zone("us-east-1", "us-east-1b", 1, 20000));
    Router r = router(all);
    EndpointState a1 = r.tiers().get(0).get(0);
    EndpointState a2 = r.tiers().get(0).get(1);
    EndpointState b1 = r.tiers().get(1).get(0);
    Set<EndpointState> tried = new SmallSet<>();
    tried.addAll(List.of(a1, a2, b1));
    List<String> zones = List.of(a1.zoneKey, b1.zoneKey);
    for (int i = 0; i < 20; i++) {
      Router.Pick p = r.next(clock.nanos(), tried, zones, List.of(a1));
      assertThat(p).isNotNull();
      assertThat(p.startedOver()).isTrue();
      assertThat(p.endpoint()).isSameAs(b1);
      b1.breaker.releasePermission();
    }
    // Nothing else is left than what runs: no pick.
    assertThat(r.next(clock.nanos(), tried, zones, List.of(a1, a2, b1))).isNull();
  }

  @Test
  void panicWhenNothingIsHealthyTriesEverythingInTierOrder() {
    List<Endpoint> all = new ArrayList<>(zone("us-east-1", "us-east-1a", 2, 10000));
    all.addAll(zone("us-west-2", "us-west-2a", 2, 20000));
    Router r = router(all);
    r.endpoints().forEach(RouterTest::eject);
    assertThat(r.panic(clock.nanos())).isTrue();
    Router.Pick p = r.pick(clock.nanos(), Set.of(), Set.of());
    assertThat(p).isNotNull();
    assertThat(p.panic()).isTrue();
    assertThat(p.endpoint().tier).isZero();
  }

  @Test
  void panicFailClosedReturnsNothing() {
    Router r = router(zone("us-east-1", "us-east-1a", 2, 10000), 50, false);
    eject(r.endpoints().get(0)); // 50% healthy is not below 50%
    assertThat(r.pick(clock.nanos(), Set.of(), Set.of())).isNotNull();
    eject(r.endpoints().get(1));
    assertThat(r.pick(clock.nanos(), Set.of(), Set.of())).isNull();
  }

  @Test
  void retryPrefersAnUntriedZoneThenTheNearestTier() {
    List<Endpoint> all = new ArrayList<>(zone("us-east-1", "us-east-1a", 2, 10000));
    all.addAll(zone("us-east-1", "us-east-1b", 2, 20000));
    all.addAll(zone("us-west-2", "us-west-2a", 2, 30000));
    Router r = router(all);
    EndpointState first = r.tiers().get(0).get(0);
    for (int i = 0; i < 200; i++) {
      Router.Pick p = r.pick(clock.nanos(), Set.of(first), Set.of(first.zoneKey));
      assertThat(p).isNotNull();
      assertThat(p.endpoint().endpoint.locality().zone()).isEqualTo("us-east-1b");
    }
    // With both home-region zones tried, the other region.
    EndpointState second = r.tiers().get(1).get(0);
    Router.Pick p =
        r.pick(clock.nanos(), Set.of(first, second), Set.of(first.zoneKey, second.zoneKey));
    assertThat(p).isNotNull();
    assertThat(p.endpoint().endpoint.locality().region()).isEqualTo("us-west-2");
  }

  @Test
  void powerOfTwoChoicesPrefersTheFasterEndpointAndRetriesTheSlowOneAsItsCostDecays() {
    Router r = router(zone("us-east-1", "us-east-1a", 2, 10000));
    EndpointState fast = r.endpoints().get(0);
    EndpointState slow = r.endpoints().get(1);
    long ms = TimeUnit.MILLISECONDS.toNanos(1);
    fast.begin();
    fast.record(Outcome.SUCCESS, 10 * ms, clock.nanos());
    slow.begin();
    slow.record(Outcome.SUCCESS, 50 * ms, clock.nanos());

    Map<EndpointState, Integer> counts = pickCounts(r, 1000);
    assertThat(counts.getOrDefault(slow, 0)).isZero();

    // The fast endpoint keeps answering in 10 ms; the slow one gets no traffic, so its cost
    // decays toward zero (tau 10 s) until it is cheaper and gets tried again.
    boolean slowTried = false;
    for (int second = 0; second < 60 && !slowTried; second++) {
      clock.advance(Duration.ofSeconds(1));
      fast.begin();
      fast.record(Outcome.SUCCESS, 10 * ms, clock.nanos());
      Router.Pick p = r.pick(clock.nanos(), Set.of(), Set.of());
      slowTried = p != null && p.endpoint() == slow;
    }
    assertThat(slowTried).isTrue();
    // 50 ms x exp(-t / 10 s) < 10 ms needs t > 16 s.
    assertThat(slow.latency.cost(clock.nanos())).isLessThan(10.0 * ms);
  }

  @Test
  void outstandingRequestsRaiseTheCost() {
    Router r = router(zone("us-east-1", "us-east-1a", 2, 10000));
    EndpointState a = r.endpoints().get(0);
    EndpointState b = r.endpoints().get(1);
    long ms = TimeUnit.MILLISECONDS.toNanos(1);
    a.begin();
    a.record(Outcome.SUCCESS, 10 * ms, clock.nanos());
    b.begin();
    b.record(Outcome.SUCCESS, 15 * ms, clock.nanos());
    for (int i = 0; i < 3; i++) {
      a.begin(); // 3 in flight: cost 10 x 4 = 40 > 15
    }
    assertThat(pickCounts(r, 100).getOrDefault(b, 0)).isEqualTo(100);
  }

  @Test
  void errorsPenalizeAnEndpoint() {
    Router r = router(zone("us-east-1", "us-east-1a", 2, 10000));
    EndpointState a = r.endpoints().get(0);
    EndpointState b = r.endpoints().get(1);
    long ms = TimeUnit.MILLISECONDS.toNanos(1);
    a.begin();
    a.record(Outcome.UNAVAILABLE, 2 * ms, clock.nanos());
    b.begin();
    b.record(Outcome.SUCCESS, 20 * ms, clock.nanos());
    assertThat(pickCounts(r, 100).getOrDefault(b, 0)).isEqualTo(100);
  }

  @Test
  void snapshotListsZonesInTierOrder() {
    List<Endpoint> all = new ArrayList<>(zone("us-west-2", "us-west-2a", 1, 30000));
    all.addAll(zone("us-east-1", "us-east-1a", 2, 10000));
    Router r = router(all);
    eject(r.tiers().get(0).get(1));
    List<FailoverSnapshot.Zone> zones = r.snapshot(clock.nanos());
    assertThat(zones)
        .extracting(z -> z.locality().zone())
        .containsExactly("us-east-1a", "us-west-2a");
    assertThat(zones.get(0).healthyEndpoints()).isEqualTo(1);
    assertThat(zones.get(0).endpoints().get(1).health()).isEqualTo(FailoverSnapshot.Health.EJECTED);
  }

  @Test
  void nextSkipsAnEndpointWhoseBreakerRefusesItsPermissionAndTakesThePermissionOfItsPick() {
    Router r = router(zone("us-east-1", "us-east-1a", 2, 1000));
    EndpointState probing = r.endpoints().get(0);
    EndpointState healthy = r.endpoints().get(1);
    probing.breaker.transitionToOpenState();
    probing.breaker.transitionToHalfOpenState();
    // Use up the half-open probes: the breaker now refuses, while the endpoint still takes traffic.
    while (probing.tryAcquire()) {
      // each call takes one of the permitted half-open probes
    }
    assertThat(probing.available(clock.nanos())).isTrue();
    for (int i = 0; i < 20; i++) {
      Router.Pick pick = r.next(clock.nanos(), new SmallSet<>(), List.of());
      assertThat(pick).isNotNull();
      assertThat(pick.endpoint()).isSameAs(healthy);
      assertThat(pick.acquired()).isTrue();
    }
  }

  @Test
  void nextNeverPicksAnEndpointRemovedWhileItReadTheOldList() {
    Router r = router(zone("us-east-1", "us-east-1a", 2, 1000));
    EndpointState leaving = r.endpoints().get(0);
    EndpointState staying = r.endpoints().get(1);
    // What a pick that read the old list sees once the new one is published: the endpoint is
    // still in the list it read, and marked.
    leaving.removed = true;
    for (int i = 0; i < 20; i++) {
      Router.Pick pick = r.next(clock.nanos(), new SmallSet<>(), List.of());
      assertThat(pick).isNotNull();
      assertThat(pick.endpoint()).isSameAs(staying);
    }
  }

  @Test
  void aWholeListReplacedIsMarkedRemovedOnlyOnceTheNewListIsInForce() {
    Router r = router(zone("us-east-1", "us-east-1a", 2, 1000));
    List<EndpointState> old = r.endpoints();
    Router.Change change = r.update(zone("us-east-1", "us-east-1a", 2, 2000), clock.nanos(), false);
    assertThat(change.removed()).containsExactlyInAnyOrderElementsOf(old);
    assertThat(old).allMatch(s -> s.removed);
    Router.Pick pick = r.next(clock.nanos(), new SmallSet<>(), List.of());
    assertThat(pick).isNotNull();
    assertThat(pick.endpoint().endpoint.url().port()).isBetween(2000, 2001);
  }

  @Test
  void nextStartsOverOnceTheCallTriedEveryEndpoint() {
    Router r = router(zone("us-east-1", "us-east-1a", 2, 1000));
    Set<EndpointState> tried = new SmallSet<>();
    tried.addAll(r.endpoints());
    Router.Pick pick = r.next(clock.nanos(), tried, List.of(r.endpoints().get(0).zoneKey));
    assertThat(pick).isNotNull();
    assertThat(r.endpoints()).contains(pick.endpoint());
    assertThat(tried).hasSize(2); // the call's own set is not changed by the router
  }

  @Test
  void nextReturnsNothingWhenEveryBreakerRefuses() {
    Router r = router(zone("us-east-1", "us-east-1a", 1, 1000));
    EndpointState only = r.endpoints().get(0);
    only.breaker.transitionToOpenState();
    only.breaker.transitionToHalfOpenState();
    while (only.tryAcquire()) {
      // use up the half-open probes
    }
    assertThat(r.next(clock.nanos(), new SmallSet<>(), List.of())).isNull();
  }

  @Test
  void probeForChoosesAnEndpointOfAnEvacuatedZoneOnceItIsDueAndNeverInPanic() {
    List<Endpoint> all = new ArrayList<>(zone("us-east-1", "us-east-1a", 1, 1000));
    all.addAll(zone("us-east-1", "us-east-1b", 1, 2000));
    all.addAll(zone("us-east-1", "us-east-1c", 1, 3000));
    Router r = router(all);
    ZoneState homeZone = r.endpoints().get(0).zone;
    EndpointState homeEndpoint = r.endpoints().get(0);
    assertThat(r.probeFor(clock.nanos())).isNull(); // nothing evacuated: no probe
    homeEndpoint.setDown(true);
    r.zones().evaluate(clock.nanos());
    assertThat(homeZone.evacuated()).isTrue();
    homeEndpoint.setDown(false);
    assertThat(r.probeFor(clock.nanos())).isSameAs(homeEndpoint);
    assertThat(r.probeFor(clock.nanos())).isNull(); // once a second per zone
    clock.advance(Duration.ofSeconds(1));
    // Panic: every other endpoint is down too, so every endpoint already gets traffic.
    r.endpoints().get(1).setDown(true);
    r.endpoints().get(2).setDown(true);
    assertThat(r.panic(clock.nanos())).isTrue();
    assertThat(r.probeFor(clock.nanos())).isNull();
  }

  /**
   * A first attempt's tier, chosen without arrays, is the tier the shares of {@link
   * Router#tierLoads} give for the same draw: in full health, with ejections that spill and
   * normalize, with endpoints and zones in slow start, and with an evacuated zone.
   */
  @Test
  void aFirstAttemptsTierIsTheOneItsDrawFallsInAmongTheTierLoads() {
    List<Endpoint> all = new ArrayList<>(zone("us-east-1", "us-east-1a", 10, 10000));
    all.addAll(zone("us-east-1", "us-east-1b", 4, 20000));
    all.addAll(zone("us-west-2", "us-west-2a", 3, 30000));
    all.addAll(zone("us-west-2", "us-west-2b", 3, 31000));
    all.addAll(zone("eu-west-1", "eu-west-1a", 2, 40000));
    Router r = router(all);
    List<List<EndpointState>> tiers = r.tiers();
    assertThat(tiers).hasSize(4);
    Random draws = new Random(11);
    int checked = 0;
    for (int step = 0; step < 12; step++) {
      switch (step) {
        case 1 -> eject(tiers.get(0).get(0)); // 90%: still 100 after overprovisioning
        case 2 -> {
          for (int i = 1; i < 6; i++) {
            eject(tiers.get(0).get(i)); // 40% -> 56, spills
          }
        }
        case 3 -> tiers.get(1).get(0).startSlow(clock.nanos());
        case 4 -> clock.advance(Duration.ofSeconds(7)); // part way through the slow start
        case 5 -> {
          for (int i = 1; i < 4; i++) {
            eject(tiers.get(1).get(i)); // tier 1 mostly ejected: the shares normalize
          }
        }
        case 6 -> tiers.get(2).get(0).zone.startSlow(clock.nanos());
        case 7 -> clock.advance(Duration.ofSeconds(3));
        case 8 -> tiers.get(2).get(3).zone.phase = ZoneState.Phase.EVACUATED;
        case 9 -> {
          for (EndpointState s : tiers.get(2)) {
            eject(s);
          }
        }
        case 10 -> {
          for (EndpointState s : tiers.get(3)) {
            eject(s);
          }
        }
        case 11 -> {
          for (EndpointState s : tiers.get(0)) {
            eject(s); // every tier's health is 0: the draw always lands in the last tier
          }
        }
        default -> {}
      }
      long now = clock.nanos();
      double[] loads = r.tierLoads(now);
      for (int i = 0; i < 2_000; i++) {
        // The bounds of the range, a grid, and random draws.
        double draw =
            i < 200 ? i * 0.5 : i == 200 ? Math.nextDown(100.0) : draws.nextDouble() * 100;
        assertThat(r.firstTier(tiers, now, draw))
            .as("step %d, draw %s, loads %s", step, draw, java.util.Arrays.toString(loads))
            .isEqualTo(tierOfDraw(loads, draw));
        checked++;
      }
    }
    assertThat(checked).isEqualTo(24_000);
  }

  /** The tier a draw falls in, as a first pick chose it from the array of shares. */
  private static int tierOfDraw(double[] loads, double draw) {
    double r = draw;
    for (int i = 0; i < loads.length; i++) {
      r -= loads[i];
      if (r < 0 || i == loads.length - 1) {
        return i;
      }
    }
    return -1;
  }

  /**
   * Choosing a first attempt's endpoint and taking its permission allocates nothing: no arrays, no
   * iterators, no pick object (each endpoint has its own). Measured with the JVM's per-thread
   * allocation counter, which counts every byte this thread allocates whatever is compiled. The
   * bound leaves room for the JVM's own one-off allocations (a deoptimization, say), far below the
   * 16 bytes per pick (16,000 in all) of the smallest object made on every pick.
   */
  @Test
  void aFirstAttemptsPickAllocatesNothing() {
    Router r = router(InternalsBenchmark.drill());
    eject(r.tiers().get(0).get(0)); // the home tier spills a little: every tier is looked at
    com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
    Set<EndpointState> tried = new SmallSet<>();
    List<String> triedZones = List.of();
    long now = clock.nanos();
    int tiers = 0;
    // Once untimed, so that classes are loaded and initialized.
    long before = threads.getCurrentThreadAllocatedBytes();
    for (int i = 0; i < 1_000; i++) {
      tiers += pickAndNext(r, now, tried, triedZones);
    }
    before = threads.getCurrentThreadAllocatedBytes();
    for (int i = 0; i < 1_000; i++) {
      tiers += pickAndNext(r, now, tried, triedZones);
    }
    long allocated = threads.getCurrentThreadAllocatedBytes() - before;
    assertThat(tiers).isPositive();
    assertThat(allocated).as("bytes allocated by 1,000 picks").isLessThan(1_000);
  }

  private static int pickAndNext(
      Router r, long now, Set<EndpointState> tried, List<String> triedZones) {
    Router.Pick p = r.pick(now, tried, triedZones);
    Router.Pick q = r.next(now, tried, triedZones);
    EndpointState probe = r.probeFor(now);
    if (p == null || q == null || probe != null || !p.acquired() || !q.acquired()) {
      throw new AssertionError("a first attempt in rotation expected, got " + p + " and " + q);
    }
    return p.endpoint().tier + q.endpoint().tier + 1;
  }

  private Map<EndpointState, Integer> pickCounts(Router r, int n) {
    Map<EndpointState, Integer> counts = new HashMap<>();
    for (int i = 0; i < n; i++) {
      Router.Pick p = r.pick(clock.nanos(), Set.of(), Set.of());
      assertThat(p).isNotNull();
      counts.merge(p.endpoint(), 1, Integer::sum);
    }
    return counts;
  }
}
