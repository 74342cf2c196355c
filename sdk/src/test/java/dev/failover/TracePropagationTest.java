package dev.failover;

import static com.github.tomakehurst.wiremock.client.WireMock.any;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.serviceUnavailable;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static org.assertj.core.api.Assertions.assertThat;

import brave.Tracing;
import brave.handler.MutableSpan;
import brave.handler.SpanHandler;
import brave.propagation.ThreadLocalCurrentTraceContext;
import brave.propagation.TraceContext;
import brave.sampler.Sampler;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import dev.failover.testkit.FakeZones;
import io.micrometer.observation.ObservationHandler;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.tracing.Span;
import io.micrometer.tracing.Tracer;
import io.micrometer.tracing.brave.bridge.BraveBaggageManager;
import io.micrometer.tracing.brave.bridge.BraveCurrentTraceContext;
import io.micrometer.tracing.brave.bridge.BravePropagator;
import io.micrometer.tracing.brave.bridge.BraveTracer;
import io.micrometer.tracing.handler.DefaultTracingObservationHandler;
import io.micrometer.tracing.handler.PropagatingSenderTracingObservationHandler;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Traces with a real tracer, Brave through Micrometer Tracing's bridge, as a Spring Boot app with
 * Zipkin has it: each attempt is a client span under the call's span, and the endpoint that got the
 * attempt received that span's B3 headers.
 */
class TracePropagationTest {

  @RegisterExtension static FakeZones zones = Zones3.zones();

  private final List<MutableSpan> spans = new CopyOnWriteArrayList<>();
  private Tracing tracing;
  private Tracer tracer;
  private ObservationRegistry registry;

  @BeforeEach
  void setUp() {
    Zones3.stub(zones);
    tracing =
        Tracing.newBuilder()
            .localServiceName("app")
            .currentTraceContext(ThreadLocalCurrentTraceContext.create())
            .sampler(Sampler.ALWAYS_SAMPLE)
            .addSpanHandler(
                new SpanHandler() {
                  @Override
                  public boolean end(TraceContext context, MutableSpan span, Cause cause) {
                    spans.add(span);
                    return true;
                  }
                })
            .build();
    tracer =
        new BraveTracer(
            tracing.tracer(),
            new BraveCurrentTraceContext(tracing.currentTraceContext()),
            new BraveBaggageManager());
    registry = ObservationRegistry.create();
    registry
        .observationConfig()
        .observationHandler(
            new ObservationHandler.FirstMatchingCompositeObservationHandler(
                new PropagatingSenderTracingObservationHandler<>(
                    tracer, new BravePropagator(tracing)),
                new DefaultTracingObservationHandler(tracer)));
  }

  @AfterEach
  void tearDown() {
    tracing.close();
  }

  private FailoverClient client() {
    return client(false);
  }

  private FailoverClient client(boolean callerRuns) {
    return Zones3.client(zones)
        .backoff(Duration.ZERO, Duration.ZERO)
        .callerRunsFirstAttempt(callerRuns)
        .listener(new FailoverObservations(registry))
        .build();
  }

  private static Request get(String path) {
    return new Request.Builder().url("http://directory" + path).build();
  }

  private MutableSpan span(String name) {
    return spans.stream().filter(s -> name.equals(s.name())).findFirst().orElseThrow();
  }

  private static LoggedRequest onlyRequest(String zone) {
    List<LoggedRequest> requests =
        zones.zone(zone).findAll(getRequestedFor(urlPathEqualTo("/users/42")));
    assertThat(requests).hasSize(1);
    return requests.get(0);
  }

  /** Also when the first attempt runs on the caller's thread ({@code callerRunsFirstAttempt}). */
  @ParameterizedTest(name = "callerRunsFirstAttempt={0}")
  @ValueSource(booleans = {false, true})
  void aRetriedCallIsOneSpanWithTwoClientSpansWhoseHeadersReachedTheirEndpoints(boolean callerRuns)
      throws IOException {
    zones.zone("us-east-1a").stubFor(any(anyUrl()).willReturn(serviceUnavailable()));
    try (FailoverClient client = client(callerRuns);
        Response response = client.newCall(get("/users/42")).execute()) {
      assertThat(response.code()).isEqualTo(200);
    }

    assertThat(spans).hasSize(3);
    MutableSpan call = span("failover get");
    MutableSpan first = span("failover get first");
    MutableSpan retry = span("failover get retry");
    assertThat(call.kind()).isNull(); // a local span: the attempts are the client spans
    assertThat(call.parentId()).isNull();
    assertThat(call.tag("outcome")).isEqualTo("success");
    for (MutableSpan attempt : List.of(first, retry)) {
      assertThat(attempt.traceId()).isEqualTo(call.traceId());
      assertThat(attempt.parentId()).isEqualTo(call.id());
      assertThat(attempt.kind()).isEqualTo(brave.Span.Kind.CLIENT);
      assertThat(attempt.remoteServiceName()).isEqualTo("directory");
    }
    assertThat(first.tag("zone")).isEqualTo("us-east-1a");
    assertThat(first.tag("status")).isEqualTo("503");
    assertThat(retry.tag("zone")).isEqualTo("us-east-1b");
    assertThat(retry.tag("attempt.kind")).isEqualTo("retry");

    // Each endpoint saw its own attempt's span as the caller.
    LoggedRequest toFirst = onlyRequest("us-east-1a");
    assertThat(toFirst.getHeader("X-B3-TraceId")).isEqualTo(call.traceId());
    assertThat(toFirst.getHeader("X-B3-SpanId")).isEqualTo(first.id());
    assertThat(toFirst.getHeader("X-B3-ParentSpanId")).isEqualTo(call.id());
    LoggedRequest toRetry = onlyRequest("us-east-1b");
    assertThat(toRetry.getHeader("X-B3-TraceId")).isEqualTo(call.traceId());
    assertThat(toRetry.getHeader("X-B3-SpanId")).isEqualTo(retry.id());
  }

