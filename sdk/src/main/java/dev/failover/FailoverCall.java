package dev.failover;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import kotlin.jvm.JvmClassMappingKt;
import kotlin.jvm.functions.Function0;
import kotlin.reflect.KClass;
import okhttp3.Call;
import okhttp3.Callback;
import okhttp3.EventListener;
import okhttp3.Request;
import okhttp3.Response;
import okio.Timeout;
import org.jspecify.annotations.Nullable;

/**
 * The call a {@link FailoverClient} hands out: the {@code okhttp3.Call} surface of one logical call
 * (its request, tags, call timeout and event listeners, and {@code execute()}'s wait). What the
 * call does lives in its {@link CallStateMachine}.
 *
 * <p>It runs on the client's core that was current when it was made, and counts itself in and out
 * of that core, so that a core replaced by {@code reconfigure} closes once its last call has ended;
 * a call made before a replacement but started after its core closed runs on the current core
 * instead: a new state machine there, with the call's event listeners; its timeout and tags are the
 * call's own. One object for both roles: every call made one of each before.
 */
final class FailoverCall implements Call {
  private final FailoverClient client;
  private final Request request;

  /** The core the call runs on, and its calls' count. */
  @GuardedBy("this")
  private FailoverClient.Generation generation;

  @GuardedBy("this")
  private boolean executed;

  @GuardedBy("this")
  private boolean canceled;

  /**
   * The call's state machine, on {@link #generation}'s core. Replaced (under this lock, by {@link
   * #begin()}, once at most) when the call starts after that core closed; volatile so that the
   * call's hot path reads it without the lock.
   */
  private volatile CallStateMachine machine;

  /** The call timeout, made when first asked for: most calls never set one. */
  private volatile @Nullable Timeout timeout;

  /** Tags set through {@code tag(type, computeIfAbsent)}; created on first use (rare). */
  private volatile @Nullable ConcurrentHashMap<Class<?>, Object> tags;

  /**
   * A call of {@code request} on {@code generation}'s core.
   *
   * @throws IllegalArgumentException if the request's host is not the service name
   * @throws IllegalStateException if the core is closed
   */
  FailoverCall(FailoverClient client, FailoverClient.Generation generation, Request request) {
    this.client = client;
    this.request = request;
    this.generation = generation;
    this.machine = generation.core.newMachine(request, this);
  }

  @Override
  public Request request() {
    return request;
  }

  /**
   * Runs the call and waits for its result, never longer than its deadline. The first attempt runs
   * on the caller's thread where every step of it ends when OkHttp cancels it (see {@code
   * FailoverClient.Builder.callerRunsFirstAttempt}), bounded by its attempt timeout; every other
   * attempt runs on the client's dispatcher, and the caller's own timed wait ends the call at its
   * deadline. With {@code callerRunsFirstAttempt(true)} the first attempt always runs on the
   * caller's thread, and code of the application's that blocks in it can hold the caller.
   */
  @Override
  public Response execute() throws IOException {
    FailoverClient.Generation g = begin();
    try {
      return execute(machine);
    } finally {
      client.exited(g);
    }
  }

