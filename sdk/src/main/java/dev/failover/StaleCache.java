package dev.failover;

import java.time.Duration;

/**
 * Stale-if-error: recent successful GET responses are kept, and served when every attempt of a
 * later GET for the same URL failed or its deadline passed.
 *
 * <p>A stale response carries {@code Warning: 110 - "Response is Stale"} and an {@code Age} header,
 * and the listener receives {@link FailoverEvent.StaleServed}. Only 2xx responses to GET whose body
 * is at most {@code maxBodyBytes} are kept, for at most {@code maxAge}, at most {@code maxEntries}
 * of them (Caffeine's size eviction, W-TinyLFU, picks what goes). The key is the URL, the {@code
 * Accept} header and a SHA-256 digest of the request's credential headers ({@code Authorization},
 * {@code Cookie}, and any header whose name contains {@code auth}, {@code token}, {@code key},
 * {@code session}, {@code secret}, {@code password} or {@code credential}), so a caller is never
 * served a response fetched with other credentials, and no credential is kept in clear. Responses
 * marked {@code Cache-Control: no-store} are never kept. A stale copy replaces a final retryable
 * failure (a 502, 503, 504 or 429 after the last attempt) or an exception; a 500 or 4xx is the
 * server's answer and is returned as is. Keeping a copy reads the body (at most {@code
 * maxBodyBytes}) before the response is handed over. Nothing else changes what the caller sees: a
 * fresh response is always preferred.
 *
 * <pre>{@code
 * builder.staleIfError(StaleCache.of(10_000, 64 * 1024, Duration.ofMinutes(5)));
 * }</pre>
 *
 * @param enabled whether responses are kept and served
 * @param maxEntries the most responses kept
 * @param maxBodyBytes the largest body kept, 1 to {@link #MAX_BODY_BYTES} (64 MiB)
 * @param maxAge the oldest response served, 1 ms to 24 h
 */
public record StaleCache(boolean enabled, long maxEntries, long maxBodyBytes, Duration maxAge) {

  /**
   * The largest {@code maxBodyBytes}: 64 MiB. A body is read into memory before it is kept, so a
   * larger bound would only let one response exhaust the heap.
   */
  public static final long MAX_BODY_BYTES = 64L * 1024 * 1024;

  private static final StaleCache DISABLED =
      new StaleCache(false, 1000, 64 * 1024, Duration.ofMinutes(5));

  /**
   * Checks every setting.
   *
   * @param enabled whether responses are kept and served
   * @param maxEntries the most responses kept
   * @param maxBodyBytes the largest body kept, 1 to {@link #MAX_BODY_BYTES} (64 MiB)
   * @param maxAge the oldest response served, 1 ms to 24 h
   * @throws InvalidSettingException if a bound is out of range
   */
  public StaleCache {
    if (maxEntries < 1) {
      throw new InvalidSettingException(
          "staleIfError.maxEntries",
          maxEntries,
          "stale maxEntries must be >= 1 but was " + maxEntries);
    }
    if (maxBodyBytes < 1 || maxBodyBytes > MAX_BODY_BYTES) {
      throw new InvalidSettingException(
          "staleIfError.maxBodyBytes",
          maxBodyBytes,
          "stale maxBodyBytes must be between 1 and "
              + MAX_BODY_BYTES
              + " (64 MiB) but was "
              + maxBodyBytes);
    }
    HealthCheck.checkPositive("staleIfError.maxAge", "stale maxAge", maxAge);
  }

  /**
   * Returns the setting that keeps nothing; the client's default.
   *
   * @return stale-if-error off
   */
  public static StaleCache disabled() {
    return DISABLED;
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
    return new StaleCache(true, maxEntries, maxBodyBytes, maxAge);
  }
}
