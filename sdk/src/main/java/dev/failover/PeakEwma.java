package dev.failover;

/**
 * Finagle's Peak-EWMA latency estimate: a new peak is taken at once, lower samples are averaged in
 * with a weight that decays with the time since the last sample, and a read decays the estimate
 * toward zero while no sample arrives, so that an endpoint that was slow is tried again in time.
 */
final class PeakEwma {
  private final double tauNanos;
  private double ewma;
  private long stamp;
  private boolean observed;

  public PeakEwma(long tauNanos) {
    if (tauNanos <= 0) {
      throw new IllegalArgumentException("tau must be positive but was " + tauNanos + " ns");
    }
    this.tauNanos = tauNanos;
  }

  /** Adds one sample of {@code rttNanos} taken at {@code now}. */
  public synchronized void observe(long rttNanos, long now) {
    double rtt = Math.max(0, rttNanos);
    if (!observed) {
      ewma = rtt;
      observed = true;
    } else if (rtt > ewma) {
      ewma = rtt;
    } else {
      double dt = Math.max(0, now - stamp);
      double w = Math.exp(-dt / tauNanos);
      ewma = ewma * w + rtt * (1 - w);
    }
    stamp = Math.max(stamp, now);
  }

  /**
   * Returns the estimate at {@code now} in nanoseconds, decayed for the time since the last sample.
   */
  public synchronized double cost(long now) {
    if (!observed) {
      return 0;
    }
    double dt = Math.max(0, now - stamp);
    return ewma * Math.exp(-dt / tauNanos);
  }
}
