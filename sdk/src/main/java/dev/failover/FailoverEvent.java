package dev.failover;

import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * What a {@link FailoverClient} reports to its {@link FailoverListener}. Events never carry
 * headers, bodies, queries or URL user info, so they are safe to log.
 */
public sealed interface FailoverEvent {

  /**
   * Returns the name of the service the event belongs to.
   *
   * @return the service name given to the builder
   */
  String service();

  /**
   * An attempt ended.
   *
   * @param service the service name
   * @param method the request method
   * @param path the request path, without query
   * @param attempt the attempt and its outcome
   */
  record AttemptFinished(String service, String method, String path, Attempt attempt)
      implements FailoverEvent {}

  /**
   * A retry was scheduled after a retryable outcome.
   *
   * @param service the service name
   * @param method the request method
   * @param path the request path, without query
   * @param failed the attempt that failed
   * @param backoff the delay before the retry is sent
   */
  record RetryScheduled(
      String service, String method, String path, Attempt failed, Duration backoff)
      implements FailoverEvent {}

  /**
   * A retry was due but the retry budget was empty, so the call ends with its last outcome.
   *
   * @param service the service name
   * @param method the request method
   * @param path the request path, without query
   * @param failed the attempt that would have been retried
   */
  record BudgetExhausted(String service, String method, String path, Attempt failed)
      implements FailoverEvent {}

  /**
   * An endpoint stopped getting traffic.
   *
   * @param service the service name
   * @param endpoint the endpoint
   * @param cause what ejected it
   * @param duration how long it is ejected before it is tried again, or null while an active health
   *     check holds it down
   */
  record EndpointEjected(
      String service, Endpoint endpoint, Cause cause, @Nullable Duration duration)
      implements FailoverEvent {}

  /**
   * An endpoint gets traffic again.
   *
   * @param service the service name
   * @param endpoint the endpoint
   * @param cause what had ejected it
   */
  record EndpointRestored(String service, Endpoint endpoint, Cause cause)
      implements FailoverEvent {}

  /**
   * A call ended, with its response or its failure.
   *
   * @param service the service name
   * @param method the request method
   * @param path the request path, without query
   * @param status the status of the response returned, or 0 when the call failed
   * @param failure why the call failed, or null when it returned a response
   * @param attempts the number of attempts sent
   * @param elapsed time from the start of the call to its end
   */
  record CallFinished(
      String service,
      String method,
      String path,
      int status,
      FailoverException.@Nullable Reason failure,
      int attempts,
      Duration elapsed)
      implements FailoverEvent {}

  /** What took an endpoint out of rotation. */
  enum Cause {
    /** Passive health: its circuit breaker opened on real traffic. */
    CIRCUIT_BREAKER,
    /** Active health: its health check failed. */
    HEALTH_CHECK
  }
}
