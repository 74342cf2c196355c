package dev.failover.testkit.load;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;
import org.jspecify.annotations.Nullable;

/**
 * An open-loop load on one thread, bounded in calls and time. First the warm-up: {@code warmUp x
 * rate} (rounded down) unrecorded calls, one every {@code 1 / rate} from the moment {@link #run()}
 * is called. Then the load's zero, its start, is fixed on the {@link LoadClock}: when the warm-up's
 * last call is sent and its time is up, so that neither a slow client build nor a late warm-up
 * shifts a call. Call {@code i} is due at {@code start + i / rate} and is sent then, whatever
 * happened to earlier calls; the load's calls are those due before {@code start + duration}, {@code
 * duration x rate} of them rounded up (a duration of 1.25 s at 2 per second sends the calls due at
 * 0, 0.5 and 1 s); if the generator is late (its thread was not scheduled, the JVM paused), it
 * sends the calls it owes at once and tells the {@link LagSink} how late each was. Measure latency
 * from the due time, so that a late generator cannot hide its own delay (no coordinated omission).
 *
 * <p>After the {@code duration}, an optional tail: the same schedule goes on for up to {@code
 * tailMax}, one whole second at a time, for as long as the {@link Tail} says so; it is asked at the
 * start of each second of the tail, when that second's first call is due.
 *
 * <pre>{@code
 * LoadClock clock = new LoadClock(Ticker.system());
 * Lateness late = new Lateness();
 * LatencyRecorder latency = new LatencyRecorder();
 * OpenLoopGenerator.builder(clock)
 *     .rate(200)
 *     .warmUp(Duration.ofSeconds(2))
 *     .duration(Duration.ofSeconds(30))
 *     .sink((due, offset) -> client.call(() -> latency.record(clock.now() - due)))
 *     .lag((offset, lag) -> late.sent(lag))
 *     .build()
 *     .run();
 * }</pre>
 */
public final class OpenLoopGenerator {
  /** Receives each call; on the generator's thread, so it must return quickly. */
  @FunctionalInterface
  public interface Sink {
    /**
     * Sends one call.
     *
     * @param dueNanos when the call was due, as {@link Ticker#nanoTime()}
     * @param offsetNanos the due time from the start; negative in the warm-up
     */
    void send(long dueNanos, long offsetNanos);
  }

  /** Told how late each call after the warm-up was sent, just before it is sent. */
  @FunctionalInterface
  public interface LagSink {
    /**
     * One call's lag.
     *
     * @param offsetNanos the call's due time from the start
     * @param lagNanos how long after its due time it is sent
     */
    void sent(long offsetNanos, long lagNanos);
  }

  /** Decides, second by second, whether the load goes on after its duration. */
  @FunctionalInterface
  public interface Tail {
    /**
     * Whether to send second {@code k} of the tail (0 first); asked on the generator's thread when
     * that second's first call is due, before it is sent. No ends the tail. Must return quickly.
     *
     * @param k the second of the tail, from 0
     * @return whether to send it
     */
    boolean goOn(int k);
  }

  private static final long SECOND = 1_000_000_000L;

  private final LoadClock clock;
  private final int rate;
  private final long warmUpCalls;
  private final long calls;
  private final long endNanos;
  private final long firstTailCall;
  private final long tailEnd;
  private final Tail tail;
  private final Sink sink;
  private final LagSink lag;
  private final LongConsumer onStart;
  private final AtomicLong pauseRequest = new AtomicLong();
  private volatile boolean stopped;

  private OpenLoopGenerator(Builder b, Duration duration, Sink sink) {
    this.clock = b.clock;
    this.rate = b.rate;
    this.warmUpCalls = b.warmUp.toNanos() * rate / SECOND;
    this.endNanos = duration.toNanos();
    // The load's calls are those due before the end: i / rate < duration, i.e. i < ceil(duration
    // x rate). The tail's are those due from the end on, for tailMax, so it starts where they stop.
    this.calls = ceilDiv(endNanos * rate, SECOND);
    this.firstTailCall = calls;
    this.tailEnd = ceilDiv(duration.plus(b.tailMax).toNanos() * rate, SECOND);
    this.tail = b.tail;
    this.sink = sink;
    this.lag = b.lag;
    this.onStart = b.onStart;
  }

  /**
   * Starts a builder.
   *
   * @param clock the load's clock; the generator fixes its start
   * @return a builder with no warm-up, no tail and no lag sink
   */
  public static Builder builder(LoadClock clock) {
    return new Builder(clock);
  }

  /**
   * Calls after the warm-up and before any tail: those due before the duration ends, {@code
   * duration x rate} rounded up.
   *
   * @return the count
   */
  public long calls() {
    return calls;
  }

  /**
   * Calls of the warm-up: {@code warmUp x rate}.
   *
   * @return the count
   */
  public long warmUpCalls() {
    return warmUpCalls;
  }

  /**
   * When call {@code i} is due, from the schedule's zero.
   *
   * @param i the call, from 0
   * @return nanoseconds from the zero
   */
  public long dueAfter(long i) {
    return i * SECOND / rate;
  }

  private static long ceilDiv(long a, long b) {
    return (a + b - 1) / b;
  }

