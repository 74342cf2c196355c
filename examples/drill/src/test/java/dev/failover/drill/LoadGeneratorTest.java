package dev.failover.drill;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * The load clock on fake time: the schedule's zero is the drill's start, fixed after the clients
 * are built and the warm-up has ended; a late generator sends what it owes at once, counts it late,
 * and its calls' latency counts from their due time.
 */
class LoadGeneratorTest {
  static final long MS = 1_000_000L;
  static final long FAKE_SERVER = 5 * MS;
  static final Duration DURATION = Duration.ofSeconds(10);
  static final Phase ALL = new Phase("all", Duration.ZERO, DURATION, "");

  /**
   * Time that moves only when the generator waits, running the fake server's answers that fall due
   * meanwhile. One wait can be made to oversleep, as a descheduled thread or a paused JVM would.
   */
  static final class FakeTicker implements DrillClock.Ticker {
    private record Due(long at, long seq, Runnable action) {}

    private final PriorityQueue<Due> due =
        new PriorityQueue<>(Comparator.comparingLong(Due::at).thenComparingLong(Due::seq));
    private long now = 1_000_000 * MS;
    private long seq;
    private long stallFrom = Long.MAX_VALUE;
    private long stallFor;

    @Override
    public long nanoTime() {
      return now;
    }

    @Override
    public void parkUntil(long deadline) {
      long wake = deadline;
      if (deadline >= stallFrom) {
        wake = deadline + stallFor;
        stallFrom = Long.MAX_VALUE;
      }
      advanceTo(wake);
    }

    /** The first wait for a time at or after {@code from} wakes {@code late} after it. */
    void stall(long from, long late) {
      stallFrom = from;
      stallFor = late;
    }

    void advanceTo(long t) {
      while (!due.isEmpty() && due.peek().at() <= t) {
        Due d = due.poll();
        now = Math.max(now, d.at());
        d.action().run();
      }
      now = Math.max(now, t);
    }

    void at(long t, Runnable action) {
      due.add(new Due(t, seq++, action));
    }

    void drain() {
      while (!due.isEmpty()) {
        advanceTo(due.peek().at());
      }
    }
  }

  /** A client whose server answers every call {@link #FAKE_SERVER} after it is sent. */
  static final class FakeServerClient extends ClientDriver {
    private final FakeTicker ticker;

    FakeServerClient(Stats stats, DrillClock clock, FakeTicker ticker) {
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
  final DrillClock clock = new DrillClock(ticker);
  final Stats stats = new Stats("fake", List.of(ALL), List.of("z"), DURATION);
  final GeneratorLag lag = new GeneratorLag(List.of(ALL), DURATION);
  final FakeServerClient client = new FakeServerClient(stats, clock, ticker);
  final List<Sent> sent = new ArrayList<>();
  final List<Long> starts = new ArrayList<>();

  LoadGenerator generator(int rate) {
    return new LoadGenerator(
        clock,
        rate,
        Duration.ofSeconds(3),
        DURATION,
        (due, offset) -> {
          sent.add(new Sent(due, offset, ticker.nanoTime()));
          client.send("/x", due, offset);
        },
        lag,
        starts::add);
  }

  void run(LoadGenerator g) throws InterruptedException {
    g.run();
    ticker.drain();
  }

  @Test
  void aSlowClientBuildShiftsNoCall() throws InterruptedException {
    // Building the clients took 2.5 s, five times the 500 ms the old schedule allowed for.
    ticker.advanceTo(ticker.nanoTime() + 2500 * MS);
    long built = ticker.nanoTime();
    LoadGenerator g = generator(100);

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
    assertThat(lag.total()).isEqualTo(new GeneratorLag.Summary(1000, 0, 0));
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
    assertThat(lag.total()).isEqualTo(new GeneratorLag.Summary(1000, 29, 300 * MS));
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
    LoadGenerator[] g = new LoadGenerator[1];
    g[0] =
        new LoadGenerator(
            clock,
            100,
            Duration.ofSeconds(3),
            DURATION,
            (due, offset) -> {
              sent.add(new Sent(due, offset, ticker.nanoTime()));
              client.send("/x", due, offset);
              if (offset == 4000 * MS) {
                g[0].pause(HostSaturator.PAUSE);
              }
            },
            lag,
            starts::add);

    run(g[0]);

    // Held 300 ms after the call due at 4.00 s: calls due 4.01 s to 4.30 s left at 4.30 s.
    long start = clock.start();
    assertThat(sent.stream().filter(s -> s.at() == start + 4300 * MS)).hasSize(30);
    assertThat(lag.total()).isEqualTo(new GeneratorLag.Summary(1000, 28, 290 * MS));
  }

  @Test
  void theWarmUpAndTheDrillHaveRateTimesTheirLengthInCalls() {
    assertThat(generator(40).calls()).isEqualTo(400);
    assertThat(generator(3).dueAfter(1)).isEqualTo(333_333_333L);
    assertThat(generator(3).dueAfter(3)).isEqualTo(1_000_000_000L);
  }
}
