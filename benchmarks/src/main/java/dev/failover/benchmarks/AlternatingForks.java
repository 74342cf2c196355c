package dev.failover.benchmarks;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.profile.GCProfiler;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

/**
 * {@link LoopbackCallBenchmark}'s clients, each in JMH forks of its own, one fork at a time, in the
 * orders of a Williams design: over every cycle of rounds (as many rounds as there are clients when
 * their number is even, twice as many when it is odd; with two clients AB, BA) each client runs
 * once in each place and follows each other client once, so that neither the machine's drift over
 * minutes nor what the fork before left behind favours one client. {@code --rounds} must be a whole
 * number of cycles. Each fork is a fresh JVM that calls one client only, as an application does
 * (the others are built and stay idle): no other client's calls shape how the JIT compiles OkHttp's
 * code there (in {@link LoopbackPairs}, which calls both clients in one JVM, they do). A fork is
 * JMH's sample mode (every call timed) with 10 x 2 s of warm-up and 5 x 2 s of measurement, and
 * {@code -prof gc}.
 *
 * <p>The report gives every fork's mean, p50, p99 and bytes a call, and for each client the mean of
 * its forks' means against the first client's (a throughput ratio: a closed loop's throughput is
 * the inverse of its mean), that ratio give or take two standard errors (forks taken as
 * independent; with few forks a rough guide), the range of the ratios of forks in the same round,
 * and its mean p99 against the first client's.
 *
 * <p>Run with (about 33 s a fork; the defaults shown):
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar dev.failover.benchmarks.AlternatingForks --threads 1 --rounds 8 --scheme http --clients bare,callerRuns,bareUntimed,failover
 * </pre>
 *
 * <p>{@code --clients} names {@link LoopbackCallBenchmark}'s methods without their thread count:
 * {@code bare}, {@code callerRuns} (the SDK with {@code callerRunsFirstAttempt(true)}), {@code
 * failover} (the SDK's defaults), {@code bareUntimed} (bare OkHttp without socket timeouts) and
 * {@code bareTimed} (bare OkHttp with a call timeout); the first is the baseline. {@code --threads}
 * is 1 or 4; {@code --rounds} is 1 to 100 and by default two cycles; {@code --scheme https} serves
 * HTTP/1.1 over TLS.
 */
public final class AlternatingForks {
  private static final List<String> CLIENTS =
      List.of("bare", "callerRuns", "failover", "bareUntimed", "bareTimed");
  private static final int MAX_ROUNDS = 100;

  private AlternatingForks() {}

  /** One fork's figures. */
  private record Fork(
      int round, String client, double mean, double p50, double p99, double bytes) {}

