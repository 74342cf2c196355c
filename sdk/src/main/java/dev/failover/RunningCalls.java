package dev.failover;

import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The calls a client is running, for {@link ClientCore#close()} to cancel. Every call is added as
 * it starts and removed as it ends, so this is on the hot path: the calls are linked into one of a
 * few lists by their own fields ({@link Member}: no node is allocated), and each list has its own
 * lock, taken for a few pointer writes. Calls spread over the lists by their hash, so threads
 * seldom meet on one.
 *
 * <p>Locks: a list's lock is taken inside a call's lock (a call adds and removes itself while it
 * holds its own) and never the other way round: {@link #snapshot()} copies under the lists' locks
 * and its caller cancels the calls after.
 */
final class RunningCalls<T extends RunningCalls.Member> {
  private static final int STRIPES = 16; // a power of two

  /**
   * What a member of the set carries: its neighbours in its list while it is in the set, guarded by
   * that list's lock (which Error Prone cannot name here). Its {@code hashCode} picks the list.
   */
  abstract static class Member {
    private @Nullable Member runningPrev;
    private @Nullable Member runningNext;
  }

  /** One list: its head. */
  private static final class Stripe {
    private @Nullable Member head;
  }

  private final Stripe[] stripes = new Stripe[STRIPES];

  RunningCalls() {
    for (int i = 0; i < STRIPES; i++) {
      stripes[i] = new Stripe();
    }
  }

  private Stripe stripe(T call) {
    return stripes[call.hashCode() & (STRIPES - 1)];
  }

  /** Adds a call that is not in the set. */
  void add(T member) {
    Stripe s = stripe(member);
    Member call = member;
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
    Stripe s = stripe(member);
    Member call = member;
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
