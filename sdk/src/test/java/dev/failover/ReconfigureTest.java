package dev.failover;

import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.ok;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static dev.failover.SwapTests.clientThreads;
import static dev.failover.SwapTests.coreThreads;
import static dev.failover.SwapTests.enqueue;
import static dev.failover.SwapTests.firstAttemptZones;
import static dev.failover.SwapTests.ok200;
import static dev.failover.SwapTests.request;
import static dev.failover.SwapTests.stillAliveAfterJoining;
import static dev.failover.SwapTests.zone;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.failover.testkit.FakeZones;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import okhttp3.Response;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@link FailoverClient#reconfigure}: new calls take the new settings at once, calls in flight
 * finish on the old ones, no call is lost under a steady stream, and the old core's threads end.
 */
class ReconfigureTest {

  @RegisterExtension static FakeZones zones = Zones3.zones();

  private final Zones3.Recorder recorder = new Zones3.Recorder();

  @BeforeEach
  void stub() {
    Zones3.stub(zones);
    SwapTests.stubSlow(zones);
  }

  @Test
  void newCallsTakeTheNewSettingsWhileACallInFlightFinishesOnTheOld() throws Exception {
    // 3.5 s: inside the old settings' 5 s (deadline and attempt timeout), outside the new 2 s,
    // with 1.5 s to spare each way for a slow machine.
    zones.stubAll(get(urlPathEqualTo("/slower")).willReturn(ok("slower").withFixedDelay(3_500)));
    try (FailoverClient client =
        Zones3.client(zones)
            .listener(recorder)
            .deadline(Duration.ofSeconds(5))
            .attemptTimeout(Duration.ofSeconds(5))
            .build()) {
      ok200(client, "/api/v1/users/1");
      CompletableFuture<Response> slowOld = enqueue(client.newCall(request("/slower")));
      Set<Thread> oldThreads = clientThreads();

      // 2 s: a 3.5 s answer no longer fits (yet each of the ten calls below has room on a busy
      // machine); and only zone 1b's endpoints.
      List<Endpoint> zoneB =
          Zones3.endpoints(zones).stream()
              .filter(e -> e.locality().zone().equals("us-east-1b"))
              .toList();
      client.reconfigure(
          b ->
              b.deadline(Duration.ofSeconds(2))
                  .attemptTimeout(Duration.ofSeconds(2))
                  .maxAttempts(1)
                  .endpoints(zoneB));

      assertThat(client.endpoints()).isEqualTo(zoneB);
      try (FailoverClient copy = client.newBuilder().build()) {
        assertThat(copy.endpoints()).isEqualTo(zoneB);
      }
      assertThatThrownBy(() -> client.newCall(request("/slower")).execute())
          .isInstanceOf(FailoverException.class)
          .satisfies(
              e ->
                  assertThat(((FailoverException) e).reason())
                      .isEqualTo(FailoverException.Reason.DEADLINE_EXCEEDED));
      recorder.events.clear();
      for (int i = 0; i < 10; i++) {
        ok200(client, "/api/v1/users/" + i);
      }
      // Only these ten calls' attempts: the cancelled attempt of the call that ran out of time,
      // and on a slow machine the old call's (still on every zone, as it should be), may be
      // reported after the clear.
      assertThat(
              recorder.events.stream()
                  .filter(FailoverEvent.AttemptFinished.class::isInstance)
                  .map(FailoverEvent.AttemptFinished.class::cast)
                  .filter(e -> e.path().startsWith("/api/v1/users/"))
                  .map(FailoverEvent.AttemptFinished::attempt)
                  .filter(a -> a.kind() == Attempt.Kind.FIRST)
                  .map(a -> a.endpoint().locality().zone())
                  .toList())
          .hasSize(10)
          .containsOnly("us-east-1b");

      // The call made before the change still has its 5 s deadline and all endpoints: its 3.5 s
      // answer came.
      try (Response r = slowOld.get(10, TimeUnit.SECONDS)) {
        assertThat(r.code()).isEqualTo(200);
      }
      assertThat(stillAliveAfterJoining(oldThreads)).isEmpty();
    }
    assertThat(clientThreads()).isEmpty();
  }

