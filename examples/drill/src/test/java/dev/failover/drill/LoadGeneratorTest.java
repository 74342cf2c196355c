package dev.failover.drill;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.failover.testkit.load.FakeTicker;
import dev.failover.testkit.load.HostSaturator;
import dev.failover.testkit.load.Lateness;
import dev.failover.testkit.load.LoadClock;
import dev.failover.testkit.load.OpenLoopGenerator;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.LongConsumer;
import java.util.function.LongPredicate;
import org.junit.jupiter.api.Test;

/**
 * The load clock on fake time: the schedule's zero is the drill's start, fixed after the clients
 * are built and the warm-up has ended; a late generator sends what it owes at once, counts it late,
 * and its calls' latency counts from their due time. After the drill's end, the fail-back tail goes
 * on, whole seconds at a time, until the sdk's first attempts are home two seconds in a row or its
 * time is up, and its calls stay out of the phases.
 */
class LoadGeneratorTest {
  static final long MS = 1_000_000L;
  static final long FAKE_SERVER = 5 * MS;
  static final Duration DURATION = Duration.ofSeconds(10);
  static final Phase ALL = new Phase("all", Duration.ZERO, DURATION, "");

  /** A client whose server answers every call {@link #FAKE_SERVER} after it is sent. */
  static final class FakeServerClient extends ClientDriver {
    private final FakeTicker ticker;

    FakeServerClient(Stats stats, LoadClock clock, FakeTicker ticker) {
      super("fake", stats, clock, 10_000);
      this.ticker = ticker;
    }

    @Override
    void start(String path, long offsetNanos, Consumer<Stats.Result> done) {
      ticker.at(ticker.nanoTime() + FAKE_SERVER, () -> done.accept(Stats.Result.OK));
    }

    @Override
    public void close() {}
  }

  /** One call as the generator sent it. */
  record Sent(long due, long offset, long at) {}

  final FakeTicker ticker = new FakeTicker();
  final LoadClock clock = new LoadClock(ticker);
  final Stats stats = new Stats("fake", List.of(ALL), List.of("z"), DURATION);
  final GeneratorLag lag = new GeneratorLag(List.of(ALL), DURATION);
  final FakeServerClient client = new FakeServerClient(stats, clock, ticker);
  final List<Sent> sent = new ArrayList<>();
  final List<Long> starts = new ArrayList<>();

  /** Run by the sink after each call is sent. */
  LongConsumer afterSend = offset -> {};

  OpenLoopGenerator generator(int rate) {
    return OpenLoopGenerator.builder(clock)
        .rate(rate)
        .warmUp(Duration.ofSeconds(3))
        .duration(DURATION)
        .sink(
            (due, offset) -> {
              sent.add(new Sent(due, offset, ticker.nanoTime()));
              client.send("/x", due, offset);
              afterSend.accept(offset);
            })
        .lag(lag)
        .onStart(starts::add)
        .build();
  }

  void run(OpenLoopGenerator g) throws InterruptedException {
    g.run();
    ticker.drain();
  }

  @Test
  void aSlowClientBuildShiftsNoCall() throws InterruptedException {
    // Building the clients took 2.5 s, five times the 500 ms the old schedule allowed for.
    ticker.advanceTo(ticker.nanoTime() + 2500 * MS);
    long built = ticker.nanoTime();
    OpenLoopGenerator g = generator(100);

    run(g);

    long start = built + 3000 * MS; // the warm-up, on time
    assertThat(clock.start()).isEqualTo(start);
    assertThat(starts).containsExactly(start);
    List<Sent> warmUp = sent.stream().filter(s -> s.offset() < 0).toList();
    List<Sent> drill = sent.stream().filter(s -> s.offset() >= 0).toList();
    assertThat(warmUp).hasSize(300).allMatch(s -> s.due() < start);
    assertThat(drill).hasSize(1000);
    for (int i = 0; i < drill.size(); i++) {
      Sent s = drill.get(i);
      assertThat(s.due()).isEqualTo(start + i * 10 * MS);
      assertThat(s.offset()).isEqualTo(s.due() - start);
      assertThat(s.at()).isEqualTo(s.due());
    }
    Stats.Summary total = stats.total();
    assertThat(total.calls()).isEqualTo(1000);
    assertThat(total.ok()).isEqualTo(1000);
    assertThat(total.latency()).isNotNull();
    // Every call took exactly the fake server's 5 ms: no offset from the slow start.
    assertThat(total.latency().p50()).isCloseTo(5.0, within(0.01));
    assertThat(total.latency().max()).isCloseTo(5.0, within(0.01));
    assertThat(lag.total()).isEqualTo(new Lateness.Summary(1000, 0, 0));
  }

