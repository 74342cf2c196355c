package dev.failover.spring.boot.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.failover.InvalidSettingException;
import java.io.IOException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.Enumeration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.beans.factory.support.DefaultListableBeanFactory;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.diagnostics.FailureAnalyzer;
import org.springframework.boot.test.context.assertj.AssertableApplicationContext;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.test.util.TestPropertyValues;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;
import org.springframework.core.io.DefaultResourceLoader;
import org.springframework.core.io.support.SpringFactoriesLoader;
import org.springframework.mock.env.MockEnvironment;

class FailoverFailureAnalyzerTests {

  private final ApplicationContextRunner runner =
      new ApplicationContextRunner()
          .withConfiguration(AutoConfigurations.of(FailoverAutoConfiguration.class));

  static Stream<Arguments> badConfigurations() {
    String d = "failover.clients.directory.";
    return Stream.of(
        Arguments.of(
            "missing endpoints",
            new String[] {
              "failover.home.region=us-east-1", "failover.home.zone=us-east-1a", d + "deadline=2s"
            },
            d + "endpoints",
            "list the service's endpoints"),
        Arguments.of(
            "bad URL",
            with(d + "endpoints[1].url=ftp//dir-b"),
            d + "endpoints[1].url",
            "absolute http or https base URL"),
        Arguments.of(
            "URL with credentials",
            with(d + "endpoints[1].url=https://admin:secret@dir-b"),
            d + "endpoints[1].url",
            "without credentials"),
        Arguments.of(
            "missing home",
            without("failover.home.zone"),
            "failover.home.zone",
            "set failover.home.zone"),
        Arguments.of(
            "negative duration in defaults",
            with("failover.defaults.deadline=-2s"),
            "failover.defaults.deadline",
            "use a positive duration"),
        Arguments.of(
            "negative duration in a client",
            with(d + "retry.backoff-base=-5ms"),
            d + "retry.backoff-base",
            "use zero or a positive duration"),
        Arguments.of(
            "zero health interval",
            with(d + "health.interval=0s", d + "health.path=/health"),
            d + "health.interval",
            "use a positive duration"),
        Arguments.of(
            "duplicate endpoint",
            with(d + "endpoints[2].url=http://127.0.0.1:1/"),
            d + "endpoints[2].url",
            "remove one of the two entries"),
        Arguments.of(
            "max attempts out of range",
            with(d + "retry.max-attempts=11"),
            d + "retry.max-attempts",
            "use 1 (no retries) to 10"),
        Arguments.of(
            "percentage out of range",
            with("failover.defaults.ejection.failure-rate=150"),
            "failover.defaults.ejection.failure-rate",
            "between 1 and 100"),
        Arguments.of(
            "attempt timeout beyond deadline",
            with(d + "deadline=1s", d + "attempt-timeout=2s"),
            d + "attempt-timeout",
            "lower " + d + "attempt-timeout to at most the deadline"),
        Arguments.of(
            "bad health path",
            with(d + "health.path=health"),
            d + "health.path",
            "starting with '/'"),
        Arguments.of(
            "hedge extra load above half",
            with("failover.defaults.hedge.max-extra-load=60%"),
            "failover.defaults.hedge.max-extra-load",
            "such as 5% or 0.05"),
        Arguments.of(
            "hedge extra load of zero",
            with(d + "hedge.mode=adaptive", d + "hedge.max-extra-load=0"),
            d + "hedge.max-extra-load",
            "above 0 and at most 0.5 (50%)"),
        Arguments.of(
            "too many hedges",
            with(d + "hedge.max-hedges=5"),
            d + "hedge.max-hedges",
            "use 1 to 4 hedges per call"),
        Arguments.of(
            "zero hedge delay",
            with(d + "hedge.mode=fixed", d + "hedge.delay=0ms"),
            d + "hedge.delay",
            "use a positive duration"),
        Arguments.of(
            "negative hedge min delay",
            with("failover.defaults.hedge.min-delay=-1ms"),
            "failover.defaults.hedge.min-delay",
            "use zero or a positive duration"),
        Arguments.of(
            "budget ratio above 100%",
            with(d + "budget.ratio=150%"), d + "budget.ratio", "use for example 0.1 or 10%"),
        Arguments.of(
            "empty stale body size",
            with(d + "stale.enabled=true", d + "stale.max-body-size=0B"),
            d + "stale.max-body-size",
            "use a size such as 64KB"),
        Arguments.of(
            "no stale entries",
            with("failover.defaults.stale.max-entries=0"),
            "failover.defaults.stale.max-entries",
            "use 1 or more"),
        Arguments.of(
            "zero stale age",
            with(d + "stale.max-age=0s"),
            d + "stale.max-age",
            "use a positive duration"),
        Arguments.of(
            "zone window below 2s",
            with("failover.defaults.zones.window=1500ms"),
            "failover.defaults.zones.window",
            "use a window between 2s and 24h"),
        Arguments.of(
            "zone ejected percent out of range",
            with(d + "zones.ejected-percent=0"),
            d + "zones.ejected-percent",
            "between 1 and 100"),
        Arguments.of(
            "zone outlier k not positive",
            with(d + "zones.outlier-k=-1"),
            d + "zones.outlier-k",
            "such as 3"),
        Arguments.of(
            "zone min samples below 1",
            with(d + "zones.min-samples=0"),
            d + "zones.min-samples",
            "use 1 or more"),
        Arguments.of(
            "negative zone slow start",
            with(d + "zones.slow-start=-1s"),
            d + "zones.slow-start",
            "use zero or a positive duration"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badConfigurations")
  void startUpFailsNamingThePropertyAndTheFix(
      String name, String[] properties, String property, String hint) {
    runner
        .withPropertyValues(properties)
        .run(
            context -> {
              assertThat(context).hasFailed();
              FailureAnalysis analysis =
                  new FailoverConfigurationFailureAnalyzer().analyze(context.getStartupFailure());
              assertThat(analysis).as("analysis of %s", context.getStartupFailure()).isNotNull();
              assertThat(analysis.getDescription()).contains("Property: " + property + "\n");
              assertThat(analysis.getDescription() + "\n" + analysis.getAction()).contains(hint);
              assertThat(analysis.getDescription()).doesNotContain("secret");
            });
  }

  @Test
  void analysisShowsValueAndReason() {
    runner
        .withPropertyValues(with("failover.defaults.deadline=-2s"))
        .run(
            context -> {
              FailureAnalysis analysis =
                  new FailoverConfigurationFailureAnalyzer().analyze(context.getStartupFailure());
              assertThat(analysis.getDescription())
                  .isEqualTo(
                      """
                      Invalid failover client configuration:

                          Property: failover.defaults.deadline
                          Value: "-2s"
                          Origin: "failover.defaults.deadline" from property source "test"
                          Reason: must be a positive duration but was PT-2S
                      """);
              assertThat(analysis.getAction())
                  .isEqualTo(
                      "Update your application's configuration: use a positive duration such as"
                          + " 500ms or 2s");
            });
  }

  /**
   * A value with a credential in its query string (a health path missing its slash): the analysis
   * shows it, and the reason quoting it, with the parameter's value masked.
   */
  @Test
  void analysisMasksAQueryParameterValueInTheValueAndTheReason() {
    runner
        .withPropertyValues(
            with("failover.clients.directory.health.path=health?access_token=abc123"))
        .run(
            context -> {
              FailureAnalysis analysis =
                  new FailoverConfigurationFailureAnalyzer().analyze(context.getStartupFailure());
              assertThat(analysis.getDescription())
                  .contains("Property: failover.clients.directory.health.path\n")
                  .contains("Value: \"health?***\"\n")
                  .contains("Reason: ")
                  // The SDK's own message hides the whole query.
                  .contains("but was 'health?***'")
                  .doesNotContain("abc123");
              assertThat(analysis.getAction()).doesNotContain("abc123");
              assertThat(context.getStartupFailure().getMessage()).doesNotContain("abc123");
            });
  }

  /**
   * A health path's query may be a bare token, without a name: the analysis hides the whole query,
   * as the SDK's message does ({@code health?***}), in the value, the reason and the advice.
   */
  @ParameterizedTest
  @ValueSource(strings = {"health?s3cr3t", "/health?s3cr3t#x"})
  void analysisMasksAHealthPathsBareQueryToken(String path) {
    runner
        .withPropertyValues(with("failover.clients.directory.health.path=" + path))
        .run(
            context -> {
              FailureAnalysis analysis =
                  new FailoverConfigurationFailureAnalyzer().analyze(context.getStartupFailure());
              assertThat(analysis.getDescription())
                  .contains("Property: failover.clients.directory.health.path\n")
                  .contains("?***")
                  .doesNotContain("s3cr3t");
              assertThat(analysis.getAction()).doesNotContain("s3cr3t");
              assertThat(context.getStartupFailure().getMessage()).doesNotContain("s3cr3t");
            });
  }

  @Test
  void analysisShowsAPercentageAsWritten() {
    runner
        .withPropertyValues(with("failover.defaults.hedge.max-extra-load=60%"))
        .run(
            context -> {
              FailureAnalysis analysis =
                  new FailoverConfigurationFailureAnalyzer().analyze(context.getStartupFailure());
              assertThat(analysis.getDescription())
                  .isEqualTo(
                      """
                      Invalid failover client configuration:

                          Property: failover.defaults.hedge.max-extra-load
                          Value: "60%"
                          Origin: "failover.defaults.hedge.max-extra-load" from property source "test"
                          Reason: must be above 0 and at most 0.5 (50%) but was 60%
                      """);
              assertThat(analysis.getAction())
                  .isEqualTo(
                      "Update your application's configuration: use a share of extra attempts"
                          + " such as 5% or 0.05");
            });
  }

  /** A value that is no percentage at all fails binding, with Boot's analysis of the property. */
  @Test
  void unparsablePercentageFailsBindingNamingTheProperty() {
    runner
        .withPropertyValues(with("failover.defaults.hedge.max-extra-load=lots"))
        .run(
            context -> {
              assertThat(context).hasFailed();
              assertThat(context.getStartupFailure())
                  .hasStackTraceContaining("failover.defaults.hedge.max-extra-load")
                  .hasStackTraceContaining("'lots' is not a percentage such as 5%");
            });
  }

  /** Starts a real application from a YAML file, and keeps the analysis for the docs. */
  @Test
  void analysisNamesTheLineOfTheYamlFile() throws IOException {
    SpringApplication application = new SpringApplication(BadApp.class);
    application.setWebApplicationType(WebApplicationType.NONE);
    application.setDefaultProperties(Map.of("spring.config.name", "failover-bad"));
    application.setLogStartupInfo(false);
    Throwable failure = catchThrowable(application::run);
    FailureAnalysis analysis = new FailoverConfigurationFailureAnalyzer().analyze(failure);
    assertThat(analysis.getDescription())
        .contains("Origin: class path resource [failover-bad.yml] - 4:15");
    Path dir = Path.of("target", "docs-snippets");
    Files.createDirectories(dir);
    Files.writeString(
        dir.resolve("failure-analysis.txt"),
        "Description:\n\n"
            + analysis.getDescription()
            + "\nAction:\n\n"
            + analysis.getAction()
            + "\n");
  }

  /**
   * A real application prints our report, not Boot's generic one for its {@link
   * InvalidConfigurationPropertyValueException}: even with Boot's own spring.factories first on the
   * class path, as a class path that lists spring-boot.jar before the starter has it.
   */
  @Test
  @ExtendWith(OutputCaptureExtension.class)
  void aRealApplicationPrintsTheFailoverReportBeforeBootsOwn(CapturedOutput output) {
    ClassLoader bootFirst = new BootFactoriesFirst(getClass().getClassLoader());
    SpringApplication application =
        new SpringApplication(new DefaultResourceLoader(bootFirst), BadApp.class);
    application.setWebApplicationType(WebApplicationType.NONE);
    application.setLogStartupInfo(false);
    String[] args =
        Arrays.stream(with("failover.clients.directory.deadline=-2s"))
            .map(p -> "--" + p)
            .toArray(String[]::new);
    Throwable failure = catchThrowable(() -> application.run(args));
    assertThat(failure).isNotNull();
    assertThat(output)
        .contains("APPLICATION FAILED TO START")
        .contains(
            "Invalid failover client configuration:\n\n"
                + "    Property: failover.clients.directory.deadline\n"
                + "    Value: \"-2s\"\n"
                + "    Origin: \"failover.clients.directory.deadline\" from property source"
                + " \"commandLineArgs\"\n"
                + "    Reason: must be a positive duration but was PT-2S\n")
        .contains(
            "Update your application's configuration: use a positive duration such as 500ms or 2s")
        // Boot's InvalidConfigurationPropertyValueFailureAnalyzer would have written this:
        .doesNotContain("Invalid value '-2s' for configuration property");
  }

  /** Lists the spring.factories of spring-boot.jar before all others. */
  private static final class BootFactoriesFirst extends ClassLoader {
    BootFactoriesFirst(ClassLoader parent) {
      super(parent);
    }

    @Override
    public Enumeration<URL> getResources(String name) throws IOException {
      List<URL> urls = Collections.list(super.getResources(name));
      if (name.equals("META-INF/spring.factories")) {
        urls.sort(Comparator.comparing((URL url) -> !url.toString().contains("/spring-boot-4")));
        assertThat(urls.get(0).toString()).contains("/spring-boot-4");
      }
      return Collections.enumeration(urls);
    }
  }

  @Test
  void analyzersAreOrderedBeforeBootsWhateverTheClassPathOrder() {
    List<FailureAnalyzer> analyzers =
        SpringFactoriesLoader.forDefaultResourceLocation(
                new BootFactoriesFirst(getClass().getClassLoader()))
            .load(
                FailureAnalyzer.class,
                SpringFactoriesLoader.ArgumentResolver.of(Environment.class, new MockEnvironment()),
                SpringFactoriesLoader.FailureHandler.handleMessage((message, failure) -> {}));
    List<String> names = analyzers.stream().map(a -> a.getClass().getSimpleName()).toList();
    assertThat(names)
        .contains("InvalidConfigurationPropertyValueFailureAnalyzer")
        .first()
        .isEqualTo("FailoverConfigurationFailureAnalyzer");
  }

  /** A wrong failover property is Boot's exception, with Boot's name, value and reason. */
  @Test
  void aWrongPropertyIsBootsInvalidConfigurationPropertyValueException() {
    InvalidConfigurationPropertyValueException e =
        caught(with("failover.clients.directory.deadline=-2s"));
    assertThat(e.getName()).isEqualTo("failover.clients.directory.deadline");
    assertThat(e.getValue()).isEqualTo("-2s");
    assertThat(e.getReason()).isEqualTo("must be a positive duration but was PT-2S");
    assertThat(e.getMessage())
        .isEqualTo(
            "Property failover.clients.directory.deadline with value '-2s' is invalid: must be"
                + " a positive duration but was PT-2S");
    assertThat(e.getCause()).isInstanceOf(InvalidSettingException.class);
    FailoverConfigurationException f = (FailoverConfigurationException) e;
    assertThat(f.property()).isEqualTo(e.getName());
    assertThat(f.value()).isEqualTo(e.getValue());
    assertThat(f.origin())
        .isEqualTo("\"failover.clients.directory.deadline\" from property source \"test\"");
    assertThat(f.action()).isEqualTo("use a positive duration such as 500ms or 2s");
  }

  /** A missing property has no value, and the message says so without "null". */
  @Test
  void aMissingPropertyHasNoValue() {
    InvalidConfigurationPropertyValueException e = caught(without("failover.home.zone"));
    assertThat(e.getName()).isEqualTo("failover.home.zone");
    assertThat(e.getValue()).isNull();
    assertThat(e.getMessage())
        .isEqualTo("Property failover.home.zone is invalid: is required but is not set");
  }

  /** What building the directory client from {@code properties} throws, caught as Boot's. */
  private static InvalidConfigurationPropertyValueException caught(String[] properties) {
    FailoverClientFactory factory = factory(properties);
    try {
      factory.create("directory").close();
    } catch (InvalidConfigurationPropertyValueException e) {
      return e;
    }
    throw new AssertionError("the client was built");
  }

  /**
   * A client's name is a map key, which may hold capitals that a canonical property name may not:
   * its properties are still named, with their origin, and the report is ours.
   */
  @Test
  void aClientNameWithCapitalsIsNamedAsWritten() {
    String[] properties =
        Arrays.stream(with("failover.clients.directory.deadline=-2s"))
            .map(p -> p.replace("clients.directory.", "clients.myDirectory."))
            .toArray(String[]::new);
    runner
        .withPropertyValues(properties)
        .run(
            context -> {
              assertThat(analysis(context).getDescription())
                  .contains("Property: failover.clients.myDirectory.deadline\n")
                  .contains("Value: \"-2s\"\n")
                  .contains(
                      "Origin: \"failover.clients.myDirectory.deadline\" from property source");
            });
  }

  /** Our analysis of the context's start-up failure, which must have one. */
  static FailureAnalysis analysis(AssertableApplicationContext context) {
    assertThat(context).hasFailed();
    FailureAnalysis analysis =
        new FailoverConfigurationFailureAnalyzer().analyze(context.getStartupFailure());
    assertThat(analysis).as("analysis of %s", context.getStartupFailure()).isNotNull();
    return analysis;
  }

  private static FailoverClientFactory factory(String[] properties) {
    MockEnvironment environment = new MockEnvironment();
    TestPropertyValues.of(properties).applyTo(environment, TestPropertyValues.Type.MAP, "test");
    FailoverProperties bound =
        Binder.get(environment).bindOrCreate("failover", FailoverProperties.class);
    DefaultListableBeanFactory beans = new DefaultListableBeanFactory();
    return new FailoverClientFactory(
        bound,
        environment,
        beans.getBeanProvider(FailoverClientCustomizer.class),
        beans.getBeanProvider(ClientInstrumentation.class),
        beans.getBeanProvider(OkHttpClient.class),
        beans.getBeanProvider(EndpointSources.class));
  }

  @Configuration(proxyBeanMethods = false)
  @ImportAutoConfiguration(FailoverAutoConfiguration.class)
  static class BadApp {}

  @Test
  void analyzerIsRegisteredInSpringFactories() {
    assertThat(
            SpringFactoriesLoader.forDefaultResourceLocation(getClass().getClassLoader())
                .load(
                    FailureAnalyzer.class,
                    null,
                    // Boot's own analyzers need constructor arguments: skip them.
                    SpringFactoriesLoader.FailureHandler.handleMessage((message, failure) -> {})))
        .anyMatch(FailoverConfigurationFailureAnalyzer.class::isInstance);
  }

  private static String[] with(String... overrides) {
    List<String> properties =
        new ArrayList<>(Arrays.asList(FailoverAutoConfigurationTests.DIRECTORY));
    for (String override : overrides) {
      String key = override.substring(0, override.indexOf('='));
      properties.removeIf(p -> p.startsWith(key + "="));
      properties.add(override);
    }
    return properties.toArray(String[]::new);
  }

  private static String[] without(String key) {
    return Arrays.stream(FailoverAutoConfigurationTests.DIRECTORY)
        .filter(p -> !p.startsWith(key + "="))
        .toArray(String[]::new);
  }
}
