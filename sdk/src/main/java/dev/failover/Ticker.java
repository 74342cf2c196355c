package dev.failover;

import java.time.Clock;
import java.time.Instant;

/** A source of nanosecond time, injected so that tests can advance it by hand. */
@FunctionalInterface
interface Ticker {

  /** Returns the current time in nanoseconds, from an arbitrary origin. */
  long nanos();

  /** Returns {@link System#nanoTime()}. */
  static Ticker system() {
    return System::nanoTime;
  }

  /** Returns a ticker that reads {@code clock}, or the system ticker for the system clock. */
  static Ticker of(Clock clock) {
    if (clock instanceof Ticker t) {
      return t;
    }
    if (clock.equals(Clock.systemUTC()) || clock.equals(Clock.system(clock.getZone()))) {
      return system();
    }
    return () -> {
      Instant now = clock.instant();
      return now.getEpochSecond() * 1_000_000_000L + now.getNano();
    };
  }
}
