package dev.failover;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class BuilderValidationTest {

  private static FailoverClient.Builder valid() {
    return FailoverClient.builder()
        .service("directory")
        .home("us-east-1", "us-east-1a")
        .endpoint("http://127.0.0.1:1", "us-east-1", "us-east-1a");
  }

  @Test
  void requiredSettingsAreNamed() {
    assertThatThrownBy(() -> FailoverClient.builder().build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("service is required");
    assertThatThrownBy(() -> FailoverClient.builder().service("directory").build())
        .hasMessageContaining("home is required");
    assertThatThrownBy(
            () -> FailoverClient.builder().service("directory").home("us-east-1", "a").build())
        .hasMessageContaining(
            "at least one endpoint, or an endpointSource, is required for service directory");
  }

  @Test
  void settersCheckTheirArgumentAtOnce() {
    FailoverClient.Builder b = FailoverClient.builder();
    assertThatThrownBy(() -> b.service("not a host"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("service must be a host name such as 'directory' but was 'not a host'");
    assertThatThrownBy(() -> b.deadline(Duration.ofSeconds(-1)))
        .hasMessage("deadline must be positive but was PT-1S");
    assertThatThrownBy(() -> b.attemptTimeout(Duration.ZERO))
        .hasMessage("attemptTimeout must be positive but was PT0S");
    assertThatThrownBy(() -> b.maxAttempts(0))
        .hasMessage("maxAttempts must be between 1 and 10 but was 0");
    assertThatThrownBy(() -> b.backoff(Duration.ofMillis(100), Duration.ofMillis(10)))
        .hasMessage("backoff cap (PT0.01S) must not be below backoff base (PT0.1S)");
    assertThatThrownBy(() -> b.retryBudget(1.5, 1, Duration.ofSeconds(10)))
        .hasMessage("retryBudget ratio must be between 0 and 1 but was 1.5");
    assertThatThrownBy(() -> b.retryBudget(0.1, 1, Duration.ofMillis(10)))
        .hasMessageContaining("retryBudget window must be between 1 s and 5 min");
    assertThatThrownBy(() -> b.panic(101, true))
        .hasMessage("panic thresholdPercent must be between 0 and 100 but was 101");
    assertThatThrownBy(() -> b.maxRequests(0)).hasMessage("maxRequests must be >= 1 but was 0");
    assertThatThrownBy(() -> b.retryableStatuses(java.util.Set.of(503, 302)))
        .hasMessage("retryableStatuses must hold HTTP statuses from 400 to 599 but held 302");
    assertThatThrownBy(() -> b.minAttemptTime(Duration.ofMillis(-1)))
        .hasMessage("minAttemptTime must not be negative but was PT-0.001S");
  }

  @Test
  void endpointsAreChecked() {
    assertThatThrownBy(() -> Endpoint.of("ftp://x", "us-east-1", "us-east-1a"))
        .hasMessage("endpoint URL must be an absolute http or https URL but was 'ftp://x'");
    assertThatThrownBy(() -> Endpoint.of("https://user:secret@x", "us-east-1", "us-east-1a"))
        .hasMessageContaining("must not carry credentials")
        .hasMessageNotContaining("secret");
    assertThatThrownBy(() -> Endpoint.of("http://x/?a=1", "us-east-1", "us-east-1a"))
        .hasMessage("endpoint URL must not have a query but was http://x/");
    // Every call's path would go under the empty segment: "//users".
    assertThatThrownBy(() -> Endpoint.of("http://x:1//", "us-east-1", "us-east-1a"))
        .isInstanceOfSatisfying(
            InvalidSettingException.class, e -> assertThat(e.setting()).isEqualTo("endpoint.url"))
        .hasMessage(
            "endpoint URL must not have an empty path segment (two slashes in a row) but was"
                + " http://x:1//");
    assertThatThrownBy(() -> Endpoint.of("http://x/api//v1/", "us-east-1", "us-east-1a"))
        .hasMessageContaining("empty path segment");
    assertThat(Endpoint.of("http://x/api/v1/", "us-east-1", "us-east-1a").url().encodedPath())
        .isEqualTo("/api/v1/");
    assertThatThrownBy(() -> Endpoint.of("http://x", "us-east-1", "us-east-1a").withWeight(0))
        .hasMessage("endpoint weight must be between 1 and 10000 but was 0 for http://x/");
    assertThatThrownBy(() -> Endpoint.of("http://x", " ", "us-east-1a"))
        .hasMessage("region must not be blank");
  }

  /**
   * A zone or region name with whitespace at an end ({@code zone=us-east-1a } in a .properties file
   * keeps its trailing space) would be a zone of its own next to {@code us-east-1a}: two zones of
   * one endpoint each, judged and evacuated apart. Rejected, naming the setting and the value.
   */
  @Test
  void localityNamesWithWhitespaceAtAnEndAreRejected() {
    assertThatThrownBy(() -> Locality.of("us-east-1", "us-east-1a "))
        .isInstanceOfSatisfying(
            InvalidSettingException.class,
            e -> {
              assertThat(e.setting()).isEqualTo("locality.zone");
              assertThat(e.value()).isEqualTo("us-east-1a ");
            })
        .hasMessage(
            "zone must not start or end with whitespace but was 'us-east-1a ' (region us-east-1)");
    assertThatThrownBy(() -> Locality.of("\tus-east-1", "us-east-1a"))
        .isInstanceOfSatisfying(
            InvalidSettingException.class,
            e -> assertThat(e.setting()).isEqualTo("locality.region"))
        .hasMessage("region must not start or end with whitespace but was '\tus-east-1'");
    assertThatThrownBy(() -> Endpoint.of("http://x", "us-east-1", "us-east-1a\n"))
        .isInstanceOf(InvalidSettingException.class)
        .hasMessageStartingWith("zone must not start or end with whitespace");
    assertThatThrownBy(() -> FailoverClient.builder().home("us-east-1", " us-east-1a"))
        .isInstanceOf(InvalidSettingException.class)
        .hasMessageStartingWith("zone must not start or end with whitespace");
    assertThatThrownBy(() -> valid().endpoint("http://x", "us-east-1 ", "us-east-1a"))
        .isInstanceOf(InvalidSettingException.class)
        .hasMessageStartingWith("region must not start or end with whitespace");
    // Whitespace inside a name is the name's own business.
    assertThat(Locality.of("on prem", "rack 1").zone()).isEqualTo("rack 1");
  }

  /**
   * No-break spaces are white space too ({@code String.isBlank} and {@code strip} leave them): a
   * zone named {@code us-east-1a} and a no-break space was accepted as a zone of its own, and one
   * of no-break spaces alone as a name. A control or format character anywhere (a line break, a
   * direction override) would forge the log lines and events that carry the name.
   */
  @Test
  void localityNamesWithUnicodeSpacesAtAnEndOrControlCharactersAreRejected() {
    assertThatThrownBy(() -> Locality.of("us-east-1", "\u00a0"))
        .hasMessage("zone must not be blank (region us-east-1)");
    assertThatThrownBy(() -> Locality.of("us-east-1", "us-east-1a\u00a0"))
        .hasMessageStartingWith("zone must not start or end with whitespace");
    assertThatThrownBy(() -> Locality.of("\u2007us-east-1", "us-east-1a"))
        .hasMessageStartingWith("region must not start or end with whitespace");
    assertThatThrownBy(() -> Locality.of("us-east-1", "us-east-1a\u202f"))
        .hasMessageStartingWith("zone must not start or end with whitespace");
    assertThatThrownBy(() -> Locality.of("us-east-1", "us-east\n1a"))
        .isInstanceOfSatisfying(
            InvalidSettingException.class,
            e -> {
              assertThat(e.setting()).isEqualTo("locality.zone");
              assertThat(e.value()).isEqualTo("us-east?1a");
            })
        .hasMessage(
            "zone must not hold control, format or line-separator characters but held U+000A at"
                + " index 7 (region us-east-1)");
    assertThatThrownBy(() -> Locality.of("us-\u202eeast-1", "us-east-1a"))
        .hasMessage(
            "region must not hold control, format or line-separator characters but held U+202E at"
                + " index 3");
    assertThatThrownBy(() -> Locality.of("us-east-1", "a\u0085b")).hasMessageContaining("U+0085");
    assertThatThrownBy(() -> Locality.of("us-east-1", "a\u2028b")).hasMessageContaining("U+2028");
    // A name that ends in a line break is refused as white space, and shown without it.
    assertThatThrownBy(() -> Locality.of("us-east-1", "a\nFORGED LINE\n"))
        .isInstanceOfSatisfying(
            InvalidSettingException.class, e -> assertThat(e.value()).isEqualTo("a?FORGED LINE?"))
        .hasMessage(
            "zone must not start or end with whitespace but was 'a?FORGED LINE?' (region"
                + " us-east-1)");
    // A region holds no '/': "eu/west/1" would name two zones as region/zone.
    assertThatThrownBy(() -> Locality.of("eu/west", "1"))
        .isInstanceOfSatisfying(
            InvalidSettingException.class,
            e -> assertThat(e.setting()).isEqualTo("locality.region"))
        .hasMessage(
            "region must not hold '/' (it separates region and zone in region/zone names) but was"
                + " 'eu/west'");
    assertThat(Locality.of("eu", "west/1").zone()).isEqualTo("west/1");
  }

  @Test
  void buildChecksThatSettingsFitTogether() {
    assertThatThrownBy(
            () -> valid().endpoint("http://127.0.0.1:1/", "us-east-1", "us-east-1b").build())
        .hasMessage("endpoint http://127.0.0.1:1 is listed twice");
    // A home region without endpoints is a real layout (the service runs only elsewhere): built,
    // with a warning when the name looks misspelt.
    try (FailoverClient elsewhere =
        FailoverClient.builder()
            .service("directory")
            .home("us-east-l", "us-east-1a")
            .endpoint("http://127.0.0.1:1", "us-east-1", "us-east-1a")
            .build()) {
      assertThat(elsewhere.endpoints()).hasSize(1);
    }
    try (FailoverClient farAway =
        FailoverClient.builder()
            .service("directory")
            .home("eu-west-1", "eu-west-1a")
            .endpoint("http://127.0.0.1:1", "us-east-1", "us-east-1a")
            .build()) {
      assertThat(farAway.endpoints()).hasSize(1);
    }
    assertThatThrownBy(
            () ->
                valid()
                    .deadline(Duration.ofSeconds(1))
                    .attemptTimeout(Duration.ofSeconds(2))
                    .build())
        .hasMessage("attemptTimeout (PT2S) must not exceed deadline (PT1S)");
  }

  @Test
  void buildNamesTheSettingToChangeAndWhatItConflictsWith() {
    assertThat(configurationError(FailoverClient.builder()))
        .extracting(
            InvalidConfigurationException::setting,
            InvalidConfigurationException::value,
            InvalidConfigurationException::conflictsWith)
        .containsExactly("service", null, null);
    assertThat(configurationError(FailoverClient.builder().service("directory")))
        .extracting(InvalidConfigurationException::setting, InvalidConfigurationException::value)
        .containsExactly("home", null);
    assertThat(
            configurationError(
                FailoverClient.builder().service("directory").home("us-east-1", "us-east-1a")))
        .extracting(InvalidConfigurationException::setting, InvalidConfigurationException::value)
        .containsExactly("endpoint", null);
    assertThat(
            configurationError(valid().endpoint("http://127.0.0.1:1/", "us-east-1", "us-east-1b")))
        .extracting(
            InvalidConfigurationException::setting,
            InvalidConfigurationException::value,
            InvalidConfigurationException::conflictsWith)
        .containsExactly("endpoint", "http://127.0.0.1:1", "endpoint");
    InvalidConfigurationException region =
        configurationError(valid().regionOrder(List.of("us-east-1", "eu-west-1")));
    assertThat(region)
        .extracting(
            InvalidConfigurationException::setting,
            InvalidConfigurationException::value,
            InvalidConfigurationException::conflictsWith)
        .containsExactly("regionOrder", "eu-west-1", "endpoint");
    assertThat(region).hasMessageStartingWith("regionOrder names region 'eu-west-1'");
    assertThat(
            configurationError(
                valid().deadline(Duration.ofSeconds(1)).minAttemptTime(Duration.ofSeconds(1))))
        .extracting(
            InvalidConfigurationException::setting,
            InvalidConfigurationException::value,
            InvalidConfigurationException::conflictsWith)
        .containsExactly("minAttemptTime", Duration.ofSeconds(1), "deadline");
    assertThat(
            configurationError(
                valid().deadline(Duration.ofSeconds(1)).attemptTimeout(Duration.ofSeconds(2))))
        .extracting(
            InvalidConfigurationException::setting,
            InvalidConfigurationException::value,
            InvalidConfigurationException::conflictsWith)
        .containsExactly("attemptTimeout", Duration.ofSeconds(2), "deadline");
  }

  /** The error {@code builder.build()} throws, which is still an {@code IllegalStateException}. */
  private static InvalidConfigurationException configurationError(FailoverClient.Builder builder) {
    Throwable thrown = catchThrowable(builder::build);
    assertThat(thrown).isInstanceOf(IllegalStateException.class);
    return (InvalidConfigurationException) thrown;
  }

  @Test
  void healthCheckAndEjectionPolicyAreChecked() {
    assertThatThrownBy(() -> HealthCheck.http("health"))
        .hasMessage("health check path must start with '/' but was 'health'");
    // A query may carry a token: its values are not repeated.
    assertThatThrownBy(() -> HealthCheck.http("health?access_token=s3cr3t"))
        .hasMessage("health check path must start with '/' but was 'health?***'")
        .isInstanceOfSatisfying(
            InvalidSettingException.class, e -> assertThat(e.value()).isEqualTo("health?***"));
    assertThatThrownBy(() -> HealthCheck.http("/health#top"))
        .hasMessage("health check path must not have a fragment ('#') but was '/health#top'");
    // A trailing space (a properties file keeps it) was sent as %20: every probe failed, and
    // every endpoint went down; a tab or a line break was dropped.
    assertThatThrownBy(() -> HealthCheck.http("/health "))
        .isInstanceOfSatisfying(
            InvalidSettingException.class,
            e -> assertThat(e.setting()).isEqualTo("healthCheck.path"))
        .hasMessage(
            "health check path must not have white space or control characters (write a space as"
                + " %20) but was '/health ' (U+0020 at index 7)");
    assertThatThrownBy(() -> HealthCheck.builder().path("/health\tz"))
        .hasMessageEndingWith("but was '/health\tz' (U+0009 at index 7)");
    assertThatThrownBy(() -> HealthCheck.http("/health\r\nX-Injected: 1"))
        .hasMessageContaining("(U+000D at index 7)");
    assertThatThrownBy(() -> HealthCheck.http("/health?token=a b"))
        .hasMessageEndingWith("but was '/health?***' (U+0020 at index 15)");
    // Dot segments would leave the endpoint's base path (https://host/tenant-a/../admin).
    for (String path : List.of("/../admin", "/a/./health", "/%2e%2E/admin", "/..", "/.")) {
      assertThatThrownBy(() -> HealthCheck.http(path))
          .as(path)
          .hasMessage(
              "health check path must not have '.' or '..' segments (they would leave the"
                  + " endpoint's base path) but was '"
                  + path
                  + "'");
    }
    assertThat(HealthCheck.http("/a/.well-known/health..json?x=..").path())
        .isEqualTo("/a/.well-known/health..json?x=..");
    assertThat(HealthCheck.http("/health%20check").path()).isEqualTo("/health%20check");
    // A query is sent as one.
    assertThat(
            HealthChecker.probeUrl(
                    okhttp3.HttpUrl.get("http://127.0.0.1:8080/directory/"),
                    "/health?full=true&token=a%20b")
                .toString())
        .isEqualTo("http://127.0.0.1:8080/directory/health?full=true&token=a%20b");
    assertThat(
            HealthChecker.probeUrl(okhttp3.HttpUrl.get("http://127.0.0.1:8080"), "/health")
                .toString())
        .isEqualTo("http://127.0.0.1:8080/health");
    assertThatThrownBy(() -> HealthCheck.http("/health").withThresholds(0, 1))
        .hasMessage("health check healthyThreshold must be >= 1 but was 0");
    assertThatThrownBy(() -> EjectionPolicy.defaults().withFailureRate(101, 10, 5))
        .hasMessage("ejection failureRatePercent must be between 1 and 100 but was 101");
    assertThatThrownBy(() -> EjectionPolicy.defaults().withFailureRate(50, 10, 20))
        .hasMessage("ejection minimumCalls (20) must not exceed windowSize (10)");
    assertThatThrownBy(
            () ->
                EjectionPolicy.defaults()
                    .withEjectionTime(Duration.ofSeconds(10), Duration.ofSeconds(1)))
        .hasMessage("maxEjectionTime (PT1S) must not be shorter than baseEjectionTime (PT10S)");
  }

  @Test
  void newBuilderCopiesEverySetting() {
    try (FailoverClient a = valid().deadline(Duration.ofMillis(1500)).maxAttempts(2).build();
        FailoverClient b = a.newBuilder().service("other").build()) {
      assertThat(b.service()).isEqualTo("other");
      assertThat(b.home()).isEqualTo(a.home());
      assertThat(b.endpoints()).isEqualTo(a.endpoints());
    }
  }

  @Test
  void requestsMustNameTheService() {
    try (FailoverClient client = valid().build()) {
      assertThatThrownBy(
              () ->
                  client.newCall(
                      new okhttp3.Request.Builder().url("http://127.0.0.1:1/users").build()))
          .hasMessage(
              "request host '127.0.0.1' must name the service 'directory', as in"
                  + " http://directory/users");
    }
  }
}
