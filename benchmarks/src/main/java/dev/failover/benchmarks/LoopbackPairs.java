package dev.failover.benchmarks;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;
import org.jspecify.annotations.Nullable;

/**
 * Bare OkHttp against the SDK ({@code callerRunsFirstAttempt(true)}) over loopback, interleaved in
 * one JVM: the same server and clients as {@link LoopbackCallBenchmark}, called in alternating
 * slices of a fixed time (ABBA order: bare then SDK, then SDK then bare, and so on), so that the
 * machine's drift over minutes, which moved JMH's separate runs of the two by more than the 3%
 * target, falls on both alike. Each pair of slices gives one ratio of calls completed; the report
 * gives their median, their mean with its 95% interval, the ratio of all calls, each client's p50
 * and p99 over every slice, and the process's CPU time per call during each client's slices (a cost
 * that, unlike throughput, does not depend on how the threads were scheduled).
 *
 * <p>Run with (each run is one JVM; run it three times for three "forks"):
 *
 * <pre>
 * java -Xms2g -Xmx2g -XX:+AlwaysPreTouch -cp benchmarks/target/benchmarks.jar dev.failover.benchmarks.LoopbackPairs
 * java ... dev.failover.benchmarks.LoopbackPairs --threads 1,4 --pairs 60 --slice-ms 250 --warmup-pairs 20
 * java ... dev.failover.benchmarks.LoopbackPairs --threads 4 --spin-ns 2000
 * java ... dev.failover.benchmarks.LoopbackPairs --threads 4 --https
 * java ... dev.failover.benchmarks.LoopbackPairs --threads 1 --untimed
 * </pre>
 *
 * <p>{@code --untimed} is another calibration: in place of the SDK, bare OkHttp on a pool of its
 * own without its sockets' read and write timeouts, as the SDK's attempts run where their own
 * timeout is the shorter (docs/architecture.md).
 *
 * <p>{@code --https} serves HTTP/1.1 over TLS (the JDK's {@code HttpsServer}, a self-signed
 * certificate made with the JDK's {@code keytool} at start) to clients that trust it; the SDK then
 * runs on an {@code OkHttpClient} of its own given with {@code okHttpClient}. Each report also
 * gives the tail of both clients' latency (p90, p99.9, the slowest call) and what the calls over 1
 * ms add to the mean, which tells a mean that differs from the median's story.
 *
 * <p>The callers' threads are named {@code caller-#} and the server's {@code server-#}, so that the
 * CPU by thread tells the calls' own work from the server's. {@code --spin-ns N} is a calibration:
 * in place of the SDK, bare OkHttp followed by N ns of arithmetic on the calling thread (a chain of
 * multiplications, touching no memory), which tells what N ns of CPU per call on the callers costs
 * in throughput against bare OkHttp.
 */
public final class LoopbackPairs {
  private static final long MAX_CALLS_PER_SLICE = 10_000_000;

  private LoopbackPairs() {}

  /** The two clients compared, as indexes into the counts and histograms. */
  private static final int BARE = 0;

  private static final int SDK = 1;
  private static final String[] LABELS = {"bare OkHttp", "SDK, caller runs"};

  /** Whether bare OkHttp without socket timeouts is called in place of the SDK. */
  private static boolean untimed;

  /** Iterations of {@link #spin} in place of the SDK's call; 0 to call the SDK. */
  private static long spinIterations;

  /** Keeps {@link #spin}'s result alive: written so that the JIT keeps the loop, never read. */
  @SuppressWarnings("UnusedVariable")
  private static volatile long spun;

  /**
   * Runs the comparison.
   *
   * @param args {@code --threads 1,4}, {@code --pairs N}, {@code --slice-ms N}, {@code
   *     --warmup-pairs N}
   * @throws Exception if the server cannot start or a thread is interrupted
   */
  public static void main(String[] args) throws Exception {
    int[] threadCounts = {1, 4};
    int pairs = 60;
    long sliceMillis = 250;
    int warmupPairs = 20;
    long spinNanos = 0;
    boolean https = false;
    for (int i = 0; i < args.length; i += 2) {
      String value = i + 1 < args.length ? args[i + 1] : "";
      switch (args[i]) {
        case "--threads" ->
            threadCounts =
                Arrays.stream(value.split(","))
                    .mapToInt(v -> (int) PairStats.number("--threads", v))
                    .toArray();
        case "--pairs" -> pairs = (int) PairStats.number("--pairs", value);
        case "--slice-ms" -> sliceMillis = PairStats.number("--slice-ms", value);
        case "--warmup-pairs" -> warmupPairs = (int) PairStats.number("--warmup-pairs", value);
        case "--spin-ns" -> spinNanos = PairStats.number("--spin-ns", value);
        case "--untimed" -> {
          untimed = true;
          i--; // takes no value
        }
        case "--https" -> {
          https = true;
          i--; // takes no value
        }
        default ->
            throw new IllegalArgumentException(
                "unknown option '"
                    + args[i]
                    + "': use --threads 1,4, --pairs N, --slice-ms N, --warmup-pairs N,"
                    + " --spin-ns N, --untimed, --https");
      }
    }
    PairStats.checkOptions(pairs, sliceMillis, warmupPairs);
    for (int t : threadCounts) {
      if (t < 1) {
        throw new IllegalArgumentException(
            "--threads takes counts of at least 1, but was '"
                + Arrays.toString(threadCounts)
                + "'");
      }
    }
    if (spinNanos > 0 && untimed) {
      throw new IllegalArgumentException(
          "--spin-ns " + spinNanos + " and --untimed each replace the SDK: give one of them");
    }
    if (spinNanos > 0) {
      calibrateSpin(spinNanos);
      LABELS[SDK] = "bare + " + spinNanos + " ns";
    } else if (untimed) {
      LABELS[SDK] = "bare, untimed";
    }
    LoopbackCallBenchmark b = new LoopbackCallBenchmark();
    b.https(https);
    b.setUp();
    System.out.println(https ? "HTTPS (HTTP/1.1 over TLS, a self-signed certificate)" : "HTTP");
    try {
      for (int threads : threadCounts) {
        run(b, threads, pairs, TimeUnit.MILLISECONDS.toNanos(sliceMillis), warmupPairs);
      }
    } finally {
      b.tearDown();
    }
  }

