package dev.failover.internal;

import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.random.RandomGenerator;
import org.jspecify.annotations.Nullable;

/** Exponential backoff with full jitter, and parsing of {@code Retry-After}. */
public final class Backoff {
  private final long baseNanos;
  private final long capNanos;

  public Backoff(Duration base, Duration cap) {
    this.baseNanos = base.toNanos();
    this.capNanos = cap.toNanos();
  }

  /** Returns the bound for retry {@code n} (1 for the first retry): min(cap, base x 2^(n-1)). */
  public long ceilingNanos(int n) {
    int shift = Math.min(Math.max(n - 1, 0), 30);
    long exp = baseNanos << shift;
    if (exp < 0 || (exp >> shift) != baseNanos) {
      exp = Long.MAX_VALUE;
    }
    return Math.min(capNanos, exp);
  }

  /** Returns a delay for retry {@code n}, uniform in [0, ceiling(n)]: "full jitter". */
  public long delayNanos(int n, RandomGenerator random) {
    long ceiling = ceilingNanos(n);
    return ceiling <= 0 ? 0 : random.nextLong(ceiling + 1);
  }

  /**
   * Parses a {@code Retry-After} value, delta-seconds or an HTTP date, relative to {@code
   * nowEpochMillis}; returns null when absent or unparseable.
   */
  public static @Nullable Duration parseRetryAfter(@Nullable String value, long nowEpochMillis) {
    if (value == null) {
      return null;
    }
    String v = value.trim();
    if (v.isEmpty()) {
      return null;
    }
    if (v.chars().allMatch(Character::isDigit)) {
      try {
        return Duration.ofSeconds(Long.parseLong(v));
      } catch (NumberFormatException e) {
        return null;
      }
    }
    try {
      ZonedDateTime at = ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME);
      long millis = at.toInstant().toEpochMilli() - nowEpochMillis;
      return Duration.ofMillis(Math.max(0, millis));
    } catch (DateTimeParseException e) {
      return null;
    }
  }
}
