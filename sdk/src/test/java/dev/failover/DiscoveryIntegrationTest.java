package dev.failover;

import static com.github.tomakehurst.wiremock.client.WireMock.any;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static org.assertj.core.api.Assertions.assertThat;

import dev.failover.testkit.FakeEndpoint;
import dev.failover.testkit.FakeZones;
import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import okhttp3.Call;
import okhttp3.Callback;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Endpoints that change while calls flow, on real sockets: a registry (a push source here; the
 * registry modules' own tests use real DNS, ZooKeeper and Eureka servers) replaces every endpoint
 * of a zone one by one, lists an endpoint that refuses connections, flaps, and goes down, all under
 * a steady 200 calls per second; no call may fail.
 *
 * <p>The outage lasts {@code failover.it.registryOutage} (default 5 s; the figures in
 * docs/discovery.md come from a 30 s run).
 */
class DiscoveryIntegrationTest {

  @RegisterExtension
  static FakeZones zones =
      FakeZones.builder()
          .region("us-east-1", "us-east-1a", "us-east-1b")
          .region("us-west-2", "us-west-2a")
          .endpointsPerZone(4)
          .seed(13)
          .build();

  private static final int RATE = 200;

  private final EndpointSource.Push registry = new EndpointSource.Push("test-registry");
  private final Map<String, AtomicInteger> attemptsByAddress = new ConcurrentHashMap<>();

  @BeforeEach
  void stub() {
    zones.stubAll(any(anyUrl()).willReturn(okJson("{\"id\":\"00u1\"}")));
  }

  private static Endpoint endpoint(FakeEndpoint e) {
    return Endpoint.of(e.url(), e.zone().region().name(), e.zone().name());
  }

  private static List<Endpoint> endpoints(String zone, int... indexes) {
    List<Endpoint> list = new ArrayList<>();
    List<FakeEndpoint> all = zones.zone(zone).fakeEndpoints();
    for (int i : indexes) {
      list.add(endpoint(all.get(i)));
    }
    return list;
  }

  @SafeVarargs
  private static List<Endpoint> concat(List<Endpoint>... parts) {
    List<Endpoint> out = new ArrayList<>();
    for (List<Endpoint> p : parts) {
      out.addAll(p);
    }
    return out;
  }

  private FailoverClient client() {
    return FailoverClient.builder()
        .service("directory")
        .home("us-east-1", "us-east-1a")
        .endpointSource(registry)
        .deadline(Duration.ofSeconds(3))
        .listener(
            new FailoverListener() {
              @Override
              public void onAttempt(FailoverEvent.AttemptFinished e) {
                attemptsByAddress
                    .computeIfAbsent(e.attempt().endpoint().address(), k -> new AtomicInteger())
                    .incrementAndGet();
              }
            })
        .build();
  }

  /**
   * Warms the client and the fake zones up before the load: a cold JVM on a busy machine can take
   * over a second for its first calls (class loading, compilation, first connections), longer than
   * an attempt's timeout here, and the retry budget of a new client has no tokens yet; that is the
   * start-up, not what these tests are about. Sequential calls until ten in a row succeed, at most
   * 300 calls or 30 s; their outcome is not asserted.
   */
  private static void warmUp(FailoverClient client) {
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    int inARow = 0;
    for (int i = 0; i < 300 && inARow < 10 && System.nanoTime() - until < 0; i++) {
      Request r = new Request.Builder().url("http://directory/api/v1/users/warm-" + i).build();
      try (Response response = client.newCall(r).execute()) {
        inARow = response.code() == 200 ? inARow + 1 : 0;
      } catch (IOException e) {
        inARow = 0;
      }
    }
  }

  /** Calls at {@link #RATE} per second from a background thread until stopped; bounded. */
  private static final class Load implements AutoCloseable {
    final AtomicLong ok = new AtomicLong();
    final List<String> failures = Collections.synchronizedList(new ArrayList<>());
    final List<Long> latenciesMicros = Collections.synchronizedList(new ArrayList<>());
    private final Thread thread;
    private volatile boolean stop;
    private final AtomicInteger inFlight = new AtomicInteger();

    /** The numbers of the calls begun and not yet ended. */
    final java.util.Set<Long> running = java.util.concurrent.ConcurrentHashMap.newKeySet();

    Load(FailoverClient client, Duration max) {
      thread =
          new Thread(
              () -> {
                long period = TimeUnit.SECONDS.toNanos(1) / RATE;
                long start = System.nanoTime();
                long end = start + max.toNanos();
                for (long n = 0; !stop; n++) {
                  long due = start + n * period;
                  if (due - end > 0) {
                    break;
                  }
                  long wait = due - System.nanoTime();
                  if (wait > 0) {
                    java.util.concurrent.locks.LockSupport.parkNanos(wait);
                  }
                  inFlight.incrementAndGet();
                  long number = n;
                  running.add(number);
                  long sent = System.nanoTime();
                  Request r =
                      new Request.Builder().url("http://directory/api/v1/users/" + n).build();
                  client
                      .newCall(r)
                      .enqueue(
                          new Callback() {
                            @Override
                            public void onResponse(Call call, Response response) {
                              try (response) {
                                if (response.code() == 200) {
                                  ok.incrementAndGet();
                                  latenciesMicros.add((System.nanoTime() - sent) / 1000);
                                } else {
                                  failures.add("status " + response.code());
                                }
                              }
                              running.remove(number);
                              inFlight.decrementAndGet();
                            }

                            @Override
                            public void onFailure(Call call, IOException e) {
                              failures.add(e.toString());
                              running.remove(number);
                              inFlight.decrementAndGet();
                            }
                          });
                }
              },
              "discovery-it-load");
      thread.setDaemon(true);
      thread.start();
    }

    long calls() {
      return ok.get() + failures.size();
    }

    /** Stops sending and waits (bounded) for the calls in flight. */
    @Override
    public void close() {
      stop = true;
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      try {
        thread.join(10_000);
        while (inFlight.get() > 0 && System.nanoTime() - until < 0) {
          Thread.sleep(10); // waiting for callbacks to drain, not for the behaviour under test
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    long p99Millis() {
      List<Long> sorted;
      synchronized (latenciesMicros) {
        sorted = new ArrayList<>(latenciesMicros);
      }
      Collections.sort(sorted);
      return sorted.isEmpty() ? 0 : sorted.get((int) Math.ceil(0.99 * sorted.size()) - 1) / 1000;
    }
  }

  /** Waits (bounded) until the load has made {@code more} further calls: time passes under load. */
  private static void underLoad(Load load, int more) throws InterruptedException {
    long target = load.calls() + more;
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (load.calls() < target && System.nanoTime() - until < 0) {
      Thread.sleep(5);
    }
  }

  /**
   * Waits (bounded) until every call begun so far has ended: a call that picked an endpoint before
   * a list change may still send that attempt there (documented), so attempts counted after this
   * come only from calls that began after the change.
   */
  private static void awaitCallsBegunSoFar(Load load) throws InterruptedException {
    java.util.Set<Long> begun = java.util.Set.copyOf(load.running);
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!Collections.disjoint(begun, load.running) && System.nanoTime() - until < 0) {
      Thread.sleep(5);
    }
  }

  private int attempts(List<Endpoint> endpoints) {
    int n = 0;
    for (Endpoint e : endpoints) {
      AtomicInteger c = attemptsByAddress.get(e.address());
      n += c == null ? 0 : c.get();
    }
    return n;
  }

  @Test
  void replacingEveryEndpointOfTheHomeZoneOneByOneFailsNoCall() throws Exception {
    List<Endpoint> b = endpoints("us-east-1b", 0, 1);
    List<Endpoint> w = endpoints("us-west-2a", 0, 1);
    registry.update(concat(endpoints("us-east-1a", 0, 1), b, w));
    try (FailoverClient client = client()) {
      warmUp(client);
      Load load = new Load(client, Duration.ofSeconds(60));
      try (load) {
        underLoad(load, RATE);
        // Replace a0 by a2, then a1 by a3: new instance registered first, old one removed next.
        registry.update(concat(endpoints("us-east-1a", 0, 1, 2), b, w));
        underLoad(load, RATE / 2);
        registry.update(concat(endpoints("us-east-1a", 1, 2), b, w));
        underLoad(load, RATE / 2);
        registry.update(concat(endpoints("us-east-1a", 1, 2, 3), b, w));
        underLoad(load, RATE / 2);
        registry.update(concat(endpoints("us-east-1a", 2, 3), b, w));
        awaitCallsBegunSoFar(load);
        attemptsByAddress.clear();
        underLoad(load, RATE);
      }
      System.out.printf(
          "home zone replaced one by one under %d calls/s: %d calls, %d failed, p99 %d ms%n",
          RATE, load.calls(), load.failures.size(), load.p99Millis());
      assertThat(load.failures).as("failed calls").isEmpty();
      assertThat(attempts(endpoints("us-east-1a", 0, 1))).as("attempts to removed").isZero();
      assertThat(attempts(endpoints("us-east-1a", 2, 3))).as("attempts to new").isPositive();
      assertThat(client.snapshot().discovery().updates()).isEqualTo(5);
      assertThat(client.snapshot().discovery().held()).isZero();
    }
  }

  @Test
  void aRegistryOutageFailsNoCallAndKeepsTheLastGoodList() throws Exception {
    Duration outage = Duration.parse("PT" + System.getProperty("failover.it.registryOutage", "5s"));
    List<Endpoint> list =
        concat(
            endpoints("us-east-1a", 0, 1),
            endpoints("us-east-1b", 0, 1),
            endpoints("us-west-2a", 0, 1));
    registry.update(list);
    try (FailoverClient client = client()) {
      warmUp(client);
      Load load = new Load(client, outage.plusSeconds(30));
      try (load) {
        underLoad(load, RATE);
        long end = System.nanoTime() + outage.toNanos();
        int failedPolls = 0;
        while (System.nanoTime() - end < 0) {
          registry.fail(new IOException("registry unreachable"));
          failedPolls++;
          // The registry is polled every 250 ms (in time, not in calls: the outage is a duration).
          underLoad(load, RATE / 4);
          assertThat(client.endpoints()).isEqualTo(list);
        }
        FailoverSnapshot.Discovery d = client.snapshot().discovery();
        assertThat(d.status()).isEqualTo(FailoverSnapshot.ListStatus.HELD);
        assertThat(d.held()).isEqualTo(failedPolls);
        registry.update(list);
        underLoad(load, RATE / 2);
      }
      System.out.printf(
          "registry outage of %d s under %d calls/s: %d calls, %d failed, p99 %d ms%n",
          outage.toSeconds(), RATE, load.calls(), load.failures.size(), load.p99Millis());
      assertThat(load.failures).as("failed calls").isEmpty();
      assertThat(client.snapshot().discovery().status())
          .isEqualTo(FailoverSnapshot.ListStatus.CURRENT);
    }
  }

  @Test
  void aListedEndpointThatRefusesConnectionsAndAFlappingMemberFailNoCall() throws Exception {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0)) {
      closedPort = s.getLocalPort();
    }
    Endpoint refusing = Endpoint.of("http://127.0.0.1:" + closedPort, "us-east-1", "us-east-1a");
    List<Endpoint> base =
        concat(
            endpoints("us-east-1a", 0, 1),
            endpoints("us-east-1b", 0, 1),
            endpoints("us-west-2a", 0, 1));
    registry.update(base);
    try (FailoverClient client = client()) {
      warmUp(client);
      Load load = new Load(client, Duration.ofSeconds(60));
      try (load) {
        underLoad(load, RATE / 2);
        registry.update(concat(base, List.of(refusing)));
        underLoad(load, RATE * 2);
        // A member that comes and goes every 50 ms-worth of calls.
        Endpoint flapping = endpoints("us-east-1a", 2).get(0);
        for (int i = 0; i < 20; i++) {
          registry.update(i % 2 == 0 ? concat(base, List.of(flapping)) : base);
          underLoad(load, RATE / 20);
        }
      }
      assertThat(load.failures).as("failed calls").isEmpty();
      assertThat(load.calls()).isGreaterThanOrEqualTo(RATE * 3L);
    }
  }

  @Test
  void aClientStartsFromItsFallbackWhileTheRegistryIsDownAndTakesItsFirstList() {
    EndpointSource.Push late = new EndpointSource.Push("late-registry");
    try (FailoverClient client =
        FailoverClient.builder()
            .service("directory")
            .home("us-east-1", "us-east-1a")
            .endpoints(endpoints("us-east-1b", 0))
            .endpointSource(late)
            .build()) {
      late.fail(new IOException("registry down"));
      Request r = new Request.Builder().url("http://directory/api/v1/users/1").build();
      assertThat(call(client, r)).isEqualTo(200);
      assertThat(client.snapshot().discovery().status())
          .isEqualTo(FailoverSnapshot.ListStatus.FALLBACK);
      late.update(endpoints("us-east-1a", 0, 1));
      assertThat(call(client, r)).isEqualTo(200);
      assertThat(client.endpoints()).isEqualTo(endpoints("us-east-1a", 0, 1));
    }
  }

  private static int call(FailoverClient client, Request r) {
    try (Response response = client.newCall(r).execute()) {
      return response.code();
    } catch (IOException e) {
      return -1;
    }
  }
}
