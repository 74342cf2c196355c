package dev.failover;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Random;
import org.junit.jupiter.api.Test;

class BudgetBackoffTest {
  private final FakeClock clock = new FakeClock();

  @Test
  void budgetAllowsRatioOfCallsPlusReserve() {
    RetryBudget budget = new RetryBudget(0.1, 1, Duration.ofSeconds(10).toNanos());
    // Reserve: 1 per second x 10 s.
    assertThat(budget.balance(clock.nanos())).isEqualTo(10.0);
    for (int i = 0; i < 100; i++) {
      budget.deposit(clock.nanos());
    }
    assertThat(budget.balance(clock.nanos())).isEqualTo(20.0);
    int granted = 0;
    while (budget.tryWithdraw(clock.nanos())) {
      granted++;
    }
    assertThat(granted).isEqualTo(20);
    assertThat(budget.tryWithdraw(clock.nanos())).isFalse();
  }

  /**
   * A caller reads its time before the locks of a retry storm: one whose reading fell in the slot
   * before another's that emptied the budget judged the window that ended before those withdrawals,
   * and took tokens already taken; one whose reading was a window old had its withdrawal dropped
   * and took a token that was never recorded.
   */
  @Test
  void aWithdrawalJudgedAtAnOlderTimeThanTheLastTakesNoTokenAlreadyTaken() {
    RetryBudget budget = new RetryBudget(0, 1, Duration.ofSeconds(10).toNanos());
    long start = clock.nanos();
    long fresh = start + Duration.ofMillis(1_500).toNanos();
    int granted = 0;
    while (budget.tryWithdraw(fresh)) {
      granted++;
    }
    assertThat(granted).isEqualTo(10); // the reserve: 1 a second for 10 s
    assertThat(budget.tryWithdraw(start + Duration.ofMillis(900).toNanos())).isFalse();
    assertThat(budget.tryWithdraw(start - Duration.ofSeconds(9).toNanos())).isFalse();
    assertThat(budget.balance(fresh)).isZero();
  }

  /** A token taken by a caller with an older time goes back when that caller refunds it. */
  @Test
  void aTokenTakenAtAnOlderTimeThanTheLastWithdrawalIsRefundedByThatTime() {
    RetryBudget budget = new RetryBudget(0, 1, Duration.ofSeconds(10).toNanos());
    long start = clock.nanos();
    long fresh = start + Duration.ofMillis(1_500).toNanos();
    long stale = start + Duration.ofMillis(900).toNanos();
    assertThat(budget.tryWithdraw(fresh)).isTrue();
    assertThat(budget.tryWithdraw(stale)).isTrue();
    assertThat(budget.balance(fresh)).isEqualTo(8.0);
    budget.refund(stale); // its retry was never sent
    assertThat(budget.balance(fresh)).isEqualTo(9.0);
  }

  @Test
  void budgetForgetsOldCallsAndRetries() {
    RetryBudget budget = new RetryBudget(0.2, 0, Duration.ofSeconds(10).toNanos());
    for (int i = 0; i < 50; i++) {
      budget.deposit(clock.nanos());
    }
    assertThat(budget.balance(clock.nanos())).isEqualTo(10.0);
    for (int i = 0; i < 10; i++) {
      assertThat(budget.tryWithdraw(clock.nanos())).isTrue();
    }
    assertThat(budget.tryWithdraw(clock.nanos())).isFalse();
    clock.advance(Duration.ofSeconds(5));
    assertThat(budget.balance(clock.nanos())).isEqualTo(0.0);
    clock.advance(Duration.ofSeconds(6));
    assertThat(budget.balance(clock.nanos())).isEqualTo(0.0);
    budget.deposit(clock.nanos());
    assertThat(budget.balance(clock.nanos())).isEqualTo(0.2);
  }

