package dev.failover;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Finagle's Peak-EWMA latency estimate: a new peak is taken at once, lower samples are averaged in
 * with a weight that decays with the time since the last sample, and a read decays the estimate
 * toward zero while no sample arrives, so that an endpoint that was slow is tried again in time.
 *
 * <p>Lock-free: every pick reads the estimate of two endpoints and every attempt adds a sample,
 * from any number of threads at once, so a lock here is a point where the callers of one endpoint
 * queue. A sample is folded in with a compare-and-set of the estimate and never lost (a peak always
 * stays); the time of the last sample is a separate maximum, so a reader may see a new estimate
 * with the previous sample's time and decay it a little more, for a moment. A read writes nothing.
 * Both are fields of this object, one cache line, since every attempt writes both.
 */
final class PeakEwma {
  /** The estimate's bits ({@link Double#doubleToRawLongBits}); {@link #NONE} before any sample. */
  private static final long NONE = -1L; // the bits of a NaN, which no estimate is

  /**
   * Below this fraction of tau since the last sample, the decay is computed as its Taylor
   * polynomial (see {@link #decay}).
   */
  static final double SMALL = 1e-3;

  /** 1 / tau, so that the decay multiplies rather than divides. */
  private final double perNano;

  private static final VarHandle EWMA;
  private static final VarHandle STAMP;

  static {
    try {
      MethodHandles.Lookup lookup = MethodHandles.lookup();
      EWMA = lookup.findVarHandle(PeakEwma.class, "ewma", long.class);
      STAMP = lookup.findVarHandle(PeakEwma.class, "stamp", long.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private volatile long ewma = NONE;

  private volatile long stamp = Long.MIN_VALUE;

  public PeakEwma(long tauNanos) {
    if (tauNanos <= 0) {
      throw new IllegalArgumentException("tau must be positive but was " + tauNanos + " ns");
    }
    this.perNano = 1.0 / tauNanos;
  }

  /** Adds one sample of {@code rttNanos} taken at {@code now}. */
  public void observe(long rttNanos, long now) {
    double rtt = Math.max(0, rttNanos);
    while (true) {
      long bits = ewma;
      long last = stamp;
      double next;
      if (bits == NONE) {
        next = rtt;
      } else {
        double current = Double.longBitsToDouble(bits);
        if (rtt > current) {
          next = rtt;
        } else {
          double dt = last == Long.MIN_VALUE ? 0 : Math.max(0, now - last);
          double w = decay(dt);
          next = current * w + rtt * (1 - w);
        }
      }
      long nextBits = Double.doubleToRawLongBits(next);
      if (nextBits == bits || EWMA.compareAndSet(this, bits, nextBits)) {
        break;
      }
    }
    long last;
    while ((last = stamp) == Long.MIN_VALUE || now - last > 0) {
      if (STAMP.compareAndSet(this, last, now)) {
        break;
      }
    }
  }

  /**
   * Returns the estimate at {@code now} in nanoseconds, decayed for the time since the last sample.
   */
  public double cost(long now) {
    long bits = ewma;
    if (bits == NONE) {
      return 0;
    }
    long last = stamp;
    double dt = last == Long.MIN_VALUE ? 0 : Math.max(0, now - last);
    return Double.longBitsToDouble(bits) * decay(dt);
  }

  /**
   * {@code e^(-dt / tau)} for {@code dt >= 0}. An endpoint with traffic is read and sampled far
   * more often than tau (microseconds to milliseconds apart, against seconds), and every call
   * computes this three times; below {@link #SMALL} x tau it is {@code 1 - x + x^2 / 2}, which
   * differs from the exponential by less than {@code x^3 / 6} (under 2e-10) at a fraction of its
   * cost.
   */
  double decay(double dt) {
    double x = dt * perNano;
    if (x < SMALL) {
      return 1 - x + x * x * 0.5;
    }
    return Math.exp(-x);
  }
}