  @Test
  void aLateGeneratorSendsWhatItOwesAtOnceCountsItLateAndMeasuresFromTheDueTime()
      throws InterruptedException {
    long built = ticker.nanoTime();
    long start = built + 3000 * MS;
    // The generator's thread wakes 300 ms late for the call due 2 s into the drill.
    ticker.stall(start + 2000 * MS, 300 * MS);

    run(generator(100));

    assertThat(clock.start()).isEqualTo(start);
    List<Sent> drill = sent.stream().filter(s -> s.offset() >= 0).toList();
    assertThat(drill).hasSize(1000); // nothing skipped
    // Calls due from 2.00 s to 2.30 s all left at 2.30 s, at once.
    for (int i = 200; i <= 230; i++) {
      assertThat(drill.get(i).at()).isEqualTo(start + 2300 * MS);
    }
    assertThat(drill.get(199).at()).isEqualTo(drill.get(199).due());
    assertThat(drill.get(231).at()).isEqualTo(drill.get(231).due());
    // Late: lag 300, 290, ... 20 ms (29 calls); 10 ms and 0 ms are on time.
    assertThat(lag.total()).isEqualTo(new Lateness.Summary(1000, 29, 300 * MS));
    assertThat(lag.second(2).late()).isEqualTo(29);
    assertThat(lag.second(1).late()).isZero();
    assertThat(lag.lagged()).isTrue();
    Stats.Summary total = stats.total();
    assertThat(total.calls()).isEqualTo(1000);
    // Latency counts from the due time: the generator's lag is in it, not hidden.
    assertThat(total.latency().max()).isCloseTo(305.0, within(0.5));
    assertThat(total.latency().p50()).isCloseTo(5.0, within(0.01));
    assertThat(stats.second(2).latency().p90()).isGreaterThan(100);
  }

  @Test
  void aLateWarmUpMovesTheStartNotTheCalls() throws InterruptedException {
    long zero = ticker.nanoTime();
    // The warm-up's thread wakes 1.5 s late 2 s into the warm-up (JIT, a cold JVM).
    ticker.stall(zero + 2000 * MS, 1500 * MS);

    run(generator(100));

    long start = zero + 3500 * MS; // when the warm-up had really ended
    assertThat(clock.start()).isEqualTo(start);
    assertThat(sent.stream().filter(s -> s.offset() < 0)).hasSize(300);
    assertThat(sent.stream().filter(s -> s.offset() >= 0).findFirst().orElseThrow().due())
        .isEqualTo(start);
    assertThat(lag.total().late()).isZero();
    assertThat(stats.total().latency().max()).isCloseTo(5.0, within(0.01));
  }

  @Test
  void aPauseHoldsTheGeneratorAndItsCallsCountLate() throws InterruptedException {
    OpenLoopGenerator g = generator(100);
    afterSend =
        offset -> {
          if (offset == 4000 * MS) {
            g.pause(HostSaturator.PAUSE);
          }
        };

    run(g);

    // Held 300 ms after the call due at 4.00 s: calls due 4.01 s to 4.30 s left at 4.30 s.
    long start = clock.start();
    assertThat(sent.stream().filter(s -> s.at() == start + 4300 * MS)).hasSize(30);
    assertThat(lag.total()).isEqualTo(new Lateness.Summary(1000, 28, 290 * MS));
  }