  private Response execute(CallStateMachine machine) throws IOException {
    long waitNanos = machine.execute(timeoutNanos());
    Exception interruptedBy = machine.callerInterruptedBy();
    if (interruptedBy != null) {
      // Interrupted while it ran the first attempt (callerRunsFirstAttempt): the call is cancelled,
      // as below when the wait is interrupted.
      closeUnread(machine);
      InterruptedIOException ie = new InterruptedIOException("interrupted");
      ie.initCause(interruptedBy);
      throw ie;
    }
    if (waitNanos == 0) {
      // The first attempt, on this thread, ended the call: its end is here, no need to wait.
      Object end = machine.handedOver();
      if (end instanceof Response response) {
        return response;
      } else if (end instanceof FailoverException failure) {
        throw failure;
      }
    }
    try {
      return machine.result().get(Math.max(0, waitNanos), TimeUnit.NANOSECONDS);
    } catch (ExecutionException e) {
      throw unwrap(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      machine.cancel();
      closeUnread(machine);
      throw interrupted(e);
    } catch (TimeoutException e) {
      machine.deadlinePassed();
      try {
        // Completed by deadlinePassed(), whichever thread drains the call.
        return machine.result().get();
      } catch (ExecutionException ee) {
        throw unwrap(ee);
      } catch (InterruptedException ie) {
        Thread.currentThread().interrupt();
        closeUnread(machine);
        throw interrupted(ie);
      }
    }
  }

  /**
   * The caller gave up waiting (interrupted), but the call may have ended with a response just
   * before: no one will read it, so it is closed, now or when the thread completing the call hands
   * it over.
   */
  private static void closeUnread(CallStateMachine machine) {
    CompletableFuture<Response> unused =
        machine
            .result()
            .whenComplete(
                (response, failure) -> {
                  if (response != null) {
                    response.close();
                  }
                });
  }

  private static IOException unwrap(ExecutionException e) {
    Throwable cause = e.getCause();
    if (cause instanceof IOException io) {
      return io;
    }
    if (cause instanceof RuntimeException re) {
      throw re;
    }
    return new IOException(cause);
  }

  private static InterruptedIOException interrupted(InterruptedException e) {
    InterruptedIOException ie = new InterruptedIOException("interrupted");
    ie.initCause(e);
    return ie;
  }

  @Override
  public void enqueue(Callback responseCallback) {
    Objects.requireNonNull(responseCallback, "responseCallback");
    FailoverClient.Generation g = begin();
    try {
      machine.begin(
          g == null
              ? responseCallback
              : new Callback() {
                @Override
                public void onResponse(Call call, Response response) throws IOException {
                  try {
                    responseCallback.onResponse(call, response);
                  } finally {
                    client.exited(g);
                  }
                }

                @Override
                public void onFailure(Call call, IOException e) {
                  try {
                    responseCallback.onFailure(call, e);
                  } finally {
                    client.exited(g);
                  }
                }
              },
          timeoutNanos());
    } catch (RuntimeException | Error e) {
      client.exited(g);
      throw e;
    }
  }

  /**
   * Marks the call executed and counts it into the core it will run on; returns that core's
   * generation, or null if it runs on none (cancelled, or the client is closed: its state machine
   * then fails it at once).
   *
   * @throws IllegalStateException if the call was already executed
   */
  private synchronized FailoverClient.@Nullable Generation begin() {
    if (executed) {
      throw new IllegalStateException("Already Executed");
    }
    executed = true;
    if (generation.enter()) {
      return generation;
    }
    if (canceled) {
      return null;
    }
    FailoverClient.Generation g = client.enterCurrent();
    if (g == null) {
      return null; // closed
    }
    CallStateMachine fresh;
    try {
      fresh = g.core.newMachine(request, this);
    } catch (IllegalStateException e) {
      if (!client.isClosed()) {
        throw e;
      }
      // close() claimed this core between enterCurrent() and here: the call runs on none, and its
      // state machine (of a closed core too) fails it at once, through the callback of enqueue().
      return null;
    }
    for (EventListener l : machine.eventListeners()) {
      fresh.addEventListener(l);
    }
    generation = g;
    machine = fresh;
    return g;
  }

  @Override
  public void cancel() {
    CallStateMachine m;
    synchronized (this) {
      canceled = true;
      m = machine;
    }
    m.cancel(); // outside the lock: a callback may run
  }

  @Override
  public synchronized boolean isExecuted() {
    return executed;
  }

  @Override
  public boolean isCanceled() {
    return machine.isCanceled();
  }

  @Override
  public Timeout timeout() {
    Timeout t = timeout;
    if (t == null) {
      synchronized (this) {
        t = timeout;
        if (t == null) {
          t = new Timeout();
          timeout = t;
        }
      }
    }
    return t;
  }

  /**
   * The call timeout the caller set through {@link #timeout()}, 0 for none: its timeout, or the
   * time left to its deadline if that is sooner, as OkHttp's own call timeout counts them (a
   * deadline already past leaves 1 ns).
   */
  private long timeoutNanos() {
    Timeout t = timeout;
    if (t == null) {
      return 0;
    }
    long nanos = t.timeoutNanos();
    if (t.hasDeadline()) {
      long left = Math.max(1, t.deadlineNanoTime() - System.nanoTime());
      nanos = nanos == 0 ? left : Math.min(nanos, left);
    }
    return nanos;
  }

  @Override
  public synchronized void addEventListener(EventListener eventListener) {
    // Under this lock: begin() carries the listeners over to a new state machine under it.
    machine.addEventListener(eventListener);
  }

  @Override
  public <T> @Nullable T tag(KClass<T> type) {
    return tag(JvmClassMappingKt.getJavaClass(type));
  }

  @Override
  public <T> @Nullable T tag(Class<? extends T> type) {
    ConcurrentHashMap<Class<?>, Object> own0 = tags;
    Object own = own0 == null ? null : own0.get(type);
    if (own != null) {
      @SuppressWarnings("unchecked")
      T t = (T) own;
      return t;
    }
    return request.tag(type);
  }

  @Override
  public <T> T tag(KClass<T> type, Function0<? extends T> computeIfAbsent) {
    return tag(JvmClassMappingKt.getJavaClass(type), computeIfAbsent);
  }

  @Override
  public <T> T tag(Class<T> type, Function0<? extends T> computeIfAbsent) {
    T existing = tag(type);
    if (existing != null) {
      return existing;
    }
    ConcurrentHashMap<Class<?>, Object> map;
    synchronized (this) {
      map = tags;
      if (map == null) {
        map = new ConcurrentHashMap<>();
        tags = map;
      }
    }
    Object value = map.computeIfAbsent(type, k -> computeIfAbsent.invoke());
    return type.cast(value);
  }

  /**
   * Gives {@code attempt}, the OkHttp call of one attempt, the tags this call has now, so that the
   * application's interceptors ({@code chain.call().tag(...)}) and event listeners see them as on a
   * bare OkHttp call. A tag computed on the attempt's call stays there.
   */
  void copyTagsTo(Call attempt) {
    ConcurrentHashMap<Class<?>, Object> map = tags;
    if (map != null) {
      map.forEach((type, value) -> copyTag(attempt, type, value));
    }
  }

  private static <T> void copyTag(Call attempt, Class<T> type, Object value) {
    T t = type.cast(value);
    attempt.tag(type, () -> t);
  }

  @Override
  public Call clone() {
    return client.newCall(request);
  }

  @Override
  public String toString() {
    // No user info, query or fragment: a call is printed in logs, and those carry no credentials.
    return "Call{" + request.method() + " " + Endpoint.redact(request.url()) + "}";
  }

  /** Test and snapshot access: the attempts that ended so far, in order of start. */
  public List<Attempt> attempts() {
    return machine.attempts();
  }
}
