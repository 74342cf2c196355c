package dev.failover;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import okhttp3.Dns;
import org.jspecify.annotations.Nullable;

/**
 * The application's {@code Dns} (or {@link Dns#SYSTEM}) on a client whose first attempts may run on
 * the caller's thread: a lookup is the one step of such an attempt that OkHttp's cancel cannot end
 * (the JDK's resolver blocks in native code, for as long as the system's resolver retries). For an
 * attempt that runs on the thread that called {@code execute()}, the lookup runs on one of the
 * client's threads instead, and the caller waits for it only while the attempt is not cancelled:
 * the attempt's timeout, the call's end or deadline and {@code Call.cancel()} all end the wait
 * within {@link #POLL_NANOS}, the attempt then failing as OkHttp fails a cancelled one. Callers
 * that look up the same host at once share one lookup (for {@link #SHARED_NANOS} at most), so a
 * resolver that does not answer holds one of the client's threads per host every 10 s, not one per
 * call. Other attempts (handed to the dispatcher, probes) look up where they run, as before: there
 * the caller's own timed wait bounds the call.
 *
 * <p>Which attempt a lookup is for: OkHttp tells the attempt's listeners {@code dnsStart} on the
 * same thread just before it asks the {@code Dns}; {@link CallStateMachine#ATTEMPT_END} notes the
 * call in {@link #LOOKING_UP} there if the attempt runs on its caller's thread. Only lookups pay
 * for this (a connection from the pool needs none; an IP-literal host never reaches a {@code Dns}).
 *
 * <p>Two of these are equal when they wrap the same {@code Dns}: OkHttp pools connections by
 * address, {@code Dns} included, and the clients a {@code reconfigure} makes, or several clients on
 * one {@code OkHttpClient}, share its pool (where each has one of these: a client that runs no
 * first attempt on the caller's thread asks the application's {@code Dns} itself).
 */
final class CallerDns implements Dns {
  /** How often a waiting caller looks whether its attempt was cancelled meanwhile. */
  static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

  /** The caller's attempt whose lookup is about to start on this thread, from its dnsStart. */
  static final ThreadLocal<okhttp3.@Nullable Call> LOOKING_UP = new ThreadLocal<>();

  private final Dns delegate;
  private final Executor executor;
  private final Ticker ticker;

  /**
   * How long a lookup still running is shared: a later caller starts one of its own, since a {@code
   * Dns} of the application's may hang one request and answer the next.
   */
  static final long SHARED_NANOS = TimeUnit.SECONDS.toNanos(10);

  /** Lookups running for callers, by host name; each removed as it ends. */
  private final ConcurrentHashMap<String, Lookup> running = new ConcurrentHashMap<>();

  /** A lookup on one of the client's threads, and when it started. */
  private record Lookup(CompletableFuture<List<InetAddress>> answer, long startNanos) {}

  CallerDns(Dns delegate, Executor executor, Ticker ticker) {
    this.delegate = delegate;
    this.executor = executor;
    this.ticker = ticker;
  }

  /** Whether {@code dns} answers through {@code lookup}, OkHttp's default for its newer API. */
  static boolean looksUp(Dns dns) {
    return isLookupCall(dns.newCall(new Dns.Request("failover.invalid", 80)));
  }

  private static boolean isLookupCall(Dns.@Nullable Call call) {
    return call != null && call.getClass().getName().equals("okhttp3.internal.dns.LookupDnsCall");
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
    // The application's own asynchronous Dns, which OkHttp runs as it is (by default a client
    // with one runs no attempt on the caller's thread: ClientCore.notOnCallerByDefault).
    LOOKING_UP.remove();
    return theirs;
  }

  @Override
  public List<InetAddress> lookup(String hostname) throws UnknownHostException {
    okhttp3.Call attempt = LOOKING_UP.get();
    LOOKING_UP.remove();
    if (attempt == null) {
      return delegate.lookup(hostname);
    }
    CompletableFuture<List<InetAddress>> answer;
    try {
      long now = ticker.nanos();
      answer =
          running
              .compute(
                  hostname,
                  (host, old) ->
                      old == null || now - old.startNanos() > SHARED_NANOS ? start(host, now) : old)
              .answer();
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
        Thread.currentThread().interrupt();
        throw unknown(hostname, "interrupted while its lookup ran", e);
      } catch (ExecutionException e) {
        Throwable cause = e.getCause();
        if (cause instanceof UnknownHostException u) {
          // A copy: the one failure is shared by the callers that waited for it.
          UnknownHostException copy = new UnknownHostException(u.getMessage());
          copy.initCause(u);
          throw copy;
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

  /** Starts a lookup of {@code hostname} on one of the client's threads. */
  private Lookup start(String hostname, long now) {
    CompletableFuture<List<InetAddress>> answer = new CompletableFuture<>();
    Lookup lookup = new Lookup(answer, now);
    executor.execute(
        () -> {
          try {
            answer.complete(delegate.lookup(hostname));
          } catch (Throwable t) {
            answer.completeExceptionally(t);
          } finally {
            running.remove(hostname, lookup);
          }
        });
    return lookup;
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
  public boolean equals(@Nullable Object o) {
    return o instanceof CallerDns other && delegate.equals(other.delegate);
  }

  @Override
  public int hashCode() {
    return delegate.hashCode();
  }

  @Override
  public String toString() {
    return "CallerDns(" + delegate + ")";
  }
}
