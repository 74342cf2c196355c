package dev.failover;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicLongArray;
import org.jspecify.annotations.Nullable;

/**
 * Counters over a sliding window of equal time slots, recorded without a lock: the one window type
 * behind the retry budget, the zones' statistics and the hedge latency window. Each slot holds
 * {@code width} counters and the period it counts; a slot is reset (under this object's lock) by
 * the first write of a new period, and every other write is a single atomic add.
 *
 * <p>Reads sum the slots whose period lies in the window, without a lock: a read racing a write or
 * a reset may miss that one sample. A write whose thread stalled for a whole window between reading
 * the slot's period and adding may land in the slot's next period: one sample counted late, never
 * lost twice or doubled. A write for a period older than the one its slot already holds is dropped
 * (its thread read the time long before), where resetting the slot would lose a whole slot's newer
 * samples.
 */
final class SlidingWindow {
  private static final VarHandle PERIOD = MethodHandles.arrayElementVarHandle(long[].class);

  private final int slots;
  private final int width;
  private final long slotNanos;
  private final long[] period;
  private final AtomicLongArray counts;

  /**
   * The latest period a write found or made current, and where it begins: a write that falls in it
   * (nearly every write) finds its slot without the two divisions. Null until the first write.
   */
  private volatile @Nullable Latest latest;

  /**
   * A period: its index, its slot, and its first nanosecond ({@code index * slotNanos}, modulo
   * 2^64, so that {@code now - from} is right even where the product overflows).
   */
  private record Latest(long index, int slot, long from) {}

  /**
   * @param slots how many slots the window has
   * @param width counters per slot
   * @param slotNanos how long each slot counts
   */
  SlidingWindow(int slots, int width, long slotNanos) {
    this.slots = slots;
    this.width = width;
    this.slotNanos = Math.max(1, slotNanos);
    this.period = new long[slots];
    this.counts = new AtomicLongArray(slots * width);
    java.util.Arrays.fill(period, Long.MIN_VALUE);
  }

  /**
   * Adds {@code delta} to counter {@code counter} of the slot {@code now} falls in; returns false
   * if it was dropped, its slot having moved on to a later period.
   */
  boolean add(long now, int counter, long delta) {
    int s = slotFor(now);
    if (s >= 0) {
      counts.getAndAdd(s * width + counter, delta);
      return true;
    }
    return false;
  }

  /**
   * Takes one from counter {@code counter} of the slot {@code at} fell in, if that slot still
   * counts {@code at}'s period and holds more than zero; returns whether it did. For giving back
   * what was added at {@code at}: where the slot moved on to a later period, what was added there
   * is already forgotten. Locks (slots are reset under the lock), so it is for rare writes.
   */
  synchronized boolean decrementIfPositive(long at, int counter) {
    long index = Math.floorDiv(at, slotNanos);
    int s = (int) Math.floorMod(index, (long) slots);
    if ((long) PERIOD.getAcquire(period, s) != index) {
      return false;
    }
    int i = s * width + counter;
    while (true) {
      long v = counts.get(i);
      if (v <= 0) {
        return false;
      }
      if (counts.compareAndSet(i, v, v - 1)) {
        return true;
      }
    }
  }

  /** The sum of counter {@code counter} over the window ending at {@code now}. */
  long sum(long now, int counter) {
    long current = Math.floorDiv(now, slotNanos);
    long n = 0;
    for (int s = 0; s < slots; s++) {
      if (inWindow(s, current)) {
        n += counts.get(s * width + counter);
      }
    }
    return n;
  }

  /**
   * Every counter's sum over the window ending at {@code now}, into {@code into}. A slot's counters
   * are read last to first: a writer that adds to a counter before a later one (attempts, then
   * failures) is never seen with the later one counted and the earlier not.
   */
  void sums(long now, long[] into) {
    java.util.Arrays.fill(into, 0, width, 0);
    long current = Math.floorDiv(now, slotNanos);
    long[] slot = null;
    for (int s = 0; s < slots; s++) {
      long p = (long) PERIOD.getVolatile(period, s);
      if (p > current - slots && p <= current) {
        if (slot == null) {
          slot = new long[width];
        }
        int base = s * width;
        for (int c = width - 1; c >= 0; c--) {
          slot[c] = counts.get(base + c);
        }
        // A slot reset for a new period meanwhile (marked first, its counters zeroed, then its
        // period set) is left out whole: read half before and half after, it could show a slot's
        // failures without its attempts.
        if ((long) PERIOD.getVolatile(period, s) == p) {
          for (int c = 0; c < width; c++) {
            into[c] += slot[c];
          }
        }
      }
    }
  }

  /**
   * Counters {@code a} and {@code b} of each slot, by slot, over the window ending at {@code now}:
   * 0 for a slot whose period lies outside it, or that moved on to a new period while it was read.
   * Windows with the same slots and slot length line up: slot {@code s} of each counts the same
   * period. Counter {@code b} is read before {@code a}: a writer that adds to {@code a} before
   * {@code b} (a zone's timed successes, then their latency) is never seen with its share of {@code
   * b} and not of {@code a}, which would make a slot's mean latency look higher than any latency
   * recorded.
   */
  void perSlot(long now, int a, int b, long[] intoA, long[] intoB) {
    long current = Math.floorDiv(now, slotNanos);
    for (int s = 0; s < slots; s++) {
      long p = (long) PERIOD.getVolatile(period, s);
      long vb = counts.get(s * width + b);
      long va = counts.get(s * width + a);
      boolean same = (long) PERIOD.getVolatile(period, s) == p;
      boolean in = same && p > current - slots && p <= current;
      intoA[s] = in ? va : 0;
      intoB[s] = in ? vb : 0;
    }
  }

  /** How many slots the window has. */
  int slots() {
    return slots;
  }

  /** Forgets everything counted so far. */
  synchronized void clear() {
    for (int s = 0; s < slots; s++) {
      PERIOD.setRelease(period, s, Long.MIN_VALUE);
    }
  }

  private boolean inWindow(int s, long current) {
    long p = (long) PERIOD.getAcquire(period, s);
    return p > current - slots && p <= current;
  }

  /** The slot {@code now} falls in, made current if a new period begins there; -1 if too old. */
  private int slotFor(long now) {
    Latest l = latest;
    if (l != null) {
      long into = now - l.from;
      // Still the slot's period: clear() or a later period would have changed it.
      if (into >= 0 && into < slotNanos && (long) PERIOD.getAcquire(period, l.slot) == l.index) {
        return l.slot;
      }
    }
    long index = Math.floorDiv(now, slotNanos);
    int s = (int) Math.floorMod(index, (long) slots);
    long held = (long) PERIOD.getAcquire(period, s);
    if (held != index) {
      synchronized (this) {
        held = (long) PERIOD.getAcquire(period, s);
        if (held > index) {
          return -1;
        }
        if (held != index) {
          // Marked as no period first: a reader that saw the old period and then reads it again
          // (sums, perSlot) knows that the counters it read in between may be half reset.
          PERIOD.setVolatile(period, s, Long.MIN_VALUE);
          int base = s * width;
          for (int c = 0; c < width; c++) {
            counts.set(base + c, 0);
          }
          PERIOD.setVolatile(period, s, index);
        }
      }
    }
    if (l == null || index > l.index) {
      // Racing writers may leave an older period here: the next write then takes this path again.
      latest = new Latest(index, s, index * slotNanos);
    }
    return s;
  }
}
