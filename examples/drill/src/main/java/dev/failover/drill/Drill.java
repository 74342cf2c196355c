package dev.failover.drill;

import dev.failover.testkit.FakeZones;
import dev.failover.testkit.Timeline;
import dev.failover.testkit.load.HostSaturator;
import dev.failover.testkit.load.Lateness;
import dev.failover.testkit.load.LoadClock;
import dev.failover.testkit.load.MachineLoad;
import dev.failover.testkit.load.OpenLoopGenerator;
import dev.failover.testkit.load.Ticker;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
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
    return execute(o, out, () -> {});
  }

  /**
   * Runs the drill with parsed options and writes the reports; {@code afterClientsBuilt} runs once
   * the clients are built, before the warm-up (tests make the build slow with it).
   */
  static DrillResult execute(Options o, PrintStream out, Runnable afterClientsBuilt)
      throws UsageException, IOException, InterruptedException {
    MachineLoad atStart = MachineLoad.now();
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
      return drive(o, scenario, mode, atStart, afterClientsBuilt, out);
    }
  }

  private static DrillResult drive(
      Options o,
      Scenario scenario,
      String mode,
      MachineLoad atStart,
      Runnable afterClientsBuilt,
      PrintStream out)
      throws IOException, InterruptedException {
    out.println(
        "Machine at start: "
            + atStart.describe()
            + (atStart.busy() ? "; busier than its processors: the timing may suffer" : ""));
    Provenance provenance = Provenance.current();
    out.println("Build and JVM:    " + provenance.describe());
    if (mode.equals("embedded")) {
      // Both clients' load, on zones that are not yet part of any measurement.
      out.println(
          ZoneWarmUp.run(scenario.endpoints(), o.seed(), 2 * o.rate(), ZoneWarmUp.LONGEST)
              .describe());
    }
    LoadClock clock = new LoadClock(Ticker.system());
    List<String> zoneNames = scenario.zoneNames();
    EventLog events = new EventLog(out, clock);
    // Told by the phase's timeline step once its faults are in place: timed when they went on.
    scenario.onPhaseStarted(name -> events.add("drill", EventLog.phaseBegins(name)));
    HostSaturator saturator = scenario.saturator();
    if (saturator != null) {
      saturator.logTo(text -> events.add("drill", text));
    }
    Phase failBack = scenario.failBack();
    // The fail-back tail watches the sdk's return home once every zone has healed.
    Duration tailMax = failBack != null && o.clients().sdk() ? o.tail() : Duration.ZERO;
    GeneratorLag lag = new GeneratorLag(scenario.phases(), o.duration(), tailMax);
    int maxInFlight = (int) Math.ceil(o.rate() * (o.deadline().toMillis() / 1000.0) * 2) + 16;
    List<ClientDriver> drivers = new ArrayList<>();
    FailBackTail tail = null;
    long planned;
    try {
      if (o.clients().sdk()) {
        Stats stats = new Stats("sdk", scenario.phases(), zoneNames, o.duration(), tailMax);
        drivers.add(new SdkDriver(scenario, stats, clock, maxInFlight, o.deadline(), events));
        if (failBack != null) {
          tail = new FailBackTail(failBack, o.duration(), tailMax, scenario.homeZone(), stats);
        }
      }
      if (o.clients().baseline()) {
        Stats stats = new Stats("baseline", scenario.phases(), zoneNames, o.duration(), tailMax);
        drivers.add(new BaselineDriver(scenario, stats, clock, maxInFlight, o.deadline()));
      }
      afterClientsBuilt.run();
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
      if (tail != null && !tailMax.isZero()) {
        out.printf(
            Locale.ROOT,
            "  %5.1fs-%5.1fs  %-12s %s%n",
            o.duration().toMillis() / 1000.0,
            o.duration().plus(tailMax).toMillis() / 1000.0,
            Stats.TAIL,
            TextReport.tailPlan(tail));
      }
      int behind = (int) Math.ceil(o.deadline().toMillis() / 1000.0) + 1;
      out.printf(
          Locale.ROOT,
          "Warm-up: %d s of the same load, not recorded; the drill's 0 s is when it has ended.%n"
              + "One line per second and client, at least %d s behind: once all of the second's"
              + " calls have ended.%n",
          WARM_UP.toSeconds(),
          behind);
      planned = runLoad(o, scenario, drivers, clock, events, lag, tail, behind, out);
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
    MachineLoad atEnd = MachineLoad.now();
    List<Stats> stats = drivers.stream().map(d -> d.stats).toList();
    List<EventLog.Entry> entries = events.entries();
    if (tail != null && failBack != null) {
      // The return is timed from when the zones actually healed, not when they were to.
      tail.healBegan(JsonReport.began(entries, failBack));
    }
    DrillResult result =
        new DrillResult(
            o,
            provenance,
            mode,
            scenario.description(),
            scenario.homeRegion(),
            scenario.homeZone(),
            zoneNames,
            scenario.phases(),
            stats,
            entries,
            WARM_UP,
            atStart,
            atEnd,
            lag,
            planned,
            Expectation.check(scenario.phases(), stats, entries, scenario.homeZone()),
            tail);
    out.println();
    out.println("Machine at end:   " + atEnd.describe());
    out.print(TextReport.table(stats, scenario.phases(), zoneNames));
    out.println(
        "ok % counts 2xx answers (stale copies included); latency from the intended send time;"
            + " zone columns: share of first attempts.");
    for (String line : TextReport.unaccounted(result)) {
      out.println(line);
    }
    out.println();
    out.print(TextReport.generator(result));
    for (Expectation e : result.expectations()) {
      out.println(TextReport.expectation(e));
    }
    if (tail != null) {
      out.println();
      out.print(TextReport.tail(result, tail));
    }
    // Each report on its own: one that cannot be written does not cost the other.
    IOException failed = write("--report", o.report(), () -> HtmlReport.render(result), null);
    if (failed == null) {
      out.println("HTML report: " + o.report().toAbsolutePath().normalize());
    }
    Path json = o.json();
    if (json != null) {
      IOException jsonFailed = write("--json", json, () -> JsonReport.render(result), failed);
      if (jsonFailed == null) {
        out.println("JSON results: " + json.toAbsolutePath().normalize());
      }
      failed = failed == null ? jsonFailed : failed;
    }
    if (failed != null) {
      throw failed;
    }
    return result;
  }

  /**
   * Sends the load open loop on its own thread ({@link OpenLoopGenerator}): the warm-up, then call
   * {@code i} due at {@code start + i / rate}. At the start the timeline of faults starts, counting
   * from {@code start} itself (so a phase's faults go on at {@code start + phase.start}, however
   * late this thread gets to it), then the held warm-up events are printed, and a line per second
   * and client follows, {@code behind} seconds behind. Returns the calls the load was to send in
   * the phases.
   */
  private static long runLoad(
      Options o,
      Scenario scenario,
      List<ClientDriver> drivers,
      LoadClock clock,
      EventLog events,
      GeneratorLag lag,
      @Nullable FailBackTail tail,
      int behind,
      PrintStream out)
      throws InterruptedException {
    Timeline timeline = scenario.timeline();
    FakeZones zones = scenario.zones();
    if (timeline != null && clock.ticker() != Ticker.system()) {
      // The timeline counts from a System.nanoTime() value: the load's start must be one.
      throw new IllegalStateException("the timeline needs a load clock on Ticker.system()");
    }
    Shutdown.Named tickThreads = new Shutdown.Named("drill-ticks");
    ScheduledThreadPoolExecutor ticks = new ScheduledThreadPoolExecutor(1, tickThreads);
    ticks.setRemoveOnCancelPolicy(true);
    // Set as soon as the timeline runs, so that however the drill ends, the run is stopped.
    AtomicReference<Timeline.@Nullable Run> timelineRun = new AtomicReference<>();
    AtomicBoolean stopping = new AtomicBoolean();
    AtomicReference<@Nullable Future<?>> begun = new AtomicReference<>();
    AtomicReference<@Nullable Future<?>> printer = new AtomicReference<>();
    Console console = new Console(drivers, lag, tail, scenario.homeZone(), o.duration(), out);
    Duration tailMax = tail == null ? Duration.ZERO : tail.max();
    OpenLoopGenerator.Builder builder =
        OpenLoopGenerator.builder(clock)
            .rate(o.rate())
            .warmUp(WARM_UP)
            .duration(o.duration())
            .sink(sendInTurn(drivers, scenario::nextPath))
            .lag(lag)
            .onStart(
                start -> {
                  begun.set(
                      ticks.submit(
                          () -> {
                            if (timeline != null && zones != null) {
                              // 'start' is a System.nanoTime() value (checked above): the steps
                              // run at start + offset, the instants the calls are labelled from.
                              Timeline.Run r = timeline.start(zones, start);
                              timelineRun.set(r);
                              if (stopping.get()) {
                                r.close(); // the drill ended meanwhile
                              }
                            }
                            events.begin(start); // prints the warm-up's events, on their thread
                          }));
                  printer.set(
                      ticks.scheduleAtFixedRate(
                          () -> {
                            long elapsed = (clock.now() - start) / 1_000_000_000L;
                            console.printUpTo((int) elapsed - behind, false);
                            if (zones != null && elapsed % 5 == 0) {
                              zones.resetCounts(); // the drill never reads the journals
                            }
                          },
                          start + 1_000_000_000L - clock.now(),
                          1_000_000_000L,
                          TimeUnit.NANOSECONDS));
                });
    if (tail != null) {
      builder.tail(tailMax, tail);
    }
    OpenLoopGenerator generator = builder.build();
    HostSaturator saturator = scenario.saturator();
    if (saturator != null) {
      saturator.pauseWith(generator::pause);
    }
    AtomicReference<@Nullable Throwable> failure = new AtomicReference<>();
    CountDownLatch loadDone = new CountDownLatch(1);
    Thread load =
        new Thread(
            () -> {
              try {
                generator.run();
              } catch (InterruptedException e) {
                // stopped
              } catch (RuntimeException | Error e) {
                failure.set(e);
              } finally {
                loadDone.countDown();
              }
            },
            "drill-load");
    load.setDaemon(true);
    events.add("drill", "warm-up begins: " + WARM_UP.toSeconds() + " s of load, not recorded");
    try {
      load.start();
      Duration bound = o.duration().plus(WARM_UP).plus(tailMax).plusSeconds(30);
      if (!loadDone.await(bound.toMillis(), TimeUnit.MILLISECONDS)) {
        out.println("The load did not end in time; stopping it.");
      }
      generator.stop();
      load.interrupt();
      Throwable t = failure.get();
      if (t != null) {
        throw new IllegalStateException("the load generator failed", t);
      }
      for (ClientDriver d : drivers) {
        if (!d.awaitIdle(o.deadline().plusSeconds(5))) {
          out.println(d.name + ": calls still in flight after the deadline; counting what ended.");
        }
      }
      Future<?> started = begun.get();
      if (started != null) {
        started.get(5, TimeUnit.SECONDS);
        Timeline.Run r = timelineRun.get();
        if (r != null) {
          r.await(Duration.ofSeconds(5));
        }
      }
      Future<?> p = printer.get();
      if (p != null) {
        p.cancel(false);
      }
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("the timeline did not start", e);
    } finally {
      stopping.set(true);
      generator.stop();
      load.interrupt();
      // The load's thread may be in the middle of a call's send: wait for it (bounded), so that
      // no call is sent after the drill has counted, nor the thread left behind.
      if (!Shutdown.join(load, Duration.ofSeconds(10))) {
        out.println("The load's thread did not end within 10 s of being stopped.");
      }
      try {
        stop(ticks, tickThreads, timelineRun, saturator);
      } finally {
        events.begin(clock.started() ? clock.start() : clock.now()); // if the drill never started
        events.close(); // every event printed before the last seconds' lines
      }
    }
    console.printUpTo(Integer.MAX_VALUE, true);
    return generator.calls();
  }

  /**
   * The load's sink: each call, with the next path of the mix, to every client, the first client
   * first for even calls (warm-up included, from 0) and the last client first for odd ones. A
   * client's send (routing, its client's enqueue) takes time on the load's thread, and a call's
   * latency counts from its due time, so whoever is sent second pays for the first one's send, and
   * for a preemption in the middle of it: taking turns shares that cost evenly and
   * deterministically.
   */
  static OpenLoopGenerator.Sink sendInTurn(List<ClientDriver> drivers, Supplier<String> paths) {
    List<ClientDriver> forward = List.copyOf(drivers);
    List<ClientDriver> backward = new ArrayList<>(forward);
    Collections.reverse(backward);
    long[] call = {0}; // the sink runs on the load's thread alone
    return (due, offset) -> {
      String path = paths.get();
      for (ClientDriver d : (call[0]++ % 2 == 0 ? forward : backward)) {
        d.send(path, due, offset);
      }
    };
  }

  /**
   * Stops what runs beside the load, whatever ended the drill: the ticks (no timeline can start
   * after this), then the timeline's run if one started (no fault goes on or off after this), then
   * the host saturation. Keeps an interrupt for the caller.
   */
  private static void stop(
      ScheduledThreadPoolExecutor ticks,
      Shutdown.Named tickThreads,
      AtomicReference<Timeline.@Nullable Run> timelineRun,
      @Nullable HostSaturator saturator) {
    try {
      // The task that starts the timeline sets it before it ends: wait for it (the interrupt of
      // a drill being stopped is kept, not taken for the end of the wait).
      Shutdown.stop(ticks, tickThreads, true, Duration.ofSeconds(5));
      Timeline.Run r = timelineRun.get();
      if (r != null) {
        r.close();
      }
    } finally {
      if (saturator != null) {
        saturator.stop();
      }
    }
  }

  /**
   * Writes one report; returns the failure, named after its option, instead of throwing it (added
   * to {@code earlier} as suppressed, if there is one), or null once written.
   */
  private static @Nullable IOException write(
      String option, Path file, Supplier<String> text, @Nullable IOException earlier) {
    try {
      Path parent = file.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      Files.writeString(file, text.get(), StandardCharsets.UTF_8);
      return null;
    } catch (IOException | RuntimeException e) {
      IOException failed = new IOException("could not write " + option + " " + file + ": " + e, e);
      if (earlier != null) {
        earlier.addSuppressed(failed);
      }
      return failed;
    }
  }

  /**
   * Prints each second once, in order, for every client, and the generator's lag if any; then the
   * seconds of the fail-back tail, marked {@code tail}, once the generator has sent them.
   */
  private static final class Console {
    private final List<ClientDriver> drivers;
    private final GeneratorLag lag;
    private final @Nullable FailBackTail tail;
    private final String homeZone;
    private final Duration end;
    private final PrintStream out;
    private int next;
    private int nextTail;

    Console(
        List<ClientDriver> drivers,
        GeneratorLag lag,
        @Nullable FailBackTail tail,
        String homeZone,
        Duration end,
        PrintStream out) {
      this.drivers = drivers;
      this.lag = lag;
      this.tail = tail;
      this.homeZone = homeZone;
      this.end = end;
      this.out = out;
    }

    /**
     * Prints the seconds that ended by {@code second} from the start (drill's, then tail's), in
     * order, each once every client's calls of that second have ended; with {@code force}, whatever
     * has ended (at the end of the run, when nothing is in flight any more or never will end).
     */
    synchronized void printUpTo(int second, boolean force) {
      if (drivers.isEmpty()) {
        return;
      }
      int count = drivers.get(0).stats.secondCount();
      int last = Math.min(second, count - 1);
      while (next <= last && (force || settled(next, false))) {
        Stats.Summary s = null;
        for (ClientDriver d : drivers) {
          s = d.stats.second(next);
          out.println(TextReport.line(next, d.name, s, homeZone));
        }
        Lateness.Summary late = lag.second(next);
        if (late.late() > 0 && s != null) {
          out.println(TextReport.lagLine(next, s.phase(), late));
        }
        next++;
      }
      if (tail == null || next < count) {
        return;
      }
      // Tail second k ends at end + k + 1; print it once that is 'second' or earlier.
      long lastTail =
          Math.min(tail.seconds() - 1L, second - (long) Math.ceil(end.toMillis() / 1000.0));
      while (nextTail <= lastTail && (force || settled(nextTail, true))) {
        double at = end.toMillis() / 1000.0 + nextTail;
        for (ClientDriver d : drivers) {
          out.println(TextReport.tailLine(at, d.name, d.stats.tailSecond(nextTail), homeZone));
        }
        Lateness.Summary late = lag.tailSecond(nextTail);
        if (late.late() > 0) {
          out.println(TextReport.tailLagLine(at, late));
        }
        nextTail++;
      }
    }

    /** Whether every client's calls of a second (of the drill, or of its tail) have ended. */
    private boolean settled(int i, boolean inTail) {
      for (ClientDriver d : drivers) {
        if (!(inTail ? d.stats.tailSecondSettled(i) : d.stats.secondSettled(i))) {
          return false;
        }
      }
      return true;
    }
  }
}
