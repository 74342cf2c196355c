package dev.failover;

import static com.github.tomakehurst.wiremock.client.WireMock.any;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.serviceUnavailable;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.failover.testkit.FakeZones;
import dev.failover.testkit.ZoneFault;
import io.micrometer.common.KeyValue;
import io.micrometer.common.KeyValues;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationHandler;
import io.micrometer.observation.tck.TestObservationRegistry;
import io.micrometer.observation.tck.TestObservationRegistryAssert;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import okhttp3.Call;
import okhttp3.Callback;
import okhttp3.Request;
import okhttp3.Response;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Observations of calls and attempts with Micrometer's {@link TestObservationRegistry} (which also
 * checks that every observation is started, stopped and scoped correctly), over real sockets.
 */
class FailoverObservationsTest {

  @RegisterExtension static FakeZones zones = Zones3.zones();

  private final TestObservationRegistry registry = TestObservationRegistry.create();

  /** Every context, in the order the observations started; and those that stopped. */
  private final List<Observation.Context> started = new CopyOnWriteArrayList<>();

  private final Set<Observation.Context> stopped = ConcurrentHashMap.newKeySet();

  @BeforeEach
  void stub() {
    Zones3.stub(zones);
    registry
        .observationConfig()
        .observationHandler(
            new ObservationHandler<>() {
              @Override
              public void onStart(Observation.Context context) {
                started.add(context);
              }

              @Override
              public void onStop(Observation.Context context) {
                stopped.add(context);
              }

              @Override
              public boolean supportsContext(Observation.Context context) {
                return true;
              }
            });
  }

  private static Request get(String path) {
    return new Request.Builder().url("http://directory" + path).build();
  }

  private FailoverClient.Builder client(@Nullable FailoverObservations observations) {
    return Zones3.client(zones)
        .backoff(Duration.ZERO, Duration.ZERO)
        .listener(observations == null ? new FailoverObservations(registry) : observations);
  }

  private List<FailoverObservations.CallContext> calls() {
    return started.stream()
        .filter(FailoverObservations.CallContext.class::isInstance)
        .map(FailoverObservations.CallContext.class::cast)
        .toList();
  }

  private List<FailoverObservations.AttemptContext> attempts() {
    return started.stream()
        .filter(FailoverObservations.AttemptContext.class::isInstance)
        .map(FailoverObservations.AttemptContext.class::cast)
        .sorted((a, b) -> Integer.compare(a.getAttemptNumber(), b.getAttemptNumber()))
        .toList();
  }

  private static String low(Observation.Context context, String key) {
    KeyValue value = context.getLowCardinalityKeyValue(key);
    assertThat(value).as(key).isNotNull();
    return value.getValue();
  }

  private static String high(Observation.Context context, String key) {
    KeyValue value = context.getHighCardinalityKeyValue(key);
    assertThat(value).as(key).isNotNull();
    return value.getValue();
  }

