package dev.failover.drill;

import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static org.assertj.core.api.Assertions.assertThat;

import dev.failover.testkit.FakeZones;
import dev.failover.testkit.ZoneFault;
import dev.failover.testkit.load.LoadClock;
import dev.failover.testkit.load.Ticker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The baseline goes round the endpoints one of each zone in turn, and retries in another zone than
 * the attempt before: never on the same zone's other endpoint.
 */
class BaselineDriverTest {

  /** The drill's endpoints as the fake zones list them: region by region, zone by zone. */
  static List<DrillEndpoint> drillEndpoints() {
    List<DrillEndpoint> out = new ArrayList<>();
    for (String zone : List.of("us-east-1a", "us-east-1b", "us-east-1c")) {
      for (int i = 1; i <= 2; i++) {
        out.add(new DrillEndpoint("http://" + zone + "-" + i, "us-east-1", zone));
      }
    }
    for (String zone : List.of("us-west-2a", "us-west-2b")) {
      for (int i = 1; i <= 2; i++) {
        out.add(new DrillEndpoint("http://" + zone + "-" + i, "us-west-2", zone));
      }
    }
    return out;
  }

  /** The endpoints of a call's three attempts when each one fails, starting at {@code first}. */
  static List<DrillEndpoint> attempts(List<DrillEndpoint> order, int first) {
    List<DrillEndpoint> out = new ArrayList<>();
    int i = first;
    out.add(order.get(i));
    for (int k = 1; k < 3; k++) {
      i = BaselineDriver.nextInAnotherZone(order, i);
      out.add(order.get(i));
    }
    return out;
  }

  @Test
  void theEndpointsAreTakenOneOfEachZoneInTurn() {
    List<DrillEndpoint> order = BaselineDriver.interleave(drillEndpoints());

    assertThat(order)
        .extracting(DrillEndpoint::url)
        .containsExactly(
            "http://us-east-1a-1",
            "http://us-east-1b-1",
            "http://us-east-1c-1",
            "http://us-west-2a-1",
            "http://us-west-2b-1",
            "http://us-east-1a-2",
            "http://us-east-1b-2",
            "http://us-east-1c-2",
            "http://us-west-2a-2",
            "http://us-west-2b-2");
  }

  @Test
  void noTwoAttemptsInARowShareAZoneAndOneCallInFiveHasAllThreeInUsEast1() {
    List<DrillEndpoint> order = BaselineDriver.interleave(drillEndpoints());
    int allEast = 0;
    for (int first = 0; first < order.size(); first++) {
      List<DrillEndpoint> a = attempts(order, first);
      assertThat(a.get(1).zone()).isNotEqualTo(a.get(0).zone());
      assertThat(a.get(2).zone()).isNotEqualTo(a.get(1).zone());
      // Round robin, then the next endpoint in the order: each retry is the next one.
      assertThat(order.indexOf(a.get(1))).isEqualTo((first + 1) % order.size());
      assertThat(order.indexOf(a.get(2))).isEqualTo((first + 2) % order.size());
      if (a.stream().allMatch(e -> e.region().equals("us-east-1"))) {
        allEast++;
      }
    }
    // Only the calls that start on us-east-1a (1a, 1b, 1c) find no live endpoint when all of
    // us-east-1 refuses: 2 of the 10 start positions, as docs/drill.md says.
    assertThat(allEast).isEqualTo(2);
  }

  @Test
  void withUnevenZonesARetryStillSkipsToAnotherZone() {
    // Three endpoints in a, one in b: one of each in turn leaves a-2 and a-3 side by side.
    List<DrillEndpoint> order =
        BaselineDriver.interleave(
            List.of(
                new DrillEndpoint("http://a-1", "r", "a"),
                new DrillEndpoint("http://a-2", "r", "a"),
                new DrillEndpoint("http://a-3", "r", "a"),
                new DrillEndpoint("http://b-1", "r", "b")));
    assertThat(order)
        .extracting(DrillEndpoint::url)
        .containsExactly("http://a-1", "http://b-1", "http://a-2", "http://a-3");

    assertThat(BaselineDriver.nextInAnotherZone(order, 2)).isEqualTo(1); // a-2: on to b-1
    assertThat(BaselineDriver.nextInAnotherZone(order, 3)).isEqualTo(1); // a-3: on to b-1
    assertThat(BaselineDriver.nextInAnotherZone(order, 1)).isEqualTo(2); // b-1: on to a-2
    // A zone of the same name in another region is another zone.
    List<DrillEndpoint> twoRegions =
        List.of(new DrillEndpoint("http://x", "r1", "a"), new DrillEndpoint("http://y", "r2", "a"));
    assertThat(BaselineDriver.nextInAnotherZone(twoRegions, 0)).isEqualTo(1);
    // One zone only: the next endpoint.
    List<DrillEndpoint> oneZone =
        List.of(new DrillEndpoint("http://x", "r", "a"), new DrillEndpoint("http://y", "r", "a"));
    assertThat(BaselineDriver.nextInAnotherZone(oneZone, 1)).isEqualTo(0);
  }

  @Test
  void withAllOfUsEast1RefusingOneCallInFiveFailsAndTheRetriesLandInUsWest2() throws Exception {
    try (FakeZones zones =
        FakeZones.builder()
            .region("us-east-1", "us-east-1a", "us-east-1b", "us-east-1c")
            .region("us-west-2", "us-west-2a", "us-west-2b")
            .endpointsPerZone(2)
            .build()
            .start()) {
      zones.stubAll(get(anyUrl()).willReturn(okJson("{}")));
      zones.region("us-east-1").fail(ZoneFault.refuse());
      List<DrillEndpoint> endpoints = new ArrayList<>();
      zones
          .endpoints()
          .forEach(e -> endpoints.add(new DrillEndpoint(e.url(), e.region(), e.zone())));
      Duration length = Duration.ofSeconds(10);
      Phase all = new Phase("all", Duration.ZERO, length, "");
      Scenario scenario =
          Scenario.topology(endpoints, "us-east-1,us-east-1a", "/health", length, 1, "test");
      Stats stats = new Stats("baseline", List.of(all), scenario.zoneNames(), length);
      LoadClock clock = new LoadClock(Ticker.system());
      clock.start(clock.now());
      // A deadline far beyond a refused connect and the backoff: only refusals fail a call.
      try (BaselineDriver baseline =
          new BaselineDriver(scenario, stats, clock, 256, Duration.ofSeconds(30))) {
        for (int i = 0; i < 100; i++) {
          baseline.send("/users/" + i, clock.now(), i * 1_000_000L);
        }
        assertThat(baseline.awaitIdle(Duration.ofSeconds(60))).isTrue();
      }

      Stats.Summary s = stats.total();
      assertThat(s.calls()).isEqualTo(100);
      // Of every 10 calls, those starting on us-east-1a (2) try 1a, 1b, 1c and fail; those on 1b
      // (2) try 1b, 1c, then us-west-2a; those on 1c (2) 1c then us-west-2a; the rest, 1 attempt.
      assertThat(s.failed()).isEqualTo(20);
      assertThat(s.attempts()).isEqualTo(200);
      assertThat(s.retries()).isEqualTo(100);
      assertThat(s.share("us-east-1a")).isEqualTo(0.2);
      // Every retry went to another zone than the attempt before: us-west-2a took the retries of
      // the calls that started on us-east-1b and 1c, us-west-2b none.
      assertThat(zones.zone("us-west-2a").requestCount()).isEqualTo(60);
      assertThat(zones.zone("us-west-2b").requestCount()).isEqualTo(20);
    }
  }
}
