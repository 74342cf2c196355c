package dev.failover.spring.boot.autoconfigure;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.failover.FailoverClient;
import dev.failover.FailoverSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.env.YamlPropertySourceLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.core.env.SystemEnvironmentPropertySource;
import org.springframework.core.io.ByteArrayResource;
import org.springframework.core.io.FileSystemResource;
import org.springframework.core.io.Resource;

/**
 * A key under {@code failover.} that binds to no setting fails start-up with the nearest valid key
 * and its origin; relaxed names, map keys and list indexes are settings; {@code
 * failover.ignore-unknown-keys} turns the failure into warnings.
 */
@ExtendWith(OutputCaptureExtension.class)
class UnknownKeysTests {
  private static final String D = "failover.clients.directory.";

  private final ApplicationContextRunner runner =
      new ApplicationContextRunner()
          .withConfiguration(AutoConfigurations.of(FailoverAutoConfiguration.class))
          .withPropertyValues(FailoverAutoConfigurationTests.DIRECTORY);

  static Stream<Arguments> misspelledKeys() {
    return Stream.of(
        Arguments.of("per client", D + "dedline=2s", D + "deadline"),
        Arguments.of("top level", "failover.enable=false", "failover.enabled"),
        Arguments.of("home", "failover.home.regoin=us-east-1", "failover.home.region"),
        Arguments.of(
            "per default",
            "failover.defaults.retry.max-atempts=4",
            "failover.defaults.retry.max-attempts"),
        Arguments.of("group", "failover.defualts.deadline=2s", "failover.defaults.deadline"),
        Arguments.of(
            "setting outside its group",
            "failover.defaults.max-attempts=4",
            "failover.defaults.retry.max-attempts"),
        Arguments.of(
            "endpoint of a list",
            D + "endpoints[1].ulr=http://127.0.0.1:9",
            D + "endpoints[1].url"),
        Arguments.of(
            "nested in a client", D + "hedge.max-extra-lod=5%", D + "hedge.max-extra-load"),
        Arguments.of(
            "zone of the zonal shifts",
            D + "zonal-shift.us-east-1b=2030-01-01T00:00:00Z",
            D + "zonal-shifts.us-east-1b"),
        Arguments.of(
            "client-only key under defaults",
            "failover.defaults.discovery.service-id=directory-service",
            "failover.clients.<name>.discovery.service-id"),
        Arguments.of("camel case", D + "retry.maxAtempts=4", D + "retry.max-attempts"),
        Arguments.of(
            "second client",
            "failover.clients.groups.helth.path=/up",
            "failover.clients.groups.health.path"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("misspelledKeys")
  void aMisspelledKeyFailsStartUpNamingTheNearestKeyAndTheOrigin(
      String name, String property, String expected) {
    String key = property.substring(0, property.indexOf('='));
    runner
        .withPropertyValues(property)
        .run(
            context -> {
              assertThat(context).hasFailed();
              FailureAnalysis analysis =
                  new FailoverConfigurationFailureAnalyzer().analyze(context.getStartupFailure());
              assertThat(analysis).as("analysis of %s", context.getStartupFailure()).isNotNull();
              assertThat(analysis.getDescription())
                  .contains("Property: " + key + "\n")
                  .contains("Origin: \"" + key + "\" from property source \"test\"\n")
                  .contains("Reason: is not a failover setting; did you mean " + expected + "?\n");
              assertThat(analysis.getAction())
                  .contains("failover.ignore-unknown-keys=true")
                  .contains(expected);
            });
  }

  @Test
  void theAnalysisShowsTheValueAndHowToFix() {
    runner
        .withPropertyValues(D + "dedline=2s")
        .run(
            context -> {
              FailureAnalysis analysis =
                  new FailoverConfigurationFailureAnalyzer().analyze(context.getStartupFailure());
              assertThat(analysis.getDescription())
                  .isEqualTo(
                      """
                      Invalid failover client configuration:

                          Property: failover.clients.directory.dedline
                          Value: "2s"
                          Origin: "failover.clients.directory.dedline" from property source "test"
                          Reason: is not a failover setting; did you mean \
                      failover.clients.directory.deadline?
                      """);
              assertThat(analysis.getAction())
                  .isEqualTo(
                      "Update your application's configuration: rename"
                          + " failover.clients.directory.dedline to"
                          + " failover.clients.directory.deadline, or remove it; if a key belongs"
                          + " to a newer version of the failover starter, set"
                          + " failover.ignore-unknown-keys=true to start anyway with a warning for"
                          + " each unknown key");
            });
  }

  @Test
  void credentialsInTheValueOfAnUnknownKeyAreNotShown() {
    runner
        .withPropertyValues(D + "endpoints[1].ulr=https://admin:secret@dir-b")
        .run(
            context -> {
              FailureAnalysis analysis =
                  new FailoverConfigurationFailureAnalyzer().analyze(context.getStartupFailure());
              assertThat(analysis.getDescription())
                  .contains("Value: \"https://***@dir-b\"")
                  .doesNotContain("secret");
            });
  }

  static Stream<Arguments> secretsInUnknownKeys() {
    return Stream.of(
        Arguments.of(
            "password with an @",
            D + "endpoints[0].ulr=https://svc:p@ss@dir-b",
            "p@ss",
            "Value: \"https://***@dir-b\""),
        Arguments.of(
            "no scheme",
            D + "endpoints[0].ulr=svc:secret@dir-b:8443",
            "secret",
            "Value: \"***@dir-b:8443\""),
        Arguments.of(
            "header",
            D + "default-header.Authorization=Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig",
            "eyJ",
            "Value: \"******\""),
        Arguments.of("sensitive key", D + "client-secret=hunter2", "hunter2", "Value: \"******\""),
        Arguments.of(
            "bearer value under any key",
            D + "auth=Bearer abc.def",
            "abc.def",
            "Value: \"******\""));
  }

  /**
   * The analysis shows no credential of an unknown key's value, first or listed among the others:
   * neither the user info of a URL (up to its last '@', with or without a scheme), nor the value of
   * a key that looks sensitive or of an Authorization header.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("secretsInUnknownKeys")
  void noCredentialOfAnUnknownKeyIsShown(
      String name, String property, String secret, String shown) {
    runner
        .withPropertyValues(property)
        .run(
            context -> {
              FailureAnalysis analysis =
                  new FailoverConfigurationFailureAnalyzer().analyze(context.getStartupFailure());
              assertThat(analysis.getDescription()).contains(shown).doesNotContain(secret);
              assertThat(analysis.getAction()).doesNotContain(secret);
              assertThat(context.getStartupFailure()).hasMessageNotContaining(secret);
            });
    runner
        .withPropertyValues(D + "dedline=2s", property)
        .run(
            context ->
                assertThat(
                        new FailoverConfigurationFailureAnalyzer()
                            .analyze(context.getStartupFailure())
                            .getDescription())
                    .contains("Also not failover settings:")
                    .doesNotContain(secret));
  }

  @Test
  void relaxedNamesMapKeysAndIndexesAreSettings() {
    String shiftEnd = Instant.now().plus(Duration.ofHours(1)).toString();
    runner
        .withPropertyValues(
            "failover.enabled=true",
            "failover.ignore-unknown-keys=false",
            "failover.defaults.retry.maxAttempts=4",
            "failover.defaults.retry.backoff_base=10ms",
            "failover.defaults.minAttemptTime=5ms",
            "failover.defaults.region-order=us-west-2,us-east-1",
            "failover.defaults.discovery.zone-keys[0]=zone",
            "failover.defaults.discovery.regionKeys=region",
            D + "endpoints[0].weight=200",
            D + "zonal-shifts.us-east-1b=" + shiftEnd,
            D + "hedge.mode=FIXED",
            D + "Deadline=3s",
            "failover.clients.groups.endpoints[0].url=http://127.0.0.1:4",
            "failover.clients.groups.endpoints[0].region=us-east-1",
            "failover.clients.groups.endpoints[0].zone=us-east-1a",
            "failover.clients.groups.stale.max-body-size=128KB",
            "failover.clients.groups.region-order[0]=us-east-1")
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              FailoverSettings s =
                  context.getBean("directoryFailoverClient", FailoverClient.class).settings();
              assertThat(s.maxAttempts()).isEqualTo(4);
              assertThat(s.backoffBase()).isEqualTo(Duration.ofMillis(10));
              assertThat(s.deadline()).isEqualTo(Duration.ofSeconds(3));
            });
  }

  @Test
  void environmentVariablesAreCheckedInBothOfBootsForms() {
    withEnvironment(
            Map.of(
                "FAILOVER_CLIENTS_DIRECTORY_RETRY_MAXATTEMPTS", "4",
                "FAILOVER_DEFAULTS_RETRY_BACKOFF_BASE", "10ms",
                "FAILOVER_DEFAULTS_DISCOVERY_ZONEKEYS_0", "zone",
                "FAILOVER_IGNOREUNKNOWNKEYS", "false",
                "PATH", "/usr/bin"))
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              FailoverSettings s = context.getBean(FailoverClient.class).settings();
              assertThat(s.maxAttempts()).isEqualTo(4);
              assertThat(s.backoffBase()).isEqualTo(Duration.ofMillis(10));
            });
  }

  @Test
  void aMisspelledEnvironmentVariableIsReportedByItsName() {
    withEnvironment(Map.of("FAILOVER_CLIENTS_DIRECTORY_MAXATTEMPTS", "4"))
        .run(
            context -> {
              assertThat(context).hasFailed();
              FailureAnalysis analysis =
                  new FailoverConfigurationFailureAnalyzer().analyze(context.getStartupFailure());
              assertThat(analysis.getDescription())
                  .contains("Property: failover.clients.directory.maxattempts\n")
                  .contains("FAILOVER_CLIENTS_DIRECTORY_MAXATTEMPTS")
                  .contains("did you mean failover.clients.directory.retry.max-attempts?");
            });
  }

  /**
   * Kubernetes gives every pod of a namespace the service links of each Service: one called
   * failover-dashboard makes FAILOVER_DASHBOARD_*, which are no failover keys and no typos of one.
   */
  @Test
  void kubernetesServiceLinksOfAServiceCalledFailoverSomethingDoNotStopStartUp() {
    withEnvironment(
            Map.of(
                "FAILOVER_DASHBOARD_SERVICE_HOST", "10.0.0.7",
                "FAILOVER_DASHBOARD_SERVICE_PORT", "80",
                "FAILOVER_DASHBOARD_PORT", "tcp://10.0.0.7:80",
                "FAILOVER_DASHBOARD_PORT_80_TCP_ADDR", "10.0.0.7",
                "FAILOVER_HOMEPAGE_URL", "https://failover.dev"))
        .run(context -> assertThat(context).hasNotFailed());
  }

  /**
   * A Service whose name begins with a top-level key (failover-home, failover-clients-directory)
   * makes variables that look like keys under it; their values tell them from misspelt keys.
   */
  @Test
  void kubernetesServiceLinksUnderATopLevelKeyDoNotStopStartUp() {
    Map<String, Object> links = new LinkedHashMap<>();
    for (String service : List.of("FAILOVER_HOME", "FAILOVER_CLIENTS_DIRECTORY")) {
      links.put(service + "_SERVICE_HOST", "10.96.0.7");
      links.put(service + "_SERVICE_PORT", "80");
      links.put(service + "_SERVICE_PORT_HTTP_API", "80");
      links.put(service + "_PORT", "tcp://10.96.0.7:80");
      links.put(service + "_PORT_80_TCP", "tcp://10.96.0.7:80");
      links.put(service + "_PORT_80_TCP_PROTO", "tcp");
      links.put(service + "_PORT_80_TCP_PORT", "80");
      links.put(service + "_PORT_80_TCP_ADDR", "10.96.0.7");
      links.put(service + "_PORT_53_UDP_ADDR", "fd00:10:96::7");
    }
    links.put("FAILOVER_CONFIGS_SLOW_PORT", "tcp://[fd00:10:96::7]:8080");
    withEnvironment(links)
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              assertThat(context).hasSingleBean(FailoverClient.class);
            });
  }

  /** The same names with values no Kubernetes link has are misspelt keys, and reported. */
  @Test
  void aVariableShapedLikeAServiceLinkWithAnotherValueIsStillReported() {
    for (Map.Entry<String, String> variable :
        Map.of(
                "FAILOVER_HOME_SERVICE_HOST", "us-east-1a",
                "FAILOVER_HOME_PORT", "8080",
                "FAILOVER_CLIENTS_DIRECTORY_SERVICE_PORT", "http://10.0.0.7",
                "FAILOVER_CLIENTS_DIRECTORY_PORT_80_TCP_ADDR", "dir-a.internal",
                "FAILOVER_CLIENTS_DIRECTORY_PORT_80_TCP_PROTO", "http")
            .entrySet()) {
      withEnvironment(Map.of(variable.getKey(), variable.getValue()))
          .run(
              context -> {
                assertThat(context).as(variable.getKey()).hasFailed();
                assertThat(context.getStartupFailure())
                    .as(variable.getKey())
                    .rootCause()
                    .hasMessageContaining("is not a failover setting");
              });
    }
  }

  @Test
  void aMisspelledEnvironmentVariableUnderEachTopLevelKeyIsStillReported() {
    for (String variable :
        List.of(
            "FAILOVER_HOME_ZONEE",
            "FAILOVER_DEFAULTS_DEDLINE",
            "FAILOVER_CONFIGS_SLOW_DEDLINE",
            "FAILOVER_CLIENTS_DIRECTORY_DEDLINE",
            "FAILOVER_IGNORE_UNKNOWN_KEYS_NOW",
            "FAILOVER_ENABLED_ALWAYS")) {
      withEnvironment(Map.of(variable, "2s"))
          .run(
              context -> {
                assertThat(context).as(variable).hasFailed();
                assertThat(context.getStartupFailure())
                    .as(variable)
                    .rootCause()
                    .hasMessageContaining("is not a failover setting");
              });
    }
  }

  /** The runner with environment variables, mapped as Boot maps the system environment. */
  private ApplicationContextRunner withEnvironment(Map<String, Object> variables) {
    return runner.withInitializer(
        context ->
            context
                .getEnvironment()
                .getPropertySources()
                .addFirst(
                    new SystemEnvironmentPropertySource("test-systemEnvironment", variables)));
  }

  @Test
  void everyUnknownKeyIsListed() {
    runner
        .withPropertyValues(D + "dedline=2s", "failover.defaults.helth.path=/up")
        .run(
            context -> {
              FailureAnalysis analysis =
                  new FailoverConfigurationFailureAnalyzer().analyze(context.getStartupFailure());
              assertThat(analysis.getDescription())
                  .contains("Property: ")
                  .contains("Also not failover settings:")
                  .contains("did you mean failover.clients.directory.deadline?")
                  .contains("did you mean failover.defaults.health.path?");
              assertThat(analysis.getAction()).contains("rename or remove each of these keys");
            });
  }

  @Test
  void ignoreUnknownKeysStartsAndWarnsForEachKey(CapturedOutput output) {
    runner
        .withPropertyValues(
            "failover.ignore-unknown-keys=true", D + "dedline=2s", D + "retry.future-setting=1")
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              assertThat(context).hasSingleBean(FailoverClient.class);
            });
    assertThat(output)
        .contains(
            "WARN",
            "failover.clients.directory.dedline (\"failover.clients.directory.dedline\" from"
                + " property source \"test\") is not a failover setting and is ignored"
                + " (failover.ignore-unknown-keys=true); did you mean"
                + " failover.clients.directory.deadline?",
            "failover.clients.directory.retry.future-setting");
  }

  @Test
  void nothingIsCheckedWhenFailoverIsDisabled() {
    runner
        .withPropertyValues("failover.enabled=false", D + "dedline=2s")
        .run(context -> assertThat(context).hasNotFailed());
  }

  /**
   * Starts a real application from a YAML file: the origin is the file, line and column. Keeps the
   * analysis for the docs.
   */
  @Test
  void theOriginOfAKeyInYamlIsItsLine() throws IOException {
    SpringApplication application = new SpringApplication(App.class);
    application.setWebApplicationType(WebApplicationType.NONE);
    application.setDefaultProperties(Map.of("spring.config.name", "failover-unknown"));
    application.setLogStartupInfo(false);
    Throwable failure = catchThrowable(application::run);
    FailureAnalysis analysis = new FailoverConfigurationFailureAnalyzer().analyze(failure);
    assertThat(analysis).as("analysis of %s", failure).isNotNull();
    assertThat(analysis.getDescription())
        .contains("Property: failover.clients.directory.dedline\n")
        .contains("Value: \"2s\"\n")
        .contains("Origin: class path resource [failover-unknown.yml] - 5:16\n")
        .contains("did you mean failover.clients.directory.deadline?")
        .contains(
            "failover.clients.directory.endpoints[0].weigth (class path resource"
                + " [failover-unknown.yml] - 10:19): did you mean"
                + " failover.clients.directory.endpoints[0].weight?");
    Path dir = Path.of("target", "docs-snippets");
    Files.createDirectories(dir);
    Files.writeString(
        dir.resolve("unknown-keys-analysis.txt"),
        "Description:\n\n"
            + analysis.getDescription()
            + "\nAction:\n\n"
            + analysis.getAction()
            + "\n");
  }

  @Configuration(proxyBeanMethods = false)
  @ImportAutoConfiguration(FailoverAutoConfiguration.class)
  static class App {}

  /** The example application's and the docs' YAML use only settings. */
  @Test
  void theExamplesUseOnlySettings() throws IOException {
    List<Path> files =
        List.of(
            Path.of("../examples/spring-directory/src/main/resources/application.yml"),
            Path.of("../examples/spring-directory/src/main/resources/application-demo.yml"),
            Path.of("src/test/resources/discovery-example.yml"),
            Path.of("src/test/resources/failover-bad.yml"));
    for (Path file : files) {
      assertThat(file).exists();
      StandardEnvironment environment = new StandardEnvironment();
      Resource resource = new FileSystemResource(file);
      new YamlPropertySourceLoader()
          .load(file.toString(), resource)
          .forEach(source -> environment.getPropertySources().addFirst(source));
      assertThat(FailoverKeys.MODEL.find(environment)).as("unknown keys in %s", file).isEmpty();
    }
  }

  /** Every failover key in the YAML examples of docs/spring-boot.md is a setting. */
  @Test
  void theDocumentedExamplesUseOnlySettings() throws IOException {
    String doc = Files.readString(Path.of("../docs/spring-boot.md"));
    Matcher yaml = Pattern.compile("```yaml\n(.*?)```", Pattern.DOTALL).matcher(doc);
    int checked = 0;
    while (yaml.find()) {
      String block = yaml.group(1);
      if (!block.contains("failover:")) {
        continue;
      }
      StandardEnvironment environment = new StandardEnvironment();
      new YamlPropertySourceLoader()
          .load("docs example " + checked, new ByteArrayResource(block.getBytes(UTF_8)))
          .forEach(source -> environment.getPropertySources().addFirst(source));
      assertThat(FailoverKeys.MODEL.find(environment)).as("unknown keys in\n%s", block).isEmpty();
      checked++;
    }
    assertThat(checked).isGreaterThan(2);
  }

  /** The starter with a home and no client: each test names its own. */
  private static ApplicationContextRunner homeOnly() {
    return new ApplicationContextRunner()
        .withConfiguration(AutoConfigurations.of(FailoverAutoConfiguration.class))
        .withPropertyValues("failover.home.region=us-east-1", "failover.home.zone=us-east-1a");
  }

  /** The keys of one endpoint of client {@code name}, as written. */
  private static String[] endpoint(String name, int port) {
    String e = "failover.clients." + name + ".endpoints[0].";
    return new String[] {
      e + "url=http://127.0.0.1:" + port, e + "region=us-east-1", e + "zone=us-east-1a"
    };
  }

  /**
   * Two client names that Boot's binder takes for one (case, an underscore) gave two clients with
   * the endpoints of one of them, and the other's settings went unchecked: start-up now fails,
   * naming both.
   */
  @ParameterizedTest(name = "{0} and {1}")
  @CsvSource({"Directory,directory", "user_service,userservice", "USERS,Users"})
  void twoClientNamesThatBindAsOneFailStartUpNamingBoth(String first, String second) {
    homeOnly()
        .withPropertyValues(endpoint(first, 9))
        .withPropertyValues(endpoint(second, 1))
        .run(
            context -> {
              assertThat(context).hasFailed();
              FailureAnalysis analysis =
                  new FailoverConfigurationFailureAnalyzer().analyze(context.getStartupFailure());
              assertThat(analysis).isNotNull();
              assertThat(analysis.getDescription())
                  .contains("Property: failover.clients." + second + "\n")
                  .contains("names the same client as failover.clients." + first);
              assertThat(analysis.getAction()).contains("write the name the same way everywhere");
            });
  }

  /** The same for shared configurations, whose keys would merge the same way. */
  @Test
  void twoSharedConfigurationNamesThatBindAsOneFailStartUp() {
    runner
        .withPropertyValues(
            "failover.configs.Slow.deadline=30s", "failover.configs.slow.deadline=20s")
        .run(
            context -> {
              assertThat(context).hasFailed();
              FailureAnalysis analysis =
                  new FailoverConfigurationFailureAnalyzer().analyze(context.getStartupFailure());
              assertThat(analysis.getDescription())
                  .contains("Property: failover.configs.slow\n")
                  .contains("names the same shared configuration as failover.configs.Slow");
            });
  }

  /**
   * An environment variable reaches a client's keys in lower case only: one meant for a client
   * written {@code Directory} made a second client, {@code directory}, with the first one's
   * endpoints. Now start-up fails, naming the variable.
   */
  @Test
  void anEnvironmentVariableForAClientNamedWithCapitalsFailsStartUp() {
    homeOnly()
        .withPropertyValues(endpoint("Directory", 9))
        .withInitializer(
            context ->
                context
                    .getEnvironment()
                    .getPropertySources()
                    .addFirst(
                        new SystemEnvironmentPropertySource(
                            "test-systemEnvironment",
                            Map.of("FAILOVER_CLIENTS_DIRECTORY_DEADLINE", "3s"))))
        .run(
            context -> {
              assertThat(context).hasFailed();
              FailureAnalysis analysis =
                  new FailoverConfigurationFailureAnalyzer().analyze(context.getStartupFailure());
              assertThat(analysis.getDescription())
                  .contains("FAILOVER_CLIENTS_DIRECTORY_DEADLINE")
                  .contains("failover.clients.Directory");
              assertThat(analysis.getAction()).contains("in lower case");
            });
  }

  /**
   * Names that stay apart as the binder binds them still make two clients, each with its own
   * endpoints: a name in brackets keeps its case, and a dash is part of a name.
   */
  @Test
  void namesThatBindApartMakeTwoClients() {
    homeOnly()
        .withPropertyValues(endpoint("[Directory]", 9))
        .withPropertyValues(endpoint("directory", 1))
        .withPropertyValues(endpoint("user-service", 7))
        .withPropertyValues(endpoint("userservice", 8))
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              assertThat(port(context.getBean("DirectoryFailoverClient", FailoverClient.class)))
                  .isEqualTo(9);
              assertThat(port(context.getBean("directoryFailoverClient", FailoverClient.class)))
                  .isEqualTo(1);
              assertThat(port(context.getBean("user-serviceFailoverClient", FailoverClient.class)))
                  .isEqualTo(7);
              assertThat(port(context.getBean("userserviceFailoverClient", FailoverClient.class)))
                  .isEqualTo(8);
            });
  }

  private static int port(FailoverClient client) {
    assertThat(client.endpoints()).hasSize(1);
    return client.endpoints().get(0).url().port();
  }
}
