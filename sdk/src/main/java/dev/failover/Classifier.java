package dev.failover;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.PortUnreachableException;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.util.Locale;
import java.util.Set;
import okhttp3.Request;
import okhttp3.RequestBody;

/** Classifies outcomes and requests: what is retryable, what is idempotent, what is replayable. */
final class Classifier {
  /** RFC 9110 idempotent methods. */
  private static final Set<String> IDEMPOTENT_METHODS =
      Set.of("GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE");

  public static final String IDEMPOTENCY_KEY = "Idempotency-Key";

  private Classifier() {}

  /** The statuses retried by default: 429 (throttled) and 502, 503, 504 (unavailable). */
  public static final Set<Integer> DEFAULT_RETRYABLE_STATUSES = Set.of(429, 502, 503, 504);

  private static final RetryableStatuses DEFAULT_RETRYABLE =
      RetryableStatuses.of(DEFAULT_RETRYABLE_STATUSES);

  /** Classifies a response status with the default retryable statuses. */
  public static Outcome classify(int status) {
    return classify(status, DEFAULT_RETRYABLE);
  }

  /**
   * Classifies a response status: a retryable 429 is {@link Outcome#THROTTLED}, any other retryable
   * status {@link Outcome#UNAVAILABLE}; a 5xx not retryable is a {@link Outcome#SERVER_ERROR}.
   * Boxes the status to look it up: on the call path, use {@link #classify(int,
   * RetryableStatuses)}.
   */
  public static Outcome classify(int status, Set<Integer> retryable) {
    return classify(status, retryable.contains(status));
  }

  /** As {@link #classify(int, Set)}, with the statuses made into a {@link RetryableStatuses}. */
  public static Outcome classify(int status, RetryableStatuses retryable) {
    return classify(status, retryable.contains(status));
  }

  private static Outcome classify(int status, boolean retryable) {
    if (retryable) {
      return status == 429 ? Outcome.THROTTLED : Outcome.UNAVAILABLE;
    }
    if (status >= 500) {
      return Outcome.SERVER_ERROR;
    }
    return Outcome.SUCCESS;
  }

  /**
   * The retryable statuses as a plain {@code int} array, looked up without boxing: built once per
   * client from its {@code Set<Integer>} setting. A client's set holds a few statuses, so a linear
   * scan is as quick as any table.
   */
  static final class RetryableStatuses {
    private final int[] statuses;

    private RetryableStatuses(int[] statuses) {
      this.statuses = statuses;
    }

    /** Copies {@code statuses}. */
    static RetryableStatuses of(Set<Integer> statuses) {
      int[] copy = new int[statuses.size()];
      int i = 0;
      for (Integer status : statuses) {
        copy[i++] = status;
      }
      return new RetryableStatuses(copy);
    }

    /** Whether {@code status} is one of the statuses. */
    boolean contains(int status) {
      for (int s : statuses) {
        if (s == status) {
          return true;
        }
      }
      return false;
    }

    @Override
    public String toString() {
      return java.util.Arrays.toString(statuses);
    }
  }