  @Test
  void aReplacedCoreStillRunningACallNoLongerProbesNorTellsOfHealth() throws Exception {
    // A call keeps the old core running for 8 s after the change.
    zones.stubAll(get(urlPathEqualTo("/held")).willReturn(ok("held").withFixedDelay(8_000)));
    List<FailoverEvent.EndpointEjected> ejected = new java.util.concurrent.CopyOnWriteArrayList<>();
    CountDownLatch firstEjection = new CountDownLatch(1);
    FailoverListener listener =
        new FailoverListener() {
          @Override
          public void onEjected(FailoverEvent.EndpointEjected e) {
            ejected.add(e);
            firstEjection.countDown();
          }
        };
    try (FailoverClient client =
        Zones3.client(zones)
            .listener(listener)
            .deadline(Duration.ofSeconds(10))
            .attemptTimeout(Duration.ofSeconds(10))
            .healthCheck(
                HealthCheck.http("/health")
                    .withInterval(Duration.ofMillis(50))
                    .withDownInterval(Duration.ofMillis(50))
                    .withThresholds(1, 1))
            .build()) {
      CompletableFuture<Response> held = enqueue(client.newCall(request("/held")));
      client.reconfigure(b -> b.maxAttempts(2));
      dev.failover.testkit.FakeEndpoint bad = zones.fakeEndpoints().get(5);
      com.github.tomakehurst.wiremock.client.MappingBuilder health = get(urlPathEqualTo("/health"));
      bad.server()
          .stubFor(health.willReturn(com.github.tomakehurst.wiremock.client.WireMock.notFound()));
      assertThat(firstEjection.await(10, TimeUnit.SECONDS)).isTrue();
      // Six more probes of it, by whichever core probes: the old one, probing every 50 ms as
      // well, would have marked it down by then too. Before, both cores told of each change.
      int seen = probes(bad);
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (probes(bad) < seen + 6 && System.nanoTime() < until) {
        java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
      }
      assertThat(probes(bad)).isGreaterThanOrEqualTo(seen + 6);
      assertThat(ejected).hasSize(1);
      assertThat(held.isDone()).as("the old core still runs its call").isFalse();
    }
  }

  private static int probes(dev.failover.testkit.FakeEndpoint e) {
    return e.server()
        .findAll(
            com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor(
                urlPathEqualTo("/health")))
        .size();
  }

