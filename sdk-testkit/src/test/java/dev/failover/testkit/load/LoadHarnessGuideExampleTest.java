package dev.failover.testkit.load;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The example of docs/testing.md's "Load harness", compiled and run on the real clock: one second
 * of load. Only counts are checked, never a latency, so a busy machine cannot fail it.
 */
class LoadHarnessGuideExampleTest {
  final AtomicLong served = new AtomicLong();

  /** Stands for the client under test. */
  void call() {
    served.incrementAndGet();
  }

  @Test
  void oneSecondOfOpenLoopLoad() throws InterruptedException {
    // region load-harness
    LoadClock clock = new LoadClock(Ticker.system());
    LatencyRecorder latency = new LatencyRecorder();
    Lateness lateness = new Lateness();
    OpenLoopGenerator load =
        OpenLoopGenerator.builder(clock)
            .rate(50)
            .warmUp(Duration.ofMillis(200))
            .duration(Duration.ofSeconds(1))
            .sink(
                (due, offset) -> {
                  call(); // the client's call; hand it off if it blocks
                  if (offset >= 0) { // the warm-up's calls have negative offsets
                    latency.record(clock.now() - due); // from the due time
                  }
                })
            .lag((offset, lag) -> lateness.sent(lag))
            .build();
    MachineLoad before = MachineLoad.now();
    load.run(); // returns when the last call is sent
    String summary =
        String.format(
            Locale.ROOT,
            "p99 %.1f ms; %d of %d calls sent late; %s",
            latency.percentileMillis(99),
            lateness.summary().late(),
            lateness.summary().calls(),
            before.describe());
    // endregion

    assertThat(served).hasValue(60);
    assertThat(latency.count()).isEqualTo(50);
    assertThat(lateness.summary().calls()).isEqualTo(50);
    assertThat(summary).contains(" of 50 calls sent late; load average ");
  }
}
