package dev.failover;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The set of running calls that close() cancels: a set, whatever the order of adds and removes. */
class RunningCallsTest {

  /** A member: identity is all the set needs (a call joins the list of its thread). */
  private static final class Call extends RunningCalls.Member {
    private final int id;

    Call(int id) {
      this.id = id;
    }

    @Override
    public String toString() {
      return "call " + id;
    }
  }

  @Test
  void holdsWhatWasAddedAndNotRemovedInAnyOrder() {
    Random random = new Random(11);
    for (int run = 0; run < 200; run++) {
      RunningCalls<Call> running = new RunningCalls<>();
      Set<Call> reference = new HashSet<>();
      List<Call> calls = new ArrayList<>();
      for (int i = 0; i < 40; i++) {
        // One thread: one list holds every call, so heads, middles and tails are unlinked.
        calls.add(new Call(i));
      }
      for (int step = 0; step < 300; step++) {
        Call c = calls.get(random.nextInt(calls.size()));
        if (reference.contains(c)) {
          running.remove(c);
          reference.remove(c);
        } else if (random.nextBoolean()) {
          running.add(c);
          reference.add(c);
        } else {
          running.remove(c); // not in the set: left alone
        }
        assertThat(running.snapshot())
            .as("run %d step %d", run, step)
            .containsExactlyInAnyOrderElementsOf(reference);
      }
    }
  }

  @Test
  void callsAddedAndRemovedFromManyThreadsLeaveTheOnesStillRunning() throws Exception {
    RunningCalls<Call> running = new RunningCalls<>();
    int threads = 4;
    int perThread = 5_000;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      CountDownLatch go = new CountDownLatch(1);
      List<Future<List<Call>>> kept = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int base = t * perThread;
        kept.add(
            pool.submit(
                () -> {
                  go.await();
                  List<Call> mine = new ArrayList<>();
                  for (int i = 0; i < perThread; i++) {
                    Call c = new Call(base + i);
                    running.add(c);
                    if (i % 10 == 0) {
                      mine.add(c); // still running at the end
                    } else {
                      running.remove(c);
                    }
                  }
                  return mine;
                }));
      }
      go.countDown();
      List<Call> expected = new ArrayList<>();
      for (Future<List<Call>> f : kept) {
        expected.addAll(f.get(30, TimeUnit.SECONDS));
      }
      assertThat(running.snapshot()).containsExactlyInAnyOrderElementsOf(expected);
    } finally {
      pool.shutdownNow();
      assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    }
  }

  @Test
  void callsEndedOnOtherThreadsThanTheOnesThatStartedThemLeaveTheirStartersLists()
      throws Exception {
    RunningCalls<Call> running = new RunningCalls<>();
    int perStarter = 5_000;
    BlockingQueue<Call> toEnd = new ArrayBlockingQueue<>(2 * perStarter + 2);
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      CountDownLatch go = new CountDownLatch(1);
      List<Future<List<Call>>> starters = new ArrayList<>();
      for (int t = 0; t < 2; t++) {
        int base = t * perStarter;
        starters.add(
            pool.submit(
                () -> {
                  go.await();
                  List<Call> mine = new ArrayList<>();
                  for (int i = 0; i < perStarter; i++) {
                    Call c = new Call(base + i);
                    running.add(c);
                    if (i % 10 == 0) {
                      mine.add(c); // still running at the end
                    } else {
                      toEnd.put(c); // ended by another thread
                    }
                  }
                  return mine;
                }));
      }
      Call done = new Call(-1);
      List<Future<Integer>> enders = new ArrayList<>();
      for (int t = 0; t < 2; t++) {
        enders.add(
            pool.submit(
                () -> {
                  int n = 0;
                  for (Call c = toEnd.take(); c != done; c = toEnd.take()) {
                    running.remove(c);
                    n++;
                  }
                  return n;
                }));
      }
      go.countDown();
      List<Call> expected = new ArrayList<>();
      for (Future<List<Call>> f : starters) {
        expected.addAll(f.get(30, TimeUnit.SECONDS));
      }
      toEnd.put(done);
      toEnd.put(done);
      int endedByEnders = 0;
      for (Future<Integer> f : enders) {
        endedByEnders += f.get(30, TimeUnit.SECONDS);
      }
      assertThat(endedByEnders).isEqualTo(2 * perStarter * 9 / 10);
      assertThat(running.snapshot()).containsExactlyInAnyOrderElementsOf(expected);
    } finally {
      pool.shutdownNow();
      assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    }
  }
}
