package dev.failover.drill;

import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.serviceUnavailable;
import static org.assertj.core.api.Assertions.assertThat;

import dev.failover.testkit.FakeZones;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The fake zones are warmed before the clients exist, so that a cold JVM's slow first requests are
 * not measured as an outage. Real time, real servers: the drill's own zones, and a zone that never
 * answers well.
 */
class ZoneWarmUpTest {
  @RegisterExtension
  static FakeZones failing = FakeZones.builder().region("eu-west-1", "eu-west-1a").build();

  @Test
  void theDrillsZonesWarmUpAndEveryRequestOfTheLastRoundsIsAnswered() {
    try (Scenario scenario = Scenario.embedded(Duration.ofSeconds(7), 1)) {
      ZoneWarmUp.Result r = ZoneWarmUp.run(scenario.endpoints(), 1, 200, Duration.ofSeconds(60));

      assertThat(r.warm()).as(r.describe()).isTrue();
      assertThat(r.lastFailed()).isZero();
      assertThat(r.lastP99Millis()).isBetween(0L, ZoneWarmUp.WARM_P99_MILLIS);
      // Whole rounds of 100, at least the three warm ones in a row.
      assertThat(r.requests()).isGreaterThanOrEqualTo(300);
      assertThat(r.requests() % 100).isZero();
      assertThat(r.describe())
          .startsWith("Fake zones warmed up: " + r.requests() + " requests in ")
          .doesNotContain("still not warm");
    }
  }

  @Test
  void atTheLowestRatesTheWarmUpStillFitsInItsTimeAndBlamesNothing() {
    // --rate 1: both clients' load is 2 a second; rounds of 100 at that pace took 50 s each.
    try (Scenario scenario = Scenario.embedded(Duration.ofSeconds(7), 1)) {
      ZoneWarmUp.Result r = ZoneWarmUp.run(scenario.endpoints(), 1, 2, Duration.ofSeconds(60));

      assertThat(r.warm()).as(r.describe()).isTrue();
      assertThat(r.took()).isLessThan(Duration.ofSeconds(60));
      assertThat(r.requests() % 100).isZero();
      assertThat(r.describe()).doesNotContain("still not warm").doesNotContain("time up");
    }
  }

  @Test
  void theWarmUpsTimeIsLookedAtWithinARound() {
    failing.stubAll(get(anyUrl()).willReturn(okJson("{}")));
    List<DrillEndpoint> endpoints = new ArrayList<>();
    failing
        .endpoints()
        .forEach(e -> endpoints.add(new DrillEndpoint(e.url(), e.region(), e.zone())));

    // At 100 a second a round takes 0.99 s at the least: 0.5 s ends the first round midway.
    ZoneWarmUp.Result r = ZoneWarmUp.run(endpoints, () -> "/", 1, Duration.ofMillis(500));

    assertThat(r.warm()).isFalse();
    assertThat(r.rounds()).isZero();
    assertThat(r.requests()).isBetween(1, 51);
    // The round cut short is not judged, and nothing is blamed on the zones or the machine.
    assertThat(r.describe())
        .endsWith(
            "last round p99 -1 ms, 0 failed (time up after 0.5 s with 0 of 3 warm rounds in a"
                + " row; the healthy phase may show it)");
    // Its answers are awaited (each within its 2 s call timeout, 5 s in all).
    assertThat(r.took()).isBetween(Duration.ofMillis(500), Duration.ofMillis(500 + 5_000 + 1_000));
  }

  @Test
  void zonesThatNeverAnswerWellAreReportedAndTheWarmUpEndsOnTime() {
    failing.stubAll(get(anyUrl()).willReturn(serviceUnavailable()));
    List<DrillEndpoint> endpoints = new ArrayList<>();
    failing
        .endpoints()
        .forEach(e -> endpoints.add(new DrillEndpoint(e.url(), e.region(), e.zone())));

    ZoneWarmUp.Result r = ZoneWarmUp.run(endpoints, 1, 200, Duration.ofSeconds(2));

    assertThat(r.warm()).isFalse();
    assertThat(r.lastFailed()).isEqualTo(100);
    // It stops at the first round's end after its longest time: a round takes 0.5 s at 200/s,
    // plus the time its calls take (each ends within its 2 s call timeout).
    assertThat(r.took()).isBetween(Duration.ofSeconds(2), Duration.ofSeconds(2 + 1 + 5));
    assertThat(r.describe())
        .contains("last round p99 -1 ms, 100 failed")
        .contains("still not warm after 2 s");
  }
}
