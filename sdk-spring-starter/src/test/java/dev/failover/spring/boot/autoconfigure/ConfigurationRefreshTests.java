package dev.failover.spring.boot.autoconfigure;

import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.assertj.core.api.Assertions.assertThat;

import dev.failover.Endpoint;
import dev.failover.EndpointSource;
import dev.failover.FailoverClient;
import dev.failover.FailoverSettings;
import dev.failover.FailoverSnapshot;
import dev.failover.Locality;
import dev.failover.testkit.FakeZones;
import dev.failover.testkit.Mark;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.cloud.context.environment.EnvironmentChangeEvent;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.env.MapPropertySource;
import org.springframework.http.ResponseEntity;
import org.springframework.web.client.RestClient;

/**
 * Clients follow configuration changes at run time: a property changes in the environment, and
 * Spring Cloud's refresh publishes an {@link EnvironmentChangeEvent} naming it (as {@code
 * /actuator/refresh} does after reloading the configuration). Real WireMock zones, a real context.
 */
@ExtendWith(OutputCaptureExtension.class)
class ConfigurationRefreshTests {

  @RegisterExtension
  static final FakeZones zones =
      FakeZones.builder()
          .region("us-east-1", "us-east-1a", "us-east-1b")
          .region("us-west-2", "us-west-2a")
          .build();

  /** The property source a change writes to, first in the environment. */
  private final Map<String, Object> changes = new HashMap<>();

  private ApplicationContextRunner runner() {
    List<String> properties = new ArrayList<>();
    properties.add("failover.home.region=us-east-1");
    properties.add("failover.home.zone=us-east-1a");
    zones.springProperties("directory").forEach((k, v) -> properties.add(k + "=" + v));
    zones.springProperties("groups").forEach((k, v) -> properties.add(k + "=" + v));
    return new ApplicationContextRunner()
        .withConfiguration(AutoConfigurations.of(FailoverAutoConfiguration.class))
        .withInitializer(
            c ->
                c.getEnvironment()
                    .getPropertySources()
                    .addFirst(new MapPropertySource("changes", changes)))
        .withPropertyValues(properties.toArray(String[]::new));
  }

  @BeforeEach
  void stub() {
    zones.stubAll(
        get(urlPathMatching("/users/.*"))
            .willReturn(okJson("{\"id\":42}").withFixedDelay(20))); // 200 calls take about 2 s
  }

  /** Sets (or with null, removes) properties, then publishes the change as Spring Cloud does. */
  private void change(ConfigurableApplicationContext context, Map<String, String> values) {
    values.forEach(
        (k, v) -> {
          if (v == null) {
            changes.remove(k);
          } else {
            changes.put(k, v);
          }
        });
    context.publishEvent(new EnvironmentChangeEvent(context, values.keySet()));
  }

  private void change(ConfigurableApplicationContext context, String key, String value) {
    Map<String, String> one = new HashMap<>();
    one.put(key, value);
    change(context, one);
  }

  private static Set<Thread> clientThreads(String service) {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(Thread::isAlive)
        .filter(t -> t.getName().startsWith("failover-" + service + "-"))
        .collect(Collectors.toSet());
  }

