package dev.failover.drill;

import dev.failover.testkit.FakeZones;
import dev.failover.testkit.Timeline;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;

/**
 * The outage drill: runs the Failover SDK and a hand-written baseline side by side, open loop,
 * through a scripted outage of embedded fake zones (or against real endpoints), and reports per
 * second and per phase. {@code ./drill --help} lists the options.
 */
public final class Drill {
  /** Unrecorded load before the drill starts, so JIT and connection setup do not count. */
  static final Duration WARM_UP = Duration.ofSeconds(3);

  private Drill() {}

  /**
   * Runs the drill from the command line.
   *
   * @param args the options; see {@code --help}
   */
  public static void main(String[] args) {
    int code = run(System.out, System.err, args);
    System.out.flush();
    System.exit(code);
  }

  /** Runs the drill; returns the exit code: 0 done, 1 failed, 2 bad usage. */
  static int run(PrintStream out, PrintStream err, String... args) {
    Options options;
    try {
      options = Options.parse(args);
    } catch (UsageException e) {
      err.println("drill: " + e.getMessage());
      err.println("Run ./drill --help for the options.");
      return 2;
    }
    if (options.help()) {
      out.print(Options.HELP);
      return 0;
    }
    try {
      execute(options, out);
      return 0;
    } catch (UsageException e) {
      err.println("drill: " + e.getMessage());
      return 2;
    } catch (IOException | RuntimeException e) {
      err.println("drill: failed: " + e);
      e.printStackTrace(err);
      return 1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      err.println("drill: interrupted");
      return 1;
    }
  }

  /** Runs the drill with parsed options and writes the reports. */
  static DrillResult execute(Options o, PrintStream out)
      throws UsageException, IOException, InterruptedException {
    Scenario scenario;
    String mode;
    Path topology = o.topology();
    if (topology != null) {
      List<DrillEndpoint> endpoints = TopologyFile.read(topology);
      scenario =
          Scenario.topology(
              endpoints, o.home(), o.healthPath(), o.duration(), o.seed(), topology.toString());
      mode = "topology";
    } else {
      out.println("Starting the fake zones ...");
      scenario = Scenario.embedded(o.duration(), o.seed());
      mode = "embedded";
    }
    try (scenario) {
      return drive(o, scenario, mode, out);
    }
  }

  private static DrillResult drive(Options o, Scenario scenario, String mode, PrintStream out)
      throws IOException, InterruptedException {
    long warmUpNanos = WARM_UP.toNanos();
    long start = System.nanoTime() + warmUpNanos + TimeUnit.MILLISECONDS.toNanos(500);
    List<String> zoneNames = scenario.zoneNames();
    EventLog events = new EventLog(out, start);
    scenario.onPhaseStarted(name -> events.add("drill", "phase " + name + " begins"));
    int maxInFlight = (int) Math.ceil(o.rate() * (o.deadline().toMillis() / 1000.0) * 2) + 16;
    List<ClientDriver> drivers = new ArrayList<>();
    try {
      if (o.clients().sdk()) {
        Stats stats = new Stats("sdk", scenario.phases(), zoneNames, o.duration());
        drivers.add(new SdkDriver(scenario, stats, start, maxInFlight, o.deadline(), events));
      }
      if (o.clients().baseline()) {
        Stats stats = new Stats("baseline", scenario.phases(), zoneNames, o.duration());
        drivers.add(new BaselineDriver(scenario, stats, start, maxInFlight, o.deadline()));
      }
      out.printf(
          Locale.ROOT,
          "Drill: %s; home %s; %d calls/s per client for %s, deadline %s, clients %s%n",
          scenario.description(),
          scenario.homeZone(),
          o.rate(),
          Options.format(o.duration()),
          Options.format(o.deadline()),
          String.join(" and ", drivers.stream().map(d -> d.name).toList()));
      for (Phase p : scenario.phases()) {
        out.printf(
            Locale.ROOT,
            "  %5.1fs-%5.1fs  %-12s %s%n",
            p.start().toMillis() / 1000.0,
            p.end().toMillis() / 1000.0,
            p.name(),
            p.description());
      }
      int lag = (int) Math.ceil(o.deadline().toMillis() / 1000.0) + 1;
      out.printf(
          Locale.ROOT,
          "One line per second and client, %d s behind so that the second's calls have ended.%n",
          lag);
      runLoad(o, scenario, drivers, start, lag, out);
    } finally {
      for (ClientDriver d : drivers) {
        d.close();
        if (d instanceof SdkDriver sdk && sdk.lostCallbacks() > 0) {
          out.println(
              "sdk: "
                  + sdk.lostCallbacks()
                  + " calls never called back (counted as failed a second after the deadline)");
        }
      }
    }
    List<Stats> stats = drivers.stream().map(d -> d.stats).toList();
    DrillResult result =
        new DrillResult(
            o,
            mode,
            scenario.description(),
            scenario.homeRegion(),
            scenario.homeZone(),
            zoneNames,
            scenario.phases(),
            stats,
            events.entries());
    out.println();
    out.print(TextReport.table(stats, scenario.phases(), zoneNames));
    out.println(
        "ok % counts 2xx answers (stale copies included); latency from the intended send time;"
            + " zone columns: share of first attempts.");
    write(o.report(), HtmlReport.render(result));
    out.println("HTML report: " + o.report().toAbsolutePath().normalize());
    Path json = o.json();
    if (json != null) {
      write(json, JsonReport.render(result));
      out.println("JSON results: " + json.toAbsolutePath().normalize());
    }
    return result;
  }