  @Test
  void theWarmUpAndTheDrillHaveRateTimesTheirLengthInCalls() {
    assertThat(generator(40).calls()).isEqualTo(400);
    assertThat(generator(3).dueAfter(1)).isEqualTo(333_333_333L);
    assertThat(generator(3).dueAfter(3)).isEqualTo(1_000_000_000L);
  }

  // ---- the order the clients are sent in ----

  /**
   * A client whose send takes {@link #SEND} of the load thread's time (routing, an enqueue), and
   * records, for each call of the drill, how long after its due time its send began.
   */
  static final class SlowSendClient extends ClientDriver {
    static final long SEND = 5 * MS;
    private final FakeTicker ticker;
    private final List<String> order;
    final List<Long> sendLag = new ArrayList<>();

    SlowSendClient(
        String name, Stats stats, LoadClock clock, FakeTicker ticker, List<String> order) {
      super(name, stats, clock, 10_000);
      this.ticker = ticker;
      this.order = order;
    }

    @Override
    void start(String path, long offsetNanos, Consumer<Stats.Result> done) {
      if (offsetNanos >= 0) {
        order.add(name);
        sendLag.add(clock.offset(ticker.nanoTime()) - offsetNanos);
      }
      ticker.advance(Duration.ofNanos(SEND));
      ticker.at(ticker.nanoTime() + FAKE_SERVER, () -> done.accept(Stats.Result.OK));
    }

    @Override
    public void close() {}
  }

  @Test
  void theClientsTakeTurnsToBeSentFirstSoNeitherAlwaysPaysForTheOthersSend()
      throws InterruptedException {
    List<String> order = new ArrayList<>();
    Stats sdkStats = new Stats("sdk", List.of(ALL), List.of("z"), DURATION);
    Stats baselineStats = new Stats("baseline", List.of(ALL), List.of("z"), DURATION);
    SlowSendClient sdk = new SlowSendClient("sdk", sdkStats, clock, ticker, order);
    SlowSendClient baseline = new SlowSendClient("baseline", baselineStats, clock, ticker, order);
    List<String> paths = new ArrayList<>();
    OpenLoopGenerator g =
        OpenLoopGenerator.builder(clock)
            .rate(100)
            .warmUp(Duration.ofSeconds(3))
            .duration(DURATION)
            .sink(
                Drill.sendInTurn(
                    List.of(sdk, baseline),
                    () -> {
                      String path = "/x" + paths.size();
                      paths.add(path);
                      return path;
                    }))
            .lag(lag)
            .build();

    run(g);

    // 300 warm-up calls (0 to 299), so the drill's call i is the load's 300 + i: the sdk first
    // for even i, the baseline first for odd i.
    assertThat(order).hasSize(2000);
    for (int i = 0; i < 1000; i++) {
      List<String> pair = order.subList(2 * i, 2 * i + 2);
      assertThat(pair)
          .as("call %d", i)
          .containsExactlyElementsOf(
              i % 2 == 0 ? List.of("sdk", "baseline") : List.of("baseline", "sdk"));
    }
    // One path a call, the same for both clients.
    assertThat(paths).hasSize(1300);
    // The two 5 ms sends fill the 10 ms between calls: the generator keeps time, and each client
    // is sent on time for half of its calls and 5 ms late, behind the other, for the other half.
    assertThat(lag.total().late()).isZero();
    for (SlowSendClient c : List.of(sdk, baseline)) {
      assertThat(c.sendLag).hasSize(1000);
      assertThat(c.sendLag.stream().filter(l -> l == 0)).hasSize(500);
      assertThat(c.sendLag.stream().filter(l -> l == SlowSendClient.SEND)).hasSize(500);
    }
    assertThat(sdkStats.total().latency().p99()).isEqualTo(baselineStats.total().latency().p99());
  }

  // ---- the fail-back tail ----

  static final Duration TAIL = Duration.ofSeconds(30);
  static final List<Phase> TWO_PHASES =
      List.of(
          new Phase("outage", Duration.ZERO, Duration.ofSeconds(5), ""),
          new Phase("fail-back", Duration.ofSeconds(5), DURATION, ""));

