package dev.failover;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;
import okhttp3.Dns;
import org.jspecify.annotations.Nullable;

/**
 * The application's {@code Dns} (or {@link Dns#SYSTEM}) on a client whose first attempts may run on
 * the caller's thread: a lookup is the one step of such an attempt that OkHttp's cancel cannot end
 * (the JDK's resolver blocks in native code, for as long as the system's resolver retries). On a
 * thread of the caller's, the lookup runs on one of the client's threads instead, and the caller
 * waits for it only while the attempt is not cancelled: the attempt's timeout, the call's end or
 * deadline and {@code Call.cancel()} all end the wait within {@link #POLL_NANOS}, the attempt then
 * failing as OkHttp fails a cancelled one. On the client's own threads (attempts handed to the
 * dispatcher, probes) the lookup runs where it is, as before: there the caller's own timed wait
 * bounds the call.
 *
 * <p>Which attempt a lookup is for: OkHttp tells the attempt's listeners {@code dnsStart} on the
 * same thread just before it asks the {@code Dns} ({@link CallStateMachine#ATTEMPT_END} notes the
 * call in {@link #LOOKING_UP}); a lookup with no call noted runs where it is. Only lookups pay for
 * this (a connection from the pool needs none; an IP-literal host never reaches a {@code Dns}).
 */
final class CallerDns implements Dns {
  /** How often a waiting caller looks whether its attempt was cancelled meanwhile. */
  static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

  /** The attempt whose lookup is about to start on this thread, from its {@code dnsStart}. */
  static final ThreadLocal<okhttp3.@Nullable Call> LOOKING_UP = new ThreadLocal<>();

  private final Dns delegate;
  private final Executor executor;
  private final Predicate<Thread> ownThread;

  CallerDns(Dns delegate, Executor executor, Predicate<Thread> ownThread) {
    this.delegate = delegate;
    this.executor = executor;
    this.ownThread = ownThread;
  }

  /** Whether {@code dns} answers through {@code lookup}, OkHttp's default for its newer API. */
  static boolean looksUp(Dns dns) {
    return isLookupCall(dns.newCall(new Dns.Request("failover.invalid", 80)));
  }

  private static boolean isLookupCall(Dns.Call call) {
    return call.getClass().getName().equals("okhttp3.internal.dns.LookupDnsCall");
  }

  @Override
  public Dns.Call newCall(Dns.Request request) {
    Dns.Call theirs;
    try {
      theirs = delegate.newCall(request);
    } catch (RuntimeException | Error e) {
      LOOKING_UP.remove();
      throw e;
    }
    if (isLookupCall(theirs)) {
      // OkHttp then calls lookup() on this thread.
      return Dns.super.newCall(request);
    }
    // The application's own asynchronous Dns: OkHttp runs it as it is (such a client is never
    // classified safe for the caller's thread by default; see ClientCore.callerRunsByDefault).
    LOOKING_UP.remove();
    return theirs;
  }

  @Override
  public List<InetAddress> lookup(String hostname) throws UnknownHostException {
    okhttp3.Call attempt = LOOKING_UP.get();
    LOOKING_UP.remove();
    Thread current = Thread.currentThread();
    if (attempt == null || ownThread.test(current)) {
      return delegate.lookup(hostname);
    }
    CompletableFuture<List<InetAddress>> answer = new CompletableFuture<>();
    try {
      executor.execute(
          () -> {
            try {
              answer.complete(delegate.lookup(hostname));
            } catch (Throwable t) {
              answer.completeExceptionally(t);
            }
          });
    } catch (RejectedExecutionException e) {
      // The client is closing: its calls are being cancelled.
      throw unknown(hostname, "the client is closed", e);
    }
    while (true) {
      try {
        return answer.get(POLL_NANOS, TimeUnit.NANOSECONDS);
      } catch (TimeoutException e) {
        if (attempt.isCanceled()) {
          throw unknown(hostname, "the attempt was cancelled while its lookup ran", null);
        }
      } catch (InterruptedException e) {
        // The caller's thread was interrupted: the flag stays for the SDK to see (as it sees an
        // interrupt while OkHttp reads), and the attempt fails.
        current.interrupt();
        throw unknown(hostname, "interrupted while its lookup ran", e);
      } catch (ExecutionException e) {
        Throwable cause = e.getCause();
        if (cause instanceof UnknownHostException u) {
          throw u;
        }
        if (cause instanceof RuntimeException r) {
          throw r;
        }
        if (cause instanceof Error err) {
          throw err;
        }
        throw unknown(hostname, "the lookup failed", cause);
      }
    }
  }

  private static UnknownHostException unknown(
      String hostname, String why, @Nullable Throwable cause) {
    UnknownHostException e = new UnknownHostException(hostname + ": " + why);
    if (cause != null) {
      e.initCause(cause);
    }
    return e;
  }

  @Override
  public String toString() {
    return "CallerDns(" + delegate + ")";
  }
}
