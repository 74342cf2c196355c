package dev.failover.drill;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;

/**
 * The open-loop load, on one thread. First the warm-up: {@code warmUp x rate} unrecorded calls, one
 * every {@code 1 / rate} from the moment it is run (after the clients are built). Then the drill's
 * zero, {@code start}, is fixed: when the warm-up's last call is sent and its time is up, so that
 * neither a slow client build nor a late warm-up shifts the drill's calls. Call {@code i} of the
 * drill is due at {@code start + i / rate} and is sent then, whatever happened to earlier calls; if
 * the generator is late (its thread was not scheduled, the JVM paused), it sends the calls it owes
 * at once and records how late each was in {@link GeneratorLag}. The clients measure latency from
 * the due time, so a late generator cannot hide its own delay (no coordinated omission).
 *
 * <p>After the drill's calls, the fail-back tail: the same schedule goes on past the drill's end
 * for up to {@code tail}, one whole second at a time, for as long as the {@link Tail} says so; it
 * is asked at the start of each second of the tail, when that second's first call is due.
 */
final class LoadGenerator {
  /** Receives each call: its due time and its offset from the start (negative in the warm-up). */
  interface Sink {
    void send(long dueNanos, long offsetNanos);
  }

  /** Decides, second by second, whether the load goes on after the drill's end. */
  interface Tail {
    /**
     * Whether to send second {@code k} of the tail (0 first); asked on the generator's thread when
     * that second's first call is due, before it is sent. No ends the tail. Must return quickly.
     */
    boolean goOn(int k);
  }

  /** No tail. */
  static final Tail NO_TAIL = k -> false;

  private final DrillClock clock;
  private final int rate;
  private final long warmUpCalls;
  private final long calls;
  private final long endNanos;
  private final long firstTailCall;
  private final long tailEnd;
  private final Tail tail;
  private final Sink sink;
  private final GeneratorLag lag;
  private final LongConsumer onStart;
  private final AtomicLong pauseRequest = new AtomicLong();
  private volatile boolean stopped;

  /**
   * @param clock the drill's clock; the generator fixes its start
   * @param rate calls per second
   * @param warmUp how long the unrecorded warm-up lasts
   * @param duration how long the drill's load lasts
   * @param sink sends one call to every client
   * @param lag where the generator's own lateness is recorded
   * @param onStart told the start (as {@link DrillClock.Ticker#nanoTime()}) on the generator's
   *     thread, before the first call of the drill is sent; must return quickly
   */
  LoadGenerator(
      DrillClock clock,
      int rate,
      Duration warmUp,
      Duration duration,
      Sink sink,
      GeneratorLag lag,
      LongConsumer onStart) {
    this(clock, rate, warmUp, duration, Duration.ZERO, NO_TAIL, sink, lag, onStart);
  }

  /**
   * @param tailMax the longest fail-back tail after the drill's end, whole seconds; zero for none
   * @param tail asked at the start of each second of the tail whether to send it
   */
  LoadGenerator(
      DrillClock clock,
      int rate,
      Duration warmUp,
      Duration duration,
      Duration tailMax,
      Tail tail,
      Sink sink,
      GeneratorLag lag,
      LongConsumer onStart) {
    this.clock = clock;
    this.rate = rate;
    this.warmUpCalls = warmUp.toNanos() * rate / 1_000_000_000L;
    this.calls = duration.toNanos() * rate / 1_000_000_000L;
    this.endNanos = duration.toNanos();
    // The tail's calls are those due from the drill's end on, for tailMax.
    this.firstTailCall = ceilDiv(endNanos * rate, 1_000_000_000L);
    this.tailEnd = ceilDiv(duration.plus(tailMax).toNanos() * rate, 1_000_000_000L);
    this.tail = tail;
    this.sink = sink;
    this.lag = lag;
    this.onStart = onStart;
  }

  /** Calls of the drill, warm-up excluded. */
  long calls() {
    return calls;
  }

  private static long ceilDiv(long a, long b) {
    return (a + b - 1) / b;
  }

  /** When call {@code i} is due, from the schedule's zero. */
  long dueAfter(long i) {
    return i * 1_000_000_000L / rate;
  }

  /**
   * Sends the warm-up, fixes the start, sends the drill's calls, then the tail's for as long as the
   * {@link Tail} says so; on the calling thread.
   */
  void run() throws InterruptedException {
    DrillClock.Ticker ticker = clock.ticker();
    long zero = ticker.nanoTime();
    long planned = zero + dueAfter(warmUpCalls);
    for (long j = 0; j < warmUpCalls && !stopped; j++) {
      long due = zero + dueAfter(j);
      ticker.parkUntil(due);
      sink.send(due, due - planned);
    }
    ticker.parkUntil(planned);
    long start = Math.max(planned, ticker.nanoTime());
    clock.start(start);
    onStart.accept(start);
    for (long i = 0; i < calls && !stopped; i++) {
      send(start, i);
    }
    int second = -1;
    for (long i = firstTailCall; i < tailEnd && !stopped; i++) {
      int k = (int) ((dueAfter(i) - endNanos) / 1_000_000_000L);
      if (k != second) {
        second = k;
        ticker.parkUntil(start + dueAfter(i));
        if (!tail.goOn(k)) {
          return;
        }
      }
      send(start, i);
    }
  }

  private void send(long start, long i) throws InterruptedException {
    DrillClock.Ticker ticker = clock.ticker();
    long pause = pauseRequest.getAndSet(0);
    if (pause > 0) {
      ticker.parkUntil(ticker.nanoTime() + pause);
    }
    long offset = dueAfter(i);
    long due = start + offset;
    ticker.parkUntil(due);
    lag.sent(offset, ticker.nanoTime() - due);
    sink.send(due, offset);
  }

  /**
   * Asks the generator's thread to stop for {@code pause} before its next call: a pause of the
   * drill's own driving thread, as a stop-the-world pause or a starved thread would cause. The
   * calls due meanwhile are sent late, at once, and counted as late.
   */
  void pause(Duration pause) {
    pauseRequest.set(pause.toNanos());
  }

  /** Sends no more calls; a parked generator notices at its next call (interrupt its thread). */
  void stop() {
    stopped = true;
  }
}
