package dev.failover;

import java.time.Duration;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * One attempt of a call: where it went, how it ended and how long it took.
 *
 * @param number the attempt's number in its call, from 1
 * @param kind why the attempt was sent
 * @param endpoint the endpoint it went to
 * @param outcome how it ended
 * @param status the HTTP status, or 0 when no response arrived
 * @param startedAfter time from the start of the call to the start of this attempt
 * @param duration time from the start of this attempt to its outcome
 * @param error a short description of the failure (exception class and message), or null
 */
public record Attempt(
    int number,
    Kind kind,
    Endpoint endpoint,
    Outcome outcome,
    int status,
    Duration startedAfter,
    Duration duration,
    @Nullable String error) {

  /** Why an attempt was sent. */
  public enum Kind {
    /** The call's first attempt. */
    FIRST,
    /** A retry after a retryable outcome. */
    RETRY,
    /** A hedge: a parallel attempt sent while an earlier one is still in flight. */
    HEDGE,
    /** A probe of an evacuated zone, raced at once with an attempt to a healthy zone. */
    PROBE
  }

  /**
   * Checks the fields.
   *
   * @param number the attempt's number in its call, from 1
   * @param kind why the attempt was sent
   * @param endpoint the endpoint it went to
   * @param outcome how it ended
   * @param status the HTTP status, or 0 when no response arrived
   * @param startedAfter time from the start of the call to the start of this attempt
   * @param duration time from the start of this attempt to its outcome
   * @param error a short description of the failure (exception class and message), or null
   * @throws NullPointerException if a field other than {@code error} is null
   */
  public Attempt {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(endpoint, "endpoint");
    Objects.requireNonNull(outcome, "outcome");
    Objects.requireNonNull(startedAfter, "startedAfter");
    Objects.requireNonNull(duration, "duration");
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder();
    sb.append('#').append(number).append(' ').append(kind).append(' ').append(endpoint);
    sb.append(": ").append(outcome);
    if (status > 0) {
      sb.append(" (HTTP ").append(status).append(')');
    }
    if (error != null) {
      sb.append(" (").append(error).append(')');
    }
    sb.append(" in ").append(duration.toMillis()).append(" ms");
    return sb.toString();
  }
}
