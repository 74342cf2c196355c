package dev.failover;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * No password reaches an error message, however malformed the URL around it: with or without a
 * scheme separator, with slashes or backslashes, with several {@code @}.
 */
class UrlRedactionTest {

  @ParameterizedTest
  @ValueSource(
      strings = {
        "http//bob:hunter2@x",
        "http:/bob:hunter2@x",
        "http:bob:hunter2@x",
        "http:\\\\bob:hunter2@x",
        "https//bob:hunter2@x:99999",
        "htp://bob:hunter2@x",
        "htp//bob:hunter2@x",
        "ftp://bob:hunter2@x",
        "//bob:hunter2@x",
        "bob:hunter2@x",
        ":hunter2@x",
        "hunter2@x",
        "http://bob:hunter2@x@y:-1",
        "http://bob:hun@ter2@x:bad",
        "http://bob:hun/ter2@x:bad",
        "http://bob:hunter2@[::1",
        "http ://bob:hunter2@x",
        " http//bob:hunter2@x ",
        "HTTP//bob:hunter2@x",
        "http://bob:hunter2@",
        "http://bob:hunter2%40x:bad",
        "bob%3Ahunter2%40x",
        "http://bob:hunter2%40x"
      })
  void aMalformedEndpointUrlNeverShowsItsPassword(String url) {
    assertThatThrownBy(() -> Endpoint.of(url, "us-east-1", "us-east-1a"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("endpoint URL must")
        .hasMessageNotContaining("hunter2")
        .hasMessageNotContaining("hun")
        .hasMessageNotContaining("ter2");
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "http//bob:hunter2@x        | http//***@x",
        "http:/bob:hunter2@x        | http:/***@x",
        "http:bob:hunter2@x         | http:***@x",
        "ftp://bob:hunter2@x        | ftp://***@x",
        "//bob:hunter2@x            | //***@x",
        "bob:hunter2@x              | ***@x",
        "htp//bob:hunter2@x         | ***@x",
        "http://bob:p@ss@x/path     | http://***@x/path",
        "http://x/no-user-info      | http://x/no-user-info",
        "http//x                    | http//x",
        "x:8443/api?access_token=s3 | x:8443/api?***",
        "bob:pw@x/api#token=s3      | ***@x/api#***",
        "x/api?email=a@b            | ***@b",
        "http://bob:hunter2%40x:bad | http://***%40x:bad",
        "bob%3Ahunter2%40x          | ***%40x",
        "straße:hunter2%40x         | ***%40x"
      })
  void whatIsKeptAroundTheUserInfo(String text, String redacted) {
    assertThat(Endpoint.redactUserInfo(text)).isEqualTo(redacted);
  }

  @Test
  void aMalformedEndpointUrlNeverShowsItsQuery() {
    assertThatThrownBy(() -> Endpoint.of("dir-a.internal:8443/api?access_token=s3cret", "r", "r-a"))
        .hasMessage(
            "endpoint URL must be an absolute http or https URL but was"
                + " 'dir-a.internal:8443/api?***'")
        .isInstanceOfSatisfying(
            InvalidSettingException.class,
            e -> assertThat(String.valueOf(e.value())).doesNotContain("s3cret"));
    assertThatThrownBy(() -> Endpoint.of("https://bob:pw@x/api?access_token=s3cret", "r", "r-a"))
        .isInstanceOfSatisfying(
            InvalidSettingException.class,
            e -> {
              assertThat(e.getMessage()).doesNotContain("s3cret").doesNotContain("pw");
              assertThat(String.valueOf(e.value())).doesNotContain("s3cret");
            });
  }

  @Test
  void theExactMessageOfTheProbe() {
    assertThatThrownBy(() -> Endpoint.of("http//bob:hunter2@x", "us-east-1", "us-east-1a"))
        .hasMessage("endpoint URL must be an absolute http or https URL but was 'http//***@x'");
  }

  @Test
  void aServiceNameWithUserInfoIsRedactedToo() {
    assertThatThrownBy(() -> FailoverClient.builder().service("bob:hunter2@directory"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("service must be a host name such as 'directory' but was '***@directory'");
  }

  @Test
  void aParsedUrlWithUserInfoIsRejectedWithoutIt() {
    assertThatThrownBy(() -> Endpoint.of("https://bob:hunter2@x/api", "us-east-1", "us-east-1a"))
        .hasMessage(
            "endpoint URL must not carry credentials (user info) but https://x/api does; send"
                + " credentials in request headers instead");
  }

  @Test
  void aCallPrintsItsUrlWithoutUserInfoOrQuery() {
    try (FailoverClient client =
        FailoverClient.builder()
            .service("directory")
            .home("us-east-1", "us-east-1a")
            .endpoint("http://127.0.0.1:1", "us-east-1", "us-east-1a")
            .build()) {
      okhttp3.Call call =
          client.newCall(
              new okhttp3.Request.Builder()
                  .url("http://bob:hunter2@directory/api/v1/users?token=s3cret#frag")
                  .build());
      assertThat(call.toString()).isEqualTo("Call{GET http://directory/api/v1/users}");
    }
  }
}
