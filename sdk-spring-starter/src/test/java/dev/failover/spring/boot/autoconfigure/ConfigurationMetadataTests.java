package dev.failover.spring.boot.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import com.jayway.jsonpath.DocumentContext;
import com.jayway.jsonpath.JsonPath;
import dev.failover.DiscoveryPolicy;
import dev.failover.EjectionPolicy;
import dev.failover.Endpoint;
import dev.failover.EndpointSource;
import dev.failover.FailoverClient;
import dev.failover.FailoverSettings;
import dev.failover.HealthCheck;
import dev.failover.HedgePolicy;
import dev.failover.StaleCache;
import dev.failover.ZonePolicy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.boot.convert.ApplicationConversionService;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.util.unit.DataSize;

/**
 * The configuration metadata IDEs read ({@code spring-configuration-metadata.json}, generated from
 * {@link FailoverProperties} and merged with {@code
 * additional-spring-configuration-metadata.json}): every setting of the binding model has an entry,
 * every default in it is the SDK's, and enum values have hints.
 *
 * <p>Per-client keys have no entries of their own: the metadata format has no wildcard for a map
 * key (spring-projects/spring-boot#9945, declined), so {@code failover.clients} is one entry whose
 * type, {@code Map<String, FailoverProperties$Client>}, is what IDEs complete a client's keys from,
 * as Spring Boot does for {@code spring.http.serviceclient}. The keys a client shares with {@code
 * failover.defaults} are documented (description and default) by the {@code failover.defaults}
 * entry.
 */
class ConfigurationMetadataTests {
  private static final Path METADATA =
      Path.of("target/classes/META-INF/spring-configuration-metadata.json");
  private static final String CLIENTS = "failover.clients.*.";
  private static final String CONFIGS = "failover.configs.*.";
  private static final String DEFAULTS = "failover.defaults.";

  /** Settings with no default in the metadata, and why: their default is not one value. */
  private static final Map<String, String> NO_DEFAULT =
      Map.ofEntries(
          Map.entry("failover.defaults.attempt-timeout", "deadline / max-attempts"),
          Map.entry("failover.defaults.region-order", "the order of the endpoints"),
          Map.entry(
              "failover.defaults.caller-runs-first-attempt", "unset: the client decides per call"),
          Map.entry("failover.defaults.health.enabled", "true if health.path is set"),
          Map.entry("failover.defaults.health.path", "setting it turns probes on"),
          Map.entry("failover.defaults.discovery.region", "failover.home.region"),
          Map.entry(
              "failover.defaults.discovery.default-zone",
              "unset: instances without a zone skipped"),
          Map.entry(
              "failover.defaults.discovery.heartbeat-timeout", "unset: heartbeats not watched"),
          Map.entry("failover.home.region", "required"),
          Map.entry("failover.home.zone", "required"),
          Map.entry("failover.clients", "a map of clients"),
          Map.entry("failover.configs", "a map of shared configurations"));

  private DocumentContext metadata;

  @BeforeEach
  void readMetadata() throws IOException {
    metadata = JsonPath.parse(Files.readString(METADATA));
  }

