package dev.failover.drill;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * The drill's command line, parsed and checked.
 *
 * @param duration how long the load runs
 * @param rate calls per second per client
 * @param seed the seed of the request mix and the fake zones' randomness
 * @param deadline each call's total deadline
 * @param clients which clients run
 * @param report where the HTML report goes
 * @param json where the JSON results go, or null for none
 * @param topology a file of real endpoints, or null for the embedded fake zones
 * @param home the client's home as {@code region,zone} in topology mode, or null for the first line
 * @param healthPath the health check path
 * @param tail the longest fail-back tail, whole seconds; zero for none (always zero with real
 *     endpoints, where nothing heals on a schedule, and with the baseline alone, which has no home)
 * @param help whether to print the help and exit
 */
record Options(
    Duration duration,
    int rate,
    long seed,
    Duration deadline,
    Clients clients,
    Path report,
    @Nullable Path json,
    @Nullable Path topology,
    @Nullable String home,
    String healthPath,
    Duration tail,
    boolean help) {

  /** Which clients run. */
  enum Clients {
    SDK,
    BASELINE,
    BOTH;

    boolean sdk() {
      return this != BASELINE;
    }

    boolean baseline() {
      return this != SDK;
    }
  }

  static final Duration DEFAULT_DURATION = Duration.ofSeconds(70);
  static final Duration MIN_EMBEDDED_DURATION = Duration.ofSeconds(Scenario.PHASES);
  static final int MAX_RATE = 2000;
  static final Duration DEFAULT_TAIL = Duration.ofSeconds(30);
  static final Duration MAX_TAIL = Duration.ofMinutes(10);

  static final String HELP =
      """
      Usage: ./drill [options]

      Runs two clients side by side through a scripted outage of an Okta-style directory API
      served by embedded fake zones (us-east-1 a/b/c and us-west-2 a/b, two endpoints each;
      the clients live in us-east-1a): the Failover SDK, and a baseline written by hand today
      (OkHttp, round robin over every endpoint, one zone after another, Resilience4j Retry
      with 3 attempts, each retry in another zone than the attempt before).
      Phases, each a seventh of --duration:
        healthy -> client-busy (every zone serves, but the drill's own JVM is saturated:
        a busy thread per core and one forced pause) -> zone-refuse (us-east-1a refuses
        connections) -> zone-hang (us-east-1a accepts and never answers) -> gray-zone
        (us-east-1b: slow tail and 503s, /health still passing) -> region-down (all of
        us-east-1 refuses) -> fail-back (all healed)
      A warm-up of 3 s of unrecorded load comes first; the drill's clock starts after it.
      After the last phase, a fail-back tail keeps the same load running until the sdk's first
      attempts are back home (at least 90% in us-east-1a two seconds in a row) or --tail is up;
      it is reported apart, not in the phases.

      Options (--name VALUE or --name=VALUE):
        --duration D       how long the load runs: 70s, 90, 2m, 1500ms (default 70s;
                           at least 7s with the embedded zones)
        --rate N           calls per second per client, 1 to 2000 (default 100)
        --seed N           seed of the request mix and of the zones' latency and errors
                           (default 1)
        --deadline D       total deadline of one call, every attempt included (default 1s);
                           each attempt gets a third of it
        --client C         sdk, baseline or both (default both)
        --tail D           the longest fail-back tail, in whole seconds: 30s, 45, 1m; 0 for
                           none (default 30s; none with --topology or --client baseline)
        --report FILE      the HTML report (default target/drill-report.html)
        --json FILE        also write the results as JSON (schema in docs/drill.md)
        --topology FILE    drill against real endpoints instead of the embedded zones: one
                           endpoint a line, 'region,zone,url', '#' starts a comment. No fault is
                           scripted; the load is GET /users/{id} with random ids, in one phase
                           named 'all'
        --home R,Z         with --topology: the clients' home region and zone
                           (default: the first line's)
        --health-path P    with --topology: the health check path (default /health)
        -h, --help         print this help

      While it runs, one line per second and client (about two seconds behind, so that every
      call of that second has ended); at the end a table per phase and client, how late the
      drill's own load generator was (with a warning if it lagged), and the path of the HTML
      report. See docs/drill.md.
      """;

  /**
   * Parses the command line.
   *
   * @param args the arguments
   * @return the options
   * @throws UsageException naming the option and the bad value
   */
  static Options parse(String... args) throws UsageException {
    Duration duration = DEFAULT_DURATION;
    int rate = 100;
    long seed = 1;
    Duration deadline = Duration.ofSeconds(1);
    Clients clients = Clients.BOTH;
    Path report = Path.of("target", "drill-report.html");
    Path json = null;
    Path topology = null;
    String home = null;
    String healthPath = null;
    Duration tail = null;
    boolean help = false;
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      if (arg.equals("-h") || arg.equals("--help")) {
        help = true; // the rest is not read, nor checked
        break;
      }
      String name = arg;
      String value = null;
      int eq = arg.indexOf('=');
      if (arg.startsWith("--") && eq > 0) {
        name = arg.substring(0, eq);
        value = arg.substring(eq + 1);
      }
      if (!isKnown(name)) {
        throw new UsageException("unknown option '" + arg + "'");
      }
      if (value == null) {
        if (i + 1 >= args.length) {
          throw new UsageException(name + " needs a value");
        }
        value = args[++i];
      }
      switch (name) {
        case "--duration" -> duration = duration(name, value);
        case "--rate" -> rate = rate(value);
        case "--seed" -> seed = seed(value);
        case "--deadline" -> deadline = duration(name, value);
        case "--client" -> clients = clients(value);
        case "--report" -> report = path(name, value);
        case "--json" -> json = path(name, value);
        case "--topology" -> topology = path(name, value);
        case "--home" -> home = value;
        case "--health-path" -> healthPath = value;
        case "--tail" -> tail = tail(value);
        default -> throw new UsageException("unknown option '" + arg + "'");
      }
    }
    if (!help) {
      check(duration, deadline, clients, topology, home, healthPath, tail);
      // Before the drill runs, not after: a report that cannot be written is found at once.
      writable("--report", report);
      if (json != null) {
        writable("--json", json);
      }
    }
    if (tail == null) {
      tail = topology == null && clients.sdk() ? DEFAULT_TAIL : Duration.ZERO;
    }
    return new Options(
        duration,
        rate,
        seed,
        deadline,
        clients,
        report,
        json,
        topology,
        home,
        healthPath == null ? "/health" : healthPath,
        tail,
        help);
  }

  /** Checks the options against each other and the ranges that depend on them. */
  private static void check(
      Duration duration,
      Duration deadline,
      Clients clients,
      @Nullable Path topology,
      @Nullable String home,
      @Nullable String healthPath,
      @Nullable Duration tail)
      throws UsageException {
    if (topology == null) {
      if (home != null) {
        throw new UsageException("--home only applies with --topology");
      }
      if (healthPath != null) {
        throw new UsageException("--health-path only applies with --topology");
      }
      if (duration.compareTo(MIN_EMBEDDED_DURATION) < 0) {
        throw new UsageException(
            "--duration must be at least "
                + format(MIN_EMBEDDED_DURATION)
                + " with the embedded zones ("
                + Scenario.PHASES
                + " phases) but was "
                + format(duration));
      }
    }
    if (home != null) {
      String[] parts = home.split(",", -1);
      if (parts.length != 2 || parts[0].isBlank() || parts[1].isBlank()) {
        throw new UsageException(
            "--home must be 'region,zone' such as 'us-east-1,us-east-1a' but was '" + home + "'");
      }
    }
    if (healthPath != null && !healthPath.startsWith("/")) {
      throw new UsageException("--health-path must start with '/' but was '" + healthPath + "'");
    }
    if (tail != null && !tail.isZero()) {
      if (topology != null) {
        throw new UsageException(
            "--tail only applies with the embedded zones (with --topology nothing heals on a"
                + " schedule), but was "
                + format(tail));
      }
      if (!clients.sdk()) {
        throw new UsageException(
            "--tail watches the sdk's return home and needs --client sdk or both, but was "
                + format(tail)
                + " with --client baseline");
      }
    }
    if (deadline.compareTo(Duration.ofMillis(30)) < 0
        || deadline.compareTo(Duration.ofSeconds(60)) > 0) {
      throw new UsageException(
          "--deadline must be between 30ms and 60s but was " + format(deadline));
    }
  }

  private static boolean isKnown(String name) {
    return switch (name) {
      case "--duration",
          "--rate",
          "--seed",
          "--deadline",
          "--client",
          "--report",
          "--json",
          "--topology",
          "--home",
          "--health-path",
          "--tail" ->
          true;
      default -> false;
    };
  }

  /** Parses {@code 60s}, {@code 1500ms}, {@code 2m} or a bare number of seconds. */
  static Duration duration(String name, String value) throws UsageException {
    String v = value.trim().toLowerCase(Locale.ROOT);
    long factorMillis;
    String number;
    if (v.endsWith("ms")) {
      factorMillis = 1;
      number = v.substring(0, v.length() - 2);
    } else if (v.endsWith("s")) {
      factorMillis = 1000;
      number = v.substring(0, v.length() - 1);
    } else if (v.endsWith("m")) {
      factorMillis = 60_000;
      number = v.substring(0, v.length() - 1);
    } else {
      factorMillis = 1000;
      number = v;
    }
    double amount;
    // Digits with at most one decimal point: Double.parseDouble also reads "2d", "2f" (Java's type
    // suffixes), "0x1p-1" (hexadecimal) and "1e3", which are no durations of the drill's.
    String digits = number.trim();
    if (digits.matches("[0-9]+(\\.[0-9]+)?")) {
      amount = Double.parseDouble(digits);
    } else {
      amount = Double.NaN;
    }
    if (!(amount > 0) || amount * factorMillis > 24 * 3600_000.0) {
      throw new UsageException(
          name + " must be a positive duration such as 60s, 1500ms or 2m, but was '" + value + "'");
    }
    // Whole milliseconds: what is checked is what the drill uses.
    long millis = Math.round(amount * factorMillis);
    if (millis <= 0) {
      throw new UsageException(
          name
              + " must be a positive duration such as 60s, 1500ms or 2m, but was '"
              + value
              + "', which is 0ms in whole milliseconds");
    }
    return Duration.ofMillis(millis);
  }

  /** Parses the tail: a whole number of seconds from 0 (none) to {@link #MAX_TAIL}. */
  static Duration tail(String value) throws UsageException {
    String v = value.trim().toLowerCase(Locale.ROOT);
    Duration d = null;
    if (v.matches("0+(\\.0*)?(s|ms|m)?")) {
      d = Duration.ZERO;
    } else {
      try {
        d = duration("--tail", v);
      } catch (UsageException e) {
        // reported below
      }
    }
    if (d == null || d.toMillis() % 1000 != 0 || d.compareTo(MAX_TAIL) > 0) {
      throw new UsageException(
          "--tail must be a whole number of seconds from 0 (no tail) to "
              + MAX_TAIL.toSeconds()
              + ", such as 30s, 45 or 1m, but was '"
              + value
              + "'");
    }
    return d;
  }

  private static int rate(String value) throws UsageException {
    try {
      int r = Integer.parseInt(value.trim());
      if (r >= 1 && r <= MAX_RATE) {
        return r;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new UsageException(
        "--rate must be a whole number of calls per second from 1 to "
            + MAX_RATE
            + ", but was '"
            + value
            + "'");
  }

  private static long seed(String value) throws UsageException {
    try {
      return Long.parseLong(value.trim());
    } catch (NumberFormatException e) {
      throw new UsageException("--seed must be a whole number but was '" + value + "'");
    }
  }

  private static Clients clients(String value) throws UsageException {
    return switch (value.trim().toLowerCase(Locale.ROOT)) {
      case "sdk" -> Clients.SDK;
      case "baseline" -> Clients.BASELINE;
      case "both" -> Clients.BOTH;
      default ->
          throw new UsageException(
              "--client must be sdk, baseline or both, but was '" + value + "'");
    };
  }

  private static Path path(String name, String value) throws UsageException {
    if (value.isBlank()) {
      throw new UsageException(name + " needs a file name");
    }
    return Path.of(value);
  }

  /**
   * Checks that the drill can write {@code file} once it has run: not a directory, and in a
   * directory that exists and is writable, or that can be created (its nearest existing ancestor is
   * a writable directory).
   */
  static void writable(String name, Path file) throws UsageException {
    Path absolute = file.toAbsolutePath().normalize();
    String problem = null;
    if (Files.isDirectory(absolute)) {
      problem = "it is a directory";
    } else if (Files.exists(absolute) && !Files.isWritable(absolute)) {
      problem = "the file is not writable";
    } else {
      Path dir = absolute.getParent();
      while (dir != null && !Files.exists(dir)) {
        dir = dir.getParent();
      }
      if (dir == null) {
        problem = "none of its directories exists";
      } else if (!Files.isDirectory(dir)) {
        problem = dir + " is not a directory";
      } else if (!Files.isWritable(dir)) {
        problem = "the directory " + dir + " is not writable";
      }
    }
    if (problem != null) {
      throw new UsageException(
          name + " must be a file the drill can write, but was '" + file + "': " + problem);
    }
  }

  static String format(Duration d) {
    long ms = d.toMillis();
    return ms % 1000 == 0 ? (ms / 1000) + "s" : ms + "ms";
  }
}
