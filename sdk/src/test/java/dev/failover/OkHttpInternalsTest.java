package dev.failover;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * The line that tells which of OkHttp's internals the SDK could not reach: nothing where it reached
 * all of them (the class path, where these tests run), and otherwise each one missing, with what it
 * costs and the launch flag that gives it back. The module-path run that logs it is in
 * examples/retrofit's {@code SdkModuleTest}.
 */
class OkHttpInternalsTest {

  @Test
  void onTheClassPathEveryInternalIsReachedAndNothingIsSaid() {
    assertThat(EndpointUrl.fastWay()).isTrue();
    assertThat(AttemptRequest.fastWay()).isTrue();
    assertThat(Classifier.canAskHealth()).isTrue();
    assertThat(OkHttpInternals.missing(true, true, true)).isNull();
  }

  @Test
  void eachMissingInternalIsNamedWithItsCostAndItsFlag() {
    String urls = OkHttpInternals.missing(false, true, true);
    assertThat(urls)
        .contains("HttpUrl.Builder")
        .contains("about 500 bytes and 0.3 us more an attempt")
        .contains("--add-opens okhttp3/okhttp3=dev.failover")
        .doesNotContain("Request.Builder")
        .doesNotContain("--add-exports");

    String requests = OkHttpInternals.missing(true, false, true);
    assertThat(requests)
        .contains("Request.Builder")
        .doesNotContain("HttpUrl.Builder")
        .doesNotContain("--add-");

    String health = OkHttpInternals.missing(true, true, false);
    assertThat(health)
        .contains("HTTP/2")
        .contains("--add-exports okhttp3/okhttp3.internal.connection=dev.failover")
        .doesNotContain("--add-opens");

    String all = OkHttpInternals.missing(false, false, false);
    assertThat(all)
        .startsWith("without some of OkHttp's internals")
        .contains("HttpUrl.Builder", "Request.Builder", "HTTP/2")
        .contains("; ")
        .endsWith("See README.md, \"Maven\".");
  }
}