  /**
   * A client whose first attempts go to {@code home} for the calls {@code atHome} picks (by when
   * they started, from the start) and to {@code away} for the others, recorded when each answer
   * comes {@code latency} after the call was sent, as the sdk's listener records them: in the
   * second the call started, not the second it was due.
   */
  static final class ZoneClient extends ClientDriver {
    private final FakeTicker ticker;
    private final long latency;
    private final LongPredicate atHome;

    ZoneClient(
        Stats stats, LoadClock clock, FakeTicker ticker, long latency, LongPredicate atHome) {
      super("sdk", stats, clock, 10_000);
      this.ticker = ticker;
      this.latency = latency;
      this.atHome = atHome;
    }

    @Override
    void start(String path, long offsetNanos, Consumer<Stats.Result> done) {
      long startedAt = clock.offset(ticker.nanoTime());
      String zone = atHome.test(startedAt) ? "home" : "away";
      ticker.at(
          ticker.nanoTime() + latency,
          () -> {
            recordFirst(startedAt, zone);
            recordAttempts(offsetNanos, 1, 0, 0);
            done.accept(Stats.Result.OK);
          });
    }

    @Override
    public void close() {}
  }

  /** A drill of {@link #TWO_PHASES} at 100 calls/s and its tail, run on its own fake time. */
  static final class TailRun {
    final FakeTicker ticker = new FakeTicker();
    final LoadClock clock = new LoadClock(ticker);
    final Stats sdk;
    final Stats baseline;
    final GeneratorLag lag;
    final FailBackTail tail;
    final List<Long> offsets = new ArrayList<>();

    TailRun(Duration max, long latency, LongPredicate atHome) throws InterruptedException {
      this(max, latency, atHome, 0, 0);
    }

    /** The generator's thread wakes {@code stallMs} late for the call due at {@code stallAtMs}. */
    TailRun(Duration max, long latency, LongPredicate atHome, long stallAtMs, long stallMs)
        throws InterruptedException {
      if (stallMs > 0) {
        long start = ticker.nanoTime() + 3000 * MS; // after the warm-up, on time
        ticker.stall(start + stallAtMs * MS, stallMs * MS);
      }
      sdk = new Stats("sdk", TWO_PHASES, List.of("home", "away"), DURATION, max);
      baseline = new Stats("baseline", TWO_PHASES, List.of("home", "away"), DURATION, max);
      lag = new GeneratorLag(TWO_PHASES, DURATION, max);
      tail = new FailBackTail(TWO_PHASES.get(1), DURATION, max, "home", sdk);
      ClientDriver s = new ZoneClient(sdk, clock, ticker, latency, atHome);
      ClientDriver b = new ZoneClient(baseline, clock, ticker, FAKE_SERVER, o -> false);
      OpenLoopGenerator g =
          OpenLoopGenerator.builder(clock)
              .rate(100)
              .warmUp(Duration.ofSeconds(3))
              .duration(DURATION)
              .tail(max, tail)
              .sink(
                  (due, offset) -> {
                    if (offset >= 0) {
                      offsets.add(offset);
                    }
                    s.send("/x", due, offset);
                    b.send("/x", due, offset);
                  })
              .lag(lag)
              .build();
      g.run();
      ticker.drain();
    }

    long sentInTail() {
      return offsets.stream().filter(o -> o >= DURATION.toNanos()).count();
    }
  }

  static LongPredicate homeFrom(long millis) {
    return offset -> offset >= millis * MS;
  }