  @Test
  void aRefundGoesBackToTheSlotItsTokenWasTakenFrom() {
    RetryBudget budget = new RetryBudget(0, 1, Duration.ofSeconds(10).toNanos());
    long takenAt = clock.nanos();
    assertThat(budget.balance(takenAt)).isEqualTo(10.0);
    assertThat(budget.tryWithdraw(takenAt)).isTrue();
    // A retry's backoff crosses into the next of the window's 1 s slots before the token is
    // given back: it still comes back.
    clock.advance(Duration.ofMillis(1_500));
    budget.refund(takenAt);
    assertThat(budget.balance(clock.nanos())).isEqualTo(10.0);
    // A refund for a token whose slot now counts a later period gives nothing: the window forgot
    // that withdrawal, and the slot's withdrawals are another token's.
    long old = clock.nanos();
    assertThat(budget.tryWithdraw(old)).isTrue();
    clock.advance(Duration.ofSeconds(10)); // the same slot, ten periods on
    assertThat(budget.tryWithdraw(clock.nanos())).isTrue();
    assertThat(budget.balance(clock.nanos())).isEqualTo(9.0);
    budget.refund(old);
    assertThat(budget.balance(clock.nanos())).isEqualTo(9.0);
  }

  @Test
  void chargesForSilentRetriesCount() {
    RetryBudget budget = new RetryBudget(0.1, 1, Duration.ofSeconds(10).toNanos());
    budget.charge(clock.nanos(), 9);
    assertThat(budget.tryWithdraw(clock.nanos())).isTrue();
    assertThat(budget.tryWithdraw(clock.nanos())).isFalse();
  }

  @Test
  void backoffIsExponentialWithFullJitterAndACap() {
    Backoff b = new Backoff(Duration.ofMillis(25), Duration.ofMillis(250));
    assertThat(b.ceilingNanos(1)).isEqualTo(Duration.ofMillis(25).toNanos());
    assertThat(b.ceilingNanos(2)).isEqualTo(Duration.ofMillis(50).toNanos());
    assertThat(b.ceilingNanos(3)).isEqualTo(Duration.ofMillis(100).toNanos());
    assertThat(b.ceilingNanos(4)).isEqualTo(Duration.ofMillis(200).toNanos());
    assertThat(b.ceilingNanos(5)).isEqualTo(Duration.ofMillis(250).toNanos());
    assertThat(b.ceilingNanos(64)).isEqualTo(Duration.ofMillis(250).toNanos());
    Random r = new Random(3);
    long min = Long.MAX_VALUE;
    long max = 0;
    for (int i = 0; i < 10_000; i++) {
      long d = b.delayNanos(3, r);
      assertThat(d).isBetween(0L, Duration.ofMillis(100).toNanos());
      min = Math.min(min, d);
      max = Math.max(max, d);
    }
    // Full jitter spreads over the whole range.
    assertThat(min).isLessThan(Duration.ofMillis(5).toNanos());
    assertThat(max).isGreaterThan(Duration.ofMillis(95).toNanos());
  }

  @Test
  void zeroBackoffNeverWaits() {
    Backoff b = new Backoff(Duration.ZERO, Duration.ZERO);
    assertThat(b.delayNanos(1, new Random(1))).isZero();
  }

  @Test
  void retryAfterParsesSecondsAndDates() {
    long now = Instant.parse("2026-11-24T10:00:00Z").toEpochMilli();
    assertThat(Backoff.parseRetryAfter("7", now)).isEqualTo(Duration.ofSeconds(7));
    String date =
        DateTimeFormatter.RFC_1123_DATE_TIME.format(
            Instant.parse("2026-11-24T10:00:30Z").atZone(ZoneOffset.UTC));
    assertThat(Backoff.parseRetryAfter(date, now)).isEqualTo(Duration.ofSeconds(30));
    assertThat(Backoff.parseRetryAfter("soon", now)).isNull();
    assertThat(Backoff.parseRetryAfter(null, now)).isNull();
    assertThat(Backoff.parseRetryAfter(" ", now)).isNull();
  }
}