  /**
   * 200 calls from two threads over about 2 s; after 50, the home zone changes from us-east-1a to
   * us-east-1b. No call fails, calls after the change go to the new home zone (but for the one per
   * thread that was under way), the injected beans stay the same objects, and the old client's
   * threads end.
   */
  @Test
  void aChangeUnderASteadyStreamLosesNoCallAndMovesCallsToTheNewSettings() {
    runner()
        .run(
            context -> {
              FailoverClient client =
                  context.getBean("directoryFailoverClient", FailoverClient.class);
              RestClient rest = context.getBean("directoryRestClient", RestClient.class);
              rest.get().uri("/users/0").retrieve().toBodilessEntity(); // its threads exist
              Set<Thread> oldThreads = clientThreads("directory");
              AtomicInteger done = new AtomicInteger();
              AtomicInteger failed = new AtomicInteger();
              CountDownLatch fifty = new CountDownLatch(50);
              ExecutorService callers = Executors.newFixedThreadPool(2);
              List<Future<?>> streams = new ArrayList<>();
              try {
                for (int t = 0; t < 2; t++) {
                  streams.add(
                      callers.submit(
                          () -> {
                            for (int i = 0; i < 100; i++) {
                              ResponseEntity<String> r =
                                  rest.get().uri("/users/{i}", i).retrieve().toEntity(String.class);
                              if (r.getStatusCode().value() != 200) {
                                failed.incrementAndGet();
                              }
                              done.incrementAndGet();
                              fifty.countDown();
                            }
                            return null;
                          }));
                }
                assertThat(fifty.await(30, TimeUnit.SECONDS)).isTrue();

                change(context, "failover.home.zone", "us-east-1b");
                Mark mark = zones.mark();
                int doneAtChange = done.get();

                for (Future<?> f : streams) {
                  f.get(60, TimeUnit.SECONDS); // rethrows a failed call
                }
                assertThat(done).hasValue(200);
                assertThat(failed).hasValue(0);
                int after = 200 - doneAtChange;
                assertThat(after).as("calls after the change").isGreaterThan(50);
                assertThat(zones.zone("us-east-1a").requestCount(mark))
                    .as("calls after the change in the old home zone")
                    .isLessThanOrEqualTo(2);
                assertThat(zones.zone("us-east-1b").requestCount(mark))
                    .isGreaterThanOrEqualTo(after - 2);
              } finally {
                callers.shutdownNow();
              }
              assertThat(context.getBean("directoryFailoverClient")).isSameAs(client);
              assertThat(context.getBean("directoryRestClient")).isSameAs(rest);
              assertThat(client.home()).isEqualTo(Locality.of("us-east-1", "us-east-1b"));
              assertThat(client.snapshot().counters().calls()).isEqualTo(201);
              assertThat(client.snapshot().counters().failedCalls()).isZero();
              // The old client's threads end (each joined, bounded: a real asynchronous end).
              oldThreads.addAll(
                  clientThreads("directory").stream()
                      .filter(t -> t.getName().equals("failover-directory-retire"))
                      .collect(Collectors.toSet()));
              for (Thread t : oldThreads) {
                t.join(TimeUnit.SECONDS.toMillis(10));
              }
              assertThat(oldThreads).noneMatch(Thread::isAlive);
            });
    assertThat(clientThreads("directory")).isEmpty();
  }

  @Test
  void onlyTheClientsAChangeConcernsGetANewCore() {
    runner()
        .withPropertyValues("failover.clients.groups.deadline=2s")
        .run(
            context -> {
              FailoverClient directory =
                  context.getBean("directoryFailoverClient", FailoverClient.class);
              FailoverClient groups = context.getBean("groupsFailoverClient", FailoverClient.class);
              FailoverSettings directoryBefore = directory.settings();
              FailoverSettings groupsBefore = groups.settings();

              change(context, "spring.application.name", "elsewhere");
              assertThat(directory.settings()).isSameAs(directoryBefore);
              assertThat(groups.settings()).isSameAs(groupsBefore);

              change(context, "failover.clients.directory.deadline", "3s");
              assertThat(directory.settings().deadline()).isEqualTo(Duration.ofSeconds(3));
              assertThat(groups.settings()).isSameAs(groupsBefore);

              // A default that groups overrides: groups comes out the same and keeps its core.
              FailoverSettings directoryNow = directory.settings();
              change(context, "failover.defaults.deadline", "4s");
              assertThat(groups.settings()).isSameAs(groupsBefore);
              assertThat(directory.settings()).isSameAs(directoryNow); // its own 3s

              change(context, "failover.configs.default.retryable-statuses", "500,503");
              assertThat(groups.settings().retryableStatuses()).containsExactlyInAnyOrder(500, 503);
              assertThat(directory.settings().retryableStatuses())
                  .containsExactlyInAnyOrder(500, 503);

              // Removed again: back to the SDK's default, not the last value.
              change(context, "failover.clients.directory.deadline", null);
              assertThat(directory.settings().deadline()).isEqualTo(Duration.ofSeconds(4));
            });
  }

