package dev.failover;

import static dev.failover.SwapTests.clientThreads;
import static dev.failover.SwapTests.enqueue;
import static dev.failover.SwapTests.firstAttemptZones;
import static dev.failover.SwapTests.ok200;
import static dev.failover.SwapTests.request;
import static dev.failover.SwapTests.stillAliveAfterJoining;
import static dev.failover.SwapTests.zone;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.failover.testkit.FakeZones;
import dev.failover.testkit.ZoneFault;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import okhttp3.Call;
import okhttp3.Callback;
import okhttp3.EventListener;
import okhttp3.Response;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@link FailoverClient#reset()}: a fresh routing state at once, calls in flight finish on the old
 * one, and the old one's threads end when its last call has ended, or at close().
 */
class ResetTest {

  @RegisterExtension static FakeZones zones = Zones3.zones();

  private final Zones3.Recorder recorder = new Zones3.Recorder();

  @BeforeEach
  void stub() {
    Zones3.stub(zones);
    SwapTests.stubSlow(zones);
    // A call that must still be out after a reset and a first call on the fresh state, which on a
    // busy machine (new threads, new connections) can take more than /slow's 700 ms; 2 s is well
    // within the default attempt timeout (10 s / 3).
    zones.stubAll(
        com.github.tomakehurst.wiremock.client.WireMock.get(
                com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo("/slower"))
            .willReturn(
                com.github.tomakehurst.wiremock.client.WireMock.ok("slow").withFixedDelay(2_000)));
  }

  @Test
  void resetForgetsEjectionsAndShiftsAndKeepsCounting() throws IOException {
    try (FailoverClient client =
        Zones3.client(zones)
            .listener(recorder)
            .zones(ZonePolicy.defaults().withReturn(Duration.ofMinutes(5), Duration.ZERO))
            // Ejections that outlast the 40 calls however slow the machine (the default 5 s could
            // end within them, and a returning endpoint be ejected a second time).
            .ejection(
                EjectionPolicy.defaults()
                    .withEjectionTime(Duration.ofMinutes(10), Duration.ofMinutes(10)))
            .build()) {
      zones.zone("us-east-1a").fail(ZoneFault.refuse());
      for (int i = 0; i < 40; i++) {
        ok200(client, "/api/v1/users/" + i);
      }
      client.shiftAway("us-east-1b", Duration.ofMinutes(30), "test:bob");
      FailoverSnapshot before = client.snapshot();
      // Ejected at once by consecutive failures (the zone's evacuation waits for its 1 s
      // judgement).
      assertThat(zone(before, "us-east-1a").endpoints())
          .allMatch(e -> e.health() == FailoverSnapshot.Health.EJECTED && e.ejections() == 1);
      assertThat(zone(before, "us-east-1b").status())
          .isEqualTo(FailoverSnapshot.ZoneStatus.SHIFTED);
      zones.zone("us-east-1a").heal();

      client.reset();

      FailoverSnapshot after = client.snapshot();
      assertThat(after.zones())
          .allMatch(z -> z.status() == FailoverSnapshot.ZoneStatus.ACTIVE)
          .allMatch(z -> z.evacuations() == 0)
          .flatMap(FailoverSnapshot.Zone::endpoints)
          .allMatch(e -> e.health() == FailoverSnapshot.Health.HEALTHY && e.ejections() == 0);
      // Totals since the client was built go on counting.
      assertThat(after.counters().calls()).isEqualTo(before.counters().calls()).isEqualTo(40);
      assertThat(after.counters().attempts()).isEqualTo(before.counters().attempts());
      assertThat(recorder.of(FailoverEvent.ZoneShiftEnded.class))
          .singleElement()
          .satisfies(e -> assertThat(e.zone().zone()).isEqualTo("us-east-1b"))
          .satisfies(e -> assertThat(e.reason()).contains("FailoverClient.reset()"));

      recorder.events.clear();
      for (int i = 0; i < 20; i++) {
        ok200(client, "/api/v1/users/" + i);
      }
      assertThat(firstAttemptZones(recorder)).hasSize(20).containsOnly("us-east-1a");
      assertThat(client.snapshot().counters().calls()).isEqualTo(60);

      // Shifts after a reset work as before, and a second reset is as good as the first.
      client.shiftAway("us-east-1a", Duration.ofMinutes(5), "test:bob");
      client.reset();
      assertThat(zone(client.snapshot(), "us-east-1a").status())
          .isEqualTo(FailoverSnapshot.ZoneStatus.ACTIVE);
    }
  }

