package dev.failover.spring.boot.autoconfigure;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static org.assertj.core.api.Assertions.assertThat;

import com.github.tomakehurst.wiremock.WireMockServer;
import dev.failover.FailoverClient;
import dev.failover.FailoverObservations;
import io.micrometer.common.KeyValues;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationHandler;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration;
import org.springframework.boot.micrometer.observation.autoconfigure.ObservationAutoConfiguration;
import org.springframework.boot.restclient.autoconfigure.RestClientAutoConfiguration;
import org.springframework.boot.restclient.autoconfigure.RestClientObservationAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.web.client.RestClient;

/**
 * Observations of calls and attempts in a real Spring context, with Spring Boot's own observation
 * and metrics auto-configuration: the registry it makes, its meter handler (so each observation is
 * also a timer), its {@code management.observations.enable.*} switch, and convention beans.
 */
class FailoverObservationAutoConfigurationTests {

  private static final WireMockServer failing = new WireMockServer(wireMockConfig().dynamicPort());
  private static final WireMockServer up = new WireMockServer(wireMockConfig().dynamicPort());

  private final ApplicationContextRunner runner =
      new ApplicationContextRunner()
          .withConfiguration(
              AutoConfigurations.of(
                  ObservationAutoConfiguration.class,
                  MetricsAutoConfiguration.class,
                  FailoverAutoConfiguration.class,
                  FailoverMetricsAutoConfiguration.class,
                  FailoverObservationAutoConfiguration.class))
          .withBean(MeterRegistry.class, SimpleMeterRegistry::new)
          .withPropertyValues(
              "failover.home.region=us-east-1",
              "failover.home.zone=us-east-1a",
              "failover.defaults.retry.backoff-base=0ms",
              "failover.defaults.retry.backoff-cap=0ms");

  @BeforeAll
  static void start() {
    failing.start();
    up.start();
    failing.stubFor(get("/users/42").willReturn(aResponse().withStatus(503)));
    up.stubFor(get("/users/42").willReturn(okJson("{\"id\":42}")));
  }

  @AfterAll
  static void stop() {
    failing.stop();
    up.stop();
  }

  /** A 503 in the home zone, a 200 in us-east-1b: every call is retried once. */
  private String[] directory() {
    return new String[] {
      "failover.clients.directory.endpoints[0].url=" + failing.baseUrl(),
      "failover.clients.directory.endpoints[0].region=us-east-1",
      "failover.clients.directory.endpoints[0].zone=us-east-1a",
      "failover.clients.directory.endpoints[1].url=" + up.baseUrl(),
      "failover.clients.directory.endpoints[1].region=us-east-1",
      "failover.clients.directory.endpoints[1].zone=us-east-1b",
    };
  }

  /**
   * An observation handler like a tracer's: it sees every observation that starts, and the thread
   * each attempt's starts on (the attempt's own: the observation listener is an interceptor).
   */
  static final class Recorder implements ObservationHandler<Observation.Context> {
    final List<Observation.Context> started = new CopyOnWriteArrayList<>();
    final List<String> attemptThreads = new CopyOnWriteArrayList<>();

    @Override
    public void onStart(Observation.Context context) {
      started.add(context);
      if (context instanceof FailoverObservations.AttemptContext) {
        attemptThreads.add(Thread.currentThread().getName());
      }
    }

    @Override
    public boolean supportsContext(Observation.Context context) {
      return true;
    }

    <T> List<T> of(Class<T> type) {
      return started.stream().filter(type::isInstance).map(type::cast).toList();
    }
  }

  private static void callDirectly(FailoverClient client) throws Exception {
    Request request = new Request.Builder().url("http://directory/users/42").build();
    try (Response response = client.newCall(request).execute()) {
      assertThat(response.code()).isEqualTo(200);
    }
  }

  /**
   * The observation listener's handlers run on every attempt, so by default the first attempt is
   * handed to the dispatcher (a handler that blocks cannot hold the caller past its deadline);
   * {@code caller-runs-first-attempt=true} runs it on the caller's thread all the same, and {@code
   * false} hands it off. The retry after the home zone's 503 always runs on the dispatcher.
   */
  @Test
  void callerRunsFirstAttemptChoosesTheFirstAttemptsThread() {
    String caller = Thread.currentThread().getName();
    for (String choice : new String[] {"", "true", "false"}) {
      ApplicationContextRunner withChoice =
          choice.isEmpty()
              ? runner
              : runner.withPropertyValues(
                  "failover.clients.directory.caller-runs-first-attempt=" + choice);
      withChoice
          .withPropertyValues(directory())
          .withBean(Recorder.class, Recorder::new)
          .run(
              context -> {
                FailoverClient client = context.getBean(FailoverClient.class);
                assertThat(client.settings().callerRunsFirstAttempt())
                    .isEqualTo(
                        choice.isEmpty()
                            ? java.util.Optional.empty()
                            : java.util.Optional.of(Boolean.valueOf(choice)));
                callDirectly(client);
                List<String> threads = context.getBean(Recorder.class).attemptThreads;
                assertThat(threads).as("caller-runs-first-attempt=%s", choice).hasSize(2);
                if (choice.equals("true")) {
                  assertThat(threads.get(0)).isEqualTo(caller);
                } else {
                  assertThat(threads.get(0)).isNotEqualTo(caller);
                }
                assertThat(threads.get(1)).isNotEqualTo(caller);
              });
    }
  }

