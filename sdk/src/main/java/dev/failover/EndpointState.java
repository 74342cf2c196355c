package dev.failover;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.random.RandomGenerator;
import org.jspecify.annotations.Nullable;

/** The live state of one endpoint: breaker, latency, load, health-check and hold-off state. */
final class EndpointState {
  /** Latency recorded for a failed attempt, so that the endpoint's cost reflects its failures. */
  static final long ERROR_PENALTY_NANOS = TimeUnit.SECONDS.toNanos(1);

  static final long EWMA_TAU_NANOS = TimeUnit.SECONDS.toNanos(10);

  /** The endpoint; a new list may give it another weight (same address and locality). */
  volatile Endpoint endpoint;

  /** Set when the endpoint left the list: it takes no new attempts; calls in flight finish. */
  volatile boolean removed;

  /**
   * Counts this endpoint's removals from the list (the router, under its lock): a health probe in
   * flight when it left ends its loop even if the endpoint is back by then, which started a loop of
   * its own.
   */
  volatile int incarnation;

  final int tier;
  final String zoneKey;

  /** The endpoint's URL, ready for attempts: their URLs are made from it. */
  final EndpointUrl endpointUrl;

  final CircuitBreaker breaker;
  final PeakEwma latency = new PeakEwma(EWMA_TAU_NANOS);
  final AtomicInteger outstanding = new AtomicInteger();
  private final AtomicInteger consecutiveFailures = new AtomicInteger();

  /**
   * The endpoint's usual latency: a running average of its successful attempts, 0 until the first
   * success. It leans to the fast side: a faster sample weighs 1/4, a slower one 1/8 and counts as
   * at most twice the average, so a tail of slow answers (or a cold first answer) does not carry it
   * away, while a lasting change is followed within a few dozen answers. The lowest among a
   * region's endpoints is the region's usual latency, against which an overtaken attempt is judged
   * (see {@link #slowForItsRegion}).
   */
  private volatile long usualNanos;

  /** When the last piece of slowness evidence counted was seen (its attempt's end). */
  private final AtomicLong lastSlowEvidence;

  /**
   * The connection loss counted last ({@link #sameLoss}): its connection and failure, weakly held
   * (while an attempt that failed with them is still to be judged, its tag holds them).
   */
  private final AtomicReference<Noted> lastLoss =
      new AtomicReference<>(new Noted(null, null, false));

  /**
   * How an attempt (or a body being read) failed on a connection, in the way a connection that dies
   * fails its streams ({@link Classifier#connectionFailure}).
   *
   * @param connection the connection it failed on
   * @param failure the failure, which OkHttp gives every stream of a connection whose socket failed
   * @param givenUp whether it is a stream of a connection closed under it ({@link
   *     Classifier#givenUpUnder})
   */
  record Loss(okhttp3.Connection connection, java.io.IOException failure, boolean givenUp) {}

  private static final class Noted {
    final java.lang.ref.WeakReference<okhttp3.@Nullable Connection> connection;
    final java.lang.ref.WeakReference<java.io.@Nullable IOException> failure;
    final boolean givenUp;

    Noted(
        okhttp3.@Nullable Connection connection,
        java.io.@Nullable IOException failure,
        boolean givenUp) {
      this.connection = new java.lang.ref.WeakReference<>(connection);
      this.failure = new java.lang.ref.WeakReference<>(failure);
      this.givenUp = givenUp;
    }
  }

  private final java.util.concurrent.atomic.AtomicBoolean opening =
      new java.util.concurrent.atomic.AtomicBoolean();

  /** When the breaker last opened: set as its open state is made, before others can see it. */
  private volatile long openedAt;

  /**
   * The number of the ejection in effect (1 after a close), for its doubling, and how many more
   * Resilience4j counts: it numbers an OPEN to OPEN transition as a new ejection. Written only in
   * the breaker's wait-interval function, inside its atomic state update (a retried update writes
   * the same values).
   */
  private volatile int ejectionNumber;

  private volatile int attemptOffset;

  /** Base ejection time, for restoring by health checks. */
  final long baseEjectionNanos;

  private final AtomicLong ejections = new AtomicLong();
  private final int consecutiveLimit;
  private final Ticker ticker;
  private volatile long ejectedUntil;
  private volatile long holdOffUntil;

