package dev.failover;

import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.ok;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.failover.testkit.FakeZones;
import dev.failover.testkit.ZoneFault;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import okhttp3.Call;
import okhttp3.Callback;
import okhttp3.Request;
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
    // Slow enough to be in flight while the test resets; far inside every timeout.
    zones.stubAll(get(urlPathEqualTo("/slow")).willReturn(ok("slow").withFixedDelay(700)));
  }

  private static Request request(String path) {
    return new Request.Builder().url("http://directory" + path).build();
  }

  private static void ok200(FailoverClient client, String path) throws IOException {
    try (Response r = client.newCall(request(path)).execute()) {
      assertThat(r.code()).isEqualTo(200);
    }
  }

  private static FailoverSnapshot.Zone zone(FailoverSnapshot s, String name) {
    return s.zones().stream()
        .filter(z -> z.locality().zone().equals(name))
        .findFirst()
        .orElseThrow();
  }

  private List<String> firstAttemptZones() {
    return recorder.attempts().stream()
        .filter(a -> a.kind() == Attempt.Kind.FIRST)
        .map(a -> a.endpoint().locality().zone())
        .toList();
  }

  /** Live threads of the client "directory": its cores' and the one closing a replaced core. */
  private static Set<Thread> clientThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(Thread::isAlive)
        .filter(t -> t.getName().startsWith("failover-directory-"))
        .collect(Collectors.toSet());
  }

  /** Joins each thread (a real asynchronous end, bounded); returns those still alive. */
  private static Set<Thread> stillAliveAfterJoining(Set<Thread> threads)
      throws InterruptedException {
    for (Thread t : threads) {
      t.join(TimeUnit.SECONDS.toMillis(10));
    }
    return threads.stream().filter(Thread::isAlive).collect(Collectors.toSet());
  }

  private static CompletableFuture<Response> enqueue(Call call) {
    CompletableFuture<Response> result = new CompletableFuture<>();
    call.enqueue(
        new Callback() {
          @Override
          public void onResponse(Call c, Response response) {
            result.complete(response);
          }

          @Override
          public void onFailure(Call c, IOException e) {
            result.completeExceptionally(e);
          }
        });
    return result;
  }

  @Test
  void resetForgetsEjectionsAndShiftsAndKeepsCounting() throws IOException {
    try (FailoverClient client =
        Zones3.client(zones)
            .listener(recorder)
            .zones(ZonePolicy.defaults().withReturn(Duration.ofMinutes(5), Duration.ZERO))
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
      assertThat(firstAttemptZones()).hasSize(20).containsOnly("us-east-1a");
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
      CompletableFuture<Response> slow = enqueue(client.newCall(request("/slow")));
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
      Set<Thread> closers =
          clientThreads().stream()
              .filter(t -> t.getName().equals("failover-directory-retire"))
              .collect(Collectors.toSet());
      oldThreads.addAll(closers);
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
      oldThreads.addAll(
          clientThreads().stream()
              .filter(t -> t.getName().equals("failover-directory-retire"))
              .collect(Collectors.toSet()));
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

  @Test
  void closeWhileAnOldStateDrainsCancelsItsCallsAndLeavesNoThread() throws Exception {
    FailoverClient client = Zones3.client(zones).listener(recorder).build();
    ok200(client, "/api/v1/users/1");
    CompletableFuture<Response> slow = enqueue(client.newCall(request("/slow")));
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
}
