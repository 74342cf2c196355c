package dev.failover.statemachine;

import java.util.random.RandomGenerator;

/**
 * A thread-safe random generator with a fixed seed (SplitMix64) whose state can be copied, so that
 * a test can tell in advance what the client will draw next: for example the jitter of the next
 * retry's backoff, {@code copy().nextLong(ceiling + 1)}, when nothing else draws before it.
 */
final class SeededRandom implements RandomGenerator {
  private long state;

  SeededRandom(long seed) {
    this.state = seed;
  }

  @Override
  public synchronized long nextLong() {
    long z = (state += 0x9E3779B97F4A7C15L);
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /** An independent generator that will draw exactly what this one draws next. */
  synchronized SeededRandom copy() {
    return new SeededRandom(state);
  }
}