  @Test
  void aRetriedCallIsOneCallObservationWithTwoAttemptChildren() throws IOException {
    zones.zone("us-east-1a").stubFor(any(anyUrl()).willReturn(serviceUnavailable()));
    try (FailoverClient client = client(null).build();
        Response response = client.newCall(get("/users/42?token=secret")).execute()) {
      assertThat(response.code()).isEqualTo(200);
    }

    TestObservationRegistryAssert.assertThat(registry)
        .hasNumberOfObservationsWithNameEqualTo("failover.call", 1)
        .hasNumberOfObservationsWithNameEqualTo("failover.attempt", 2);
    FailoverObservations.CallContext call = calls().get(0);
    assertThat(call.getContextualName()).isEqualTo("failover get");
    assertThat(low(call, "client.name")).isEqualTo("directory");
    assertThat(low(call, "method")).isEqualTo("GET");
    assertThat(low(call, "outcome")).isEqualTo("success");
    assertThat(low(call, "status")).isEqualTo("200");
    assertThat(high(call, "uri")).isEqualTo("/users/42"); // no query: it may carry secrets
    assertThat(high(call, "attempts")).isEqualTo("2");
    assertThat(high(call, "retries")).isEqualTo("1");
    assertThat(high(call, "stale")).isEqualTo("false");
    assertThat(call.getParentObservation()).isNull();
    assertThat(call.getError()).isNull();

    List<FailoverObservations.AttemptContext> attempts = attempts();
    assertThat(attempts).hasSize(2);
    for (FailoverObservations.AttemptContext attempt : attempts) {
      assertThat(attempt.getParentObservation()).isNotNull();
      assertThat(attempt.getParentObservation().getContextView()).isSameAs(call);
      assertThat(attempt.getCall()).isSameAs(call);
      assertThat(attempt.getRemoteServiceName()).isEqualTo("directory");
      assertThat(attempt.getRemoteServiceAddress()).isEqualTo(attempt.getEndpoint().address());
      assertThat(low(attempt, "client.name")).isEqualTo("directory");
      assertThat(high(attempt, "uri")).isEqualTo("/users/42");
    }
    FailoverObservations.AttemptContext first = attempts.get(0);
    assertThat(first.getContextualName()).isEqualTo("failover get first");
    assertThat(low(first, "attempt.kind")).isEqualTo("first");
    assertThat(low(first, "zone")).isEqualTo("us-east-1a");
    assertThat(low(first, "region")).isEqualTo("us-east-1");
    assertThat(low(first, "status")).isEqualTo("503");
    assertThat(low(first, "outcome")).isEqualTo("server_error");
    assertThat(high(first, "attempt.number")).isEqualTo("1");
    FailoverObservations.AttemptContext retry = attempts.get(1);
    assertThat(retry.getContextualName()).isEqualTo("failover get retry");
    assertThat(low(retry, "attempt.kind")).isEqualTo("retry");
    assertThat(low(retry, "zone")).isEqualTo("us-east-1b");
    assertThat(low(retry, "outcome")).isEqualTo("success");
    assertThat(high(retry, "endpoint")).isEqualTo(retry.getEndpoint().address());
  }

  @Test
  void aFailedCallCarriesTheCallersExceptionAndEachAttemptItsOwn() {
    zones.fail(ZoneFault.refuse());
    try (FailoverClient client = client(null).build()) {
      assertThatThrownBy(() -> client.newCall(get("/users/42")).execute())
          .isInstanceOf(FailoverException.class);
    }
    FailoverObservations.CallContext call = calls().get(0);
    assertThat(call.getError()).isInstanceOf(FailoverException.class);
    assertThat(low(call, "outcome")).isEqualTo("retries_exhausted");
    assertThat(low(call, "status")).isEqualTo("none");
    assertThat(attempts()).hasSize(3);
    assertThat(attempts())
        .allSatisfy(
            a -> {
              assertThat(low(a, "outcome")).isEqualTo("connect_failed");
              assertThat(low(a, "status")).isEqualTo("none");
              assertThat(a.getError()).isInstanceOf(IOException.class);
            });
  }

  /** client.name is the service name as given, as on the meters: not the lowercased host. */
  @Test
  void theClientNameIsTheServiceNameAsGiven() throws IOException {
    try (FailoverClient client = client(null).service("Directory").build()) {
      try (Response r = client.newCall(get("/users/42")).execute()) {
        assertThat(r.code()).isEqualTo(200);
      }
    }
    assertThat(low(calls().get(0), "client.name")).isEqualTo("Directory");
    assertThat(low(attempts().get(0), "client.name")).isEqualTo("Directory");
  }

  /**
   * A method OpenTelemetry does not know is tagged {@code _OTHER} and its spans are named {@code
   * failover http}: made-up methods do not make a series each.
   */
  @Test
  void aMethodOutsideTheKnownNineIsTaggedOther() throws IOException {
    try (FailoverClient client = client(null).build()) {
      for (String method : new String[] {"PURGE", "get"}) {
        Request request =
            new Request.Builder().url("http://directory/users/42").method(method, null).build();
        try (Response r = client.newCall(request).execute()) {
          assertThat(r.code()).isEqualTo(200);
        }
      }
    }
    for (Observation.Context c : started) {
      assertThat(low(c, "method")).isEqualTo("_OTHER");
    }
    assertThat(calls())
        .extracting(Observation.Context::getContextualName)
        .containsOnly("failover http");
    assertThat(attempts())
        .extracting(Observation.Context::getContextualName)
        .containsOnly("failover http first");
    assertThat(calls()).hasSize(2);
  }

