package dev.failover.drill;

import static dev.failover.drill.MiniJson.arr;
import static dev.failover.drill.MiniJson.obj;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One short drill on a console that takes 1.5 s for every warm-up line (a slow terminal, a full
 * pipe): the faults still go on when the phases' labels say, since the timeline counts from the
 * drill's start, not from when the console let it start. And the HTML report's path turns into a
 * directory while the drill runs: the JSON is still written.
 */
class SlowConsoleDrillTest {
  /** What the console takes for each warm-up line: far more than the margin below. */
  static final Duration SLOW_LINE = Duration.ofMillis(1500);

  /**
   * How late a phase's faults may go on: room for a busy machine (a collection of the client-busy
   * phase's forced pause at a boundary), still under SLOW_LINE (1.5 s late on the old code).
   */
  static final double MARGIN_S = 1.0;

  @TempDir static Path dir;
  static int code;
  static String console;
  static String err;
  static Map<String, Object> json;

  @BeforeAll
  static void runADrillOnASlowConsole() throws Exception {
    Path report = dir.resolve("report.html");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
    PrintStream slow =
        new PrintStream(out, true, StandardCharsets.UTF_8) {
          @Override
          public void println(String line) {
            if (line.startsWith("Starting the fake zones")) {
              // Checked when parsed, the path can no longer take the report by the end.
              try {
                Files.createDirectories(report);
              } catch (IOException e) {
                throw new UncheckedIOException(e);
              }
            }
            if (line.contains("(warm-up)")) {
              try {
                Thread.sleep(SLOW_LINE.toMillis()); // the fault injected: a slow console
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            }
            super.println(line);
          }
        };
    code =
        Drill.run(
            slow,
            new PrintStream(errBytes, true, StandardCharsets.UTF_8),
            "--duration",
            "14s", // 2 s phases: the forced pause's System.gc() ends well before the next one
            "--rate",
            "50",
            "--client",
            "sdk",
            "--tail",
            "0",
            "--seed",
            "5",
            "--report",
            report.toString(),
            "--json",
            dir.resolve("drill.json").toString());
    console = out.toString(StandardCharsets.UTF_8);
    err = errBytes.toString(StandardCharsets.UTF_8);
    Files.writeString(Path.of("target", "slow-console.txt"), console + "\n--- stderr\n" + err);
    json = obj(MiniJson.parse(Files.readString(dir.resolve("drill.json"))));
  }

  @Test
  void everyPhasesFaultsGoOnAtItsStartThoughTheConsoleIsSlow() {
    // The console was slow indeed: the warm-up's events were printed, each taking SLOW_LINE.
    assertThat(console).contains("(warm-up) warm-up begins");
    List<Object> phases = arr(obj(json.get("drill")).get("phases"));
    assertThat(phases).hasSize(Scenario.PHASES);
    List<Map<String, Object>> events = arr(json.get("events")).stream().map(MiniJson::obj).toList();
    for (Object p : phases) {
      String name = (String) obj(p).get("name");
      double start = (Double) obj(p).get("start_s");
      // Told by the phase's timeline step once its faults are in place.
      assertThat(events)
          .filteredOn(
              e ->
                  e.get("client").equals("drill")
                      && e.get("text").equals("phase " + name + " begins"))
          .singleElement()
          .satisfies(
              e -> {
                double began = (Double) e.get("t_s");
                assertThat(began)
                    .as("phase %s began at", name)
                    .isBetween(start - 1e-3, start + MARGIN_S);
                assertThat(obj(p).get("began_s")).isEqualTo(began);
              });
    }
  }

  @Test
  void aReportThatCannotBeWrittenCostsNotTheOther() {
    assertThat(code).as("stderr: %s", err).isEqualTo(1);
    assertThat(err).contains("drill: failed: java.io.IOException: could not write --report ");
    assertThat(console).doesNotContain("HTML report: ").contains("JSON results: ");
    assertThat(obj(json.get("clients"))).containsOnlyKeys("sdk");
  }
}