  @Test
  void aCallInFlightFinishesOnTheOldStateWhoseThreadsEndAfterIt() throws Exception {
    try (FailoverClient client = Zones3.client(zones).listener(recorder).build()) {
      ok200(client, "/api/v1/users/1"); // the old core's I/O thread exists
      CompletableFuture<Response> slow = enqueue(client.newCall(request("/slower")));
      Set<Thread> oldThreads = clientThreads();
      assertThat(oldThreads).isNotEmpty();

      client.reset();

      // New calls run at once on the fresh state while the slow one is still out.
      ok200(client, "/api/v1/users/2");
      assertThat(slow).isNotDone();
      try (Response r = slow.get(10, TimeUnit.SECONDS)) {
        assertThat(r.code()).isEqualTo(200);
        assertThat(r.body().string()).isEqualTo("slow");
      }
      assertThat(stillAliveAfterJoining(oldThreads)).isEmpty();
      ok200(client, "/api/v1/users/3"); // the fresh state is untouched
    }
    assertThat(clientThreads()).isEmpty();
  }

  @Test
  void aCallMadeBeforeAResetButStartedAfterItsOldStateClosedRunsOnTheNewOne() throws Exception {
    try (FailoverClient client = Zones3.client(zones).listener(recorder).build()) {
      ok200(client, "/api/v1/users/1");
      Set<Thread> oldThreads = clientThreads();
      Call prepared = client.newCall(request("/api/v1/users/2"));
      prepared.timeout().timeout(3, TimeUnit.SECONDS);
      assertThat(prepared.tag(String.class, () -> "mine")).isEqualTo("mine");

      client.reset(); // nothing in flight: the old state closes at once, in the background
      assertThat(stillAliveAfterJoining(oldThreads)).isEmpty();

      try (Response r = prepared.execute()) {
        assertThat(r.code()).isEqualTo(200);
      }
      assertThat(prepared.timeout().timeoutNanos()).isEqualTo(TimeUnit.SECONDS.toNanos(3));
      assertThat(prepared.tag(String.class)).isEqualTo("mine");
      assertThat(prepared.isExecuted()).isTrue();
      assertThatThrownBy(prepared::execute)
          .isInstanceOf(IllegalStateException.class)
          .hasMessage("Already Executed");
      try (Response r = prepared.clone().execute()) {
        assertThat(r.code()).isEqualTo(200);
      }
    }
  }

  /**
   * An enqueued call that starts on the new state keeps the listener added to it before, gives its
   * callback the very call the application holds, and counts itself out of the new state, which a
   * second reset then closes at once.
   */
  @Test
  void aCallRunOnTheNewStateKeepsItsListenerIsItsCallbacksCallAndCountsItselfOut()
      throws Exception {
    try (FailoverClient client = Zones3.client(zones).build()) {
      ok200(client, "/api/v1/users/1");
      Set<Thread> oldThreads = clientThreads();
      List<String> seen = new CopyOnWriteArrayList<>();
      Call prepared = client.newCall(request("/api/v1/users/2"));
      prepared.addEventListener(
          new EventListener() {
            @Override
            public void callStart(Call call) {
              seen.add("start");
            }
          });
      client.reset();
      assertThat(stillAliveAfterJoining(oldThreads)).isEmpty();
      Set<Thread> secondThreads = clientThreads();
      CompletableFuture<Call> given = new CompletableFuture<>();
      prepared.enqueue(
          new Callback() {
            @Override
            public void onResponse(Call call, Response response) {
              response.close();
              given.complete(call);
            }

            @Override
            public void onFailure(Call call, IOException e) {
              given.completeExceptionally(e);
            }
          });
      assertThat(given.get(10, TimeUnit.SECONDS)).isSameAs(prepared);
      assertThat(seen).containsExactly("start");
      client.reset();
      assertThat(stillAliveAfterJoining(secondThreads)).isEmpty();
      ok200(client, "/api/v1/users/3");
    }
  }