  /**
   * Sends the warm-up, fixes the start, sends the calls, then the tail's for as long as the {@link
   * Tail} says so; on the calling thread. Returns when the last call is sent (not when it ends), or
   * at the next call after {@link #stop()}. Stopped during the warm-up, it returns without fixing
   * the start (the clock stays unstarted) and without telling {@code onStart}, where faults may be
   * set to go on.
   *
   * @throws InterruptedException if the thread is interrupted while it waits
   * @throws IllegalStateException if the clock's start is already fixed (before any call is sent)
   */
  public void run() throws InterruptedException {
    if (clock.started()) {
      throw new IllegalStateException("the load's start is already fixed");
    }
    Ticker ticker = clock.ticker();
    long zero = ticker.nanoTime();
    long planned = zero + dueAfter(warmUpCalls);
    for (long j = 0; j < warmUpCalls && !stopped; j++) {
      long due = zero + dueAfter(j);
      ticker.parkUntil(due);
      sink.send(due, due - planned);
    }
    if (stopped) {
      return; // in the warm-up: no start, so no onStart
    }
    ticker.parkUntil(planned);
    if (stopped) {
      return; // while it waited for the start
    }
    long start = Math.max(planned, ticker.nanoTime());
    clock.start(start);
    onStart.accept(start);
    for (long i = 0; i < calls && !stopped; i++) {
      send(start, i);
    }
    int second = -1;
    for (long i = firstTailCall; i < tailEnd && !stopped; i++) {
      int k = (int) ((dueAfter(i) - endNanos) / SECOND);
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
    Ticker ticker = clock.ticker();
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
   * Asks the generator's thread to stop for {@code pause} before its next call, as a stop-the-world
   * pause or a starved thread would. The calls due meanwhile are sent late, at once, and count as
   * late.
   *
   * @param pause how long to hold the generator
   */
  public void pause(Duration pause) {
    pauseRequest.set(pause.toNanos());
  }

  /**
   * Sends no more calls; a parked generator notices when it wakes for its next call (interrupt its
   * thread to wake it at once). In the warm-up, the start is then never fixed.
   */
  public void stop() {
    stopped = true;
  }

  /** Builds an {@link OpenLoopGenerator}; every setter checks its argument at once. */
  public static final class Builder {
    private final LoadClock clock;
    private int rate;
    private Duration warmUp = Duration.ZERO;
    private @Nullable Duration duration;
    private Duration tailMax = Duration.ZERO;
    private Tail tail = k -> false;
    private @Nullable Sink sink;
    private LagSink lag = (offset, lagNanos) -> {};
    private LongConsumer onStart = start -> {};

    private Builder(LoadClock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
    }

    /**
     * Calls per second; required.
     *
     * @param rate calls per second
     * @return this builder
     * @throws IllegalArgumentException if {@code rate} is not positive
     */
    public Builder rate(int rate) {
      if (rate < 1) {
        throw new IllegalArgumentException("rate must be at least 1 but was " + rate);
      }
      this.rate = rate;
      return this;
    }

    /**
     * How long the unrecorded warm-up lasts before the start; zero by default.
     *
     * @param warmUp the warm-up's length
     * @return this builder
     * @throws IllegalArgumentException if {@code warmUp} is negative
     */
    public Builder warmUp(Duration warmUp) {
      this.warmUp = nonNegative("warmUp", warmUp);
      return this;
    }

    /**
     * How long the load lasts after the start, the tail apart; required.
     *
     * @param duration the load's length
     * @return this builder
     * @throws IllegalArgumentException if {@code duration} is negative
     */
    public Builder duration(Duration duration) {
      this.duration = nonNegative("duration", duration);
      return this;
    }

    /**
     * A tail after the duration: up to {@code max} more, asking {@code tail} at each second.
     *
     * @param max the longest tail, usually whole seconds
     * @param tail asked at the start of each second of the tail whether to send it
     * @return this builder
     * @throws IllegalArgumentException if {@code max} is negative
     */
    public Builder tail(Duration max, Tail tail) {
      this.tailMax = nonNegative("tail max", max);
      this.tail = Objects.requireNonNull(tail, "tail");
      return this;
    }

    /**
     * Where each call goes; required.
     *
     * @param sink sends one call
     * @return this builder
     */
    public Builder sink(Sink sink) {
      this.sink = Objects.requireNonNull(sink, "sink");
      return this;
    }

    /**
     * Where the generator's own lateness goes (not the warm-up's); none by default.
     *
     * @param lag told each call's lag, e.g. {@code (offset, lag) -> lateness.sent(lag)}
     * @return this builder
     */
    public Builder lag(LagSink lag) {
      this.lag = Objects.requireNonNull(lag, "lag");
      return this;
    }

    /**
     * Told the start (as {@link Ticker#nanoTime()}) on the generator's thread before the first call
     * after the warm-up is sent; must return quickly.
     *
     * @param onStart the listener
     * @return this builder
     */
    public Builder onStart(LongConsumer onStart) {
      this.onStart = Objects.requireNonNull(onStart, "onStart");
      return this;
    }

    /**
     * Builds the generator; it sends nothing until {@link OpenLoopGenerator#run()}.
     *
     * @return the generator
     * @throws IllegalStateException if the rate, the duration or the sink is not set
     */
    public OpenLoopGenerator build() {
      if (rate == 0) {
        throw new IllegalStateException("rate is required");
      }
      Duration d = duration;
      if (d == null) {
        throw new IllegalStateException("duration is required");
      }
      Sink s = sink;
      if (s == null) {
        throw new IllegalStateException("sink is required");
      }
      return new OpenLoopGenerator(this, d, s);
    }

    private static Duration nonNegative(String name, Duration d) {
      Objects.requireNonNull(d, name);
      if (d.isNegative()) {
        throw new IllegalArgumentException(name + " must not be negative but was " + d);
      }
      return d;
    }
  }
}
