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
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
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
import org.jspecify.annotations.Nullable;
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

  /** Calls {@code GET /users/<id>} through the client itself. */
  private static void call(FailoverClient client, int id) throws java.io.IOException {
    okhttp3.Request request =
        new okhttp3.Request.Builder().url("http://" + client.service() + "/users/" + id).build();
    try (okhttp3.Response response = client.newCall(request).execute()) {
      assertThat(response.code()).isEqualTo(200);
    }
  }

  private static long calls(MeterRegistry registry) {
    return registry.find("failover.calls").tag("client.name", "directory").timers().stream()
        .mapToLong(t -> t.count())
        .sum();
  }

  /**
   * A client the application builds from a starter's client with {@code newBuilder()} carries the
   * starter's metric listener (the builder copies the listeners) and the same name, yet is not
   * counted in that client's meters; nor once a change has reconfigured the starter's client
   * through a builder of the starter's own.
   */
  @Test
  void aClientBuiltFromAStartersClientIsNotCountedInItsMetersBeforeOrAfterAChange() {
    runner()
        .withConfiguration(AutoConfigurations.of(FailoverMetricsAutoConfiguration.class))
        .withBean(MeterRegistry.class, SimpleMeterRegistry::new)
        .run(
            context -> {
              MeterRegistry registry = context.getBean(MeterRegistry.class);
              FailoverClient directory =
                  context.getBean("directoryFailoverClient", FailoverClient.class);
              try (FailoverClient slow =
                  directory.newBuilder().deadline(Duration.ofSeconds(30)).build()) {
                for (int i = 0; i < 3; i++) {
                  call(slow, i);
                }
                call(directory, 42);
                assertThat(slow.snapshot().counters().calls()).isEqualTo(3);
                assertThat(calls(registry)).isEqualTo(1);

                change(context, "failover.clients.directory.deadline", "3s");
                assertThat(directory.settings().deadline()).isEqualTo(Duration.ofSeconds(3));
                call(slow, 3);
                call(directory, 43);
                assertThat(calls(registry)).isEqualTo(2);
                assertThat(calls(registry)).isEqualTo(directory.snapshot().counters().calls());
              }
            });
  }

  /**
   * A key outside failover that a failover key takes through a placeholder: Spring Cloud's refresh
   * names only that key, and the client it reaches follows it; the other client is not rebuilt.
   */
  @Test
  void aChangeReachingAFailoverKeyThroughAPlaceholderIsApplied() {
    Map<String, AtomicInteger> customized = new HashMap<>();
    runner()
        .withPropertyValues("failover.clients.directory.deadline=${directory.deadline:2s}")
        .withBean(
            FailoverClientCustomizer.class,
            () ->
                (name, builder) ->
                    customized.computeIfAbsent(name, n -> new AtomicInteger()).incrementAndGet())
        .run(
            context -> {
              FailoverClient directory =
                  context.getBean("directoryFailoverClient", FailoverClient.class);
              assertThat(directory.settings().deadline()).isEqualTo(Duration.ofSeconds(2));

              change(context, "directory.deadline", "5s");
              assertThat(directory.settings().deadline()).isEqualTo(Duration.ofSeconds(5));
              assertThat(customized.get("directory")).hasValue(2);
              assertThat(customized.get("groups")).hasValue(1);

              // A key that no failover key takes: no client is rebuilt.
              change(context, "spring.application.name", "elsewhere");
              assertThat(customized.get("directory")).hasValue(2);

              // Removed again: the placeholder's default.
              change(context, "directory.deadline", null);
              assertThat(directory.settings().deadline()).isEqualTo(Duration.ofSeconds(2));
              assertThat(customized.get("groups")).hasValue(1);
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
              // A name Spring's binder takes for this client's: not applied, as at start.
              change(context, "failover.clients.Directory.deadline", "3s");
              assertThat(output)
                  .contains(
                      "failover configuration change not applied: Property"
                          + " failover.clients.directory is invalid: names the same client as"
                          + " failover.clients.Directory");
              change(context, "failover.clients.Directory.deadline", null);
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

  /** The planned shift of the directory client's zone us-east-1a. */
  private static final String DIRECTORY_SHIFT =
      "failover.clients.directory.zonal-shifts.us-east-1a";

  /**
   * Plans, by a change of its property, a shift of the directory client's zone us-east-1a for an
   * hour; returns the client, shifted by the property.
   */
  private FailoverClient plannedShiftOfDirectory(ConfigurableApplicationContext context) {
    FailoverClient client = context.getBean("directoryFailoverClient", FailoverClient.class);
    change(context, DIRECTORY_SHIFT, Instant.now().plus(Duration.ofHours(1)).toString());
    assertThat(shiftReason(client, "us-east-1a"))
        .startsWith("shifted away by property " + DIRECTORY_SHIFT + " until ");
    return client;
  }

  @Test
  void zonalShiftPropertiesFollowTheChange() {
    runner()
        .run(
            context -> {
              FailoverClient client = plannedShiftOfDirectory(context);
              String key = DIRECTORY_SHIFT;
              // An unrelated change keeps it, and so does the new core the change builds.
              change(context, "failover.clients.directory.deadline", "3s");
              assertThat(ZonalShiftStarterTests.status(client, "us-east-1a"))
                  .isEqualTo(FailoverSnapshot.ZoneStatus.SHIFTED);
              change(context, key, null);
              assertThat(ZonalShiftStarterTests.status(client, "us-east-1a"))
                  .isNotEqualTo(FailoverSnapshot.ZoneStatus.SHIFTED);
            });
  }

  /** A planned shift whose end is changed to a time that has passed ends at once. */
  @Test
  void aPlannedShiftChangedToAnEndThatHasPassedEndsNow() {
    runner()
        .run(
            context -> {
              FailoverClient client = plannedShiftOfDirectory(context);

              change(
                  context, DIRECTORY_SHIFT, Instant.now().minus(Duration.ofMinutes(5)).toString());

              assertThat(ZonalShiftStarterTests.status(client, "us-east-1a"))
                  .isNotEqualTo(FailoverSnapshot.ZoneStatus.SHIFTED);
            });
  }

  /**
   * A property removed, or changed to an end that has passed, ends only the shift it made: an
   * operator's shift made since stays.
   */
  @Test
  void aPlannedShiftPropertyLeavesAnOperatorsNewerShift() {
    runner()
        .run(
            context -> {
              FailoverClient client = plannedShiftOfDirectory(context);
              String key = DIRECTORY_SHIFT;
              client.shiftAway("us-east-1a", Duration.ofHours(2), "actuator:alice");

              change(context, key, null);

              assertThat(shiftReason(client, "us-east-1a"))
                  .startsWith("shifted away by actuator:alice until ");

              // Added again, the property's shift replaces the operator's; the operator's next one
              // stays when the property's end is moved into the past.
              change(context, key, Instant.now().plus(Duration.ofHours(1)).toString());
              assertThat(shiftReason(client, "us-east-1a"))
                  .startsWith("shifted away by property " + key + " until ");
              client.shiftAway("us-east-1a", Duration.ofHours(2), "actuator:bob");

              change(context, key, Instant.now().minus(Duration.ofMinutes(5)).toString());

              assertThat(shiftReason(client, "us-east-1a"))
                  .startsWith("shifted away by actuator:bob until ");
            });
  }

  /** The reason of a zone's status; its status must be SHIFTED. */
  private static String shiftReason(FailoverClient client, String zone) {
    FailoverSnapshot.Zone z =
        client.snapshot().zones().stream()
            .filter(each -> each.locality().zone().equals(zone))
            .findFirst()
            .orElseThrow();
    assertThat(z.status()).isEqualTo(FailoverSnapshot.ZoneStatus.SHIFTED);
    return z.reason();
  }

  /**
   * A context with a client {@code registry} fed by {@code registry}, whose first list is every
   * fake endpoint but those of {@code missing}.
   */
  private ApplicationContextRunner registryRunner(EndpointSource.Push registry, String missing) {
    return runner()
        .withPropertyValues("failover.clients.registry.discovery.service-id=registry-service")
        .withBean(EndpointSources.class, () -> (name, settings) -> registry)
        .withInitializer(c -> registry.update(endpointsBut(missing)));
  }

  /** Every fake endpoint, but those of {@code zone} (null for none). */
  private static List<Endpoint> endpointsBut(@Nullable String zone) {
    return zones.endpoints().stream()
        .filter(d -> !d.zone().equals(zone))
        .map(d -> Endpoint.of(d.url(), d.region(), d.zone()))
        .toList();
  }

  /** The zones with endpoints (a zone without any is in the snapshot while it holds a shift). */
  private static List<String> zoneNames(FailoverClient client) {
    return client.snapshot().zones().stream()
        .filter(z -> !z.endpoints().isEmpty())
        .map(z -> z.locality().zone())
        .toList();
  }

  /**
   * Planned maintenance: the zone's instances are deregistered when the application starts, with
   * its shift planned in the properties. The application starts, and the shift is applied when the
   * registry lists the zone's endpoints again, requested by the property.
   */
  @Test
  void aPlannedShiftOfAZoneTheRegistryDoesNotListAtStartIsAppliedWhenItReturns(
      CapturedOutput output) {
    EndpointSource.Push registry = new EndpointSource.Push("test-registry");
    String key = "failover.clients.registry.zonal-shifts.us-east-1b";
    registryRunner(registry, "us-east-1b")
        .withPropertyValues(key + "=" + Instant.now().plus(Duration.ofHours(1)))
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              FailoverClient client =
                  context.getBean("registryFailoverClient", FailoverClient.class);
              assertThat(zoneNames(client)).doesNotContain("us-east-1b");
              assertThat(output)
                  .contains(
                      key
                          + ": no endpoint of the client is in zone 'us-east-1b' now; its zonal"
                          + " shift until ");

              registry.update(endpointsBut(null));

              assertThat(shiftReason(client, "us-east-1b"))
                  .startsWith("shifted away by property " + key + " until ");
            });
  }

  /**
   * A planned shift added at run time for a zone the registry does not list is held, not recorded
   * as applied: it is applied when the zone's endpoints return. Removed while held, it is not.
   */
  @Test
  void aPlannedShiftAddedWhileItsZoneIsNotListedIsAppliedWhenItReturns() {
    EndpointSource.Push registry = new EndpointSource.Push("test-registry");
    String key = "failover.clients.registry.zonal-shifts.us-east-1b";
    registryRunner(registry, "us-east-1b")
        .run(
            context -> {
              FailoverClient client =
                  context.getBean("registryFailoverClient", FailoverClient.class);
              change(context, key, Instant.now().plus(Duration.ofHours(1)).toString());
              assertThat(zoneNames(client)).doesNotContain("us-east-1b");

              registry.update(endpointsBut(null));

              assertThat(shiftReason(client, "us-east-1b"))
                  .startsWith("shifted away by property " + key + " until ");

              // The zone leaves the list, shifted, and its property is removed meanwhile: it
              // returns unshifted.
              registry.update(endpointsBut("us-east-1b"));
              change(context, key, null);
              registry.update(endpointsBut(null));
              assertThat(ZonalShiftStarterTests.status(client, "us-east-1b"))
                  .isNotEqualTo(FailoverSnapshot.ZoneStatus.SHIFTED);

              // Added and removed while the zone is not listed: never applied.
              registry.update(endpointsBut("us-east-1b"));
              change(context, key, Instant.now().plus(Duration.ofHours(1)).toString());
              change(context, key, null);
              registry.update(endpointsBut(null));
              assertThat(ZonalShiftStarterTests.status(client, "us-east-1b"))
                  .isNotEqualTo(FailoverSnapshot.ZoneStatus.SHIFTED);
            });
  }

  /**
   * A planned shift holds through a change at run time made while the registry lists none of its
   * zone's endpoints (deregistered for the maintenance): the zone returns shifted. The new core
   * once dropped the shift it could not place, and the zone came back in traffic.
   */
  @Test
  void aPlannedShiftHoldsThroughAChangeMadeWhileTheRegistryListsNoneOfItsZone() {
    EndpointSource.Push registry = new EndpointSource.Push("test-registry");
    String key = "failover.clients.registry.zonal-shifts.us-east-1b";
    registryRunner(registry, null)
        .withPropertyValues(key + "=" + Instant.now().plus(Duration.ofHours(1)))
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              FailoverClient client =
                  context.getBean("registryFailoverClient", FailoverClient.class);
              assertThat(shiftReason(client, "us-east-1b"))
                  .startsWith("shifted away by property " + key + " until ");

              registry.update(endpointsBut("us-east-1b"));
              assertThat(zoneNames(client)).doesNotContain("us-east-1b");
              change(context, "failover.clients.registry.deadline", "3s");
              assertThat(client.settings().deadline()).isEqualTo(Duration.ofSeconds(3));
              assertThat(zoneNames(client)).doesNotContain("us-east-1b");
              // Held, and shown: the zone without endpoints is in the snapshot, shifted.
              assertThat(shiftReason(client, "us-east-1b"))
                  .startsWith("shifted away by property " + key + " until ");
              registry.update(endpointsBut(null));

              assertThat(shiftReason(client, "us-east-1b"))
                  .startsWith("shifted away by property " + key + " until ");
            });
  }

  /**
   * The same for a client with endpoints of its own: a change that leaves the zone's endpoints out,
   * then one that brings them back, and the zone is shifted again, as the properties in force say.
   */
  @Test
  void aPlannedShiftHoldsWhileAChangeLeavesItsZonesEndpointsOut() {
    Map<String, String> listed = zones.springProperties("directory");
    String key = "failover.clients.directory.zonal-shifts.us-east-1b";
    runner()
        .withPropertyValues(key + "=" + Instant.now().plus(Duration.ofHours(1)))
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              FailoverClient client =
                  context.getBean("directoryFailoverClient", FailoverClient.class);
              assertThat(shiftReason(client, "us-east-1b"))
                  .startsWith("shifted away by property " + key + " until ");

              // The endpoints without us-east-1b's, from the first property source: the list
              // is bound from it as a whole.
              Map<String, String> without = new HashMap<>();
              int j = 0;
              for (int i = 0; listed.containsKey(endpoint(i, "zone")); i++) {
                if (listed.get(endpoint(i, "zone")).equals("us-east-1b")) {
                  continue;
                }
                for (String field : List.of("url", "region", "zone")) {
                  without.put(endpoint(j, field), listed.get(endpoint(i, field)));
                }
                j++;
              }
              change(context, without);
              assertThat(zoneNames(client)).doesNotContain("us-east-1b");
              assertThat(shiftReason(client, "us-east-1b"))
                  .startsWith("shifted away by property " + key + " until ");

              Map<String, String> back = new HashMap<>();
              without.keySet().forEach(k -> back.put(k, null));
              change(context, back);
              change(context, "failover.clients.directory.deadline", "3s");

              assertThat(shiftReason(client, "us-east-1b"))
                  .startsWith("shifted away by property " + key + " until ");
            });
  }

  private static String endpoint(int index, String field) {
    return "failover.clients.directory.endpoints[" + index + "]." + field;
  }

  /** An end too far ahead fails start-up, listed zone or not. */
  @Test
  void aPlannedShiftOfAnUnlistedZoneEndingTooFarAheadStopsTheApp() {
    EndpointSource.Push registry = new EndpointSource.Push("test-registry");
    registryRunner(registry, "us-east-1b")
        .withPropertyValues(
            "failover.clients.registry.zonal-shifts.us-east-1b="
                + Instant.now().plus(Duration.ofDays(4)))
        .run(
            context ->
                assertThat(context)
                    .getFailure()
                    .rootCause()
                    .hasMessageContaining("between 1 s and 3 days"));
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
        .withBean(EndpointSources.class, () -> counting(registry, created, closed))
        .withInitializer(
            c -> {
              List<Endpoint> list = zoneEndpoints();
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
              // It keeps its source until the next start, and the client still follows every
              // other change: its settings, a planned shift of one of its zones.
              change(context, "failover.clients.registry.deadline", "3s");
              assertThat(client.settings().deadline()).isEqualTo(Duration.ofSeconds(3));
              change(
                  context,
                  "failover.clients.registry.zonal-shifts.us-east-1b",
                  Instant.now().plus(Duration.ofHours(1)).toString());
              assertThat(ZonalShiftStarterTests.status(client, "us-east-1b"))
                  .isEqualTo(FailoverSnapshot.ZoneStatus.SHIFTED);
              assertThat(created).hasValue(1);
              registry.update(fewer);
              assertThat(client.endpoints()).isEqualTo(fewer);
            });
    assertThat(closed).hasValue(1);
  }

  /**
   * A client with static endpoints moved to a registry at run time, its endpoints removed: it keeps
   * its endpoints until the next start, says so, and its planned shifts still follow the properties
   * (no error about the endpoints it no longer lists).
   */
  @Test
  void aStaticClientMovedToARegistryAtRunTimeStillFollowsItsPlannedShifts(CapturedOutput output) {
    runner()
        .run(
            context -> {
              FailoverClient client =
                  context.getBean("directoryFailoverClient", FailoverClient.class);
              FailoverSettings before = client.settings();
              Map<String, String> move = new HashMap<>();
              move.put("failover.clients.directory.discovery.service-id", "directory-service");
              move.put("failover.clients.directory.endpoints", "");
              change(context, move);
              assertThat(output)
                  .contains(
                      "failover.clients.directory.discovery.service-id changed from null to"
                          + " directory-service while the application runs")
                  .contains("only its zonal-shifts properties follow changes until then")
                  .doesNotContain("failover configuration change not applied");
              assertThat(client.settings()).isSameAs(before);

              plannedShiftOfDirectory(context);
            });
  }

  /**
   * A customizer that gives a client its endpoint source would give it a new one on every change,
   * which reconfigure refuses: the customizers do not run again (no source is made that no one
   * starts or closes), the change is logged as not applied, and planned shifts still follow.
   */
  @Test
  void aClientWhoseCustomizerGivesItsSourceKeepsItsSettingsAndSaysSo(CapturedOutput output) {
    AtomicInteger sources = new AtomicInteger();
    runner()
        .withBean(
            FailoverClientCustomizer.class,
            () ->
                FailoverClientCustomizer.forClient(
                    "directory",
                    b -> {
                      sources.incrementAndGet();
                      b.endpointSource(new EndpointSource.Push("custom-registry"));
                    }))
        .run(
            context -> {
              FailoverClient directory =
                  context.getBean("directoryFailoverClient", FailoverClient.class);
              FailoverClient groups = context.getBean("groupsFailoverClient", FailoverClient.class);
              FailoverSettings before = directory.settings();
              assertThat(before.endpointSource()).hasValue("custom-registry");

              change(context, "failover.defaults.deadline", "3s");
              assertThat(output)
                  .contains(
                      "failover configuration change not applied to failover.clients.directory: a"
                          + " FailoverClientCustomizer gives the client its endpoint source"
                          + " 'custom-registry'");
              assertThat(sources).hasValue(1);
              assertThat(directory.settings()).isSameAs(before);
              assertThat(groups.settings().deadline()).isEqualTo(Duration.ofSeconds(3));

              plannedShiftOfDirectory(context);
              assertThat(sources).hasValue(1);
            });
  }

  /** The registry source the starter made for a client, replaced by a customizer's, is closed. */
  @Test
  void aRegistrySourceThatACustomizerReplacedIsClosed() {
    EndpointSource.Push custom = new EndpointSource.Push("custom-registry");
    AtomicInteger created = new AtomicInteger();
    AtomicInteger closed = new AtomicInteger();
    runner()
        .withPropertyValues("failover.clients.registry.discovery.service-id=registry-service")
        .withBean(
            EndpointSources.class,
            () -> counting(new EndpointSource.Push("starter-registry"), created, closed))
        .withBean(
            FailoverClientCustomizer.class,
            () -> FailoverClientCustomizer.forClient("registry", b -> b.endpointSource(custom)))
        .withInitializer(c -> custom.update(zoneEndpoints()))
        .run(
            context -> {
              FailoverClient client =
                  context.getBean("registryFailoverClient", FailoverClient.class);
              assertThat(client.settings().endpointSource()).hasValue("custom-registry");
              assertThat(created).hasValue(1);
              assertThat(closed).hasValue(1);
            });
    assertThat(closed).hasValue(1);
  }

  /** The endpoints of the fake zones. */
  private static List<Endpoint> zoneEndpoints() {
    return zones.endpoints().stream().map(d -> Endpoint.of(d.url(), d.region(), d.zone())).toList();
  }

  /**
   * Registry sources for the starter that each pass to {@code registry}, counting how many were
   * created and closed.
   */
  private static EndpointSources counting(
      EndpointSource.Push registry, AtomicInteger created, AtomicInteger closed) {
    return (name, settings) -> {
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
    };
  }
}
