package dev.failover;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.absent;
import static com.github.tomakehurst.wiremock.client.WireMock.any;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.ok;
import static com.github.tomakehurst.wiremock.client.WireMock.serviceUnavailable;
import static org.assertj.core.api.Assertions.assertThat;

import dev.failover.testkit.FakeZones;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A server chooses {@code Retry-After}, so its parsing is total: whatever the header says, the
 * pause is a duration in {@code [0, 1 d]} whose nanoseconds fit a {@code long}, or nothing.
 */
class RetryAfterClampTest {

  @RegisterExtension static FakeZones zones = Zones3.zones();

  private static final long NOW = Instant.parse("2026-11-24T10:00:00Z").toEpochMilli();
  private static final Duration DAY = Duration.ofDays(1);

  @BeforeEach
  void stub() {
    Zones3.stub(zones);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "9999999999",
        "9223372036854775807",
        "9223372036854775808",
        "99999999999999999999999999999999999999",
        "Fri, 31 Dec 9999 23:59:59 GMT",
        "86401",
        " 100000 "
      })
  void aFarFutureIsClampedToOneDay(String value) {
    Duration d = Backoff.parseRetryAfter(value, NOW);
    assertThat(d).isEqualTo(Backoff.MAX_RETRY_AFTER).isEqualTo(DAY);
    assertThat(d.toNanos()).isEqualTo(DAY.toNanos());
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "-1",
        "-9999999999",
        "+5",
        "1.5",
        "5s",
        "0x10",
        "1e9",
        "\u0663",
        "soon",
        "Tue, 32 Nov 2026 10:00:00 GMT",
        "Mon, 99 Foo 2026 10:00:00 GMT",
        "Tue, 24 Nov 2026 10:00:00",
        "Tue, 24 Nov 99999 10:00:00 GMT",
        "",
        "   "
      })
  void garbageIsIgnored(String value) {
    assertThat(Backoff.parseRetryAfter(value, NOW)).isNull();
  }

  @Test
  void ordinaryValuesAreKept() {
    assertThat(Backoff.parseRetryAfter(null, NOW)).isNull();
    assertThat(Backoff.parseRetryAfter("0", NOW)).isZero();
    assertThat(Backoff.parseRetryAfter("120", NOW)).isEqualTo(Duration.ofMinutes(2));
    assertThat(Backoff.parseRetryAfter("86400", NOW)).isEqualTo(DAY);
    assertThat(Backoff.parseRetryAfter("000000000000000000000000000000007", NOW))
        .isEqualTo(Duration.ofSeconds(7));
    assertThat(Backoff.parseRetryAfter("Tue, 24 Nov 2026 10:00:30 GMT", NOW))
        .isEqualTo(Duration.ofSeconds(30));
  }

  /** RFC 9110 (5.6.7): a recipient accepts the two obsolete forms of an HTTP date too. */
  @Test
  void theObsoleteDateFormsAreRead() {
    // RFC 850: a two-digit year, the latest not more than 50 years ahead.
    assertThat(Backoff.parseRetryAfter("Tuesday, 24-Nov-26 10:00:30 GMT", NOW))
        .isEqualTo(Duration.ofSeconds(30));
    assertThat(Backoff.parseRetryAfter("Sunday, 06-Nov-94 08:49:37 GMT", NOW)).isZero();
    // asctime: no zone (GMT), the day padded with a space.
    assertThat(Backoff.parseRetryAfter("Tue Nov 24 10:00:30 2026", NOW))
        .isEqualTo(Duration.ofSeconds(30));
    assertThat(Backoff.parseRetryAfter("Wed Dec  2 10:00:00 2026", NOW))
        .isEqualTo(Duration.ofDays(1)); // eight days ahead: the cap
    assertThat(Backoff.parseRetryAfter("Wednesday, 24-Nov-26 10:00:30 GMT", NOW)).isNull();
    assertThat(Backoff.parseRetryAfter("Tue Nov 24 10:00:30", NOW)).isNull();
  }

  @Test
  void aDateInThePastMeansNoPause() {
    assertThat(Backoff.parseRetryAfter("Thu, 01 Jan 1970 00:00:00 GMT", NOW)).isZero();
    assertThat(Backoff.parseRetryAfter("Tue, 24 Nov 2026 09:59:59 GMT", NOW)).isZero();
  }

  @Test
  void anyClockReadingIsSafe() {
    String date = "Fri, 31 Dec 9999 23:59:59 GMT";
    assertThat(Backoff.parseRetryAfter(date, Long.MIN_VALUE)).isEqualTo(DAY);
    assertThat(Backoff.parseRetryAfter(date, Long.MAX_VALUE)).isZero();
    assertThat(Backoff.parseRetryAfter("Thu, 01 Jan 1970 00:00:00 GMT", Long.MIN_VALUE))
        .isEqualTo(DAY);
  }

  @Test
  void aCallerCapClampsFurther() {
    Duration cap = Duration.ofSeconds(30);
    assertThat(Backoff.parseRetryAfter("120", NOW, cap)).isEqualTo(cap);
    assertThat(Backoff.parseRetryAfter("99999999999999999999", NOW, cap)).isEqualTo(cap);
    assertThat(Backoff.parseRetryAfter("Fri, 31 Dec 9999 23:59:59 GMT", NOW, cap)).isEqualTo(cap);
    assertThat(Backoff.parseRetryAfter("7", NOW, cap)).isEqualTo(Duration.ofSeconds(7));
    // A cap above the SDK's own is held to it; a negative cap means no pause.
    assertThat(Backoff.parseRetryAfter("9999999999", NOW, Duration.ofDays(3650))).isEqualTo(DAY);
    assertThat(Backoff.parseRetryAfter("7", NOW, Duration.ofSeconds(-1))).isZero();
    assertThat(Backoff.parseRetryAfter("junk", NOW, cap)).isNull();
  }

  @Test
  void backoffWithHugeBaseAndCapStaysWithinOneDay() {
    Backoff b = new Backoff(Duration.ofSeconds(Long.MAX_VALUE), Duration.ofSeconds(Long.MAX_VALUE));
    RandomGenerator random = new SplittableRandom(7);
    for (int n : new int[] {Integer.MIN_VALUE, -1, 0, 1, 2, 31, 62, 63, 64, Integer.MAX_VALUE}) {
      assertThat(b.ceilingNanos(n)).isEqualTo(DAY.toNanos());
      assertThat(b.delayNanos(n, random)).isBetween(0L, DAY.toNanos());
    }
  }

  @Test
  void backoffDoublesUpToItsCapWithoutOverflow() {
    Backoff b = new Backoff(Duration.ofNanos(1), DAY);
    assertThat(b.ceilingNanos(1)).isEqualTo(1);
    assertThat(b.ceilingNanos(11)).isEqualTo(1024);
    assertThat(b.ceilingNanos(47)).isEqualTo(1L << 46);
    assertThat(b.ceilingNanos(48)).isEqualTo(DAY.toNanos());
    assertThat(b.ceilingNanos(Integer.MAX_VALUE)).isEqualTo(DAY.toNanos());
    Backoff odd = new Backoff(Duration.ofNanos(3), Duration.ofSeconds(Long.MAX_VALUE));
    assertThat(odd.ceilingNanos(63)).isEqualTo(DAY.toNanos());
  }

  @Test
  void negativeBackoffMeansNoWait() {
    Backoff b = new Backoff(Duration.ofSeconds(-5), Duration.ofMillis(-1));
    assertThat(b.ceilingNanos(3)).isZero();
    assertThat(b.delayNanos(3, new SplittableRandom(1))).isZero();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "Fri, 31 Dec 9999 23:59:59 GMT",
        "9999999999",
        "99999999999999999999999",
        "-30",
        "Thu, 01 Jan 1970 00:00:00 GMT"
      })
  void aHostileRetryAfterNeverFailsACall(String value) throws IOException {
    zones
        .zone("us-east-1a")
        .endpoint(0)
        .stubFor(any(anyUrl()).willReturn(serviceUnavailable().withHeader("Retry-After", value)));
    try (FailoverClient client = Zones3.client(zones).build()) {
      for (int i = 0; i < 10; i++) {
        Request request = new Request.Builder().url("http://directory/api/v1/users/" + i).build();
        try (Response r = client.newCall(request).execute()) {
          assertThat(r.code()).isEqualTo(200);
        }
      }
    }
  }

  /**
   * OkHttp cannot read a Retry-After beyond an int, so the SDK's network interceptor hands it a
   * readable one; the caller still gets the server's value: on the caller's thread without the
   * SDK's first interceptor (nothing of the application's before OkHttp's), through it (an
   * application interceptor), and on the dispatcher.
   */
  @ParameterizedTest
  @ValueSource(strings = {"caller, direct", "caller, interceptor", "dispatcher"})
  void theCallerGetsTheServersOversizedRetryAfter(String path) throws IOException {
    for (int i = 0; i < 2; i++) {
      zones
          .zone("us-east-1a")
          .endpoint(i)
          .stubFor(any(anyUrl()).willReturn(ok().withHeader("Retry-After", "99999999999")));
    }
    FailoverClient.Builder b =
        Zones3.client(zones).callerRunsFirstAttempt(!path.equals("dispatcher"));
    if (path.endsWith("interceptor")) {
      b.okHttpClient(
          new OkHttpClient.Builder().addInterceptor(c -> c.proceed(c.request())).build());
    }
    try (FailoverClient client = b.build()) {
      assertThat(client.firstAttemptsDirect()).isEqualTo(path.equals("caller, direct"));
      for (int i = 0; i < 4; i++) {
        Request request = new Request.Builder().url("http://directory/api/v1/users/" + i).build();
        try (Response r = client.newCall(request).execute()) {
          assertThat(r.code()).isEqualTo(200);
          assertThat(r.header("Retry-After")).isEqualTo("99999999999");
        }
      }
    }
  }

  /**
   * An oversized Retry-After on a response that OkHttp follows up within the attempt (a 401 its
   * Authenticator answers) is not put on the response the caller gets, which never carried it.
   */
  @Test
  void anOversizedRetryAfterOfAFollowedUpResponseStaysWithIt() throws IOException {
    for (int i = 0; i < 2; i++) {
      zones
          .zone("us-east-1a")
          .endpoint(i)
          .stubFor(
              any(anyUrl())
                  .withHeader("Authorization", absent())
                  .willReturn(
                      aResponse()
                          .withStatus(401)
                          .withHeader("WWW-Authenticate", "Bearer")
                          .withHeader("Retry-After", "99999999999")));
    }
    OkHttpClient authenticating =
        new OkHttpClient.Builder()
            .authenticator(
                (route, response) ->
                    response.request().header("Authorization") != null
                        ? null
                        : response
                            .request()
                            .newBuilder()
                            .header("Authorization", "Bearer t")
                            .build())
            .build();
    try (FailoverClient client = Zones3.client(zones).okHttpClient(authenticating).build()) {
      Request request = new Request.Builder().url("http://directory/api/v1/users/1").build();
      try (Response r = client.newCall(request).execute()) {
        assertThat(r.code()).isEqualTo(200);
        assertThat(r.header("Retry-After")).isNull();
        assertThat(r.priorResponse()).isNotNull();
      }
    }
  }
}
