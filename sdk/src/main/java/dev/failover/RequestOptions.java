package dev.failover;

import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * Per-request settings, attached to an OkHttp request as a tag.
 *
 * <pre>{@code
 * Request request = new Request.Builder()
 *     .url("http://directory/users")
 *     .post(body)
 *     .tag(RequestOptions.class, RequestOptions.markIdempotent())
 *     .build();
 * }</pre>
 *
 * @param idempotent true to mark the request idempotent (it may then be retried and hedged even
 *     when its method is POST or PATCH), false to mark it not idempotent (never sent twice, even a
 *     GET), null to decide by method and {@code Idempotency-Key} header
 * @param deadline this call's total deadline instead of the client's, or null
 */
public record RequestOptions(@Nullable Boolean idempotent, @Nullable Duration deadline) {

  /**
   * Checks the deadline.
   *
   * @param idempotent true to mark the request idempotent (it may then be retried and hedged even
   *     when its method is POST or PATCH), false to mark it not idempotent (never sent twice, even
   *     a GET), null to decide by method and {@code Idempotency-Key} header
   * @param deadline this call's total deadline instead of the client's, or null
   * @throws InvalidSettingException if the deadline is zero or negative
   */
  public RequestOptions {
    if (deadline != null && (deadline.isNegative() || deadline.isZero())) {
      throw new InvalidSettingException(
          "requestOptions.deadline", deadline, "deadline must be positive but was " + deadline);
    }
  }

  /**
   * Marks a request idempotent: safe to send more than once.
   *
   * @return the options
   */
  public static RequestOptions markIdempotent() {
    return new RequestOptions(Boolean.TRUE, null);
  }

  /**
   * Marks a request not idempotent: it is sent again only if it provably never left the client.
   *
   * @return the options
   */
  public static RequestOptions markNotIdempotent() {
    return new RequestOptions(Boolean.FALSE, null);
  }

  /**
   * Gives a request its own total deadline.
   *
   * @param deadline the deadline spanning every attempt and backoff
   * @return the options
   * @throws InvalidSettingException if the deadline is not positive
   */
  public static RequestOptions ofDeadline(Duration deadline) {
    return new RequestOptions(null, deadline);
  }

  /**
   * Returns a copy with another deadline.
   *
   * @param deadline the deadline
   * @return the copy
   * @throws InvalidSettingException if the deadline is not positive
   */
  public RequestOptions withDeadline(Duration deadline) {
    return new RequestOptions(idempotent, deadline);
  }
}
