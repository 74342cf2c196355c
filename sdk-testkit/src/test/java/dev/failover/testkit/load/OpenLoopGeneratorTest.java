package dev.failover.testkit.load;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * The generator's schedule and lag accounting on fake time: the start is fixed after the warm-up, a
 * slow start shifts no call, a late generator sends what it owes at once and counts it late, and
 * latency from the due time includes that lag.
 */
class OpenLoopGeneratorTest {
  static final long MS = 1_000_000L;

  /** One call as the generator sent it: due, offset from the start, and when it left. */
  record Sent(long due, long offset, long at) {}

  final FakeTicker ticker = new FakeTicker();
  final LoadClock clock = new LoadClock(ticker);
  final Lateness lateness = new Lateness();
  final List<Sent> sent = new ArrayList<>();
  final List<Long> starts = new ArrayList<>();

  /** Run by the sink after each call is noted in {@link #sent}. */
  Consumer<Sent> afterSend = s -> {};

  OpenLoopGenerator.Builder generator() {
    return OpenLoopGenerator.builder(clock)
        .rate(100)
        .warmUp(Duration.ofSeconds(2))
        .duration(Duration.ofSeconds(5))
        .sink(
            (due, offset) -> {
              Sent s = new Sent(due, offset, ticker.nanoTime());
              sent.add(s);
              afterSend.accept(s);
            })
        .lag((offset, lag) -> lateness.sent(lag))
        .onStart(starts::add);
  }

  List<Sent> afterWarmUp() {
    return sent.stream().filter(s -> s.offset() >= 0).toList();
  }

  @Test
  void theStartIsFixedWhenTheWarmUpEndsAndEveryCallIsDueOnTheSchedule()
      throws InterruptedException {
    long zero = ticker.nanoTime();

    generator().build().run();

    long start = zero + 2000 * MS;
    assertThat(clock.start()).isEqualTo(start);
    assertThat(starts).containsExactly(start);
    assertThat(sent).hasSize(700);
    assertThat(sent.stream().filter(s -> s.offset() < 0)).hasSize(200);
    List<Sent> calls = afterWarmUp();
    assertThat(calls).hasSize(500);
    for (int i = 0; i < calls.size(); i++) {
      assertThat(calls.get(i).offset()).isEqualTo(i * 10 * MS);
      assertThat(calls.get(i).due()).isEqualTo(start + i * 10 * MS);
      assertThat(calls.get(i).at()).isEqualTo(calls.get(i).due());
    }
    assertThat(lateness.summary()).isEqualTo(new Lateness.Summary(500, 0, 0));
  }

  @Test
  void aSlowStartShiftsNoLatency() throws InterruptedException {
    LoadClock late = new LoadClock(ticker);
    LatencyRecorder latency = new LatencyRecorder();
    OpenLoopGenerator g =
        OpenLoopGenerator.builder(late)
            .rate(100)
            .duration(Duration.ofSeconds(1))
            .sink((due, offset) -> latency.record(ticker.nanoTime() + 5 * MS - due))
            .build();
    ticker.advance(Duration.ofMillis(2500)); // a slow client build before the run

    g.run();

    assertThat(latency.count()).isEqualTo(100);
    assertThat(latency.maxMillis()).isCloseTo(5.0, within(0.01));
  }

  @Test
  void aLateGeneratorSendsWhatItOwesAtOnceAndCountsItLate() throws InterruptedException {
    long start = ticker.nanoTime() + 2000 * MS;
    ticker.stall(start + 1000 * MS, 300 * MS); // the call due at 1.00 s wakes at 1.30 s
    LatencyRecorder latency = new LatencyRecorder();
    afterSend =
        s -> {
          if (s.offset() >= 0) {
            latency.record(s.at() + 5 * MS - s.due());
          }
        };

    generator().build().run();

    assertThat(afterWarmUp()).hasSize(500);
    // 1.00 s to 1.30 s: 31 calls left together at 1.30 s, due on their schedule.
    List<Sent> together = sent.stream().filter(s -> s.at() == start + 1300 * MS).toList();
    assertThat(together).hasSize(31);
    assertThat(together.get(0).due()).isEqualTo(start + 1000 * MS);
    // Lag 300 ms down to 0: more than 10 ms for the calls due at 1.00 s to 1.28 s.
    assertThat(lateness.summary()).isEqualTo(new Lateness.Summary(500, 29, 300 * MS));
    assertThat(lateness.summary().maxLagMillis()).isEqualTo(300.0);
    assertThat(latency.maxMillis()).isCloseTo(305.0, within(0.5));
  }

  @Test
  void aPauseHoldsTheGeneratorBeforeItsNextCall() throws InterruptedException {
    OpenLoopGenerator g = generator().build();
    afterSend =
        s -> {
          if (s.offset() == 1000 * MS) {
            g.pause(HostSaturator.PAUSE);
          }
        };

    g.run();

    long start = clock.start();
    assertThat(sent.stream().filter(s -> s.at() == start + 1300 * MS)).hasSize(30);
    assertThat(lateness.summary()).isEqualTo(new Lateness.Summary(500, 28, 290 * MS));
  }

  @Test
  void theTailGoesOnSecondBySecondWhileItIsToldTo() throws InterruptedException {
    List<Integer> asked = new ArrayList<>();

    generator()
        .tail(
            Duration.ofSeconds(5),
            k -> {
              asked.add(k);
              return k < 2;
            })
        .build()
        .run();

    assertThat(asked).containsExactly(0, 1, 2);
    assertThat(afterWarmUp()).hasSize(700);
    assertThat(afterWarmUp().get(699).offset()).isEqualTo(6990 * MS);
    assertThat(lateness.summary().calls()).isEqualTo(700);
  }