  /**
   * Sends the load open loop: call {@code i} is due at {@code start + i / rate}, whatever happened
   * to earlier calls; a late scheduler sends the calls it owes at once, and their latency counts
   * from when they were due. Prints a line per second and client, {@code lag} seconds behind.
   */
  private static void runLoad(
      Options o,
      Scenario scenario,
      List<ClientDriver> drivers,
      long start,
      int lag,
      PrintStream out)
      throws InterruptedException {
    long period = 1_000_000_000L / o.rate();
    long first = -Math.floorDiv(WARM_UP.toNanos(), period);
    long total = o.duration().toNanos() / period;
    AtomicLong next = new AtomicLong(first);
    CountDownLatch loadDone = new CountDownLatch(1);
    ScheduledThreadPoolExecutor load = daemonScheduler("drill-load");
    ScheduledThreadPoolExecutor ticks = daemonScheduler("drill-ticks");
    AtomicReference<Timeline.@Nullable Run> run = new AtomicReference<>();
    Console console = new Console(drivers, scenario.homeZone(), out);
    try {
      Future<?> sender =
          load.scheduleAtFixedRate(
              () -> {
                long i = next.getAndIncrement();
                if (i >= total) {
                  loadDone.countDown();
                  throw new IllegalStateException("done"); // ends the periodic task
                }
                long intended = start + i * period;
                String path = scenario.nextPath();
                for (ClientDriver d : drivers) {
                  d.send(path, intended);
                }
              },
              Math.max(0, start + first * period - System.nanoTime()),
              period,
              TimeUnit.NANOSECONDS);
      Timeline timeline = scenario.timeline();
      FakeZones zones = scenario.zones();
      if (timeline != null && zones != null) {
        Future<?> unused =
            ticks.schedule(
                () -> run.set(timeline.start(zones)),
                start - System.nanoTime(),
                TimeUnit.NANOSECONDS);
      }
      Future<?> printer =
          ticks.scheduleAtFixedRate(
              () -> {
                long elapsed = (System.nanoTime() - start) / 1_000_000_000L;
                console.printUpTo((int) elapsed - lag);
                if (zones != null && elapsed % 5 == 0) {
                  zones.resetCounts(); // the drill never reads the journals: keep memory flat
                }
              },
              start - System.nanoTime() + 1_000_000_000L,
              1_000_000_000L,
              TimeUnit.NANOSECONDS);
      Duration bound = o.duration().plus(WARM_UP).plusSeconds(30);
      if (!loadDone.await(bound.toMillis(), TimeUnit.MILLISECONDS)) {
        out.println("The load did not end in time; stopping it.");
      }
      sender.cancel(false);
      for (ClientDriver d : drivers) {
        if (!d.awaitIdle(o.deadline().plusSeconds(5))) {
          out.println(d.name + ": calls still in flight after the deadline; counting what ended.");
        }
      }
      Timeline.Run r = run.get();
      if (r != null) {
        r.await(Duration.ofSeconds(5));
        r.close();
      }
      printer.cancel(false);
    } finally {
      load.shutdownNow();
      ticks.shutdownNow();
      ticks.awaitTermination(5, TimeUnit.SECONDS);
    }
    console.printUpTo(Integer.MAX_VALUE);
  }

  private static ScheduledThreadPoolExecutor daemonScheduler(String name) {
    ScheduledThreadPoolExecutor s =
        new ScheduledThreadPoolExecutor(
            1,
            r -> {
              Thread t = new Thread(r, name);
              t.setDaemon(true);
              return t;
            });
    s.setRemoveOnCancelPolicy(true);
    return s;
  }

  private static void write(Path file, String text) throws IOException {
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    Files.writeString(file, text, StandardCharsets.UTF_8);
  }

  /** Prints each second once, in order, for every client. */
  private static final class Console {
    private final List<ClientDriver> drivers;
    private final String homeZone;
    private final PrintStream out;
    private int next;

    Console(List<ClientDriver> drivers, String homeZone, PrintStream out) {
      this.drivers = drivers;
      this.homeZone = homeZone;
      this.out = out;
    }

    synchronized void printUpTo(int second) {
      if (drivers.isEmpty()) {
        return;
      }
      int last = Math.min(second, drivers.get(0).stats.secondCount() - 1);
      while (next <= last) {
        for (ClientDriver d : drivers) {
          out.println(TextReport.line(next, d.name, d.stats.second(next), homeZone));
        }
        next++;
      }
    }
  }
}
