package dev.failover;

/**
 * How one attempt ended, as the retry logic classifies it.
 *
 * <p>{@link #isRetryable()} says whether the outcome may lead to another attempt; whether it does
 * also depends on the request (see {@link FailoverClient}: a non-idempotent request is only retried
 * when it {@linkplain #neverSent() never left the client}), on the retry budget and on the
 * deadline.
 */
public enum Outcome {
  /** A response that is neither retryable nor a server failure (2xx, 3xx, 4xx other than 429). */
  SUCCESS(false, false, false),
  /** The connection could not be made: refused, unreachable, unknown host or connect timeout. */
  CONNECT_FAILED(true, true, true),
  /** The connection was reset or closed while the request or response was in flight. */
  RESET(true, false, true),
  /** The attempt ran out of its time: no complete response within the attempt timeout. */
  TIMEOUT(true, false, true),
  /** 502, 503 or 504: the server or a gateway in front of it says it cannot serve now. */
  UNAVAILABLE(true, false, true),
  /** 429: the server asks the client to slow down. */
  THROTTLED(true, false, false),
  /** 500 or another 5xx not listed above: a server failure that is not retried. */
  SERVER_ERROR(false, false, true),
  /** Another I/O failure, such as a malformed response; retried like a reset. */
  PROTOCOL_ERROR(true, false, true),
  /** The attempt was cancelled: by the caller, by the deadline or because another attempt won. */
  CANCELLED(false, false, false);

  private final boolean retryable;
  private final boolean neverSent;
  private final boolean endpointFailure;

  Outcome(boolean retryable, boolean neverSent, boolean endpointFailure) {
    this.retryable = retryable;
    this.neverSent = neverSent;
    this.endpointFailure = endpointFailure;
  }

  /**
   * Whether another attempt may follow this outcome.
   *
   * @return true for connect failures, resets, timeouts, 502/503/504, 429 and protocol errors
   */
  public boolean isRetryable() {
    return retryable;
  }

  /**
   * Whether the request provably never left the client, so even a POST may be sent again.
   *
   * @return true only for {@link #CONNECT_FAILED}
   */
  public boolean neverSent() {
    return neverSent;
  }

  /**
   * Whether the outcome counts against the endpoint's health (its circuit breaker).
   *
   * @return true for connect failures, resets, timeouts, protocol errors and 5xx responses
   */
  public boolean isEndpointFailure() {
    return endpointFailure;
  }
}