  @Test
  void theTailStopsOnceTheSdkIsHomeTwoSecondsInARow() throws InterruptedException {
    // Every first attempt goes home from 12.0 s on: the tail's third second (12 s to 13 s).
    TailRun run = new TailRun(TAIL, FAKE_SERVER, homeFrom(12_000));

    // 12 s and 13 s are home; known at 14.0 s, before the call due then: four whole seconds.
    assertThat(run.tail.ended()).isEqualTo(FailBackTail.Ended.HOME);
    assertThat(run.tail.homeSeenAtTheEnd()).isFalse();
    assertThat(TextReport.tailRan(run.tail))
        .isEqualTo("  ran 10.0 s to 14.0 s (4 s): ended as the sdk was back home");
    assertThat(run.tail.seconds()).isEqualTo(4);
    assertThat(run.tail.stop()).isEqualTo(Duration.ofSeconds(14));
    assertThat(run.sentInTail()).isEqualTo(400);
    assertThat(run.offsets).hasSize(1400).allMatch(o -> o < 14_000 * MS);
    assertThat(run.tail.homeBackAt()).isEqualTo(12.0);
    assertThat(run.tail.verdict())
        .isEqualTo(
            "sdk first attempts back home (>= 90% in home) at 12.0 s, 7.0 s after every zone"
                + " healed");
    for (int k = 0; k < 4; k++) {
      assertThat(run.sdk.tailSecond(k).calls()).isEqualTo(100);
      assertThat(run.baseline.tailSecond(k).calls()).isEqualTo(100);
      assertThat(run.lag.tailSecond(k).calls()).isEqualTo(100);
    }
    assertThat(run.sdk.tailSecond(1).share("home")).isZero();
    assertThat(run.sdk.tailSecond(2).share("home")).isEqualTo(1.0);
  }

  @Test
  void theTailsCallsStayOutOfThePhasesTheSecondsAndTheTotal() throws InterruptedException {
    TailRun run = new TailRun(TAIL, FAKE_SERVER, homeFrom(12_000));

    for (Stats st : List.of(run.sdk, run.baseline)) {
      assertThat(st.total().calls()).isEqualTo(1000);
      assertThat(st.total().attempts()).isEqualTo(1000);
      assertThat(st.phase("outage").calls()).isEqualTo(500);
      assertThat(st.phase("fail-back").calls()).isEqualTo(500);
      assertThat(st.secondCount()).isEqualTo(10);
      for (int i = 0; i < 10; i++) {
        assertThat(st.second(i).calls()).isEqualTo(100);
      }
      assertThat(st.tailTotal().calls()).isEqualTo(400);
      assertThat(st.tailTotal().ok()).isEqualTo(400);
      assertThat(st.tailTotal().phase().name()).isEqualTo(Stats.TAIL);
    }
    // The sdk's home first attempts of the tail are not in the fail-back phase's shares.
    assertThat(run.sdk.phase("fail-back").share("home")).isZero();
    assertThat(run.sdk.second(9).share("home")).isZero();
    assertThat(run.sdk.tailTotal().share("home")).isEqualTo(0.5);
    assertThat(run.lag.total().calls()).isEqualTo(1000);
    assertThat(run.lag.phase("fail-back").calls()).isEqualTo(500);
    assertThat(run.lag.second(9).calls()).isEqualTo(100);
    assertThat(run.lag.tailTotal().calls()).isEqualTo(400);
  }

  @Test
  void theTailEndsWhenItsTimeIsUp() throws InterruptedException {
    TailRun run = new TailRun(Duration.ofSeconds(3), FAKE_SERVER, homeFrom(12_000));

    // Only 12 s was home before the 3 s were up.
    assertThat(run.tail.ended()).isEqualTo(FailBackTail.Ended.TIME);
    assertThat(run.tail.seconds()).isEqualTo(3);
    assertThat(run.sentInTail()).isEqualTo(300);
    assertThat(run.tail.homeBackAt()).isNull();
    assertThat(run.tail.verdict())
        .isEqualTo(
            "sdk first attempts not back home within the 3 s tail (>= 90% in home); every zone"
                + " healed at 5.0 s");
    assertThat(run.tail.homeSeenAtTheEnd()).isFalse();
    assertThat(TextReport.tailRan(run.tail))
        .isEqualTo("  ran 10.0 s to 13.0 s (3 s): its time was up before the sdk was back home");
  }

