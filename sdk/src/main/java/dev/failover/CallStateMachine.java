package dev.failover;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import okhttp3.Call;
import okhttp3.Callback;
import okhttp3.EventListener;
import okhttp3.HttpUrl;
import okhttp3.Request;
import okhttp3.Response;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The state machine of one logical call: its attempts, retries, hedges, probes and deadline, driven
 * by OkHttp's callbacks and the client's scheduler. {@link FailoverCall} is its {@code
 * okhttp3.Call} face.
 *
 * <p><b>State.</b> A call moves through {@link State}: {@code NEW} until executed, {@code STARTING}
 * while the observer is told (outside the lock), {@code RUNNING} while attempts are sent and
 * judged, {@code FINISHED} once its ending is decided, and {@code COMPLETED} once the caller has
 * it. Every way a call ends goes through one method, {@link #finishLocked(Object, boolean)}: a
 * decisive response, a stale copy, or a {@link FailoverException} with its reason.
 *
 * <p><b>Threads and ownership.</b> Every mutable field is guarded by this object's monitor
 * ({@code @GuardedBy("this")}, checked by Error Prone; those that only some calls need are in
 * {@link Rare}, which is reached only through a field guarded so), except the few {@code volatile}
 * ones that the attempt's own callback writes before it takes the lock. Decisions are taken under
 * the lock; what they cause (events, OkHttp's {@code enqueue}, the observer, the result, the
 * callback) is queued under it and done by {@link #drain()} after it, by one thread at a time and
 * in order. The lock is taken by: the caller's thread ({@code execute}, {@code enqueue}, {@code
 * cancel}), the dispatcher's threads (OkHttp's callbacks, draining), and the scheduler's thread
 * (the deadline, retry and hedge timers), which hands OkHttp the attempts its timer sent but leaves
 * the rest of the drain (events, OkHttp's {@code cancel()} of attempts, the result, the callback)
 * to the dispatcher. No OkHttp call is made under the lock: an attempt's {@code newCall} (which
 * runs the {@code EventListener.Factory} of the application's own {@code OkHttpClient}), {@code
 * enqueue} (which may call back at once), {@code execute} and {@code cancel} (which calls the
 * user's {@code EventListener.canceled}) are all made after it.
 */
final class CallStateMachine extends RunningCalls.Member implements Timeouts.Target {
  private static final Logger log = LoggerFactory.getLogger(CallStateMachine.class);

  /** Where a call is in its life; see the class comment. */
  enum State {
    NEW,
    STARTING,
    RUNNING,
    FINISHED,
    COMPLETED
  }

  /** The response a call's {@link #ending} is, or null if it is a failure (or not decided). */
  private static @Nullable Response responseOf(@Nullable Object ending) {
    return ending instanceof Response r ? r : null;
  }

  /** The failure a call's {@link #ending} is, or null if it is a response (or not decided). */
  private static @Nullable FailoverException failureOf(@Nullable Object ending) {
    return ending instanceof FailoverException e ? e : null;
  }

  private final ClientCore core;
  private final Request request;

  /** The {@code okhttp3.Call} the caller holds: what its callback is given. */
  private final Call owner;

  private final boolean idempotent;
  private final boolean replayable;

  @GuardedBy("this")
  private State state = State.NEW;

  /**
   * The caller's listeners ({@code Call.addEventListener}), added to every attempt; few calls have
   * one.
   */
  @GuardedBy("this")
  private List<EventListener> eventListeners = List.of();

  /**
   * The result, for whoever waits for it ({@link #result()}): made by the first that asks. A caller
   * whose own thread ran the attempt that ended the call finds the call's end handed over ({@link
   * #handedOver()}) and never makes it.
   */
  @GuardedBy("this")
  private @Nullable CompletableFuture<Response> result;

  /**
   * Whether the call's {@link #ending} was handed over to its caller ({@link #completeResult}):
   * after its events and the observer. The result, once made, is completed with it. Set once, under
   * the lock; volatile so that the caller's thread reads it, and the ending set before it, without
   * taking the lock ({@link #handedOver()}).
   */
  private volatile boolean resultReady;

  // What the state machine decided under the lock, for drain() to do after it (events, the
  // observer, the result, the callback: nothing that may run user code runs locked).
  @GuardedBy("this")
  private @Nullable List<FailoverEvent> pendingEvents;

  @GuardedBy("this")
  private @Nullable List<InFlight> pendingSends;

  /**
   * Responses the state machine let go of under the lock, for {@link #drain()} to close after it:
   * closing a body runs the application's {@code EventListener} ({@code responseBodyEnd}, {@code
   * callEnd}) and reads what is left of the body to reuse the connection.
   */
  @GuardedBy("this")
  private @Nullable List<Response> pendingCloses;

  /** The first attempt of an execute() the caller's thread runs itself (see callerRuns). */
  @GuardedBy("this")
  private @Nullable InFlight callerAttempt;

  @GuardedBy("this")
  private boolean callerRuns;

  @GuardedBy("this")
  private boolean draining;

  /**
   * How the call ended, once FINISHED: its {@link Response} (fresh, or a stale copy of an earlier
   * one) or its {@link FailoverException}, decided once by {@link #finishLocked(Object, boolean)}.
   * Held as either, not in an object of its own that every call would make.
   */
  @GuardedBy("this")
  private @Nullable Object ending;

  /**
   * Whether the caller cancelled the call (in any state: a call cancelled before it runs fails).
   */
  @GuardedBy("this")
  private boolean canceled;

  @GuardedBy("this")
  private long start;

  /**
   * When the call's deadline passes, on the client's ticker ({@link #deadline()}): a {@code long},
   * so that a call allocates no {@link Deadline} for it.
   */
  @GuardedBy("this")
  private long deadlineAt;

  /**
   * The first attempt that ended ({@link #endedLocked()}: all of them). Each makes its public
   * {@link Attempt} only when something asks for it (an event, a failure, {@link #attempts()}): a
   * call that succeeds with nobody listening never builds one.
   */
  @GuardedBy("this")
  private @Nullable InFlight firstEnded;

  /**
   * The attempts that ended, in the order they ended, once a second one did; null before: most
   * calls end with their first attempt, and keep it in {@link #firstEnded} alone.
   */
  @GuardedBy("this")
  private @Nullable List<InFlight> allEnded;

  /**
   * The call's attempt in flight while it has only one and {@link #allInFlight} is not made ({@link
   * #inFlightLocked()}: all of them).
   */
  @GuardedBy("this")
  private @Nullable InFlight soleInFlight;

  /**
   * The attempts in flight, in the order they were sent, once two were at the same time (a hedge, a
   * probe); null before: most calls have one attempt in flight at a time, in {@link #soleInFlight}.
   */
  @GuardedBy("this")
  private @Nullable List<InFlight> allInFlight;

  /** The endpoint of the call's first attempt, while {@link Rare#tried} is not made. */
  @GuardedBy("this")
  private @Nullable EndpointState firstTried;

  /** The deadline timeout of an {@code enqueue()} on real time (see ClientCore#realTime). */
  @GuardedBy("this")
  private Timeouts.@Nullable Timeout deadlineTimeout;

  /** Whether the caller's thread runs the first attempt ({@code execute()}): it never queues. */
  @GuardedBy("this")
  private boolean firstRunByCaller;

  /** The kind of the attempt whose response won, or null (failure, stale copy). */
  @GuardedBy("this")
  private Attempt.@Nullable Kind winner;

  /** When the winning attempt started. */
  @GuardedBy("this")
  private long winnerStart;

  /**
   * Whether the winner's answer was made in the client (OkHttp's cache, an interceptor): the
   * attempts it ended lost no race at their endpoints.
   */
  @GuardedBy("this")
  private boolean winnerLocal;

  @GuardedBy("this")
  private int retries;

  @GuardedBy("this")
  private int hedges;

  /** Attempts sent that count against maxAttempts: first, retries and hedges (not probes). */
  @GuardedBy("this")
  private int sent;

  @GuardedBy("this")
  private long attemptTimeoutNanos;

  private final boolean hedgeable;

  @GuardedBy("this")
  private @Nullable Callback callback;

  /** What the server saw of this call's latest attempt: the stale cache's key. */
  private volatile StaleStore.@Nullable Seen seen;

  /**
   * What only some calls need: a retry's or a hedge's timer, a second endpoint, a broken body of
   * the application's, an observer, listeners. Made by the first thing that needs it ({@link
   * #rare()}): a call that ends with its first attempt, on a client without hedging, observer or
   * listeners, never makes it, and is that much smaller (its fields cost every call 64 bytes when
   * they were the call's own). A hedgeable call makes it when its hedge timer is armed, a client
   * with a {@link CallObserver} for every call, an {@code enqueue()} on fake time for its deadline
   * timer. Guarded by the lock of the call that holds it: it is reached only through {@link #rare},
   * which is.
   */
  private static final class Rare {
    /**
     * What the client's observer returned for this call (tracing), set before the first attempt.
     */
    @Nullable Object observerContext;

    /**
     * Attempts to cancel in OkHttp, after the lock: OkHttp's {@code cancel()} calls the user's
     * {@code EventListener.canceled} on the cancelling thread.
     */
    @Nullable List<InFlight> pendingCancels;

    FailoverEvent.@Nullable CallFinished finalEvent;

    /**
     * The endpoints and zones tried this round; made when a call tries a second endpoint (or probes
     * one): until then the call tried {@link CallStateMachine#firstTried} and its zone, or nothing.
     */
    @Nullable Set<EndpointState> tried;

    @Nullable Set<String> triedZones;

    /** The deadline timer of an {@code enqueue()} on fake time (a test's ticker and scheduler). */
    @Nullable Future<?> deadlineTimer;

    @Nullable Future<?> retryTimer;

    /** When the pending retry took its budget token: a refund goes back to that instant's slot. */
    long retryTokenAt;

    @Nullable Future<?> hedgeTimer;

    /**
     * How many times in a row the hedge timer found the attempt it hedges still queued in the
     * client (0: it did not): each look waits twice as long as the last, up to a second, and once
     * the attempt has left the queue its endpoint gets a whole hedge delay before its hedge.
     */
    int hedgeHeldLooks;

    /** When the hedge timer was armed for the attempt sent last. */
    long hedgeArmedAt;

    /**
     * How many times the hedge timer was armed: a timer that fired while another was armed after it
     * (it waited for the lock while a retry re-armed it) is not the current one, and does nothing.
     */
    int hedgeArmings;

    /**
     * Attempts decided that the call's end overtook before they were made: never sent, so not in
     * its summary ({@link CallStateMachine#retries} and {@link CallStateMachine#hedges} lose theirs
     * then too).
     */
    int overtakenAtEnd;

    /**
     * How an attempt of this call failed writing the application's request body (its source broke
     * off, its length was wrong, a duplex body on HTTP/1), once one did: no retry or hedge of the
     * call is sent after it, and the call fails with it.
     */
    @Nullable IOException applicationBodyFailure;
  }

  @GuardedBy("this")
  private @Nullable Rare rare;

  /** The call's {@link Rare} part, made now if not yet. Caller holds the lock. */
  @GuardedBy("this")
  private Rare rare() {
    Rare r = rare;
    if (r == null) {
      r = new Rare();
      rare = r;
    }
    return r;
  }

  /**
   * This call's hash, fixed when it is made: it picks the call's list in {@link RunningCalls},
   * which the call joins while its monitor is held. {@code Object}'s identity hash, computed then,
   * would make the JVM inflate the monitor, for every call (a cost of its own, and work for the
   * JVM's monitor deflation thread).
   */
  private final int hash = ThreadLocalRandom.current().nextInt();

  CallStateMachine(ClientCore core, Request request, Call owner) {
    this.core = core;
    this.request = request;
    this.owner = owner;
    this.idempotent = Classifier.idempotent(request);
    this.replayable = Classifier.replayable(request);
    this.hedgeable = idempotent && replayable && core.hedger.enabled();
  }

  /** Identity, as {@code Object}'s. */
  @Override
  public boolean equals(@Nullable Object other) {
    return this == other;
  }

  @Override
  public int hashCode() {
    return hash;
  }

  /** The request's path, for events and logs: computed when needed (a string per call). */
  private String path() {
    return request.url().encodedPath();
  }

  /**
   * The result, completed once the call ends (after its ending's events and the observer); made now
   * if not yet, completed at once if the call's end was handed over already.
   */
  CompletableFuture<Response> result() {
    synchronized (this) {
      CompletableFuture<Response> r = result;
      if (r == null) {
        r = new CompletableFuture<>();
        result = r;
        Object end = ending;
        if (resultReady && end != null) {
          // Nothing waits on it yet: completing it here runs nothing of the application's.
          complete(r, end);
        }
      }
      return r;
    }
  }

  /**
   * The call's end (its {@link Response} or its {@link FailoverException}) if it was handed over to
   * the caller already, as the result would be completed with; null if not yet.
   */
  @SuppressWarnings("GuardedBy") // set once, under the lock, before resultReady (volatile) is
  @Nullable Object handedOver() {
    return resultReady ? ending : null;
  }

  /**
   * Starts an {@code execute()} ({@link #begin} without a callback) and runs its first attempt on
   * the caller's thread if the call kept it for the caller ({@code callerRunsFirstAttempt});
   * returns how long the caller may wait for the result: 0 when that attempt completed it (nothing
   * to wait for), otherwise the nanoseconds left until the deadline (0 or less once it passed, as
   * it may have while the call started). The caller's attempt is taken under the lock that started
   * the call.
   *
   * @throws IllegalStateException if the call was already executed
   */
  long execute(long callTimeoutNanos) {
    InFlight mine = start(null, callTimeoutNanos);
    Deadline d = deadlineOfThisThreadsStart();
    if (mine == null) {
      return d.remaining(core.ticker.nanos());
    }
    runOnCallersThread(mine);
    // Usually the attempt ended the call: no wait, and no need to read the clock.
    return handedOver() != null ? 0 : d.remaining(core.ticker.nanos());
  }

  /**
   * The call's deadline, read without the lock by the thread that started the call: it set it under
   * the lock ({@link #startLocked}), and nothing sets it again.
   */
  @SuppressWarnings("GuardedBy")
  private Deadline deadlineOfThisThreadsStart() {
    return new Deadline(deadlineAt);
  }

  /**
   * The call's deadline. A value made where it is read: short-lived, the JIT keeps it in registers
   * (see {@link #deadlineAt}).
   */
  @GuardedBy("this")
  private Deadline deadline() {
    return new Deadline(deadlineAt);
  }

  /**
   * The caller's timed wait of {@code execute()} ran out: the deadline ends the call (no timer is
   * armed for the deadline of {@code execute()}: that wait is it). On return the result is
   * completed, even when another thread drains the call and is still in the application's code (it
   * then tells the observer and listeners of the end after the caller has the result).
   */
  void deadlinePassed() {
    Object end;
    synchronized (this) {
      failLocked(FailoverException.Reason.DEADLINE_EXCEEDED);
      end = ending;
    }
    drain();
    if (end != null) {
      // Another thread drains the call and runs user code before it completes the result (a
      // listener told of an attempt, the observer): the caller does not wait for it past its
      // deadline. It gets the call's ending now; the drainer's own completion then does nothing,
      // and CallFinished and the observation follow on that thread.
      completeResult(end);
    }
  }

  /**
   * Hands the call's ending to its caller ({@link #result}, if made); once only, whoever calls it
   * first.
   */
  private void completeResult(Object end) {
    CompletableFuture<Response> r;
    synchronized (this) {
      if (resultReady) {
        return;
      }
      resultReady = true;
      r = result;
    }
    if (r != null) {
      complete(r, end); // after the lock: what waits on it may run here
    }
  }

  private static void complete(CompletableFuture<Response> result, Object end) {
    Response response = responseOf(end);
    if (response != null) {
      result.complete(response);
    } else {
      result.completeExceptionally(requireNonNull(failureOf(end)));
    }
  }

  /**
   * Runs the first attempt on the caller's thread, as a bare OkHttp {@code execute()} does: no
   * thread hand-off when it succeeds. Its timeout (the attempt timeout, at most the time to the
   * deadline) ends it; a hedge or the call's end cancels it.
   */
  private void runOnCallersThread(InFlight f) {
    f.tag.onCaller = true; // before OkHttp runs it, on this thread (a lookup then moves off it)
    Call c = newAttemptCall(f);
    if (c == null) {
      return;
    }
    boolean direct = direct(f);
    if (direct) {
      ClientCore.reachedDirectly(f.tag, c, core.ticker);
    }
    Response response;
    try {
      response = c.execute();
      if (direct) {
        response = ClientCore.restoreRetryAfter(f.tag, response);
      }
    } catch (IOException e) {
      if (Thread.currentThread().isInterrupted()) {
        // The caller's thread was interrupted (Okio then fails a read or write "interrupted").
        callerInterrupted(f, c, e);
        return;
      }
      f.onFailure(c, e);
      return;
    } catch (RuntimeException | Error t) {
      // The application's code in the attempt threw (an interceptor, an EventListener, a Dns): as
      // OkHttp's dispatcher does with an enqueued call, the attempt is cancelled and fails with an
      // IOException caused by the throwable, so the call ends as it would on the dispatcher.
      // An Error still reaches the caller, once the call has ended.
      cancelQuietly(c);
      f.onFailure(c, new IOException("canceled due to " + t, t));
      if (t instanceof Error error) {
        throw error;
      }
      return;
    } catch (Exception e) {
      if (e instanceof InterruptedException) {
        // OkHttp's execute() throws the InterruptedException of a caller interrupted while it
        // waits for a connection, though it declares none; the flag is cleared by then.
        Thread.currentThread().interrupt();
        callerInterrupted(f, c, e);
        return;
      }
      // Another checked exception the application's (Kotlin) code threw undeclared: as for an
      // unchecked one above.
      cancelQuietly(c);
      f.onFailure(c, new IOException("canceled due to " + e, e));
      return;
    }
    f.onResponse(c, response);
  }

  /** What the caller's thread saw of its interrupt while it ran the first attempt, if it was. */
  private volatile @Nullable Exception callerInterruptedBy;

  /**
   * The caller's thread was interrupted while it ran the first attempt: as when it is interrupted
   * while it waits for the call, the call is cancelled (its attempt then says nothing about its
   * endpoint and is not retried), and {@code execute()} throws an {@code InterruptedIOException}
   * (see {@link #callerInterruptedBy()}), the interrupt flag kept.
   */
  private void callerInterrupted(InFlight f, Call c, Exception e) {
    boolean answered;
    synchronized (this) {
      // A hedge may have won meanwhile: the call then ends with its response, interrupted or not.
      answered = responseOf(ending) != null;
    }
    if (!answered) {
      callerInterruptedBy = e;
      cancel();
    }
    f.onFailure(c, e instanceof IOException io ? io : new IOException("interrupted", e));
  }

  /** What the caller's thread saw of its interrupt while it ran the first attempt; null if none. */
  @Nullable Exception callerInterruptedBy() {
    return callerInterruptedBy;
  }

  /**
   * Starts the call: {@code cb} is the callback of {@code enqueue()}, null for {@code execute()}
   * (which {@link #execute} starts); {@code callTimeoutNanos} is the OkHttp call timeout the caller
   * set, 0 for none.
   *
   * @throws IllegalStateException if the call was already executed
   */
  void begin(@Nullable Callback cb, long callTimeoutNanos) {
    start(cb, callTimeoutNanos);
  }

  /**
   * {@link #begin}; returns the first attempt if the call kept it for the caller's thread ({@code
   * execute()} with {@code callerRunsFirstAttempt}), taken under the lock that launched it.
   */
  private @Nullable InFlight start(@Nullable Callback cb, long callTimeoutNanos) {
    CallObserver observer = core.observer;
    boolean pending;
    InFlight mine;
    if (observer == null) {
      // No user code to run between the two steps: one turn of the lock.
      synchronized (this) {
        beginLocked(cb);
        state = State.RUNNING;
        startLocked(cb, callTimeoutNanos);
        pending = drainDueLocked();
        mine = callerAttempt;
        callerAttempt = null;
      }
    } else {
      synchronized (this) {
        beginLocked(cb);
      }
      Object context = null;
      try {
        context = observer.callStarted(core.settings.service(), request);
      } catch (RuntimeException | Error e) {
        log.warn("CallObserver.callStarted threw for {} {}", request.method(), path(), e);
      }
      synchronized (this) {
        rare().observerContext = context;
        state = State.RUNNING;
        startLocked(cb, callTimeoutNanos);
        pending = drainDueLocked();
        mine = callerAttempt;
        callerAttempt = null;
      }
    }
    if (pending) {
      drain();
    }
    return mine;
  }

  @GuardedBy("this")
  private void beginLocked(@Nullable Callback cb) {
    if (state != State.NEW) {
      throw new IllegalStateException("Already Executed");
    }
    state = State.STARTING;
    callback = cb;
    start = core.ticker.nanos();
  }

  /**
   * Whether {@link #drain()} has anything to do for this thread: the usual start of an {@code
   * execute()} that runs its first attempt itself queues nothing, and skips it. Caller holds the
   * lock.
   */
  @GuardedBy("this")
  private boolean drainDueLocked() {
    List<FailoverEvent> p = pendingEvents;
    return (p != null && !p.isEmpty())
        || state == State.FINISHED
        || (rare != null && rare.pendingCancels != null)
        || pendingSends != null
        || pendingCloses != null;
  }

  /** Starts sending attempts, or fails a call cancelled while it began. Caller holds the lock. */
  @GuardedBy("this")
  private void startLocked(@Nullable Callback cb, long callTimeoutNanos) {
    callerRuns = cb == null && core.callerRunsFirstAttempt();
    long total = core.settings.deadline().toNanos();
    RequestOptions options = RequestOptions.of(request);
    if (options != null && options.deadline() != null) {
      total = options.deadline().toNanos();
    }
    if (callTimeoutNanos > 0) {
      total = Math.min(total, callTimeoutNanos);
    }
    deadlineAt = Deadline.after(start, total).at();
    Duration configured = core.settings.attemptTimeout();
    attemptTimeoutNanos =
        configured != null
            ? configured.toNanos()
            : Math.max(1, total / core.settings.maxAttempts());
    core.budget.deposit(start);
    core.hedger.onCall(start);
    core.calls.increment();
    core.register(this);
    if (canceled || core.isClosed()) {
      failLocked(FailoverException.Reason.CANCELLED);
    } else {
      try {
        if (cb != null) {
          // execute() needs no timer: the caller's timed wait ends the call at its deadline. The
          // deadline counts from the call's start, before the observer's callStarted ran.
          if (core.realTime) {
            deadlineTimeout = core.timeouts.armAt(start + total, this);
          } else {
            rare().deadlineTimer =
                core.scheduler.schedule(
                    this::onDeadline,
                    Math.max(0, deadline().remaining(core.ticker.nanos())),
                    TimeUnit.NANOSECONDS);
          }
        }
        // The call's start is the first attempt's and the probe's "now": the clock is read once.
        launchLocked(Attempt.Kind.FIRST, start);
        probeLocked(start);
      } catch (RejectedExecutionException e) {
        failLocked(FailoverException.Reason.CANCELLED);
      }
    }
  }

  /** Sends one attempt to the best endpoint not yet tried. Caller holds the lock. */
  @GuardedBy("this")
  private void launchLocked(Attempt.Kind kind) {
    launchLocked(kind, core.ticker.nanos());
  }

  /** Sends one attempt, {@code now} being the time read under this lock. Caller holds the lock. */
  @GuardedBy("this")
  private void launchLocked(Attempt.Kind kind, long now) {
    if (state != State.RUNNING) {
      return;
    }
    long remaining = deadline().remaining(now);
    if (remaining < core.minAttemptNanos) {
      if (noneInFlight()) {
        failLocked(FailoverException.Reason.DEADLINE_EXCEEDED);
      }
      return;
    }
    Router.Pick pick;
    if (firstTried == null && (rare == null || rare.tried == null)) {
      pick = core.router.next(now, Set.of(), Set.of(), List.of());
    } else {
      pick =
          core.router.next(
              now,
              triedLocked(),
              triedZonesLocked(),
              noneInFlight() ? List.of() : runningEndpointsLocked());
    }
    if (pick == null) {
      if (!noneInFlight()) {
        return; // a hedge found no other endpoint; the attempts in flight decide the call
      }
      giveUpLocked(
          firstEnded == null
              ? FailoverException.Reason.NO_ENDPOINT
              : FailoverException.Reason.RETRIES_EXHAUSTED,
          null);
      return;
    }
    EndpointState ep = pick.endpoint();
    if (pick.startedOver()) {
      // Every endpoint was tried: a new round, in which the ones still in flight count as tried,
      // so that the next attempts go round the others again rather than start over each time.
      Set<EndpointState> t = triedLocked();
      Set<String> z = triedZonesLocked();
      t.clear();
      z.clear();
      for (InFlight f : inFlightLocked()) {
        t.add(f.endpoint);
        z.add(f.endpoint.zoneKey);
      }
    }
    if (firstTried == null && (rare == null || rare.tried == null)) {
      firstTried = ep;
    } else {
      triedLocked().add(ep);
      triedZonesLocked().add(ep.zoneKey);
    }
    // OkHttp may resend within the attempt only a request the SDK would send again: idempotent,
    // with a body it can write twice (OkHttp's own guards look at isOneShot(), not isDuplex()).
    boolean resendable = idempotent && replayable;
    ClientCore.AttemptTag tag = new ClientCore.AttemptTag(resendable);
    int number = endedCount() + inFlightCount() + 1;
    Request attemptRequest = attemptRequest(ep, tag, kind, number);
    send(
        ep,
        attemptRequest,
        deadline().attemptTimeout(now, attemptTimeoutNanos),
        eventListeners.isEmpty() ? List.of() : List.copyOf(eventListeners),
        tag,
        number,
        kind,
        now,
        pick.acquired(),
        pick.lastResort());
    sent++;
    if (kind == Attempt.Kind.RETRY) {
      retries++;
      core.retries.increment();
    }
    scheduleHedgeLocked(now);
  }

  /** The attempts in flight, in the order they were sent. Caller holds the lock. */
  @GuardedBy("this")
  private List<InFlight> inFlightLocked() {
    List<InFlight> all = allInFlight;
    if (all != null) {
      return all;
    }
    InFlight sole = soleInFlight;
    return sole == null ? List.of() : List.of(sole);
  }

  /** How many attempts are in flight. Caller holds the lock. */
  @GuardedBy("this")
  private int inFlightCount() {
    List<InFlight> all = allInFlight;
    return all != null ? all.size() : soleInFlight != null ? 1 : 0;
  }

  /** Whether no attempt is in flight. Caller holds the lock. */
  @GuardedBy("this")
  private boolean noneInFlight() {
    return inFlightCount() == 0;
  }

  /** Records {@code f} as in flight, after the others. Caller holds the lock. */
  @GuardedBy("this")
  private void addInFlight(InFlight f) {
    List<InFlight> all = allInFlight;
    if (all == null) {
      InFlight sole = soleInFlight;
      if (sole == null) {
        soleInFlight = f;
        return;
      }
      all = new SmallList<>();
      all.add(sole);
      soleInFlight = null;
      allInFlight = all;
    }
    all.add(f);
  }

  /**
   * Takes {@code f} off the attempts in flight; returns whether it was one. Caller holds the lock.
   */
  @GuardedBy("this")
  private boolean removeInFlight(InFlight f) {
    List<InFlight> all = allInFlight;
    if (all != null) {
      return all.remove(f);
    }
    if (soleInFlight == f) {
      soleInFlight = null;
      return true;
    }
    return false;
  }

  /** How many attempts ended. Caller holds the lock. */
  @GuardedBy("this")
  private int endedCount() {
    List<InFlight> all = allEnded;
    return all != null ? all.size() : firstEnded != null ? 1 : 0;
  }

  /** Records that {@code f} ended. Caller holds the lock. */
  @GuardedBy("this")
  private void addEnded(InFlight f) {
    InFlight first = firstEnded;
    if (first == null) {
      firstEnded = f;
      return;
    }
    List<InFlight> all = allEnded;
    if (all == null) {
      all = new SmallList<>();
      all.add(first);
      allEnded = all;
    }
    all.add(f);
  }

  /** The attempts that ended, in the order they ended. Caller holds the lock. */
  @GuardedBy("this")
  private List<InFlight> endedLocked() {
    List<InFlight> all = allEnded;
    if (all != null) {
      return all;
    }
    InFlight first = firstEnded;
    return first == null ? List.of() : List.of(first);
  }

  /** The endpoints tried this round, made now if not yet. Caller holds the lock. */
  @GuardedBy("this")
  private Set<EndpointState> triedLocked() {
    Rare r = rare();
    Set<EndpointState> t = r.tried;
    if (t == null) {
      t = new SmallSet<>();
      Set<String> z = new SmallSet<>();
      EndpointState first = firstTried;
      if (first != null) {
        t.add(first);
        z.add(first.zoneKey);
        firstTried = null;
      }
      r.tried = t;
      r.triedZones = z;
    }
    return t;
  }

  /** The zones tried this round, made now if not yet. Caller holds the lock. */
  @GuardedBy("this")
  private Set<String> triedZonesLocked() {
    triedLocked();
    return requireNonNull(rare().triedZones);
  }

  /** The endpoints of this call's attempts in flight. Caller holds the lock. */
  @GuardedBy("this")
  private List<EndpointState> runningEndpointsLocked() {
    List<EndpointState> running = new ArrayList<>(inFlightCount());
    for (InFlight f : inFlightLocked()) {
      running.add(f.endpoint);
    }
    return running;
  }

  /** The attempt's OkHttp request: the caller's, sent to {@code ep}, with the attempt's tags. */
  @GuardedBy("this")
  private Request attemptRequest(
      EndpointState ep, ClientCore.AttemptTag tag, Attempt.Kind kind, int number) {
    return core.attemptRequests.make(
        request,
        ep.endpointUrl.attemptUrl(request.url()),
        ClientCore.AttemptTag.KEY,
        tag,
        core.observer == null
            ? null
            : new AttemptContext(
                rare == null ? null : rare.observerContext, kind, number, ep.endpoint));
  }

  /**
   * Records an attempt as in flight and queues it to be sent after the lock, where its OkHttp call
   * is made ({@link #newAttemptCall}). Caller holds the lock.
   */
  @GuardedBy("this")
  private void send(
      EndpointState ep,
      Request attemptRequest,
      long timeoutNanos,
      List<EventListener> listeners,
      ClientCore.AttemptTag tag,
      int number,
      Attempt.Kind kind,
      long now,
      boolean acquired,
      boolean lastResort) {
    InFlight f = new InFlight(ep, attemptRequest, timeoutNanos, listeners, tag, number, kind, now);
    f.acquired = acquired;
    f.lastResort = lastResort;
    addInFlight(f);
    ep.begin();
    core.attempts.increment();
    if (callerRuns && kind == Attempt.Kind.FIRST) {
      callerRuns = false;
      if (core.callerRuns(attemptRequest.isHttps(), !listeners.isEmpty(), attemptRequest.body())) {
        callerAttempt = f; // execute() runs it on the caller's thread, after the lock
        firstRunByCaller = true;
        return;
      }
    }
    // Enqueued after the lock (sendAll): OkHttp may call back at once, on this thread.
    List<InFlight> p = pendingSends;
    if (p == null) {
      p = new ArrayList<>(2);
      pendingSends = p;
    }
    p.add(f);
  }

  /**
   * Takes the OkHttp calls of the attempts that the call's end cancelled under the lock, for {@link
   * #cancelAll} after it (their outcome is already decided: OkHttp's failure report, whenever it
   * comes, only closes what is left). An attempt whose call is not made yet is cancelled by {@link
   * #newAttemptCall} once made. Caller holds the lock.
   */
  @GuardedBy("this")
  private @Nullable List<Call> takeCancelsLocked() {
    Rare r = rare;
    List<InFlight> cancelled = r == null ? null : r.pendingCancels;
    if (r == null || cancelled == null) {
      return null;
    }
    r.pendingCancels = null;
    List<Call> calls = new ArrayList<>(cancelled.size());
    for (InFlight f : cancelled) {
      Call c = f.call;
      if (c != null) {
        calls.add(c);
      }
    }
    return calls;
  }

  /**
   * Cancels attempts' OkHttp calls, outside the lock, on the thread that drains: never the
   * scheduler's.
   */
  private static void cancelAll(@Nullable List<Call> calls) {
    if (calls != null) {
      for (Call c : calls) {
        cancelQuietly(c);
      }
    }
  }

  /**
   * Cancels an attempt's OkHttp call. OkHttp tells the application's {@code EventListener} last
   * ({@code canceled}), once the call is cancelled: if the listener throws, the call is cancelled
   * all the same, and the SDK goes on (the other attempts, the call's events and its end).
   */
  static void cancelQuietly(Call c) {
    try {
      c.cancel();
    } catch (RuntimeException | Error e) {
      log.warn("Failover: an EventListener threw from canceled(); the attempt is cancelled", e);
    }
  }

  /** Hands the attempts decided under the lock to OkHttp. Outside the lock. */
  private void sendAll(@Nullable List<InFlight> sends) {
    if (sends == null) {
      return;
    }
    for (InFlight f : sends) {
      Call c = newAttemptCall(f);
      if (c != null) {
        try {
          c.enqueue(f);
        } catch (RuntimeException | Error e) {
          // OkHttp runs the application's EventListener.callStart in enqueue(), before it hands
          // the call to its dispatcher: when it throws, the call never runs and no callback comes.
          // As OkHttp does when a listener throws on its dispatcher, the attempt is cancelled and
          // fails with an IOException caused by it: cancelled by the application's code, it
          // counts against no endpoint and is not retried. (What the application's listeners throw
          // from dispatcherQueueStart is skipped by GuardedEventListener; should OkHttp have
          // queued it all the same, it fails it too: told once, taken once.)
          Timeouts.Timeout t = f.tag.timeout;
          if (t != null) {
            t.disarm();
          }
          cancelQuietly(c);
          f.onFailure(c, new IOException("canceled due to " + e, e));
        }
      }
    }
  }

  /**
   * Makes an attempt's OkHttp call, outside the lock: OkHttp's {@code newCall} runs the {@code
   * EventListener.Factory} of the application's {@code OkHttpClient}. If the call ended meanwhile,
   * the attempt's call is cancelled before it is sent, and OkHttp fails it at once (CANCELLED); if
   * the call ends after, its drain cancels it ({@link #cancelAll}). Returns null if OkHttp could
   * not make it (the factory threw): the attempt has then failed as one that never left.
   */
  private @Nullable Call newAttemptCall(InFlight f) {
    if (!claimMade(f)) {
      // The call ended after this retry or hedge was decided and before this thread got to send
      // it: it is never made, so the application's listener factory, callStart and interceptors
      // never run for it, and its tokens go back.
      overtaken(f);
      return null;
    }
    Call c;
    try {
      // OkHttp resends within the attempt only what the SDK would send again (its tag says).
      c =
          core.attemptClient(
                  f.tag.idempotent, f.timeoutNanos, f.attemptRequest.isHttps(), direct(f))
              .newCall(f.attemptRequest);
    } catch (RuntimeException | Error e) {
      f.notMade(e);
      return null;
    }
    if (owner instanceof FailoverCall call) {
      call.copyTagsTo(c);
    }
    for (int i = 0; i < f.listeners.size(); i++) {
      c.addEventListener(GuardedEventListener.of(f.listeners.get(i)));
    }
    c.addEventListener(ATTEMPT_END);
    // No lock: the call is published, then the flags are read, all volatile. Whoever ends the
    // attempt sets its flag, then reads its call (takeCancelsLocked, timedOut): so at least one
    // side sees the other and cancels (OkHttp's cancel() may run twice; it is idempotent).
    f.call = c;
    boolean ended = f.cancelled || f.timedOut;
    if (ended) {
      cancelQuietly(c);
    } else {
      // On real time the attempt's start is a reading of System.nanoTime: no need for another.
      f.tag.timeout =
          core.realTime
              ? core.timeouts.armAt(f.start + f.timeoutNanos, f)
              : core.timeouts.arm(f.timeoutNanos, f);
    }
    return c;
  }

  /**
   * Whether the attempt goes without the SDK's first interceptor ({@link ClientCore#direct()}): a
   * first attempt on the caller's thread whose call has no event listener of the application's.
   */
  private boolean direct(InFlight f) {
    return f.tag.onCaller && f.listeners.isEmpty() && core.direct();
  }

  /**
   * Ends an attempt that the call's end overtook before its OkHttp call was made: it never left,
   * blames no endpoint, and the budget tokens it took go back.
   */
  private void overtaken(InFlight f) {
    synchronized (this) {
      f.lostRace = false; // it raced nothing
      f.lostToWinner = false;
      f.slowLoser = false;
      f.overtaken = true;
      // Nor is it counted: it was counted as it was decided.
      core.attempts.decrement();
      if (f.kind == Attempt.Kind.RETRY) {
        core.retries.decrement();
        core.budget.refund(rare().retryTokenAt);
      } else if (f.kind == Attempt.Kind.HEDGE) {
        core.hedgesSent.decrement();
        core.hedger.refund(f.start, core.budget); // taken when it was decided, its start
      }
    }
    f.onFailure(owner, new IOException("Canceled"));
  }

  /**
   * Disarms an attempt's timeout when OkHttp ends its call: once its response body is closed (or at
   * once when an interceptor answered without the network), or when it failed. Until then the
   * timeout bounds reading the body, as OkHttp's own call timeout did.
   */
  static final EventListener ATTEMPT_END =
      new EventListener() {
        @Override
        public void callEnd(Call call) {
          disarm(call);
        }

        @Override
        public void callFailed(Call call, IOException ioe) {
          disarm(call);
        }

        /**
         * The lookup OkHttp asks for next on this thread is for an attempt on its caller's thread:
         * CallerDns runs it on one of the client's.
         */
        @Override
        public void dnsStart(Call call, String domainName) {
          ClientCore.AttemptTag tag = call.request().tag(ClientCore.AttemptTag.KEY);
          if (tag != null && tag.onCaller) {
            CallerDns.LOOKING_UP.set(call);
          }
        }

        /**
         * A new connection for the attempt (OkHttp's own retry, or an interceptor's): how it failed
         * on the one before is not how it ends, whatever exception an interceptor then throws. (Not
         * on a pooled connection's reuse, on every attempt's path: a failure there comes through
         * the network interceptor, which notes it anew if it is a connection's; an interceptor that
         * then rethrows the earlier exception is the case this leaves.)
         */
        @Override
        public void connectStart(
            Call call, java.net.InetSocketAddress address, java.net.Proxy proxy) {
          ClientCore.AttemptTag tag = call.request().tag(ClientCore.AttemptTag.KEY);
          if (tag != null && tag.loss != null) {
            tag.loss = null;
          }
        }

        /**
         * Reading a response's body failed: after the SDK counted its attempt a success if it got
         * the headers (the body of an answer broke off: a reset, a truncated body), which counts
         * against its endpoint; not a cancel (the caller's, the call's end, the attempt's timeout,
         * whose slowness may be the caller's reading) nor a read timeout.
         */
        @Override
        public void responseFailed(Call call, IOException ioe) {
          ClientCore.AttemptTag tag = call.request().tag(ClientCore.AttemptTag.KEY);
          EndpointState answeredBy = tag == null ? null : tag.answeredBy;
          if (answeredBy == null
              || tag.timedOut
              || call.isCanceled()
              || Classifier.closedByReader(ioe)) {
            return;
          }
          Outcome outcome = Classifier.classify(ioe, true, false);
          if (outcome == Outcome.RESET || outcome == Outcome.PROTOCOL_ERROR) {
            tag.answeredBy = null;
            okhttp3.Connection c = tag.connection;
            answeredBy.bodyFailed(
                outcome,
                c != null && Classifier.connectionFailure(ioe)
                    ? new EndpointState.Loss(c, ioe, Classifier.givenUpUnder(c, ioe))
                    : null);
          }
        }

        /**
         * A new connection's TLS handshake is about to start: not for an attempt already cancelled
         * (its timeout, the call's end). OkHttp tells this after it registered the connection for
         * its cancel, which then closes the socket under the handshake; a cancel that came before
         * that registration (between the TCP connect's step and this one) closed nothing, and it is
         * seen here (both sides write, then read, volatile state: at least one sees the other).
         * Without it such a handshake would run on bounded only by the socket's timeout, which
         * attempts over HTTPS may go without ({@code ClientCore.attemptClient}). OkHttp fails the
         * connection with what this throws, as with its own cancel.
         */
        @Override
        public void secureConnectStart(Call call) {
          if (call.isCanceled()) {
            throw CallStateMachine.<RuntimeException>sneaky(new IOException("Canceled"));
          }
        }

        private void disarm(Call call) {
          ClientCore.AttemptTag tag = call.request().tag(ClientCore.AttemptTag.KEY);
          Timeouts.Timeout t = tag == null ? null : tag.timeout;
          if (t != null) {
            t.disarm();
          }
        }
      };

  /**
   * Throws {@code e}, a checked exception, from a method that declares none: OkHttp's listener
   * methods declare none, and OkHttp catches the {@code IOException} where it calls them.
   */
  @SuppressWarnings("unchecked")
  private static <T extends Throwable> RuntimeException sneaky(Throwable e) throws T {
    throw (T) e;
  }

  /**
   * About once a second per evacuated zone, an idempotent call probes it: the probe is raced at
   * once with the call's normal first attempt, so it costs the caller nothing.
   */
  @GuardedBy("this")
  private void probeLocked(long now) {
    if (state != State.RUNNING || !idempotent || !replayable) {
      return;
    }
    if (deadline().remaining(now) < core.minAttemptNanos) {
      // The deadline (nearly) passed while the call began: no probe (its timeout would be < 0).
      return;
    }
    EndpointState ep = core.router.probeFor(now);
    if (ep == null) {
      return;
    }
    triedLocked().add(ep);
    ClientCore.AttemptTag tag = new ClientCore.AttemptTag(true);
    int number = endedCount() + inFlightCount() + 1;
    Request attemptRequest = attemptRequest(ep, tag, Attempt.Kind.PROBE, number);
    send(
        ep,
        attemptRequest,
        deadline().attemptTimeout(now, attemptTimeoutNanos),
        List.of(),
        tag,
        number,
        Attempt.Kind.PROBE,
        now,
        true,
        false);
  }

  /** Arms the timer of the next hedge, if this call may hedge. Caller holds the lock. */
  @GuardedBy("this")
  private void scheduleHedgeLocked(long now) {
    if (!hedgeable || state != State.RUNNING || hedges >= core.hedger.policy.maxHedges()) {
      return;
    }
    Rare r = rare();
    Future<?> previous = r.hedgeTimer;
    if (previous != null) {
      previous.cancel(false);
    }
    r.hedgeArmedAt = now;
    r.hedgeHeldLooks = 0;
    armHedgeLocked(now, core.hedger.delayNanos(now));
  }

  /** Arms the hedge timer to fire {@code delay} after {@code now}, if time allows. */
  @GuardedBy("this")
  private void armHedgeLocked(long now, long delay) {
    if (!deadline().fits(now, delay, core.minAttemptNanos)) {
      return;
    }
    try {
      Rare r = rare();
      int arming = ++r.hedgeArmings;
      r.hedgeTimer = core.scheduler.schedule(() -> hedgeNow(arming), delay, TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException e) {
      // Closing.
    }
  }

  private void hedgeNow(int arming) {
    synchronized (this) {
      Rare r = rare();
      if (arming != r.hedgeArmings) {
        return; // the timer armed after it is the current one, and still cancellable
      }
      r.hedgeTimer = null;
      try {
        // A timer that waited for the lock while a retry was scheduled hedges nothing: with no
        // attempt in flight, the retry sends the next attempt.
        if (r.retryTimer == null && !noneInFlight()) {
          hedgeLocked(true);
        }
      } catch (RuntimeException e) {
        log.error(
            "Failover: sending a hedge of {} {} failed; the attempts in flight go on",
            request.method(),
            path(),
            e);
      }
    }
    drainOffScheduler();
  }

  /**
   * Sends a hedge now if the hedge cap and the budgets allow. Returns whether one was sent. On the
   * timer ({@code onTimer}), a hedge the bucket cannot afford yet waits until the attempt it hedges
   * has run as long as the affordable percentile instead of being refused.
   */
  @GuardedBy("this")
  private boolean hedgeLocked(boolean onTimer) {
    if (state != State.RUNNING
        || (rare != null && rare.applicationBodyFailure != null)
        || !hedgeable
        || hedges >= core.hedger.policy.maxHedges()
        || sent >= core.settings.maxAttempts()) {
      return false;
    }
    long now = core.ticker.nanos();
    Duration delay = Duration.ofNanos(core.hedger.delayNanos(now));
    if (onTimer) {
      long required = core.hedger.requiredDelayNanos(now);
      Rare r = rare();
      long ranFor = now - r.hedgeArmedAt;
      if (ranFor < required) {
        // Spend the scarce tokens on the slowest calls: come back when this one is that slow.
        armHedgeLocked(now, required - ranFor);
        return false;
      }
      InFlight hedged = hedgedAttemptLocked();
      if (hedged != null
          && !hedged.tag.reachedSdk
          && !(firstRunByCaller && hedged.kind == Attempt.Kind.FIRST)
          && core.retrying.dispatcher().queuedCallsCount() > 0) {
        // The attempt it would hedge has not left the client yet and every slot of maxRequests is
        // taken, so it is likely still queued for one: its endpoint is not slow, and a hedge
        // would queue behind it, spending a hedge and a retry token on the client's own delay.
        // Look again later: one delay (at least a tick of the pause detector), then twice as long
        // each time up to a second, so that a long queue of calls does not keep the scheduler
        // busy. Held in the application's interceptors with slots free, it is hedged: an
        // interceptor that holds one destination (a per-host rate limiter) may let another through.
        long look = Math.max(delay.toNanos(), ClientHealth.TICK_NANOS);
        long most = Math.max(look, Hedger.SECOND);
        int doublings = Math.min(r.hedgeHeldLooks, 16);
        r.hedgeHeldLooks++;
        armHedgeLocked(now, Math.min(most, look << doublings));
        return false;
      }
      if (r.hedgeHeldLooks > 0 && hedged != null) {
        // It left the queue since: its endpoint gets a whole hedge delay from when it reached the
        // SDK (from now, if it is still in the application's interceptors).
        r.hedgeHeldLooks = 0;
        long from = hedged.tag.reachedSdk ? hedged.tag.reachedSdkAt : now;
        long left = from + delay.toNanos() - now;
        if (left > 0) {
          armHedgeLocked(now, left);
          return false;
        }
      }
    }
    if (!core.hedger.tryAcquire(now, core.budget)) {
      core.hedgesRefused.increment();
      emitHedge(FailoverEvent.HedgeAction.REFUSED, null, delay);
      return false;
    }
    hedges++;
    int before = inFlightCount();
    launchLocked(Attempt.Kind.HEDGE, now);
    List<InFlight> running = inFlightLocked();
    if (running.size() > before) {
      core.hedgesSent.increment();
      InFlight hedge = running.get(running.size() - 1);
      FailoverEvent.Hedge sentEvent =
          new FailoverEvent.Hedge(
              core.settings.service(),
              request.method(),
              path(),
              FailoverEvent.HedgeAction.SENT,
              hedge.endpoint.endpoint,
              delay);
      hedge.sentEvent = sentEvent; // emitted only if it is made: see sentHedgeMade
      emitLocked(sentEvent);
      return true;
    }
    // No endpoint could take the hedge (or too little time was left): give the tokens back.
    hedges--;
    core.hedger.refund(now, core.budget);
    return false;
  }

  /**
   * The attempt the hedge timer counts for: the one sent last, probes aside; null if none is in
   * flight. Caller holds the lock.
   */
  @GuardedBy("this")
  private @Nullable InFlight hedgedAttemptLocked() {
    List<InFlight> running = inFlightLocked();
    for (int i = running.size() - 1; i >= 0; i--) {
      InFlight g = running.get(i);
      if (g.kind != Attempt.Kind.PROBE) {
        return g;
      }
    }
    return null;
  }

  /**
   * How {@code tag}'s attempt failed on its connection, if {@code failure} is that failure; null if
   * it failed otherwise, or if OkHttp tried it again since (a silent retry whose new connection was
   * refused ends with another failure).
   */
  static EndpointState.@Nullable Loss lossOf(
      ClientCore.AttemptTag tag, @Nullable IOException failure) {
    EndpointState.Loss loss = tag.loss;
    return loss != null && loss.failure() == failure ? loss : null;
  }

  private void onResult(InFlight f, @Nullable Response response, @Nullable IOException failure) {
    long now = core.ticker.nanos();
    long duration = now - f.start;
    Outcome outcome;
    if (response != null) {
      outcome = Classifier.classify(response.code(), core.retryableStatuses);
    } else {
      outcome =
          Classifier.classify(
              requireNonNull(failure), f.tag.sent(), f.cancelled || f.cancelledElsewhere);
    }
    // An overtaken attempt is slow only if it stood out: it ran at least twice as long as the
    // attempt that overtook it, and at least twice its region's usual latency. Losing by a hair to
    // a hedge says nothing about the endpoint, nor does losing to a nearer region: a far region is
    // not slow (nor is the client, which slowness in two regions at once would suggest).
    boolean reachedSdk = f.tag.reachedSdk;
    // What the endpoint is judged on: the time since the attempt reached the SDK's interceptor, not
    // since it was handed to OkHttp. Before that it waited in the client (for a slot of
    // maxRequests, in the application's interceptors), which says nothing about the endpoint. A
    // timeout is the exception: it ran its whole time, and when it began is judged by the rules
    // below.
    long judged = reachedSdk && outcome != Outcome.TIMEOUT ? now - f.tag.reachedSdkAt : duration;
    boolean slow = f.slowLoser && f.endpoint.slowForItsRegion(judged - f.setupNanos - f.pauseHeld);
    if (slow || outcome == Outcome.TIMEOUT) {
      core.clientHealth.slowIn(f.endpoint.endpoint.locality().region(), judged, now);
    }
    // "Network is unreachable" in two zones at once: the client's own network (checked after this
    // one is noted, so that the failure that completes the pair is excused too).
    boolean unreachable =
        outcome == Outcome.CONNECT_FAILED && Classifier.networkUnreachable(failure);
    if (unreachable) {
      core.clientHealth.unreachableIn(f.endpoint.endpoint.locality(), now);
    }
    boolean clientStalled = core.clientHealth.stalled(now);
    // Only a stall as long as half the attempt explains it away.
    // (Asked only of a failure: a response is no timeout, and explains() adds up the late ticks of
    // the attempt's time under the detector's lock, which a starved host's results all take.)
    boolean stallExplains =
        clientStalled && failure != null && core.clientHealth.explains(duration, now);
    // A connection that did not open in time (a connect or TLS handshake timeout) is no refusal:
    // it never corroborates an outage by itself. While the client starts up or stalls, when a cold
    // JVM's first handshakes or a starved host time out every endpoint's connects at once, it
    // counts as a timeout does, once per stall; otherwise (a blackholed endpoint) each one counts.
    boolean connectTimedOut = Classifier.connectTimedOut(outcome, failure);
    boolean oncePerStall =
        outcome == Outcome.TIMEOUT
            || (connectTimedOut && (clientStalled || core.clientHealth.startingUp(f.start)));
    // Answered in the client, never put on the network (the network interceptor never saw it): by
    // OkHttp's cache (a hit, or the 504 it makes up for an only-if-cached request it cannot
    // satisfy), or by an interceptor of the application's that answered itself (a client-side
    // limiter's 503). The application's own answer: no evidence about the endpoint or its zone
    // (once, it ejected healthy endpoints), and handed to the caller as it is, as bare OkHttp
    // hands it. Not a response an interceptor made out of a failure below it (a fallback for a
    // refused connection stands for that failure), nor one that went through the SDK's
    // interceptor to another origin only (an egress gateway's, whose request lost its tags).
    boolean local =
        response != null
            && !f.tag.sent()
            && !f.tag.failedBelow
            && !(f.tag.passedSdk && !reachedSdk);
    // The application's request body failed as OkHttp wrote it (its own source broke off), or was
    // one OkHttp refuses on the connection (duplex on HTTP/1): its own failure, no evidence, and
    // never sent again (another endpoint would get the same body), as bare OkHttp does not.
    boolean bodyFailed = response == null && f.tag.applicationBodyFailed;
    boolean excused =
        local
            || bodyFailed
            || f.notMade
            // Cancelled before it reached the SDK (held in the queue for maxRequests or in the
            // application's interceptors): it never reached its endpoint, and its time is not one.
            || (outcome == Outcome.CANCELLED && !reachedSdk)
            // The client's host ran out of ports or file descriptors: nothing the endpoint did.
            || (outcome == Outcome.CONNECT_FAILED && Classifier.clientResourcesExhausted(failure))
            // The client's network is gone: every zone is unreachable from it.
            || (unreachable && core.clientHealth.networkDown(now))
            // It got through the SDK's interceptor only with requests to another origin (a token
            // fetched through the chain whose service is down, a sidecar): the endpoint was never
            // asked. (Retried all the same: it never left for the endpoint.)
            || (f.tag.passedSdk && !reachedSdk && outcome != Outcome.SUCCESS)
            || Classifier.clientsOwnTimeout(
                outcome,
                failure,
                reachedSdk,
                reachedSdk && 2 * (f.tag.reachedSdkAt - f.start) > f.timeoutNanos,
                f.timedOut && !f.cancelled,
                stallExplains)
            // Another attempt on the same connection failed as it died (a stream of one HTTP/2
            // connection), and was counted: one connection lost is one failure. Tested last, so
            // that a failure excused otherwise notes nothing.
            || ((outcome == Outcome.RESET || outcome == Outcome.PROTOCOL_ERROR)
                && f.endpoint.sameLoss(lossOf(f.tag, failure)));
    boolean counted =
        excused
            ? f.endpoint.excuse(f.acquired)
            : f.endpoint.record(
                outcome, judged, now, slow, stallExplains, f.acquired, oncePerStall, clientStalled);
    if (excused) {
      // Says nothing about the zone either.
    } else if (outcome == Outcome.CANCELLED || oncePerStall) {
      if (counted
          && (outcome == Outcome.CANCELLED
              || !clientStalled
              || core.clientHealth.pauseWithin(f.start, now, now) == 0)) {
        // Slowness evidence, once per stall: a zone whose attempts keep losing stands out. Not a
        // timeout that a pause of the client's measured went through, which still counts against
        // its endpoint: which zone's attempts time out in a stall is an accident of timing
        // (retries and hedges land in its worst moments), and a healthy zone that took them was
        // evacuated on its error rate. A race lost by far is relative evidence, and counts.
        f.endpoint.zone.record(true, false, judged, now);
      }
    } else if (outcome.isEndpointFailure() || outcome == Outcome.THROTTLED) {
      f.endpoint.zone.record(true, Classifier.refused(outcome, failure), judged, now);
    } else {
      // No latency while the client stalls or from its first seconds (a cold JVM), even for an
      // attempt that ends after them: the zone's window outlasts the start-up grace, and would
      // judge that latency once it ended.
      // (One that ends in the grace began in it: testing when it began covers both.)
      boolean untrusted = clientStalled || core.clientHealth.startingUp(f.start);
      f.endpoint.zone.record(false, false, untrusted ? -1 : judged, now);
      if (outcome == Outcome.SUCCESS && response != null && response.networkResponse() != null) {
        // The network answered (not OkHttp's cache): see ClientHealth.unreachableIn.
        core.clientHealth.answered(f.endpoint.endpoint.locality(), f.start, now);
      }
    }
    if (outcome == Outcome.SUCCESS && response != null && !excused) {
      // Its body may still break off as the caller reads it: that counts too.
      f.tag.answeredBy = f.endpoint;
    }
    if (outcome == Outcome.SUCCESS
        && response != null
        && response.code() < 400
        && response.networkResponse() != null) {
      // The server served after it asked for a pause (routing panicked): the pause no longer
      // counts against its zone. (Not a 4xx: an edge's 403, or a 429 the client does not retry.)
      f.endpoint.successAfterHoldOff(f.start, now);
    }
    if ((outcome == Outcome.SUCCESS && !local)
        || (outcome == Outcome.TIMEOUT && !excused)
        || (outcome == Outcome.CANCELLED && f.lostRace)) {
      // What the caller waited, as the hedge timer counts from when the attempt was sent.
      core.hedger.record(duration, now);
    }
    StaleStore staleStore = core.stale;
    StaleStore.Seen seenByServer = f.tag.seen;
    if (seenByServer != null) {
      seen = seenByServer;
    }
    if (staleStore != null
        && response != null
        && outcome == Outcome.SUCCESS
        && !f.cancelled
        && !local) {
      // (Not an answer of OkHttp's cache: the copy would seem to have arrived now, and an old one
      // would be served as new for as long as that cache kept answering.)
      response = staleStore.offer(request, seenByServer, response);
      f.servedAs = response; // the cache's copy-taking wrapper: what the call ends with
    }
    if (f.tag.sent()) {
      anyTransmitted = true;
    }
    int silent = f.tag.silentRetries();
    if (silent > 0) {
      core.budget.charge(now, silent);
    }
    boolean restoreZone;
    synchronized (this) {
      removeInFlight(f);
      // Everything in rotation failed (none of this call's attempts there still runs) and an
      // evacuated zone answered: it was wrongly judged. A last resort that wins while attempts in
      // rotation still run (a hedge racing slow ones) proves no such thing: the zone returns
      // through its probes.
      restoreZone =
          outcome == Outcome.SUCCESS && !local && f.lastResort && !inRotationInFlightLocked();
      f.ended(outcome, response == null ? 0 : response.code(), duration, failure);
      if (!f.overtaken) {
        // (One the call's end overtook before it was made is no attempt of the call.)
        addEnded(f);
        if (core.events.hasListeners()) {
          emitLocked(
              new FailoverEvent.AttemptFinished(
                  core.settings.service(), request.method(), path(), f.attempt(start)));
        }
      }
      if (response != null
          && !local // a client-side limiter's Retry-After holds no endpoint off
          && (outcome == Outcome.UNAVAILABLE || outcome == Outcome.THROTTLED)) {
        Duration retryAfter =
            Backoff.parseRetryAfter(response.header("Retry-After"), core.settings.clock().millis());
        if (retryAfter != null && !retryAfter.isZero()) {
          f.endpoint.holdOff(now, now + Math.min(retryAfter.toNanos(), core.maxRetryAfterNanos));
        }
      }
      if (outcome == Outcome.CANCELLED && f.lostToWinner) {
        // Every loser of a race: a hedge the original beat as well as one the hedge overtook.
        core.hedgesCancelled.increment();
        emitHedge(
            FailoverEvent.HedgeAction.CANCELLED,
            f.endpoint.endpoint,
            Duration.ofNanos(core.hedger.delayNanos(now)));
      }
      if (bodyFailed && (rare == null || rare.applicationBodyFailure == null)) {
        // The call's body is broken: no retry or hedge of it is sent after this, whichever of
        // its attempts ends next (another endpoint would get the same body).
        rare().applicationBodyFailure = failure;
      }
      if (state != State.RUNNING) {
        closeAfterLock(response);
      } else if ((f.kind == Attempt.Kind.PROBE || local || bodyFailed)
          && outcome != Outcome.SUCCESS
          && !noneInFlight()) {
        // A failed probe of an evacuated zone never decides a call that has other attempts, nor
        // does a failure the client made up itself (a limiter's 503 to a hedge, a body that broke
        // off as a hedge wrote it).
        closeAfterLock(response);
      } else if (!outcome.isRetryable() || local || bodyFailed) {
        if (f.kind == Attempt.Kind.HEDGE && response != null && !local) {
          core.hedgesWon.increment();
          emitHedge(
              FailoverEvent.HedgeAction.WON,
              f.endpoint.endpoint,
              Duration.ofNanos(core.hedger.delayNanos(now)));
        }
        if (response != null) {
          winner = f.kind;
          winnerLocal = local;
          winnerStart = f.start;
          servedBy = f;
          finishLocked(response, false);
        } else {
          // A failure that no other endpoint can mend (cancelled, or not safe to repeat).
          finishLocked(exception(FailoverException.Reason.RETRIES_EXHAUSTED, failure), false);
        }
      } else {
        lastResponseBy = response == null ? null : f;
        retryOrGiveUpLocked(f.attempt(start), response, failure, now);
      }
    }
    if (restoreZone) {
      core.router.zones().restoreNow(f.endpoint.zone, now);
    }
    drain();
  }

  /**
   * Whether the hedge whose {@code Hedge SENT} event this is counts as sent: claims it made if it
   * was not yet decided either way (so that the call's end counts it too, and its OkHttp call is
   * made, and cancelled if the call ended). False if the call's end overtook it first.
   */
  @SuppressWarnings("ReferenceEquality") // this very event: two hedges' events may be equal
  private synchronized boolean sentHedgeMade(FailoverEvent.Hedge event) {
    for (InFlight f : inFlightLocked()) {
      if (f.sentEvent == event) {
        return claimMade(f);
      }
    }
    for (InFlight f : endedLocked()) {
      if (f.sentEvent == event) {
        return f.claim == MADE;
      }
    }
    return false; // overtaken, and ended as such (not in the call's attempts)
  }

  /**
   * Whether an attempt of this call to an endpoint in rotation (not a probe or last resort) runs.
   */
  @GuardedBy("this")
  private boolean inRotationInFlightLocked() {
    for (InFlight g : inFlightLocked()) {
      if (g.kind != Attempt.Kind.PROBE && !g.lastResort) {
        return true;
      }
    }
    return false;
  }

  /**
   * Keeps the state machine total: a runtime exception while handling an attempt's outcome ends
   * that attempt as a failure, and the call carries on (retries, or ends) instead of being stranded
   * without a callback.
   */
  private void onHandlerFailure(InFlight f, @Nullable Response response, RuntimeException e) {
    log.error(
        "Failover: handling an attempt of {} {} failed; it counts as a failed attempt",
        request.method(),
        path(),
        e);
    synchronized (this) {
      Response end = responseOf(ending);
      // The call may have ended with it, wrapped by the stale cache: then it is the caller's.
      Response servedAs = f.servedAs != null ? f.servedAs : response;
      if (end == null || servedAs != end) {
        closeAfterLock(response);
      }
      boolean wasInFlight = removeInFlight(f);
      if (state == State.RUNNING) {
        IOException io = new IOException("internal error while handling the attempt: " + e, e);
        long now = core.ticker.nanos();
        try {
          if (wasInFlight) {
            f.ended(Outcome.PROTOCOL_ERROR, 0, now - f.start, io);
            addEnded(f);
            retryOrGiveUpLocked(f.attempt(start), null, io, now);
          } else if (noneInFlight()) {
            lastFailure = io;
            failLocked(FailoverException.Reason.RETRIES_EXHAUSTED);
          }
        } catch (RuntimeException again) {
          lastFailure = io;
          failLocked(FailoverException.Reason.RETRIES_EXHAUSTED);
        }
      }
    }
    drain();
  }

  /** Whether any attempt of this call reached the network (began writing its request). */
  private volatile boolean anyTransmitted;

  @GuardedBy("this")
  private @Nullable Response lastResponse;

  /** The attempt {@link #lastResponse} came from. */
  @GuardedBy("this")
  private @Nullable InFlight lastResponseBy;

  /**
   * The attempt whose response the call ended with, once it did: its OkHttp call owns the body the
   * caller may still be reading, which a {@link #cancel} after the end cancels, as OkHttp's own
   * call's cancel does.
   */
  @GuardedBy("this")
  private @Nullable InFlight servedBy;

  @GuardedBy("this")
  private @Nullable IOException lastFailure;

  @GuardedBy("this")
  private void retryOrGiveUpLocked(
      Attempt attempt, @Nullable Response response, @Nullable IOException failure, long now) {
    IOException bodyFailure = rare == null ? null : rare.applicationBodyFailure;
    if (bodyFailure != null) {
      // An attempt of this call failed writing the application's body: nothing is sent again,
      // and the call fails with that failure once its attempts in flight have ended.
      closeAfterLock(response);
      if (noneInFlight()) {
        closeAfterLock(lastResponse);
        lastResponse = null;
        lastFailure = bodyFailure;
        finishLocked(exception(FailoverException.Reason.RETRIES_EXHAUSTED, bodyFailure), false);
      }
      return;
    }
    lastResponse = response;
    lastFailure = failure;
    if (!noneInFlight()) {
      // Another attempt is still running: a retryable failure fires the next hedge at once,
      // and the attempts in flight decide the call.
      closeAfterLock(response);
      lastResponse = null;
      hedgeLocked(false);
      return;
    }
    // A one-shot body may be sent by a new attempt only if no attempt ever began writing it: the
    // network never saw any attempt of this call (so writeTo was never called).
    boolean bodyUntouched = replayable || (attempt.outcome().neverSent() && !anyTransmitted);
    boolean safe = bodyUntouched && (idempotent || attempt.outcome().neverSent());
    if (!safe) {
      giveUpLocked(FailoverException.Reason.RETRIES_EXHAUSTED, attempt);
      return;
    }
    if (sent >= core.settings.maxAttempts()) {
      // The last attempt allowed ended; if it ended because the deadline came (its timeout was
      // cut to the time left), the deadline is what ended the call, whichever thread saw it first.
      giveUpLocked(
          deadline().remaining(now) <= 0
              ? FailoverException.Reason.DEADLINE_EXCEEDED
              : FailoverException.Reason.RETRIES_EXHAUSTED,
          attempt);
      return;
    }
    long delay = core.backoff.delayNanos(retries + 1, core.random);
    if (!deadline().fits(now, delay, core.minAttemptNanos)) {
      giveUpLocked(FailoverException.Reason.DEADLINE_EXCEEDED, attempt);
      return;
    }
    if (core.budget.tryWithdraw(now)) {
      rare().retryTokenAt = now;
    } else {
      core.budgetExhausted.increment();
      emitLocked(
          new FailoverEvent.BudgetExhausted(
              core.settings.service(), request.method(), path(), attempt));
      giveUpLocked(FailoverException.Reason.BUDGET_EXHAUSTED, attempt);
      return;
    }
    emitLocked(
        new FailoverEvent.RetryScheduled(
            core.settings.service(), request.method(), path(), attempt, Duration.ofNanos(delay)));
    closeAfterLock(response);
    lastResponse = null;
    Rare r = rare(); // made by the retry's token above
    Future<?> pendingHedge = r.hedgeTimer;
    if (pendingHedge != null) {
      // Nothing is in flight: the retry, not a hedge, sends the next attempt.
      pendingHedge.cancel(false);
      r.hedgeTimer = null;
      r.hedgeArmings++; // a timer already waiting for the lock does nothing
    }
    if (delay <= 0) {
      int before = sent;
      launchLocked(Attempt.Kind.RETRY);
      if (sent == before) {
        // No endpoint could take the retry: its token goes back, as after a backoff.
        core.budget.refund(r.retryTokenAt);
      }
    } else {
      try {
        r.retryTimer = core.scheduler.schedule(this::retryNow, delay, TimeUnit.NANOSECONDS);
      } catch (RejectedExecutionException e) {
        core.budget.refund(r.retryTokenAt); // the retry is never sent
        failLocked(FailoverException.Reason.CANCELLED);
      }
    }
  }

  private void retryNow() {
    synchronized (this) {
      Rare r = rare();
      r.retryTimer = null;
      int before = sent;
      try {
        launchLocked(Attempt.Kind.RETRY);
      } catch (RuntimeException e) {
        log.error("Failover: sending a retry of {} {} failed", request.method(), path(), e);
        failLocked(FailoverException.Reason.RETRIES_EXHAUSTED);
      }
      if (sent == before) {
        // No endpoint could take the retry, or too little time was left: its token goes back.
        core.budget.refund(r.retryTokenAt);
      }
    }
    drainOffScheduler();
  }

  // How a call ends. Three decisions lead to the one end, finishLocked:
  // - an attempt's outcome decides it (onResult): its response, or its failure that no other
  //   endpoint can mend;
  // - the call gives up after its last attempt (giveUpLocked): the last response if there was one
  //   (a caller sees the 503), else a stale copy, else the failure;
  // - something outside the attempts ends it (failLocked: the deadline, a cancel, close()): a stale
  //   copy if one may be served (never to a cancelled call), else the failure.

  /**
   * Ends the call after its last attempt, with that attempt's outcome: a stale copy instead of a
   * retryable response, if the cache holds one; else the last response if there was one (a caller
   * sees the 503); else as {@link #failLocked}.
   */
  @GuardedBy("this")
  private void giveUpLocked(FailoverException.Reason reason, @Nullable Attempt last) {
    Response r = lastResponse;
    if (r != null && last != null && last.outcome().isRetryable() && serveStaleLocked()) {
      return;
    }
    if (r != null && last != null) {
      lastResponse = null;
      servedBy = lastResponseBy;
      finishLocked(r, false);
    } else {
      failLocked(reason);
    }
  }

  /**
   * Ends the call for {@code reason} (nothing if it already ended): with a stale copy if the cache
   * holds one and the call was not cancelled, else with a {@link FailoverException} whose cause is
   * the last attempt's failure.
   */
  @GuardedBy("this")
  private void failLocked(FailoverException.Reason reason) {
    if (state != State.RUNNING) {
      return;
    }
    if (reason != FailoverException.Reason.CANCELLED && serveStaleLocked()) {
      return;
    }
    FailoverException e = exception(reason, lastFailure);
    closeAfterLock(lastResponse);
    lastResponse = null;
    finishLocked(e, false);
  }

  /** Ends the call with a stale copy, if the cache holds one; returns whether it did. */
  @GuardedBy("this")
  private boolean serveStaleLocked() {
    StaleStore staleStore = core.stale;
    if (staleStore == null) {
      return false;
    }
    if (anySeen(endedLocked(), s -> s.identityAddedBelow)
        || anySeen(inFlightLocked(), s -> s.identityAddedBelow)) {
      // One attempt showed that this call gets identity below the application's interceptors:
      // the key cannot tell it from other callers, whatever a later attempt got to show.
      return false;
    }
    StaleStore.Seen key = seen;
    for (InFlight f : inFlightLocked()) {
      if (key == null) {
        // The deadline came while every attempt was still in flight (a hanging zone).
        key = f.tag.seen;
      }
    }
    Response copy =
        staleStore.serve(
            request,
            key,
            anySeen(endedLocked(), s -> s.checkedOnNetwork)
                || anySeen(inFlightLocked(), s -> s.checkedOnNetwork));
    if (copy == null) {
      return false;
    }
    closeAfterLock(lastResponse);
    lastResponse = null;
    core.staleServed.increment();
    emitLocked(
        new FailoverEvent.StaleServed(
            core.settings.service(), request.method(), path(), staleStore.age(copy)));
    finishLocked(copy, true);
    return true;
  }

  /**
   * Whether what the server saw of any of these attempts shows {@code shown}: identity added below
   * the application's interceptors, or a check on the network layer.
   */
  private static boolean anySeen(
      List<InFlight> attempts, java.util.function.Predicate<StaleStore.Seen> shown) {
    for (InFlight f : attempts) {
      StaleStore.Seen s = f.tag.seen;
      if (s != null && shown.test(s)) {
        return true;
      }
    }
    return false;
  }

  @GuardedBy("this")
  private FailoverException exception(
      FailoverException.Reason reason, @Nullable IOException cause) {
    FailoverException e =
        new FailoverException(
            request.method() + " " + redact(request.url()),
            reason,
            withInFlight(reason),
            Duration.ofNanos(Math.max(0, core.ticker.nanos() - start)));
    if (cause != null) {
      e.initCause(cause);
    }
    return e;
  }

  /**
   * The one way a call ends: records its ending, stops its timers, cancels the attempts still in
   * flight (a probe that a response overtook runs on: its outcome tells whether its zone healed)
   * and queues the summary event; {@link #drain()} then tells the observer, completes the result
   * and runs the callback. A call that already ended closes the response it is given instead.
   * {@code end} is the call's response ({@code stale}: a stale copy of an earlier one) or its
   * {@link FailoverException}.
   */
  @GuardedBy("this")
  private void finishLocked(Object end, boolean stale) {
    Response response = responseOf(end);
    if (state != State.RUNNING) {
      closeAfterLock(response);
      return;
    }
    state = State.FINISHED;
    ending = end;
    Timeouts.Timeout dt = deadlineTimeout;
    if (dt != null) {
      dt.disarm();
    }
    Rare rr = rare;
    if (rr != null) {
      Future<?> t = rr.deadlineTimer;
      if (t != null) {
        t.cancel(false);
      }
      Future<?> r = rr.retryTimer;
      if (r != null && r.cancel(false)) {
        // The call ended during the retry's backoff: the retry is never sent, its token goes back.
        core.budget.refund(rr.retryTokenAt);
      }
      Future<?> h = rr.hedgeTimer;
      if (h != null) {
        h.cancel(false);
      }
      rr.hedgeArmings++; // a timer already waiting for the lock does nothing
    }
    for (InFlight f : inFlightLocked()) {
      if (f.kind == Attempt.Kind.PROBE && response != null) {
        // A probe of an evacuated zone runs to its end (bounded by its own timeout): its real
        // outcome is what tells whether the zone healed. Its response is closed when it comes.
        continue;
      }
      f.cancelled = true;
      if (claimOvertaken(f)) {
        // Decided, never made: no attempt of the call (newAttemptCall ends it as overtaken).
        rare().overtakenAtEnd++;
        if (f.kind == Attempt.Kind.RETRY) {
          retries--;
        } else if (f.kind == Attempt.Kind.HEDGE) {
          hedges--;
        }
      }
      // Only an attempt that was overtaken (the winner started after it) lost a race: a hedge
      // that started later and lost to the original says nothing bad about its endpoint, nor
      // does losing to a probe's luck.
      f.lostToWinner =
          response != null && winner != null && winner != Attempt.Kind.PROBE && !winnerLocal;
      f.lostRace = f.lostToWinner && winnerStart - f.start > 0;
      // It stood out if it had run at least twice as long as the attempt that overtook it, counted
      // from when it reached the SDK: one still held in the client (a slot of maxRequests, the
      // application's interceptors) never reached its endpoint, and says nothing about it.
      long now = core.ticker.nanos();
      // Less the time it took to get a connection before it was sent: an endpoint just back, or
      // first asked, has no pooled connection, and its handshakes (a round trip or more) made it
      // lose races that its answer would not have lost. A zone just healed lost enough of them to
      // be evacuated again. Not when that set-up itself lost by far (at least twice the winner's
      // time and twice its region's usual latency): handshakes that slow are the endpoint's, and
      // over HTTP/1.1 every loser's connection is closed, so such an endpoint would be cold, and
      // excused, on every call. One overtaken while it still connects is judged on its whole
      // time: a zone that does not answer handshakes (blackholed) is found that way. (One stamped
      // sent only after this reading of the time has a set-up longer than its whole time: if it
      // lost by far at all, its set-up did too.)
      boolean reached = f.lostRace && f.tag.reachedSdk;
      long setup = reached ? f.tag.connectionSetupNanos() : 0;
      if (setup > 0 && setup >= 2 * (now - winnerStart) && f.endpoint.slowForItsRegion(setup)) {
        setup = 0;
      }
      long from = f.tag.reachedSdkAt + setup;
      // Less what a pause of the client's held it between the two starts: the winner (a hedge
      // whose timer was late too) never saw it.
      long held = reached ? core.clientHealth.pauseWithin(from, winnerStart, now) : 0;
      f.pauseHeld = held;
      f.setupNanos = setup;
      f.slowLoser = reached && now - from - held >= 2 * (now - winnerStart);
      Rare r = rare();
      List<InFlight> c = r.pendingCancels;
      if (c == null) {
        c = new ArrayList<>(2);
        r.pendingCancels = c;
      }
      c.add(f); // cancelled in OkHttp by drain(), after the lock
    }
    FailoverException failure = failureOf(end);
    if (failure != null) {
      core.failedCalls.increment();
    }
    core.unregister(this);
    if (!core.events.hasListeners() && core.observer == null) {
      return; // nobody to tell: no summary to build
    }
    FailoverEvent.CallFinished summary =
        new FailoverEvent.CallFinished(
            core.settings.service(),
            request.method(),
            path(),
            response == null ? 0 : response.code(),
            failure == null ? null : failure.reason(),
            endedCount() + inFlightCount() - (rare == null ? 0 : rare.overtakenAtEnd),
            retries,
            hedges,
            stale,
            Duration.ofNanos(Math.max(0, core.ticker.nanos() - start)));
    emitLocked(summary);
    rare().finalEvent = summary;
  }

  /** Queues an event for {@link #drain()}, which emits it after the lock. Caller holds the lock. */
  @GuardedBy("this")
  private void emitLocked(FailoverEvent event) {
    List<FailoverEvent> p = pendingEvents;
    if (p == null) {
      p = new ArrayList<>(4);
      pendingEvents = p;
    }
    p.add(event);
  }

  @GuardedBy("this")
  private void emitHedge(
      FailoverEvent.HedgeAction action, dev.failover.@Nullable Endpoint endpoint, Duration delay) {
    emitLocked(
        new FailoverEvent.Hedge(
            core.settings.service(), request.method(), path(), action, endpoint, delay));
  }

  /**
   * Does, outside the lock and in order, what the state machine decided under it: emits the pending
   * events, then, once the call ended, tells the observer, completes the result and runs the
   * callback. One thread drains at a time (the others leave their events to it), so a call's events
   * keep their order; call it after every locked section that may have queued work, never on the
   * scheduler's thread (see {@link #drainOffScheduler()}).
   */
  private void drain() {
    boolean first = true;
    boolean mine = false;
    while (true) {
      List<InFlight> sends = null;
      List<Call> cancels = null;
      List<Response> closes = null;
      List<FailoverEvent> events = null;
      Object end = null;
      Callback cb = null;
      FailoverEvent.CallFinished summary = null;
      Object context = null;
      boolean more = true;
      synchronized (this) {
        if (first) {
          // Whichever thread drains: what this thread decided is sent and cancelled by it.
          first = false;
          sends = pendingSends;
          pendingSends = null;
          cancels = takeCancelsLocked();
          closes = pendingCloses;
          pendingCloses = null;
        }
        if (!mine && draining) {
          more = false; // the thread draining emits the events this one queued
        } else {
          List<FailoverEvent> p = pendingEvents;
          if (p != null && !p.isEmpty()) {
            events = p;
            pendingEvents = null;
          } else if (state == State.FINISHED) {
            state = State.COMPLETED;
            end = requireNonNull(ending);
            cb = callback;
            callback = null;
            Rare r = rare;
            if (r != null) {
              summary = r.finalEvent;
              context = r.observerContext;
            }
          } else {
            draining = false;
            more = false;
          }
          if (more) {
            draining = true;
            mine = true;
          }
        }
      }
      boolean handedOver = false;
      try {
        // Closed first: a retry may then reuse the connection the closed response held.
        closeAll(closes);
        sendAll(sends);
        cancelAll(cancels);
        if (events != null) {
          for (FailoverEvent e : events) {
            if (e instanceof FailoverEvent.Hedge h
                && h.action() == FailoverEvent.HedgeAction.SENT
                && !sentHedgeMade(h)) {
              continue; // the call's end overtook it before it was made: it was never sent
            }
            core.events.emit(e);
          }
        } else if (end != null) {
          complete(end, cb, summary, context);
        }
        handedOver = true;
      } finally {
        if (!handedOver && mine) {
          // Something threw past the guards around the application's code (a defect of the SDK,
          // an error of the JVM's own): what is left (the call's result, its callback) is drained
          // on the dispatcher, since no other thread may ever drain this call again; here if the
          // dispatcher is gone (the client is closing).
          boolean left;
          synchronized (this) {
            draining = false;
            left = drainDueLocked();
          }
          if (left) {
            try {
              core.callbackExecutor().execute(this::drain);
            } catch (RejectedExecutionException e) {
              drain();
            }
          }
        }
      }
      if (!more) {
        return;
      }
    }
  }

  /** Whether {@link #drain()} has anything to do. */
  private synchronized boolean drainPending() {
    return drainDueLocked();
  }

  /** Tells the observer, completes the result, then runs the callback. Outside the lock, once. */
  private void complete(
      Object end,
      @Nullable Callback cb,
      FailoverEvent.@Nullable CallFinished summary,
      @Nullable Object context) {
    Response response = responseOf(end);
    FailoverException failure = failureOf(end);
    CallObserver observer = core.observer;
    try {
      if (observer != null && summary != null) {
        try {
          observer.callFinished(context, summary, failure);
        } catch (RuntimeException | Error e) {
          log.warn("CallObserver.callFinished threw for {} {}", request.method(), path(), e);
        }
      }
    } finally {
      // Whatever the observer did, the caller gets the result.
      completeResult(end);
    }
    if (cb == null) {
      return;
    }
    if (response != null) {
      try {
        cb.onResponse(owner, response);
      } catch (IOException | RuntimeException | Error e) {
        // User code never breaks the SDK: not this call's end, not close(), not other calls.
        log.warn("Callback.onResponse threw for {} {}", request.method(), path(), e);
      }
      return;
    }
    try {
      cb.onFailure(owner, requireNonNull(failure));
    } catch (RuntimeException | Error e) {
      log.warn("Callback.onFailure threw for {} {}", request.method(), path(), e);
    }
  }

  /**
   * The deadline of an {@code enqueue()} on real time passed: on the dispatcher, never the
   * timeouts' thread.
   */
  @Override
  public void timedOut() {
    synchronized (this) {
      deadlineTimeout = null;
      failLocked(FailoverException.Reason.DEADLINE_EXCEEDED);
    }
    drain();
  }

  private void onDeadline() {
    synchronized (this) {
      rare().deadlineTimer = null;
      failLocked(FailoverException.Reason.DEADLINE_EXCEEDED);
    }
    drainOffScheduler();
  }

  /**
   * Drains from a scheduler task: never on the scheduler's thread (a slow listener or callback
   * would delay every other deadline, hedge, retry and probe), but on the client's dispatcher,
   * where OkHttp delivers its own callbacks. That includes sending the hedge or retry the timer
   * decided: making and enqueueing its OkHttp call runs the application's {@code
   * EventListener.Factory} and {@code EventListener.callStart}.
   */
  private void drainOffScheduler() {
    if (!drainPending()) {
      return;
    }
    try {
      core.callbackExecutor().execute(this::drain);
    } catch (RejectedExecutionException e) {
      drain(); // the client is closing: here rather than never
    }
  }

  /**
   * Cancels the call: it ends as CANCELLED now if running, or when it starts. After it ended with a
   * response, the OkHttp call of the attempt that gave it is cancelled: reading its body then
   * fails, as after a cancel of OkHttp's own call (a body read to its end is not affected).
   */
  void cancel() {
    Call served = null;
    synchronized (this) {
      canceled = true;
      InFlight by = servedBy;
      if (state != State.RUNNING && by != null) {
        served = by.call;
      }
      failLocked(FailoverException.Reason.CANCELLED);
    }
    if (served != null) {
      cancelQuietly(served);
    }
    drain();
  }

  synchronized boolean isExecuted() {
    return state != State.NEW;
  }

  synchronized boolean isCanceled() {
    return canceled;
  }

  /** The listeners added to this call ({@code Call.addEventListener}), in order. */
  synchronized List<EventListener> eventListeners() {
    return List.copyOf(eventListeners);
  }

  synchronized void addEventListener(EventListener eventListener) {
    if (eventListeners.isEmpty()) {
      eventListeners = new ArrayList<>(1);
    }
    eventListeners.add(eventListener);
  }

  /** The attempts that ended so far, in order of start. */
  synchronized List<Attempt> attempts() {
    return inStartOrder();
  }

  /** The attempts that ended, in order of start (they end in any order). Caller holds the lock. */
  @GuardedBy("this")
  private List<Attempt> inStartOrder() {
    List<Attempt> sorted = new ArrayList<>(endedCount());
    for (InFlight f : endedLocked()) {
      sorted.add(f.attempt(start));
    }
    sorted.sort(java.util.Comparator.comparingInt(Attempt::number));
    return List.copyOf(sorted);
  }

  /**
   * Every attempt of the call, in order of start: those that ended, and those the call's end cuts
   * short, each of these as {@link Outcome#CANCELLED} with the time it had run. Without them a call
   * that its deadline ended while its only attempt hung "failed after 0 attempts", and did not say
   * where that attempt had gone. Caller holds the lock.
   */
  @GuardedBy("this")
  private List<Attempt> withInFlight(FailoverException.Reason reason) {
    if (noneInFlight()) {
      return inStartOrder();
    }
    long now = core.ticker.nanos();
    String why =
        switch (reason) {
          case DEADLINE_EXCEEDED -> "in flight when the deadline passed";
          case CANCELLED -> "in flight when the call was cancelled";
          default -> "in flight when the call failed";
        };
    List<Attempt> all = new ArrayList<>(endedCount() + inFlightCount());
    for (InFlight f : endedLocked()) {
      all.add(f.attempt(start));
    }
    for (InFlight f : inFlightLocked()) {
      if (claimOvertaken(f)) {
        continue; // decided, never made: no attempt of the call (finishLocked counts it so)
      }
      all.add(
          new Attempt(
              f.number,
              f.kind,
              f.endpoint.endpoint,
              Outcome.CANCELLED,
              0,
              Duration.ofNanos(f.start - start),
              Duration.ofNanos(Math.max(0, now - f.start)),
              why));
    }
    all.sort(java.util.Comparator.comparingInt(Attempt::number));
    return List.copyOf(all);
  }

  private static String redact(HttpUrl url) {
    return url.newBuilder().username("").password("").query(null).fragment(null).build().toString();
  }

  private static String describe(IOException e) {
    String m = e.getMessage();
    return e.getClass().getSimpleName() + (m == null ? "" : ": " + m);
  }

  /** Queues {@code response}, if any, for {@link #drain()} to close after the lock. */
  @GuardedBy("this")
  private void closeAfterLock(@Nullable Response response) {
    if (response == null) {
      return;
    }
    List<Response> p = pendingCloses;
    if (p == null) {
      p = new ArrayList<>(2);
      pendingCloses = p;
    }
    p.add(response);
  }

  /** Closes the responses the state machine let go of. Outside the lock. */
  private void closeAll(@Nullable List<Response> responses) {
    if (responses == null) {
      return;
    }
    for (Response r : responses) {
      try {
        r.close();
      } catch (RuntimeException | Error e) {
        // The application's EventListener threw: the call goes on.
        log.warn("Failover: closing a response of {} {} threw", request.method(), path(), e);
      }
    }
  }

  private static <T> T requireNonNull(@Nullable T value) {
    if (value == null) {
      throw new IllegalStateException("missing value");
    }
    return value;
  }

  /** Decides once whether a decided attempt is made or overtaken: {@link InFlight#claim}. */
  private static final java.util.concurrent.atomic.AtomicIntegerFieldUpdater<InFlight> CLAIM =
      java.util.concurrent.atomic.AtomicIntegerFieldUpdater.newUpdater(InFlight.class, "claim");

  /** {@link InFlight#claim}: decided under the lock, its OkHttp call not made yet. */
  private static final int DECIDED = 0;

  /** {@link InFlight#claim}: it is made (or its {@code Hedge SENT} event went out): it counts. */
  private static final int MADE = 1;

  /** {@link InFlight#claim}: the call's end overtook it before it was made: it never counts. */
  private static final int OVERTAKEN = 2;

  /**
   * Claims {@code f} for being made, unless the call's end overtook it; returns whether it is (or
   * was already) claimed so.
   */
  private static boolean claimMade(InFlight f) {
    return CLAIM.compareAndSet(f, DECIDED, MADE) || f.claim == MADE;
  }

  /**
   * Claims {@code f}, still in flight as the call ends, as overtaken if it was not made yet;
   * returns whether it is (or was already) overtaken. Caller holds the call's lock.
   */
  private static boolean claimOvertaken(InFlight f) {
    return CLAIM.compareAndSet(f, DECIDED, OVERTAKEN) || f.claim == OVERTAKEN;
  }

  /** Takes an attempt's result once: {@link InFlight#delivered}. */
  private static final java.util.concurrent.atomic.AtomicIntegerFieldUpdater<InFlight> DELIVERED =
      java.util.concurrent.atomic.AtomicIntegerFieldUpdater.newUpdater(InFlight.class, "delivered");

  /** One attempt in flight, and the OkHttp callback that ends it. */
  private final class InFlight implements Callback, Timeouts.Target {
    final EndpointState endpoint;

    // How OkHttp sends it, decided under the lock; its Call is made after it (newAttemptCall),
    // with the client that its tag's idempotent flag names.
    final Request attemptRequest;
    final long timeoutNanos;
    final List<EventListener> listeners;

    /**
     * OkHttp's call, once the thread that sends the attempt made it; null before. Set without the
     * call's lock, then {@link #cancelled} and {@link #timedOut} are read; whoever sets one of
     * those reads this after (a handshake of volatiles: see newAttemptCall).
     */
    volatile @Nullable Call call;

    final ClientCore.AttemptTag tag;
    final int number;
    final Attempt.Kind kind;
    final long start;

    // Set under the call's lock when the call ends; read by this attempt's callback, which
    // classifies the outcome before it takes the lock.
    volatile boolean cancelled;

    /**
     * Set under the call's lock when its timeout expired; the failure that follows is a timeout.
     */
    volatile boolean timedOut;

    /**
     * Whether the attempt's OkHttp call ended cancelled though the SDK did not cancel it: see
     * {@link #onFailure}. Written before {@link CallStateMachine#onResult} reads it, on its thread.
     */
    boolean cancelledElsewhere;

    /** OkHttp could not make the attempt's call: the application's listener factory threw. */
    boolean notMade;

    /**
     * Its response as the call would end with it, when the stale cache wrapped it to take a copy;
     * null otherwise. Written and read by the thread that handles its response.
     */
    @Nullable Response servedAs;

    /**
     * Whether it counts as sent: {@link #DECIDED} until the thread that sends it makes its OkHttp
     * call, or its {@code Hedge SENT} event goes out ({@link #MADE}), or the call's end overtakes
     * it ({@link #OVERTAKEN}): whichever comes first decides, so the call's summary, its events and
     * the client's counters agree on it.
     */
    volatile int claim;

    /** The {@code Hedge SENT} event of a hedge, or null. */
    FailoverEvent.@Nullable Hedge sentEvent;

    /** 1 once the attempt's result was taken: it is handled once, however often it is told. */
    @SuppressWarnings("UnusedVariable") // read and written through DELIVERED
    private volatile int delivered;

    volatile boolean lostRace;

    /**
     * Cancelled because another attempt of its call (not a probe) won, whichever started first:
     * told as a hedge {@code CANCELLED}. {@link #lostRace} is the narrower evidence: overtaken.
     */
    volatile boolean lostToWinner;

    volatile boolean slowLoser;

    /** How much of its time a pause of the client held it before the attempt that overtook it. */
    volatile long pauseHeld;

    /**
     * How long it spent getting a connection before it was sent, when it was overtaken, that is not
     * counted in the race it lost: 0 when it was not sent yet, or when that set-up itself lost by
     * far.
     */
    volatile long setupNanos;

    /** Whether the call's end overtook it before its OkHttp call was made: it never left. */
    volatile boolean overtaken;

    /** Whether the attempt holds a breaker permission (not in panic or as a last resort). */
    volatile boolean acquired;

    // How it ended: set once under the call's lock, when it did (ended), and read under it.
    private @Nullable Outcome outcome;
    private int status;
    private long duration;
    private @Nullable IOException failure;
    private @Nullable Attempt attempt;

    /**
     * Whether it went to an evacuated zone or an ejected endpoint because nothing else was left.
     */
    volatile boolean lastResort;

    InFlight(
        EndpointState endpoint,
        Request attemptRequest,
        long timeoutNanos,
        List<EventListener> listeners,
        ClientCore.AttemptTag tag,
        int number,
        Attempt.Kind kind,
        long start) {
      this.endpoint = endpoint;
      this.attemptRequest = attemptRequest;
      this.timeoutNanos = timeoutNanos;
      this.listeners = listeners;
      this.tag = tag;
      this.number = number;
      this.kind = kind;
      this.start = start;
    }

    /** Records how the attempt ended. Caller holds the call's lock. */
    void ended(Outcome outcome, int status, long duration, @Nullable IOException failure) {
      this.outcome = outcome;
      this.status = status;
      this.duration = duration;
      this.failure = failure;
    }

    /**
     * The ended attempt as users see it, made on first use; {@code callStart} is when its call
     * started. Caller holds the call's lock.
     */
    Attempt attempt(long callStart) {
      Attempt a = attempt;
      if (a == null) {
        a =
            new Attempt(
                number,
                kind,
                endpoint.endpoint,
                requireNonNull(outcome),
                status,
                Duration.ofNanos(start - callStart),
                Duration.ofNanos(duration),
                failure == null ? null : describe(failure));
        attempt = a;
      }
      return a;
    }

    @Override
    public void onResponse(Call call, Response response) {
      if (!DELIVERED.compareAndSet(this, 0, 1)) {
        response.close();
        return;
      }
      try {
        onResult(this, response, null);
      } catch (RuntimeException e) {
        onHandlerFailure(this, response, e);
      }
    }

    /**
     * OkHttp could not make the attempt's call (the application's {@code EventListener.Factory}
     * threw): it fails as an attempt that never left, so the call carries on (another endpoint, or
     * its end) instead of waiting for its deadline.
     */
    void notMade(Throwable e) {
      log.warn("Failover: OkHttp could not make an attempt of {} {}", request.method(), path(), e);
      // The application's code failed, not the endpoint: the attempt never left (so it may be
      // retried) and counts against no endpoint or zone.
      notMade = true;
      onFailure(owner, new IOException("the attempt's OkHttp call could not be made: " + e, e));
    }

    /**
     * The attempt's timeout expired (on the dispatcher, never the timeouts' thread): OkHttp's call
     * is cancelled, and its failure is reported as the timeout it is.
     */
    @Override
    public void timedOut() {
      Call c;
      boolean ends;
      synchronized (CallStateMachine.this) {
        timedOut = true;
        // Before the cancel, which an observation of the attempt follows; not for an attempt its
        // call had already cancelled (the deadline, a winner): that one was cancelled.
        ends = !cancelled;
        tag.timedOut = ends;
        c = call;
      }
      if (c != null) {
        cancelQuietly(c);
      } // else not made yet: newAttemptCall cancels it once made
      if (ends && tag.reachedSdk && tag.abandon()) {
        // Past the SDK's interceptor and not on the network yet, where OkHttp's cancel may not end
        // it soon: a DNS lookup of the endpoint's host name blocks until the resolver gives up
        // (seconds, whatever the timeout). The attempt ends now, as the timeout before sending it
        // is (a connect timeout), and the call goes on (a retry, or its end); the request can no
        // longer leave (abandon), and OkHttp's late callback is dropped. Not an attempt still
        // waiting for a slot of maxRequests or in the application's interceptors: OkHttp fails it
        // once it gets there, and a retry would only queue again behind it.
        onFailure(c != null ? c : owner, new InterruptedIOException("timeout"));
      }
    }

    @Override
    public void onFailure(Call call, IOException e) {
      if (!DELIVERED.compareAndSet(this, 0, 1)) {
        return;
      }
      if (call != owner && !cancelled && !timedOut && call.isCanceled()) {
        // Cancelled by no one in the SDK: OkHttp cancels an attempt whose interceptor, event
        // listener or DNS threw (and so does the runner of the caller's attempt), and the
        // application's EventListener may cancel it. Nothing the endpoint did: not evidence against
        // it, and not retried (the same code would run again).
        cancelledElsewhere = true;
      } else if (call != owner && !cancelled && !timedOut && !tag.passedSdk) {
        // Failed before it reached the SDK's interceptor, which runs after the application's and
        // before DNS, connect and the network: an IOException of the application's interceptor
        // (its token service is down, say). The same: nothing the endpoint did (counted against
        // it, every endpoint in turn would be ejected for the application's outage), and not
        // retried.
        cancelledElsewhere = true;
      }
      if (timedOut && !cancelled && !(e instanceof InterruptedIOException)) {
        // What OkHttp's own call timeout reported: the cancellation that ended the attempt is the
        // cause.
        InterruptedIOException timeout = new InterruptedIOException("timeout");
        timeout.initCause(e);
        e = timeout;
      }
      try {
        onResult(this, null, e);
      } catch (RuntimeException re) {
        onHandlerFailure(this, null, re);
      }
    }
  }
}