  @Test
  void everySettingHasAnEntry() {
    Set<String> entries = new TreeSet<>(metadata.<List<String>>read("$.properties[*].name"));
    // Left out until docs/spring-boot.md documents it (DocumentationTests): see _keys-section.md.
    Set<String> ignored =
        new TreeSet<>(metadata.<List<String>>read("$.ignored.properties[*].name"));
    Set<String> clientOnly =
        new TreeSet<>(FailoverKeys.of(FailoverProperties.Client.class).settings());
    clientOnly.removeAll(FailoverKeys.of(FailoverProperties.Settings.class).settings());
    assertThat(clientOnly)
        .as("keys a client has beyond those of failover.defaults")
        .containsExactlyInAnyOrder(
            "failover.endpoints[*].url",
            "failover.endpoints[*].region",
            "failover.endpoints[*].zone",
            "failover.endpoints[*].weight",
            "failover.discovery.service-id",
            "failover.zonal-shifts.*",
            "failover.base-config");
    assertThat(metadata.<List<String>>read("$.properties[?(@.name == 'failover.clients')].type"))
        .containsExactly(
            "java.util.Map<java.lang.String,"
                + "dev.failover.spring.boot.autoconfigure.FailoverProperties$Client>");

    List<String> settings = FailoverKeys.MODEL.settings();
    assertThat(settings)
        .contains(
            "failover.enabled",
            "failover.ignore-unknown-keys",
            "failover.home.zone",
            "failover.defaults.retry.max-attempts",
            "failover.clients.*.retry.max-attempts",
            "failover.clients.*.endpoints[*].url",
            "failover.clients.*.discovery.service-id",
            "failover.clients.*.zonal-shifts.*",
            "failover.clients.*.base-config",
            "failover.clients.*.retryable-statuses",
            "failover.clients.*.connect-timeout",
            "failover.configs.*.retry.max-attempts",
            "failover.configs.*.retryable-statuses")
        .doesNotContain(
            "failover.defaults.discovery.service-id",
            "failover.configs.*.endpoints[*].url",
            "failover.configs.*.base-config");
    assertThat(metadata.<List<String>>read("$.properties[?(@.name == 'failover.configs')].type"))
        .containsExactly(
            "java.util.Map<java.lang.String,"
                + "dev.failover.spring.boot.autoconfigure.FailoverProperties$Settings>");
    for (String setting : settings) {
      if (setting.startsWith(CLIENTS)) {
        String key = setting.substring(CLIENTS.length());
        assertThat(entries.contains(DEFAULTS + key) || clientOnly.contains("failover." + key))
            .as("%s: neither failover.defaults.%s nor a key of the client type", setting, key)
            .isTrue();
      } else if (setting.startsWith(CONFIGS)) {
        String key = setting.substring(CONFIGS.length());
        assertThat(entries).as("%s: failover.defaults.%s", setting, key).contains(DEFAULTS + key);
      } else {
        assertThat(entries.contains(setting) || ignored.contains(setting))
            .as("metadata entry of %s", setting)
            .isTrue();
      }
    }
  }

  @Test
  void everyEntryIsASetting() {
    List<String> names = metadata.read("$.properties[*].name");
    for (String name : names) {
      if (name.startsWith("failover.")) {
        assertThat(
                FailoverKeys.MODEL.accepts(ConfigurationPropertyName.of(name), false, false)
                    || name.equals("failover.clients")
                    || name.equals("failover.configs"))
            .as("%s binds to a setting", name)
            .isTrue();
      }
    }
  }

