package dev.failover;

import static com.github.tomakehurst.wiremock.client.WireMock.any;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.serviceUnavailable;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.failover.testkit.FakeZones;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The SDK's meters with a real {@link SimpleMeterRegistry}, over real sockets against WireMock
 * zones: names, tags (Spring Boot's {@code client.name}, lowercase values), no NaN, and meters that
 * follow the endpoints a registry reports.
 */
class FailoverMetricsTest {

  @RegisterExtension static FakeZones zones = Zones3.zones();

  /** Tag keys the meters may carry; anything else (such as the old {@code client}) is a bug. */
  private static final Set<String> TAG_KEYS =
      Set.of(
          "client.name",
          "method",
          "outcome",
          "attempt.kind",
          "region",
          "zone",
          "endpoint",
          "state",
          "action",
          "cause");

  /** Tags whose values are names the SDK chose, which must be lowercase. */
  private static final Set<String> LOWERCASE_KEYS =
      Set.of("outcome", "attempt.kind", "state", "action", "cause");

  private final MeterRegistry registry = new SimpleMeterRegistry();

  @BeforeEach
  void stub() {
    Zones3.stub(zones);
  }

  private static Request get(String path) {
    return new Request.Builder().url("http://directory" + path).build();
  }

  private static void call(FailoverClient client, String path, int status) throws IOException {
    try (Response response = client.newCall(get(path)).execute()) {
      assertThat(response.code()).isEqualTo(status);
    }
  }

  @Test
  void aRetriedCallIsCountedByZoneKindAndOutcomeUnderBootStyleTags() throws IOException {
    zones.zone("us-east-1a").stubFor(any(anyUrl()).willReturn(serviceUnavailable()));
    FailoverMetrics metrics = new FailoverMetrics();
    try (FailoverClient client =
        Zones3.client(zones).backoff(Duration.ZERO, Duration.ZERO).listener(metrics).build()) {
      metrics.monitor(client).bindTo(registry);
      call(client, "/users/42", 200);

      assertThat(
              registry
                  .get("failover.calls")
                  .tags("client.name", "directory", "method", "GET", "outcome", "success")
                  .timer()
                  .count())
          .isEqualTo(1);
      assertThat(
              registry
                  .get("failover.attempts")
                  .tags("client.name", "directory", "region", "us-east-1", "zone", "us-east-1a")
                  .tags("attempt.kind", "first", "outcome", "unavailable")
                  .counter()
                  .count())
          .isEqualTo(1);
      assertThat(
              registry
                  .get("failover.attempts")
                  .tags("zone", "us-east-1b", "attempt.kind", "retry", "outcome", "success")
                  .counter()
                  .count())
          .isEqualTo(1);
      assertThat(registry.find("failover.attempts").counters()).hasSize(2);
      assertThat(
              registry
                  .get("failover.retries")
                  .tags("client.name", "directory", "outcome", "unavailable")
                  .counter()
                  .count())
          .isEqualTo(1);
      double latencies =
          registry.find("failover.endpoint.latency").timers().stream()
              .mapToLong(t -> t.count())
              .sum();
      assertThat(latencies).isEqualTo(2);
      // Every endpoint has its meters from the start: 6 endpoints, 5 states each.
      assertThat(registry.find("failover.endpoint.outstanding").gauges()).hasSize(6);
      assertThat(registry.find("failover.endpoint.state").gauges()).hasSize(6 * 5);
      assertThat(registry.find("failover.endpoint.ejections").counters()).hasSize(6 * 2);
      String someEndpoint = zones.zone("us-east-1b").endpoint(0).url();
      assertThat(
              registry
                  .get("failover.endpoint.state")
                  .tags("endpoint", someEndpoint, "state", "healthy")
                  .gauge()
                  .value())
          .isEqualTo(1);
      assertThat(
              registry
                  .get("failover.endpoint.state")
                  .tags("endpoint", someEndpoint, "state", "ejected")
                  .gauge()
                  .value())
          .isZero();
      // Three zones, four statuses each.
      assertThat(registry.find("failover.zone.state").gauges()).hasSize(3 * 4);
      assertThat(
              registry
                  .get("failover.zone.state")
                  .tags("zone", "us-west-2a", "state", "active")
                  .gauge()
                  .value())
          .isEqualTo(1);
      assertThat(registry.get("failover.budget.tokens").gauge().value()).isPositive();
      assertThat(registry.get("failover.panic").gauge().value()).isZero();
      assertThat(registry.get("failover.hedges").tag("action", "sent").counter().count()).isZero();

      for (Meter meter : registry.getMeters()) {
        assertThat(meter.getId().getName()).startsWith("failover.");
        List<Tag> tags = meter.getId().getTags();
        assertThat(tags).extracting(Tag::getKey).isSubsetOf(TAG_KEYS).contains("client.name");
        for (Tag tag : tags) {
          if (LOWERCASE_KEYS.contains(tag.getKey())) {
            assertThat(tag.getValue())
                .as(meter.getId().toString())
                .isEqualTo(tag.getValue().toLowerCase(Locale.ROOT));
          }
        }
      }
    }
  }

  /** Made-up methods do not make a series each: they share {@code method="_OTHER"}. */
  @Test
  void aMethodOutsideTheKnownNineIsCountedAsOther() throws IOException {
    FailoverMetrics metrics = new FailoverMetrics();
    try (FailoverClient client = Zones3.client(zones).listener(metrics).build()) {
      metrics.monitor(client).bindTo(registry);
      for (String method : new String[] {"PURGE", "MKCALENDAR", "get", "GET"}) {
        Request request =
            new Request.Builder().url("http://directory/users/42").method(method, null).build();
        try (Response r = client.newCall(request).execute()) {
          assertThat(r.code()).isEqualTo(200);
        }
      }
    }
    assertThat(registry.get("failover.calls").tags("method", "_OTHER").timer().count())
        .isEqualTo(3);
    assertThat(registry.get("failover.calls").tags("method", "GET").timer().count()).isEqualTo(1);
    assertThat(registry.find("failover.calls").timers()).hasSize(2);
  }

  @Test
  void noGaugeReportsNaNWithHedgingOffOnOrAfterClose() {
    FailoverMetrics metrics = new FailoverMetrics();
    FailoverClient plain = Zones3.client(zones).listener(metrics).build();
    FailoverClient hedged =
        Zones3.client(zones)
            .service("catalog")
            .hedging(HedgePolicy.fixed(Duration.ofMillis(40)))
            .listener(metrics)
            .build();
    metrics.monitor(plain).monitor(hedged).bindTo(registry);

    // Hedging off: no hedge-delay gauge at all rather than one that reads NaN.
    assertThat(registry.find("failover.hedge.delay").tag("client.name", "directory").gauge())
        .isNull();
    Gauge delay = registry.get("failover.hedge.delay").tag("client.name", "catalog").gauge();
    assertThat(delay.value()).isEqualTo(0.04);
    assertThat(delay.getId().getBaseUnit()).isEqualTo("seconds");
    assertEveryGaugeIsANumber();

    plain.close();
    hedged.close();
    // Closed clients: the gauges keep the last values read.
    assertEveryGaugeIsANumber();
    assertThat(delay.value()).isEqualTo(0.04);
  }

  private void assertEveryGaugeIsANumber() {
    assertThat(registry.find("failover.endpoint.state").gauges()).isNotEmpty();
    for (Meter meter : registry.getMeters()) {
      if (meter instanceof Gauge gauge) {
        assertThat(gauge.value()).as(meter.getId().toString()).isFinite();
      } else if (meter instanceof FunctionCounter counter) {
        assertThat(counter.count()).as(meter.getId().toString()).isFinite();
      }
    }
  }

  @Test
  void meterOfEndpointsAndZonesARegistryRemovesLeaveTheRegistry() throws IOException {
    EndpointSource.Push source = new EndpointSource.Push("test-registry");
    List<Endpoint> all = Zones3.endpoints(zones);
    // us-east-1a, us-east-1b and us-west-2a, two endpoints each.
    source.update(all);
    FailoverMetrics metrics = new FailoverMetrics();
    try (FailoverClient client =
        FailoverClient.builder()
            .service("directory")
            .home("us-east-1", "us-east-1b")
            .endpointSource(source)
            .discovery(DiscoveryPolicy.defaults().withMaxRemovalPercent(100))
            .listener(metrics)
            .build()) {
      metrics.monitor(client).bindTo(registry);
      call(client, "/users/1", 200); // an attempt in us-east-1b: its zone has attempt counters
      assertThat(registry.find("failover.attempts").tag("zone", "us-east-1b").counters())
          .hasSize(1);
      assertThat(registry.get("failover.discovery.state").tag("state", "current").gauge().value())
          .isEqualTo(1);
      Endpoint leaving = all.get(0); // us-east-1a #0

      // The registry drops us-east-1b and one endpoint of us-east-1a.
      List<Endpoint> after =
          all.stream()
              .filter(e -> !e.equals(leaving) && !e.locality().zone().equals("us-east-1b"))
              .toList();
      source.update(after);

      assertThat(client.endpoints()).hasSize(3);
      assertThat(registry.find("failover.endpoint.state").gauges()).hasSize(3 * 5);
      assertThat(registry.find("failover.endpoint.outstanding").gauges()).hasSize(3);
      for (Meter meter : registry.getMeters()) {
        assertThat(meter.getId().getTag("endpoint"))
            .as(meter.getId().toString())
            .isNotEqualTo(leaving.address());
        assertThat(meter.getId().getTag("zone"))
            .as(meter.getId().toString())
            .isNotEqualTo("us-east-1b");
      }
      assertThat(registry.find("failover.zone.state").gauges()).hasSize(2 * 4);

      // It comes back: its meters with it.
      source.update(all);
      assertThat(
              registry.find("failover.endpoint.latency").tag("endpoint", leaving.address()).timer())
          .isNotNull();
      assertThat(registry.find("failover.zone.state").tag("zone", "us-east-1b").gauges())
          .hasSize(4);
      assertThat(registry.get("failover.discovery.updates").functionCounter().count()).isEqualTo(3);
    }
  }

  @Test
  void aRebuiltClientOfTheSameNameKeepsItsCountersAndMovesItsGauges() throws IOException {
    FailoverMetrics metrics = new FailoverMetrics();
    metrics.bindTo(registry);
    try (FailoverClient first = Zones3.client(zones).listener(metrics).build()) {
      metrics.monitor(first);
      call(first, "/users/1", 200);
    }
    try (FailoverClient second =
        Zones3.client(zones)
            .endpoints(Zones3.endpoints(zones).subList(0, 4)) // us-west-2a is gone
            .hedging(HedgePolicy.fixed(Duration.ofMillis(30)))
            .listener(metrics)
            .build()) {
      metrics.monitor(second);
      call(second, "/users/2", 200);
      assertThat(registry.get("failover.calls").tag("client.name", "directory").timer().count())
          .isEqualTo(2);
      assertThat(registry.find("failover.zone.state").tag("zone", "us-west-2a").gauges()).isEmpty();
      assertThat(registry.find("failover.endpoint.outstanding").gauges()).hasSize(4);
      assertThat(registry.get("failover.hedge.delay").gauge().value()).isEqualTo(0.03);
      // One gauge per name and tags: re-registering did not leave the first client's behind.
      assertThat(registry.find("failover.budget.tokens").gauges()).hasSize(1);
    }
  }

  @Test
  void aClientReconfiguredInPlaceIsFollowedAtItsNextCall() throws IOException {
    FailoverMetrics metrics = new FailoverMetrics();
    try (FailoverClient client = Zones3.client(zones).listener(metrics).build()) {
      metrics.monitor(client).bindTo(registry);
      assertThat(registry.find("failover.zone.state").tag("zone", "us-west-2a").gauges())
          .hasSize(4);
      assertThat(registry.find("failover.hedge.delay").gauge()).isNull();

      client.reconfigure(
          b ->
              b.endpoints(Zones3.endpoints(zones).subList(0, 4)) // us-west-2a is gone
                  .hedging(HedgePolicy.fixed(Duration.ofMillis(30))));
      call(client, "/users/1", 200);

      assertThat(registry.find("failover.zone.state").tag("zone", "us-west-2a").gauges()).isEmpty();
      assertThat(registry.find("failover.endpoint.outstanding").gauges()).hasSize(4);
      assertThat(registry.get("failover.hedge.delay").gauge().value()).isEqualTo(0.03);
      assertThat(registry.get("failover.calls").timer().count()).isEqualTo(1);
    }
  }

  /** With an endpoint source the list can stay the same object: the settings are followed too. */
  @Test
  void aClientWithAnEndpointSourceReconfiguredToHedgeIsFollowedAtItsNextCall() throws IOException {
    FailoverMetrics metrics = new FailoverMetrics();
    try (FailoverClient client =
        Zones3.client(zones)
            .endpointSource(new EndpointSource.Push("registry"))
            .listener(metrics)
            .build()) {
      metrics.monitor(client).bindTo(registry);
      assertThat(registry.find("failover.hedge.delay").gauge()).isNull();

      client.reconfigure(b -> b.hedging(HedgePolicy.fixed(Duration.ofMillis(30))));
      call(client, "/users/1", 200);
      assertThat(registry.get("failover.hedge.delay").gauge().value()).isEqualTo(0.03);

      client.reconfigure(b -> b.hedging(HedgePolicy.off()));
      call(client, "/users/2", 200);
      assertThat(registry.find("failover.hedge.delay").gauge()).isNull();
    }
  }

  @Test
  void bindingTwiceToTheSameRegistryIsHarmlessAndToAnotherIsRefused() {
    FailoverMetrics metrics = new FailoverMetrics();
    metrics.bindTo(registry);
    metrics.bindTo(registry);
    assertThatThrownBy(() -> metrics.bindTo(new SimpleMeterRegistry()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("already bound to SimpleMeterRegistry")
        .hasMessageContaining("CompositeMeterRegistry");
  }

  /** Every {@code failover.calls} of the name, whatever its method and outcome. */
  private long callsOf(String name) {
    return registry.find("failover.calls").tag("client.name", name).timers().stream()
        .mapToLong(t -> t.count())
        .sum();
  }

  /** Every {@code failover.attempts} of the name. */
  private double attemptsOf(String name) {
    return registry.find("failover.attempts").tag("client.name", name).counters().stream()
        .mapToDouble(c -> c.count())
        .sum();
  }

  private double retriesOf(String name) {
    return registry.find("failover.retries").tag("client.name", name).counters().stream()
        .mapToDouble(c -> c.count())
        .sum();
  }

  /**
   * A client built with {@code newBuilder()} from a monitored one copies its listeners, this one
   * included, and has the same name: its calls, attempts and retries are not counted in the meters
   * of the client it came from, which count that client's own (also once reconfigured in place,
   * through its builder or through one of the application's own, as the Spring Boot starter does).
   */
  @Test
  void aClientBuiltWithNewBuilderIsNotCountedInTheMetersOfTheMonitoredOne() throws IOException {
    zones.zone("us-east-1a").stubFor(any(anyUrl()).willReturn(serviceUnavailable()));
    FailoverMetrics metrics = new FailoverMetrics();
    metrics.bindTo(registry);
    FailoverClient.Builder builder =
        Zones3.client(zones).backoff(Duration.ZERO, Duration.ZERO).listener(metrics);
    try (FailoverClient directory = builder.build();
        FailoverClient variant = directory.newBuilder().deadline(Duration.ofSeconds(30)).build();
        FailoverClient twin = builder.build()) {
      metrics.monitor(directory);
      for (int i = 0; i < 3; i++) {
        call(variant, "/users/" + i, 200); // a 503 from us-east-1a, then a retry
        call(twin, "/users/" + i, 200);
      }
      assertThat(variant.snapshot().counters().calls()).isEqualTo(3);
      assertThat(directory.snapshot().counters().calls()).isZero();
      assertThat(callsOf("directory")).isZero();
      assertThat(attemptsOf("directory")).isZero();
      assertThat(retriesOf("directory")).isZero();

      call(directory, "/users/42", 200);
      assertThat(callsOf("directory")).isEqualTo(1);
      assertThat(attemptsOf("directory")).isEqualTo(2);
      assertThat(retriesOf("directory")).isEqualTo(1);

      // Reconfigured through its own builder, then through another that says the same: still the
      // client counted, and still the same core.
      directory.reconfigure(b -> b.maxAttempts(4));
      FailoverSettings before = directory.settings();
      directory.reconfigure(
          b ->
              Zones3.client(zones)
                  .backoff(Duration.ZERO, Duration.ZERO)
                  .maxAttempts(4)
                  .listener(metrics));
      assertThat(directory.settings()).as("a change that changes nothing").isSameAs(before);
      call(directory, "/users/43", 200);
      call(variant, "/users/44", 200);
      assertThat(callsOf("directory")).isEqualTo(2);

      // Monitored instead, the variant takes the name's meters; the first client is not counted.
      metrics.monitor(variant);
      call(directory, "/users/45", 200);
      call(variant, "/users/46", 200);
      assertThat(callsOf("directory")).isEqualTo(3);
      metrics.monitor(directory);

      // Reconfigured through a builder of the application's own that changes a setting (as the
      // Spring Boot starter does): still counted, the variant still not.
      directory.reconfigure(
          b -> Zones3.client(zones).backoff(Duration.ZERO, Duration.ZERO).listener(metrics));
      assertThat(directory.settings().maxAttempts()).isEqualTo(3);
      call(directory, "/users/47", 200);
      call(variant, "/users/48", 200);
      assertThat(callsOf("directory")).isEqualTo(4);
    }
  }

  @Test
  void aClientNotMonitoredRecordsNothingAndBreaksNothing() throws IOException {
    FailoverMetrics metrics = new FailoverMetrics();
    metrics.bindTo(registry);
    try (FailoverClient client = Zones3.client(zones).listener(metrics).build()) {
      call(client, "/users/1", 200);
    }
    assertThat(registry.getMeters()).isEmpty();
  }
}
