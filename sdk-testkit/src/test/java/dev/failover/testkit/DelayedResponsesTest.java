package dev.failover.testkit;

import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.ok;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import okhttp3.MediaType;
import okhttp3.Request;
import okhttp3.RequestBody;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Delays (distance, latency, a stub's own) hold no thread while they wait: many requests wait out
 * theirs at once, requests without a delay are answered meanwhile, and nothing of a test's delayed
 * requests is left for the next. A request no stub matches is delayed too.
 */
class DelayedResponsesTest {

  @RegisterExtension
  static FakeZones zones =
      FakeZones.builder()
          .region("r", "a", "b", "far")
          .distance("far", Duration.ofMillis(400))
          .build();

  /** Runs the calls a test does not wait for at once. */
  private static final ExecutorService pool = Executors.newCachedThreadPool();

  @AfterAll
  static void stopPool() {
    pool.shutdownNow();
  }

  @BeforeAll
  static void stubs() {
    zones.stubAll(get("/x").willReturn(ok("x")));
    zones.stubAll(get("/health").willReturn(ok("up")));
  }

  private static String url(String zone, String path) {
    return zones.zone(zone).endpoint(0).url() + path;
  }

  /** Runs {@code count} calls at once, each on a thread of its own; returns their outcomes. */
  private static List<Http.Outcome> concurrently(int count, Http http, String url)
      throws Exception {
    ExecutorService threads = Executors.newFixedThreadPool(count);
    try {
      CountDownLatch ready = new CountDownLatch(count);
      CountDownLatch go = new CountDownLatch(1);
      List<Future<Http.Outcome>> calls = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        calls.add(
            threads.submit(
                () -> {
                  ready.countDown();
                  go.await();
                  return http.callFresh(url);
                }));
      }
      assertThat(ready.await(10, TimeUnit.SECONDS)).as("%s threads ready", count).isTrue();
      go.countDown();
      List<Http.Outcome> outcomes = new ArrayList<>();
      for (Future<Http.Outcome> call : calls) {
        outcomes.add(call.get(30, TimeUnit.SECONDS));
      }
      return outcomes;
    } finally {
      threads.shutdownNow();
    }
  }

  @Test
  void fortyConcurrentCallsIntoALatencyEachWaitOnlyTheirOwnDelay() throws Exception {
    zones.zone("a").fail(ZoneFault.latency(Latency.fixed(Duration.ofSeconds(1))));
    try (Http http = new Http(Duration.ofSeconds(10))) {
      List<Http.Outcome> outcomes = concurrently(40, http, url("a", "/x"));

      // On WireMock's 16 threads, each sleeping out its delay, 16 would come at 1 s, 16 at 2 s...
      assertThat(outcomes)
          .allSatisfy(
              o -> {
                assertThat(o.status()).as("%s", o).isEqualTo(200);
                assertThat(o.millis()).as("%s", o).isBetween(950L, 1_800L);
              });
    }
    assertThat(zones.zone("a").requestCount()).isEqualTo(40);
  }

  @Test
  void aSparedPathIsAnsweredAtOnceWhileDelayedRequestsWait() throws Exception {
    FakeZone zone = zones.zone("a");
    zone.fail(ZoneFault.latency(Latency.fixed(Duration.ofSeconds(3))).sparing("/health"));
    try (Http http = new Http(Duration.ofSeconds(10))) {
      List<CompletableFuture<Http.Outcome>> slow = new ArrayList<>();
      for (int i = 0; i < 30; i++) {
        slow.add(CompletableFuture.supplyAsync(() -> http.callFresh(url("a", "/x")), pool));
      }
      // WireMock has read at least as many as it has threads: a thread held by each delay would
      // leave none for the health check.
      Await.until(
          Duration.ofSeconds(5),
          "16 delayed requests to reach WireMock",
          () -> zone.requestCount(getRequestedFor(urlEqualTo("/x"))) >= 16);

      Http.Outcome health = http.callFresh(url("a", "/health"));

      assertThat(health.body()).as("%s", health).isEqualTo("up");
      assertThat(health.millis()).as("the spared health check, %s", health).isLessThan(1_500L);
      for (CompletableFuture<Http.Outcome> call : slow) {
        assertThat(call.get(20, TimeUnit.SECONDS).status()).isEqualTo(200);
      }
    }
  }

  @Test
  void delayedRequestsATestGaveUpOnAreNeitherInTheWayOfTheNextNorCountedInIt() throws Exception {
    FakeZone zone = zones.zone("b");
    zone.fail(ZoneFault.latency(Latency.fixed(Duration.ofSeconds(5))));
    try (Http impatient = new Http(Duration.ofMillis(200));
        Http http = new Http(Duration.ofSeconds(10))) {
      List<Http.Outcome> abandoned = concurrently(30, impatient, url("b", "/x"));
      assertThat(abandoned).allSatisfy(o -> assertThat(o.error()).isNotNull());
      // Each reached WireMock (and its journal) in this test, none queued behind the others.
      Await.until(
          Duration.ofSeconds(3),
          "the 30 requests to reach WireMock",
          () -> zone.requestCount() == 30);

      zones.reset(); // what the extension does before the next test

      Http.Outcome next = http.callFresh(url("b", "/x"));
      assertThat(next.body()).as("%s", next).isEqualTo("x");
      assertThat(next.millis()).as("%s", next).isLessThan(1_000L);
    }
    assertThat(zone.requestCount()).as("only the next test's request").isEqualTo(1);
  }

  @Test
  void resetDropsAResponseStillWaitingForItsDelayInsteadOfSendingItInTheNextTest()
      throws Exception {
    FakeEndpoint endpoint = zones.zone("b").endpoint(0);
    endpoint.fail(ZoneFault.latency(Latency.fixed(Duration.ofSeconds(5))));
    try (Http http = new Http(Duration.ofSeconds(10))) {
      CompletableFuture<Http.Outcome> waiting =
          CompletableFuture.supplyAsync(() -> http.callFresh(url("b", "/x")), pool);
      Await.until(
          Duration.ofSeconds(10),
          "the call to wait for its delay",
          () -> endpoint.delayedResponses() == 1);

      long reset = System.nanoTime();
      zones.reset();

      Http.Outcome dropped = waiting.get(10, TimeUnit.SECONDS);
      assertThat(dropped.error()).as("never answered: %s", dropped).isNotNull();
      assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - reset))
          .as("dropped at the reset, not left to its time in the next test")
          .isLessThan(1_500L);
      assertThat(endpoint.delayedResponses()).isZero();
      assertThat(http.callFresh(url("b", "/x")).body()).isEqualTo("x");
    }
    assertThat(endpoint.requestCount()).isEqualTo(1);
  }

  @Test
  void aRequestNoStubMatchesGetsTheDistanceAndTheLatencyToo() {
    try (Http http = new Http()) {
      // Warm: WireMock's first report of a request not matched takes a while to make.
      assertThat(http.call(url("a", "/warm-up")).status()).isEqualTo(404);

      Http.Outcome far = http.call(url("far", "/missing"));
      assertThat(far.status()).as("%s", far).isEqualTo(404);
      assertThat(far.body()).as("WireMock's report, as without a delay").contains("not matched");
      assertThat(far.millis()).as("the distance of 400 ms, %s", far).isGreaterThanOrEqualTo(395L);

      Http.Outcome post =
          http.call(
              new Request.Builder()
                  .url(url("far", "/missing"))
                  .post(RequestBody.create("", MediaType.get("text/plain")))
                  .build());
      assertThat(post.status()).as("%s", post).isEqualTo(404);
      assertThat(post.millis()).as("%s", post).isGreaterThanOrEqualTo(395L);

      zones.zone("a").fail(ZoneFault.latency(Latency.fixed(Duration.ofMillis(400))));
      Http.Outcome slow = http.call(url("a", "/missing"));
      assertThat(slow.status()).as("%s", slow).isEqualTo(404);
      assertThat(slow.millis()).as("the latency of 400 ms, %s", slow).isGreaterThanOrEqualTo(395L);

      zones.zone("a").heal();
      Http.Outcome near = http.call(url("a", "/missing"));
      assertThat(near.millis()).as("no distance, no latency: %s", near).isLessThan(395L);
    }
    assertThat(zones.zone("far").requestCount()).isEqualTo(2);
  }
}
