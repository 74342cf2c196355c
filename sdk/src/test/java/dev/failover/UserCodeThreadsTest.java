package dev.failover;

import static com.github.tomakehurst.wiremock.client.WireMock.any;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.serviceUnavailable;
import static org.assertj.core.api.Assertions.assertThat;

import dev.failover.testkit.FakeZones;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import okhttp3.Call;
import okhttp3.EventListener;
import okhttp3.OkHttpClient;
import okhttp3.Response;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * User code never runs on the SDK's scheduler thread or under an SDK lock. The application's OkHttp
 * {@code EventListener.Factory} and {@code EventListener} are user code that OkHttp runs on the
 * thread that makes and enqueues a call: the SDK makes no OkHttp call on its scheduler thread, not
 * for a hedge or a retry that a timer sends, nor for a health check. A {@code FailoverListener} is
 * told of zone events outside the zones' lock, and of those a scheduler task decides (a shift's
 * expiry) on a dispatcher thread.
 */
class UserCodeThreadsTest {

  @RegisterExtension static FakeZones zones = Zones3.zones();

  @BeforeEach
  void stub() {
    Zones3.stub(zones);
  }

  @Test
  void executeReturnsAtItsDeadlineWhileAListenerOnTheDispatcherStillRuns() throws Exception {
    // The attempt succeeds; the dispatcher thread that drains the call tells a listener of it,
    // and the listener blocks (on a lock the caller holds, say). The caller's deadline passes: it
    // gets the call's ending then, not when the listener lets go.
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch finished = new CountDownLatch(1);
    FailoverListener blocking =
        new FailoverListener() {
          @Override
          public void onAttempt(FailoverEvent.AttemptFinished event) {
            try {
              release.await(20, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }

          @Override
          public void onCallFinished(FailoverEvent.CallFinished event) {
            finished.countDown();
          }
        };
    try (FailoverClient client =
        Zones3.client(zones)
            .deadline(Duration.ofSeconds(5))
            .callerRunsFirstAttempt(false)
            .listener(blocking)
            .build()) {
      long start = System.nanoTime();
      try (Response r = client.newCall(Zones3.user(1)).execute()) {
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        assertThat(r.code()).isEqualTo(200);
        // The listener holds its thread 20 s.
        assertThat(took).as("execute() with a 5 s deadline").isLessThan(Duration.ofSeconds(15));
      } finally {
        release.countDown();
      }
      assertThat(finished.await(20, TimeUnit.SECONDS))
          .as("CallFinished told once the listener let go")
          .isTrue();
    }
  }

  /** An OkHttp client whose event listeners record where OkHttp runs them, and for what path. */
  private static OkHttpClient recording(List<String> seen) {
    return new OkHttpClient.Builder()
        .eventListenerFactory(
            call -> {
              seen.add("create " + call.request().url().encodedPath() + " on " + thread());
              return new EventListener() {
                @Override
                public void callStart(Call c) {
                  seen.add("callStart " + c.request().url().encodedPath() + " on " + thread());
                }
              };
            })
        .build();
  }

  private static String thread() {
    return Thread.currentThread().getName();
  }

  /**
   * Fills a client's hedge bucket with calls that are never hedged (POSTs): with an extra load of
   * 0.5 (half a token a call) ten calls leave five tokens, and no call spends one however slow the
   * machine, so the next GET can afford its hedge.
   */
  private static void fillHedgeBucketWithoutHedging(FailoverClient client) throws IOException {
    for (int i = 0; i < 10; i++) {
      okhttp3.Request post =
          new okhttp3.Request.Builder()
              .url("http://directory/api/v1/users")
              .post(okhttp3.RequestBody.create("{}", okhttp3.MediaType.get("application/json")))
              .build();
      try (Response r = client.newCall(post).execute()) {
        assertThat(r.code()).isEqualTo(200);
      }
    }
  }

  @Test
  void aHedgeSentByItsTimerRunsNoListenerOnTheScheduler() throws IOException {
    List<String> seen = new CopyOnWriteArrayList<>();
    try (FailoverClient client =
        Zones3.client(zones)
            .okHttpClient(recording(seen))
            .hedging(HedgePolicy.fixed(Duration.ofMillis(50)).withMaxExtraLoad(0.5))
            .deadline(Duration.ofSeconds(10))
            .build()) {
      fillHedgeBucketWithoutHedging(client);
      zones
          .zone("us-east-1a")
          .stubFor(any(anyUrl()).willReturn(okJson("{\"slow\":true}").withFixedDelay(3_000)));
      seen.clear();
      try (Response r = client.newCall(Zones3.user(3)).execute()) {
        assertThat(r.body().string()).doesNotContain("slow");
      }
      // The first attempt and its hedge: each made and started once, neither on the scheduler.
      assertThat(client.snapshot().counters().hedgesSent()).isEqualTo(1);
      assertThat(seen).filteredOn(s -> s.startsWith("callStart /api/v1/users/3 ")).hasSize(2);
      assertThat(seen).noneMatch(s -> s.contains("-scheduler-"));
    }
  }

  @Test
  void aRetrySentAfterItsBackoffRunsNoListenerOnTheScheduler() throws IOException {
    List<String> seen = new CopyOnWriteArrayList<>();
    zones.zone("us-east-1a").stubFor(any(anyUrl()).willReturn(serviceUnavailable()));
    try (FailoverClient client =
        Zones3.client(zones)
            .okHttpClient(recording(seen))
            .backoff(Duration.ofMillis(20), Duration.ofMillis(40))
            .build()) {
      try (Response r = client.newCall(Zones3.user(4)).execute()) {
        assertThat(r.code()).isEqualTo(200);
      }
      assertThat(seen).filteredOn(s -> s.startsWith("callStart /api/v1/users/4 ")).hasSize(2);
      assertThat(seen).noneMatch(s -> s.contains("-scheduler-"));
    }
  }

  @Test
  void healthChecksRunNoListenerOnTheScheduler() throws InterruptedException, IOException {
    List<String> seen = new CopyOnWriteArrayList<>();
    try (FailoverClient client =
        Zones3.client(zones)
            .okHttpClient(recording(seen))
            .healthCheck(HealthCheck.http("/health").withInterval(Duration.ofMillis(100)))
            .build()) {
      // Every endpoint is probed at start and then every 100 ms: wait (bounded) for 12 probes.
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (seen.stream().filter(s -> s.startsWith("callStart /health ")).count() < 12
          && System.nanoTime() < until) {
        Thread.sleep(20);
      }
      assertThat(seen).filteredOn(s -> s.startsWith("callStart /health ")).hasSizeGreaterThan(11);
      // The probes found every endpoint up: calls are served.
      try (Response r = client.newCall(Zones3.user(5)).execute()) {
        assertThat(r.code()).isEqualTo(200);
      }
      assertThat(seen).noneMatch(s -> s.contains("-scheduler-"));
    }
  }

  @Test
  void aZoneEventIsToldOutsideTheSdksLockAndAnExpiryOffTheScheduler() throws Exception {
    AtomicReference<String> endedOn = new AtomicReference<>();
    CountDownLatch ended = new CountDownLatch(1);
    AtomicBoolean otherThreadGotIn = new AtomicBoolean();
    AtomicReference<FailoverClient> self = new AtomicReference<>();
    FailoverListener listener =
        new FailoverListener() {
          @Override
          public void onZoneShifted(FailoverEvent.ZoneShifted event) {
            // Another thread asks the client's zones for something while this listener runs: it
            // would wait for the lock for ever if the listener ran under it.
            Thread other =
                new Thread(
                    () -> {
                      self.get().cancelShift("us-east-1b", "test:other");
                      otherThreadGotIn.set(true);
                    });
            other.start();
            try {
              other.join(TimeUnit.SECONDS.toMillis(20));
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }

          @Override
          public void onZoneShiftEnded(FailoverEvent.ZoneShiftEnded event) {
            endedOn.set(thread());
            ended.countDown();
          }
        };
    try (FailoverClient client = Zones3.client(zones).listener(listener).build()) {
      self.set(client);
      client.shiftAway("us-east-1a", Duration.ofSeconds(1), "test:alice");
      assertThat(otherThreadGotIn).isTrue();
      // The shift expires on the client's 1 s zone tick, a scheduler task.
      assertThat(ended.await(30, TimeUnit.SECONDS)).isTrue();
      assertThat(endedOn.get()).startsWith("failover-directory-").doesNotContain("-scheduler-");
    }
  }

  @org.junit.jupiter.params.ParameterizedTest(name = "an Error: {0}")
  @org.junit.jupiter.params.provider.ValueSource(booleans = {false, true})
  void aHealthProbeThatTheApplicationsListenerFactoryFailsIsNotCounted(boolean error)
      throws InterruptedException, IOException {
    AtomicInteger refused = new AtomicInteger();
    OkHttpClient failing =
        new OkHttpClient.Builder()
            .eventListenerFactory(
                call -> {
                  if (call.request().url().encodedPath().equals("/health")) {
                    refused.incrementAndGet();
                    if (error) {
                      // An Error ended that endpoint's probes for good.
                      throw new AssertionError("listener factory refuses health probes");
                    }
                    throw new IllegalStateException("listener factory refuses health probes");
                  }
                  return EventListener.NONE;
                })
            .build();
    Zones3.Recorder recorder = new Zones3.Recorder();
    try (FailoverClient client =
        Zones3.client(zones)
            .okHttpClient(failing)
            .listener(recorder)
            .healthCheck(
                HealthCheck.http("/health")
                    .withInterval(Duration.ofMillis(50))
                    .withThresholds(1, 1))
            .build()) {
      // No probe can be made; each failed one is followed by the next: wait (bounded) for 30.
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (refused.get() < 30 && System.nanoTime() < until) {
        Thread.sleep(20);
      }
      assertThat(refused.get()).isGreaterThanOrEqualTo(30);
      // A probe that was never sent says nothing of an endpoint: none is marked down.
      assertThat(recorder.events).noneMatch(e -> e instanceof FailoverEvent.EndpointEjected);
      try (Response r = client.newCall(Zones3.user(6)).execute()) {
        assertThat(r.code()).isEqualTo(200);
      }
    }
  }

  /** The SDK monitors the current thread holds. */
  private static String sdkMonitorsHeld() {
    java.lang.management.ThreadInfo info =
        java.lang.management.ManagementFactory.getThreadMXBean()
            .getThreadInfo(new long[] {Thread.currentThread().getId()}, true, false)[0];
    StringBuilder held = new StringBuilder();
    for (java.lang.management.MonitorInfo m : info.getLockedMonitors()) {
      if (m.getClassName().startsWith("dev.failover.")) {
        held.append(m.getClassName()).append(' ');
      }
    }
    return held.toString();
  }

  /**
   * A response the SDK does not hand to the caller (a 503 it retries, here) is closed after the
   * call's lock: closing a body runs the application's EventListener ({@code responseBodyEnd},
   * {@code callEnd}) and reads what is left of the body. Before, it was closed under the lock.
   */
  @Test
  void aRetriedResponseIsClosedOutsideTheCallsLock() throws IOException {
    List<String> underLock = new CopyOnWriteArrayList<>();
    AtomicInteger bodiesEnded = new AtomicInteger();
    OkHttpClient ok =
        new OkHttpClient.Builder()
            .eventListenerFactory(
                call ->
                    new EventListener() {
                      private void check(String what) {
                        String held = sdkMonitorsHeld();
                        if (!held.isEmpty()) {
                          underLock.add(what + " on " + thread() + " holding " + held);
                        }
                      }

                      @Override
                      public void responseBodyEnd(Call c, long byteCount) {
                        bodiesEnded.incrementAndGet();
                        check("responseBodyEnd");
                      }

                      @Override
                      public void callEnd(Call c) {
                        check("callEnd");
                      }
                    })
            .build();
    zones
        .zone("us-east-1a")
        .stubFor(
            any(anyUrl())
                .willReturn(
                    com.github.tomakehurst.wiremock.client.WireMock.aResponse()
                        .withStatus(503)
                        .withBody("busy, try later")));
    try (FailoverClient client = Zones3.client(zones).okHttpClient(ok).build()) {
      try (Response r = client.newCall(Zones3.user(7)).execute()) {
        assertThat(r.code()).isEqualTo(200);
        r.body().string();
      }
    }
    // The 503's body and the 200's were both read to their end (so the listener ran for both).
    assertThat(bodiesEnded.get()).isGreaterThanOrEqualTo(2);
    assertThat(underLock).isEmpty();
  }
}
