package dev.failover;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * A call failed: every attempt failed, the deadline passed, or no endpoint could be tried.
 *
 * <p>The message and {@link #attempts()} list every attempt with its endpoint, zone, outcome and
 * duration, for example:
 *
 * <pre>
 * GET http://directory/users/42 failed after 2 attempts in 41 ms: RETRIES_EXHAUSTED
 *   #1 FIRST http://10.0.1.7:8080 (us-east-1/us-east-1a): CONNECT_FAILED (ConnectException: Connection refused) in 1 ms
 *   #2 RETRY http://10.0.2.9:8080 (us-east-1/us-east-1b): UNAVAILABLE (HTTP 503) in 12 ms
 * </pre>
 */
public final class FailoverException extends IOException {
  private static final long serialVersionUID = 1L;

  /** Why the call failed as a whole. */
  public enum Reason {
    /** The last attempt failed and no further attempt was allowed (max attempts, or not safe). */
    RETRIES_EXHAUSTED,
    /** The retry budget was empty when a retry was due. */
    BUDGET_EXHAUSTED,
    /** The call's deadline passed. */
    DEADLINE_EXCEEDED,
    /** No endpoint could take the attempt (none configured healthy and panic is fail-closed). */
    NO_ENDPOINT,
    /** The caller cancelled the call, or the client was closed. */
    CANCELLED
  }

  /** Every attempt, in order of start. */
  @SuppressWarnings("serial") // an immutable List.copyOf list; Attempt is not Serializable
  private final List<Attempt> attempts;

  /** Why the call failed. */
  private final Reason reason;

  /** Time from the start of the call to its failure. */
  private final Duration elapsed;

  /**
   * Creates the exception.
   *
   * @param call a short description of the call, such as {@code GET http://directory/users/42}
   * @param reason why it failed
   * @param attempts every attempt, in order of start
   * @param elapsed time from the start of the call to its failure
   */
  public FailoverException(String call, Reason reason, List<Attempt> attempts, Duration elapsed) {
    super(message(call, reason, attempts, elapsed));
    this.reason = Objects.requireNonNull(reason, "reason");
    this.attempts = List.copyOf(attempts);
    this.elapsed = Objects.requireNonNull(elapsed, "elapsed");
  }

  /**
   * Returns why the call failed as a whole.
   *
   * @return the reason
   */
  public Reason reason() {
    return reason;
  }

  /**
   * Returns every attempt of the call, in order of start.
   *
   * @return an immutable list, empty when no attempt could be sent
   */
  public List<Attempt> attempts() {
    return attempts;
  }

  /**
   * Returns the time from the start of the call to its failure.
   *
   * @return the elapsed time
   */
  public Duration elapsed() {
    return elapsed;
  }

  private static String message(
      String call, Reason reason, List<Attempt> attempts, Duration elapsed) {
    StringBuilder sb = new StringBuilder();
    sb.append(call)
        .append(" failed after ")
        .append(attempts.size())
        .append(attempts.size() == 1 ? " attempt" : " attempts")
        .append(" in ")
        .append(elapsed.toMillis())
        .append(" ms: ")
        .append(reason);
    for (Attempt a : attempts) {
      sb.append("\n  ").append(a);
    }
    return sb.toString();
  }
}