  /** The SDK ends an attempt at its timeout by cancelling it: the observation says timeout. */
  @Test
  void anAttemptEndedByItsTimeoutIsATimeoutNotACancellation() {
    zones.stubAll(
        com.github.tomakehurst.wiremock.client.WireMock.get(
                com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo("/slow"))
            .willReturn(
                com.github.tomakehurst.wiremock.client.WireMock.ok("late").withFixedDelay(3_000)));
    try (FailoverClient client =
        client(null).maxAttempts(1).attemptTimeout(Duration.ofMillis(300)).build()) {
      assertThatThrownBy(() -> client.newCall(get("/slow")).execute())
          .isInstanceOf(FailoverException.class);
    }
    assertThat(attempts())
        .singleElement()
        .satisfies(
            a -> {
              assertThat(low(a, "outcome")).isEqualTo("timeout");
              assertThat(a.isCancelled()).isFalse();
            });
  }

  @Test
  void anEnqueuedCallIsAChildOfTheObservationCurrentWhereItWasStarted() throws Exception {
    Observation request = Observation.start("app.request", registry);
    CompletableFuture<Integer> status = new CompletableFuture<>();
    try (FailoverClient client = client(null).build()) {
      Observation.Scope scope = request.openScope();
      try {
        client
            .newCall(get("/users/7"))
            .enqueue(
                new Callback() {
                  @Override
                  public void onResponse(Call call, Response response) {
                    // The call's observation has stopped before the caller gets the result.
                    status.complete(stopped.contains(calls().get(0)) ? response.code() : -1);
                    response.close();
                  }

                  @Override
                  public void onFailure(Call call, IOException e) {
                    status.completeExceptionally(e);
                  }
                });
      } finally {
        scope.close();
      }
      assertThat(status.get(10, TimeUnit.SECONDS)).isEqualTo(200);
    }
    request.stop();
    FailoverObservations.CallContext call = calls().get(0);
    assertThat(call.getParentObservation()).isSameAs(request);
    assertThat(attempts()).singleElement().satisfies(a -> assertThat(a.getCall()).isSameAs(call));
    TestObservationRegistryAssert.assertThat(registry)
        .hasObservationWithNameEqualTo("failover.attempt")
        .that()
        .hasBeenStarted()
        .hasBeenStopped();
  }

  @Test
  void aHedgeIsAnAttemptOfKindHedgeAndTheLoserIsCancelled() throws IOException {
    // Home zone slow, hedge after 20 ms with at most 50% extra load: the first call's hedge is
    // refused (half a token), the second's goes to us-east-1b and wins.
    zones
        .zone("us-east-1a")
        .stubFor(any(anyUrl()).willReturn(okJson("{\"id\":1}").withFixedDelay(600)));
    try (FailoverClient client =
        client(null)
            .hedging(HedgePolicy.fixed(Duration.ofMillis(20)).withMaxExtraLoad(0.5))
            .build()) {
      for (int i = 0; i < 2; i++) {
        try (Response response = client.newCall(get("/users/" + i)).execute()) {
          assertThat(response.code()).isEqualTo(200);
        }
      }
    }
    FailoverObservations.CallContext second = calls().get(1);
    List<FailoverObservations.AttemptContext> attempts =
        attempts().stream().filter(a -> a.getCall() == second).toList();
    assertThat(attempts).hasSize(2);
    assertThat(low(attempts.get(0), "attempt.kind")).isEqualTo("first");
    assertThat(low(attempts.get(0), "outcome")).isEqualTo("cancelled");
    assertThat(attempts.get(0).isCancelled()).isTrue();
    assertThat(low(attempts.get(1), "attempt.kind")).isEqualTo("hedge");
    assertThat(low(attempts.get(1), "zone")).isEqualTo("us-east-1b");
    assertThat(low(attempts.get(1), "outcome")).isEqualTo("success");
    assertThat(high(second, "hedges")).isEqualTo("1");
  }

