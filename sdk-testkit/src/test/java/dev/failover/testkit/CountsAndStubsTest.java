package dev.failover.testkit;

import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.ok;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Request counts, marks, recorded requests, stubbing at each level, descriptors. */
class CountsAndStubsTest {

  @RegisterExtension
  static FakeZones zones =
      FakeZones.builder()
          .region("us-east-1", "us-east-1a", "us-east-1b")
          .region("us-west-2", "us-west-2a")
          .endpointsPerZone(2)
          .build();

  @BeforeEach
  void stubs() {
    zones.stubAll(get(urlPathMatching("/users/.*")).willReturn(ok("user")));
    zones.stubAll(get("/health").willReturn(ok("up")));
    zones.stubAll(post("/users").willReturn(ok("created")));
  }

  private static String url(String zone, int endpoint, String path) {
    return zones.zone(zone).endpoint(endpoint).url() + path;
  }

  @Test
  void countsPerEndpointZoneRegionAndEverything() {
    try (Http http = new Http()) {
      http.call(url("us-east-1a", 0, "/users/1"));
      http.call(url("us-east-1a", 1, "/users/2"));
      http.call(url("us-east-1a", 1, "/users/3"));
      http.call(url("us-east-1b", 0, "/users/4"));
      http.call(url("us-west-2a", 0, "/users/5"));
    }
    assertThat(zones.zone("us-east-1a").endpoint(0).requestCount()).isEqualTo(1);
    assertThat(zones.zone("us-east-1a").endpoint(1).requestCount()).isEqualTo(2);
    assertThat(zones.zone("us-east-1a").requestCount()).isEqualTo(3);
    assertThat(zones.region("us-east-1").requestCount()).isEqualTo(4);
    assertThat(zones.region("us-west-2").requestCount()).isEqualTo(1);
    assertThat(zones.requestCount()).isEqualTo(5);
  }

  @Test
  void countsSinceAMarkFilteredByAPattern() {
    FakeZone zone = zones.zone("us-east-1a");
    try (Http http = new Http()) {
      http.call(url("us-east-1a", 0, "/users/1"));
      Mark mark = zones.mark();
      http.call(url("us-east-1a", 0, "/health"));
      http.call(url("us-east-1a", 0, "/users/2"));
      http.call(url("us-east-1a", 1, "/users/3"));

      assertThat(zone.requestCount(mark)).isEqualTo(3);
      assertThat(zone.requestCount(mark, getRequestedFor(urlPathMatching("/users/.*"))))
          .isEqualTo(2);
      assertThat(zone.requestCount(getRequestedFor(urlPathMatching("/users/.*")))).isEqualTo(3);
      assertThat(zones.requestCount(mark)).isEqualTo(3);

      zones.resetCounts();
      http.call(url("us-east-1a", 0, "/users/4"));
      assertThat(zone.requestCount()).isEqualTo(1);
      assertThat(zone.requestCount(mark)).as("a mark survives resetCounts").isEqualTo(1);
    }
  }

  @Test
  void refusedRequestsAreNotCounted() {
    zones.zone("us-east-1b").fail(ZoneFault.refuse());
    Mark mark = zones.mark();
    try (Http http = new Http()) {
      http.call(url("us-east-1b", 0, "/users/1"));
      http.call(url("us-east-1a", 0, "/users/1"));
    }
    assertThat(zones.zone("us-east-1b").requestCount(mark)).isZero();
    assertThat(zones.zone("us-east-1a").requestCount(mark)).isEqualTo(1);
  }

  @Test
  void findAllReturnsRecordedRequestsWithHeaders() {
    try (Http http = new Http()) {
      http.post(url("us-east-1b", 1, "/users"), "{\"name\":\"bob\"}", "key-7");
    }
    assertThat(zones.findAll(postRequestedFor(urlEqualTo("/users"))))
        .singleElement()
        .satisfies(
            request -> {
              assertThat(request.getHeader("Idempotency-Key")).isEqualTo("key-7");
              assertThat(request.getBodyAsString()).isEqualTo("{\"name\":\"bob\"}");
            });
    assertThat(zones.zone("us-east-1b").endpoint(0).findAll(postRequestedFor(urlEqualTo("/users"))))
        .isEmpty();
  }

  @Test
  void stubsPerZoneAndPerEndpoint() {
    zones.zone("us-west-2a").stubFor(get("/where").willReturn(ok("west")));
    zones.region("us-east-1").stubFor(get("/where").willReturn(ok("east")));
    zones.zone("us-east-1b").endpoint(1).stubFor(get("/where").willReturn(ok("east-1b#1")));
    try (Http http = new Http()) {
      assertThat(http.call(url("us-west-2a", 1, "/where")).body()).isEqualTo("west");
      assertThat(http.call(url("us-east-1a", 0, "/where")).body()).isEqualTo("east");
      assertThat(http.call(url("us-east-1b", 0, "/where")).body()).isEqualTo("east");
      assertThat(http.call(url("us-east-1b", 1, "/where")).body()).isEqualTo("east-1b#1");
    }
  }

  @Test
  void endpointsAreDescribedAsPlainData() {
    assertThat(zones.endpoints()).hasSize(6);
    assertThat(zones.zone("us-east-1b").endpoints())
        .extracting(EndpointDescriptor::region, EndpointDescriptor::zone)
        .containsOnly(org.assertj.core.groups.Tuple.tuple("us-east-1", "us-east-1b"));
    assertThat(zones.endpoints())
        .allSatisfy(e -> assertThat(e.url()).matches("http://127\\.0\\.0\\.1:\\d+"));
    assertThat(zones.endpoints()).extracting(EndpointDescriptor::url).doesNotHaveDuplicates();
    assertThat(zones.region("us-west-2").zones())
        .extracting(FakeZone::name)
        .containsExactly("us-west-2a");
    assertThat(zones.zones())
        .extracting(FakeZone::name)
        .containsExactly("us-east-1a", "us-east-1b", "us-west-2a");
  }

  @Test
  void springPropertiesListEveryEndpoint() {
    Map<String, String> properties = zones.springProperties("directory");

    assertThat(properties).hasSize(18);
    EndpointDescriptor last = zones.endpoints().get(5);
    assertThat(properties)
        .containsEntry("failover.clients.directory.endpoints[5].url", last.url())
        .containsEntry("failover.clients.directory.endpoints[5].region", "us-west-2")
        .containsEntry("failover.clients.directory.endpoints[5].zone", "us-west-2a");
  }

  @Test
  void unknownNamesAreRejectedWithTheKnownOnes() {
    assertThatThrownBy(() -> zones.zone("eu-west-1a"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("no zone named 'eu-west-1a'; zones are [us-east-1a, us-east-1b, us-west-2a]");
    assertThatThrownBy(() -> zones.region("eu-west-1"))
        .hasMessage("no region named 'eu-west-1'; regions are [us-east-1, us-west-2]");
    assertThatThrownBy(() -> zones.zone("us-east-1a").endpoint(2))
        .isInstanceOf(IndexOutOfBoundsException.class)
        .hasMessage("endpoint index must be in [0, 2) but was 2");
  }
}