  /**
   * An application interceptor that builds each request anew, copying URL, method, headers and body
   * but not the tags: the attempt is still a client span whose headers reach its endpoint.
   */
  @Test
  void anAttemptWhoseRequestAnInterceptorRebuiltIsTraced() throws IOException {
    OkHttpClient rebuilding =
        new OkHttpClient.Builder()
            .addInterceptor(chain -> chain.proceed(Zones3.withoutTags(chain.request())))
            .build();
    try (FailoverClient client =
            Zones3.client(zones)
                .okHttpClient(rebuilding)
                .listener(new FailoverObservations(registry))
                .build();
        Response response = client.newCall(get("/users/42")).execute()) {
      assertThat(response.code()).isEqualTo(200);
    }
    assertThat(spans).hasSize(2);
    MutableSpan call = span("failover get");
    MutableSpan first = span("failover get first");
    assertThat(first.parentId()).isEqualTo(call.id());
    assertThat(first.tag("zone")).isEqualTo("us-east-1a");
    LoggedRequest request = onlyRequest("us-east-1a");
    assertThat(request.getHeader("X-B3-TraceId")).isEqualTo(call.traceId());
    assertThat(request.getHeader("X-B3-SpanId")).isEqualTo(first.id());
  }

  /**
   * An application interceptor that first sends a request of its own to another host through the
   * chain (a token fetch), keeping the attempt's tags: that request is not the attempt. It gets no
   * span and no trace headers; the attempt gets one span.
   */
  @Test
  void aRequestToAnotherOriginThroughTheChainIsNotTheAttempt() throws IOException {
    String authServer = zones.zone("us-west-2a").endpoint(0).url();
    OkHttpClient fetchingAToken =
        new OkHttpClient.Builder()
            .addInterceptor(
                chain -> {
                  Request token =
                      chain.request().newBuilder().url(authServer + "/users/42").build();
                  try (Response r = chain.proceed(token)) {
                    assertThat(r.code()).isEqualTo(200);
                  }
                  return chain.proceed(chain.request());
                })
            .build();
    try (FailoverClient client =
            Zones3.client(zones)
                .okHttpClient(fetchingAToken)
                .listener(new FailoverObservations(registry))
                .build();
        Response response = client.newCall(get("/users/42")).execute()) {
      assertThat(response.code()).isEqualTo(200);
    }
    assertThat(spans)
        .extracting(MutableSpan::name)
        .containsExactlyInAnyOrder("failover get", "failover get first");
    assertThat(onlyRequest("us-west-2a").getHeader("X-B3-TraceId")).isNull();
    assertThat(onlyRequest("us-east-1a").getHeader("X-B3-TraceId"))
        .isEqualTo(span("failover get").traceId());
  }

  @Test
  void aCallMadeWhileASpanIsCurrentContinuesItsTrace() throws IOException {
    Span app = tracer.nextSpan().name("handle request").start();
    try (FailoverClient client = client()) {
      Tracer.SpanInScope scope = tracer.withSpan(app);
      try (Response response = client.newCall(get("/users/42")).execute()) {
        assertThat(response.code()).isEqualTo(200);
      } finally {
        scope.close();
      }
    } finally {
      app.end();
    }
    MutableSpan call = span("failover get");
    assertThat(call.traceId()).isEqualTo(app.context().traceId());
    assertThat(call.parentId()).isEqualTo(app.context().spanId());
    LoggedRequest request = onlyRequest("us-east-1a");
    assertThat(request.getHeader("X-B3-TraceId")).isEqualTo(app.context().traceId());
    assertThat(request.getHeader("X-B3-SpanId")).isEqualTo(span("failover get first").id());
  }

  @Test
  void healthChecksAreNotTraced() throws Exception {
    // A network interceptor sees each probe as sent, after the SDK's own interceptors.
    List<String> probeTraceHeaders = new CopyOnWriteArrayList<>();
    CountDownLatch probes = new CountDownLatch(6);
    OkHttpClient okHttp =
        new OkHttpClient.Builder()
            .addNetworkInterceptor(
                chain -> {
                  Response response = chain.proceed(chain.request());
                  if (chain.request().url().encodedPath().equals("/health")) {
                    probeTraceHeaders.add(String.valueOf(chain.request().header("X-B3-TraceId")));
                    probes.countDown();
                  }
                  return response;
                })
            .build();
    try (FailoverClient client =
        Zones3.client(zones)
            .okHttpClient(okHttp)
            .healthCheck(HealthCheck.http("/health").withInterval(Duration.ofMillis(100)))
            .listener(new FailoverObservations(registry))
            .build()) {
      try (Response response = client.newCall(get("/users/42")).execute()) {
        assertThat(response.code()).isEqualTo(200);
      }
      assertThat(probes.await(10, TimeUnit.SECONDS)).isTrue();
    } finally {
      okHttp.dispatcher().executorService().shutdown();
      okHttp.connectionPool().evictAll();
    }
    assertThat(probeTraceHeaders).hasSizeGreaterThanOrEqualTo(6).containsOnly("null");
    assertThat(spans)
        .extracting(MutableSpan::name)
        .containsExactlyInAnyOrder("failover get", "failover get first");
  }
}