  private static void run(
      LoopbackCallBenchmark b, int threads, int pairs, long sliceNanos, int warmupPairs)
      throws Exception {
    java.util.concurrent.atomic.AtomicInteger callers =
        new java.util.concurrent.atomic.AtomicInteger();
    ExecutorService pool =
        Executors.newFixedThreadPool(
            threads, r -> new Thread(r, "caller-" + callers.incrementAndGet()));
    try {
      Histogram[][] latency = new Histogram[2][threads];
      for (Histogram[] perClient : latency) {
        for (int t = 0; t < threads; t++) {
          perClient[t] = new Histogram(TimeUnit.SECONDS.toNanos(60), 3);
        }
      }
      long[][] counts = new long[2][pairs];
      long failures = 0;
      // The whole process's CPU time per slice: the client's threads, the server's, the SDK's own
      // (timeouts, scheduler) and OkHttp's (connection pool, okio's watchdog), and the JVM's.
      long[] cpuNanos = new long[2];
      ThreadCpu byThread = new ThreadCpu();
      com.sun.management.OperatingSystemMXBean os =
          (com.sun.management.OperatingSystemMXBean)
              java.lang.management.ManagementFactory.getOperatingSystemMXBean();
      for (int p = -warmupPairs; p < pairs; p++) {
        boolean measured = p >= 0;
        int first = Math.floorMod(p, 2) == 0 ? BARE : SDK;
        for (int c : new int[] {first, 1 - first}) {
          Map<Long, Long> threadsBefore = measured ? byThread.snapshot() : Map.of();
          long cpuBefore = os.getProcessCpuTime();
          long[] slice = slice(b, pool, threads, c, sliceNanos, measured ? latency[c] : null);
          long cpu = os.getProcessCpuTime() - cpuBefore;
          failures += slice[1];
          if (measured) {
            counts[c][p] = slice[0];
            cpuNanos[c] += cpu;
            byThread.add(c, threadsBefore);
          }
        }
      }
      report(threads, pairs, sliceNanos, counts, latency, cpuNanos, failures);
      long[] calls = new long[2];
      for (int c : new int[] {BARE, SDK}) {
        calls[c] = Arrays.stream(counts[c]).sum();
      }
      byThread.print(LABELS, calls);
    } finally {
      pool.shutdownNow();
      pool.awaitTermination(10, TimeUnit.SECONDS);
    }
  }

  /** A chain of {@code n} dependent multiply-adds: CPU time that touches no memory. */
  private static long spin(long n) {
    long x = n;
    for (long i = 0; i < n; i++) {
      x = x * 6364136223846793005L + 1442695040888963407L;
    }
    return x;
  }

  /** Sets {@link #spinIterations} to what takes {@code nanos} on this machine, and says so. */
  private static void calibrateSpin(long nanos) {
    long n = 10_000_000;
    double perIteration = Double.MAX_VALUE;
    for (int round = 0; round < 5; round++) {
      long start = System.nanoTime();
      spun = spin(n);
      perIteration = Math.min(perIteration, (double) (System.nanoTime() - start) / n);
    }
    spinIterations = Math.max(1, Math.round(nanos / perIteration));
    System.out.printf(
        Locale.ROOT,
        "calibration: %d ns of arithmetic a call = %,d iterations of %.3f ns (fastest of 5 rounds)%n",
        nanos,
        spinIterations,
        perIteration);
  }

