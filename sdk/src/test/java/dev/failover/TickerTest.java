package dev.failover;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Protocol;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.ResponseBody;
import org.junit.jupiter.api.Test;

/**
 * A client given a {@link Ticker} measures on it and nothing else: deadlines, elapsed times and
 * breaker ejections move when the test moves the ticker, while the wall clock stays the system's.
 */
class TickerTest {

  /** A ticker the test moves by hand. */
  private static final class ManualTicker implements Ticker {
    private final AtomicLong nanos = new AtomicLong(-5_000_000_000L); // any origin, even negative

    @Override
    public long nanos() {
      return nanos.get();
    }

    void advance(Duration d) {
      nanos.addAndGet(d.toNanos());
    }
  }

  /** One endpoint, answered in memory with {@code status}; counts the attempts it gets. */
  private static FailoverClient.Builder client(
      ManualTicker ticker, AtomicInteger attempts, int status, Duration perAttempt) {
    OkHttpClient answering =
        new OkHttpClient.Builder()
            .addInterceptor(
                chain -> {
                  attempts.incrementAndGet();
                  // A fake of the network: the attempt reached the SDK and went out.
                  ReachedSdk.mark(chain.request(), ticker.nanos());
                  ReachedSdk.answeredOnNetwork(chain.request());
                  ticker.advance(perAttempt);
                  return new Response.Builder()
                      .request(chain.request())
                      .protocol(Protocol.HTTP_1_1)
                      .code(status)
                      .message("scripted")
                      .body(ResponseBody.create("x", MediaType.get("text/plain")))
                      .build();
                })
            .build();
    return FailoverClient.builder()
        .service("directory")
        .home("us-east-1", "us-east-1a")
        .endpoint("http://127.0.0.1:1", "us-east-1", "us-east-1a")
        .okHttpClient(answering)
        .ticker(ticker);
  }

  private static Request get(String path) {
    return new Request.Builder().url("http://directory" + path).build();
  }

  @Test
  void theDeadlineAndTheElapsedTimeAreMeasuredOnTheTicker() throws IOException {
    ManualTicker ticker = new ManualTicker();
    AtomicInteger attempts = new AtomicInteger();
    List<FailoverEvent.CallFinished> finished = new CopyOnWriteArrayList<>();
    FailoverListener recording =
        new FailoverListener() {
          @Override
          public void onCallFinished(FailoverEvent.CallFinished event) {
            finished.add(event);
          }
        };
    // Each attempt takes 4 s of ticker time (and microseconds of real time): after the second, a
    // third, needing 3 s, no longer fits before the 10 s deadline, so the call ends with the
    // second's 503 although it has attempts left.
    try (FailoverClient client =
            client(ticker, attempts, 503, Duration.ofSeconds(4))
                .deadline(Duration.ofSeconds(10))
                .minAttemptTime(Duration.ofSeconds(3))
                .backoff(Duration.ofMillis(1), Duration.ofMillis(1))
                .maxAttempts(5)
                .listener(recording)
                .build();
        Response r = client.newCall(get("/users/1")).execute()) {
      assertThat(r.code()).isEqualTo(503);
    }
    assertThat(attempts).hasValue(2);
    assertThat(finished)
        .singleElement()
        .satisfies(
            end -> {
              assertThat(end.attempts()).isEqualTo(2);
              assertThat(end.elapsed()).isGreaterThanOrEqualTo(Duration.ofSeconds(8));
              assertThat(end.elapsed()).isLessThan(Duration.ofSeconds(9));
            });
  }

  @Test
  void anEjectionEndsWhenTheTickerPassesItNotTheWallClock() throws IOException {
    ManualTicker ticker = new ManualTicker();
    AtomicInteger attempts = new AtomicInteger();
    List<FailoverEvent> events = new CopyOnWriteArrayList<>();
    FailoverListener recording =
        new FailoverListener() {
          @Override
          public void onEjected(FailoverEvent.EndpointEjected event) {
            events.add(event);
          }
        };
    try (FailoverClient client =
        client(ticker, attempts, 500, Duration.ZERO)
            .retryableStatuses(java.util.Set.of(503))
            .panic(50, false) // nothing healthy: no attempt at all (not fail-open)
            .listener(recording)
            .build()) {
      // Five 500s in a row eject the only endpoint.
      for (int i = 0; i < 5; i++) {
        try (Response r = client.newCall(get("/users/" + i)).execute()) {
          assertThat(r.code()).isEqualTo(500);
        }
      }
      assertThat(events).hasSize(1);
      assertThat(health(client)).isEqualTo(FailoverSnapshot.Health.EJECTED);
      // Ejected: a call finds no endpoint, and the endpoint sees nothing.
      assertThatThrownBy(() -> client.newCall(get("/users/ejected")).execute().close())
          .isInstanceOf(FailoverException.class);
      assertThat(attempts).hasValue(5);
      // The first ejection lasts 5 s, jittered by at most 20%: past it on the ticker (and a few
      // milliseconds later on the wall clock), the breaker lets a probe call through, so the
      // endpoint is tried again. Were the breaker's wait measured on the wall clock, it would
      // refuse, and the call would find no endpoint.
      ticker.advance(Duration.ofSeconds(7));
      assertThat(health(client)).isEqualTo(FailoverSnapshot.Health.PROBING);
      try (Response r = client.newCall(get("/users/again")).execute()) {
        assertThat(r.code()).isEqualTo(500);
      }
      assertThat(attempts).hasValue(6);
    }
  }

  /**
   * With no ticker set, the breakers measure ejections on the system ticker, as everything else
   * does: on the wall clock (their default once), a clock stepped back kept an endpoint that
   * routing took for probing refused by its breaker for as long as the step.
   */
  @Test
  void withNoTickerSetTheBreakersMeasureOnTheSystemTicker() {
    java.time.Clock breakers = Tickers.breakerClock(null, java.time.Clock.systemUTC());
    long before = System.nanoTime();
    long millis = breakers.millis();
    long after = System.nanoTime();
    assertThat(millis)
        .isBetween(Math.floorDiv(before, 1_000_000L), Math.floorDiv(after, 1_000_000L));
  }

  private static FailoverSnapshot.Health health(FailoverClient client) {
    return client.snapshot().zones().get(0).endpoints().get(0).health();
  }
}
