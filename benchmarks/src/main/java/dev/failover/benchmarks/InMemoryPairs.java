package dev.failover.benchmarks;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * The SDK's own work per call in memory, as {@link InMemoryCallBenchmark} measures it, with bare
 * OkHttp and the SDK ({@code callerRunsFirstAttempt(true)}) interleaved in one JVM: alternating
 * slices of a fixed time in ABBA order (bare then SDK, then SDK then bare, and so on). Each pair of
 * slices gives one difference of nanoseconds per call, SDK minus bare, taken within half a second,
 * so that a slowdown of the whole machine lasting seconds, which on a shared 2-core VM came and
 * went during JMH's separate forks of the two (both clients ran 45% slower in the same seconds),
 * falls on both alike. The report gives the differences' median, their mean with its 95% interval
 * and their range, and the bytes each call allocates on the calling thread (the JVM's count, as
 * JMH's {@code -prof gc} reads it).
 *
 * <p>With {@code --threads N} each slice runs on N threads at once (they start together and stop at
 * the same time), and a call's time is N times the slice over the calls all threads made: the CPU
 * time a call took. On a 2-core machine, 2 threads show what calls cost each other when they run on
 * both cores at once, through the state every call writes.
 *
 * <p>With {@code --evict-kb N} each calling thread writes one word in every 64-byte line of an N KB
 * array of its own after every call, bare and SDK alike: past the core's L2 cache (2 MB a core on
 * the Intel machine of docs/benchmarks.md), the next call finds neither its data nor its code in L1
 * or L2, as after the context switches of a loaded machine. The writes' own time falls on both
 * clients; what differs is what each client's call then costs in misses.
 *
 * <p>Run with (each run is one JVM; run it three times for three "forks"):
 *
 * <pre>
 * java -Xms2g -Xmx2g -XX:+AlwaysPreTouch -cp benchmarks/target/benchmarks.jar dev.failover.benchmarks.InMemoryPairs
 * java ... dev.failover.benchmarks.InMemoryPairs --pairs 60 --slice-ms 250 --warmup-pairs 20 --threads 1
 * java ... dev.failover.benchmarks.InMemoryPairs --evict-kb 4096 --pairs 60
 * </pre>
 */
public final class InMemoryPairs {
  private static final long MAX_CALLS_PER_SLICE = 50_000_000;
  private static final int BARE = 0;
  private static final int SDK = 1;

  private InMemoryPairs() {}

  /** KB of memory each calling thread writes after every call (0: none); see {@code --evict-kb}. */
  private static int evictKb;

  /**
   * Writes one word in each 64-byte line of {@code lines}: pushes a call's data out of the caches.
   */
  private static long evict(long[] lines) {
    for (int i = 0; i < lines.length; i += 8) {
      lines[i]++;
    }
    return lines[0];
  }

  /**
   * Runs the comparison.
   *
   * @param args {@code --pairs N}, {@code --slice-ms N}, {@code --warmup-pairs N}, {@code --threads
   *     N}, {@code --evict-kb N}
   * @throws Exception if a call fails (the in-memory sockets answer every call, so none should)
   */
  public static void main(String[] args) throws Exception {
    int pairs = 60;
    long sliceMillis = 250;
    int warmupPairs = 20;
    int threadCount = 1;
    for (int i = 0; i < args.length; i += 2) {
      String value = i + 1 < args.length ? args[i + 1] : "";
      switch (args[i]) {
        case "--pairs" -> pairs = (int) PairStats.number("--pairs", value);
        case "--slice-ms" -> sliceMillis = PairStats.number("--slice-ms", value);
        case "--warmup-pairs" -> warmupPairs = (int) PairStats.number("--warmup-pairs", value);
        case "--threads" -> threadCount = (int) PairStats.number("--threads", value);
        case "--evict-kb" -> evictKb = (int) PairStats.number("--evict-kb", value);
        default ->
            throw new IllegalArgumentException(
                "unknown option '"
                    + args[i]
                    + "': use --pairs N, --slice-ms N, --warmup-pairs N, --threads N,"
                    + " --evict-kb N");
      }
    }
    PairStats.checkOptions(pairs, sliceMillis, warmupPairs);
    if (evictKb < 0 || evictKb > 1_048_576) {
      throw new IllegalArgumentException(
          "--evict-kb must be between 0 and 1048576 (1 GB) but was " + evictKb);
    }
    if (threadCount < 1 || threadCount > 64) {
      throw new IllegalArgumentException(
          "--threads must be between 1 and 64 but was " + threadCount);
    }
    InMemoryCallBenchmark b = new InMemoryCallBenchmark();
    b.setUp();
    ExecutorService pool = Executors.newFixedThreadPool(threadCount);
    try {
      long sliceNanos = TimeUnit.MILLISECONDS.toNanos(sliceMillis);
      double[][] nanosPerCall = new double[2][pairs];
      long[] calls = new long[2];
      long[] bytes = new long[2];
      long sink = 0;
      for (int p = -warmupPairs; p < pairs; p++) {
        int first = Math.floorMod(p, 2) == 0 ? BARE : SDK;
        for (int c : new int[] {first, 1 - first}) {
          Slice slice = slice(pool, threadCount, b, c, sliceNanos);
          sink += slice.sink;
          if (p >= 0) {
            nanosPerCall[c][p] = (double) slice.threadNanos / slice.calls;
            calls[c] += slice.calls;
            bytes[c] += slice.bytes;
          }
        }
      }
      report(pairs, sliceMillis, threadCount, nanosPerCall, calls, bytes, sink);
    } finally {
      pool.shutdownNow();
      b.tearDown();
    }
  }

