package dev.failover.testkit;

import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.ok;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.github.tomakehurst.wiremock.stubbing.ServeEvent;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Latency, errors, garbage, sparing and distance, measured on real requests. */
class HttpFaultsTest {

  @RegisterExtension
  static FakeZones zones =
      FakeZones.builder()
          .region("us-east-1", "us-east-1a", "us-east-1b")
          .region("us-west-2", "us-west-2a")
          .distance("us-east-1b", Duration.ofMillis(10))
          .distance("us-west-2", Duration.ofMillis(35))
          .seed(42)
          .build();

  @BeforeAll
  static void stubs() {
    zones.stubAll(get(urlPathMatching("/users/.*")).willReturn(okJson("{\"id\":42}")));
    zones.stubAll(get(urlPathEqualTo("/health")).willReturn(ok("up")));
  }

  private static String url(String zone, String path) {
    return zones.zone(zone).endpoint(0).url() + path;
  }

  /** The delay WireMock added to each request of the zone, oldest first. */
  private static List<Integer> addedDelays(String zone) {
    List<Integer> delays = new ArrayList<>();
    for (ServeEvent event : zones.zone(zone).endpoint(0).server().getAllServeEvents()) {
      Integer added = event.getTiming().getAddedDelay();
      delays.add(added == null ? 0 : added);
    }
    Collections.reverse(delays);
    return delays;
  }

  @Test
  void errorsReturnTheStatusAndRetryAfterAtTheGivenRate() {
    zones.zone("us-east-1a").fail(ZoneFault.errors(503, 0.3, Duration.ofMillis(1_500)));
    int failed = 0;
    int n = 300;
    try (Http http = new Http()) {
      for (int i = 0; i < n; i++) {
        Http.Outcome outcome = http.call(url("us-east-1a", "/users/" + i));
        if (outcome.status() == 503) {
          failed++;
          assertThat(outcome.retryAfter()).isEqualTo("2");
        } else {
          assertThat(outcome.status()).isEqualTo(200);
          assertThat(outcome.retryAfter()).isEmpty();
        }
      }
    }
    assertThat(failed / (double) n).isCloseTo(0.3, within(0.08));
    assertThat(zones.zone("us-east-1a").requestCount()).as("errors are counted").isEqualTo(n);
  }

  @Test
  void grayFaultIsSlowAndFailingButSparesHealthChecks() {
    zones
        .zone("us-east-1a")
        .fail(
            ZoneFault.errors(503, 0.5)
                .withLatency(Latency.fixed(Duration.ofMillis(30)))
                .sparing("/health"));
    int failed = 0;
    int n = 60;
    try (Http http = new Http()) {
      for (int i = 0; i < n; i++) {
        Http.Outcome outcome = http.call(url("us-east-1a", "/users/" + i));
        if (outcome.status() == 503) {
          failed++;
        }
      }
      for (int i = 0; i < 5; i++) {
        assertThat(http.call(url("us-east-1a", "/health")).status()).isEqualTo(200);
      }
    }
    assertThat(failed).isBetween(15, 45);
    // Every faulted response, failed or not, carries the latency; health checks carry none.
    assertThat(addedDelays("us-east-1a").subList(0, n)).containsOnly(30);
    assertThat(addedDelays("us-east-1a").subList(n, n + 5)).containsOnly(0);
  }

