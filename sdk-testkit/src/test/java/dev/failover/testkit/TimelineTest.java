package dev.failover.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Scripted faults at offsets, phases, stopping, failures. */
class TimelineTest {

  @RegisterExtension static FakeZones zones = FakeZones.builder().region("r", "a", "b").build();

  /**
   * Each step records what it did, the endpoint's fault right after, and when it ran; the record is
   * read once the run has ended. (A poll for the refused state in between would miss it when the
   * timeline's thread ran late and both steps came at once, as on a busy machine.)
   */
  @Test
  void faultsSwitchOnAndOffAtTheirOffsets() throws Exception {
    FakeEndpoint a = zones.zone("a").endpoint(0);
    List<String> steps = Collections.synchronizedList(new ArrayList<>());
    List<Long> ranAt = Collections.synchronizedList(new ArrayList<>());
    Timeline timeline =
        Timeline.builder()
            .at(
                Duration.ofMillis(100),
                z -> {
                  z.zone("a").fail(ZoneFault.refuse());
                  ranAt.add(System.nanoTime());
                  steps.add("refuse, then " + a.fault());
                })
            .at(
                Duration.ofMillis(300),
                z -> {
                  z.zone("a").heal();
                  ranAt.add(System.nanoTime());
                  steps.add("heal, then " + a.fault());
                })
            .build();
    assertThat(timeline.length()).isEqualTo(Duration.ofMillis(300));

    long before = System.nanoTime(); // the run's origin is this or a moment later
    try (Timeline.Run run = timeline.start(zones)) {
      assertThat(run.await(Duration.ofSeconds(10))).isTrue();
      assertThat(run.isDone()).isTrue();
    }

    assertThat(steps)
        .containsExactly(
            "refuse, then Optional[" + ZoneFault.refuse() + "]", "heal, then Optional.empty");
    // Never early: each step at its offset from the origin, or later.
    assertThat(ranAt.get(0) - before).isGreaterThanOrEqualTo(Duration.ofMillis(100).toNanos());
    assertThat(ranAt.get(1) - before).isGreaterThanOrEqualTo(Duration.ofMillis(300).toNanos());
    assertThat(a.fault()).isEmpty();
  }

  /**
   * Steps a nanosecond apart run in offset order: each group's delay was computed from a clock
   * reading of its own, and a preemption between that reading and the executor's put a later group
   * first (85 of 3,000 steps in a review's run).
   */
  @Test
  void stepsANanosecondApartRunInOffsetOrder() throws Exception {
    List<Integer> ran = Collections.synchronizedList(new ArrayList<>());
    Timeline.Builder builder = Timeline.builder();
    for (int i = 0; i < 3_000; i++) {
      int step = i;
      builder.at(Duration.ofNanos(i), z -> ran.add(step));
    }
    // From an origin 0.2 s ahead: every step waits (none is due as it is scheduled, which runs
    // steps in the order they were scheduled whatever their delay).
    try (Timeline.Run run =
        builder.build().start(zones, System.nanoTime() + Duration.ofMillis(200).toNanos())) {
      assertThat(run.await(Duration.ofSeconds(60))).isTrue();
    }
    List<Integer> inOrder = new ArrayList<>(ran);
    Collections.sort(inOrder);
    assertThat(ran).hasSize(3_000).isEqualTo(inOrder);
  }

  @Test
  void aRunFromAnOriginInThePastRunsItsStepsAtOriginPlusOffset() throws Exception {
    List<String> log = Collections.synchronizedList(new ArrayList<>());
    long[] ranAt = new long[2];
    Timeline timeline =
        Timeline.builder()
            .at(
                Duration.ZERO,
                z -> {
                  ranAt[0] = System.nanoTime();
                  log.add("0 s");
                })
            .at(
                Duration.ofMillis(5200),
                z -> {
                  ranAt[1] = System.nanoTime();
                  log.add("5.2 s");
                })
            .at(Duration.ofSeconds(60), z -> log.add("60 s"))
            .build();
    long origin = System.nanoTime() - Duration.ofSeconds(5).toNanos();

    try (Timeline.Run run = timeline.start(zones, origin)) {
      // Counted from now, the second step would take 5.2 s; from the origin it is due in 0.2 s.
      Await.until(Duration.ofSeconds(3), "the steps due by origin + 5.2 s", () -> log.size() >= 2);
      assertThat(log).containsExactly("0 s", "5.2 s");
      assertThat(run.elapsed()).isGreaterThanOrEqualTo(Duration.ofMillis(5200));
      assertThat(run.isDone()).as("the step at 60 s still waits").isFalse();
    }
    synchronized (log) {
      assertThat(ranAt[0] - origin).isGreaterThanOrEqualTo(0);
      // Never early: at origin + offset or later.
      assertThat(ranAt[1] - origin).isGreaterThanOrEqualTo(Duration.ofMillis(5200).toNanos());
    }
    assertThat(log).containsExactly("0 s", "5.2 s");
  }

