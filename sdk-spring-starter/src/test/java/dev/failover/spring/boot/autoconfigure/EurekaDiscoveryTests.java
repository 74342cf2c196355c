package dev.failover.spring.boot.autoconfigure;

import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import dev.failover.Endpoint;
import dev.failover.FailoverClient;
import dev.failover.FailoverSnapshot;
import dev.failover.testkit.FakeEndpoint;
import dev.failover.testkit.FakeZones;
import dev.failover.testkit.Mark;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.cloud.netflix.eureka.server.EnableEurekaServer;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Import;
import org.springframework.web.client.RestClient;

/**
 * The starter against a real Eureka server, started in the test on a random port, with instances
 * registered through Eureka's REST API that point at testkit zones; the application uses Spring
 * Cloud's Eureka client and {@code failover.clients.directory.discovery.service-id}, configured by
 * {@code discovery-example.yml} (the example of docs/spring-boot.md) with faster timings.
 */
class EurekaDiscoveryTests {
  private static final Duration START = Duration.ofSeconds(120);
  private static final Duration DEADLINE = Duration.ofSeconds(60);
  private static final String SERVICE = "directory-service";

  @RegisterExtension
  static final FakeZones zones =
      FakeZones.builder()
          .region("us-east-1", "us-east-1a", "us-east-1b")
          .region("us-west-2", "us-west-2a")
          .build();

  @Test
  void followsEurekaAndServesFromTheLastGoodListWhenItStops() throws Exception {
    zones.stubAll(get(urlPathMatching("/users/.*")).willReturn(okJson("{\"id\":42}")));
    FakeEndpoint a = zones.zone("us-east-1a").endpoint(0);
    FakeEndpoint b = zones.zone("us-east-1b").endpoint(0);
    FakeEndpoint w = zones.zone("us-west-2a").endpoint(0);
    ConfigurableApplicationContext eureka = startEureka();
    try {
      String eurekaUrl =
          "http://127.0.0.1:" + eureka.getEnvironment().getProperty("local.server.port");
      Registrations registry = new Registrations(eurekaUrl + "/eureka");
      registry.register("dir-a", a, "us-east-1");
      registry.register("dir-b", b, "us-east-1");

      try (ConfigurableApplicationContext app = startApp(eurekaUrl + "/eureka/")) {
        FailoverClient client = app.getBean("directoryFailoverClient", FailoverClient.class);
        RestClient directory = app.getBean("directoryRestClient", RestClient.class);
        RegistryStatus status = app.getBean(RegistryStatus.class);
        await()
            .atMost(DEADLINE)
            .until(() -> status.current() && client.snapshot().discovery().updates() >= 1);
        assertThat(addresses(client)).containsExactlyInAnyOrder(a.url(), b.url());
        assertThat(client.snapshot().discovery().source())
            .isEqualTo("spring-cloud-discovery " + SERVICE);

        // Calls succeed, and first attempts go to the home zone.
        Mark mark = zones.mark();
        for (int i = 0; i < 5; i++) {
          assertThat(directory.get().uri("/users/42").retrieve().body(String.class))
              .isEqualTo("{\"id\":42}");
        }
        assertThat(zones.zone("us-east-1a").requestCount(mark)).isEqualTo(5);

        // Without fallback endpoints, start-up waits for Eureka's first list.
        try (ConfigurableApplicationContext bare =
            startAppWithoutFallback(eurekaUrl + "/eureka/")) {
          FailoverClient first = bare.getBean("directoryFailoverClient", FailoverClient.class);
          assertThat(addresses(first)).containsExactlyInAnyOrder(a.url(), b.url());
          assertThat(first.snapshot().discovery().updates()).isGreaterThanOrEqualTo(1);
        }

        // An instance added in Eureka is followed.
        registry.register("dir-w", w, "us-west-2");
        await()
            .atMost(DEADLINE)
            .until(() -> addresses(client).equals(Set.of(a.url(), b.url(), w.url())));
        assertThat(client.endpoints()).contains(Endpoint.of(w.url(), "us-west-2", "us-west-2a"));

        // An instance removed from Eureka is followed (one of three: not too many at once).
        registry.cancel("dir-b");
        await().atMost(DEADLINE).until(() -> addresses(client).equals(Set.of(a.url(), w.url())));
        await().atMost(DEADLINE).until(() -> status.describe().startsWith("CURRENT, 2 endpoints"));

        // Eureka stops: its client answers from a cache nobody refreshes; after the heartbeat
        // timeout the list is held, and calls still succeed from the last good list.
        eureka.close();
        await()
            .atMost(DEADLINE)
            .until(
                () -> client.snapshot().discovery().status() == FailoverSnapshot.ListStatus.HELD);
        FailoverSnapshot.Discovery held = client.snapshot().discovery();
        assertThat(held.reason()).contains("no HeartbeatEvent");
        assertThat(held.heldSince()).isNotNull();
        assertThat(held.endpoints()).isEqualTo(2);
        assertThat(addresses(client)).containsExactlyInAnyOrder(a.url(), w.url());
        Mark afterStop = zones.mark();
        for (int i = 0; i < 3; i++) {
          assertThat(directory.get().uri("/users/42").retrieve().body(String.class))
              .isEqualTo("{\"id\":42}");
        }
        assertThat(zones.zone("us-east-1a").requestCount(afterStop)).isEqualTo(3);
        assertThat(status.describe()).startsWith("HELD, 2 endpoints").contains("HeartbeatEvent");

        MeterRegistry meters = app.getBean(MeterRegistry.class);
        await()
            .atMost(DEADLINE)
            .until(
                () ->
                    meters
                            .get("failover.discovery.state")
                            .tags("client.name", "directory", "state", "held")
                            .gauge()
                            .value()
                        == 1);
        assertThat(
                meters
                    .get("failover.discovery.held")
                    .tag("client.name", "directory")
                    .functionCounter()
                    .count())
            .isGreaterThanOrEqualTo(1);
      }
    } finally {
      eureka.close(); // again if the test stopped it: close() is idempotent
    }
  }