  /**
   * A change whose settings do not fit together (build()'s InvalidConfigurationException) is logged
   * naming the property to change, its value, origin and the advice; nothing is applied.
   */
  @Test
  void aChangeWhoseSettingsConflictIsLoggedNamingTheProperty(CapturedOutput output) {
    runner()
        .run(
            context -> {
              FailoverClient client =
                  context.getBean("directoryFailoverClient", FailoverClient.class);
              FailoverSettings before = client.settings();
              String d = "failover.clients.directory.";
              change(context, Map.of(d + "deadline", "1s", d + "attempt-timeout", "2s"));
              assertThat(output)
                  .contains(
                      "failover configuration change not applied to failover.clients.directory:"
                          + " Property "
                          + d
                          + "attempt-timeout with value '2s' is invalid: must not exceed the"
                          + " deadline (PT1S, set by "
                          + d
                          + "deadline) but was PT2S (\""
                          + d
                          + "attempt-timeout\" from property source \"changes\"); lower "
                          + d
                          + "attempt-timeout to at most the deadline (PT1S), or raise "
                          + d
                          + "deadline");
              assertThat(client.settings()).isSameAs(before);
            });
  }

  @Test
  void aWrongChangeIsLoggedAndTheClientKeepsItsSettings(CapturedOutput output) {
    runner()
        .run(
            context -> {
              FailoverClient client =
                  context.getBean("directoryFailoverClient", FailoverClient.class);
              FailoverSettings before = client.settings();

              change(context, "failover.clients.directory.deadline", "-1s");
              assertThat(output)
                  .contains(
                      "failover configuration change not applied to failover.clients.directory:"
                          + " Property failover.clients.directory.deadline with value '-1s' is"
                          + " invalid: must be a positive duration but was PT-1S");
              // A value that does not bind: the property, its value, origin, why and advice.
              change(context, "failover.clients.directory.deadline", "soon");
              assertThat(output)
                  .contains(
                      "failover configuration change not applied: Property"
                          + " failover.clients.directory.deadline with value 'soon' is invalid:"
                          + " cannot be converted to Duration (")
                  .contains(
                      "(\"failover.clients.directory.deadline\" from property source"
                          + " \"changes\"); use a duration such as 500ms or 2s");
              // Masked as everywhere: the value, and the reason that quotes it.
              change(context, "failover.clients.directory.deadline", "2s?access_token=s3cr3t");
              assertThat(output)
                  .contains(
                      "Property failover.clients.directory.deadline with value"
                          + " '2s?access_token=***' is invalid")
                  .doesNotContain("s3cr3t");
              change(context, "failover.clients.directory.deadline", null);
              change(context, "failover.clients.directory.dedline", "2s");
              assertThat(output)
                  .contains(
                      "failover configuration change not applied: Property"
                          + " failover.clients.directory.dedline with value '2s' is invalid: is not"
                          + " a failover setting; did you mean failover.clients.directory.deadline?"
                          + " (\"failover.clients.directory.dedline\" from property source"
                          + " \"changes\"); ");
              change(context, "failover.clients.directory.dedline", null);
              change(context, "failover.clients.directory.base-config", "nope");
              assertThat(output)
                  .contains(
                      "Property failover.clients.directory.base-config with value 'nope' is"
                          + " invalid: names no shared configuration");
              assertThat(client.settings()).isSameAs(before);
              assertThat(
                      client
                          .newCall(
                              new okhttp3.Request.Builder().url("http://directory/users/1").build())
                          .execute()
                          .code())
                  .isEqualTo(200);

              change(context, "failover.clients.directory.base-config", null);
              change(context, "failover.clients.audit.endpoints[0].url", "http://127.0.0.1:5");
              assertThat(output)
                  .contains(
                      "failover.clients.audit was added while the application runs: clients and"
                          + " their beans are created at start; restart to use it");
            });
  }