  @Test
  void eachCallAndAttemptIsAnObservationAndATimer() {
    runner
        .withPropertyValues(directory())
        .withBean(Recorder.class, Recorder::new)
        .run(
            context -> {
              assertThat(context).hasSingleBean(ObservationInstrumentation.class);
              callDirectly(context.getBean(FailoverClient.class));

              Recorder recorder = context.getBean(Recorder.class);
              FailoverObservations.CallContext call =
                  recorder.of(FailoverObservations.CallContext.class).get(0);
              List<FailoverObservations.AttemptContext> attempts =
                  recorder.of(FailoverObservations.AttemptContext.class);
              assertThat(attempts).hasSize(2);
              assertThat(attempts)
                  .allSatisfy(
                      a -> assertThat(a.getParentObservation().getContextView()).isSameAs(call));

              MeterRegistry meters = context.getBean(MeterRegistry.class);
              assertThat(
                      meters
                          .get("failover.call")
                          .tags("client.name", "directory", "method", "GET")
                          .tags("outcome", "success", "status", "200")
                          .timer()
                          .count())
                  .isEqualTo(1);
              assertThat(
                      meters
                          .get("failover.attempt")
                          .tags("attempt.kind", "first", "zone", "us-east-1a", "status", "503")
                          .timer()
                          .count())
                  .isEqualTo(1);
              assertThat(
                      meters
                          .get("failover.attempt")
                          .tags("attempt.kind", "retry", "zone", "us-east-1b", "outcome", "success")
                          .timer()
                          .count())
                  .isEqualTo(1);
              // The starter's meters are there too, from the same client.
              assertThat(meters.get("failover.calls").timer().count()).isEqualTo(1);
            });
  }

  /** With Boot's RestClient.Builder, observed itself: the call is a child of its exchange. */
  @Test
  void callsThroughTheRestClientAreChildrenOfItsObservation() {
    runner
        .withConfiguration(
            AutoConfigurations.of(
                RestClientAutoConfiguration.class, RestClientObservationAutoConfiguration.class))
        .withPropertyValues(directory())
        .withBean(Recorder.class, Recorder::new)
        .run(
            context -> {
              RestClient directory = context.getBean("directoryRestClient", RestClient.class);
              directory.get().uri("/users/{id}", 42).retrieve().toBodilessEntity();
              Recorder recorder = context.getBean(Recorder.class);
              FailoverObservations.CallContext call =
                  recorder.of(FailoverObservations.CallContext.class).get(0);
              assertThat(call.getParentObservation()).isNotNull();
              assertThat(call.getParentObservation().getContextView().getName())
                  .isEqualTo("http.client.requests");
              assertThat(recorder.of(FailoverObservations.AttemptContext.class)).hasSize(2);
            });
  }

  @Test
  void bootsSwitchTurnsTheObservationsOff() {
    runner
        .withPropertyValues(directory())
        .withPropertyValues("management.observations.enable.failover=false")
        .withBean(Recorder.class, Recorder::new)
        .run(
            context -> {
              callDirectly(context.getBean(FailoverClient.class));
              assertThat(context.getBean(Recorder.class).started).isEmpty();
              MeterRegistry meters = context.getBean(MeterRegistry.class);
              assertThat(meters.find("failover.call").timer()).isNull();
              assertThat(meters.find("failover.attempt").timer()).isNull();
              assertThat(meters.get("failover.calls").timer().count()).isEqualTo(1);
            });
  }

  @Test
  void aConventionBeanReplacesTheDefault() {
    runner
        .withPropertyValues(directory())
        .withBean(
            FailoverObservations.CallConvention.class,
            () ->
                new FailoverObservations.CallConvention() {
                  @Override
                  public KeyValues getLowCardinalityKeyValues(
                      FailoverObservations.CallContext context) {
                    return FailoverObservations.CallConvention.super
                        .getLowCardinalityKeyValues(context)
                        .and("team", "identity");
                  }
                })
        .run(
            context -> {
              callDirectly(context.getBean(FailoverClient.class));
              assertThat(
                      context
                          .getBean(MeterRegistry.class)
                          .get("failover.call")
                          .tags("team", "identity", "outcome", "success")
                          .timer()
                          .count())
                  .isEqualTo(1);
            });
  }

  @Test
  void withoutAnObservationRegistryThereAreNoObservations() {
    new ApplicationContextRunner()
        .withConfiguration(
            AutoConfigurations.of(
                FailoverAutoConfiguration.class, FailoverObservationAutoConfiguration.class))
        .withPropertyValues(directory())
        .withPropertyValues("failover.home.region=us-east-1", "failover.home.zone=us-east-1a")
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              assertThat(context).doesNotHaveBean(ObservationInstrumentation.class);
              callDirectly(context.getBean(FailoverClient.class));
            });
  }
}
