package dev.failover;

import java.time.Duration;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Per-request settings, attached to an OkHttp request as a tag: keyed by {@code
 * RequestOptions.class} as below, or as the request's untyped tag ({@code .tag(options)}), which is
 * read when there is no tag keyed by the class.
 *
 * <pre>{@code
 * Request request = new Request.Builder()
 *     .url("http://directory/users")
 *     .post(body)
 *     .tag(RequestOptions.class, RequestOptions.markIdempotent())
 *     .build();
 * }</pre>
 *
 * <p>Immutable. The factories cover the usual cases; {@link #builder()} (nothing set: the client
 * decides) and {@link #toBuilder()} combine them:
 *
 * <pre>{@code
 * RequestOptions options = RequestOptions.builder()
 *     .idempotent(true)
 *     .deadline(Duration.ofSeconds(2))
 *     .build();  // the same as markIdempotent().withDeadline(Duration.ofSeconds(2))
 * }</pre>
 */
public final class RequestOptions {
  /**
   * The tag's key, made once: OkHttp 5 keys tags by {@code KClass}, and its {@code Class} overloads
   * make a new one on every lookup.
   */
  static final kotlin.reflect.KClass<RequestOptions> KEY =
      kotlin.jvm.JvmClassMappingKt.getKotlinClass(RequestOptions.class);

  /**
   * The options of a request: its tag keyed by {@code RequestOptions}, or else its untyped tag
   * ({@code Request.Builder.tag(Object)}, keyed by {@code Object}) if that is a {@code
   * RequestOptions}. Either way of attaching them works: the untyped one was once ignored, which
   * let a GET marked not idempotent be retried and hedged.
   */
  static @Nullable RequestOptions of(okhttp3.Request request) {
    RequestOptions options = request.tag(KEY);
    if (options == null && request.tag() instanceof RequestOptions untyped) {
      return untyped;
    }
    return options;
  }

  private static final RequestOptions IDEMPOTENT = builder().idempotent(Boolean.TRUE).build();
  private static final RequestOptions NOT_IDEMPOTENT = builder().idempotent(Boolean.FALSE).build();

  private final @Nullable Boolean idempotent;
  private final @Nullable Duration deadline;

  private RequestOptions(Builder b) {
    this.idempotent = b.idempotent;
    this.deadline = checkDeadline(b.deadline);
  }

  /**
   * Marks a request idempotent: safe to send more than once.
   *
   * @return the options
   */
  public static RequestOptions markIdempotent() {
    return IDEMPOTENT;
  }

  /**
   * Marks a request not idempotent: it is sent again only if it provably never left the client.
   *
   * @return the options
   */
  public static RequestOptions markNotIdempotent() {
    return NOT_IDEMPOTENT;
  }

  /**
   * Gives a request its own total deadline.
   *
   * @param deadline the deadline spanning every attempt and backoff
   * @return the options
   * @throws InvalidSettingException if the deadline is not positive, or outside 1 ms to 24 h
   */
  public static RequestOptions ofDeadline(Duration deadline) {
    return builder().deadline(deadline).build();
  }

  /**
   * Returns a builder with nothing set: idempotency decided by method and {@code Idempotency-Key}
   * header, and the client's deadline.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Returns a builder holding these options.
   *
   * @return a new builder
   */
  public Builder toBuilder() {
    return new Builder(this);
  }

  /**
   * Returns whether the request is marked idempotent.
   *
   * @return true if marked idempotent (it may then be retried and hedged even when its method is
   *     POST or PATCH), false if marked not idempotent (never sent twice, even a GET), null to
   *     decide by method and {@code Idempotency-Key} header
   */
  public @Nullable Boolean idempotent() {
    return idempotent;
  }

  /**
   * Returns this call's total deadline.
   *
   * @return the deadline instead of the client's, or null for the client's
   */
  public @Nullable Duration deadline() {
    return deadline;
  }

  /**
   * Returns a copy with another deadline.
   *
   * @param deadline the deadline
   * @return the copy
   * @throws InvalidSettingException if the deadline is not positive, or outside 1 ms to 24 h
   */
  public RequestOptions withDeadline(Duration deadline) {
    return toBuilder().deadline(deadline).build();
  }

  @Override
  public boolean equals(@Nullable Object o) {
    if (o == this) {
      return true;
    }
    return o instanceof RequestOptions r
        && Objects.equals(idempotent, r.idempotent)
        && Objects.equals(deadline, r.deadline);
  }

  @Override
  public int hashCode() {
    return Objects.hash(idempotent, deadline);
  }

  @Override
  public String toString() {
    return "RequestOptions[idempotent=" + idempotent + ", deadline=" + deadline + "]";
  }

  /**
   * Builds {@link RequestOptions}; starts with nothing set. Each setter checks its value at once.
   */
  public static final class Builder {
    private @Nullable Boolean idempotent;
    private @Nullable Duration deadline;

    private Builder() {}

    private Builder(RequestOptions o) {
      idempotent = o.idempotent;
      deadline = o.deadline;
    }

    /**
     * Marks the request idempotent or not. Default null.
     *
     * @param idempotent true to mark the request idempotent (it may then be retried and hedged even
     *     when its method is POST or PATCH), false to mark it not idempotent (never sent twice,
     *     even a GET), null to decide by method and {@code Idempotency-Key} header
     * @return this builder
     */
    public Builder idempotent(@Nullable Boolean idempotent) {
      this.idempotent = idempotent;
      return this;
    }

    /**
     * Sets this call's total deadline, spanning every attempt and backoff. Default null.
     *
     * @param deadline 1 ms to 24 h, as the client's, or null for the client's deadline
     * @return this builder
     * @throws InvalidSettingException if the deadline is not positive, or out of range
     */
    public Builder deadline(@Nullable Duration deadline) {
      this.deadline = checkDeadline(deadline);
      return this;
    }

    /**
     * Returns the options.
     *
     * @return the options
     */
    public RequestOptions build() {
      return new RequestOptions(this);
    }
  }

  private static @Nullable Duration checkDeadline(@Nullable Duration deadline) {
    if (deadline != null) {
      // As the client's deadline (1 ms to 24 h): shorter fails every call before its first
      // attempt; longer would only hide a unit mistake, and overflow the call's nanosecond
      // arithmetic.
      HealthCheck.checkPositive("requestOptions.deadline", "deadline", deadline);
    }
    return deadline;
  }
}