  @Test
  void aRunFromAnOriginInTheFutureWaitsForIt() throws Exception {
    long[] ranAt = new long[1];
    Timeline timeline =
        Timeline.builder()
            .at(
                Duration.ZERO,
                z -> {
                  synchronized (ranAt) {
                    ranAt[0] = System.nanoTime();
                  }
                })
            .build();
    long origin = System.nanoTime() + Duration.ofMillis(300).toNanos();

    try (Timeline.Run run = timeline.start(zones, origin)) {
      assertThat(run.await(Duration.ofSeconds(5))).isTrue();
      assertThat(run.currentPhase()).isEmpty();
    }
    synchronized (ranAt) {
      assertThat(ranAt[0] - origin).isGreaterThanOrEqualTo(0);
    }
  }

  @Test
  void aPhaseEndsBeforeTheNextOneStartsAtTheSameOffset() throws Exception {
    for (int round = 0; round < 20; round++) {
      List<String> log = Collections.synchronizedList(new ArrayList<>());
      // The next phase is declared first; its start must still run after the previous end.
      Timeline timeline =
          Timeline.builder()
              .phase("second", Duration.ofMillis(20), Duration.ofMillis(10), z -> log.add("start"))
              .phase(
                  "first",
                  Duration.ZERO,
                  Duration.ofMillis(20),
                  z -> log.add("first"),
                  z -> log.add("end"))
              .build();
      try (Timeline.Run run = timeline.start(zones)) {
        assertThat(run.await(Duration.ofSeconds(2))).isTrue();
      }
      assertThat(log).containsExactly("first", "end", "start");
    }
  }

  @Test
  void phasesAreNamedAndTheCurrentOneIsKnown() throws Exception {
    List<String> log = Collections.synchronizedList(new ArrayList<>());
    Timeline timeline =
        Timeline.builder()
            .phase("steady", Duration.ZERO, Duration.ofMillis(100), z -> log.add("steady"))
            // 1 s: long enough that polling every 5 ms sees it however busy the machine.
            .phase(
                "outage",
                Duration.ofMillis(100),
                Duration.ofSeconds(1),
                z -> {
                  z.zone("a").fail(ZoneFault.hang());
                  log.add("outage");
                },
                z -> {
                  z.zone("a").heal();
                  log.add("healed");
                })
            .build();
    assertThat(timeline.phaseAt(Duration.ZERO)).contains("steady");
    assertThat(timeline.phaseAt(Duration.ofMillis(100))).contains("outage");
    assertThat(timeline.phaseAt(Duration.ofMillis(1_099))).contains("outage");
    assertThat(timeline.phaseAt(Duration.ofMillis(1_100))).isEmpty();

    List<Optional<String>> phases = new ArrayList<>();
    try (Timeline.Run run = timeline.start(zones)) {
      Await.until(
          Duration.ofSeconds(10),
          "the run to end",
          () -> {
            Optional<String> phase = run.currentPhase();
            if (phases.isEmpty() || !phases.get(phases.size() - 1).equals(phase)) {
              phases.add(phase);
            }
            return run.isDone();
          });
      assertThat(run.await(Duration.ofSeconds(1))).isTrue();
      assertThat(run.currentPhase()).isEmpty();
    }
    assertThat(phases).contains(Optional.of("outage")).endsWith(Optional.empty());
    assertThat(log).containsExactly("steady", "outage", "healed");
    assertThat(zones.zone("a").endpoint(0).fault()).isEmpty();
  }

  @Test
  void closeDropsTheStepsNotYetRun() {
    Timeline timeline =
        Timeline.builder()
            .at(Duration.ZERO, z -> z.zone("b").fail(ZoneFault.errors(503, 1.0)))
            .at(Duration.ofSeconds(30), z -> z.zone("b").heal())
            .build();
    Timeline.Run run = timeline.start(zones);
    Await.until(
        Duration.ofSeconds(2),
        "the first step",
        () -> zones.zone("b").endpoint(0).fault().isPresent());

    run.close();

    assertThat(run.isDone()).isTrue();
    assertThat(zones.zone("b").endpoint(0).fault()).as("faults stay").isPresent();
  }

  @Test
  void aFailingStepIsReportedAndTheOthersStillRun() throws Exception {
    Timeline timeline =
        Timeline.builder()
            .at(Duration.ZERO, z -> z.zone("nowhere").heal())
            .at(Duration.ofMillis(20), z -> z.zone("a").fail(ZoneFault.reset()))
            .build();
    try (Timeline.Run run = timeline.start(zones)) {
      assertThatThrownBy(() -> run.await(Duration.ofSeconds(2)))
          .isInstanceOf(IllegalStateException.class)
          .hasMessage("timeline step at PT0S (at PT0S) failed")
          .hasCauseInstanceOf(IllegalArgumentException.class);
    }
    assertThat(zones.zone("a").endpoint(0).fault()).contains(ZoneFault.reset());
  }

  @Test
  void builderChecksItsArguments() {
    assertThatThrownBy(() -> Timeline.builder().build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("a timeline needs at least one step, add at() or phase()");
    assertThatThrownBy(() -> Timeline.builder().at(Duration.ofMillis(-1), z -> {}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("offset must be in [0, PT24H] but was PT-0.001S");
    assertThatThrownBy(() -> Timeline.builder().phase("p", Duration.ZERO, Duration.ZERO, z -> {}))
        .hasMessage("phase length must be > 0 but was PT0S");
    assertThatThrownBy(
            () -> Timeline.builder().phase(" ", Duration.ZERO, Duration.ofSeconds(1), z -> {}))
        .hasMessage("phase name must not be blank but was ' '");
  }
}
