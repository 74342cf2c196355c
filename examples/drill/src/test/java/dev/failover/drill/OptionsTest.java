package dev.failover.drill;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class OptionsTest {

  @Test
  void defaults() throws UsageException {
    Options o = Options.parse();
    assertThat(o.duration()).isEqualTo(Duration.ofSeconds(70));
    assertThat(o.rate()).isEqualTo(100);
    assertThat(o.seed()).isEqualTo(1);
    assertThat(o.deadline()).isEqualTo(Duration.ofSeconds(1));
    assertThat(o.clients()).isEqualTo(Options.Clients.BOTH);
    assertThat(o.report()).isEqualTo(Path.of("target", "drill-report.html"));
    assertThat(o.json()).isNull();
    assertThat(o.topology()).isNull();
    assertThat(o.healthPath()).isEqualTo("/health");
    assertThat(o.tail()).isEqualTo(Duration.ofSeconds(30));
    assertThat(o.help()).isFalse();
  }

  @Test
  void everyOptionInBothForms() throws UsageException {
    Options o =
        Options.parse(
            "--duration=90s",
            "--rate",
            "250",
            "--seed=7",
            "--deadline",
            "1500ms",
            "--client",
            "sdk",
            "--report=r.html",
            "--json",
            "out.json",
            "--topology",
            "t.txt",
            "--home",
            "eu-west-1,eu-west-1b",
            "--health-path=/ping");
    assertThat(o.duration()).isEqualTo(Duration.ofSeconds(90));
    assertThat(o.rate()).isEqualTo(250);
    assertThat(o.seed()).isEqualTo(7);
    assertThat(o.deadline()).isEqualTo(Duration.ofMillis(1500));
    assertThat(o.clients()).isEqualTo(Options.Clients.SDK);
    assertThat(o.report()).isEqualTo(Path.of("r.html"));
    assertThat(o.json()).isEqualTo(Path.of("out.json"));
    assertThat(o.topology()).isEqualTo(Path.of("t.txt"));
    assertThat(o.home()).isEqualTo("eu-west-1,eu-west-1b");
    assertThat(o.healthPath()).isEqualTo("/ping");
  }

  @ParameterizedTest
  @CsvSource({"60s, 60000", "60, 60000", "2m, 120000", "1500ms, 1500", "0.5m, 30000"})
  void durations(String text, long millis) throws UsageException {
    assertThat(Options.duration("--duration", text)).isEqualTo(Duration.ofMillis(millis));
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "--rate|abc|--rate must be a whole number of calls per second from 1 to 2000, but was 'abc'",
        "--rate|0|--rate must be a whole number of calls per second from 1 to 2000, but was '0'",
        "--rate|5000|--rate must be a whole number of calls per second from 1 to 2000, but was '5000'",
        "--duration|soon|--duration must be a positive duration such as 60s, 1500ms or 2m, but was 'soon'",
        "--duration|-5s|--duration must be a positive duration such as 60s, 1500ms or 2m, but was '-5s'",
        "--duration|10d|--duration must be a positive duration such as 60s, 1500ms or 2m, but was '10d'",
        "--deadline|2d|--deadline must be a positive duration such as 60s, 1500ms or 2m, but was '2d'",
        "--deadline|2f|--deadline must be a positive duration such as 60s, 1500ms or 2m, but was '2f'",
        "--deadline|0x1p-1|--deadline must be a positive duration such as 60s, 1500ms or 2m, but was '0x1p-1'",
        "--deadline|1e3ms|--deadline must be a positive duration such as 60s, 1500ms or 2m, but was '1e3ms'",
        "--tail|30d|--tail must be a whole number of seconds from 0 (no tail) to 600, such as 30s, 45 or 1m, but was '30d'",
        "--duration|3s|--duration must be at least 7s with the embedded zones (7 phases) but was 3s",
        "--deadline|10ms|--deadline must be between 30ms and 60s but was 10ms",
        "--duration|0.0004s|--duration must be a positive duration such as 60s, 1500ms or 2m, but was '0.0004s', which is 0ms in whole milliseconds",
        "--deadline|0.4ms|--deadline must be a positive duration such as 60s, 1500ms or 2m, but was '0.4ms', which is 0ms in whole milliseconds",
        "--tail|0.0004s|--tail must be a whole number of seconds from 0 (no tail) to 600, such as 30s, 45 or 1m, but was '0.0004s'",
        "--client|all|--client must be sdk, baseline or both, but was 'all'",
        "--seed|x1|--seed must be a whole number but was 'x1'",
        "--home|us-east-1,us-east-1a|--home only applies with --topology",
        "--tail|soon|--tail must be a whole number of seconds from 0 (no tail) to 600, such as 30s, 45 or 1m, but was 'soon'",
        "--tail|-5s|--tail must be a whole number of seconds from 0 (no tail) to 600, such as 30s, 45 or 1m, but was '-5s'",
        "--tail|1500ms|--tail must be a whole number of seconds from 0 (no tail) to 600, such as 30s, 45 or 1m, but was '1500ms'",
        "--tail|11m|--tail must be a whole number of seconds from 0 (no tail) to 600, such as 30s, 45 or 1m, but was '11m'",
        "--tail|''|--tail must be a whole number of seconds from 0 (no tail) to 600, such as 30s, 45 or 1m, but was ''",
      })
  void badValuesSayWhatIsWrong(String option, String value, String message) {
    assertThatThrownBy(() -> Options.parse(option, value))
        .isInstanceOf(UsageException.class)
        .hasMessage(message);
  }

  @ParameterizedTest
  @CsvSource({"30s, 30", "45, 45", "1m, 60", "10m, 600", "0, 0", "0s, 0", "0ms, 0"})
  void tails(String text, long seconds) throws UsageException {
    assertThat(Options.parse("--tail", text).tail()).isEqualTo(Duration.ofSeconds(seconds));
    assertThat(Options.parse("--tail=" + text).tail()).isEqualTo(Duration.ofSeconds(seconds));
  }

  @Test
  void noTailWithRealEndpointsOrWithoutTheSdk() throws UsageException {
    assertThat(Options.parse("--topology", "t.txt").tail()).isZero();
    assertThat(Options.parse("--client", "baseline").tail()).isZero();
    assertThat(Options.parse("--client", "sdk").tail()).isEqualTo(Duration.ofSeconds(30));
    assertThat(Options.parse("--topology", "t.txt", "--tail", "0").tail()).isZero();
    assertThatThrownBy(() -> Options.parse("--topology", "t.txt", "--tail", "20s"))
        .isInstanceOf(UsageException.class)
        .hasMessage(
            "--tail only applies with the embedded zones (with --topology nothing heals on a"
                + " schedule), but was 20s");
    assertThatThrownBy(() -> Options.parse("--client", "baseline", "--tail", "20"))
        .isInstanceOf(UsageException.class)
        .hasMessage(
            "--tail watches the sdk's return home and needs --client sdk or both, but was 20s with"
                + " --client baseline");
  }

  @Test
  void aBadTailStopsTheDrillWithExitCode2() {
    Run run = drill("--tail", "forever");
    assertThat(run.code()).isEqualTo(2);
    assertThat(run.out()).isEmpty();
    assertThat(run.err())
        .contains("drill: --tail must be a whole number of seconds")
        .contains("but was 'forever'");
  }

  @Test
  void unknownOptionAndMissingValue() {
    assertThatThrownBy(() -> Options.parse("--rat", "5"))
        .isInstanceOf(UsageException.class)
        .hasMessage("unknown option '--rat'");
    assertThatThrownBy(() -> Options.parse("--rate"))
        .isInstanceOf(UsageException.class)
        .hasMessage("--rate needs a value");
    assertThatThrownBy(() -> Options.parse("--topology", "t", "--home", "us-east-1"))
        .isInstanceOf(UsageException.class)
        .hasMessage(
            "--home must be 'region,zone' such as 'us-east-1,us-east-1a' but was 'us-east-1'");
  }

  @Test
  void reportPathsAreCheckedBeforeTheDrillRuns(@TempDir Path dir) throws Exception {
    Path file = Files.writeString(dir.resolve("a-file"), "x");
    for (String option : List.of("--report", "--json")) {
      assertThatThrownBy(() -> Options.parse(option, dir.toString()))
          .isInstanceOf(UsageException.class)
          .hasMessage(
              option
                  + " must be a file the drill can write, but was '"
                  + dir
                  + "': it is a directory");
      Path under = file.resolve("r.out");
      assertThatThrownBy(() -> Options.parse(option, under.toString()))
          .isInstanceOf(UsageException.class)
          .hasMessage(
              option
                  + " must be a file the drill can write, but was '"
                  + under
                  + "': "
                  + file.toAbsolutePath().normalize()
                  + " is not a directory");
      // Directories that do not exist yet are created when the report is written.
      Path deep = dir.resolve("new").resolve("dirs").resolve("r.out");
      Options o = Options.parse(option, deep.toString());
      assertThat(option.equals("--report") ? o.report() : o.json()).isEqualTo(deep);
      assertThat(dir.resolve("new")).doesNotExist();
    }
  }

  @Test
  void aReportInADirectoryThatCannotBeWrittenIsAnError(@TempDir Path dir) throws Exception {
    Path locked = Files.createDirectory(dir.resolve("locked"));
    Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("r-xr-xr-x"));
    try {
      assumeFalse(Files.isWritable(locked), "this user (root?) can write anywhere");
      Path report = locked.resolve("sub").resolve("r.html");
      assertThatThrownBy(() -> Options.parse("--report", report.toString()))
          .isInstanceOf(UsageException.class)
          .hasMessage(
              "--report must be a file the drill can write, but was '"
                  + report
                  + "': the directory "
                  + locked.toAbsolutePath().normalize()
                  + " is not writable");
    } finally {
      Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
  }

  @Test
  void aBadReportPathStopsTheDrillWithExitCode2BeforeItRuns(@TempDir Path dir) {
    Run run = drill("--duration", "7s", "--report", dir.toString());
    assertThat(run.code()).isEqualTo(2);
    assertThat(run.out()).as("nothing ran").isEmpty();
    assertThat(run.err())
        .contains("drill: --report must be a file the drill can write, but was '" + dir + "'")
        .contains("it is a directory");
    run = drill("--duration", "7s", "--json=" + dir);
    assertThat(run.code()).isEqualTo(2);
    assertThat(run.out()).isEmpty();
    assertThat(run.err()).contains("drill: --json must be a file the drill can write");
  }

  /** What {@link Drill#run} returned and printed. */
  record Run(int code, String out, String err) {}

  static Run drill(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code =
        Drill.run(
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8),
            args);
    return new Run(
        code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  @Test
  void commandLineErrorsGoToStderrWithExitCode2() {
    Run run = drill("--rate", "fast");
    assertThat(run.code()).isEqualTo(2);
    assertThat(run.out()).isEmpty();
    assertThat(run.err()).contains("drill: --rate must be a whole number").contains("--help");
  }

  @Test
  void helpListsEveryOption() {
    Run run = drill("--help");
    assertThat(run.code()).isZero();
    assertThat(run.out())
        .contains(
            "--duration",
            "--rate",
            "--seed",
            "--deadline",
            "--client",
            "--report",
            "--json",
            "--topology",
            "--home",
            "--health-path",
            "--tail");
  }
}
