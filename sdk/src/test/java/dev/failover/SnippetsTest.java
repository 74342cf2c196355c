package dev.failover;

import static org.assertj.core.api.Assertions.assertThat;

import dev.failover.testkit.FakeZones;
import dev.failover.testkit.ZoneFault;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The code shown in README.md, compiled and run here; {@link #readmeShowsTheseSnippets()} fails
 * when the README and this file drift apart.
 */
class SnippetsTest {

  @RegisterExtension static FakeZones zones = Zones3.zones();

  @Test
  void quickstart() throws IOException {
    Zones3.stub(zones);
    zones.zone("us-east-1a").fail(ZoneFault.refuse()); // the home zone is down
    String dirA = zones.zone("us-east-1a").endpoint(0).url();
    String dirB = zones.zone("us-east-1b").endpoint(0).url();
    String dirW = zones.zone("us-west-2a").endpoint(0).url();
    List<Integer> codes = new ArrayList<>();
    // region quickstart
    try (FailoverClient directory =
        FailoverClient.builder()
            .service("directory")
            .home("us-east-1", "us-east-1a")
            .endpoint(dirA, "us-east-1", "us-east-1a")
            .endpoint(dirB, "us-east-1", "us-east-1b")
            .endpoint(dirW, "us-west-2", "us-west-2a")
            .healthCheck(HealthCheck.http("/health"))
            .hedging(HedgePolicy.adaptive(0.05))
            .deadline(Duration.ofSeconds(2))
            .build()) {
      Request request = new Request.Builder().url("http://directory/api/v1/users/00u1").build();
      try (Response response = directory.newCall(request).execute()) {
        System.out.println(response.code() + " " + response.body().string());
        codes.add(response.code());
      }
    }
    // endregion
    assertThat(codes).containsExactly(200);
  }

  @Test
  void discovery() throws IOException {
    Zones3.stub(zones);
    String vip = zones.zone("us-east-1b").endpoint(1).url();
    String dirA = zones.zone("us-east-1a").endpoint(0).url();
    String dirB = zones.zone("us-east-1b").endpoint(0).url();
    String dirW = zones.zone("us-west-2a").endpoint(0).url();
    List<Integer> codes = new ArrayList<>();
    // region discovery
    EndpointSource.Push registry = EndpointSource.push();
    try (FailoverClient directory =
        FailoverClient.builder()
            .service("directory")
            .home("us-east-1", "us-east-1a")
            .endpointSource(registry)
            // Optional fallback: the client starts with it at once, even if the registry is down.
            .endpoint(vip, "us-east-1", "us-east-1b")
            .discovery(DiscoveryPolicy.defaults())
            .build()) {
      // From the registry's watch callback: the complete, current list each time.
      registry.update(
          List.of(
              Endpoint.of(dirA, "us-east-1", "us-east-1a"),
              Endpoint.of(dirB, "us-east-1", "us-east-1b"),
              Endpoint.of(dirW, "us-west-2", "us-west-2a")));
      Request request = new Request.Builder().url("http://directory/api/v1/users/00u1").build();
      try (Response response = directory.newCall(request).execute()) {
        System.out.println(response.code() + " " + directory.snapshot().discovery().status());
        codes.add(response.code());
      }
    }
    // endregion
    assertThat(codes).containsExactly(200);
  }

  @Test
  void discoveryDocShowsTheDiscoverySnippet() throws IOException {
    String doc =
        normalize(Files.readString(Path.of("..", "docs", "discovery.md"), StandardCharsets.UTF_8));
    String source =
        Files.readString(
            Path.of("src/test/java/dev/failover/SnippetsTest.java"), StandardCharsets.UTF_8);
    String code =
        region(source, "discovery")
            .lines()
            .filter(l -> !l.contains("codes.add"))
            .reduce("", (a, b) -> a + b + "\n");
    assertThat(doc).as("docs/discovery.md shows region discovery").contains(normalize(code));
  }

  @Test
  void listener() throws IOException {
    Zones3.stub(zones);
    List<String> log = new java.util.concurrent.CopyOnWriteArrayList<>();
    // region listener
    FailoverListener listener =
        new FailoverListener() {
          @Override
          public void onEjected(FailoverEvent.EndpointEjected event) {
            log.add(event.endpoint() + " ejected by " + event.cause());
          }

          @Override
          public void onZoneEvacuated(FailoverEvent.ZoneEvacuated event) {
            log.add(event.zone() + " evacuated: " + event.reason());
          }
        };
    // endregion
    zones.zone("us-east-1a").fail(ZoneFault.refuse());
    try (FailoverClient client = Zones3.client(zones).listener(listener).build()) {
      for (int i = 0; i < 12; i++) {
        try (Response r =
            client.newCall(new Request.Builder().url("http://directory/x").build()).execute()) {
          assertThat(r.code()).isEqualTo(200);
        }
      }
    }
    assertThat(log).anyMatch(line -> line.contains("ejected by CIRCUIT_BREAKER"));
  }

  @Test
  void readmeShowsTheseSnippets() throws IOException {
    String readme = normalize(Files.readString(Path.of("..", "README.md"), StandardCharsets.UTF_8));
    String source =
        Files.readString(
            Path.of("src/test/java/dev/failover/SnippetsTest.java"), StandardCharsets.UTF_8);
    for (String region : List.of("quickstart", "listener")) {
      String snippet = region(source, region);
      String code =
          snippet.lines().filter(l -> !l.contains("codes.add")).reduce("", (a, b) -> a + b + "\n");
      assertThat(readme).as("README.md shows region %s", region).contains(normalize(code));
    }
  }

  private static String region(String source, String name) {
    int start = source.indexOf("// region " + name);
    int end = source.indexOf("// endregion", start);
    String body = source.substring(source.indexOf('\n', start) + 1, end);
    return body;
  }

  /** Ignores indentation, which differs between the class and the README. */
  private static String normalize(String text) {
    return text.lines()
        .map(String::strip)
        .filter(l -> !l.isEmpty())
        .reduce("", (a, b) -> a + b + "\n");
  }
}
