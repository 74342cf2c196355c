package dev.failover.testkit.load;

import java.util.concurrent.locks.LockSupport;

/** {@link System#nanoTime()}, and {@link LockSupport#parkNanos(long)} to wait. */
enum SystemTicker implements Ticker {
  INSTANCE;

  @Override
  public long nanoTime() {
    return System.nanoTime();
  }

  @Override
  public void parkUntil(long deadlineNanos) throws InterruptedException {
    long left;
    while ((left = deadlineNanos - System.nanoTime()) > 0) {
      LockSupport.parkNanos(left);
      if (Thread.interrupted()) {
        throw new InterruptedException("load clock");
      }
    }
  }
}
