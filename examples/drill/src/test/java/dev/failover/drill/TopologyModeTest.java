package dev.failover.drill;

import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.ok;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static dev.failover.drill.MiniJson.arr;
import static dev.failover.drill.MiniJson.obj;
import static org.assertj.core.api.Assertions.assertThat;

import dev.failover.testkit.FakeZones;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** --topology: the drill against endpoints it did not start (here, fake zones of the test). */
class TopologyModeTest {

  @RegisterExtension
  static FakeZones zones =
      FakeZones.builder()
          .region("eu-west-1", "eu-west-1a", "eu-west-1b")
          .region("eu-central-1", "eu-central-1a")
          .distance("eu-central-1", Duration.ofMillis(20))
          .build();

  @Test
  void drillsRealEndpointsInOnePhaseNamedAll(@TempDir Path dir) throws Exception {
    zones.stubAll(get(urlPathMatching("/users/[0-9]+")).willReturn(okJson("{\"id\":1}")));
    zones.stubAll(get("/ping").willReturn(ok("up")));
    Path file = TopologyFiles.write(zones, dir.resolve("topology.txt"));
    // Topology mode warms no zone (real endpoints are warm): these are cold, in this JVM, and a
    // cold JVM may answer nothing within the baseline's 333 ms attempt timeout for seconds. Warm
    // them as the drill warms its own zones, so that every call of the drill is answered.
    warm(zones);

    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code =
        Drill.run(
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8),
            "--topology",
            file.toString(),
            "--home",
            "eu-west-1,eu-west-1b",
            "--health-path",
            "/ping",
            "--duration",
            "3s",
            "--rate",
            "30",
            "--report",
            dir.resolve("r.html").toString(),
            "--json",
            dir.resolve("r.json").toString());
    assertThat(code).as("stderr: %s", err).isZero();

    Map<String, Object> json = obj(MiniJson.parse(Files.readString(dir.resolve("r.json"))));
    assertThat(obj(json.get("drill")).get("mode")).isEqualTo("topology");
    for (String client : new String[] {"sdk", "baseline"}) {
      Map<String, Object> c = obj(obj(json.get("clients")).get(client));
      assertThat(arr(c.get("phases")))
          .singleElement()
          .satisfies(
              p -> {
                assertThat(obj(p).get("phase")).isEqualTo("all");
                assertThat(obj(p).get("calls")).isEqualTo(90.0);
                assertThat(obj(p).get("ok")).isEqualTo(90.0);
              });
    }
    Map<String, Object> sdk =
        obj(arr(obj(obj(json.get("clients")).get("sdk")).get("phases")).get(0));
    assertThat((Double) obj(sdk.get("share_by_zone")).get("eu-west-1b")).isGreaterThan(0.8);
    // Every request the clients sent was a GET /users/{id} or a health check on /ping.
    assertThat(zones.requestCount())
        .isEqualTo(
            zones.requestCount(
                    com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor(
                        urlPathMatching("/users/[0-9]+")))
                + zones.requestCount(
                    com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor(
                        urlPathMatching("/ping"))));
  }

  /** Until three rounds in a row answer every GET /users/{id} with a p99 of at most 100 ms. */
  static void warm(FakeZones zones) {
    List<DrillEndpoint> endpoints = new ArrayList<>();
    zones.endpoints().forEach(e -> endpoints.add(new DrillEndpoint(e.url(), e.region(), e.zone())));
    Random random = new Random(7);
    ZoneWarmUp.Result warm =
        ZoneWarmUp.run(
            endpoints, () -> "/users/" + (1 + random.nextInt(1000)), 200, Duration.ofSeconds(60));
    assertThat(warm.warm()).as("the test's zones warmed up: %s", warm.describe()).isTrue();
    zones.resetCounts(); // the request counts below are the drill's only
  }

  @Test
  void aHomeRegionWithoutEndpointsIsAnError(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("t.txt");
    Files.writeString(file, "eu-west-1,eu-west-1a," + zones.zone("eu-west-1a").endpoint(0).url());
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code =
        Drill.run(
            new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8),
            "--topology",
            file.toString(),
            "--home",
            "us-east-1,us-east-1a",
            "--duration",
            "1s");
    assertThat(code).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .contains("--home region 'us-east-1' has no endpoint in " + file);
  }

  @Test
  void aHomeZoneWithoutEndpointsInTheHomeRegionIsAnError(@TempDir Path dir) throws Exception {
    Path file = TopologyFiles.write(zones, dir.resolve("t.txt"));
    // A zone of no region, and a zone of another region: every home figure would read 0%.
    OptionsTest.Run run =
        OptionsTest.drill(
            "--topology", file.toString(), "--home", "eu-west-1,eu-west-1z", "--duration", "1s");
    assertThat(run.code()).as("stderr: %s", run.err()).isEqualTo(2);
    assertThat(run.err())
        .contains(
            "drill: --home 'eu-west-1,eu-west-1z': zone 'eu-west-1z' has no endpoint in region"
                + " 'eu-west-1' in "
                + file
                + "; the region's zones are [eu-west-1a, eu-west-1b]");
    run =
        OptionsTest.drill(
            "--topology", file.toString(), "--home", "eu-west-1,eu-central-1a", "--duration", "1s");
    assertThat(run.code()).as("stderr: %s", run.err()).isEqualTo(2);
    assertThat(run.err())
        .contains(
            "drill: --home 'eu-west-1,eu-central-1a': zone 'eu-central-1a' has no endpoint in"
                + " region 'eu-west-1' in "
                + file
                + " (it is in eu-central-1)");
  }
}
