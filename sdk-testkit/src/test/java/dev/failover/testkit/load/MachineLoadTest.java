package dev.failover.testkit.load;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The machine's load in words; what the platform does not give is a question mark. */
class MachineLoadTest {
  @Test
  void describesTheThreeAveragesAndTheProcessors() {
    MachineLoad m = new MachineLoad(2, 1.524, 0.98, 0.4);

    assertThat(m.describe()).isEqualTo("load average 1.52 0.98 0.40 (1, 5, 15 min), 2 processors");
    assertThat(new MachineLoad(1, 0.5, Double.NaN, Double.NaN).describe())
        .isEqualTo("load average 0.50 ? ? (1, 5, 15 min), 1 processor");
  }

  @Test
  void busyWhenMoreRanThanThereAreProcessors() {
    assertThat(new MachineLoad(2, 2.5, 0, 0).busy()).isTrue();
    assertThat(new MachineLoad(2, 2.0, 9, 9).busy()).isFalse();
    assertThat(new MachineLoad(2, Double.NaN, 0, 0).busy()).isFalse();
  }

  @Test
  void nowCountsTheProcessorsAvailable() {
    MachineLoad m = MachineLoad.now();

    assertThat(m.processors()).isEqualTo(Runtime.getRuntime().availableProcessors());
    assertThat(m.averages()).matches("(\\?|[0-9]+\\.[0-9]{2})( (\\?|[0-9]+\\.[0-9]{2})){2}");
  }
}
