package dev.failover.drill;

import dev.failover.testkit.load.LoadClock;
import java.io.Closeable;
import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * One client under load: sends calls without waiting for them, bounds the calls in flight and
 * records every outcome in its {@link Stats}. A call that cannot be sent because too many are in
 * flight is counted as failed. Anything whose due time is before the drill's start (the warm-up) is
 * not recorded. Latency counts from the due time, by the drill's clock.
 */
abstract class ClientDriver implements Closeable {
  final String name;
  final Stats stats;
  final LoadClock clock;
  private final int maxInFlight;
  private final Semaphore inFlight;

  ClientDriver(String name, Stats stats, LoadClock clock, int maxInFlight) {
    this.name = name;
    this.stats = stats;
    this.clock = clock;
    this.maxInFlight = maxInFlight;
    this.inFlight = new Semaphore(maxInFlight);
  }

  /**
   * Sends one call now, due at {@code dueNanos} (by the drill's clock), {@code offset} from the
   * drill's start (negative in the warm-up, which is not recorded).
   */
  final void send(String path, long dueNanos, long offset) {
    if (offset >= 0) {
      stats.handed(offset);
    }
    if (!inFlight.tryAcquire()) {
      if (offset >= 0) {
        stats.call(offset, 0, Stats.Result.NOT_SENT);
      }
      return;
    }
    AtomicBoolean once = new AtomicBoolean();
    Consumer<Stats.Result> done =
        result -> {
          if (!once.compareAndSet(false, true)) {
            return;
          }
          long end = clock.now();
          try {
            if (offset >= 0) {
              stats.call(offset, end - dueNanos, result);
            }
          } finally {
            // Only once counted: awaitIdle() returning means every call ended is in the stats
            // (released first, the final lines were once printed a call short).
            inFlight.release();
          }
        };
    if (offset >= 0) {
      stats.started(clock.offset(clock.now()));
    }
    try {
      start(path, offset, done);
    } catch (RuntimeException e) {
      done.accept(Stats.Result.FAILED);
    }
  }

  /**
   * Starts one call asynchronously; calls {@code done} once when it ends.
   *
   * @param path the request path, such as {@code /api/v1/users/00u...}
   * @param offsetNanos its intended send time from the drill's start (negative in the warm-up)
   * @param done receives the outcome
   */
  abstract void start(String path, long offsetNanos, Consumer<Stats.Result> done);

  /** Waits until no call is in flight, at most {@code timeout}. */
  final boolean awaitIdle(Duration timeout) throws InterruptedException {
    if (inFlight.tryAcquire(maxInFlight, timeout.toNanos(), TimeUnit.NANOSECONDS)) {
      inFlight.release(maxInFlight);
      return true;
    }
    return false;
  }

  /** Records attempts if the call belongs to the drill (not the warm-up). */
  final void recordAttempts(long offsetNanos, int attempts, int retries, int hedges) {
    if (offsetNanos >= 0) {
      stats.attempts(offsetNanos, attempts, retries, hedges);
    }
  }

  /** Records a first attempt's zone if the call belongs to the drill (not the warm-up). */
  final void recordFirst(long offsetNanos, String zone) {
    if (offsetNanos >= 0) {
      stats.firstAttempt(offsetNanos, zone);
    }
  }

  @Override
  public abstract void close();
}
