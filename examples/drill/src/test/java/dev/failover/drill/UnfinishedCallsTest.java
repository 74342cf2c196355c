package dev.failover.drill;

import static org.assertj.core.api.Assertions.assertThat;

import dev.failover.testkit.load.FakeTicker;
import dev.failover.testkit.load.LoadClock;
import dev.failover.testkit.load.MachineLoad;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * Calls that never ended, and calls the load never sent, are in no figure: the reports say so, per
 * client and phase, instead of dropping them silently.
 */
class UnfinishedCallsTest {
  static final long MS = 1_000_000L;
  static final Duration LENGTH = Duration.ofSeconds(2);
  static final List<Phase> PHASES =
      List.of(
          new Phase("first", Duration.ZERO, Duration.ofSeconds(1), ""),
          new Phase("second", Duration.ofSeconds(1), LENGTH, ""));

  /** Answers every call at once but the one due at {@code lostAt}, which never ends. */
  static final class LosingClient extends ClientDriver {
    private final long lostAt;

    LosingClient(Stats stats, LoadClock clock, long lostAt) {
      super("sdk", stats, clock, 100);
      this.lostAt = lostAt;
    }

    @Override
    void start(String path, long offsetNanos, Consumer<Stats.Result> done) {
      if (offsetNanos != lostAt) {
        done.accept(Stats.Result.OK);
      }
    }

    @Override
    public void close() {}
  }

  @Test
  void aCallThatNeverEndsIsCountedUnfinishedAndReported() throws Exception {
    FakeTicker ticker = new FakeTicker();
    LoadClock clock = new LoadClock(ticker);
    clock.start(ticker.nanoTime());
    Stats stats = new Stats("sdk", PHASES, List.of("z"), LENGTH);
    GeneratorLag lag = new GeneratorLag(PHASES, LENGTH);
    LosingClient client = new LosingClient(stats, clock, 1_400 * MS);
    // 10 calls due 0.0 s to 1.8 s (the load was to send 20: it was stopped at 2.0 s).
    for (int i = 0; i < 10; i++) {
      long offset = i * 200 * MS;
      lag.sent(offset, 0);
      client.send("/x", clock.start() + offset, offset);
    }
    assertThat(client.awaitIdle(Duration.ZERO)).as("one call is still in flight").isFalse();

    assertThat(stats.phase("first").unfinished()).isZero();
    assertThat(stats.phase("second").unfinished()).isEqualTo(1);
    assertThat(stats.phase("second").calls()).isEqualTo(4);
    assertThat(stats.phase("second").handed()).isEqualTo(5);
    assertThat(stats.second(1).unfinished()).isEqualTo(1);
    assertThat(stats.total().unfinished()).isEqualTo(1);
    assertThat(stats.total().calls()).isEqualTo(9);

    StringBuilder json = new StringBuilder();
    JsonReport.bucket(json, stats.phase("second"), "\"phase\": \"second\"", List.of("z"));
    assertThat(json.toString())
        .contains("\"calls\": 4, \"ok\": 4, \"failed\": 0, \"unfinished\": 1");

    DrillResult r =
        new DrillResult(
            Options.parse(),
            Provenance.current(),
            "embedded",
            "test",
            "r",
            "z",
            List.of("z"),
            PHASES,
            List.of(stats),
            List.of(),
            Duration.ofSeconds(3),
            MachineLoad.now(),
            MachineLoad.now(),
            lag,
            20,
            List.of(),
            null);
    assertThat(TextReport.unaccounted(r))
        .containsExactly(
            "sdk: 1 call never ended (still in flight when the drill stopped waiting; in no figure"
                + " above): second 1",
            "The load was stopped before its end: 10 of its 20 calls were never sent (in no figure"
                + " above).");
    assertThat(JsonReport.render(r)).contains("\"planned\": 20");
    assertThat(HtmlReport.render(r)).contains("sdk: 1 call never ended");
  }

  @Test
  void nothingToSayWhenEveryCallWasSentAndEnded() throws Exception {
    FakeTicker ticker = new FakeTicker();
    LoadClock clock = new LoadClock(ticker);
    clock.start(ticker.nanoTime());
    Stats stats = new Stats("sdk", PHASES, List.of("z"), LENGTH);
    GeneratorLag lag = new GeneratorLag(PHASES, LENGTH);
    LosingClient client = new LosingClient(stats, clock, -1);
    for (int i = 0; i < 10; i++) {
      long offset = i * 200 * MS;
      lag.sent(offset, 0);
      client.send("/x", clock.start() + offset, offset);
    }

    assertThat(stats.total().unfinished()).isZero();
    DrillResult r =
        new DrillResult(
            Options.parse(),
            Provenance.current(),
            "embedded",
            "test",
            "r",
            "z",
            List.of("z"),
            PHASES,
            List.of(stats),
            List.of(),
            Duration.ofSeconds(3),
            MachineLoad.now(),
            MachineLoad.now(),
            lag,
            10,
            List.of(),
            null);
    assertThat(TextReport.unaccounted(r)).isEmpty();
  }
}
