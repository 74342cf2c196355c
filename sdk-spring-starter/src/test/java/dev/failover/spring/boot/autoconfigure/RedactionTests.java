package dev.failover.spring.boot.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** What the starter masks in the values and texts it shows. */
class RedactionTests {

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "https://dir-b.internal:8443/api                | https://dir-b.internal:8443/api",
        "https://admin:secret@dir-b                     | https://***@dir-b",
        "https://svc:p@ss@dir-b                         | https://***@dir-b",
        // Up to the last '@' before a space or comma: more than the user info here, never less.
        "https://svc:p@ss@dir-b:8443/users/@me?x=a@b#c@d | https://***@d",
        "https://svc:p#ss@dir-b/x                       | https://***@dir-b/x",
        "http://u:p?w@h and http://v:p/w@h2             | http://***@h and http://***@h2",
        "svc:secret@dir-b:8443                          | ***@dir-b:8443",
        "svc:p@ss@dir-b:8443/api                        | ***@dir-b:8443/api",
        "refused: http://a:b@r1/x and https://c:d@e@r2  | refused: http://***@r1/x and https://***@r2",
        "urls=http://a:b@r1,http://c:d@r2               | urls=http://***@r1,http://***@r2",
        "us-east-1a                                     | us-east-1a",
      })
  void userInfoIsMaskedUpToTheLastAtOfItsWord(String text, String shown) {
    assertThat(Redaction.userInfo(text)).isEqualTo(shown);
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(
      strings = {
        "failover.clients.directory.default-header.Authorization",
        "failover.clients.directory.default-header[Proxy-Authorization]",
        "failover.clients.directory.default-header.Cookie",
        "failover.clients.directory.password",
        "failover.clients.directory.client-secret",
        "failover.clients.directory.api-token",
        "failover.clients.directory.tokens[0]",
        "failover.clients.directory.credentials.user",
        "failover.clients.directory.x-api-key",
        "failover.clients.directory.private_key",
        "authorization",
        "FAILOVER_CLIENTS_DIRECTORY_PASSWORD",
      })
  void theValueOfASensitiveKeyIsMaskedWhole(String key) {
    assertThat(Redaction.sensitiveKey(key)).isTrue();
    assertThat(Redaction.value(key, "plain-s3cr3t")).isEqualTo(Redaction.MASK);
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(
      strings = {
        "failover.clients.directory.dedline",
        "failover.clients.directory.endpoints[0].ulr",
        "failover.defaults.discovery.zone-kyes[0]",
        "failover.clients.token-service.dedline",
      })
  void theValueOfAnOrdinaryKeyIsShownWithoutUserInfo(String key) {
    assertThat(Redaction.sensitiveKey(key)).isFalse();
    assertThat(Redaction.value(key, "2s")).isEqualTo("2s");
    assertThat(Redaction.value(key, "https://svc:p@ss@dir-b")).isEqualTo("https://***@dir-b");
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"Bearer eyJhbGciOiJIUzI1NiJ9.e30.x", "basic dXNlcjpwYXNz", " Bearer abc"})
  void anAuthorizationHeadersValueIsMaskedWholeWhateverItsKey(String value) {
    assertThat(Redaction.value("failover.clients.directory.dedline", value))
        .isEqualTo(Redaction.MASK);
  }
}
