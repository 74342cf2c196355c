package dev.failover;

import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.random.RandomGenerator;
import org.jspecify.annotations.Nullable;

/**
 * Exponential backoff with full jitter, and parsing of {@code Retry-After}.
 *
 * <p>Every value is clamped so that nanosecond arithmetic on it cannot overflow: a bound is at most
 * {@link #MAX_DELAY}, and a parsed {@code Retry-After} at most {@link #MAX_RETRY_AFTER}, whatever
 * the server sent.
 */
final class Backoff {
  /** The largest backoff bound, whatever base and cap were given. */
  public static final Duration MAX_DELAY = Duration.ofDays(1);

  /**
   * The largest pause {@link #parseRetryAfter} returns. Callers clamp further, to the client's
   * {@code maxRetryAfter}; this cap only keeps a hostile or broken header from overflowing {@link
   * Duration#toNanos()}.
   */
  public static final Duration MAX_RETRY_AFTER = Duration.ofDays(1);

  private static final long MAX_DELAY_NANOS = MAX_DELAY.toNanos();

  private final long baseNanos;
  private final long capNanos;

  /**
   * Creates a backoff; a negative base or cap counts as zero, and either is clamped to {@link
   * #MAX_DELAY}.
   */
  public Backoff(Duration base, Duration cap) {
    this.baseNanos = clampNanos(base);
    this.capNanos = clampNanos(cap);
  }

  private static long clampNanos(Duration d) {
    if (d.isNegative()) {
      return 0;
    }
    return d.compareTo(MAX_DELAY) >= 0 ? MAX_DELAY_NANOS : d.toNanos();
  }

  /** Returns the bound for retry {@code n} (1 for the first retry): min(cap, base x 2^(n-1)). */
  public long ceilingNanos(int n) {
    int shift = Math.min(Math.max(n - 1, 0), 62);
    long exp = baseNanos << shift;
    if (exp < 0 || (exp >> shift) != baseNanos) {
      exp = Long.MAX_VALUE;
    }
    return Math.min(capNanos, exp);
  }

  /** Returns a delay for retry {@code n}, uniform in [0, ceiling(n)]: "full jitter". */
  public long delayNanos(int n, RandomGenerator random) {
    long ceiling = ceilingNanos(n);
    // ceiling <= MAX_DELAY_NANOS, so ceiling + 1 cannot overflow.
    return ceiling <= 0 ? 0 : random.nextLong(ceiling + 1);
  }

  /**
   * Parses a {@code Retry-After} value, delta-seconds or an IMF-fixdate (RFC 9110, section 10.2.3),
   * relative to {@code nowEpochMillis}. Never throws: returns null when the value is absent, blank
   * or not one of those forms (a sign, a fraction or other text); zero for a date in the past; at
   * most {@link #MAX_RETRY_AFTER} for a larger delay, including delta-seconds too long for a {@code
   * long}.
   *
   * @param value the header value, or null
   * @param nowEpochMillis the current time
   * @return a delay in {@code [0, MAX_RETRY_AFTER]}, or null
   */
  public static @Nullable Duration parseRetryAfter(@Nullable String value, long nowEpochMillis) {
    return parseRetryAfter(value, nowEpochMillis, MAX_RETRY_AFTER);
  }

  /**
   * Parses a {@code Retry-After} value as {@link #parseRetryAfter(String, long)} does, clamped to
   * {@code cap} (itself at most {@link #MAX_RETRY_AFTER}).
   *
   * @param value the header value, or null
   * @param nowEpochMillis the current time
   * @param cap the largest delay returned; a negative cap counts as zero
   * @return a delay in {@code [0, min(cap, MAX_RETRY_AFTER)]}, or null
   */
  public static @Nullable Duration parseRetryAfter(
      @Nullable String value, long nowEpochMillis, Duration cap) {
    Duration max = cap.isNegative() ? Duration.ZERO : min(cap, MAX_RETRY_AFTER);
    if (value == null) {
      return null;
    }
    String v = value.trim();
    if (v.isEmpty()) {
      return null;
    }
    if (asciiDigits(v)) {
      // delta-seconds: any number of digits; more than fit in the cap means "the cap".
      int first = 0;
      while (first < v.length() - 1 && v.charAt(first) == '0') {
        first++;
      }
      if (v.length() - first > 18) {
        return max;
      }
      return min(Duration.ofSeconds(Long.parseLong(v, first, v.length(), 10)), max);
    }
    Instant at = httpDate(v, nowEpochMillis);
    if (at == null) {
      return null;
    }
    try {
      Duration delay = Duration.between(Instant.ofEpochMilli(nowEpochMillis), at);
      return delay.isNegative() ? Duration.ZERO : min(delay, max);
    } catch (ArithmeticException e) {
      return null;
    }
  }

  /** asctime's form: {@code Sun Nov 6 08:49:37 1994} (the day padded with a space), in GMT. */
  private static final DateTimeFormatter ASCTIME =
      DateTimeFormatter.ofPattern("EEE MMM ppd HH:mm:ss yyyy", java.util.Locale.US)
          .withZone(java.time.ZoneOffset.UTC);

  /**
   * An HTTP date in any of the three forms RFC 9110 (5.6.7) has a recipient accept: IMF-fixdate
   * ({@code Sun, 06 Nov 1994 08:49:37 GMT}), the obsolete RFC 850 form ({@code Sunday, 06-Nov-94
   * 08:49:37 GMT}, whose two-digit year is the latest one not more than 50 years ahead of now) and
   * asctime's; null if it is none of them.
   */
  static @Nullable Instant httpDate(String v, long nowEpochMillis) {
    try {
      return ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
    } catch (DateTimeException e) {
      // Not IMF-fixdate: one of the obsolete forms?
    }
    if (v.indexOf('-') > 0) {
      int year =
          Instant.ofEpochMilli(nowEpochMillis).atZone(java.time.ZoneOffset.UTC).getYear() + 50;
      DateTimeFormatter rfc850 =
          new java.time.format.DateTimeFormatterBuilder()
              .appendPattern("EEEE, dd-MMM-")
              .appendValueReduced(
                  java.time.temporal.ChronoField.YEAR,
                  2,
                  2,
                  java.time.LocalDate.of(year - 99, 1, 1))
              .appendPattern(" HH:mm:ss 'GMT'")
              .toFormatter(java.util.Locale.US)
              .withZone(java.time.ZoneOffset.UTC);
      try {
        return ZonedDateTime.parse(v, rfc850).toInstant();
      } catch (DateTimeException e) {
        return null;
      }
    }
    try {
      return ZonedDateTime.parse(v, ASCTIME).toInstant();
    } catch (DateTimeException e) {
      return null;
    }
  }

  private static boolean asciiDigits(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < '0' || c > '9') {
        return false;
      }
    }
    return true;
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }
}