  @Test
  void fallbackEndpointsServeWhileTheRegistryIsDownAtStart() throws Exception {
    zones.stubAll(get(urlPathMatching("/users/.*")).willReturn(okJson("{\"id\":42}")));
    try (ConfigurableApplicationContext app = startApp(closedPortUrl())) {
      FailoverClient client = app.getBean("directoryFailoverClient", FailoverClient.class);
      RestClient directory = app.getBean("directoryRestClient", RestClient.class);

      assertThat(addresses(client))
          .containsExactlyInAnyOrder(
              zones.zone("us-east-1a").endpoint(0).url(),
              zones.zone("us-east-1b").endpoint(0).url());
      Mark mark = zones.mark();
      assertThat(directory.get().uri("/users/42").retrieve().body(String.class))
          .isEqualTo("{\"id\":42}");
      assertThat(zones.zone("us-east-1a").requestCount(mark)).isEqualTo(1);

      // The registry's answers (empty, then failures once no heartbeat came) are not applied.
      await().atMost(DEADLINE).until(() -> client.snapshot().discovery().held() >= 1);
      FailoverSnapshot.Discovery discovery = client.snapshot().discovery();
      assertThat(discovery.status()).isEqualTo(FailoverSnapshot.ListStatus.FALLBACK);
      assertThat(discovery.reason()).isNotNull();
      assertThat(discovery.updates()).isZero();
      assertThat(discovery.endpoints()).isEqualTo(2);
      assertThat(directory.get().uri("/users/42").retrieve().body(String.class))
          .isEqualTo("{\"id\":42}");
    }
  }