  /** One slice of one client on every thread: returns {calls completed, calls failed}. */
  private static long[] slice(
      LoopbackCallBenchmark b,
      ExecutorService pool,
      int threads,
      int client,
      long sliceNanos,
      Histogram @Nullable [] latency)
      throws Exception {
    long end = System.nanoTime() + sliceNanos;
    List<Future<long[]>> results = new ArrayList<>(threads);
    for (int t = 0; t < threads; t++) {
      @Nullable Histogram h = latency == null ? null : latency[t];
      Callable<long[]> task =
          () -> {
            long ok = 0;
            long failed = 0;
            long now = System.nanoTime();
            while (now - end < 0 && ok + failed < MAX_CALLS_PER_SLICE) {
              try {
                if (client == BARE) {
                  b.bare1();
                } else if (untimed) {
                  b.untimed1();
                } else if (spinIterations > 0) {
                  b.bare1();
                  spun = spin(spinIterations);
                } else {
                  b.callerRuns1();
                }
                long done = System.nanoTime();
                if (h != null) {
                  h.recordValue(Math.min(done - now, h.getHighestTrackableValue()));
                }
                ok++;
                now = done;
              } catch (java.io.IOException e) {
                failed++;
                now = System.nanoTime();
              }
            }
            return new long[] {ok, failed};
          };
      results.add(pool.submit(task));
    }
    long ok = 0;
    long failed = 0;
    for (Future<long[]> f : results) {
      long[] r = f.get(sliceNanos + TimeUnit.SECONDS.toNanos(60), TimeUnit.NANOSECONDS);
      ok += r[0];
      failed += r[1];
    }
    return new long[] {ok, failed};
  }

  private static void report(
      int threads,
      int pairs,
      long sliceNanos,
      long[][] counts,
      Histogram[][] latency,
      long[] cpuNanos,
      long failures) {
    double[] ratios = new double[pairs];
    long bare = 0;
    long sdk = 0;
    for (int p = 0; p < pairs; p++) {
      bare += counts[BARE][p];
      sdk += counts[SDK][p];
      ratios[p] = (double) counts[SDK][p] / counts[BARE][p];
    }
    double[] sorted = ratios.clone();
    Arrays.sort(sorted);
    double median = PairStats.median(ratios);
    double mean = PairStats.mean(ratios);
    double half = PairStats.halfInterval95(ratios);
    System.out.printf(
        Locale.ROOT,
        "threads %d: %d pairs of %d ms slices (ABBA), load average %s%n",
        threads,
        pairs,
        TimeUnit.NANOSECONDS.toMillis(sliceNanos),
        PairStats.loadAverage());
    double[] p99 = new double[2];
    Histogram[] tails = new Histogram[2];
    for (int c : new int[] {BARE, SDK}) {
      Histogram all = new Histogram(TimeUnit.SECONDS.toNanos(60), 3);
      for (Histogram h : latency[c]) {
        all.add(h);
      }
      p99[c] = all.getValueAtPercentile(99) / 1_000.0;
      System.out.printf(
          Locale.ROOT,
          "  %-17s %,d calls, mean %.1f us, p50 %.1f us, p99 %.1f us%n",
          LABELS[c],
          all.getTotalCount(),
          all.getMean() / 1_000.0,
          all.getValueAtPercentile(50) / 1_000.0,
          p99[c]);
      tails[c] = all;
    }
    // Where the means part: the calls above each percentile, and what they add to the mean.
    System.out.printf(
        Locale.ROOT,
        "  tail (us)          p90    p99.9   max    mean over 1 ms: calls, us a call%n");
    for (int c : new int[] {BARE, SDK}) {
      Histogram all = tails[c];
      long slow = 0;
      double slowSum = 0;
      for (org.HdrHistogram.HistogramIterationValue v : all.recordedValues()) {
        if (v.getValueIteratedTo() > 1_000_000) {
          slow += v.getCountAtValueIteratedTo();
          slowSum += (double) v.getValueIteratedTo() * v.getCountAtValueIteratedTo();
        }
      }
      System.out.printf(
          Locale.ROOT,
          "  %-17s %6.1f %7.1f %8.1f   %,d, %.2f%n",
          LABELS[c],
          all.getValueAtPercentile(90) / 1_000.0,
          all.getValueAtPercentile(99.9) / 1_000.0,
          all.getMaxValue() / 1_000.0,
          slow,
          slowSum / 1_000.0 / all.getTotalCount());
    }
    System.out.printf(
        Locale.ROOT,
        "  throughput SDK/bare: all calls %.1f%%; pairs: median %.1f%%, mean %.1f%% +- %.1f%% (95%%),"
            + " range %.1f%% to %.1f%%%n",
        100.0 * sdk / bare,
        100 * median,
        100 * mean,
        100 * half,
        100 * sorted[0],
        100 * sorted[pairs - 1]);
    double bareCpu = cpuNanos[BARE] / 1_000.0 / bare;
    double sdkCpu = cpuNanos[SDK] / 1_000.0 / sdk;
    System.out.printf(
        Locale.ROOT,
        "  process CPU per call: bare %.1f us, SDK %.1f us (%+.1f us)%n",
        bareCpu,
        sdkCpu,
        sdkCpu - bareCpu);
    System.out.printf(
        Locale.ROOT,
        "  p99 SDK vs bare: %+.1f%%; failed calls: %d%n",
        100 * (p99[SDK] / p99[BARE] - 1),
        failures);
  }
}