  /**
   * Classifies a failure. {@code sent} tells whether the request reached the network (a connection
   * was made and writing began, counting OkHttp's own silent retries); if not, the failure is a
   * connect failure whatever its type, because nothing left the client. If it did, even a connect
   * failure (of a silent retry) is not: the request may have reached a server.
   */
  public static Outcome classify(IOException e, boolean sent, boolean cancelled) {
    if (cancelled) {
      return Outcome.CANCELLED;
    }
    if (!sent || unprocessed(e)) {
      return Outcome.CONNECT_FAILED;
    }
    if (e instanceof ConnectException
        || e instanceof NoRouteToHostException
        || e instanceof UnknownHostException
        || e instanceof PortUnreachableException) {
      // A connect failure after the request was already on the network once: OkHttp retried on
      // its own (after a reset, say) and that retry could not connect. The first try may have
      // reached the server, so this is not a request that never left.
      return Outcome.RESET;
    }
    if (e instanceof InterruptedIOException) {
      // SocketTimeoutException, and OkHttp's call timeout ("timeout").
      return Outcome.TIMEOUT;
    }
    String msg = String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT);
    if (e instanceof SocketException
        || e instanceof java.io.EOFException
        || msg.contains("unexpected end of stream")
        || msg.contains("reset")) {
      return Outcome.RESET;
    }
    return Outcome.PROTOCOL_ERROR;
  }

  /**
   * Whether a failed read of a response body is what the reader's own close did to it: an HTTP/2
   * body closed on another thread while one read it fails that read with "stream closed". Not the
   * server's doing. (A stream reset with {@code CANCEL} is not told apart: OkHttp also fails the
   * streams of a connection the server ended that way.)
   */
  static boolean closedByReader(IOException e) {
    return "stream closed".equals(e.getMessage());
  }

  /**
   * OkHttp's own test of a connection's health without I/O ({@code
   * RealConnection.isHealthy(false)}, false once an HTTP/2 connection is shut down, which OkHttp
   * does before it fails the connection's streams); null if it cannot be reached: another OkHttp,
   * or on the module path, where OkHttp exports its internals only to its own modules (unless the
   * application adds {@code --add-exports okhttp3/okhttp3.internal.connection=dev.failover}).
   * Looked up by name: an internal type.
   */
  private static final java.lang.invoke.@org.jspecify.annotations.Nullable MethodHandle IS_HEALTHY =
      isHealthy();

  /** Whether {@link #connectionGivenUp} can ask OkHttp's own test of a connection's health. */
  static boolean canAskHealth() {
    return IS_HEALTHY != null;
  }

  private static java.lang.invoke.@org.jspecify.annotations.Nullable MethodHandle isHealthy() {
    try {
      return java.lang.invoke.MethodHandles.lookup()
          .findVirtual(
              Class.forName("okhttp3.internal.connection.RealConnection"),
              "isHealthy",
              java.lang.invoke.MethodType.methodType(boolean.class, boolean.class))
          .asType(
              java.lang.invoke.MethodType.methodType(
                  boolean.class, okhttp3.Connection.class, boolean.class));
    } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
      return null;
    }
  }

  /**
   * Whether OkHttp gave {@code connection} up: an HTTP/2 connection shut down (its socket died, or
   * it was told to go away), a socket closed. Asked as an attempt's failure comes through the SDK's
   * network interceptor, before OkHttp releases the connection (or as a body read fails). Without
   * OkHttp's own test ({@link #IS_HEALTHY} unreachable), only a closed socket tells, which OkHttp
   * closes just after failing the streams.
   */
  static boolean connectionGivenUp(okhttp3.Connection connection) {
    java.lang.invoke.MethodHandle healthy = IS_HEALTHY;
    if (healthy != null
        && "okhttp3.internal.connection.RealConnection".equals(connection.getClass().getName())) {
      try {
        return !(boolean) healthy.invokeExact(connection, false);
      } catch (Throwable e) {
        // Not expected of a method that does no I/O: tell by the socket.
      }
    }
    return connection.socket().isClosed();
  }

  /**
   * Whether {@code e} is how OkHttp fails the streams of a connection that dies: the socket's own
   * failure (the same exception for every stream), or a reset with {@code CANCEL} (the connection
   * closed under them without an error). Not a stream reset the server sent for one stream with
   * another code ({@code INTERNAL_ERROR}, {@code PROTOCOL_ERROR}, ...), which counts alone even on
   * a connection OkHttp has stopped using (one draining after a {@code GOAWAY}).
   */
  static boolean connectionFailure(IOException e) {
    return !isStreamReset(e) || String.valueOf(e.getMessage()).endsWith(": CANCEL");
  }

  /**
   * Whether {@code e}, a {@linkplain #connectionFailure connection's failure} on {@code
   * connection}, is a stream of a connection closed under it: a reset with {@code CANCEL} (each
   * stream gets one of its own) on a connection OkHttp had given up ({@link #connectionGivenUp}).
   * Any other failure is one loss with another only as the very same exception (the socket's own
   * failure, which OkHttp gives every stream): a malformed answer on a connection draining after a
   * {@code GOAWAY} counts alone.
   */
  static boolean givenUpUnder(okhttp3.Connection connection, IOException e) {
    return isStreamReset(e) && connectionGivenUp(connection);
  }

  private static boolean isStreamReset(IOException e) {
    return e.getClass().getName().equals("okhttp3.internal.http2.StreamResetException");
  }

  /**
   * Whether HTTP/2 says the server did not process the request, though it went out: the server
   * refused its stream ({@code REFUSED_STREAM}, RFC 9113 section 8.7; OkHttp also fails the streams
   * above a GOAWAY's last stream id with it), or OkHttp could not open its stream on a connection
   * that was shutting down (a GOAWAY came first). Such a request may be sent again, a POST too.
   * Matched by class name and message: both are OkHttp's internal types.
   */
  static boolean unprocessed(IOException e) {
    String type = e.getClass().getName();
    return type.equals("okhttp3.internal.http2.ConnectionShutdownException")
        || (type.equals("okhttp3.internal.http2.StreamResetException")
            && String.valueOf(e.getMessage()).endsWith("REFUSED_STREAM"));
  }

  /**
   * Whether an attempt that ended with {@code outcome} and {@code failure} timed out for reasons of
   * the client's own, so that it is no evidence against its endpoint or zone:
   *
   * <ul>
   *   <li>it timed out before it was sent ({@code CONNECT_FAILED} with a timeout) and never reached
   *       the SDK's interceptor ({@code reachedSdk} false: it waited for a free slot of {@code
   *       maxRequests}, or in the application's own interceptors), or a stall of the client long
   *       enough to explain it ran ({@code stallExplains});
   *   <li>its own timeout ended it ({@code byAttemptTimeout}, whether before or after sending) and
   *       it reached the SDK's interceptor with less than half of that timeout left ({@code
   *       reachedLate}): the wait for a slot, not the endpoint, took its time.
   * </ul>
   *
   * A connection that was refused, or that timed out with no stall (a blackholed zone), and a
   * timeout of an attempt that had most of its time on the network, are still evidence.
   */
  static boolean clientsOwnTimeout(
      Outcome outcome,
      @org.jspecify.annotations.Nullable IOException failure,
      boolean reachedSdk,
      boolean reachedLate,
      boolean byAttemptTimeout,
      boolean stallExplains) {
    boolean timeout = failure instanceof InterruptedIOException;
    if (outcome == Outcome.CONNECT_FAILED && timeout && (!reachedSdk || stallExplains)) {
      return true;
    }
    return (outcome == Outcome.CONNECT_FAILED || outcome == Outcome.TIMEOUT)
        && timeout
        && byAttemptTimeout
        && reachedSdk
        && reachedLate;
  }

  /**
   * Whether an attempt's connection did not open in time: a {@code CONNECT_FAILED} that timed out
   * (a connect or TLS handshake that did not finish, or the attempt's timeout while it connected)
   * rather than one refused or unreachable.
   */
  static boolean connectTimedOut(
      Outcome outcome, @org.jspecify.annotations.Nullable IOException failure) {
    return outcome == Outcome.CONNECT_FAILED && failure instanceof InterruptedIOException;
  }

  /**
   * Whether an attempt's connection was refused or unreachable: a {@code CONNECT_FAILED} with a
   * {@code SocketException} ({@code ConnectException}, {@code NoRouteToHostException}, a reset
   * during the handshake...). Such failures corroborate a zone's outage by themselves. Not "Network
   * is unreachable" ({@link #networkUnreachable}), the client's own routing as a rule. Not a name
   * that did not resolve (the client's own resolver may be failing for every endpoint), a TLS
   * handshake that failed, a proxy's refusal or a protocol the client will not speak, which count
   * against the endpoint and its zone as any failure; nor the client's own exhaustion ({@link
   * #clientResourcesExhausted}), which is no evidence.
   */
  static boolean refused(Outcome outcome, @org.jspecify.annotations.Nullable IOException failure) {
    return outcome == Outcome.CONNECT_FAILED
        && failure instanceof SocketException
        && !clientResourcesExhausted(failure)
        && !networkUnreachable(failure);
  }

  /**
   * Whether a connection failed with "Network is unreachable" (ENETUNREACH): almost always the
   * client's own routing (its interface or route withdrawn, a VPN or pod network rebuilt), which
   * fails every endpoint at once; rarely a router's ICMP answer for one network. It never
   * corroborates a zone's outage by itself, and in two zones at once it is the client's network
   * ({@link ClientHealth#unreachableIn}): no evidence at all. Only when every address OkHttp tried
   * failed so: it throws the first route's failure with the others suppressed in it, and on a host
   * without IPv6 the first route of a name with both kinds of address fails so at once, whatever
   * the IPv4 address answered (a refusal, which is evidence).
   */
  static boolean networkUnreachable(@org.jspecify.annotations.Nullable Throwable failure) {
    if (failure == null || !unreachableAlone(failure)) {
      return false;
    }
    for (Throwable other : failure.getSuppressed()) {
      if (!unreachableAlone(other)) {
        return false;
      }
    }
    return true;
  }

  /** Whether {@code failure}, or one of its first causes, is "Network is unreachable". */
  private static boolean unreachableAlone(Throwable failure) {
    Throwable t = failure;
    for (int depth = 0; t != null && depth < 4; depth++, t = t.getCause()) {
      String message = t instanceof SocketException ? t.getMessage() : null;
      if (message != null && message.contains("Network is unreachable")) {
        return true;
      }
    }
    return false;
  }

  /**
   * Whether a connection failed for want of the client's own resources: no local port to bind
   * ({@code BindException}, "Cannot assign requested address" when the host ran out of ephemeral
   * ports) or no file descriptor ("Too many open files"). A saturated client host, not the
   * endpoint: no evidence against it or its zone.
   */
  static boolean clientResourcesExhausted(@org.jspecify.annotations.Nullable IOException failure) {
    if (failure instanceof java.net.BindException) {
      return true;
    }
    String message = failure instanceof SocketException ? failure.getMessage() : null;
    return message != null && message.contains("Too many open files");
  }

  /** Whether a request may be sent more than once. */
  public static boolean idempotent(Request request) {
    RequestOptions options = RequestOptions.of(request);
    if (options != null && options.idempotent() != null) {
      return options.idempotent();
    }
    if (request.header(IDEMPOTENCY_KEY) != null) {
      return true;
    }
    return IDEMPOTENT_METHODS.contains(request.method().toUpperCase(Locale.ROOT));
  }

  /** Whether a request's body can be written more than once. */
  public static boolean replayable(Request request) {
    RequestBody body = request.body();
    return body == null || (!body.isOneShot() && !body.isDuplex());
  }
}