  @Test
  void aBadDiscoveryPropertyFailsStartUpNamingIt() {
    Throwable failure =
        catchThrowable(
            () ->
                startApp(
                        closedPortUrl(),
                        "--failover.clients.directory.discovery.max-removal-percent=150")
                    .close());

    FailoverConfigurationException cause = find(failure);
    assertThat(cause.property())
        .isEqualTo("failover.clients.directory.discovery.max-removal-percent");
    assertThat(cause.value()).isEqualTo("150");
    assertThat(cause.getMessage()).contains("must be a percentage between 1 and 100");
  }

  private static FailoverConfigurationException find(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof FailoverConfigurationException e) {
        return e;
      }
    }
    throw new AssertionError("no FailoverConfigurationException in", failure);
  }

  private static Set<String> addresses(FailoverClient client) {
    return client.endpoints().stream().map(Endpoint::address).collect(Collectors.toSet());
  }

  /** A Eureka server on a random port, without peers, that serves changes at once. */
  private static ConfigurableApplicationContext startEureka() throws Exception {
    return startBounded(
        new SpringApplicationBuilder(EurekaServerApp.class)
            .web(WebApplicationType.SERVLET)
            .properties("spring.config.name=eureka-test"),
        "--server.port=0",
        "--server.address=127.0.0.1",
        "--spring.application.name=eureka",
        "--spring.main.banner-mode=off",
        "--failover.enabled=false",
        "--eureka.client.register-with-eureka=false",
        "--eureka.client.fetch-registry=false",
        "--eureka.server.enable-self-preservation=false",
        "--eureka.server.wait-time-in-ms-when-sync-empty=0",
        "--eureka.server.use-read-only-response-cache=false",
        "--eureka.dashboard.enabled=false");
  }

  /**
   * The application: discovery-example.yml, with the fallback endpoints at testkit zones a and b,
   * and timings for a test (Eureka fetches every second, the list is held after 10 s without one).
   */
  private static ConfigurableApplicationContext startApp(String eurekaUrl, String... more)
      throws Exception {
    String d = "--failover.clients.directory.";
    List<String> args = new ArrayList<>(commonArgs(eurekaUrl));
    args.addAll(
        List.of(
            // A list from a higher source replaces the whole list: each entry in full.
            d + "endpoints[0].url=" + zones.zone("us-east-1a").endpoint(0).url(),
            d + "endpoints[0].region=us-east-1",
            d + "endpoints[0].zone=us-east-1a",
            d + "endpoints[1].url=" + zones.zone("us-east-1b").endpoint(0).url(),
            d + "endpoints[1].region=us-east-1",
            d + "endpoints[1].zone=us-east-1b"));
    args.addAll(List.of(more));
    return startBounded(
        new SpringApplicationBuilder(CallerApp.class)
            .web(WebApplicationType.NONE)
            .properties("spring.config.name=discovery-example"),
        args.toArray(String[]::new));
  }

  /** The application without discovery-example.yml, and so without fallback endpoints. */
  private static ConfigurableApplicationContext startAppWithoutFallback(String eurekaUrl)
      throws Exception {
    String d = "--failover.clients.directory.";
    List<String> args = new ArrayList<>(commonArgs(eurekaUrl));
    args.addAll(
        List.of(
            "--failover.home.region=us-east-1",
            "--failover.home.zone=us-east-1a",
            d + "discovery.service-id=" + SERVICE,
            // Generous on a busy machine: start-up waits for Eureka's first fetch.
            d + "discovery.start-timeout=60s"));
    return startBounded(
        new SpringApplicationBuilder(CallerApp.class)
            .web(WebApplicationType.NONE)
            .properties("spring.config.name=no-config-file"),
        args.toArray(String[]::new));
  }

  private static List<String> commonArgs(String eurekaUrl) {
    String d = "--failover.clients.directory.";
    return List.of(
        "--eureka.client.service-url.defaultZone=" + eurekaUrl,
        "--eureka.client.registry-fetch-interval-seconds=1",
        "--eureka.client.disable-delta=true",
        "--eureka.client.healthcheck.enabled=false",
        "--eureka.client.register-with-eureka=false",
        // A caller only: it does not register itself (and has no web server to offer).
        "--spring.cloud.service-registry.auto-registration.enabled=false",
        // Jersey is here only for the Eureka server: the client uses Spring's RestClient.
        "--eureka.client.jersey.enabled=false",
        "--spring.application.name=directory-caller",
        "--spring.main.banner-mode=off",
        d + "discovery.refresh-interval=1s",
        d + "discovery.heartbeat-timeout=10s",
        // Room for a slow first call on a busy machine: the test counts first attempts.
        d + "deadline=10s");
  }

  /** Starts an application, failing the test if it takes longer than two minutes. */
  private static ConfigurableApplicationContext startBounded(
      SpringApplicationBuilder builder, String... args) throws Exception {
    CompletableFuture<ConfigurableApplicationContext> started =
        CompletableFuture.supplyAsync(
            () -> builder.run(args),
            task -> {
              Thread t = new Thread(task, "eureka-test-start");
              t.setDaemon(true);
              t.start();
            });
    try {
      return started.get(START.toSeconds(), TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      started.thenAccept(ConfigurableApplicationContext::close);
      throw new AssertionError("the application did not start within " + START, e);
    } catch (ExecutionException e) {
      throw e.getCause() instanceof Exception cause ? cause : e;
    }
  }

  private static String closedPortUrl() throws IOException {
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    return "http://127.0.0.1:" + port + "/eureka/";
  }

  /** Registers and cancels instances through Eureka's REST API, as a non-Java service would. */
  private static final class Registrations {
    private final HttpClient http =
        HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private final String base;

    Registrations(String base) {
      this.base = base;
    }

    void register(String id, FakeEndpoint endpoint, String region) throws Exception {
      long now = System.currentTimeMillis();
      String body =
          """
          {"instance": {
            "instanceId": "%s", "app": "%s", "hostName": "127.0.0.1", "ipAddr": "127.0.0.1",
            "vipAddress": "%s", "secureVipAddress": "%s", "status": "UP",
            "port": {"$": %d, "@enabled": "true"}, "securePort": {"$": 443, "@enabled": "false"},
            "dataCenterInfo": {
              "@class": "com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo", "name": "MyOwn"},
            "leaseInfo": {"renewalIntervalInSecs": 30, "durationInSecs": 600},
            "metadata": {"zone": "%s", "region": "%s"},
            "lastUpdatedTimestamp": "%d", "lastDirtyTimestamp": "%d"}}
          """
              .formatted(
                  id,
                  SERVICE.toUpperCase(java.util.Locale.ROOT),
                  SERVICE,
                  SERVICE,
                  endpoint.port(),
                  endpoint.zone().name(),
                  region,
                  now,
                  now);
      send(
          HttpRequest.newBuilder(
                  URI.create(base + "/apps/" + SERVICE.toUpperCase(java.util.Locale.ROOT)))
              .header("Content-Type", "application/json")
              .POST(HttpRequest.BodyPublishers.ofString(body))
              .build());
    }

    void cancel(String id) throws Exception {
      send(
          HttpRequest.newBuilder(
                  URI.create(
                      base + "/apps/" + SERVICE.toUpperCase(java.util.Locale.ROOT) + "/" + id))
              .DELETE()
              .build());
    }

    private void send(HttpRequest request) throws Exception {
      HttpResponse<String> response =
          http.send(
              HttpRequest.newBuilder(request, (k, v) -> true)
                  .timeout(Duration.ofSeconds(30))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(response.statusCode())
          .as("%s %s: %s", request.method(), request.uri(), response.body())
          .isBetween(200, 299);
    }
  }

  /** A standalone Eureka server. */
  @TestConfiguration(proxyBeanMethods = false)
  @EnableAutoConfiguration
  @EnableEurekaServer
  static class EurekaServerApp {}

  /** The calling application: auto-configuration only, and the docs' RegistryStatus. */
  @TestConfiguration(proxyBeanMethods = false)
  @EnableAutoConfiguration
  @Import(RegistryStatus.class)
  static class CallerApp {}
}
