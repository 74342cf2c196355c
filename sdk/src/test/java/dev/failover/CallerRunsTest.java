package dev.failover;

import static com.github.tomakehurst.wiremock.client.WireMock.any;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.serviceUnavailable;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.failover.testkit.FakeZones;
import dev.failover.testkit.ZoneFault;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code callerRunsFirstAttempt(true)}: execute() runs the first attempt on the caller's thread;
 * everything else (retries, hedges, the deadline, what is sent twice) behaves as without it.
 */
class CallerRunsTest {

  @RegisterExtension static FakeZones zones = Zones3.zones();

  @BeforeEach
  void stub() {
    Zones3.stub(zones);
  }

  private static Request get(int id) {
    return Zones3.user(id);
  }

  /** An OkHttp client whose interceptor records the thread of every attempt. */
  private static OkHttpClient recording(List<String> threads) {
    return new OkHttpClient.Builder()
        .addInterceptor(
            chain -> {
              threads.add(Thread.currentThread().getName());
              return chain.proceed(chain.request());
            })
        .build();
  }

  @Test
  void theFirstAttemptRunsOnTheCallersThreadAndARetryOnTheDispatcher() throws IOException {
    List<String> threads = new CopyOnWriteArrayList<>();
    try (FailoverClient client =
        Zones3.client(zones)
            .okHttpClient(recording(threads))
            .callerRunsFirstAttempt(true)
            .build()) {
      try (Response r = client.newCall(get(1)).execute()) {
        assertThat(r.code()).isEqualTo(200);
      }
      assertThat(threads).containsExactly(Thread.currentThread().getName());
      zones.zone("us-east-1a").stubFor(any(anyUrl()).willReturn(serviceUnavailable()));
      threads.clear();
      try (Response r = client.newCall(get(2)).execute()) {
        assertThat(r.code()).isEqualTo(200);
      }
      assertThat(threads).hasSize(2);
      assertThat(threads.get(0)).isEqualTo(Thread.currentThread().getName());
      assertThat(threads.get(1)).isNotEqualTo(Thread.currentThread().getName());
    }
  }

  @Test
  void aHedgeWinsWhileTheCallersAttemptHangsAndCancelsIt() throws IOException {
    try (FailoverClient client =
        Zones3.client(zones)
            .hedging(HedgePolicy.fixed(Duration.ofMillis(50)))
            .deadline(Duration.ofSeconds(10))
            .callerRunsFirstAttempt(true)
            .build()) {
      Zones3.fillHedgeBucket(client, 100);
      zones
          .zone("us-east-1a")
          .stubFor(any(anyUrl()).willReturn(okJson("{\"slow\":true}").withFixedDelay(5_000)));
      long start = System.nanoTime();
      try (Response r = client.newCall(get(3)).execute()) {
        assertThat(r.code()).isEqualTo(200);
        assertThat(r.body().string()).doesNotContain("slow");
      }
      // The home zone answers after 5 s; the hedge leaves after 50 ms. Margin for a busy machine.
      assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(3_000);
    }
  }

  @Test
  void aHangingZoneStillEndsTheCallByItsDeadline() {
    zones.fail(ZoneFault.hang());
    try (FailoverClient client =
        Zones3.client(zones)
            .deadline(Duration.ofMillis(600))
            .callerRunsFirstAttempt(true)
            .build()) {
      long start = System.nanoTime();
      assertThatThrownBy(() -> client.newCall(get(4)).execute())
          .isInstanceOf(FailoverException.class);
      long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      // The caller's attempt ends by its attempt timeout (200 ms), the rest by the deadline.
      assertThat(millis).isBetween(150L, 1_900L);
    }
  }

  @Test
  void aPostThatReachedAServerIsStillNeverSentTwice() {
    zones.stubAll(any(anyUrl()).willReturn(serviceUnavailable()));
    AtomicInteger sent = new AtomicInteger();
    OkHttpClient counting =
        new OkHttpClient.Builder()
            .addNetworkInterceptor(
                chain -> {
                  sent.incrementAndGet();
                  return chain.proceed(chain.request());
                })
            .build();
    try (FailoverClient client =
        Zones3.client(zones).okHttpClient(counting).callerRunsFirstAttempt(true).build()) {
      Request post =
          new Request.Builder()
              .url("http://directory/api/v1/users")
              .post(okhttp3.RequestBody.create("{}", okhttp3.MediaType.get("application/json")))
              .build();
      try (Response r = client.newCall(post).execute()) {
        assertThat(r.code()).isEqualTo(503);
      } catch (IOException e) {
        throw new AssertionError(e);
      }
      assertThat(sent.get()).isEqualTo(1);
    }
  }
}