  @Test
  void aBodyReadWhileTheConfigurationIsReplacedKeepsItsAttemptTimeout() throws Exception {
    // Headers at once, then ten bytes over 8 s: far longer than the attempt's 2 s timeout, and
    // each gap far inside OkHttp's 10 s read timeout.
    zones.stubAll(
        get(urlPathEqualTo("/dribble"))
            .willReturn(ok("0123456789").withChunkedDribbleDelay(10, 8000)));
    Set<Thread> oldThreads = new java.util.HashSet<>();
    try (FailoverClient client =
        Zones3.client(zones).deadline(Duration.ofSeconds(2)).maxAttempts(1).build()) {
      try (Response r = client.newCall(request("/dribble")).execute()) {
        long start = System.nanoTime();
        oldThreads.addAll(coreThreads());
        // The call has ended (its body is the caller's): the replaced configuration has no call
        // left and closes, but the body still being read keeps its attempt's timeout.
        client.reconfigure(b -> b.maxAttempts(2));
        // The timeout cancels the attempt's call: the read fails as its socket closes.
        assertThatThrownBy(() -> r.body().string()).isInstanceOf(IOException.class);
        // 2 s from the attempt's start, not the 8 s of the whole body; a wide margin for load.
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(6));
      }
      // The replaced configuration's threads end once the body's timeout has done its work.
      assertThat(stillAliveAfterJoining(oldThreads)).isEmpty();
    }
    assertThat(clientThreads()).isEmpty();
  }

  /**
   * A body still being read when the client closes: close() ends its attempt's OkHttp call, so the
   * read fails at once and its connection closes with the client. Before, close() stopped the
   * timeout that bounded the read and the body went on to its end, 8 s later.
   */
  @Test
  void closeEndsABodyStillBeingRead() throws Exception {
    zones.stubAll(
        get(urlPathEqualTo("/dribble"))
            .willReturn(ok("0123456789").withChunkedDribbleDelay(10, 8000)));
    FailoverClient client =
        Zones3.client(zones).deadline(Duration.ofSeconds(30)).maxAttempts(1).build();
    try (Response r = client.newCall(request("/dribble")).execute()) {
      long start = System.nanoTime();
      client.close();
      assertThatThrownBy(() -> r.body().string()).isInstanceOf(IOException.class);
      // At once, not at the body's end 8 s later; a wide margin for load.
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(6));
    } finally {
      client.close();
    }
    assertThat(clientThreads()).isEmpty();
  }

  /**
   * close() from a call's callback, on a dispatcher thread: it neither waits for that thread to end
   * (it cannot while it runs close()) nor interrupts it. Before, it waited 5 s for the executor and
   * then interrupted the callback's own thread.
   */
  @Test
  void closeFromACallbackNeitherWaitsForItsOwnThreadNorInterruptsIt() throws Exception {
    FailoverClient client = Zones3.client(zones).build();
    java.util.concurrent.CompletableFuture<Boolean> interrupted =
        new java.util.concurrent.CompletableFuture<>();
    java.util.concurrent.atomic.AtomicLong tookNanos = new java.util.concurrent.atomic.AtomicLong();
    Set<Thread> callbackThread = java.util.concurrent.ConcurrentHashMap.newKeySet();
    client
        .newCall(request("/api/v1/users/1"))
        .enqueue(
            new okhttp3.Callback() {
              @Override
              public void onResponse(okhttp3.Call call, Response response) {
                response.close();
                callbackThread.add(Thread.currentThread());
                long start = System.nanoTime();
                client.close();
                tookNanos.set(System.nanoTime() - start);
                interrupted.complete(Thread.currentThread().isInterrupted());
              }

              @Override
              public void onFailure(okhttp3.Call call, IOException e) {
                interrupted.completeExceptionally(e);
              }
            });
    assertThat(interrupted.get(30, TimeUnit.SECONDS))
        .as("the callback's thread interrupted")
        .isFalse();
    // It waited for the other threads only (the 5 s wait ended in an interrupt before).
    assertThat(Duration.ofNanos(tookNanos.get())).isLessThan(Duration.ofSeconds(4));
    assertThat(stillAliveAfterJoining(callbackThread)).isEmpty();
    assertThat(clientThreads()).isEmpty();
  }

  /**
   * A shift is carried to a new configuration by the time it has left on the monotonic ticker, not
   * by the wall clock: the wall clock stepped 2 h forward (an NTP correction, a VM resumed) dropped
   * a 10-minute shift at the next reconfigure, with no event of its end; stepped 2 h back, it would
   * have held it 2 h longer.
   */
  @Test
  void aWallClockStepCarriesAShiftForTheTimeItHasLeft() {
    java.util.concurrent.atomic.AtomicReference<java.time.Duration> step =
        new java.util.concurrent.atomic.AtomicReference<>(Duration.ZERO);
    java.time.Clock stepped =
        new UtcClock() {
          @Override
          public java.time.Instant instant() {
            return java.time.Instant.now().plus(step.get());
          }
        };
    for (Duration jump : List.of(Duration.ofHours(2), Duration.ofHours(-2))) {
      step.set(Duration.ZERO);
      recorder.events.clear();
      try (FailoverClient client =
          Zones3.client(zones)
              .clock(stepped)
              .ticker(Ticker.system()) // else the client's monotonic time is read from the clock
              .listener(recorder)
              .build()) {
        java.time.Instant until =
            client.shiftAway("us-east-1a", Duration.ofMinutes(10), "test:alice");
        step.set(jump);
        client.reconfigure(b -> b.maxAttempts(2));
        assertThat(zone(client.snapshot(), "us-east-1a").status())
            .as("after a step of %s", jump)
            .isEqualTo(FailoverSnapshot.ZoneStatus.SHIFTED);
        assertThat(recorder.of(FailoverEvent.ZoneShifted.class))
            .hasSize(2)
            .allSatisfy(e -> assertThat(e.until()).isEqualTo(until));
        assertThat(recorder.of(FailoverEvent.ZoneShiftEnded.class)).isEmpty();
      }
    }
  }

  /** A wall clock in UTC; its time is the subclass's. */
  private abstract static class UtcClock extends java.time.Clock {
    @Override
    public java.time.ZoneId getZone() {
      return java.time.ZoneOffset.UTC;
    }

    @Override
    public java.time.Clock withZone(java.time.ZoneId zone) {
      return this;
    }
  }

  /**
   * A wall clock (and a ticker, {@link #ticker}) that, the first time the reconfiguration's
   * carry-over of shifts reads it once {@link #armed}, runs {@link #meanwhile}: another thread's
   * shift operation landing between the carry-over's look at the client's shifts and its giving the
   * shift to the new configuration.
   */
  private static final class CarryOverClock extends UtcClock {
    final java.util.concurrent.atomic.AtomicBoolean armed =
        new java.util.concurrent.atomic.AtomicBoolean();
    volatile Runnable meanwhile = () -> {};

    /** The method of FailoverClient whose reading of the clock runs {@link #meanwhile}. */
    volatile String inside = "carryOver";

    @Override
    public java.time.Instant instant() {
      hook();
      return java.time.Instant.now();
    }

    /**
     * The client's monotonic time, which a shift is carried by, with the same hook: the carry-over
     * and the new configuration's taking of a shift read it where they read the wall clock before.
     */
    Ticker ticker() {
      return () -> {
        hook();
        return System.nanoTime();
      };
    }

    /** Runs {@link #meanwhile} once, if armed, when read inside {@link #inside}. */
    void hook() {
      if (armed.get()
          && StackWalker.getInstance()
              .walk(f -> f.anyMatch(frame -> frame.getMethodName().equals(inside)))
          && armed.compareAndSet(true, false)) {
        meanwhile.run();
      }
    }
  }

  /**
   * Alice shifts the home zone away; a reconfiguration runs, and where {@code clock}'s hook says,
   * Bob cancels the shift. Returns whether his cancel found it in force.
   */
  private static boolean aliceShiftsBobCancelsWithin(CarryOverClock clock, FailoverClient client) {
    client.shiftAway("us-east-1a", Duration.ofMinutes(30), "test:alice");
    java.util.concurrent.atomic.AtomicBoolean wasInForce =
        new java.util.concurrent.atomic.AtomicBoolean();
    clock.meanwhile = () -> wasInForce.set(client.cancelShift("us-east-1a", "test:bob"));
    clock.armed.set(true);
    client.reconfigure(b -> b.maxAttempts(2));
    assertThat(clock.armed.get()).as("the cancel landed where the hook is").isFalse();
    return wasInForce.get();
  }

  @Test
  void aShiftCancelledWhileAReconfigurationCarriesItOverStaysCancelled() throws Exception {
    CarryOverClock clock = new CarryOverClock();
    try (FailoverClient client = Zones3.client(zones).clock(clock).ticker(clock.ticker()).build()) {
      boolean wasInForce = aliceShiftsBobCancelsWithin(clock, client);
      assertThat(wasInForce).isTrue();
      assertThat(zone(client.snapshot(), "us-east-1a").status())
          .isNotEqualTo(FailoverSnapshot.ZoneStatus.SHIFTED);
      client.reconfigure(b -> b.maxAttempts(3));
      assertThat(zone(client.snapshot(), "us-east-1a").status())
          .isNotEqualTo(FailoverSnapshot.ZoneStatus.SHIFTED);
    }
  }

  /**
   * The new configuration serves calls as soon as it is published, before the carry-over after it:
   * it must already hold the shifts (it sent first attempts to the shifted zone in between).
   */
  @Test
  void aReconfiguredClientHonoursTheShiftsFromItsFirstCall() throws Exception {
    CarryOverClock clock = new CarryOverClock();
    try (FailoverClient client =
        Zones3.client(zones).clock(clock).ticker(clock.ticker()).listener(recorder).build()) {
      client.shiftAway("us-east-1a", Duration.ofMinutes(30), "test:alice");
      java.util.concurrent.atomic.AtomicReference<FailoverSnapshot.ZoneStatus> status =
          new java.util.concurrent.atomic.AtomicReference<>();
      List<String> firstZones = new java.util.concurrent.CopyOnWriteArrayList<>();
      clock.meanwhile =
          () -> {
            status.set(zone(client.snapshot(), "us-east-1a").status());
            recorder.events.clear();
            try {
              for (int i = 0; i < 5; i++) {
                ok200(client, "/api/v1/users/" + i);
              }
            } catch (IOException e) {
              throw new java.io.UncheckedIOException(e);
            }
            firstZones.addAll(firstAttemptZones(recorder));
          };
      clock.armed.set(true);
      client.reconfigure(b -> b.maxAttempts(2));

      assertThat(clock.armed.get()).isFalse(); // the calls did run inside the carry-over
      assertThat(status.get()).isEqualTo(FailoverSnapshot.ZoneStatus.SHIFTED);
      assertThat(firstZones).hasSize(5).doesNotContain("us-east-1a");
      assertThat(zone(client.snapshot(), "us-east-1a").status())
          .isEqualTo(FailoverSnapshot.ZoneStatus.SHIFTED);
    }
  }

  /**
   * A cancel that lands while the new configuration is being given the shifts, before it is
   * published, acts on the configuration then current: the new one must not keep the shift (it did,
   * until its expiry, and told no one).
   */
  @Test
  void aShiftCancelledBeforeTheNewConfigurationIsPublishedStaysCancelled() throws Exception {
    CarryOverClock clock = new CarryOverClock();
    clock.inside = "shiftAwayUntil"; // the new configuration taking the shift, before publication
    try (FailoverClient client =
        Zones3.client(zones).clock(clock).ticker(clock.ticker()).listener(recorder).build()) {
      boolean wasInForce = aliceShiftsBobCancelsWithin(clock, client);
      assertThat(wasInForce).isTrue();
      assertThat(zone(client.snapshot(), "us-east-1a").status())
          .isNotEqualTo(FailoverSnapshot.ZoneStatus.SHIFTED);
      // Each configuration that took the shift told of it, and of its end.
      assertThat(recorder.of(FailoverEvent.ZoneShifted.class)).hasSize(2);
      assertThat(recorder.of(FailoverEvent.ZoneShiftEnded.class))
          .hasSize(2)
          .allSatisfy(e -> assertThat(e.reason()).isEqualTo("cancelled by test:bob"));
    }
  }

  /**
   * The carry-over ends, on the new configuration, a shift cancelled before it was published: only
   * that shift. One an operator made there since (after the cancel) stays: it was ended too, though
   * the client held it, and its zone took traffic.
   */
  @Test
  void endingAShiftCancelledBeforePublicationLeavesANewerShiftAlone() throws Exception {
    CarryOverClock clock = new CarryOverClock();
    clock.inside = "shiftAwayUntil"; // the new configuration taking the shift, before publication
    java.util.concurrent.atomic.AtomicBoolean armed =
        new java.util.concurrent.atomic.AtomicBoolean();
    java.util.concurrent.atomic.AtomicReference<FailoverClient> ref =
        new java.util.concurrent.atomic.AtomicReference<>();
    Ticker ticker =
        () -> {
          if (armed.get()
              && StackWalker.getInstance()
                  .walk(
                      f -> {
                        List<String> names = f.map(StackWalker.StackFrame::getMethodName).toList();
                        return names.contains("reconfigure")
                            && names.stream().anyMatch(n -> n.startsWith("cancelShift"));
                      })
              && armed.compareAndSet(true, false)) {
            // As the carry-over ends the cancelled shift: an operator shifts the zone again.
            ref.get().shiftAway("us-east-1a", Duration.ofHours(1), "test:carol");
          }
          clock.hook();
          return System.nanoTime();
        };
    try (FailoverClient client = Zones3.client(zones).clock(clock).ticker(ticker).build()) {
      ref.set(client);
      client.shiftAway("us-east-1a", Duration.ofMinutes(30), "test:alice");
      clock.meanwhile =
          () -> {
            assertThat(client.cancelShift("us-east-1a", "test:bob")).isTrue();
            armed.set(true);
          };
      clock.armed.set(true);
      client.reconfigure(b -> b.maxAttempts(2));

      assertThat(clock.armed.get()).isFalse();
      assertThat(armed.get()).isFalse(); // carol's shift was made as the carry-over ended alice's
      FailoverSnapshot.Zone home = zone(client.snapshot(), "us-east-1a");
      assertThat(home.status()).isEqualTo(FailoverSnapshot.ZoneStatus.SHIFTED);
      assertThat(home.reason()).startsWith("shifted away by test:carol until ");
    }
  }

  @Test
  void aShiftRenewedWhileAReconfigurationCarriesItOverKeepsTheRenewal() throws Exception {
    CarryOverClock clock = new CarryOverClock();
    try (FailoverClient client = Zones3.client(zones).clock(clock).ticker(clock.ticker()).build()) {
      client.shiftAway("us-east-1a", Duration.ofMinutes(30), "test:alice");
      clock.meanwhile = () -> client.shiftAway("us-east-1a", Duration.ofHours(2), "test:bob");
      clock.armed.set(true);
      client.reconfigure(b -> b.maxAttempts(2));

      assertThat(clock.armed.get()).isFalse();
      FailoverSnapshot.Zone shifted = zone(client.snapshot(), "us-east-1a");
      assertThat(shifted.status()).isEqualTo(FailoverSnapshot.ZoneStatus.SHIFTED);
      assertThat(shifted.reason()).startsWith("shifted away by test:bob until ");
    }
  }

  @Test
  void aZonalShiftOutlivesAReconfigurationAlsoWhileItsZoneIsGone() throws IOException {
    try (FailoverClient client = Zones3.client(zones).listener(recorder).build()) {
      java.time.Instant until = client.shiftAway("us-east-1a", Duration.ofMinutes(30), "test:eve");

      client.reconfigure(b -> b.deadline(Duration.ofSeconds(3)));

      FailoverSnapshot.Zone home = zone(client.snapshot(), "us-east-1a");
      assertThat(home.status()).isEqualTo(FailoverSnapshot.ZoneStatus.SHIFTED);
      assertThat(home.reason()).startsWith("shifted away by test:eve until ");
      assertThat(recorder.of(FailoverEvent.ZoneShifted.class))
          .hasSize(2)
          .allSatisfy(e -> assertThat(e.requestedBy()).isEqualTo("test:eve"))
          .last()
          // The same expiry, to within the time the change took.
          .satisfies(
              e -> assertThat(e.until()).isBetween(until.minusSeconds(1), until.plusSeconds(1)));
      recorder.events.clear();
      for (int i = 0; i < 10; i++) {
        ok200(client, "/api/v1/users/" + i);
      }
      assertThat(firstAttemptZones(recorder)).doesNotContain("us-east-1a");

      // Without zone 1a's endpoints (taken out for the maintenance the shift is for), the new
      // configuration holds the shift all the same, and the snapshot shows it: the zone, shifted,
      // without endpoints, and no other zone shifted. Once, the shift ended here and the zone came
      // back in traffic; then it was held but left out of the snapshot.
      client.reconfigure(
          b ->
              b.endpoints(
                  Zones3.endpoints(zones).stream()
                      .filter(e -> !e.locality().zone().equals("us-east-1a"))
                      .toList()));
      assertThat(client.snapshot().zones())
          .filteredOn(z -> z.status() == FailoverSnapshot.ZoneStatus.SHIFTED)
          .singleElement()
          .satisfies(
              z -> {
                assertThat(z.locality()).isEqualTo(Locality.of("us-east-1", "us-east-1a"));
                assertThat(z.tier()).isZero();
                assertThat(z.reason()).startsWith("shifted away by test:eve until ");
                assertThat(z.endpoints()).isEmpty();
              });
      assertThat(recorder.of(FailoverEvent.ZoneShiftEnded.class)).isEmpty();
      // ... so the zone comes back shifted, until the shift's end, through any further change.
      client.reconfigure(b -> b.endpoints(Zones3.endpoints(zones)));
      client.reconfigure(b -> b.deadline(Duration.ofSeconds(4)));
      FailoverSnapshot.Zone back = zone(client.snapshot(), "us-east-1a");
      assertThat(back.status()).isEqualTo(FailoverSnapshot.ZoneStatus.SHIFTED);
      assertThat(back.reason()).startsWith("shifted away by test:eve until ");
      recorder.events.clear();
      for (int i = 0; i < 10; i++) {
        ok200(client, "/api/v1/users/" + i);
      }
      assertThat(firstAttemptZones(recorder)).doesNotContain("us-east-1a");
      assertThat(client.cancelShift("us-east-1a", "test:eve")).isTrue();
      assertThat(zone(client.snapshot(), "us-east-1a").status())
          .isNotEqualTo(FailoverSnapshot.ZoneStatus.SHIFTED);
    }
  }

  /** An operator may end a shift that a configuration without the zone's endpoints holds. */
  @Test
  void aShiftHeldForAZoneTheConfigurationLeftOutCanBeCancelled() throws IOException {
    try (FailoverClient client = Zones3.client(zones).listener(recorder).build()) {
      client.shiftAway("us-east-1b", Duration.ofMinutes(30), "test:eve");
      client.reconfigure(
          b ->
              b.endpoints(
                  Zones3.endpoints(zones).stream()
                      .filter(e -> !e.locality().zone().equals("us-east-1b"))
                      .toList()));
      assertThat(client.cancelShift("us-east-1b", "test:ops")).isTrue();
      assertThat(recorder.of(FailoverEvent.ZoneShiftEnded.class))
          .singleElement()
          .satisfies(e -> assertThat(e.reason()).isEqualTo("cancelled by test:ops"));
      // Ended, the zone without endpoints leaves the snapshot.
      assertThat(client.snapshot().zones())
          .noneMatch(z -> z.locality().zone().equals("us-east-1b"));
      client.reconfigure(b -> b.endpoints(Zones3.endpoints(zones)));
      assertThat(zone(client.snapshot(), "us-east-1b").status())
          .isNotEqualTo(FailoverSnapshot.ZoneStatus.SHIFTED);
    }
  }

  @Test
  void aRejectedChangeLeavesTheClientAsItWasAndAnEmptyOneChangesNothing() throws Exception {
    FailoverClient client = Zones3.client(zones).listener(recorder).build();
    try {
      rejectedAndEmptyChanges(client);
    } finally {
      client.close(); // also when an assertion failed: no thread left for the tests after
    }
    assertThatThrownBy(() -> client.reconfigure(b -> b.deadline(Duration.ofSeconds(1))))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("FailoverClient 'directory' is closed");
    assertThat(clientThreads()).isEmpty();
  }

  private void rejectedAndEmptyChanges(FailoverClient client) throws IOException {
    ok200(client, "/api/v1/users/1");
    Set<Thread> threads = coreThreads();

    assertThatThrownBy(() -> client.reconfigure(b -> b.maxAttempts(11)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("maxAttempts must be between 1 and 10 but was 11");
    assertThatThrownBy(() -> client.reconfigure(b -> b.minAttemptTime(Duration.ofSeconds(20))))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("minAttemptTime (PT20S) must be shorter than deadline (PT10S)");
    assertThatThrownBy(() -> client.reconfigure(b -> b.service("accounts")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "reconfigure cannot change the service name from 'directory' to 'accounts'; build a"
                + " new client for another service");
    assertThatThrownBy(
            () -> client.reconfigure(b -> b.endpointSource(EndpointSource.of(List.of()))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("reconfigure cannot set an endpoint source");
    assertThatThrownBy(() -> client.reconfigure(b -> null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("reconfigure's change returned null");

    client.reconfigure(b -> b); // the same settings: nothing to do
    client.reconfigure(b -> b.deadline(Duration.ofSeconds(10))); // the default: the same

    assertThat(coreThreads()).isEqualTo(threads); // never a new core
    ok200(client, "/api/v1/users/2");
  }

  /**
   * 200 calls from two threads while the settings change five times (deadline, attempts, hedging):
   * none fails, each core closes once drained, and the counters see every call.
   */
  @Test
  void noCallIsLostWhileSettingsChangeUnderASteadyStream() throws Exception {
    ExecutorService callers = Executors.newFixedThreadPool(2);
    AtomicInteger done = new AtomicInteger();
    List<CountDownLatch> reached = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      reached.add(new CountDownLatch(1));
    }
    try (FailoverClient client = Zones3.client(zones).listener(recorder).build()) {
      List<Future<?>> streams = new ArrayList<>();
      for (int t = 0; t < 2; t++) {
        int thread = t;
        streams.add(
            callers.submit(
                () -> {
                  for (int i = 0; i < 100; i++) {
                    ok200(client, "/api/v1/users/" + thread + "-" + i);
                    int n = done.incrementAndGet();
                    if (n % 30 == 0 && n / 30 <= reached.size()) {
                      reached.get(n / 30 - 1).countDown(); // the next change is due
                    }
                  }
                  return null;
                }));
      }
      for (int change = 0; change < 5; change++) {
        assertThat(reached.get(change).await(30, TimeUnit.SECONDS)).isTrue();
        Duration deadline = Duration.ofSeconds(change % 2 == 0 ? 4 : 6);
        int attempts = change % 2 == 0 ? 2 : 3;
        HedgePolicy hedging =
            change % 2 == 0 ? HedgePolicy.fixed(Duration.ofMillis(200)) : HedgePolicy.off();
        client.reconfigure(b -> b.deadline(deadline).maxAttempts(attempts).hedging(hedging));
      }
      for (Future<?> f : streams) {
        f.get(60, TimeUnit.SECONDS); // rethrows the first failed call
      }
      assertThat(done).hasValue(200);
      assertThat(client.snapshot().counters().calls()).isEqualTo(200);
      assertThat(client.snapshot().counters().failedCalls()).isZero();
    } finally {
      callers.shutdownNow();
    }
    assertThat(recorder.of(FailoverEvent.CallFinished.class)).hasSize(200);
    assertThat(clientThreads()).isEmpty();
  }
}
