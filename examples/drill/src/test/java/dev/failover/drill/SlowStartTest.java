package dev.failover.drill;

import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.ok;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.assertj.core.api.Assertions.assertThat;

import dev.failover.testkit.FakeZones;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A slow client build (a cold JVM on a busy machine) shifts no call: the drill's clock starts only
 * once the clients are built and the warm-up has ended. Real time, real servers (--topology).
 */
class SlowStartTest {
  static final int SERVER_MS = 20;
  static final long SLOW_BUILD_MS = 2000;

  @RegisterExtension
  static FakeZones zones = FakeZones.builder().region("eu-west-1", "eu-west-1a").build();

  @Test
  void latencyStaysNearTheServersWhenTheClientsTakeLongToBuild(@TempDir Path dir) throws Exception {
    zones.stubAll(
        get(urlPathMatching("/users/[0-9]+"))
            .willReturn(okJson("{\"id\":1}").withFixedDelay(SERVER_MS)));
    zones.stubAll(get("/health").willReturn(ok("up")));
    Path file = TopologyFiles.write(zones, dir.resolve("topology.txt"));
    ByteArrayOutputStream out = new ByteArrayOutputStream();

    DrillResult result =
        Drill.execute(
            Options.parse(
                "--topology",
                file.toString(),
                "--duration",
                "2s",
                "--rate",
                "20",
                "--report",
                dir.resolve("r.html").toString()),
            new PrintStream(out, true, StandardCharsets.UTF_8),
            () -> {
              try {
                Thread.sleep(SLOW_BUILD_MS); // the clients took 2 s to build
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            });

    assertThat(result.clients()).hasSize(2);
    for (Stats st : result.clients()) {
      Stats.Summary total = st.total();
      assertThat(total.calls()).as(st.client).isEqualTo(40);
      assertThat(total.latency()).as(st.client).isNotNull();
      // Before the fix every call carried the build's 1.5 s beyond the old 500 ms allowance.
      // The margin is for a loaded 2-core machine; the slow build is four times larger.
      assertThat(total.latency().p50())
          .as("%s p50 ms; console:%n%s", st.client, out)
          .isBetween((double) SERVER_MS, SERVER_MS + 500.0);
    }
    assertThat(result.events())
        .filteredOn(e -> e.text().startsWith("warm-up begins"))
        .singleElement()
        .satisfies(e -> assertThat(e.warmUp()).isTrue());
  }
}