  /** What one slice did, summed over its threads: calls, thread-nanoseconds, bytes allocated. */
  private record Slice(long calls, long threadNanos, long bytes, long sink) {}

  /** Runs one client for a slice on {@code threadCount} threads that start together. */
  private static Slice slice(
      ExecutorService pool, int threadCount, InMemoryCallBenchmark b, int client, long sliceNanos)
      throws Exception {
    CyclicBarrier start = new CyclicBarrier(threadCount);
    List<Future<Slice>> parts = new ArrayList<>();
    for (int t = 0; t < threadCount; t++) {
      parts.add(
          pool.submit(
              () -> {
                com.sun.management.ThreadMXBean threads =
                    (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
                start.await();
                long allocatedBefore = threads.getCurrentThreadAllocatedBytes();
                long begin = System.nanoTime();
                long end = begin + sliceNanos;
                long n = 0;
                long now = begin;
                long sink = 0;
                long[] lines = new long[evictKb * 128];
                // The clock is read every 1,000 calls: a reading costs about 1% of a call.
                while (now - end < 0 && n < MAX_CALLS_PER_SLICE) {
                  for (int i = 0; i < 1_000; i++) {
                    sink += client == BARE ? b.bareExecute() : b.failoverCallerRuns();
                    if (lines.length > 0) {
                      sink += evict(lines);
                    }
                  }
                  n += 1_000;
                  now = System.nanoTime();
                }
                long allocated = threads.getCurrentThreadAllocatedBytes() - allocatedBefore;
                return new Slice(n, now - begin, allocated, sink);
              }));
    }
    long calls = 0;
    long threadNanos = 0;
    long bytes = 0;
    long sink = 0;
    for (Future<Slice> f : parts) {
      Slice s = f.get(sliceNanos / 1_000_000 + 60_000, TimeUnit.MILLISECONDS);
      calls += s.calls;
      threadNanos += s.threadNanos;
      bytes += s.bytes;
      sink += s.sink;
    }
    return new Slice(calls, threadNanos, bytes, sink);
  }

  private static void report(
      int pairs,
      long sliceMillis,
      int threadCount,
      double[][] nanosPerCall,
      long[] calls,
      long[] bytes,
      long sink) {
    double[] own = new double[pairs];
    for (int p = 0; p < pairs; p++) {
      own[p] = nanosPerCall[SDK][p] - nanosPerCall[BARE][p];
    }
    double[] sorted = own.clone();
    Arrays.sort(sorted);
    double median = PairStats.median(own);
    double mean = PairStats.mean(own);
    double half = PairStats.halfInterval95(own);
    double bareMedian = PairStats.median(nanosPerCall[BARE]);
    double sdkMedian = PairStats.median(nanosPerCall[SDK]);
    double bareBytes = (double) bytes[BARE] / calls[BARE];
    double sdkBytes = (double) bytes[SDK] / calls[SDK];
    System.out.printf(
        Locale.ROOT,
        "in memory, %d thread%s%s: %d pairs of %d ms slices (ABBA), load average %s%n",
        threadCount,
        threadCount == 1 ? "" : "s",
        evictKb == 0 ? "" : ", " + evictKb + " KB written after each call",
        pairs,
        sliceMillis,
        PairStats.loadAverage());
    System.out.printf(
        Locale.ROOT,
        "  bare OkHttp        %,d calls, median %.0f ns/call, %.0f B/call%n",
        calls[BARE],
        bareMedian,
        bareBytes);
    System.out.printf(
        Locale.ROOT,
        "  SDK, caller runs   %,d calls, median %.0f ns/call, %.0f B/call%n",
        calls[SDK],
        sdkMedian,
        sdkBytes);
    System.out.printf(
        Locale.ROOT,
        "  own work per call: median %.0f ns, mean %.0f +- %.0f ns (95%%), range %.0f to %.0f ns;"
            + " %+.0f B%n",
        median,
        mean,
        half,
        sorted[0],
        sorted[pairs - 1],
        sdkBytes - bareBytes);
    if (sink == 0) {
      System.out.println("  (no call answered)"); // keeps the calls' results alive
    }
  }
}