  /**
   * Runs the forks and prints the report.
   *
   * @param args {@code --threads N}, {@code --rounds N}, {@code --scheme http|https}, {@code
   *     --clients a,b,...}
   * @throws RunnerException if JMH cannot run a fork (a call that fails ends the fork with an
   *     error)
   */
  public static void main(String[] args) throws RunnerException {
    int threads = 1;
    int rounds = 0; // two cycles of the Williams design, unless given
    String scheme = "http";
    List<String> clients = List.of("bare", "callerRuns", "bareUntimed", "failover");
    for (int i = 0; i < args.length; i += 2) {
      String value = i + 1 < args.length ? args[i + 1] : "";
      switch (args[i]) {
        case "--threads" -> {
          threads = (int) PairStats.number("--threads", value);
          if (threads != 1 && threads != 4) {
            throw new IllegalArgumentException(
                "--threads must be 1 or 4 (LoopbackCallBenchmark's thread counts), was: '"
                    + value
                    + "'");
          }
        }
        case "--rounds" -> {
          rounds = (int) PairStats.number("--rounds", value);
          if (rounds < 1 || rounds > MAX_ROUNDS) {
            throw new IllegalArgumentException(
                "--rounds must be between 1 and " + MAX_ROUNDS + ", was: '" + value + "'");
          }
        }
        case "--scheme" -> {
          if (!value.equals("http") && !value.equals("https")) {
            throw new IllegalArgumentException(
                "--scheme must be http or https, was: '" + value + "'");
          }
          scheme = value;
        }
        case "--clients" -> {
          List<String> named = List.of(value.split(",", -1));
          for (String c : named) {
            if (!CLIENTS.contains(c)) {
              throw new IllegalArgumentException(
                  "--clients must name clients among "
                      + CLIENTS
                      + ", was: '"
                      + value
                      + "' ('"
                      + c
                      + "' is none of them)");
            }
          }
          if (named.stream().distinct().count() != named.size()) {
            throw new IllegalArgumentException(
                "--clients must name each client once, was: '" + value + "'");
          }
          clients = named;
        }
        default ->
            throw new IllegalArgumentException(
                "unknown argument: "
                    + args[i]
                    + " (known: --threads N, --rounds N, --scheme http|https, --clients a,b,...)");
      }
    }
    int[][] orders = williams(clients.size());
    if (rounds == 0) {
      rounds = 2 * orders.length;
    } else if (rounds % orders.length != 0) {
      throw new IllegalArgumentException(
          "--rounds must be a multiple of "
              + orders.length
              + " with "
              + clients.size()
              + " clients (one cycle of their orders), was: "
              + rounds);
    }
    System.out.printf(
        Locale.ROOT,
        "LoopbackCallBenchmark, %d thread(s), %s, %d round(s) of one fork a client: %s%n",
        threads,
        scheme,
        rounds,
        clients);
    List<Fork> forks = new ArrayList<>();
    for (int round = 1; round <= rounds; round++) {
      List<String> order = new ArrayList<>();
      for (int j : orders[(round - 1) % orders.length]) {
        order.add(clients.get(j));
      }
      for (String client : order) {
        String load = loadAverage();
        String started =
            LocalTime.now(java.time.ZoneOffset.UTC)
                .format(java.time.format.DateTimeFormatter.ofPattern("HH:mm:ss", Locale.ROOT));
        Fork f = fork(round, client, threads, scheme);
        forks.add(f);
        System.out.printf(
            Locale.ROOT,
            "%s round %d %-12s mean %7.1f us  p50 %7.1f  p99 %7.1f  %,8.0f B/call  (started; load %s)%n",
            started + " UTC",
            round,
            client,
            f.mean(),
            f.p50(),
            f.p99(),
            f.bytes(),
            load);
      }
    }
    report(clients, forks);
  }

  private static Fork fork(int round, String client, int threads, String scheme)
      throws RunnerException {
    String name = LoopbackCallBenchmark.class.getName() + "." + client + threads;
    Options options =
        new OptionsBuilder()
            .include("^" + Pattern.quote(name) + "$")
            .param("scheme", scheme)
            .mode(Mode.SampleTime)
            .timeUnit(TimeUnit.MICROSECONDS)
            .forks(1)
            .warmupIterations(10)
            .warmupTime(TimeValue.seconds(2))
            .measurementIterations(5)
            .measurementTime(TimeValue.seconds(2))
            .addProfiler(GCProfiler.class)
            .shouldFailOnError(true)
            .verbosity(VerboseMode.SILENT)
            .build();
    var results = new Runner(options).run();
    if (results.size() != 1) {
      throw new RunnerException("expected one result for " + name + ", got " + results.size());
    }
    RunResult r = results.iterator().next();
    Result<?> primary = r.getPrimaryResult();
    Result<?> bytes = r.getSecondaryResults().get("gc.alloc.rate.norm");
    return new Fork(
        round,
        client,
        primary.getScore(),
        primary.getStatistics().getPercentile(50),
        primary.getStatistics().getPercentile(99),
        bytes == null ? Double.NaN : bytes.getScore());
  }

  /**
   * The rounds' orders of a Williams design for {@code n} clients: row r of the Latin square whose
   * first row is 0, 1, n-1, 2, n-2, ... with r added to every entry (mod n), and for odd n the same
   * rows backwards after them (but for one client). Over all rows each client takes each place once
   * (twice for odd n) and follows each other client once (twice for odd n).
   */
  static int[][] williams(int n) {
    int[] first = new int[n];
    for (int j = 1; j < n; j++) {
      first[j] = j % 2 == 1 ? (j + 1) / 2 : n - j / 2;
    }
    boolean mirrored = n % 2 == 1 && n > 1;
    int[][] rows = new int[mirrored ? 2 * n : n][n];
    for (int r = 0; r < n; r++) {
      for (int j = 0; j < n; j++) {
        rows[r][j] = (first[j] + r) % n;
        if (mirrored) {
          rows[n + r][n - 1 - j] = (first[j] + r) % n;
        }
      }
    }
    return rows;
  }

