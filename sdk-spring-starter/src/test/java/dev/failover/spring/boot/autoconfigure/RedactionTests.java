package dev.failover.spring.boot.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
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
        // An '@' percent-encoded (%40) ends user info too.
        "https://svc:secret%40dir-b:8443/x              | https://***%40dir-b:8443/x",
        "svc%3Asecret%40dir-b                           | ***%40dir-b",
        "http://u:p%40w@h and http://v:secret%40h2      | http://***@h and http://***%40h2",
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

  /** Every query or fragment parameter's value is masked, its name kept, whatever the name. */
  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "health?access_token=abc                         | health?access_token=***",
        "/health?ACCESS_TOKEN=abc&mode=deep              | /health?ACCESS_TOKEN=***&mode=***",
        "https://h/x?sig=s1&X-Amz-Credential=c#id_token=t | https://h/x?sig=***&X-Amz-Credential=***#id_token=***",
        "http://h/a;jsessionid=0A1B?password=p            | http://h/a;jsessionid=***",
        "but was 'health?api_key=k9'                     | but was 'health?api_key=***'",
        "refused: http://r1/x?token=a, http://r2/y?key=b | refused: http://r1/x?token=***, http://r2/y?key=***",
        "(http://r1/x?client_secret=s) done              | (http://r1/x?client_secret=***) done",
        "http://u:p@h/x?secret=s                         | http://***@h/x?secret=***",
        "/health?flag&empty=                             | /health?flag&empty=",
        "a plain reason; use 2s                          | a plain reason; use 2s",
      })
  void queryParameterValuesAreMaskedAndTheirNamesKept(String text, String shown) {
    assertThat(Redaction.text(text)).isEqualTo(shown);
    assertThat(Redaction.value("failover.clients.directory.region-order", text)).isEqualTo(shown);
  }

  /**
   * Credentials a registry client's exception may write out of a URL: after an authentication
   * scheme, and the value of a header or a setting named as a credential.
   */
  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "401 with Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig | 401 with Authorization: ***",
        "rejected Basic dXNlcjpwdw==                               | rejected Basic ***",
        "sent Bearer shorttoken12 twice                            | sent Bearer *** twice",
        "bearer eyJhbGciOiJIUzI1NiJ9.payload                      | bearer ***",
        "Basic authentication is required; Token validation failed | Basic authentication is required; Token validation failed",
        "[password:hunter2] [X-Consul-Token:abcdef123456]          | [password:***] [X-Consul-Token:***]",
        "password=p#ssw0rd and password=abc;def                    | password=*** and password=***",
        "ZooKeeper session expired, sessionTimeout=4000ms          | ZooKeeper session expired, sessionTimeout=4000ms",
        "JSESSIONID=0A1B2C, sessionid=77                           | JSESSIONID=***, sessionid=***",
        "http://token-service:8080/x, secret-store:8443            | http://token-service:8080/x, secret-store:8443",
        "Bearer abcdefghijklmnopq; Bearer sk-abcdefghijklmnop x    | Bearer ***; Bearer *** x",
        "SESSION=YjM0ZTk2 expired                                  | SESSION=*** expired",
        "[password:123456] token:20240101 apikey:987654/xyz        | [password:***] token:*** apikey:***",
        "Token expired; basic auth.properties missing              | Token expired; basic auth.properties missing",
        "dev.failover.TokenFetchException:timeout                  | dev.failover.TokenFetchException:timeout",
        "http://token-service:http/x                               | http://token-service:http/x",
        "login failed: password=Summer@2024                        | login failed: password=***",
        "password:1234!xyz and host:8080, port                     | password:*** and host:8080, port",
        "(token-service:8080) [token-service:8080] svc:8080?x      | (token-service:8080) [token-service:8080] svc:8080?x",
        "X-Token:ab/CDEFGHIJKLMNOP123 secret:k/9Fq2zz              | X-Token:*** secret:***",
        "svc:pa=ss@dir-b:8443 svc:c2VjcmV0MTI=@dir-b               | ***@dir-b:8443 ***@dir-b",
        "address=svc:hunter2@dir-b:8443                            | ***@dir-b:8443",
        "svc-token:letmein@consul api-token:hunter@dirb/x          | ***@consul ***@dirb/x",
        "(password:1234) [pin password:98765] password:4321?       | (password:***) [pin password:***] password:***",
        "password: Summer@2024 and password=a)b@host               | password: *** and ***@host",
        "header X-Consul-Token: 8f2a1c9e-token-value refused       | header X-Consul-Token: *** refused",
        "login failed (password=hunter2, user=ops)                 | login failed (password=***, user=ops)",
        "client_secret = s3cr3t; retry                             | client_secret = *** retry",
        "apiKey: k9, apikey=k8                                     | apiKey: ***, apikey=***",
        "access_key=AKIA1, private-key=pk                          | access_key=***, private-key=***",
        "Cookie: SESSION=abc; path                                 | Cookie: *** path",
        "http://h/x?token=abc                                      | http://h/x?token=***",
        "a basic setup error; use basic auth with bearer tokens    | a basic setup error; use basic auth with bearer tokens",
        "failover.defaults.discovery.zone-keys=zone                | failover.defaults.discovery.zone-keys=zone",
        "Connection refused: http://token-service-1:8080           | Connection refused: http://token-service-1:8080",
        "secret-store.prod.svc.cluster.local:8443 down             | secret-store.prod.svc.cluster.local:8443 down",
      })
  void credentialsWrittenOutInTextAreMasked(String text, String shown) {
    assertThat(Redaction.text(text)).isEqualTo(shown);
  }

  /** User info of any length, as a token used as a password (a long JWT, a PAT) is. */
  @Test
  void longUserInfoIsMasked() {
    String secret = "x".repeat(600);
    assertThat(Redaction.text("https://ci:" + secret + "@host/x")).isEqualTo("https://***@host/x");
  }

  /** Quoted values, as JSON or a quoting exception writes them. */
  @Test
  void quotedCredentialsAreMasked() {
    assertThat(Redaction.text("{\"token\":\"abc\",\"user\":\"ops\"}"))
        .isEqualTo("{\"token\":\"***\",\"user\":\"ops\"}");
    assertThat(Redaction.text("X-Consul-Token: \"abc def\" and password='hunter2'"))
        .isEqualTo("X-Consul-Token: \"***\" and password='***'");
    assertThat(Redaction.text("{\"password\":\"hunter@2xyz\"}"))
        .isEqualTo("{\"password\":\"***\"}");
    assertThat(Redaction.text("login failed: \"password\": \"Summer@2024\", {\"token\":12345}"))
        .isEqualTo("login failed: \"password\": \"***\", {\"token\":***}");
    assertThat(Redaction.text("password='pa\"ss word' user=ops"))
        .isEqualTo("password='***' user=ops");
  }

  /**
   * Linear in the text: a registry's message may quote a whole response body. A first version
   * (nested unbounded quantifiers around the names) took 54 s on 8 KB of "token.".
   */
  @Test
  void longTextsAreMaskedInLinearTime() {
    for (String unit :
        List.of(
            "token.",
            "a.",
            "x-",
            "token=",
            "Bearer ",
            ": ",
            "a://",
            "u@",
            "token:a/",
            "token=***")) {
      String text = unit.repeat(65_536 / unit.length());
      org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(
          java.time.Duration.ofSeconds(10), () -> Redaction.text(text), unit);
    }
  }

  /**
   * A path's query is hidden whole, as the SDK shows a health check path ({@code health?***}): a
   * bare token ({@code health?s3cr3t}) has no {@code name=} for the parameter masking to keep.
   */
  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "health?s3cr3t                     | health?***",
        "/health?s3cr3t#x                  | /health?***",
        "/health?access_token=abc&mode=deep | /health?***",
        "/health?flag&empty=               | /health?***",
        "/health#frag=f                    | /health#frag=***",
        "/health                           | /health",
        "health                            | health",
      })
  void aPathsQueryIsMaskedWhole(String path, String shown) {
    assertThat(Redaction.value("failover.clients.directory.health.path", path)).isEqualTo(shown);
    assertThat(Redaction.value("failover.defaults.health.path", path)).isEqualTo(shown);
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(
      strings = {
        "token",
        "access_token",
        "id_token",
        "refresh_token",
        "sig",
        "signature",
        "key",
        "api_key",
        "apikey",
        "password",
        "secret",
        "client_secret",
        "auth",
        "Token",
        "AUTH"
      })
  void theUsualCredentialParametersAreMasked(String name) {
    assertThat(Redaction.text("http://h/x?a=1&" + name + "=s3cr3t"))
        .isEqualTo("http://h/x?a=***&" + name + "=***")
        .doesNotContain("s3cr3t");
  }

  @org.junit.jupiter.api.Test
  void aReasonQuotingAMaskedValueQuotesItMasked() {
    assertThat(
            Redaction.quoting(
                "health check path must start with '/' but was 'health?access_token=abc'",
                "health?access_token=abc",
                "health?access_token=***"))
        .isEqualTo("health check path must start with '/' but was 'health?access_token=***'");
    assertThat(Redaction.quoting("header value 'Bearer abc' is wrong", "Bearer abc", "******"))
        .isEqualTo("header value '******' is wrong");
    assertThat(Redaction.quoting("must be 1 or more", "0", "0")).isEqualTo("must be 1 or more");
    // Only whole occurrences: a blank value, or one inside a longer word or number, is left alone.
    assertThat(Redaction.quoting("must not be blank", " ", "******"))
        .isEqualTo("must not be blank");
    assertThat(Redaction.quoting("must be between 1 and 100 but was 10", "10", "******"))
        .isEqualTo("must be between 1 and 100 but was ******");
    // A value whose edge is no word character is matched wherever it occurs.
    assertThat(Redaction.quoting("cannot reach http://h/x/health", "http://h/x/", "***"))
        .isEqualTo("cannot reach ***health");
  }
}