  @Test
  void aTailWhoseTimeIsUpAsTheSdkComesHomeEndsHomeByTheFinalCounts() throws InterruptedException {
    // Home from 11.0 s: 11 s and 12 s are home, but the 3 s tail is up at 13.0 s, and the
    // generator does not look again after its last second.
    TailRun run = new TailRun(Duration.ofSeconds(3), FAKE_SERVER, homeFrom(11_000));

    assertThat(run.tail.seconds()).isEqualTo(3);
    assertThat(run.sentInTail()).isEqualTo(300);
    // The reason, the time and the sentences agree: home, at 11.0 s.
    assertThat(run.tail.homeBackAt()).isEqualTo(11.0);
    assertThat(run.tail.ended()).isEqualTo(FailBackTail.Ended.HOME);
    assertThat(run.tail.homeSeenAtTheEnd()).isTrue();
    assertThat(run.tail.verdict())
        .isEqualTo(
            "sdk first attempts back home (>= 90% in home) at 11.0 s, 6.0 s after every zone"
                + " healed");
    assertThat(TextReport.tailRan(run.tail))
        .isEqualTo(
            "  ran 10.0 s to 13.0 s (3 s): its time was up as the sdk came back home (seen once"
                + " its last calls ended)");
  }

  @Test
  void theReturnIsTimedFromWhenTheZonesActuallyHealed() throws InterruptedException {
    TailRun run = new TailRun(TAIL, FAKE_SERVER, homeFrom(12_000));
    assertThat(run.tail.healedSeconds()).isEqualTo(5.0); // not told: as planned
    assertThat(run.tail.verdict()).endsWith("at 12.0 s, 7.0 s after every zone healed");

    // The fail-back phase's step healed the zones 0.4 s late.
    run.tail.healBegan(5.4);

    assertThat(run.tail.healedAt()).isEqualTo(Duration.ofSeconds(5)); // the plan
    assertThat(run.tail.healedSeconds()).isEqualTo(5.4);
    assertThat(run.tail.homeBackAt()).isEqualTo(12.0);
    assertThat(run.tail.verdict()).endsWith("at 12.0 s, 6.6 s after every zone healed");
  }

  @Test
  void homeBeforeTheZonesActuallyHealedDoesNotCount() throws InterruptedException {
    // Home from the phase's planned start, but its step healed the zones only at 5.4 s.
    TailRun run = new TailRun(TAIL, FAKE_SERVER, homeFrom(5_000));
    run.tail.healBegan(5.4);

    assertThat(run.tail.homeBackAt()).isEqualTo(5.4);
    assertThat(run.tail.verdict()).endsWith("at 5.4 s, 0.0 s after every zone healed");
  }

  @Test
  void noTailSecondWhenTheSdkIsHomeBeforeTheLastPhaseEnds() throws InterruptedException {
    TailRun run = new TailRun(TAIL, FAKE_SERVER, homeFrom(7_000));

    assertThat(run.tail.ended()).isEqualTo(FailBackTail.Ended.HOME);
    assertThat(run.tail.seconds()).isZero();
    assertThat(run.sentInTail()).isZero();
    assertThat(run.offsets).hasSize(1000);
    assertThat(run.tail.homeBackAt()).isEqualTo(7.0);
    assertThat(run.tail.verdict()).endsWith("at 7.0 s, 2.0 s after every zone healed");
  }

  @Test
  void homeBeforeEveryZoneHealedDoesNotCount() throws InterruptedException {
    // Home in the outage phase, away from 4.0 s to 11.0 s, home again from 11.0 s.
    TailRun run = new TailRun(TAIL, FAKE_SERVER, o -> o < 4_000 * MS || o >= 11_000 * MS);

    assertThat(run.tail.homeBackAt()).isEqualTo(11.0);
    assertThat(run.tail.seconds()).isEqualTo(3); // 10 s, 11 s, 12 s; known at 13.0 s
  }