  /** When the latest {@code Retry-After} arrived (whether or not it moved the hold-off's end). */
  private volatile long holdOffSince;

  /**
   * The end of the hold-off that a success answered after it was asked for: while it equals {@link
   * #holdOffUntil}, the pause is routing's only, not evidence against the endpoint's zone.
   */
  private volatile long answeredHoldOffUntil;

  /** Orders a hold-off's changes (a server's pause, a success within it); nothing else. */
  private final Object holdOffLock = new Object();

  private volatile boolean down;

  /** When the endpoint last returned to rotation, for slow start; MIN_VALUE if never ejected. */
  private volatile long restoredAt = Long.MIN_VALUE;

  /**
   * Fast successes recorded in a row into the breaker's window while it was closed, and that window
   * (Resilience4j's metrics object, a new one whenever the breaker changes state). Once the window
   * holds nothing but fast successes, recording one more would leave its counts as they are, so
   * {@link #recordSuccess} skips Resilience4j (a lock every call shares, and an object per call)
   * until the next failure or slow success, which resets the streak before and after it is
   * recorded. Written while the streak grows (at most {@link #windowSize} times after each failure
   * or transition) and on failures; read on every success.
   */
  private final AtomicReference<Streak> streak = new AtomicReference<>(new Streak(null, 0));

  /** The breaker's window, in calls. */
  private final int windowSize;

  /** Above this, Resilience4j counts a success as slow. */
  private final long slowCallNanos;

  /** The breaker state whose transition into was last handled (see {@link #observe}). */
  private final AtomicReference<CircuitBreaker.State> seen =
      new AtomicReference<>(CircuitBreaker.State.CLOSED);

  private final String service;
  private final Events events;

  /** The endpoint as first listed: ejection and restore events name it (a new weight aside). */
  private final Endpoint listedAs;

  /** This endpoint as a first attempt's pick (in rotation, holding a permission), made once. */
  final Router.Pick routed = new Router.Pick(this, false, false);

  /** The endpoint's zone; set once by the router right after construction. */
  @SuppressWarnings("NullAway.Init")
  ZoneState zone;

  // Health-check streaks; touched by the thread that handles the endpoint's probe result (one
  // probe in flight at a time: a dispatcher thread, or the scheduler's).
  int probeSuccesses;
  int probeFailures;

  /** Whether a failed probe of the current streak of failures was refused or answered badly. */
  boolean probeFailureCorroborates;

  /**
   * Whether the endpoint is down on failed probes none of which was refused or answered with a bad
   * status (they timed out, or failed in the client: a name that did not resolve, a TLS handshake).
   * Written by the health checker before it marks the endpoint down, read by the zones' judgement:
   * such an endpoint does not lift the evacuation cap (a client too slow to read its probes'
   * answers times them out on every endpoint at once).
   */
  volatile boolean downUncorroborated;

