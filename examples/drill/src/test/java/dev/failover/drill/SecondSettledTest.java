package dev.failover.drill;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The console prints a second only once it is settled: every call due in it was handed to the
 * client and has ended. A call that overruns its deadline on a busy machine holds its second back
 * instead of being left out of the line.
 */
class SecondSettledTest {
  private static final Duration DURATION = Duration.ofSeconds(3);
  private static final Phase ALL = new Phase("all", Duration.ZERO, DURATION, "");

  private final Stats stats =
      new Stats("fake", List.of(ALL), List.of("z"), DURATION, Duration.ofSeconds(2));

  private static long ms(long millis) {
    return Duration.ofMillis(millis).toNanos();
  }

  @Test
  void aSecondSettlesOnceACallDueAfterItWasHandedAndAllOfItsCallsEnded() {
    stats.handed(ms(500));
    stats.handed(ms(900));
    assertThat(stats.secondSettled(0)).as("more calls of second 0 may come").isFalse();
    stats.handed(ms(1_100));
    stats.call(ms(900), ms(5), Stats.Result.OK);
    assertThat(stats.secondSettled(0)).as("the call due at 0.5 s is in flight").isFalse();
    stats.call(ms(500), ms(1_200), Stats.Result.FAILED);
    assertThat(stats.secondSettled(0)).isTrue();
    assertThat(stats.second(0).calls()).isEqualTo(2L);
    assertThat(stats.secondSettled(1)).isFalse();
  }

  @Test
  void aCallNotSentForLackOfRoomStillSettlesItsSecond() {
    stats.handed(ms(200));
    stats.call(ms(200), 0, Stats.Result.NOT_SENT);
    stats.handed(ms(1_000));
    assertThat(stats.secondSettled(0)).isTrue();
  }

  @Test
  void theTailsSecondsSettleTheSameWay() {
    stats.handed(ms(3_200));
    stats.call(ms(3_200), ms(4), Stats.Result.OK);
    assertThat(stats.tailSecondSettled(0))
        .as("more calls of the tail's first second may come")
        .isFalse();
    stats.handed(ms(4_000));
    assertThat(stats.tailSecondSettled(0)).isTrue();
    assertThat(stats.tailSecondSettled(1)).as("its call due at 4.0 s is in flight").isFalse();
    // The drill's own last second settles once the tail's first call is handed.
    assertThat(stats.secondSettled(2)).isTrue();
  }
}