  @Test
  void zonalShiftPropertiesFollowTheChange() {
    runner()
        .run(
            context -> {
              FailoverClient client =
                  context.getBean("directoryFailoverClient", FailoverClient.class);
              String key = "failover.clients.directory.zonal-shifts.us-east-1a";
              change(context, key, Instant.now().plus(Duration.ofHours(1)).toString());
              assertThat(ZonalShiftStarterTests.status(client, "us-east-1a"))
                  .isEqualTo(FailoverSnapshot.ZoneStatus.SHIFTED);
              // An unrelated change keeps it, and so does the new core the change builds.
              change(context, "failover.clients.directory.deadline", "3s");
              assertThat(ZonalShiftStarterTests.status(client, "us-east-1a"))
                  .isEqualTo(FailoverSnapshot.ZoneStatus.SHIFTED);
              change(context, key, null);
              assertThat(ZonalShiftStarterTests.status(client, "us-east-1a"))
                  .isNotEqualTo(FailoverSnapshot.ZoneStatus.SHIFTED);
            });
  }

  /**
   * A client fed by a registry keeps its source through a change: the source is neither replaced
   * nor closed, and its next list reaches the reconfigured client.
   */
  @Test
  void aClientFedByARegistryKeepsItsSource(CapturedOutput output) {
    EndpointSource.Push registry = new EndpointSource.Push("test-registry");
    AtomicInteger created = new AtomicInteger();
    AtomicInteger closed = new AtomicInteger();
    AtomicReference<List<Endpoint>> all = new AtomicReference<>();
    runner()
        .withPropertyValues("failover.clients.registry.discovery.service-id=registry-service")
        .withBean(
            EndpointSources.class,
            () ->
                (name, settings) -> {
                  created.incrementAndGet();
                  return new EndpointSource() {
                    @Override
                    public void start(Updates updates) {
                      registry.start(updates);
                    }

                    @Override
                    public void close() {
                      closed.incrementAndGet();
                      registry.close();
                    }

                    @Override
                    public String description() {
                      return registry.description();
                    }
                  };
                })
        .withInitializer(
            c -> {
              List<Endpoint> list =
                  zones.endpoints().stream()
                      .map(d -> Endpoint.of(d.url(), d.region(), d.zone()))
                      .toList();
              all.set(list);
              registry.update(list);
            })
        .run(
            context -> {
              FailoverClient client =
                  context.getBean("registryFailoverClient", FailoverClient.class);
              assertThat(client.endpoints()).isEqualTo(all.get());

              change(context, "failover.clients.registry.discovery.max-staleness", "10m");
              assertThat(created).hasValue(1);
              assertThat(closed).hasValue(0);
              assertThat(client.endpoints()).isEqualTo(all.get());
              // Without the last endpoint (not the home zone's: a list that empties the home zone
              // is held until the source confirms it).
              List<Endpoint> fewer = all.get().subList(0, all.get().size() - 1);
              registry.update(fewer);
              assertThat(client.endpoints()).isEqualTo(fewer);

              // The source's own settings stay as it started with, and a change to them says so.
              change(context, "failover.clients.registry.discovery.refresh-interval", "45s");
              assertThat(output)
                  .contains(
                      "failover.clients.registry.discovery: the registry source's settings changed"
                          + " while the application runs")
                  .contains("refreshInterval=PT45S");
              assertThat(created).hasValue(1);
              registry.update(all.get());
              assertThat(client.endpoints()).isEqualTo(all.get());

              change(context, "failover.clients.registry.discovery.service-id", "other-service");
              assertThat(output)
                  .contains(
                      "failover.clients.registry.discovery.service-id changed from registry-service"
                          + " to other-service while the application runs");
              assertThat(created).hasValue(1);
            });
    assertThat(closed).hasValue(1);
  }
}