  EndpointState(
      String service,
      Endpoint endpoint,
      int tier,
      EjectionPolicy policy,
      Clock clock,
      Ticker ticker,
      RandomGenerator random,
      Events events) {
    this.endpoint = endpoint;
    this.tier = tier;
    this.zoneKey = endpoint.locality().toString();
    this.endpointUrl = new EndpointUrl(endpoint.url());
    this.ticker = ticker;
    // Long before any attempt, and before any time a judgement running beside this endpoint's
    // arrival may have read: a new endpoint is neither held off nor ejected, whatever "now" it is
    // judged at.
    long longAgo = ticker.nanos() - (1L << 62);
    this.holdOffUntil = longAgo;
    this.holdOffSince = longAgo;
    this.answeredHoldOffUntil = longAgo - 1; // answers no hold-off
    this.ejectedUntil = longAgo;
    this.lastSlowEvidence = new AtomicLong(longAgo);
    this.consecutiveLimit = policy.consecutiveFailures();
    this.windowSize = policy.windowSize();
    this.slowCallNanos = policy.slowCallDuration().toNanos();
    long base = policy.baseEjectionTime().toMillis();
    this.baseEjectionNanos = policy.baseEjectionTime().toNanos();
    long max = policy.maxEjectionTime().toMillis();
    CircuitBreakerConfig config =
        CircuitBreakerConfig.custom()
            .clock(clock)
            .slidingWindow(
                policy.windowSize(),
                policy.minimumCalls(),
                CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
            .failureRateThreshold(policy.failureRatePercent())
            .slowCallDurationThreshold(policy.slowCallDuration())
            .slowCallRateThreshold(policy.slowCallRatePercent())
            .permittedNumberOfCallsInHalfOpenState(policy.halfOpenProbes())
            .automaticTransitionFromOpenToHalfOpenEnabled(false)
            .waitIntervalFunctionInOpenState(
                attempt -> {
                  long now = ticker.nanos();
                  // Resilience4j calls this inside its state's atomic update, while the state
                  // being replaced is still the breaker's. OPEN to OPEN is the breaker tripping
                  // itself on its failure rate between open()'s check and its transition: one
                  // ejection, which keeps its end, and whose number the next ejection follows
                  // (Resilience4j counts it as one more).
                  if (EndpointState.this.breaker.getState() == CircuitBreaker.State.OPEN) {
                    attemptOffset = attempt - ejectionNumber;
                    return Math.max(1, TimeUnit.NANOSECONDS.toMillis(ejectedUntil - now));
                  }
                  if (attempt == 1) {
                    attemptOffset = 0;
                  }
                  int number = Math.max(1, attempt - attemptOffset);
                  ejectionNumber = number;
                  long ms = ejectionMillis(base, max, number, random);
                  // Here, as the open state is made and before it is published: a thread that
                  // sees the breaker open sees when (a health probe asks whether it opened long
                  // enough ago to be restored).
                  openedAt = now;
                  ejectedUntil = now + TimeUnit.MILLISECONDS.toNanos(ms);
                  return ms;
                })
            .build();
    // No consumer on the breaker's event publisher: with one, Resilience4j builds an event (with
    // a timestamp and a duration) on every success and error. Every transition happens inside a
    // call this class makes into the breaker, and each such call is followed by observe(), which
    // handles the change of state.
    this.breaker = CircuitBreaker.of(service + "@" + endpoint.address(), config);
    this.service = service;
    this.events = events;
    this.listedAs = endpoint;
  }

  /**
   * Handles the breaker's transitions since the state last handled: an endpoint that entered {@code
   * OPEN} is ejected (counted, timed, announced), one that entered {@code CLOSED} is restored (with
   * slow start). Called right after every call into the breaker that can change its state, by the
   * thread that made it, so a transition is handled where Resilience4j's state transition event
   * would have been consumed. The state last handled is swapped atomically, so concurrent callers
   * handle each change once.
   *
   * <p>Only the state is compared, not Resilience4j's internal state object: a change that leaves
   * the state as it was (OPEN to OPEN on a new ejection time, CLOSED to CLOSED) is internal and has
   * no event, as with Resilience4j's listener. A change seen as CLOSED to HALF_OPEN passed through
   * OPEN (CLOSED leaves only to OPEN here), so the endpoint is counted as ejected. Two transitions
   * by other threads between one thread's transition and its observe() that bring the state back to
   * the one last handled (OPEN then CLOSED at once) are seen as none.
   */
  private void observe() {
    while (true) {
      CircuitBreaker.State last = java.util.Objects.requireNonNull(seen.get());
      CircuitBreaker.State now = breaker.getState();
      if (now == last) {
        return;
      }
      if (seen.compareAndSet(last, now)) {
        transitioned(last, now);
      }
    }
  }

  /**
   * Notes that a half-open probe permission was taken or a health check half-opened the breaker: an
   * OPEN to HALF_OPEN change has nothing to handle, and is only marked as seen, without handling
   * (or announcing) a change made by another thread that is still to observe it.
   */
  private void observeHalfOpen() {
    if (seen.get() == CircuitBreaker.State.OPEN
        && breaker.getState() == CircuitBreaker.State.HALF_OPEN) {
      seen.compareAndSet(CircuitBreaker.State.OPEN, CircuitBreaker.State.HALF_OPEN);
    }
  }

  private void transitioned(CircuitBreaker.State from, CircuitBreaker.State to) {
    if (to == CircuitBreaker.State.OPEN
        || (from == CircuitBreaker.State.CLOSED && to == CircuitBreaker.State.HALF_OPEN)) {
      ejections.incrementAndGet(); // openedAt was set as the open state was made
      long ms = TimeUnit.NANOSECONDS.toMillis(Math.max(0, ejectedUntil - ticker.nanos()));
      events.emit(
          new FailoverEvent.EndpointEjected(
              service, listedAs, FailoverEvent.Cause.CIRCUIT_BREAKER, Duration.ofMillis(ms)));
    } else if (to == CircuitBreaker.State.CLOSED) {
      consecutiveFailures.set(0);
      restoredAt = ticker.nanos();
      events.emit(
          new FailoverEvent.EndpointRestored(
              service, listedAs, FailoverEvent.Cause.CIRCUIT_BREAKER));
    }
  }

  /** base x 2^(attempt-1), capped, jittered by +-20%. */
  static long ejectionMillis(long base, long max, int attempt, RandomGenerator random) {
    int shift = Math.min(Math.max(attempt - 1, 0), 20);
    long ms = Math.min(max, base << shift);
    double jitter = 0.8 + 0.4 * random.nextDouble();
    return Math.max(1, (long) (ms * jitter));
  }

  /** Routing's view of this endpoint at {@code now}. */
  public FailoverSnapshot.Health health(long now) {
    if (down) {
      return FailoverSnapshot.Health.DOWN;
    }
    if (now - holdOffUntil < 0) {
      return FailoverSnapshot.Health.HELD_OFF;
    }
    return breakerHealth(now);
  }

  /**
   * Whether the endpoint counts as out in its zone's share of endpoints out: as routing sees it,
   * except that a {@code Retry-After} pause within which its server has since answered a success
   * (routing panicked and sent there all the same) counts as what the endpoint is without it.
   * Routing still waits the pause out, as the server asked; its zone is not evacuated for it.
   */
  boolean outForItsZone(long now) {
    FailoverSnapshot.Health h = health(now);
    if (h == FailoverSnapshot.Health.HELD_OFF && answeredHoldOffUntil == holdOffUntil) {
      return !breakerHealth(now).takesTraffic();
    }
    return !h.takesTraffic();
  }

  /**
   * Whether the endpoint is out for its zone ({@link #outForItsZone}) only because its server asked
   * for a pause ({@code Retry-After}) that it has not answered within: neither down nor ejected.
   */
  boolean outOnlyForAPause(long now) {
    return health(now) == FailoverSnapshot.Health.HELD_OFF
        && answeredHoldOffUntil != holdOffUntil
        && breakerHealth(now).takesTraffic();
  }

  private FailoverSnapshot.Health breakerHealth(long now) {
    return switch (breaker.getState()) {
      case OPEN, FORCED_OPEN ->
          now - ejectedUntil < 0
              ? FailoverSnapshot.Health.EJECTED
              : FailoverSnapshot.Health.PROBING;
      case HALF_OPEN -> FailoverSnapshot.Health.PROBING;
      default -> FailoverSnapshot.Health.HEALTHY;
    };
  }

  boolean available(long now) {
    return health(now).takesTraffic();
  }

  /** Asks the breaker for permission; false while ejected or when half-open probes are used up. */
  boolean tryAcquire() {
    // Past its ejection time, an open breaker half-opens here.
    boolean permitted;
    try {
      permitted = breaker.tryAcquirePermission();
    } catch (RuntimeException e) {
      // Another thread closed the breaker (a health check, a last resort restored the endpoint)
      // as this one half-opened it: Resilience4j refuses that move. Ask the state that won.
      permitted = breaker.tryAcquirePermission();
    }
    observeHalfOpen();
    return permitted;
  }

  /** Makes an endpoint new to a running client ramp up over the slow start. */
  void startSlow(long now) {
    restoredAt = now;
  }

  /** Slow start: 10% of its weight rising to 100% over {@code slowStartNanos} after a return. */
  double ramp(long now, long slowStartNanos) {
    long since = restoredAt;
    if (since == Long.MIN_VALUE || slowStartNanos <= 0 || now - since >= slowStartNanos) {
      return 1;
    }
    return Math.max(0.1, (double) (now - since) / slowStartNanos);
  }

  /**
   * Estimated cost of one more request: Peak-EWMA latency x (outstanding + 1) / (weight x slow
   * start ramp).
   */
  double cost(long now, long slowStartNanos) {
    double c = latency.cost(now);
    double share = ramp(now, slowStartNanos) * (zone == null ? 1 : zone.ramp(now, slowStartNanos));
    return (c + 1) * (outstanding.get() + 1) / (endpoint.weight() * Math.max(share, 0.1));
  }

  void begin() {
    outstanding.incrementAndGet();
  }

  /**
   * Ends an attempt whose outcome says nothing about this endpoint (it timed out before it was
   * sent, for the client's own reasons): it no longer counts as outstanding, gives back its breaker
   * permission and is not recorded. Returns false: it is no evidence.
   */
  boolean excuse(boolean acquired) {
    outstanding.decrementAndGet();
    if (acquired) {
      breaker.releasePermission();
    }
    return false;
  }

  /**
   * Records the outcome of an attempt against this endpoint and returns whether it counted as
   * evidence against it.
   *
   * <p>Only an attempt's own outcome counts. Slowness (a {@code TIMEOUT}, or {@code slow}: an
   * attempt overtaken by a later attempt of its call that had run at least twice as long as its
   * winner) counts only if the attempt started after the last piece of slowness evidence was
   * counted: attempts that overlapped it saw the same stall, so one stall seen by many concurrent
   * calls is one piece of evidence. An overtaken attempt is slow only if it also ran at least twice
   * its region's usual latency ({@link #slowForItsRegion}): a far endpoint (another region, 35 ms
   * away) hedged after 10 ms to a near zone that answers in 4 ms loses every race by far without
   * being slow for where it is. A timeout does not count at all while {@code clientStalled}: then
   * the client, not the endpoint, may be the slow party. A slow lost race still counts: its winner
   * ran at the same time on the same client and was at least twice as fast. Refusals, resets and
   * retryable statuses always count (the resets of one connection that dies once: the caller
   * excuses the others, see {@link #sameLoss}). {@code acquired} tells whether the attempt held a
   * breaker permission; an attempt sent without one (panic, or a last resort while everything else
   * failed) never touches a breaker that is not closed, except that its success closes it: the
   * endpoint answered.
   */
  boolean record(
      Outcome outcome,
      long durationNanos,
      long now,
      boolean slow,
      boolean clientStalled,
      boolean acquired) {
    return record(
        outcome,
        durationNanos,
        now,
        slow,
        clientStalled,
        acquired,
        outcome == Outcome.TIMEOUT,
        clientStalled);
  }

  /**
   * As {@link #record(Outcome, long, long, boolean, boolean, boolean)}, where {@code timedOut}
   * tells that the attempt is slowness, counted once per stall (a {@code TIMEOUT}, or a {@code
   * CONNECT_FAILED} whose connection did not open in time while the client started up or stalled),
   * {@code clientStalled} that a stall of the client explains the attempt's slowness (no evidence:
   * neither a timeout nor a slow call of the breaker), and {@code measuredInStall} that the client
   * stalls at all: what the attempt measured then is not the endpoint's latency (a success that ran
   * across a pause, three times as long as the pause, is still the pause's), and feeds no latency
   * estimate (Peak-EWMA, the usual latency).
   */
  boolean record(
      Outcome outcome,
      long durationNanos,
      long now,
      boolean slow,
      boolean clientStalled,
      boolean acquired,
      boolean timedOut,
      boolean measuredInStall) {
    boolean stalled = clientStalled || measuredInStall;
    outstanding.decrementAndGet();
    boolean closed = breaker.getState() == CircuitBreaker.State.CLOSED;
    if (!acquired && !closed) {
      if (outcome == Outcome.SUCCESS) {
        if (!stalled) {
          latency.observe(durationNanos, now);
          learnUsual(durationNanos);
        }
        restoreNow();
      }
      return false;
    }
    // A lost race is measured against the winner by the caller, and against the usual latency of
    // the endpoint's region here: losing to a nearer region is not being slow.
    boolean slowLoss = outcome == Outcome.CANCELLED && slow && slowForItsRegion(durationNanos);
    boolean slowness = timedOut || slowLoss;
    boolean timedOutWhileStalled = timedOut && clientStalled;
    if (slowness && (timedOutWhileStalled || !takeSlowEvidence(now - durationNanos, now))) {
      // Not evidence: the client was the slow party, or this stall was already counted. (A race
      // lost to a winner that ran less than half as long is relative evidence: both ran on this
      // client at the same time, so a stall of the client would have slowed both. It counts.)
      breaker.releasePermission();
      return false;
    }
    if (outcome == Outcome.CANCELLED) {
      breaker.releasePermission();
      if (!stalled) {
        // A cancelled attempt still tells us the endpoint was at least this slow.
        latency.observe(durationNanos, now);
      }
      if (!slowLoss) {
        return false;
      }
      if (consecutiveFailures.incrementAndGet() >= consecutiveLimit) {
        open();
      }
      return true;
    }
    // While the client stalls, what an attempt measured is the stall: the endpoint's latency
    // estimate would take it as a peak at once and steer its traffic away for tens of seconds.
    boolean measured = !stalled;
    if (outcome.isEndpointFailure() || outcome == Outcome.THROTTLED) {
      latency.observe(Math.max(measured ? durationNanos : 0, ERROR_PENALTY_NANOS), now);
    } else if (measured) {
      latency.observe(durationNanos, now);
    }
    if (outcome.isEndpointFailure()) {
      breakStreak();
      breaker.onError(durationNanos, TimeUnit.NANOSECONDS, new EndpointFailure(outcome));
      breakStreak();
      observe();
      int n = consecutiveFailures.incrementAndGet();
      if (n >= consecutiveLimit) {
        open();
      }
      return true;
    }
    if (outcome == Outcome.SUCCESS && !stalled) {
      learnUsual(durationNanos);
    }
    // A slow success the client's stall explains is not the endpoint's slow call (only one it
    // explains: the breaker's slow-call rate is evidence, and judged as evidence is).
    recordSuccess(clientStalled ? 0 : durationNanos, closed);
    observe();
    // Read first: while the endpoint succeeds the streak is already 0, and concurrent successes
    // need not all write the shared counter.
    if (consecutiveFailures.get() != 0) {
      consecutiveFailures.set(0);
    }
    return false;
  }

  /**
   * Records a success in the breaker, unless its window holds only fast successes already and this
   * one is fast: then Resilience4j's count-based window would rotate one fast success out and one
   * in, its counts unchanged. {@code closed} is the breaker's state as the caller read it.
   *
   * <p>A streak counts a success only if no failure was reset into it between the read and the
   * count (the compare-and-set fails, and the streak undercounts: one more success recorded than
   * needed). A success that skips on a streak read just before a concurrent failure is as if it had
   * come before that failure. At worst a failure stays in the window, while fast successes skip,
   * for the few instructions between its record and its thread's reset that follows.
   */
  private void recordSuccess(long durationNanos, boolean closed) {
    Streak s = java.util.Objects.requireNonNull(streak.get());
    boolean fast = durationNanos <= slowCallNanos;
    Object window = breaker.getMetrics();
    if (fast && closed && s.window == window && s.successes >= windowSize) {
      return;
    }
    if (!fast) {
      breakStreak();
    }
    breaker.onSuccess(durationNanos, TimeUnit.NANOSECONDS);
    if (!fast) {
      breakStreak();
    } else if (closed) {
      int n = s.window == window ? s.successes + 1 : 1;
      if (n <= windowSize) {
        streak.compareAndSet(s, new Streak(window, n));
      }
    }
  }

  /** Whether a fast success now skips the breaker: its window holds nothing else (for tests). */
  boolean skipsFastSuccesses() {
    Streak s = java.util.Objects.requireNonNull(streak.get());
    return breaker.getState() == CircuitBreaker.State.CLOSED
        && s.window == breaker.getMetrics()
        && s.successes >= windowSize;
  }

  /** Starts the streak of fast successes over: something else goes into the window. */
  private void breakStreak() {
    streak.set(new Streak(null, 0)); // a new object: a stale compare-and-set cannot match it
  }

  /** A run of fast successes recorded into one window of the breaker. */
  private record Streak(@Nullable Object window, int successes) {}

  /**
   * Whether an attempt that ran {@code durationNanos} and was overtaken had run at least twice the
   * usual latency of its region (the lowest usual latency of the region's endpoints that answered;
   * this endpoint's own when it is not in a router's topology). False while no endpoint of the
   * region has answered yet: a race lost by an endpoint of a region never heard from says nothing
   * about it, since the region may simply be far (its attempts' timeouts and failures still count).
   */
  boolean slowForItsRegion(long durationNanos) {
    ZoneState z = zone;
    long usual = z == null ? usualNanos : z.regionUsualNanos();
    return usual > 0 && durationNanos >= 2 * usual;
  }

  /** The endpoint's usual latency in nanoseconds; 0 until its first success. */
  long usualNanos() {
    return usualNanos;
  }

  /**
   * Averages a success's latency into the usual latency. A lost update under concurrency only drops
   * one sample of an estimate.
   */
  private void learnUsual(long durationNanos) {
    long sample = Math.max(1, durationNanos);
    long usual = usualNanos;
    long next;
    if (usual == 0) {
      next = sample;
    } else if (sample < usual) {
      next = usual - (usual - sample) / 4;
    } else {
      next = usual + (Math.min(sample, 2 * usual) - usual) / 8;
    }
    if (next != usual) {
      usualNanos = Math.max(1, next);
    }
  }

  /** Records an attempt that held a permission, with no slowness and a client that runs well. */
  void record(Outcome outcome, long durationNanos, long now) {
    record(outcome, durationNanos, now, false, false, true);
  }

  /**
   * Whether {@code loss} is part of a connection loss counted already: the same connection as the
   * loss counted last, and the same failure (OkHttp fails every stream of a connection whose socket
   * failed with one exception), or both streams of a connection closed under them (each fails with
   * a {@code CANCEL} reset of its own, OkHttp having given the connection up: a loss noted
   * otherwise, such as a stream the server reset before, does not absorb the connection's death).
   * One connection that dies is one piece of evidence, however many attempts were on it: N
   * concurrent streams of one HTTP/2 connection would otherwise count N failures in a row, and one
   * reset would eject the endpoint. Notes {@code loss} as the one counted last otherwise. False for
   * null (a failure that is not a connection's) and while the breaker is not closed (an ejected
   * endpoint's trial attempts count each, and one without a permission, which counts for nothing,
   * must not excuse them).
   */
  boolean sameLoss(@Nullable Loss loss) {
    if (loss == null || breaker.getState() != CircuitBreaker.State.CLOSED) {
      return false;
    }
    while (true) {
      Noted last = java.util.Objects.requireNonNull(lastLoss.get());
      if (last.connection.get() == loss.connection()
          && ((loss.givenUp() && last.givenUp) || last.failure.get() == loss.failure())) {
        return true;
      }
      if (lastLoss.compareAndSet(
          last, new Noted(loss.connection(), loss.failure(), loss.givenUp()))) {
        return false;
      }
    }
  }

  /**
   * Claims a piece of slowness evidence for an attempt that ran from {@code start} to {@code now};
   * false if the attempt overlapped the piece counted last (it saw the same stall).
   */
  private boolean takeSlowEvidence(long start, long now) {
    long last = lastSlowEvidence.get();
    return start - last >= 0 && lastSlowEvidence.compareAndSet(last, now);
  }

  /** Opens the breaker once, whichever thread gets here first (no check-then-act race). */
  private void open() {
    if (opening.compareAndSet(false, true)) {
      try {
        if (breaker.getState() == CircuitBreaker.State.CLOSED) {
          breaker.transitionToOpenState();
        }
      } catch (RuntimeException e) {
        // The breaker opened itself on its failure rate in between: it is open, once.
      } finally {
        opening.set(false);
      }
      observe();
    }
  }

  /**
   * The body of a response this endpoint answered with (an attempt counted as a success at its
   * headers) broke off: a reset or a protocol error while the caller read it. It counts as one more
   * failed attempt of the endpoint and of its zone: the breaker's failure rate (its streak too,
   * which the success at the headers had broken), the latency penalty that steers picks away, the
   * zone's error rate. Not for an endpoint out of rotation, whose breaker counts only the attempts
   * it lets through.
   */
  void bodyFailed(Outcome outcome, @Nullable Loss loss) {
    if (breaker.getState() != CircuitBreaker.State.CLOSED || sameLoss(loss)) {
      return;
    }
    long now = ticker.nanos();
    latency.observe(ERROR_PENALTY_NANOS, now);
    breakStreak();
    breaker.onError(0, TimeUnit.NANOSECONDS, new EndpointFailure(outcome));
    breakStreak();
    observe();
    if (consecutiveFailures.incrementAndGet() >= consecutiveLimit) {
      open();
    }
    ZoneState z = zone;
    if (z != null) {
      z.record(true, false, -1, now);
    }
  }

  /** Brings an ejected endpoint back at once (it answered), with slow start. */
  void restoreNow() {
    CircuitBreaker.State state = breaker.getState();
    if (state == CircuitBreaker.State.OPEN || state == CircuitBreaker.State.HALF_OPEN) {
      try {
        breaker.transitionToClosedState();
      } catch (RuntimeException e) {
        // Another thread changed the state first: it is already closed or being handled.
      }
      observe();
    }
  }

  /** Whether the breaker ejected the endpoint at least {@code nanos} ago and still holds it out. */
  boolean ejectedLongerThan(long nanos, long now) {
    CircuitBreaker.State state = breaker.getState();
    return (state == CircuitBreaker.State.OPEN || state == CircuitBreaker.State.HALF_OPEN)
        && now - openedAt >= nanos;
  }

  /**
   * Excludes the endpoint until {@code until} (a server's {@code Retry-After}, received at {@code
   * now}). A later end extends the hold-off; an earlier one leaves it.
   */
  void holdOff(long now, long until) {
    synchronized (holdOffLock) {
      // Every Retry-After is the newest word on the pause: a success sent before it proves
      // nothing, even where it asks for less than the pause already running.
      if (now - holdOffSince > 0) {
        holdOffSince = now;
      }
      if (until - holdOffUntil > 0) {
        holdOffUntil = until;
      }
      answeredHoldOffUntil = holdOffUntil - 1; // answered by no success since
    }
  }

  /**
   * Notes that an attempt sent at {@code attemptStart}, after the latest {@code Retry-After}, came
   * back a success from the network at {@code now} (2xx or 3xx): the server serves (routing
   * panicked, and sent there all the same), so the pause no longer counts against the endpoint's
   * zone ({@link #outForItsZone}). It still holds routing off until it ends, as the server asked:
   * lifting it would send every call to the first endpoint that answered while the others still
   * shed load. An attempt sent before the pause was asked for proves nothing.
   */
  void successAfterHoldOff(long attemptStart, long now) {
    if (now - holdOffUntil >= 0 || attemptStart - holdOffSince < 0) {
      return; // not held off, or the attempt left before the pause was asked for
    }
    synchronized (holdOffLock) {
      if (now - holdOffUntil < 0 && attemptStart - holdOffSince >= 0) {
        answeredHoldOffUntil = holdOffUntil;
      }
    }
  }

  boolean isDown() {
    return down;
  }

  void setDown(boolean down) {
    if (this.down && !down) {
      restoredAt = ticker.nanos();
    } else if (!this.down && down) {
      ejections.incrementAndGet();
    }
    this.down = down;
  }

  /** A recovering health check lets real traffic test the endpoint at once. */
  void probeRecovered() {
    if (breaker.getState() == CircuitBreaker.State.OPEN) {
      try {
        breaker.transitionToHalfOpenState();
      } catch (RuntimeException e) {
        // Another thread closed it first (a last resort, a half-open probe): it takes traffic.
      }
      observeHalfOpen();
    }
  }

  FailoverSnapshot.EndpointState snapshot(long now) {
    return new FailoverSnapshot.EndpointState(
        endpoint,
        health(now),
        breaker.getState().name(),
        Duration.ofNanos((long) latency.cost(now)),
        outstanding.get(),
        ejections.get(),
        breaker.getMetrics().getFailureRate());
  }

  Ticker ticker() {
    return ticker;
  }

  @Override
  public String toString() {
    return endpoint.toString();
  }

  /** What the breaker records for a failed attempt; cheap, with no stack trace. */
  static final class EndpointFailure extends Exception {
    private static final long serialVersionUID = 1L;

    EndpointFailure(Outcome outcome) {
      super(outcome.name(), null, false, false);
    }
  }
}
