package dev.failover;

import java.time.Duration;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Stale-if-error: recent successful GET responses are kept, and served when every attempt of a
 * later GET for the same URL failed or its deadline passed.
 *
 * <p>A stale response carries {@code Warning: 110 - "Response is Stale"} and an {@code Age} header,
 * and the listener receives {@link FailoverEvent.StaleServed}. Only 2xx responses to GET whose body
 * is at most {@code maxBodyBytes} are kept, for at most {@code maxAge}, at most {@code maxEntries}
 * of them (Caffeine's size eviction, W-TinyLFU, picks what goes). The key is what the server saw
 * after the application's interceptors: the path and query they sent, and a SHA-256 digest of every
 * request header but transport and tracing ones, of the cookie jar's cookies and of the URL's user
 * info; so a caller is never served a response fetched with other credentials (or another tenant's
 * path), and no credential is kept in clear. A request that gains a header below the application's
 * interceptors (a network interceptor, an {@code Authenticator}) is neither kept nor served: the
 * key could not tell its callers apart; and while the {@code OkHttpClient} has network
 * interceptors, a call none of whose attempts reached them is served nothing, unless {@link
 * Builder#networkInterceptorsAddNoIdentity(boolean)} declares them harmless. Responses marked
 * {@code Cache-Control: no-store}, {@code no-cache} or {@code must-revalidate} are never kept, and
 * a request asking {@code no-cache} is served nothing. A stale copy replaces a final retryable
 * failure (a 502, 503, 504 or 429 after the last attempt) or an exception; a 500 or 4xx is the
 * server's answer and is returned as is. The body is copied as the caller reads it (the caller
 * never waits for the cache); only a body read to its end within {@code maxBodyBytes} is kept.
 * Nothing else changes what the caller sees: a fresh response is always preferred.
 *
 * <p>Immutable. {@link #of(long, long, Duration)} and {@link #builder()} turn the cache on; {@link
 * #toBuilder()} copies one with changes; {@link #off()} (the client's default) keeps nothing:
 *
 * <pre>{@code
 * builder.staleIfError(StaleCache.of(10_000, 64 * 1024, Duration.ofMinutes(5)));
 * builder.staleIfError(StaleCache.builder().maxAge(Duration.ofMinutes(1)).build());
 * }</pre>
 *
 * <p>{@link #off()} has no settings to change: its {@link #toBuilder()} throws {@link
 * IllegalStateException} instead of quietly turning the cache on. Its accessors return the
 * builder's starting values, which it does not use.
 */
public final class StaleCache {

  /**
   * The largest {@code maxBodyBytes}: 64 MiB. A body is read into memory before it is kept, so a
   * larger bound would only let one response exhaust the heap.
   */
  public static final long MAX_BODY_BYTES = 64L * 1024 * 1024;

  private static final StaleCache OFF = new StaleCache(false, new Builder());

  private final boolean enabled;
  private final long maxEntries;
  private final long maxBodyBytes;
  private final Duration maxAge;
  private final boolean networkInterceptorsAddNoIdentity;

  private StaleCache(boolean enabled, Builder b) {
    this.enabled = enabled;
    this.maxEntries = checkMaxEntries(b.maxEntries);
    this.maxBodyBytes = checkMaxBodyBytes(b.maxBodyBytes);
    this.maxAge = checkMaxAge(b.maxAge);
    this.networkInterceptorsAddNoIdentity = b.networkInterceptorsAddNoIdentity;
  }

  /**
   * Returns the setting that keeps nothing; the client's default. Always the same instance; it is
   * the only cache whose {@link #enabled()} is false.
   *
   * @return stale-if-error off
   */
  public static StaleCache off() {
    return OFF;
  }

  /**
   * Keeps responses within the given bounds.
   *
   * @param maxEntries the most responses kept
   * @param maxBodyBytes the largest body kept, 1 to {@link #MAX_BODY_BYTES} (64 MiB)
   * @param maxAge the oldest response served, 1 ms to 24 h
   * @return the setting
   * @throws InvalidSettingException if a bound is out of range
   */
  public static StaleCache of(long maxEntries, long maxBodyBytes, Duration maxAge) {
    return builder().maxEntries(maxEntries).maxBodyBytes(maxBodyBytes).maxAge(maxAge).build();
  }

  /**
   * Returns a builder starting from 1,000 entries of at most 64 KiB, served up to 5 minutes old.
   * There is no default for a cache that is on: these are a reasonable start; pick values for your
   * data.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Returns a builder holding this cache's settings.
   *
   * @return a new builder
   * @throws IllegalStateException on {@link #off()}, which has no settings to change
   */
  public Builder toBuilder() {
    if (!enabled) {
      throw new IllegalStateException(
          "StaleCache.off() has no settings to change; start from StaleCache.of(..) or"
              + " StaleCache.builder() to turn stale-if-error on");
    }
    return new Builder(this);
  }

  /**
   * Whether responses are kept and served.
   *
   * @return false only for {@link #off()}
   */
  public boolean enabled() {
    return enabled;
  }

  /**
   * Returns the most responses kept.
   *
   * @return at least 1
   */
  public long maxEntries() {
    return maxEntries;
  }

  /**
   * Returns the largest body kept.
   *
   * @return 1 to {@link #MAX_BODY_BYTES}
   */
  public long maxBodyBytes() {
    return maxBodyBytes;
  }

  /**
   * Returns the oldest response served.
   *
   * @return 1 ms to 24 h
   */
  public Duration maxAge() {
    return maxAge;
  }

  /**
   * Returns whether the application declared that its {@code OkHttpClient}'s network interceptors
   * add nothing that identifies a caller.
   *
   * @return false unless declared with {@link Builder#networkInterceptorsAddNoIdentity(boolean)}
   */
  public boolean networkInterceptorsAddNoIdentity() {
    return networkInterceptorsAddNoIdentity;
  }

  @Override
  public boolean equals(@Nullable Object o) {
    if (o == this) {
      return true;
    }
    return o instanceof StaleCache c
        && enabled == c.enabled
        && maxEntries == c.maxEntries
        && maxBodyBytes == c.maxBodyBytes
        && maxAge.equals(c.maxAge)
        && networkInterceptorsAddNoIdentity == c.networkInterceptorsAddNoIdentity;
  }

  @Override
  public int hashCode() {
    return Objects.hash(
        enabled, maxEntries, maxBodyBytes, maxAge, networkInterceptorsAddNoIdentity);
  }

  @Override
  public String toString() {
    if (!enabled) {
      return "StaleCache.off()";
    }
    return "StaleCache[maxEntries="
        + maxEntries
        + ", maxBodyBytes="
        + maxBodyBytes
        + ", maxAge="
        + maxAge
        + (networkInterceptorsAddNoIdentity ? ", networkInterceptorsAddNoIdentity" : "")
        + "]";
  }

  /**
   * Builds a {@link StaleCache}; starts from 1,000 entries of at most 64 KiB, served up to 5
   * minutes old. Each setter checks its value at once.
   */
  public static final class Builder {
    private long maxEntries = 1000;
    private long maxBodyBytes = 64 * 1024;
    private Duration maxAge = Duration.ofMinutes(5);
    private boolean networkInterceptorsAddNoIdentity;

    private Builder() {}

    private Builder(StaleCache c) {
      maxEntries = c.maxEntries;
      maxBodyBytes = c.maxBodyBytes;
      maxAge = c.maxAge;
      networkInterceptorsAddNoIdentity = c.networkInterceptorsAddNoIdentity;
    }

    /**
     * Sets the most responses kept. Starts at 1,000.
     *
     * @param maxEntries at least 1
     * @return this builder
     * @throws InvalidSettingException if below 1
     */
    public Builder maxEntries(long maxEntries) {
      this.maxEntries = checkMaxEntries(maxEntries);
      return this;
    }

    /**
     * Sets the largest body kept. Starts at 65,536 (64 KiB).
     *
     * @param maxBodyBytes 1 to {@link StaleCache#MAX_BODY_BYTES} (64 MiB)
     * @return this builder
     * @throws InvalidSettingException if out of range
     */
    public Builder maxBodyBytes(long maxBodyBytes) {
      this.maxBodyBytes = checkMaxBodyBytes(maxBodyBytes);
      return this;
    }

    /**
     * Sets the oldest response served. Starts at 5 minutes.
     *
     * @param maxAge 1 ms to 24 h
     * @return this builder
     * @throws InvalidSettingException if out of range
     */
    public Builder maxAge(Duration maxAge) {
      this.maxAge = checkMaxAge(maxAge);
      return this;
    }

    /**
     * Declares that the network interceptors of the {@code OkHttpClient} given to the client add
     * nothing that identifies a caller (a logging interceptor, say). Starts false: network
     * interceptors run only for an attempt that reached the network, so a call whose every
     * connection failed (a zone that refuses) never shows whether they would have added its
     * caller's identity, and while the client's {@code OkHttpClient} has any, such a call is served
     * no copy. An attempt that reaches the network is still checked, whatever this says.
     *
     * @param addNoIdentity true if no network interceptor adds a credential, a user or a tenant
     * @return this builder
     */
    public Builder networkInterceptorsAddNoIdentity(boolean addNoIdentity) {
      this.networkInterceptorsAddNoIdentity = addNoIdentity;
      return this;
    }

    /**
     * Returns the cache setting; stale-if-error is on.
     *
     * @return the setting
     */
    public StaleCache build() {
      return new StaleCache(true, this);
    }
  }

  private static long checkMaxEntries(long maxEntries) {
    if (maxEntries < 1) {
      throw new InvalidSettingException(
          "staleIfError.maxEntries",
          maxEntries,
          "stale maxEntries must be >= 1 but was " + maxEntries);
    }
    return maxEntries;
  }

  private static long checkMaxBodyBytes(long maxBodyBytes) {
    if (maxBodyBytes < 1 || maxBodyBytes > MAX_BODY_BYTES) {
      throw new InvalidSettingException(
          "staleIfError.maxBodyBytes",
          maxBodyBytes,
          "stale maxBodyBytes must be between 1 and "
              + MAX_BODY_BYTES
              + " (64 MiB) but was "
              + maxBodyBytes);
    }
    return maxBodyBytes;
  }

  private static Duration checkMaxAge(Duration maxAge) {
    HealthCheck.checkPositive("staleIfError.maxAge", "stale maxAge", maxAge);
    return maxAge;
  }
}
