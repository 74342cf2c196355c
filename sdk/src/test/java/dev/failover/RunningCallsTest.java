package dev.failover;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

/** The set of running calls that close() cancels: a set, whatever the order of adds and removes. */
class RunningCallsTest {

  /** A member with a chosen hash, so that several share one list. */
  private static final class Call extends RunningCalls.Member {
    private final int id;
    private final int hash;

    Call(int id, int hash) {
      this.id = id;
      this.hash = hash;
    }

    @Override
    public boolean equals(@Nullable Object o) {
      return this == o;
    }

    @Override
    public int hashCode() {
      return hash;
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
        // Few hashes: most lists hold several calls, so heads, middles and tails are unlinked.
        calls.add(new Call(i, random.nextInt(3) * 16 + random.nextInt(2)));
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
                    Call c = new Call(base + i, base + i);
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
}
