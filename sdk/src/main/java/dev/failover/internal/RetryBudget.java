package dev.failover.internal;

import java.util.concurrent.atomic.LongAdder;

/**
 * Finagle-style retry budget: one bucket per client for every extra attempt (retries, hedges,
 * OkHttp's own silent retries). Each call deposits {@code ratio} of a token; each extra attempt
 * withdraws one; deposits and withdrawals older than the window are forgotten; a reserve of {@code
 * minPerSecond} tokens for each second of the window lets a quiet client still retry.
 *
 * <p>So in any window, extra attempts never exceed {@code ratio x calls + minPerSecond x
 * windowSeconds}.
 *
 * <p>Every call deposits, so a deposit takes no lock (as in twitter/util's {@code TokenBucket},
 * where {@code put} is a lock-free add and only {@code tryGet} synchronises): it adds to the
 * current slot's {@link LongAdder} once the slot is current. Only the first deposit of a new slot
 * period, withdrawals (extra attempts, rare) and reads lock. A deposit that read the slot's index
 * just before another thread rotated the slot may land in the new period: one call counted up to
 * one window late, never lost or doubled.
 */
public final class RetryBudget {
  private static final int SLOTS = 10;

  private final double ratio;
  private final double reserve;
  private final long slotNanos;

  /** The slot period each slot holds; written under the lock, after its counters were reset. */
  private final long[] slotIndex = new long[SLOTS];

  private final LongAdder[] deposits = new LongAdder[SLOTS];

  // Guarded by this.
  private final long[] withdrawals = new long[SLOTS];

  /**
   * @param ratio tokens deposited per call, 0 to 1
   * @param minPerSecond retries allowed per second regardless of traffic
   * @param windowNanos how long deposits and withdrawals count
   */
  public RetryBudget(double ratio, int minPerSecond, long windowNanos) {
    this.ratio = ratio;
    this.slotNanos = Math.max(1, windowNanos / SLOTS);
    this.reserve = minPerSecond * (windowNanos / 1e9);
    java.util.Arrays.fill(slotIndex, Long.MIN_VALUE);
    for (int i = 0; i < SLOTS; i++) {
      deposits[i] = new LongAdder();
    }
  }

  /** Records a call: lock-free unless it is the first of a new slot period. */
  public void deposit(long now) {
    long index = Math.floorDiv(now, slotNanos);
    int s = (int) Math.floorMod(index, (long) SLOTS);
    if (indexOf(s) != index) {
      synchronized (this) {
        slot(now);
      }
    }
    deposits[s].increment();
  }

  /** Takes one token for an extra attempt if there is one; returns whether it was taken. */
  public synchronized boolean tryWithdraw(long now) {
    int s = slot(now);
    if (balanceLocked(now) < 1) {
      return false;
    }
    withdrawals[s]++;
    return true;
  }

  /** Gives back a token taken by {@link #tryWithdraw} for an attempt that was not sent. */
  public synchronized void refund(long now) {
    int s = slot(now);
    if (withdrawals[s] > 0) {
      withdrawals[s]--;
    }
  }

  /** Takes {@code n} tokens for extra attempts that were made anyway (OkHttp's silent retries). */
  public synchronized void charge(long now, int n) {
    withdrawals[slot(now)] += n;
  }

  /** Returns the tokens available now. */
  public synchronized double balance(long now) {
    slot(now);
    return balanceLocked(now);
  }

  /** Returns the tokens the window would hold with nothing withdrawn. */
  public synchronized double capacity(long now) {
    long current = Math.floorDiv(now, slotNanos);
    long d = 0;
    for (int i = 0; i < SLOTS; i++) {
      if (indexOf(i) > current - SLOTS) {
        d += deposits[i].sum();
      }
    }
    return reserve + ratio * d;
  }

  private double balanceLocked(long now) {
    long current = Math.floorDiv(now, slotNanos);
    long d = 0;
    long w = 0;
    for (int i = 0; i < SLOTS; i++) {
      if (indexOf(i) > current - SLOTS) {
        d += deposits[i].sum();
        w += withdrawals[i];
      }
    }
    return reserve + ratio * d - w;
  }

  /** Makes {@code now}'s slot current, resetting it if it held an older period. Under the lock. */
  private int slot(long now) {
    long index = Math.floorDiv(now, slotNanos);
    int s = (int) Math.floorMod(index, (long) SLOTS);
    if (indexOf(s) != index) {
      deposits[s].reset();
      withdrawals[s] = 0;
      INDEX.setRelease(slotIndex, s, index);
    }
    return s;
  }

  private long indexOf(int s) {
    return (long) INDEX.getAcquire(slotIndex, s);
  }

  private static final java.lang.invoke.VarHandle INDEX =
      java.lang.invoke.MethodHandles.arrayElementVarHandle(long[].class);
}
