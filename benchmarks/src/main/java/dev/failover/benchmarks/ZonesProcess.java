package dev.failover.benchmarks;

import static com.github.tomakehurst.wiremock.client.WireMock.any;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.ok;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;

import dev.failover.testkit.FakeEndpoint;
import dev.failover.testkit.FakeZones;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The scenarios' fake zones, and the same zones in a JVM of their own: for the saturated-client
 * scenario, where the clients' JVM is made busy and paused on purpose while every zone stays
 * healthy (the zones then share the machine's cores with the busy threads, but not the clients'
 * JVM: no pause of the clients' collector or safepoints stops them).
 *
 * <p>The child prints one line per endpoint ({@code endpoint <url> <port> <region> <zone>}), then
 * {@code ready}, and serves until its standard input closes, or 10 minutes at most.
 */
final class ZonesProcess implements AutoCloseable {
  static final long MAX_LIFETIME_MINUTES = 10;

  /** An endpoint of the fake zones, wherever they run. */
  record Target(String url, int port, String region, String zone) {}

  private final Process process;
  private final List<Target> targets;

  private ZonesProcess(Process process, List<Target> targets) {
    this.process = process;
    this.targets = List.copyOf(targets);
  }

  /** The scenarios' topology: us-east-1 a/b/c and us-west-2 a/b, the drill's distances. */
  static FakeZones build() {
    return FakeZones.builder()
        .region("us-east-1", "us-east-1a", "us-east-1b", "us-east-1c")
        .region("us-west-2", "us-west-2a", "us-west-2b")
        .endpointsPerZone(2)
        .distance("us-east-1b", Duration.ofMillis(1))
        .distance("us-east-1c", Duration.ofMillis(1))
        .distance("us-west-2", Duration.ofMillis(35))
        .build();
  }

  /** Stubs the API and the health check on started zones. */
  static void stub(FakeZones zones) {
    zones.stubAll(get(urlPathMatching("/api/.*")).willReturn(ok("ok")));
    // Armeria probes with HEAD, the SDK and Spring Cloud LoadBalancer with GET.
    zones.stubAll(any(urlPathEqualTo("/health")).willReturn(ok("up")));
  }

  static List<Target> targets(FakeZones zones) {
    List<Target> list = new ArrayList<>();
    for (FakeEndpoint e : zones.fakeEndpoints()) {
      list.add(new Target(e.url(), e.port(), e.zone().region().name(), e.zone().name()));
    }
    return list;
  }

  List<Target> targets() {
    return targets;
  }

  /** Starts the zones in a child JVM and waits (60 s at most) until they serve. */
  static ZonesProcess start() throws IOException, InterruptedException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process p =
        new ProcessBuilder(
                java,
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                "-cp",
                System.getProperty("java.class.path"),
                ZonesProcess.class.getName())
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    CompletableFuture<List<Target>> ready =
        CompletableFuture.supplyAsync(
            () -> {
              List<Target> list = new ArrayList<>();
              try {
                BufferedReader in =
                    new BufferedReader(
                        new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
                String line;
                while ((line = in.readLine()) != null && !line.equals("ready")) {
                  String[] f = line.split(" ", -1);
                  if (f.length == 5 && f[0].equals("endpoint")) {
                    list.add(new Target(f[1], Integer.parseInt(f[2]), f[3], f[4]));
                  }
                }
                return list;
              } catch (IOException e) {
                throw new IllegalStateException(e);
              }
            });
    try {
      List<Target> list = ready.get(60, TimeUnit.SECONDS);
      if (list.isEmpty()) {
        throw new IOException("the zones' process ended without serving");
      }
      return new ZonesProcess(p, list);
    } catch (ExecutionException | TimeoutException e) {
      stop(p);
      throw new IOException("the zones' process did not start", e);
    }
  }

  @Override
  public void close() {
    stop(process);
  }

  private static void stop(Process p) {
    try {
      OutputStream stdin = p.getOutputStream();
      stdin.close();
      if (!p.waitFor(15, TimeUnit.SECONDS)) {
        p.destroy();
        if (!p.waitFor(5, TimeUnit.SECONDS)) {
          p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
      }
    } catch (IOException e) {
      p.destroyForcibly();
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  /**
   * The child: serves the zones until standard input closes, 10 minutes at most.
   *
   * @param args none
   * @throws Exception if the zones cannot start
   */
  public static void main(String[] args) throws Exception {
    try (FakeZones zones = build().start()) {
      stub(zones);
      // Warm up before saying ready: a cold WireMock answers its first requests slowly.
      for (int round = 0; round < 50; round++) {
        for (Target t : targets(zones)) {
          for (String path : new String[] {"/health", "/api/0"}) {
            HttpURLConnection c =
                (HttpURLConnection) URI.create(t.url() + path).toURL().openConnection();
            c.setConnectTimeout(5_000);
            c.setReadTimeout(5_000);
            try (InputStream body = c.getInputStream()) {
              body.readAllBytes();
            }
          }
        }
      }
      for (Target t : targets(zones)) {
        System.out.println(
            "endpoint " + t.url() + " " + t.port() + " " + t.region() + " " + t.zone());
      }
      System.out.println("ready");
      System.out.flush();
      Thread stdin =
          new Thread(
              () -> {
                try {
                  while (System.in.read() >= 0) {
                    // serve until the parent closes our input
                  }
                } catch (IOException e) {
                  // the parent is gone
                }
              },
              "zones-stdin");
      stdin.setDaemon(true);
      stdin.start();
      stdin.join(TimeUnit.MINUTES.toMillis(MAX_LIFETIME_MINUTES));
    }
  }
}
