package dev.failover;

/**
 * Finagle-style retry budget: one bucket per client for every extra attempt (retries, hedges,
 * OkHttp's own silent retries). Each call deposits {@code ratio} of a token; each extra attempt
 * withdraws one; deposits and withdrawals older than the window are forgotten; a reserve of {@code
 * minPerSecond} tokens for each second of the window lets a quiet client still retry.
 *
 * <p>So the window that ends at each extra attempt holds at most {@code ratio x calls +
 * minPerSecond x windowSeconds} of them (as Finagle's budget, judged over its TTL). A window that
 * holds the retries after traffic dropped and not the busier calls that paid for them holds more.
 *
 * <p>Every call deposits, so a deposit takes no lock (as in twitter/util's {@code TokenBucket},
 * where {@code put} is a lock-free add and only {@code tryGet} synchronises): deposits and
 * withdrawals are counters of a {@link SlidingWindow} of 10 slots. Only taking a token locks, so
 * that two extra attempts never both take the last one.
 */
final class RetryBudget {
  private static final int SLOTS = 10;
  private static final int DEPOSITS = 0;
  private static final int WITHDRAWALS = 1;

  private final double ratio;
  private final double reserve;
  private final SlidingWindow window;

  /**
   * @param ratio tokens deposited per call, 0 to 1
   * @param minPerSecond retries allowed per second regardless of traffic
   * @param windowNanos how long deposits and withdrawals count
   */
  public RetryBudget(double ratio, int minPerSecond, long windowNanos) {
    this.ratio = ratio;
    this.reserve = minPerSecond * (windowNanos / 1e9);
    this.window = new SlidingWindow(SLOTS, 2, Math.max(1, windowNanos / SLOTS));
  }

  /** Records a call. Lock-free. */
  public void deposit(long now) {
    window.add(now, DEPOSITS, 1);
  }

  /**
   * The latest time a withdrawal was judged at. A caller reads its time before it gets here (before
   * the locks of a retry storm): one whose reading is older than another's that withdrew first
   * would judge the window that ended before that withdrawal, and take a token already taken.
   */
  private long latest = Long.MIN_VALUE;

  /**
   * Takes one token for an extra attempt if there is one; returns whether it was taken. Judged at
   * {@code now}, or at the latest time a withdrawal was judged at if that is later.
   */
  public synchronized boolean tryWithdraw(long now) {
    long at = latest == Long.MIN_VALUE || now - latest > 0 ? now : latest;
    latest = at;
    if (balance(at) < 1) {
      return false;
    }
    // Recorded at the caller's time, where a refund (which knows only that time) looks for it; at
    // the time judged if that slot has moved on: no token without its record.
    return window.add(now, WITHDRAWALS, 1) || window.add(at, WITHDRAWALS, 1);
  }

  /**
   * Gives back a token taken by {@link #tryWithdraw} at {@code withdrawnAt} for an attempt that was
   * not sent: from the slot it was taken in, even if time has moved on to another (a retry's
   * backoff); nothing if that slot has already left the window, which forgot the withdrawal.
   */
  public void refund(long withdrawnAt) {
    window.decrementIfPositive(withdrawnAt, WITHDRAWALS);
  }

  /** Takes {@code n} tokens for extra attempts that were made anyway (OkHttp's silent retries). */
  public void charge(long now, int n) {
    window.add(now, WITHDRAWALS, n);
  }

  /** Returns the tokens available now. */
  public double balance(long now) {
    // One pass over the slots: a slot moving on between two passes would count its deposits and
    // not its withdrawals.
    long[] sums = new long[2];
    window.sums(now, sums);
    return reserve + ratio * sums[DEPOSITS] - sums[WITHDRAWALS];
  }

  /** Returns the tokens the window would hold with nothing withdrawn. */
  public double capacity(long now) {
    return reserve + ratio * window.sum(now, DEPOSITS);
  }
}
