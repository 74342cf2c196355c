package dev.failover.drill;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The client-busy expectation checks what docs/drill.md promises: the sdk keeps serving from home
 * (by the calls started in the phase, not only those that sent a first attempt), answers its calls
 * fresh, and ejects no endpoint and evacuates no zone while the phase lasts.
 */
class ExpectationTest {
  static final long MS = 1_000_000L;
  static final Duration LENGTH = Duration.ofSeconds(30);
  static final List<Phase> PHASES =
      List.of(
          new Phase("healthy", Duration.ZERO, Duration.ofSeconds(10), ""),
          new Phase("client-busy", Duration.ofSeconds(10), Duration.ofSeconds(20), "", true),
          new Phase("zone-refuse", Duration.ofSeconds(20), LENGTH, ""));
  static final List<String> ZONES = List.of("home", "away");

  final Stats sdk = new Stats("sdk", PHASES, ZONES, LENGTH);
  final Stats baseline = new Stats("baseline", PHASES, ZONES, LENGTH);
  final List<EventLog.Entry> events = new ArrayList<>();

  /**
   * Calls due and started from 10 s on, 10 ms apart: {@code home} of them send a first attempt
   * home, {@code away} one elsewhere and {@code none} none at all; each ends {@code result}.
   */
  void calls(int home, int away, int none, Stats.Result result) {
    int n = 0;
    for (int i = 0; i < home + away + none; i++, n++) {
      long offset = 10_000 * MS + n * 10 * MS;
      sdk.handed(offset);
      sdk.started(offset);
      if (i < home) {
        sdk.firstAttempt(offset, "home");
      } else if (i < home + away) {
        sdk.firstAttempt(offset, "away");
      }
      sdk.call(offset, 5 * MS, result);
    }
  }

  Expectation check() {
    List<Expectation> all = Expectation.check(PHASES, List.of(sdk, baseline), events, "home");
    assertThat(all).hasSize(1); // the sdk's, in the one phase that saturates the host
    Expectation e = all.get(0);
    assertThat(e.phase()).isEqualTo("client-busy");
    assertThat(e.client()).isEqualTo("sdk");
    return e;
  }

  void event(double at, String client, EventLog.Kind kind, String text) {
    events.add(new EventLog.Entry(at, client, kind, text));
  }

  @Test
  void everyCallHomeAndFreshAndNothingEjectedIsMet() {
    calls(100, 0, 0, Stats.Result.OK);

    Expectation e = check();

    assertThat(e.met()).isTrue();
    assertThat(e.expected())
        .isEqualTo(
            "keep serving from home (at least 95% of the calls started sending their first attempt"
                + " there, at least 99% of calls ok and fresh), eject no endpoint and evacuate no"
                + " zone");
    assertThat(e.seen())
        .isEqualTo(
            "100.0% of the 100 calls started sent their first attempt to home, 100.0% of calls ok"
                + " and fresh (0 stale, 0 failed), 0 endpoints ejected, 0 zones evacuated (10.0 s"
                + " to 20.0 s)");
  }

  @Test
  void oneEndpointEjectedInThePhaseIsNotMetEvenWithEveryFirstAttemptHome() {
    calls(100, 0, 0, Stats.Result.OK);
    event(15.2, "sdk", EventLog.Kind.ENDPOINT_EJECTED, "endpoint 1 in home ejected");

    Expectation e = check();

    assertThat(e.met()).isFalse();
    assertThat(e.seen()).contains("1 endpoint ejected, 0 zones evacuated");
  }

  @Test
  void aZoneEvacuatedIsNotMet() {
    calls(100, 0, 0, Stats.Result.OK);
    event(12.0, "sdk", EventLog.Kind.ZONE_EVACUATED, "zone away evacuated");

    assertThat(check().met()).isFalse();
  }

  @Test
  void thirtyPercentFailedIsNotMetEvenWithEveryFirstAttemptHome() {
    calls(70, 0, 0, Stats.Result.OK);
    calls(30, 0, 0, Stats.Result.FAILED);

    Expectation e = check();

    assertThat(e.met()).isFalse();
    assertThat(e.seen()).contains("70.0% of calls ok and fresh (0 stale, 30 failed)");
  }

  @Test
  void callsServedStaleAreNotServedFromHome() {
    calls(98, 0, 0, Stats.Result.OK);
    calls(0, 0, 2, Stats.Result.STALE);

    Expectation e = check();

    assertThat(e.met()).isFalse();
    assertThat(e.seen()).contains("98.0% of calls ok and fresh (2 stale, 0 failed)");
  }

  @Test
  void callsThatSentNoFirstAttemptCountAgainstTheHomeShare() {
    // Every first attempt that was sent went home, but 10 of 100 calls sent none.
    calls(90, 0, 10, Stats.Result.OK);

    Expectation e = check();

    assertThat(sdk.phase("client-busy").share("home")).isEqualTo(1.0);
    assertThat(e.met()).isFalse();
    assertThat(e.seen()).startsWith("90.0% of the 100 calls started sent their first attempt");
  }

  @Test
  void ninetyFivePercentHomeIsEnoughNinetyFourIsNot() {
    calls(95, 5, 0, Stats.Result.OK);
    assertThat(check().met()).isTrue();

    Stats.Summary s = sdk.phase("client-busy");
    assertThat(s.started()).isEqualTo(100);
    calls(0, 1, 0, Stats.Result.OK); // the 101st: 95 of 101
    assertThat(check().met()).isFalse();
  }

  @Test
  void thePhaseLastsUntilTheNextPhasesFaultsWentOn() {
    calls(100, 0, 0, Stats.Result.OK);
    // zone-refuse's faults went on 0.5 s late: an evacuation before that is client-busy's.
    event(10.001, "drill", EventLog.Kind.DRILL, EventLog.phaseBegins("client-busy"));
    event(20.5, "drill", EventLog.Kind.DRILL, EventLog.phaseBegins("zone-refuse"));
    event(20.3, "sdk", EventLog.Kind.ZONE_EVACUATED, "zone home evacuated");

    Expectation e = check();

    assertThat(e.met()).isFalse();
    assertThat(e.seen()).endsWith("1 zone evacuated (10.0 s to 20.5 s)");
  }

  @Test
  void eventsOfOtherPhasesAndOtherClientsDoNotCount() {
    calls(100, 0, 0, Stats.Result.OK);
    event(10.001, "drill", EventLog.Kind.DRILL, EventLog.phaseBegins("client-busy"));
    event(20.002, "drill", EventLog.Kind.DRILL, EventLog.phaseBegins("zone-refuse"));
    event(9.9, "sdk", EventLog.Kind.ENDPOINT_EJECTED, "in healthy");
    event(21.0, "sdk", EventLog.Kind.ZONE_EVACUATED, "zone home evacuated: refused");
    event(15.0, "baseline", EventLog.Kind.ENDPOINT_EJECTED, "not the sdk's");

    assertThat(check().met()).isTrue();
  }
}
