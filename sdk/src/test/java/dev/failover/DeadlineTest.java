package dev.failover;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.failover.testkit.FakeZones;
import dev.failover.testkit.ZoneFault;
import java.time.Duration;
import okhttp3.Request;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Deadline arithmetic on a fake clock: time passes only while an attempt runs. */
class DeadlineTest {

  @RegisterExtension static FakeZones zones = Zones3.zones();

  private final FakeClock clock = new FakeClock();

  /**
   * Every attempt "takes" {@code step} of fake time: the clock moves while the attempt runs (in an
   * interceptor on the attempt's thread), so the attempt ends {@code step} after it started.
   */
  private okhttp3.OkHttpClient stepping(Duration step) {
    return new okhttp3.OkHttpClient.Builder()
        .addInterceptor(
            chain -> {
              clock.advance(step);
              return chain.proceed(chain.request());
            })
        .build();
  }

  /** Every zone refuses; the client's deadline is 1 s of the fake clock. */
  private FailoverClient.Builder refusedForOneSecond() {
    zones.fail(ZoneFault.refuse());
    return Zones3.client(zones).clock(clock).deadline(Duration.ofSeconds(1));
  }

  private static Request get() {
    return new Request.Builder().url("http://directory/users/1").build();
  }

  @Test
  void noAttemptStartsWithLessThanTheMinimumTimeLeft() {
    try (FailoverClient client =
        refusedForOneSecond()
            .minAttemptTime(Duration.ofMillis(300))
            .backoff(Duration.ZERO, Duration.ZERO)
            .okHttpClient(stepping(Duration.ofMillis(400)))
            .build()) {
      // 400 ms, 800 ms: then 200 ms remain, less than the 300 ms minimum.
      assertThatThrownBy(() -> client.newCall(get()).execute())
          .isInstanceOfSatisfying(
              FailoverException.class,
              e -> {
                assertThat(e.reason()).isEqualTo(FailoverException.Reason.DEADLINE_EXCEEDED);
                assertThat(e.attempts()).hasSize(2);
                assertThat(e.elapsed()).isEqualTo(Duration.ofMillis(800));
              });
    }
  }

  @Test
  void whenTheLastAttemptEndsAtTheDeadlineTheDeadlineIsTheReason() {
    try (FailoverClient client =
        refusedForOneSecond()
            .backoff(Duration.ZERO, Duration.ZERO)
            .okHttpClient(stepping(Duration.ofMillis(400)))
            .build()) {
      // 400 ms, 800 ms, then the third and last attempt runs to 1,200 ms: past the deadline.
      assertThatThrownBy(() -> client.newCall(get()).execute())
          .isInstanceOfSatisfying(
              FailoverException.class,
              e -> {
                assertThat(e.attempts()).hasSize(3);
                assertThat(e.reason()).isEqualTo(FailoverException.Reason.DEADLINE_EXCEEDED);
              });
    }
  }

  @Test
  void aRetryWhoseBackoffWouldPassTheDeadlineIsNotScheduled() {
    try (FailoverClient client =
        refusedForOneSecond()
            .backoff(Duration.ofSeconds(5), Duration.ofSeconds(5))
            .random(new java.util.Random(1))
            .okHttpClient(stepping(Duration.ofMillis(900)))
            .build()) {
      assertThatThrownBy(() -> client.newCall(get()).execute())
          .isInstanceOfSatisfying(
              FailoverException.class,
              e -> {
                // Full jitter draws in [0, 5 s]; only 100 ms remain, so almost surely no retry.
                assertThat(e.attempts()).hasSize(1);
                assertThat(e.reason()).isEqualTo(FailoverException.Reason.DEADLINE_EXCEEDED);
              });
    }
  }

  @Test
  void aRequestCanCarryItsOwnDeadline() {
    zones.fail(ZoneFault.refuse());
    try (FailoverClient client =
        Zones3.client(zones)
            .clock(clock)
            .deadline(Duration.ofSeconds(10))
            .backoff(Duration.ZERO, Duration.ZERO)
            .okHttpClient(stepping(Duration.ofMillis(400)))
            .build()) {
      Request request =
          new Request.Builder()
              .url("http://directory/users/1")
              .tag(RequestOptions.class, RequestOptions.ofDeadline(Duration.ofMillis(500)))
              .build();
      assertThatThrownBy(() -> client.newCall(request).execute())
          .isInstanceOfSatisfying(
              FailoverException.class, e -> assertThat(e.attempts()).hasSize(2));
      // The same options as the request's untyped tag (tag(Object)): the same deadline.
      Request untyped =
          new Request.Builder()
              .url("http://directory/users/1")
              .tag(RequestOptions.ofDeadline(Duration.ofMillis(500)))
              .build();
      assertThatThrownBy(() -> client.newCall(untyped).execute())
          .isInstanceOfSatisfying(
              FailoverException.class, e -> assertThat(e.attempts()).hasSize(2));
    }
  }

  /** A ticker's origin is arbitrary: near the end of its range, a deadline past the wrap fits. */
  @Test
  void aDeadlineAcrossTheTickersWrapStillFits() {
    long now = Long.MAX_VALUE - 5_000_000_000L; // the wrap comes in 5 s
    Deadline d = Deadline.after(now, 10_000_000_000L); // 10 s: past the wrap
    assertThat(d.remaining(now)).isEqualTo(10_000_000_000L);
    assertThat(d.fits(now, 100_000_000L, 100_000_000L)).isTrue();
    assertThat(d.fits(now, 9_950_000_000L, 100_000_000L)).isFalse();
  }
}
