package dev.failover.testkit;

import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.ok;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.Map;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The examples of docs/testing.md, compiled and run; the doc copies them region by region. */
class TestingGuideExamplesTest {

  // region declare
  @RegisterExtension
  static FakeZones zones =
      FakeZones.builder()
          .region("us-east-1", "us-east-1a", "us-east-1b", "us-east-1c")
          .region("us-west-2", "us-west-2a")
          .endpointsPerZone(2)
          .distance("us-east-1b", Duration.ofMillis(1))
          .distance("us-east-1c", Duration.ofMillis(1))
          .distance("us-west-2", Duration.ofMillis(35))
          .build();

  static OkHttpClient client =
      new OkHttpClient.Builder()
          .connectTimeout(Duration.ofSeconds(1))
          .readTimeout(Duration.ofSeconds(2)) // healthy calls must fit, even on a busy CI machine
          .retryOnConnectionFailure(false)
          .build();

  @BeforeAll
  static void stubs() {
    zones.stubAll(get(urlPathMatching("/users/.*")).willReturn(okJson("{\"name\":\"alice\"}")));
    zones.stubAll(get("/health").willReturn(ok("up")));
  }

  /** Returns "STATUS BODY". */
  static String call(String url) throws IOException {
    try (Response response = client.newCall(new Request.Builder().url(url).build()).execute()) {
      return response.code() + " " + response.body().string();
    }
  }

  @AfterAll
  static void closeClient() {
    client.dispatcher().executorService().shutdown();
    client.connectionPool().evictAll();
  }

  // endregion

  // region outage
  @Test
  void aRefusedZoneFailsFastAndReceivesNothing() throws IOException {
    FakeZone home = zones.zone("us-east-1a");
    home.fail(ZoneFault.refuse());

    String url = home.endpoint(0).url() + "/users/42";
    assertThatThrownBy(() -> call(url)).isInstanceOf(ConnectException.class);

    String other = zones.zone("us-east-1b").endpoint(0).url() + "/users/42";
    assertThat(call(other)).isEqualTo("200 {\"name\":\"alice\"}");
    assertThat(home.requestCount()).isZero();

    home.heal(); // same port, listening again
    assertThat(call(url)).startsWith("200");
  }

  // endregion

  // region hang
  @Test
  void aHungZoneHoldsEvenOpenConnections() throws IOException {
    String url = zones.zone("us-east-1a").endpoint(0).url() + "/users/42";
    assertThat(call(url)).startsWith("200"); // leaves a keep-alive connection in the pool

    zones.zone("us-east-1a").fail(ZoneFault.hang());

    assertThatThrownBy(() -> call(url)).isInstanceOf(SocketTimeoutException.class);
  }

  // endregion

  // region blackhole
  @Test
  void aBlackHoledZoneLetsConnectAttemptsTimeOut() {
    FakeZone zone = zones.zone("us-east-1c");
    zone.fail(ZoneFault.blackhole()); // as if its network vanished: no SYN is answered

    String url = zone.endpoint(0).url() + "/users/42";
    assertThatThrownBy(() -> call(url)) // after the client's connectTimeout, not refused
        .isInstanceOf(SocketTimeoutException.class)
        .hasMessageContaining("Connect timed out");
    assertThat(zone.requestCount()).isZero();
  }

  // endregion

  // region gray
  @Test
  void aGrayFailurePassesHealthChecks() throws IOException {
    FakeZone zone = zones.zone("us-east-1b");
    zone.fail(ZoneFault.errors(503, 1.0, Duration.ofSeconds(1)).sparing("/health"));

    String base = zone.endpoint(0).url();
    assertThat(call(base + "/health")).isEqualTo("200 up");
    assertThat(call(base + "/users/42")).startsWith("503");
  }

  // endregion

  // region counts
  @Test
  void countRequestsSinceAMarkWithoutHealthProbes() throws IOException {
    Mark mark = zones.mark();
    String base = zones.zone("us-west-2a").endpoint(1).url();
    call(base + "/health");
    call(base + "/users/1");
    call(base + "/users/2");

    FakeRegion west = zones.region("us-west-2");
    assertThat(west.requestCount(mark)).isEqualTo(3);
    assertThat(west.requestCount(mark, getRequestedFor(urlPathMatching("/users/.*")))).isEqualTo(2);
  }

  // endregion

  // region journal
  @Test
  void aPostArrivesOnceWithItsIdempotencyKey() throws IOException {
    zones.stubAll(post("/users").willReturn(ok()));
    zones.zone("us-east-1a").fail(ZoneFault.reset()); // the request arrives, the response is cut

    Request create =
        new Request.Builder()
            .url(zones.zone("us-east-1a").endpoint(0).url() + "/users")
            .header("Idempotency-Key", "create-bob-1")
            .post(RequestBody.create("{\"name\":\"bob\"}", MediaType.get("application/json")))
            .build();
    assertThatThrownBy(() -> client.newCall(create).execute().close())
        .isInstanceOf(IOException.class);

    assertThat(zones.findAll(postRequestedFor(urlEqualTo("/users"))))
        .singleElement()
        .satisfies(r -> assertThat(r.getHeader("Idempotency-Key")).isEqualTo("create-bob-1"));
  }

  // endregion

  // region descriptors
  @Test
  void endpointsAsDescriptorsAndProperties() {
    for (EndpointDescriptor e : zones.endpoints()) {
      assertThat(e.url()).startsWith("http://127.0.0.1:");
    }
    assertThat(zones.zone("us-west-2a").endpoints())
        .extracting(EndpointDescriptor::region)
        .containsOnly("us-west-2");

    Map<String, String> properties = zones.springProperties("directory");
    assertThat(properties)
        .containsEntry("failover.clients.directory.endpoints[0].zone", "us-east-1a")
        .containsEntry("failover.clients.directory.endpoints[7].region", "us-west-2");
  }

  // endregion

  // region timeline
  @Test
  void aScriptedOutage() throws Exception {
    Timeline drill =
        Timeline.builder()
            .phase("steady", Duration.ZERO, Duration.ofMillis(100), z -> {})
            .phase(
                "zone outage",
                Duration.ofMillis(100),
                Duration.ofMillis(200),
                z -> z.zone("us-east-1a").fail(ZoneFault.refuse()),
                z -> z.zone("us-east-1a").heal())
            .build();

    try (Timeline.Run run = drill.start(zones)) {
      // drive traffic here, labelling each result with run.currentPhase()
      assertThat(run.await(Duration.ofSeconds(5))).isTrue();
    }
    assertThat(zones.zone("us-east-1a").endpoint(0).fault()).isEmpty();
  }

  // endregion

  // region standalone
  @Test
  void withoutJUnit() throws IOException {
    try (FakeZones drillZones =
        FakeZones.builder().region("eu-west-1", "eu-west-1a", "eu-west-1b").build().start()) {
      drillZones.stubAll(get("/ping").willReturn(ok("pong")));
      assertThat(call(drillZones.zone("eu-west-1b").endpoint(0).url() + "/ping"))
          .isEqualTo("200 pong");
    } // every server, proxy, connection and thread is gone here
  }
  // endregion
}
