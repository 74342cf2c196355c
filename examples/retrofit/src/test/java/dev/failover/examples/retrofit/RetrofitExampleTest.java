package dev.failover.examples.retrofit;

import static com.github.tomakehurst.wiremock.client.WireMock.any;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.failover.FailoverClient;
import dev.failover.FailoverException;
import dev.failover.RequestOptions;
import dev.failover.testkit.FakeZones;
import dev.failover.testkit.ZoneFault;
import java.io.IOException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import retrofit2.Response;

/** The Retrofit example against fake zones, and the class path it needs. */
class RetrofitExampleTest {

  @RegisterExtension
  static FakeZones zones =
      FakeZones.builder()
          .region("us-east-1", "us-east-1a", "us-east-1b")
          .region("us-west-2", "us-west-2a")
          .endpointsPerZone(1)
          .seed(3)
          .build();

  /**
   * Warms the in-JVM fake zones first: a cold WireMock server on a busy 2-core machine can take
   * longer than an attempt's share of the example's 2 s deadline to answer its first requests.
   */
  @BeforeAll
  static void warmTheZones() throws IOException {
    okhttp3.OkHttpClient plain =
        new okhttp3.OkHttpClient.Builder().callTimeout(Duration.ofSeconds(30)).build();
    try {
      for (dev.failover.testkit.FakeZone zone : zones.zones()) {
        for (int i = 0; i < 20; i++) {
          try (okhttp3.Response r =
              plain
                  .newCall(
                      new okhttp3.Request.Builder()
                          .url(zone.endpoint(0).url() + "/warm-up")
                          .build())
                  .execute()) {
            r.body().string();
          }
        }
      }
    } finally {
      plain.dispatcher().executorService().shutdown();
      plain.connectionPool().evictAll();
    }
  }

  @Test
  void aRetrofitCallRidesThroughAHomeZoneOutage() throws IOException {
    zones.stubAll(any(anyUrl()).willReturn(okJson("{\"id\":\"00u1\",\"status\":\"ACTIVE\"}")));
    zones.zone("us-east-1a").fail(ZoneFault.refuse());
    try (FailoverClient directory =
        RetrofitExample.directoryClient(
            zones.zone("us-east-1a").endpoint(0).url(),
            zones.zone("us-east-1b").endpoint(0).url(),
            zones.zone("us-west-2a").endpoint(0).url())) {
      DirectoryApi api = RetrofitExample.api(directory);
      for (int i = 0; i < 5; i++) {
        Response<String> response = api.user("00u1").execute();
        assertThat(response.code()).isEqualTo(200);
        assertThat(response.body()).contains("ACTIVE");
      }
    }
  }

  @Test
  void aRetrofitTagCarriesTheSdksPerCallDeadline() throws IOException {
    zones.stubAll(
        any(anyUrl())
            .willReturn(okJson("{}").withFixedDelay(3_000))); // slower than any deadline here
    try (FailoverClient directory =
        RetrofitExample.directoryClient(
            zones.zone("us-east-1a").endpoint(0).url(),
            zones.zone("us-east-1b").endpoint(0).url(),
            zones.zone("us-west-2a").endpoint(0).url())) {
      DirectoryApi api = RetrofitExample.api(directory);
      long start = System.nanoTime();
      assertThatThrownBy(
              () -> api.user("00u1", RequestOptions.ofDeadline(Duration.ofMillis(300))).execute())
          .isInstanceOf(FailoverException.class)
          .hasMessageContaining("DEADLINE_EXCEEDED");
      // The client's own deadline is 2 s; the tag's 300 ms ended the call well before it.
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(1900));
    }
  }

  @Test
  void oneOkHttpAndOneOkioOnTheClassPath() throws IOException {
    // With okhttp-bom 5.5.1 imported, Retrofit's okhttp 4.12.0 and okio 3.6.0 are replaced.
    ClassLoader loader = getClass().getClassLoader();
    List<URL> okhttp = Collections.list(loader.getResources("okhttp3/OkHttpClient.class"));
    List<URL> okio = Collections.list(loader.getResources("okio/Buffer.class"));
    assertThat(okhttp).hasSize(1);
    assertThat(okio).hasSize(1);
    assertThat(okhttp3.OkHttp.VERSION).isEqualTo("5.5.1");
  }

  @Test
  void docsShowTheseSnippets() throws IOException {
    String doc =
        normalize(Files.readString(Path.of("../../docs/retrofit.md"), StandardCharsets.UTF_8));
    String source =
        Files.readString(
            Path.of("src/main/java/dev/failover/examples/retrofit/RetrofitExample.java"),
            StandardCharsets.UTF_8);
    for (String region : List.of("client", "retrofit")) {
      int start = source.indexOf("// region " + region);
      int end = source.indexOf("// endregion", start);
      String body = source.substring(source.indexOf('\n', start) + 1, end);
      assertThat(doc).as("docs/retrofit.md shows region %s", region).contains(normalize(body));
    }
  }

  private static String normalize(String text) {
    return text.lines()
        .map(String::strip)
        .filter(l -> !l.isEmpty())
        .reduce("", (a, b) -> a + b + "\n");
  }
}
