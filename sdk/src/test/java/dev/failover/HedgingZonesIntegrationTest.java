package dev.failover;

import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static org.assertj.core.api.Assertions.assertThat;

import dev.failover.testkit.FakeZones;
import dev.failover.testkit.Latency;
import dev.failover.testkit.ZoneFault;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import okhttp3.Call;
import okhttp3.ConnectionPool;
import okhttp3.EventListener;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Hedging and zones as failure domains, on real sockets. */
class HedgingZonesIntegrationTest {

  @RegisterExtension static FakeZones zones = Zones3.zones();

  private final Zones3.Recorder recorder = new Zones3.Recorder();

  @BeforeEach
  void stub() {
    Zones3.stub(zones);
  }

  private static Request get(int id) {
    return new Request.Builder().url("http://directory/api/v1/users/" + id).build();
  }

  /** Runs {@code n} sequential GETs; returns each call's latency in ms (failures as -1). */
  private static List<Long> run(FailoverClient client, int n) {
    List<Long> latencies = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      long start = System.nanoTime();
      try (Response r = client.newCall(get(i)).execute()) {
        latencies.add(
            r.code() == 200 ? TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start) : -1);
      } catch (IOException e) {
        latencies.add(-1L);
      }
    }
    return latencies;
  }

  private static long p99(List<Long> latencies) {
    List<Long> sorted = new ArrayList<>(latencies);
    Collections.sort(sorted);
    return sorted.get((int) Math.ceil(0.99 * sorted.size()) - 1);
  }

  @Test
  void adaptiveHedgingKeepsTheTailShortWithinItsExtraLoad() {
    try (FailoverClient client =
        Zones3.client(zones).listener(recorder).hedging(HedgePolicy.adaptive(0.05)).build()) {
      // Warm up so that the adaptive delay has a window to work from (recomputed each second).
      run(client, 300);
      long healthyP99 = p99(run(client, 300));

      // Now 3% of the home zone's requests take 1 s.
      zones.zone("us-east-1a").fail(ZoneFault.latency(Latency.tail(0.03, Duration.ofSeconds(1))));
      long sentBefore = client.snapshot().counters().hedgesSent();
      long callsBefore = client.snapshot().counters().calls();
      recorder.events.clear();
      List<Long> faulty = run(client, 600);
      long calls = client.snapshot().counters().calls() - callsBefore;
      long hedges = client.snapshot().counters().hedgesSent() - sentBefore;

      assertThat(faulty).doesNotContain(-1L);
      // Without hedging ~18 of these calls would take a full second; hedging rescues them. The
      // behaviour asserted: a call that ran long had been hedged (on a very busy machine the
      // hedge itself may be slow too, so the time alone is not the test).
      java.util.Set<String> hedged = new java.util.HashSet<>();
      for (FailoverEvent.Hedge h : recorder.of(FailoverEvent.Hedge.class)) {
        if (h.action() == FailoverEvent.HedgeAction.SENT) {
          hedged.add(h.path());
        }
      }
      long slowAndUnhedged = 0;
      for (int i = 0; i < faulty.size(); i++) {
        if (faulty.get(i) >= 900 && !hedged.contains("/api/v1/users/" + i)) {
          slowAndUnhedged++;
        }
      }
      assertThat(slowAndUnhedged)
          .as("calls of 900 ms or more that were not hedged")
          .isLessThanOrEqualTo(2);
      assertThat(p99(faulty))
          .as("p99 vs healthy p99 %d ms", healthyP99)
          .isLessThan(Math.max(10 * healthyP99, 300));
      // Hedges stay within the 5% extra load (plus the few tokens of the retry budget's floor).
      assertThat(hedges).isLessThanOrEqualTo((long) (0.05 * (calls + 600)) + 10);
      assertThat(client.snapshot().hedgeDelay()).isNotNull();
    }
    assertThat(recorder.of(FailoverEvent.Hedge.class))
        .extracting(FailoverEvent.Hedge::action)
        .contains(FailoverEvent.HedgeAction.SENT, FailoverEvent.HedgeAction.WON);
  }

  @Test
  void hedgesThatLoseToTheOriginalDoNotCountAgainstTheirEndpoint() {
    // Hedges can only go to the far region, and always lose to the home zone's slow answers.
    zones.zone("us-east-1b").fail(ZoneFault.refuse());
    zones.zone("us-west-2a").distance(Duration.ofMillis(300));
    // Spread, so that hedging keeps firing: with one fixed latency the delay the hedge budget can
    // afford (its p50 here) rises to that latency within a few calls and hedges almost stop.
    zones
        .zone("us-east-1a")
        .fail(ZoneFault.latency(Latency.uniform(Duration.ofMillis(20), Duration.ofMillis(60))));
    try (FailoverClient client =
        Zones3.client(zones)
            .listener(recorder)
            .hedging(HedgePolicy.fixed(Duration.ofMillis(5)).withMaxExtraLoad(0.5))
            .build()) {
      assertThat(run(client, 100)).doesNotContain(-1L);
      assertThat(client.snapshot().counters().hedgesSent()).isGreaterThan(10);
    }
    assertThat(recorder.of(FailoverEvent.EndpointEjected.class))
        .extracting(e -> e.endpoint().locality().zone())
        .doesNotContain("us-west-2a", "us-east-1a");
    assertThat(recorder.of(FailoverEvent.ZoneEvacuated.class))
        .extracting(e -> e.zone().zone())
        .doesNotContain("us-west-2a", "us-east-1a");
  }

  @Test
  void aZoneThatStartsHangingEveryGetSucceedsAndFirstAttemptsMoveAway() {
    Duration deadline = Duration.ofSeconds(1);
    try (FailoverClient client =
        Zones3.client(zones)
            .listener(recorder)
            .deadline(deadline)
            .hedging(HedgePolicy.fixed(Duration.ofMillis(50)).withMaxExtraLoad(0.5))
            .build()) {
      // A client that has been serving: its retry budget holds 10% of these calls.
      run(client, 200);
      zones.zone("us-east-1a").fail(ZoneFault.hang());
      recorder.events.clear();
      List<Long> latencies = run(client, 150);
      assertThat(latencies).doesNotContain(-1L).allMatch(ms -> ms < deadline.toMillis() + 500);
      // After the first few calls, first attempts no longer go to the hanging zone.
      List<Attempt> firsts =
          recorder.attempts().stream().filter(a -> a.kind() == Attempt.Kind.FIRST).toList();
      long lateHome =
          firsts.subList(firsts.size() - 100, firsts.size()).stream()
              .filter(a -> a.endpoint().locality().zone().equals("us-east-1a"))
              .count();
      assertThat(lateHome).isZero();
    }
  }

  @Test
  void aGrayZoneIsEvacuatedAndReturnsGradually() throws Exception {
    try (FailoverClient client =
        Zones3.client(zones)
            .listener(recorder)
            .healthCheck(HealthCheck.http("/health").withInterval(Duration.ofMillis(200)))
            .zones(
                ZonePolicy.defaults()
                    .withOutliers(3.0, 20, Duration.ofSeconds(3))
                    .withReturn(Duration.ofSeconds(1), Duration.ofSeconds(2)))
            .build()) {
      run(client, 100);
      // Slow and 20% errors, but health checks pass.
      zones
          .zone("us-east-1a")
          .fail(
              ZoneFault.errors(503, 0.2)
                  .withLatency(Latency.uniform(Duration.ofMillis(5), Duration.ofMillis(30)))
                  .sparing("/health"));
      awaitZone(client, FailoverSnapshot.ZoneStatus.EVACUATED, () -> run(client, 20));
      assertThat(client.snapshot().zones().get(0).endpoints())
          .allMatch(e -> e.health() == FailoverSnapshot.Health.HEALTHY);
      recorder.events.clear();
      run(client, 300);
      List<Attempt> firsts =
          recorder.attempts().stream().filter(a -> a.kind() == Attempt.Kind.FIRST).toList();
      long home =
          firsts.stream().filter(a -> a.endpoint().locality().zone().equals("us-east-1a")).count();
      assertThat(home / (double) firsts.size()).as("gray zone's share").isLessThan(0.05);

      zones.zone("us-east-1a").heal();
      awaitZone(client, FailoverSnapshot.ZoneStatus.RAMPING, () -> run(client, 20));
      awaitZone(client, FailoverSnapshot.ZoneStatus.ACTIVE, () -> run(client, 20));
      assertThat(recorder.of(FailoverEvent.ZoneRestored.class)).hasSize(1);
      recorder.events.clear();
      run(client, 100);
      long back =
          recorder.attempts().stream()
              .filter(a -> a.kind() == Attempt.Kind.FIRST)
              .filter(a -> a.endpoint().locality().zone().equals("us-east-1a"))
              .count();
      assertThat(back).isGreaterThan(90);
    }
  }

  private static void awaitZone(
      FailoverClient client, FailoverSnapshot.ZoneStatus status, Runnable traffic) {
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < until) {
      if (client.snapshot().zones().get(0).status() == status) {
        return;
      }
      traffic.run();
    }
    throw new AssertionError("home zone never became " + status + ": " + client.snapshot());
  }

  @Test
  void aPostIsNeverHedgedAndLosingAttemptsAreCancelled() throws Exception {
    AtomicInteger started = new AtomicInteger();
    AtomicInteger ended = new AtomicInteger();
    ConnectionPool pool = new ConnectionPool();
    OkHttpClient http =
        new OkHttpClient.Builder()
            .connectionPool(pool)
            .eventListener(
                new EventListener() {
                  @Override
                  public void callStart(Call call) {
                    started.incrementAndGet();
                  }

                  @Override
                  public void callEnd(Call call) {
                    ended.incrementAndGet();
                  }

                  @Override
                  public void callFailed(Call call, IOException ioe) {
                    ended.incrementAndGet();
                  }
                })
            .build();
    zones.zone("us-east-1a").fail(ZoneFault.latency(Latency.fixed(Duration.ofSeconds(2))));
    try (FailoverClient client =
        Zones3.client(zones)
            .okHttpClient(http)
            .listener(recorder)
            .hedging(HedgePolicy.fixed(Duration.ofMillis(30)).withMaxExtraLoad(0.5))
            .build()) {
      Request post =
          new Request.Builder()
              .url("http://directory/api/v1/users")
              .post(RequestBody.create("{}", MediaType.get("application/json")))
              .build();
      try (Response r = client.newCall(post).execute()) {
        assertThat(r.code()).isEqualTo(200);
      }
      assertThat(zones.findAll(postRequestedFor(urlPathEqualTo("/api/v1/users")))).hasSize(1);
      assertThat(recorder.of(FailoverEvent.Hedge.class)).isEmpty();

      // The hedge budget (50% of calls here) lets every other GET hedge; a hedged GET is
      // answered by another zone long before the home zone's 2 s.
      int fast = 0;
      for (int i = 0; i < 4; i++) {
        long start = System.nanoTime();
        try (Response r = client.newCall(get(i)).execute()) {
          assertThat(r.code()).isEqualTo(200);
        }
        if (TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start) < 1500) {
          fast++;
        }
      }
      long sent =
          recorder.of(FailoverEvent.Hedge.class).stream()
              .filter(h -> h.action() == FailoverEvent.HedgeAction.SENT)
              .count();
      assertThat(fast).isGreaterThanOrEqualTo(2).isEqualTo((int) sent);
    }
    assertThat(recorder.of(FailoverEvent.Hedge.class))
        .extracting(FailoverEvent.Hedge::action)
        .contains(FailoverEvent.HedgeAction.WON, FailoverEvent.HedgeAction.CANCELLED);
    // Every attempt, losers included, ended: nothing is left running or leaking.
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (ended.get() < started.get() && System.nanoTime() < until) {
      Thread.sleep(10);
    }
    assertThat(ended.get()).isEqualTo(started.get());
    assertThat(pool.connectionCount()).isLessThanOrEqualTo(zones.endpoints().size());
    pool.evictAll();
  }

  @Test
  void staleIfErrorServesAMarkedCopyWhenEverythingFails() throws Exception {
    try (FailoverClient client =
        Zones3.client(zones)
            .listener(recorder)
            .staleIfError(StaleCache.of(100, 64 * 1024, Duration.ofMinutes(1)))
            .build()) {
      Request alice = get(7).newBuilder().header("Authorization", "SSWS alice-token").build();
      String fresh;
      try (Response r = client.newCall(alice).execute()) {
        fresh = r.body().string();
        assertThat(r.header("Warning")).isNull();
      }
      zones.fail(ZoneFault.refuse());
      try (Response r = client.newCall(alice).execute()) {
        assertThat(r.code()).isEqualTo(200);
        assertThat(r.body().string()).isEqualTo(fresh);
        assertThat(r.header("Warning")).isEqualTo("110 - \"Response is Stale\"");
        assertThat(r.header("Age")).isNotNull();
      }
      assertThat(recorder.of(FailoverEvent.StaleServed.class)).hasSize(1);
      // Another caller's credentials never get alice's copy; nor does an uncached URL.
      Request bob = get(7).newBuilder().header("Authorization", "SSWS bob-token").build();
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> client.newCall(bob).execute())
          .isInstanceOf(FailoverException.class);
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> client.newCall(get(8)).execute())
          .isInstanceOf(FailoverException.class);
      assertThat(client.snapshot().counters().staleServed()).isEqualTo(1);
    }
  }
}
