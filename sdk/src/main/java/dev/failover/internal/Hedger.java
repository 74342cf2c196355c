package dev.failover.internal;

import dev.failover.HedgePolicy;
import java.util.concurrent.TimeUnit;

/**
 * The hedge delay and the hedges' own budget. The adaptive delay is the {@code 1 - maxExtraLoad}
 * quantile of recent successful (and timed-out or cancelled-loser) attempt latency over 30 s,
 * recomputed at most once a second.
 */
public final class Hedger {
  static final long SECOND = TimeUnit.SECONDS.toNanos(1);
  static final int MIN_SAMPLES = 20;

  final HedgePolicy policy;
  private final LatencyWindow window = new LatencyWindow(30, SECOND);
  private final RetryBudget budget;
  private volatile long delayNanos;
  private volatile long computedAt;

  public Hedger(HedgePolicy policy, long now) {
    this.policy = policy;
    this.budget = new RetryBudget(policy.maxExtraLoad(), 0, TimeUnit.SECONDS.toNanos(10));
    this.delayNanos = policy.delay().toNanos();
    this.computedAt = now;
  }

  public boolean enabled() {
    return policy.enabled();
  }

  void onCall(long now) {
    if (policy.enabled()) {
      budget.deposit(now);
    }
  }

  /** Records an attempt's latency (successes, timeouts and cancelled losers). */
  public void record(long nanos, long now) {
    if (policy.mode() == HedgePolicy.Mode.ADAPTIVE) {
      window.record(nanos, now);
    }
  }

  /** The current hedge delay. */
  public long delayNanos(long now) {
    if (policy.mode() != HedgePolicy.Mode.ADAPTIVE || now - computedAt < SECOND) {
      return delayNanos;
    }
    synchronized (this) {
      if (now - computedAt >= SECOND) {
        long q = window.quantile(1 - policy.maxExtraLoad(), now, MIN_SAMPLES);
        if (q > 0) {
          delayNanos = Math.max(q, policy.minDelay().toNanos());
        }
        computedAt = now;
      }
    }
    return delayNanos;
  }

  /** Takes a hedge token; the caller also takes one from the retry budget. */
  boolean tryAcquire(long now, RetryBudget retryBudget) {
    synchronized (this) {
      if (!budget.tryWithdraw(now)) {
        return false;
      }
      if (!retryBudget.tryWithdraw(now)) {
        budget.refund(now);
        return false;
      }
      return true;
    }
  }

  /** Gives back the tokens of a hedge that could not be sent. */
  void refund(long now, RetryBudget retryBudget) {
    synchronized (this) {
      budget.refund(now);
      retryBudget.refund(now);
    }
  }

  double tokens(long now) {
    return budget.balance(now);
  }
}
