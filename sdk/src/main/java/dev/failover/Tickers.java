package dev.failover;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import org.jspecify.annotations.Nullable;

/** How a client's monotonic time is chosen from its builder's ticker and clock. */
final class Tickers {
  private Tickers() {}

  /**
   * The ticker a client measures on: the one given, else one read from {@code clock} (a test that
   * set only a fake clock keeps driving everything with it), else the system ticker.
   */
  static Ticker monotonic(@Nullable Ticker ticker, Clock clock) {
    if (ticker != null) {
      return ticker;
    }
    if (clock instanceof Ticker t) {
      return t;
    }
    if (clock.equals(Clock.systemUTC()) || clock.equals(Clock.system(clock.getZone()))) {
      return Ticker.system();
    }
    return () -> {
      Instant now = clock.instant();
      return now.getEpochSecond() * 1_000_000_000L + now.getNano();
    };
  }

  /**
   * The clock the endpoints' Resilience4j breakers measure their ejections on: the client's
   * monotonic time ({@link #monotonic}), so that an ejection ends when the endpoint's own record of
   * it does, on the same time as everything else. The wall clock it once was by default could step
   * (NTP, a VM resumed): back, and an endpoint that routing took for probing was refused by its
   * breaker for as long as the step; forward, and the breaker half-opened early.
   */
  static Clock breakerClock(@Nullable Ticker ticker, Clock clock) {
    return new TickerClock(monotonic(ticker, clock));
  }

  /** A clock whose instants are a ticker's nanoseconds: only their differences mean anything. */
  private static final class TickerClock extends Clock {
    private final Ticker ticker;

    TickerClock(Ticker ticker) {
      this.ticker = ticker;
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      long n = ticker.nanos();
      return Instant.ofEpochSecond(
          Math.floorDiv(n, 1_000_000_000L), Math.floorMod(n, 1_000_000_000L));
    }

    @Override
    public long millis() {
      return Math.floorDiv(ticker.nanos(), 1_000_000L);
    }
  }
}
