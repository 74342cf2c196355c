package dev.failover.benchmarks;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * CPU time by thread, summed over the slices of each client of an interleaved benchmark: which
 * threads a client's calls keep busy (its own, the server's, the SDK's, OkHttp's). Threads are told
 * apart by id, since OkHttp's task runner renames its threads for each task, and reported by their
 * name at the end, digits folded ({@code pool-3-thread-1} is {@code pool-#-thread-#}).
 */
final class ThreadCpu {
  private final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
  private final Map<Long, long[]> byThread = new HashMap<>();

  /** CPU nanoseconds of every live thread now, by id. */
  Map<Long, Long> snapshot() {
    Map<Long, Long> m = new HashMap<>();
    for (long id : threads.getAllThreadIds()) {
      long t = threads.getThreadCpuTime(id);
      if (t >= 0) {
        m.put(id, t);
      }
    }
    return m;
  }

  /** Adds what each thread spent since {@code before} to {@code client}'s account. */
  void add(int client, Map<Long, Long> before) {
    for (Map.Entry<Long, Long> e : snapshot().entrySet()) {
      long spent = e.getValue() - before.getOrDefault(e.getKey(), 0L);
      byThread.computeIfAbsent(e.getKey(), k -> new long[2])[client] += spent;
    }
  }

  /** Prints microseconds of CPU per call by thread name, for threads above 0.1 us a call. */
  void print(String[] labels, long[] calls) {
    Map<String, double[]> byName = new TreeMap<>();
    for (Map.Entry<Long, long[]> e : byThread.entrySet()) {
      ThreadInfo info = threads.getThreadInfo(e.getKey());
      String name = info == null ? "(ended)" : info.getThreadName().replaceAll("[0-9]+", "#");
      double[] us = byName.computeIfAbsent(name, k -> new double[2]);
      for (int c = 0; c < 2; c++) {
        us[c] += e.getValue()[c] / 1_000.0 / calls[c];
      }
    }
    System.out.printf(
        Locale.ROOT, "  CPU per call by thread, us (%s / %s):%n", labels[0], labels[1]);
    for (Map.Entry<String, double[]> e : byName.entrySet()) {
      double[] us = e.getValue();
      if (us[0] >= 0.1 || us[1] >= 0.1) {
        System.out.printf(Locale.ROOT, "    %-44s %8.2f / %8.2f%n", e.getKey(), us[0], us[1]);
      }
    }
  }
}
