package dev.failover;

import java.util.concurrent.TimeUnit;

/**
 * The hedge delay and the hedges' own budget.
 *
 * <p>The base delay is fixed, or adaptive: the {@code 1 - maxExtraLoad} quantile of recent
 * successful (and timed-out or overtaken) attempt latency over 30 s, recomputed at most once a
 * second. When the hedge budget binds, hedges go to the slowest calls instead of to whichever call
 * comes next: the delay a hedge must wait is raised to the latency percentile the tokens left can
 * afford, {@code 1 - maxExtraLoad x level} where {@code level} is the share of the bucket still
 * full. A hedge that is due but not yet affordable is not refused: it waits until its attempt is
 * that slow. So a burst of calls crossing the base delay together (a fan-out, a hiccup) cannot
 * drain the bucket and leave the real stragglers unhedged.
 */
final class Hedger {
  static final long SECOND = TimeUnit.SECONDS.toNanos(1);
  static final int MIN_SAMPLES = 20;

  /** Bucket levels at which the affordable delay is tabulated, highest first. */
  private static final double[] LEVELS = {1, 0.5, 0.25, 0.1, 0.05, 0.02, 0.01};

  final HedgePolicy policy;
  private final LatencyWindow window = new LatencyWindow(30, SECOND);
  private final RetryBudget budget;
  private volatile long delayNanos;

  /** The delay a hedge must wait at each of {@link #LEVELS}; recomputed with the base delay. */
  private volatile long[] affordable;

  private volatile long computedAt;

  public Hedger(HedgePolicy policy, long now) {
    this.policy = policy;
    this.budget = new RetryBudget(policy.maxExtraLoad(), 0, TimeUnit.SECONDS.toNanos(10));
    this.delayNanos = policy.delay().toNanos();
    this.affordable = new long[LEVELS.length];
    java.util.Arrays.fill(affordable, delayNanos);
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

  /** Records an attempt's latency (successes, timeouts and overtaken attempts). */
  public void record(long nanos, long now) {
    if (policy.enabled()) {
      window.record(nanos, now);
    }
  }

  /** The current base hedge delay. */
  public long delayNanos(long now) {
    recompute(now);
    return delayNanos;
  }

  /**
   * How long an attempt must have run before a hedge of it may be sent now: the base delay while
   * the bucket is at least half full, then the latency percentile the tokens left can afford.
   */
  long requiredDelayNanos(long now) {
    recompute(now);
    double capacity = budget.capacity(now);
    double level = capacity <= 0 ? 0 : Math.max(0, budget.balance(now)) / capacity;
    long[] table = affordable;
    long required = table[0];
    for (int i = 0; i < LEVELS.length; i++) {
      if (level < LEVELS[i]) {
        required = table[i];
      }
    }
    return Math.max(delayNanos, required);
  }

  private void recompute(long now) {
    if (now - computedAt < SECOND) {
      return;
    }
    synchronized (this) {
      if (now - computedAt < SECOND) {
        return;
      }
      if (policy.mode() == HedgePolicy.Mode.ADAPTIVE) {
        long q = window.quantile(1 - policy.maxExtraLoad(), now, MIN_SAMPLES);
        if (q > 0) {
          delayNanos = Math.max(q, policy.minDelay().toNanos());
        }
      }
      long[] table = new long[LEVELS.length];
      for (int i = 0; i < LEVELS.length; i++) {
        long q = window.quantile(1 - policy.maxExtraLoad() * LEVELS[i], now, MIN_SAMPLES);
        table[i] = Math.max(delayNanos, q);
      }
      affordable = table;
      computedAt = now;
    }
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