  @Test
  void withLatencyNeedsAnErrorOrGarbageFault() {
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> ZoneFault.refuse().withLatency(Latency.fixed(Duration.ofMillis(1))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("withLatency(...) needs an error or garbage fault but was refuse");
  }

  @Test
  void errorsWithoutRetryAfterAtFullRate() {
    zones.zone("us-east-1a").fail(ZoneFault.errors(429, 1.0));
    try (Http http = new Http()) {
      for (int i = 0; i < 5; i++) {
        Http.Outcome outcome = http.call(url("us-east-1a", "/users/1"));
        assertThat(outcome.status()).isEqualTo(429);
        assertThat(outcome.retryAfter()).isEmpty();
      }
    }
  }

  @Test
  void garbageFailsToParse() {
    zones.zone("us-east-1a").fail(ZoneFault.garbage());
    try (Http http = new Http()) {
      Http.Outcome outcome = http.call(url("us-east-1a", "/users/1"));
      assertThat(outcome.error()).isInstanceOf(IOException.class);
    }
    assertThat(zones.zone("us-east-1a").requestCount()).isEqualTo(1);
  }

  @Test
  void fixedLatencyDelaysEveryResponse() {
    zones.zone("us-east-1a").fail(ZoneFault.latency(Latency.fixed(Duration.ofMillis(120))));
    try (Http http = new Http()) {
      for (int i = 0; i < 3; i++) {
        Http.Outcome outcome = http.call(url("us-east-1a", "/users/1"));
        assertThat(outcome.ok()).isTrue();
        assertThat(outcome.millis()).isGreaterThanOrEqualTo(115);
      }
    }
    assertThat(addedDelays("us-east-1a")).containsOnly(120);
  }

  @Test
  void tailLatencySlowsTheGivenShareOfRequests() {
    zones.zone("us-east-1a").fail(ZoneFault.latency(Latency.tail(0.05, Duration.ofMillis(40))));
    int n = 300;
    try (Http http = new Http()) {
      for (int i = 0; i < n; i++) {
        assertThat(http.call(url("us-east-1a", "/users/1")).ok()).isTrue();
      }
    }
    List<Integer> delays = addedDelays("us-east-1a");
    assertThat(delays).hasSize(n).containsOnly(0, 40);
    long slow = delays.stream().filter(d -> d == 40).count();
    assertThat(slow / (double) n).isCloseTo(0.05, within(0.035));
  }

  @Test
  void logNormalLatencyHitsItsPercentiles() {
    zones.zone("us-east-1a").fail(ZoneFault.latency(Latency.logNormal(Duration.ofMillis(4), 0.5)));
    int n = 250;
    try (Http http = new Http()) {
      for (int i = 0; i < n; i++) {
        assertThat(http.call(url("us-east-1a", "/users/1")).ok()).isTrue();
      }
    }
    List<Integer> delays = new ArrayList<>(addedDelays("us-east-1a"));
    Collections.sort(delays);
    // median 4 ms; p90 = 4 * exp(0.5 * 1.2816) = 7.6 ms
    assertThat(delays.get(n / 2)).isBetween(3, 5);
    assertThat(delays.get(n * 9 / 10)).isBetween(6, 10);
  }

  @Test
  void uniformLatencyStaysInItsRange() {
    zones
        .zone("us-east-1a")
        .fail(ZoneFault.latency(Latency.uniform(Duration.ofMillis(2), Duration.ofMillis(8))));
    try (Http http = new Http()) {
      for (int i = 0; i < 150; i++) {
        assertThat(http.call(url("us-east-1a", "/users/1")).ok()).isTrue();
      }
    }
    List<Integer> delays = addedDelays("us-east-1a");
    assertThat(delays).allSatisfy(d -> assertThat(d).isBetween(2, 8));
    assertThat(delays).contains(2, 8);
    double mean = delays.stream().mapToInt(Integer::intValue).average().orElse(0);
    assertThat(mean).isCloseTo(5.0, within(0.8));
  }

  @Test
  void sparingKeepsHealthChecksPassingInAGrayFailure() {
    zones.zone("us-east-1a").fail(ZoneFault.errors(503, 1.0).sparing("/health"));
    try (Http http = new Http()) {
      assertThat(http.call(url("us-east-1a", "/health?deep=true")).body()).isEqualTo("up");
      assertThat(http.call(url("us-east-1a", "/users/1")).status()).isEqualTo(503);
    }
  }

  @Test
  void flappingErrorsAlternate() {
    List<Integer> transitions = new ArrayList<>();
    try (Http http = new Http()) {
      // Warm first (the client, its connection, the endpoint), so that the first request after
      // fail() lands in the first down phase; phases of 1 s, so that a scheduling hiccup on a busy
      // machine cannot skip one.
      assertThat(http.call(url("us-east-1a", "/users/1")).status()).isEqualTo(200);
      zones
          .zone("us-east-1a")
          .fail(
              ZoneFault.flapping(
                  ZoneFault.errors(500, 1.0), Duration.ofSeconds(1), Duration.ofSeconds(1)));
      // Four phases take 3 s and a little: stop once four statuses are seen, or at 8 s.
      long deadline = System.nanoTime() + Duration.ofSeconds(8).toNanos();
      for (int i = 0; i < 2_000 && transitions.size() < 4 && System.nanoTime() < deadline; i++) {
        int status = http.call(url("us-east-1a", "/users/1")).status();
        if (transitions.isEmpty() || transitions.get(transitions.size() - 1) != status) {
          transitions.add(status);
        }
        Await.until(Duration.ofSeconds(1), "a pause", pause(5));
      }
    }
    assertThat(transitions).hasSizeGreaterThanOrEqualTo(4).startsWith(500, 200, 500);
  }

  @Test
  void distanceIsAddedToEveryResponseAndSurvivesHeal() {
    FakeZone b = zones.zone("us-east-1b");
    b.fail(ZoneFault.latency(Latency.fixed(Duration.ofMillis(20))));
    try (Http http = new Http()) {
      http.call(url("us-east-1b", "/users/1"));
      b.heal();
      http.call(url("us-east-1b", "/users/1"));
      Http.Outcome notFound = http.call(url("us-east-1b", "/missing"));
      assertThat(notFound.status()).as("%s", notFound).isEqualTo(404);
      assertThat(notFound.millis()).as("a 404 is delayed too").isGreaterThanOrEqualTo(10);
      http.call(url("us-west-2a", "/users/1"));
      http.call(url("us-east-1a", "/users/1"));
    }
    assertThat(addedDelays("us-east-1b")).startsWith(30, 10);
    assertThat(addedDelays("us-west-2a")).containsExactly(35);
    assertThat(addedDelays("us-east-1a")).containsExactly(0);
  }

  @Test
  void zoneDistanceAddsToRegionDistanceAndCanChange() {
    zones.zone("us-west-2a").distance(Duration.ofMillis(5));
    zones.region("us-east-1").distance(Duration.ofMillis(3));
    try (Http http = new Http()) {
      http.call(url("us-west-2a", "/users/1"));
      http.call(url("us-east-1b", "/users/1"));
    }
    assertThat(addedDelays("us-west-2a")).containsExactly(40);
    assertThat(addedDelays("us-east-1b")).containsExactly(13);
    assertThat(zones.zone("us-west-2a").distance()).isEqualTo(Duration.ofMillis(5));
  }

  @Test
  void distanceReturnsToTheDeclaredValueBetweenTests() {
    // Runs in any order relative to the test above: reset() restores the builder's values.
    assertThat(zones.zone("us-west-2a").distance()).isZero();
    assertThat(zones.region("us-west-2").distance()).isEqualTo(Duration.ofMillis(35));
    assertThat(zones.region("us-east-1").distance()).isZero();
  }

  @Test
  void httpFaultsStayInTheirZone() {
    zones.region("us-east-1").fail(ZoneFault.errors(503, 1.0));
    try (Http http = new Http()) {
      assertThat(http.call(url("us-east-1a", "/users/1")).status()).isEqualTo(503);
      assertThat(http.call(url("us-east-1b", "/users/1")).status()).isEqualTo(503);
      assertThat(http.call(url("us-west-2a", "/users/1")).status()).isEqualTo(200);
    }
  }

  private static java.util.function.BooleanSupplier pause(long millis) {
    long until = System.nanoTime() + Duration.ofMillis(millis).toNanos();
    return () -> System.nanoTime() >= until;
  }
}
