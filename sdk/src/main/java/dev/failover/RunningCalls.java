package dev.failover;

import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The calls a client is running, for {@link ClientCore#close()} to cancel. Every call is added as
 * it starts and removed as it ends, so this is on the hot path: the calls are linked into one of a
 * few lists by their own fields ({@link Member}: no node is allocated), and each list has its own
 * lock, taken for a few pointer writes. A call goes into the list of the thread that starts it (and
 * leaves it from there, whichever thread ends it), and each list sits on a cache line of its own: a
 * thread that starts and ends its calls itself (caller runs) keeps its list's line in its core's
 * cache, where lists picked by the call's hash, or packed side by side, passed lines between the
 * cores on most calls.
 *
 * <p>Locks: a list's lock is taken inside a call's lock (a call adds and removes itself while it
 * holds its own) and never the other way round: {@link #snapshot()} copies under the lists' locks
 * and its caller cancels the calls after.
 */
final class RunningCalls<T extends RunningCalls.Member> {
  private static final int STRIPES = 16; // a power of two

  /**
   * What a member of the set carries: its neighbours in its list while it is in the set, guarded by
   * that list's lock (which Error Prone cannot name here), and which list that is.
   */
  abstract static class Member {
    private @Nullable Member runningPrev;
    private @Nullable Member runningNext;

    /** The list the member went into: written by {@link #add} before the list's lock. */
    private @Nullable Stripe runningIn;
  }

  /**
   * One list: its head, and 56 bytes of unused fields, so that the lists (allocated one after the
   * other, at least 72 bytes each, 8-byte aligned) never have two heads or lock words (the headers)
   * in one 64-byte cache line.
   */
  @SuppressWarnings("unused") // the padding is never read or written
  private static final class Stripe {
    private @Nullable Member head;
    private long p1;
    private long p2;
    private long p3;
    private long p4;
    private long p5;
    private long p6;
    private long p7;
  }

  private final Stripe[] stripes = new Stripe[STRIPES];

  RunningCalls() {
    for (int i = 0; i < STRIPES; i++) {
      stripes[i] = new Stripe();
    }
  }

  /** The list of the calling thread's group. */
  private Stripe stripe() {
    int h = Thread.currentThread().hashCode();
    return stripes[(h ^ (h >>> 16)) & (STRIPES - 1)];
  }

  /** Adds a call that is not in the set. */
  void add(T member) {
    Stripe s = stripe();
    Member call = member;
    call.runningIn = s;
    synchronized (s) {
      Member head = s.head;
      call.runningPrev = null;
      call.runningNext = head;
      if (head != null) {
        head.runningPrev = call;
      }
      s.head = call;
    }
  }

  /** Removes a call; a call that is not in the set is left alone. */
  void remove(T member) {
    Member call = member;
    Stripe s = call.runningIn;
    if (s == null) {
      return; // never added
    }
    synchronized (s) {
      Member prev = call.runningPrev;
      Member next = call.runningNext;
      if (prev == null) {
        if (s.head != call) {
          return; // never added, or removed already
        }
        s.head = next;
      } else {
        prev.runningNext = next;
      }
      if (next != null) {
        next.runningPrev = prev;
      }
      call.runningPrev = null;
      call.runningNext = null;
    }
  }

  /** The calls running now, copied: the caller acts on them after every list's lock. */
  @SuppressWarnings("unchecked") // only T's are ever linked in
  List<T> snapshot() {
    List<T> calls = new ArrayList<>();
    for (Stripe s : stripes) {
      synchronized (s) {
        for (Member c = s.head; c != null; c = c.runningNext) {
          calls.add((T) c);
        }
      }
    }
    return calls;
  }
}