  @Test
  void stopEndsTheLoadAtTheNextCall() throws InterruptedException {
    OpenLoopGenerator g = generator().build();
    afterSend =
        s -> {
          if (s.offset() == 990 * MS) {
            g.stop();
          }
        };

    g.run();

    assertThat(afterWarmUp()).hasSize(100);
  }

  @Test
  void stopInTheWarmUpEndsTheRunThereWithoutAStart() throws InterruptedException {
    OpenLoopGenerator g = generator().build();
    long zero = ticker.nanoTime();
    afterSend =
        s -> {
          if (sent.size() == 10) {
            g.stop(); // the warm-up's tenth call, due at 90 ms of its 2 s
          }
        };

    g.run();

    assertThat(sent).hasSize(10);
    assertThat(ticker.nanoTime() - zero)
        .as("returned at once, not at the warm-up's end")
        .isEqualTo(90 * MS);
    assertThat(clock.started()).as("the start is never fixed").isFalse();
    assertThat(starts).as("onStart, where faults go on, is never told").isEmpty();
    assertThat(lateness.summary().calls()).isZero();
  }

  @Test
  void stopWhileItWaitsForTheStartEndsTheRunWithoutOne() throws InterruptedException {
    OpenLoopGenerator g = generator().build();
    long zero = ticker.nanoTime();
    // The warm-up's last call is due at 1.99 s; the start, at 2 s, is waited for after it.
    ticker.at(zero + 1995 * MS, g::stop);

    g.run();

    assertThat(sent).hasSize(200);
    assertThat(clock.started()).isFalse();
    assertThat(starts).isEmpty();
  }

  @Test
  void aRunOnAClockAlreadyStartedThrowsBeforeItSendsAnything() {
    clock.start(ticker.nanoTime());
    OpenLoopGenerator g = generator().build();
    long zero = ticker.nanoTime();

    assertThatThrownBy(g::run)
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("the load's start is already fixed");

    assertThat(sent).as("not even the warm-up").isEmpty();
    assertThat(ticker.nanoTime()).as("no time waited").isEqualTo(zero);
    assertThat(starts).isEmpty();
  }

  @Test
  void callsAreRateTimesLength() {
    OpenLoopGenerator g = generator().rate(3).warmUp(Duration.ofMillis(999)).build();

    assertThat(g.warmUpCalls()).isEqualTo(2);
    assertThat(g.calls()).isEqualTo(15);
    assertThat(g.dueAfter(1)).isEqualTo(333_333_333L);
  }

  @Test
  void aFractionalLengthSendsEveryCallDueBeforeItsEnd() throws InterruptedException {
    // 1.25 s at 2 per second: calls due at 0, 0.5 and 1 s, all before the end.
    OpenLoopGenerator g =
        generator().rate(2).warmUp(Duration.ZERO).duration(Duration.ofMillis(1250)).build();

    assertThat(g.calls()).isEqualTo(3);
    g.run();

    assertThat(afterWarmUp()).extracting(Sent::offset).containsExactly(0L, 500 * MS, 1000 * MS);
    assertThat(lateness.summary().calls()).isEqualTo(3);
  }

  @Test
  void aFractionalLengthsTailGoesOnFromTheFirstCallDueAfterItsEnd() throws InterruptedException {
    List<Integer> asked = new ArrayList<>();

    generator()
        .rate(2)
        .warmUp(Duration.ZERO)
        .duration(Duration.ofMillis(1250))
        .tail(
            Duration.ofSeconds(2),
            k -> {
              asked.add(k);
              return true;
            })
        .build()
        .run();

    // The load's calls, then the tail's from 1.5 s (due 0.25 s and 0.75 s into its first second,
    // 1.25 s and 1.75 s into its second): one every 0.5 s, none left out.
    assertThat(afterWarmUp())
        .extracting(Sent::offset)
        .containsExactly(0L, 500 * MS, 1000 * MS, 1500 * MS, 2000 * MS, 2500 * MS, 3000 * MS);
    assertThat(asked).containsExactly(0, 1);
  }

  @Test
  void theBuilderChecksEverySettingAtOnce() {
    assertThatThrownBy(() -> OpenLoopGenerator.builder(clock).rate(0))
        .hasMessage("rate must be at least 1 but was 0");
    assertThatThrownBy(() -> OpenLoopGenerator.builder(clock).warmUp(Duration.ofSeconds(-1)))
        .hasMessage("warmUp must not be negative but was PT-1S");
    assertThatThrownBy(
            () -> OpenLoopGenerator.builder(clock).duration(Duration.ofSeconds(1)).build())
        .hasMessage("rate is required");
    assertThatThrownBy(() -> OpenLoopGenerator.builder(clock).rate(1).build())
        .hasMessage("duration is required");
    assertThatThrownBy(
            () -> OpenLoopGenerator.builder(clock).rate(1).duration(Duration.ZERO).build())
        .hasMessage("sink is required");
  }

  @Test
  void theStartIsFixedOnce() throws InterruptedException {
    OpenLoopGenerator g = generator().build();
    g.run();

    assertThatThrownBy(g::run)
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("the load's start is already fixed");
    assertThat(new LoadClock(ticker).offset(ticker.nanoTime())).isEqualTo(-1);
  }
}
