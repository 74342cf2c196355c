package dev.failover.testkit.load;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/** Latencies in microseconds, three significant digits, clamped to 1 µs and 10 minutes. */
class LatencyRecorderTest {
  static final long MS = 1_000_000L;

  final LatencyRecorder r = new LatencyRecorder();

  @Test
  void percentilesAreInMilliseconds() {
    for (int i = 1; i <= 1000; i++) {
      r.record(i * MS);
    }

    assertThat(r.count()).isEqualTo(1000);
    assertThat(r.percentileMillis(50)).isCloseTo(500, within(0.5));
    assertThat(r.percentileMillis(99)).isCloseTo(990, within(1.0));
    assertThat(r.maxMillis()).isCloseTo(1000, within(1.0));
    assertThat(r.countAtOrAbove(900 * MS)).isEqualTo(101);
  }

  @Test
  void anEmptyRecorderSaysZero() {
    assertThat(r.count()).isZero();
    assertThat(r.percentileMillis(99)).isZero();
    assertThat(r.maxMillis()).isZero();
    assertThat(r.countAtOrAbove(1)).isZero();
  }

  @Test
  void latenciesOutOfRangeAreClamped() {
    r.record(-5);
    r.record(3_600_000 * MS);

    assertThat(r.count()).isEqualTo(2);
    assertThat(r.percentileMillis(0)).isCloseTo(0.001, within(0.0001));
    assertThat(r.maxMillis()).isCloseTo(600_000, within(600.0));
  }
}
