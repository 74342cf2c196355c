package dev.failover;

import static org.assertj.core.api.Assertions.assertThat;

import brave.Tracing;
import brave.handler.MutableSpan;
import brave.handler.SpanHandler;
import brave.propagation.TraceContext;
import dev.failover.testkit.FakeZones;
import io.micrometer.common.KeyValues;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.observation.DefaultMeterObservationHandler;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.observation.ObservationHandler;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.observation.tck.TestObservationRegistry;
import io.micrometer.observation.tck.TestObservationRegistryAssert;
import io.micrometer.tracing.Tracer;
import io.micrometer.tracing.brave.bridge.BraveBaggageManager;
import io.micrometer.tracing.brave.bridge.BraveCurrentTraceContext;
import io.micrometer.tracing.brave.bridge.BravePropagator;
import io.micrometer.tracing.brave.bridge.BraveTracer;
import io.micrometer.tracing.handler.DefaultTracingObservationHandler;
import io.micrometer.tracing.handler.PropagatingSenderTracingObservationHandler;
import io.micrometer.tracing.propagation.Propagator;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The code shown in docs/observability.md, compiled and run here; {@link
 * #observabilityDocShowsTheseSnippets()} fails when the page and this file drift apart.
 */
class ObservabilitySnippetsTest {

  @RegisterExtension static FakeZones zones = Zones3.zones();

  private String dirA;
  private String dirB;

  @BeforeEach
  void setUp() {
    Zones3.stub(zones);
    dirA = zones.zone("us-east-1a").endpoint(0).url();
    dirB = zones.zone("us-east-1b").endpoint(0).url();
  }

  @Test
  void metrics() throws IOException {
    // region metrics
    MeterRegistry registry = new SimpleMeterRegistry(); // or Prometheus, OTLP, ...
    FailoverMetrics metrics = new FailoverMetrics();
    try (FailoverClient directory =
        FailoverClient.builder()
            .service("directory")
            .home("us-east-1", "us-east-1a")
            .endpoint(dirA, "us-east-1", "us-east-1a")
            .endpoint(dirB, "us-east-1", "us-east-1b")
            .listener(metrics) // counters and timers, from the client's events
            .build()) {
      metrics.monitor(directory).bindTo(registry); // gauges; bind before the first call
      Request request = new Request.Builder().url("http://directory/users/42").build();
      try (Response response = directory.newCall(request).execute()) {
        System.out.println(response.code());
      }
    }
    // endregion
    assertThat(registry.get("failover.calls").tag("client.name", "directory").timer().count())
        .isEqualTo(1);
  }

  @Test
  void tracing() throws IOException {
    List<MutableSpan> reported = new CopyOnWriteArrayList<>();
    SpanHandler zipkin =
        new SpanHandler() { // in an application: a ZipkinSpanHandler, an OTLP exporter, ...
          @Override
          public boolean end(TraceContext context, MutableSpan span, Cause cause) {
            reported.add(span);
            return true;
          }
        };
    MeterRegistry meterRegistry = new SimpleMeterRegistry();
    // region tracing
    Tracing brave = Tracing.newBuilder().localServiceName("my-app").addSpanHandler(zipkin).build();
    Tracer tracer =
        new BraveTracer(
            brave.tracer(),
            new BraveCurrentTraceContext(brave.currentTraceContext()),
            new BraveBaggageManager());
    Propagator propagator = new BravePropagator(brave);

    ObservationRegistry observations = ObservationRegistry.create();
    observations
        .observationConfig()
        .observationHandler(
            new ObservationHandler.FirstMatchingCompositeObservationHandler(
                new PropagatingSenderTracingObservationHandler<>(tracer, propagator),
                new DefaultTracingObservationHandler(tracer)))
        .observationHandler(new DefaultMeterObservationHandler(meterRegistry)); // timers too

    try (FailoverClient directory =
        FailoverClient.builder()
            .service("directory")
            .home("us-east-1", "us-east-1a")
            .endpoint(dirA, "us-east-1", "us-east-1a")
            .endpoint(dirB, "us-east-1", "us-east-1b")
            .listener(new FailoverObservations(observations))
            .build()) {
      Request request = new Request.Builder().url("http://directory/users/42").build();
      try (Response response = directory.newCall(request).execute()) {
        System.out.println(response.code()); // spans: "failover get", "failover get first"
      }
    }
    // endregion
    brave.close();
    assertThat(reported)
        .extracting(MutableSpan::name)
        .containsExactlyInAnyOrder("failover get", "failover get first");
    assertThat(meterRegistry.get("failover.attempt").tag("attempt.kind", "first").timer().count())
        .isEqualTo(1);
  }

  @Test
  void convention() throws IOException {
    TestObservationRegistry registry = TestObservationRegistry.create();
    FailoverClient.Builder builder = Zones3.client(zones);
    // region convention
    FailoverObservations.CallConvention withTenant =
        new FailoverObservations.CallConvention() {
          @Override
          public KeyValues getLowCardinalityKeyValues(FailoverObservations.CallContext context) {
            return FailoverObservations.CallConvention.super
                .getLowCardinalityKeyValues(context)
                .and("tenant", tenantOf(context.getRequest()));
          }
        };
    builder.listener(new FailoverObservations(registry, withTenant, null));
    // endregion
    try (FailoverClient client = builder.build();
        Response response =
            client
                .newCall(
                    new Request.Builder()
                        .url("http://directory/users/42")
                        .header("X-Tenant", "acme")
                        .build())
                .execute()) {
      assertThat(response.code()).isEqualTo(200);
    }
    TestObservationRegistryAssert.assertThat(registry)
        .hasObservationWithNameEqualTo("failover.call")
        .that()
        .hasLowCardinalityKeyValue("tenant", "acme");
  }

  private static String tenantOf(Request request) {
    String tenant = request.header("X-Tenant");
    return tenant == null ? "none" : tenant;
  }

  @Test
  void observabilityDocShowsTheseSnippets() throws IOException {
    String doc =
        normalize(
            Files.readString(Path.of("..", "docs", "observability.md"), StandardCharsets.UTF_8));
    String source =
        Files.readString(
            Path.of("src/test/java/dev/failover/ObservabilitySnippetsTest.java"),
            StandardCharsets.UTF_8);
    for (String region : List.of("metrics", "tracing", "convention")) {
      assertThat(doc)
          .as("docs/observability.md shows region %s", region)
          .contains(normalize(region(source, region)));
    }
  }

  private static String region(String source, String name) {
    int start = source.indexOf("// region " + name);
    int end = source.indexOf("// endregion", start);
    return source.substring(source.indexOf('\n', start) + 1, end);
  }

  /** Ignores indentation, which differs between the class and the page. */
  private static String normalize(String text) {
    return text.lines()
        .map(String::strip)
        .filter(l -> !l.isEmpty())
        .reduce("", (a, b) -> a + b + "\n");
  }
}