  @Test
  void ninetyPercentAtHomeIsHomeEightyNineIsNot() throws InterruptedException {
    // From the tail's start, 90 of every 100 calls' first attempts go home.
    TailRun ninety =
        new TailRun(TAIL, FAKE_SERVER, o -> o >= 10_000 * MS && (o / (10 * MS)) % 100 < 90);
    assertThat(ninety.tail.ended()).isEqualTo(FailBackTail.Ended.HOME);
    assertThat(ninety.tail.seconds()).isEqualTo(2);
    assertThat(ninety.tail.homeBackAt()).isEqualTo(10.0);

    TailRun eightyNine =
        new TailRun(
            Duration.ofSeconds(5),
            FAKE_SERVER,
            o -> o >= 10_000 * MS && (o / (10 * MS)) % 100 < 89);
    assertThat(eightyNine.tail.ended()).isEqualTo(FailBackTail.Ended.TIME);
    assertThat(eightyNine.tail.seconds()).isEqualTo(5);
    assertThat(eightyNine.tail.homeBackAt()).isNull();
  }

  @Test
  void aSecondWhoseCallsHaveNotAllEndedWaitsForTheNextLook() throws InterruptedException {
    // The sdk answers in 200 ms: at 14.0 s the last 20 calls of 13 s have no first attempt yet,
    // 80 of 100 is not yet sure to be home, so the tail runs 14 s too and stops at 15.0 s.
    TailRun run = new TailRun(TAIL, 200 * MS, homeFrom(12_000));

    assertThat(run.tail.seconds()).isEqualTo(5);
    assertThat(run.tail.ended()).isEqualTo(FailBackTail.Ended.HOME);
    assertThat(run.tail.homeBackAt()).isEqualTo(12.0); // by the final counts
  }

  @Test
  void aLateGeneratorDoesNotHoldTheTailBack() throws InterruptedException {
    // The generator wakes 300 ms late for the call due at 13.8 s: the calls due from 13.8 s to
    // 13.99 s start at 14.1 s, so their first attempts count in 14 s, as the sdk counts them. Of
    // the 80 calls that started in 13 s, 80 went home: sure at 14.1 s, the tail stops there.
    TailRun run = new TailRun(TAIL, FAKE_SERVER, homeFrom(12_000), 13_800, 300);

    assertThat(run.lag.tailSecond(3).late()).isEqualTo(20); // 300 ms to 110 ms late
    assertThat(run.sdk.tailStarted(3)).isEqualTo(80);
    assertThat(run.sdk.tailStarted(4)).isEqualTo(20);
    assertThat(run.tail.seconds()).isEqualTo(4);
    assertThat(run.tail.ended()).isEqualTo(FailBackTail.Ended.HOME);
    assertThat(run.tail.homeBackAt()).isEqualTo(12.0);
    // Every call of 13 s still counts in 13 s, by its due time.
    assertThat(run.sdk.tailSecond(3).calls()).isEqualTo(100);
  }

  @Test
  void aTailOfZeroSendsNothingAfterTheEnd() throws InterruptedException {
    TailRun run = new TailRun(Duration.ZERO, FAKE_SERVER, homeFrom(12_000));

    assertThat(run.offsets).hasSize(1000);
    assertThat(run.tail.ended()).isEqualTo(FailBackTail.Ended.OFF);
    assertThat(run.tail.seconds()).isZero();
    assertThat(run.tail.homeBackAt()).isNull();
    assertThat(run.tail.verdict())
        .isEqualTo(
            "sdk first attempts not back home by the drill's end (>= 90% in home), 5.0 s after"
                + " every zone healed (no tail: --tail 0)");
  }

  @Test
  void surelyHomeOnlyWhenTheHomeFirstAttemptsSoFarReachTheShareOfTheCallsStarted() {
    assertThat(FailBackTail.surelyHome(90, 100)).isTrue();
    assertThat(FailBackTail.surelyHome(89, 100)).isFalse();
    assertThat(FailBackTail.surelyHome(0, 0)).isFalse();
    assertThat(FailBackTail.surelyHome(36, 40)).isTrue();
  }
}