  @Test
  void closeWhileAnOldStateDrainsCancelsItsCallsAndLeavesNoThread() throws Exception {
    FailoverClient client = Zones3.client(zones).listener(recorder).build();
    ok200(client, "/api/v1/users/1");
    CompletableFuture<Response> slow = enqueue(client.newCall(request("/slower")));
    client.reset();
    ok200(client, "/api/v1/users/2");

    client.close();

    assertThat(clientThreads()).isEmpty(); // at once: close() waited for every one
    assertThat(slow).isCompletedExceptionally();
    assertThatThrownBy(() -> slow.get())
        .hasCauseInstanceOf(FailoverException.class)
        .cause()
        .satisfies(
            e ->
                assertThat(((FailoverException) e).reason())
                    .isEqualTo(FailoverException.Reason.CANCELLED));
    assertThatThrownBy(client::reset)
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("FailoverClient 'directory' is closed");
    assertThatThrownBy(() -> client.newCall(request("/api/v1/users/3")))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("FailoverClient 'directory' is closed");
    client.close(); // again: nothing
  }

  @Test
  void anEndpointSourceKeepsFeedingTheClientAfterAResetAndIsClosedOnce() throws Exception {
    AtomicInteger closes = new AtomicInteger();
    EndpointSource.Push registry = new EndpointSource.Push("test-registry");
    EndpointSource counted =
        new EndpointSource() {
          @Override
          public void start(Updates updates) {
            registry.start(updates);
          }

          @Override
          public void close() {
            closes.incrementAndGet();
            registry.close();
          }

          @Override
          public String description() {
            return registry.description();
          }
        };
    List<Endpoint> all = Zones3.endpoints(zones);
    registry.update(all);
    try (FailoverClient client =
        FailoverClient.builder()
            .service("directory")
            .home("us-east-1", "us-east-1a")
            .endpointSource(counted)
            .listener(recorder)
            .build()) {
      assertThat(client.endpoints()).isEqualTo(all);

      client.reset();

      assertThat(client.endpoints()).isEqualTo(all);
      assertThat(closes).hasValue(0);
      assertThat(client.snapshot().discovery().status())
          .isEqualTo(FailoverSnapshot.ListStatus.CURRENT);
      List<Endpoint> fewer = all.subList(0, all.size() - 1); // one removed: applied at once
      registry.update(fewer);
      assertThat(client.endpoints()).isEqualTo(fewer);
      ok200(client, "/api/v1/users/1");
      assertThat(client.snapshot().discovery().source()).isEqualTo("test-registry");
    }
    assertThat(closes).hasValue(1);
  }

  /**
   * A shift that expired on a zone the list emptied, which the old state then forgot: reset() threw
   * {@code IllegalArgumentException} for it, after the state was already replaced.
   */
  @Test
  void resetEndsHeldShiftsEvenOneWhoseZoneTheOldStateForgot() throws Exception {
    FakeClock clock = new FakeClock();
    java.util.concurrent.CountDownLatch expired = new java.util.concurrent.CountDownLatch(1);
    EndpointSource.Push registry = new EndpointSource.Push("test-registry");
    List<Endpoint> withB =
        List.of(
            Endpoint.of("http://127.0.0.1:9", "us-east-1", "us-east-1a"),
            Endpoint.of("http://127.0.0.2:9", "us-east-1", "us-east-1a"),
            Endpoint.of("http://127.0.0.3:9", "us-east-1", "us-east-1a"),
            Endpoint.of("http://127.0.0.4:9", "us-east-1", "us-east-1b"));
    List<Endpoint> withoutB = withB.subList(0, 3); // a quarter removed: applied at once
    registry.update(withB);
    try (FailoverClient client =
        FailoverClient.builder()
            .service("directory")
            .home("us-east-1", "us-east-1a")
            .endpointSource(registry)
            .clock(clock)
            .ticker(clock)
            .listener(
                new FailoverListener() {
                  @Override
                  public void onZoneShiftEnded(FailoverEvent.ZoneShiftEnded event) {
                    if (event.reason().equals("expired")) {
                      expired.countDown();
                    }
                  }
                })
            .build()) {
      client.shiftAway("us-east-1b", Duration.ofMinutes(1), "test:bob");
      registry.update(withoutB);
      assertThat(client.endpoints()).isEqualTo(withoutB);
      clock.advance(Duration.ofMinutes(6));
      // The zones' next evaluation (on the client's scheduler) ends the expired shift.
      assertThat(expired.await(30, TimeUnit.SECONDS)).isTrue();
      registry.update(withB.subList(0, 2)); // a list after 5 minutes empty forgets 1b
      // Forgotten: no zone has that name any more (the client still holds the shift).
      assertThatThrownBy(() -> client.cancelShift("us-east-1b", "test:carol"))
          .isInstanceOf(IllegalArgumentException.class);

      client.reset();

      assertThat(client.endpoints()).isEqualTo(withB.subList(0, 2));
    }
  }
}