  @Test
  void everyDefaultIsTheSdksDefault() {
    AtomicReference<EndpointSources.Settings> registry = new AtomicReference<>();
    new ApplicationContextRunner()
        .withConfiguration(AutoConfigurations.of(FailoverAutoConfiguration.class))
        .withPropertyValues(FailoverAutoConfigurationTests.DIRECTORY)
        .withPropertyValues("failover.clients.registry.discovery.service-id=registry-service")
        .withBean(
            EndpointSources.class,
            () ->
                (name, settings) -> {
                  registry.set(settings);
                  return EndpointSource.of(
                      List.of(Endpoint.of("http://127.0.0.1:5", "us-east-1", "us-east-1a")));
                })
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              FailoverSettings s =
                  context.getBean("directoryFailoverClient", FailoverClient.class).settings();
              context.getBean("registryFailoverClient", FailoverClient.class);
              EndpointSources.Settings discovery = registry.get();
              assertThat(discovery).isNotNull();
              assertDefaults(sdkDefaults(s, discovery));
              // The SDK's own defaults, from a client built without the starter: the starter
              // adds no default of its own for an SDK setting.
              try (FailoverClient plain =
                  FailoverClient.builder()
                      .service("directory")
                      .home("us-east-1", "us-east-1a")
                      .endpoint("http://127.0.0.1:1", "us-east-1", "us-east-1a")
                      .build()) {
                assertDefaults(sdkDefaults(plain.settings(), discovery));
              }
            });
  }

  /** What a client built with no settings has, by key; shares as fractions, sizes in bytes. */
  private static Map<String, Object> sdkDefaults(
      FailoverSettings s, EndpointSources.Settings registry) {
    HealthCheck health = s.healthCheck();
    EjectionPolicy ejection = s.ejection();
    HedgePolicy hedge = s.hedging();
    StaleCache stale = s.staleCache();
    ZonePolicy zones = s.zones();
    DiscoveryPolicy discovery = s.discovery();
    Map<String, Object> d = new LinkedHashMap<>();
    d.put("deadline", s.deadline());
    d.put("min-attempt-time", s.minAttemptTime());
    d.put("max-requests", s.maxRequests());
    // OkHttp's, for the OkHttpClient the SDK makes when the application gives none.
    d.put("connect-timeout", Duration.ofMillis(new OkHttpClient().connectTimeoutMillis()));
    d.put("retryable-statuses", s.retryableStatuses().stream().sorted().toList());
    d.put("retry.max-attempts", s.maxAttempts());
    d.put("retry.backoff-base", s.backoffBase());
    d.put("retry.backoff-cap", s.backoffCap());
    d.put("retry.max-retry-after", s.maxRetryAfter());
    d.put("budget.ratio", s.budgetRatio());
    d.put("budget.min-per-second", s.budgetMinPerSecond());
    d.put("budget.window", s.budgetWindow());
    // Probes are off by default; these are what a health.path turns on.
    assertThat(HealthCheck.http("/health").interval()).isEqualTo(health.interval());
    d.put("health.interval", health.interval());
    d.put("health.down-interval", health.downInterval());
    d.put("health.no-traffic-interval", health.noTrafficInterval());
    d.put("health.timeout", health.timeout());
    d.put("health.healthy-threshold", health.healthyThreshold());
    d.put("health.unhealthy-threshold", health.unhealthyThreshold());
    d.put("ejection.consecutive-failures", ejection.consecutiveFailures());
    d.put("ejection.failure-rate", ejection.failureRatePercent());
    d.put("ejection.window-size", ejection.windowSize());
    d.put("ejection.minimum-calls", ejection.minimumCalls());
    d.put("ejection.slow-call-duration", ejection.slowCallDuration());
    d.put("ejection.slow-call-rate", ejection.slowCallRatePercent());
    d.put("ejection.base-ejection-time", ejection.baseEjectionTime());
    d.put("ejection.max-ejection-time", ejection.maxEjectionTime());
    d.put("ejection.half-open-probes", ejection.halfOpenProbes());
    d.put("panic.threshold", s.panicThresholdPercent());
    d.put("panic.fail-open", s.panicFailOpen());
    d.put("hedge.mode", hedge.mode());
    d.put("hedge.delay", hedge.delay());
    d.put("hedge.max-extra-load", hedge.maxExtraLoad());
    d.put("hedge.max-hedges", hedge.maxHedges());
    d.put("hedge.min-delay", hedge.minDelay());
    d.put("stale.enabled", stale.enabled());
    d.put("stale.max-entries", stale.maxEntries());
    d.put("stale.max-body-size", stale.maxBodyBytes());
    d.put("stale.max-age", stale.maxAge());
    d.put("stale.network-interceptors-add-no-identity", stale.networkInterceptorsAddNoIdentity());
    d.put("zones.enabled", zones.enabled());
    d.put("zones.ejected-percent", zones.ejectedPercent());
    d.put("zones.max-evacuated-percent", zones.maxEvacuatedPercent());
    d.put("zones.outlier-k", zones.outlierK());
    d.put("zones.min-samples", zones.minSamples());
    d.put("zones.window", zones.window());
    d.put("zones.hysteresis", zones.hysteresis());
    d.put("zones.slow-start", zones.slowStart());
    d.put("discovery.refresh-interval", registry.refreshInterval());
    d.put("discovery.zone-keys", registry.mapping().zoneKeys());
    d.put("discovery.region-keys", registry.mapping().regionKeys());
    d.put("discovery.weight-key", registry.mapping().weightKey());
    d.put("discovery.start-timeout", discovery.startTimeout());
    d.put("discovery.max-removal-percent", discovery.maxRemovalPercent());
    d.put("discovery.removal-confirmation", discovery.removalConfirmation());
    d.put("discovery.max-staleness", discovery.maxStaleness());
    return d;
  }

  private void assertDefaults(Map<String, Object> sdk) {
    List<Map<String, Object>> properties = metadata.read("$.properties[*]");
    Set<String> withDefault = new TreeSet<>();
    Set<String> withoutDefault = new TreeSet<>();
    for (Map<String, Object> property : properties) {
      String name = (String) property.get("name");
      if (!name.startsWith("failover.")) {
        continue;
      }
      Object metadataDefault = property.get("defaultValue");
      if (metadataDefault == null) {
        withoutDefault.add(name);
        continue;
      }
      if (!name.startsWith(DEFAULTS)) {
        continue; // failover.enabled: a starter switch, not a client setting
      }
      String key = name.substring(DEFAULTS.length());
      withDefault.add(key);
      assertThat(sdk).as("SDK default of %s", name).containsKey(key);
      Object actual = sdk.get(key);
      assertThat(convert(metadataDefault, actual))
          .as("metadata default of %s (%s)", name, metadataDefault)
          .isEqualTo(actual);
      assertThat((String) property.get("description"))
          .as("description of %s", name)
          .contains("When unset");
    }
    assertThat(withDefault).as("metadata defaults").isEqualTo(sdk.keySet());
    assertThat(withoutDefault)
        .as("settings without a default in the metadata")
        .isEqualTo(NO_DEFAULT.keySet());
  }

  /** The metadata's default as the SDK holds it: shares as fractions, sizes in bytes. */
  private static Object convert(Object metadataDefault, Object actual) {
    if (metadataDefault instanceof List<?>) {
      return metadataDefault;
    }
    String text = String.valueOf(metadataDefault);
    Function<String, Object> converter =
        actual instanceof Double && text.endsWith("%")
            ? t -> Percentage.valueOf(t).fraction()
            : actual instanceof Long && !Character.isDigit(text.charAt(text.length() - 1))
                ? t -> DataSize.parse(t).toBytes()
                : t ->
                    ApplicationConversionService.getSharedInstance().convert(t, actual.getClass());
    return converter.apply(text);
  }

  @Test
  void everyEnumValueHasAHint() {
    List<String> hinted =
        metadata.read("$.hints[?(@.name == 'failover.defaults.hedge.mode')].values[*].value");
    assertThat(hinted)
        .containsExactlyElementsOf(
            Arrays.stream(HedgePolicy.Mode.values())
                .map(m -> m.name().toLowerCase(Locale.ROOT))
                .toList());
    List<String> descriptions =
        metadata.read("$.hints[?(@.name == 'failover.defaults.hedge.mode')].values[*].description");
    assertThat(descriptions).hasSize(hinted.size()).allSatisfy(d -> assertThat(d).isNotBlank());
    List<String> hints = metadata.read("$.hints[*].name");
    assertThat(hints)
        .allSatisfy(
            h -> assertThat(h.startsWith(DEFAULTS) || h.equals("failover.configs.keys")).isTrue());
    assertThat(
            metadata.<List<String>>read(
                "$.hints[?(@.name == 'failover.configs.keys')].values[*].value"))
        .containsExactly("default");
  }
}