  @Test
  void customConventionsNameAndTagTheObservations() throws IOException {
    FailoverObservations.CallConvention call =
        new FailoverObservations.CallConvention() {
          @Override
          public String getName() {
            return "directory.lookup";
          }

          @Override
          public KeyValues getLowCardinalityKeyValues(FailoverObservations.CallContext context) {
            return FailoverObservations.CallConvention.super
                .getLowCardinalityKeyValues(context)
                .and("tenant", "acme");
          }
        };
    FailoverObservations.AttemptConvention attempt =
        new FailoverObservations.AttemptConvention() {
          @Override
          public String getContextualName(FailoverObservations.AttemptContext context) {
            return "attempt #" + context.getAttemptNumber();
          }
        };
    try (FailoverClient client = client(new FailoverObservations(registry, call, attempt)).build();
        Response response = client.newCall(get("/users/1")).execute()) {
      assertThat(response.code()).isEqualTo(200);
    }
    TestObservationRegistryAssert.assertThat(registry)
        .hasObservationWithNameEqualTo("directory.lookup")
        .that()
        .hasLowCardinalityKeyValue("tenant", "acme")
        .hasLowCardinalityKeyValue("outcome", "success");
    assertThat(attempts())
        .singleElement()
        .satisfies(
            a -> {
              assertThat(a.getName()).isEqualTo("failover.attempt");
              assertThat(a.getContextualName()).isEqualTo("attempt #1");
            });
  }

  @Test
  void theAttemptsOfACallThatIsNotObservedAreNotObservedEither() throws IOException {
    TestObservationRegistry filtered = TestObservationRegistry.create();
    filtered
        .observationConfig()
        .observationPredicate((name, context) -> !name.startsWith("failover"));
    try (FailoverClient client =
            Zones3.client(zones).listener(new FailoverObservations(filtered)).build();
        Response response = client.newCall(get("/users/1")).execute()) {
      assertThat(response.code()).isEqualTo(200);
    }
    TestObservationRegistryAssert.assertThat(filtered).doesNotHaveAnyObservation();
  }

  @Test
  void aHandlerThatThrowsOnAnAttemptsStartOrScopeFailsNoCall() throws IOException {
    for (String where : List.of("start", "scope")) {
      long attempts;
      TestObservationRegistry throwing = TestObservationRegistry.create();
      List<Observation.Context> stops = new CopyOnWriteArrayList<>();
      throwing
          .observationConfig()
          .observationHandler(
              new ObservationHandler<>() {
                @Override
                public void onStart(Observation.Context context) {
                  if (where.equals("start")
                      && context instanceof FailoverObservations.AttemptContext) {
                    throw new IllegalStateException("no caller context on this thread");
                  }
                }

                @Override
                public void onScopeOpened(Observation.Context context) {
                  if (where.equals("scope")
                      && context instanceof FailoverObservations.AttemptContext) {
                    throw new IllegalStateException("no caller context on this thread");
                  }
                }

                @Override
                public void onStop(Observation.Context context) {
                  stops.add(context);
                }

                @Override
                public boolean supportsContext(Observation.Context context) {
                  return true;
                }
              });
      try (FailoverClient client =
              Zones3.client(zones).listener(new FailoverObservations(throwing)).build();
          Response response = client.newCall(get("/users/1")).execute()) {
        // Before, OkHttp cancelled the attempt the exception left the interceptor by, and the
        // call failed (a cancelled attempt is not retried).
        assertThat(response.code()).as(where).isEqualTo(200);
        attempts = client.snapshot().counters().attempts();
      }
      // Every attempt's observation was stopped, the one whose start threw too (a hedge may
      // have been sent on a busy machine: one observation each).
      assertThat(stops.stream().filter(FailoverObservations.AttemptContext.class::isInstance))
          .as(where)
          .hasSize((int) attempts);
    }
  }
}