  private static void report(List<String> clients, List<Fork> forks) {
    String baseline = clients.get(0);
    List<Fork> base = of(forks, baseline);
    double baseMean = meanOf(base, Fork::mean);
    double baseP99 = meanOf(base, Fork::p99);
    System.out.println();
    System.out.printf(
        Locale.ROOT,
        "%-12s %5s %14s %16s %20s %22s %14s %12s %10s%n",
        "client",
        "forks",
        "mean of means",
        "vs " + baseline,
        "two std. errors",
        "same-round ratio range",
        "mean p99",
        "p99 vs base",
        "B/call");
    for (String c : clients) {
      List<Fork> fs = of(forks, c);
      double mean = meanOf(fs, Fork::mean);
      double p99 = meanOf(fs, Fork::p99);
      double lo = Double.POSITIVE_INFINITY;
      double hi = Double.NEGATIVE_INFINITY;
      for (Fork f : fs) {
        for (Fork b : base) {
          if (b.round() == f.round()) {
            double ratio = b.mean() / f.mean() * 100;
            lo = Math.min(lo, ratio);
            hi = Math.max(hi, ratio);
          }
        }
      }
      System.out.printf(
          Locale.ROOT,
          "%-12s %5d %11.1f us %15.1f%% %20s %22s %11.1f us %11s %10.0f%n",
          c,
          fs.size(),
          mean,
          baseMean / mean * 100,
          c.equals(baseline) ? "" : interval(base, fs),
          c.equals(baseline) ? "" : String.format(Locale.ROOT, "%.1f to %.1f%%", lo, hi),
          p99,
          c.equals(baseline)
              ? ""
              : String.format(Locale.ROOT, "%+.1f%%", (p99 / baseP99 - 1) * 100),
          meanOf(fs, Fork::bytes));
    }
  }

  /**
   * The ratio of the baseline's mean of fork means to {@code fs}'s, give or take two standard
   * errors (the forks taken as independent samples; the ratio's error from its two means' relative
   * errors in quadrature): "n/a" with fewer than two forks of either.
   */
  private static String interval(List<Fork> base, List<Fork> fs) {
    if (base.size() < 2 || fs.size() < 2) {
      return "n/a";
    }
    double b = meanOf(base, Fork::mean);
    double m = meanOf(fs, Fork::mean);
    double ratio = b / m;
    double relB = standardDeviation(base, b) / b;
    double relM = standardDeviation(fs, m) / m;
    double se = ratio * Math.sqrt(relB * relB / base.size() + relM * relM / fs.size());
    return String.format(
        Locale.ROOT, "%.1f to %.1f%%", (ratio - 2 * se) * 100, (ratio + 2 * se) * 100);
  }

  /** The sample standard deviation of the forks' means around {@code mean}. */
  private static double standardDeviation(List<Fork> forks, double mean) {
    double sum = 0;
    for (Fork f : forks) {
      sum += (f.mean() - mean) * (f.mean() - mean);
    }
    return Math.sqrt(sum / (forks.size() - 1));
  }

  private static List<Fork> of(List<Fork> forks, String client) {
    return forks.stream().filter(f -> f.client().equals(client)).toList();
  }

  private static double meanOf(List<Fork> forks, java.util.function.ToDoubleFunction<Fork> f) {
    return forks.stream().mapToDouble(f).average().orElse(Double.NaN);
  }

  /** The 1-minute load average, where the system tells it (Linux), else "n/a". */
  private static String loadAverage() {
    try {
      String s = Files.readString(Path.of("/proc/loadavg"), StandardCharsets.US_ASCII);
      return s.substring(0, s.indexOf(' '));
    } catch (IOException | RuntimeException e) {
      return "n/a";
    }
  }
}
