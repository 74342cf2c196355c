package dev.failover.discovery.zookeeper;

import static com.github.tomakehurst.wiremock.client.WireMock.any;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.failover.DiscoveryPolicy;
import dev.failover.Endpoint;
import dev.failover.FailoverClient;
import dev.failover.FailoverEvent;
import dev.failover.FailoverListener;
import dev.failover.FailoverSnapshot;
import dev.failover.FailoverSnapshot.ListStatus;
import dev.failover.testkit.FakeEndpoint;
import dev.failover.testkit.FakeZones;
import dev.failover.testkit.ZoneFault;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import okhttp3.Call;
import okhttp3.Callback;
import okhttp3.Request;
import okhttp3.Response;
import org.apache.curator.test.TestingServer;
import org.apache.curator.x.discovery.ServiceInstance;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A real {@link FailoverClient} fed by the ZooKeeper source, against a real ZooKeeper and WireMock
 * zones, under a steady {@value #RATE} calls per second: every endpoint of the home zone is
 * replaced one by one through ZooKeeper, and ZooKeeper goes down for {@code
 * failover.it.registryOutage} (10 s in the build); no call may fail.
 */
class ZooKeeperDiscoveryIntegrationTest {

  @RegisterExtension
  static FakeZones zones =
      FakeZones.builder()
          .region("us-east-1", "us-east-1a", "us-east-1b")
          .region("us-west-2", "us-west-2a")
          .endpointsPerZone(4)
          .seed(17)
          .build();

  private static final String SERVICE = "directory";
  private static final int RATE = 200;
  private static final Duration WAIT = Duration.ofSeconds(15);

  @SuppressWarnings("rawtypes") // Curator's Map payload
  private final Map<String, ServiceInstance<Map>> registered = new HashMap<>();

  private final Map<String, AtomicInteger> attemptsByAddress = new ConcurrentHashMap<>();
  private TestingServer server;
  private Registry registry;

  @BeforeEach
  void start() throws Exception {
    zones.stubAll(any(anyUrl()).willReturn(okJson("{\"id\":\"00u1\"}")));
    server = new TestingServer();
    registry = new Registry(server.getConnectString());
  }

  @AfterEach
  void stop() throws Exception {
    registry.close();
    server.close();
  }

  private static FakeEndpoint fake(String zone, int index) {
    return zones.zone(zone).endpoint(index);
  }

  private static Endpoint endpoint(FakeEndpoint e) {
    return Endpoint.of(e.url(), e.zone().region().name(), e.zone().name());
  }

  private void register(String zone, int index) throws Exception {
    FakeEndpoint e = fake(zone, index);
    String id = zone + "-" + index;
    registered.put(
        id,
        registry.register(
            SERVICE, id, e.port(), Registry.zone(e.zone().region().name(), e.zone().name())));
  }

  private void unregister(String zone, int index) throws Exception {
    registry.unregister(registered.remove(zone + "-" + index));
  }

  private FailoverClient client() {
    ZooKeeperEndpointSource source =
        ZooKeeperEndpointSource.builder()
            .connectString(server.getConnectString())
            .serviceName(SERVICE)
            .build();
    return FailoverClient.builder()
        .service(SERVICE)
        .home("us-east-1", "us-east-1a")
        .endpointSource(source)
        .discovery(DiscoveryPolicy.defaults().withStartTimeout(WAIT))
        // Generous: what discovery can break fails fast (a removed endpoint refuses connections,
        // an empty list has no endpoint); a shared 2-core machine at load average 10 stalls the
        // whole JVM for a second or more, which 1 s attempts would not survive.
        .deadline(Duration.ofSeconds(8))
        .attemptTimeout(Duration.ofSeconds(3))
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

  private static Load load(FailoverClient client, Duration max) {
    return new Load(
        client, new Request.Builder().url("http://directory/api/v1/users/7").build(), RATE, max);
  }

  /** Waits (bounded) until the load has sent {@code more} further calls: time passes under load. */
  private static void underLoad(Load load, int more) throws InterruptedException {
    long target = load.sent() + more;
    long until = System.nanoTime() + WAIT.toNanos();
    while (load.sent() < target && System.nanoTime() - until < 0) {
      Thread.sleep(5); // time passing under load, not waiting for a result
    }
  }

  private static void await(String what, BooleanSupplier condition) throws InterruptedException {
    long until = System.nanoTime() + WAIT.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - until > 0) {
        fail("not within " + WAIT.toSeconds() + " s: " + what);
      }
      Thread.sleep(10);
    }
  }

  private static Set<String> addresses(List<Endpoint> endpoints) {
    Set<String> out = new HashSet<>();
    for (Endpoint e : endpoints) {
      out.add(e.address());
    }
    return out;
  }

  /**
   * The client as the load sees it, noting in {@code running} the number of each call from its
   * enqueue until its callback has returned.
   */
  private static Call.Factory tracked(FailoverClient client, Set<Long> running) {
    AtomicLong numbers = new AtomicLong();
    return request -> {
      Call call = client.newCall(request);
      return (Call)
          Proxy.newProxyInstance(
              Call.class.getClassLoader(),
              new Class<?>[] {Call.class},
              (proxy, method, args) -> {
                if (method.getName().equals("enqueue")) {
                  long number = numbers.incrementAndGet();
                  Callback callback = (Callback) args[0];
                  running.add(number);
                  call.enqueue(
                      new Callback() {
                        @Override
                        public void onResponse(Call c, Response response) throws IOException {
                          try {
                            callback.onResponse(c, response);
                          } finally {
                            running.remove(number);
                          }
                        }

                        @Override
                        public void onFailure(Call c, IOException e) {
                          try {
                            callback.onFailure(c, e);
                          } finally {
                            running.remove(number);
                          }
                        }
                      });
                  return null;
                }
                try {
                  return method.invoke(call, args);
                } catch (InvocationTargetException e) {
                  throw e.getCause();
                }
              });
    };
  }

  /**
   * Waits (bounded) until every call begun so far has ended, as DiscoveryIntegrationTest does: a
   * call that picked an endpoint before a list change may still send that attempt there
   * (documented), so attempts counted after this come only from calls that began after the change.
   */
  private static void awaitCallsBegunSoFar(Set<Long> running) throws InterruptedException {
    Set<Long> begun = Set.copyOf(running);
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!Collections.disjoint(begun, running)) {
      if (System.nanoTime() - until > 0) {
        fail("calls begun before the last list change still running after 30 s");
      }
      Thread.sleep(5); // waiting for those calls to end, not for a result to pass
    }
  }

  private int attempts(FakeEndpoint e) {
    AtomicInteger n = attemptsByAddress.get(endpoint(e).address());
    return n == null ? 0 : n.get();
  }

  @Test
  void replacingEveryEndpointOfTheHomeZoneOneByOneThroughZooKeeperFailsNoCall() throws Exception {
    for (String zone : List.of("us-east-1a", "us-east-1b", "us-west-2a")) {
      register(zone, 0);
      register(zone, 1);
    }
    try (FailoverClient client = client()) {
      await("the client takes ZooKeeper's six endpoints", () -> client.endpoints().size() == 6);
      Set<Long> running = ConcurrentHashMap.newKeySet();
      Load load =
          new Load(
              tracked(client, running),
              new Request.Builder().url("http://directory/api/v1/users/7").build(),
              RATE,
              Duration.ofSeconds(90));
      try {
        underLoad(load, RATE);
        for (int old = 0; old < 2; old++) {
          FakeEndpoint replacement = fake("us-east-1a", old + 2);
          FakeEndpoint replaced = fake("us-east-1a", old);
          register("us-east-1a", old + 2); // the new instance registers first,
          await(
              "the client takes " + replacement,
              () -> addresses(client.endpoints()).contains(endpoint(replacement).address()));
          underLoad(load, RATE / 2);
          unregister("us-east-1a", old); // then the old one deregisters,
          await(
              "the client drops " + replaced,
              () -> !addresses(client.endpoints()).contains(endpoint(replaced).address()));
          underLoad(load, RATE / 4);
          replaced.fail(ZoneFault.refuse()); // and shuts down after a short drain.
        }
        awaitCallsBegunSoFar(running);
        attemptsByAddress.clear();
        underLoad(load, RATE);
      } finally {
        load.stop();
      }
      System.out.printf(
          "zookeeper replacement of a zone under %d calls/s: %s%n", RATE, load.summary());
      assertThat(load.failures()).as("failed calls").isEmpty();
      assertThat(load.sent()).isGreaterThanOrEqualTo(2 * RATE);
      assertThat(attempts(fake("us-east-1a", 0)) + attempts(fake("us-east-1a", 1)))
          .as("attempts to the replaced endpoints")
          .isZero();
      assertThat(attempts(fake("us-east-1a", 2)) + attempts(fake("us-east-1a", 3)))
          .as("attempts to the new endpoints")
          .isPositive();
      assertThat(addresses(client.endpoints()))
          .containsExactlyInAnyOrder(
              endpoint(fake("us-east-1a", 2)).address(),
              endpoint(fake("us-east-1a", 3)).address(),
              endpoint(fake("us-east-1b", 0)).address(),
              endpoint(fake("us-east-1b", 1)).address(),
              endpoint(fake("us-west-2a", 0)).address(),
              endpoint(fake("us-west-2a", 1)).address());
      FailoverSnapshot.Discovery discovery = client.snapshot().discovery();
      assertThat(discovery.status()).isEqualTo(ListStatus.CURRENT);
      assertThat(discovery.held()).isZero();
    }
  }

  /**
   * Most instances deleted in one ZooKeeper transaction (a mass deregistration): the client holds
   * its list, as for any list that shrinks by more than {@code maxRemovalPercent}. Curator's cache
   * applies such a change one node at a time, and the source reported each step: every one a small
   * shrink that the removal guard let through, so most of the fleet was dropped without
   * confirmation. The source now reports a change once the cache has been still for a moment.
   */
  @Test
  void instancesDeletedInOneTransactionAreHeldAsOneLargeRemoval() throws Exception {
    for (String zone : List.of("us-east-1a", "us-east-1b", "us-west-2a")) {
      for (int i = 0; i < 4; i++) {
        register(zone, i);
      }
    }
    List<Integer> sizes = Collections.synchronizedList(new java.util.ArrayList<>());
    ZooKeeperEndpointSource source =
        ZooKeeperEndpointSource.builder()
            .connectString(server.getConnectString())
            .serviceName(SERVICE)
            .build();
    try (FailoverClient client =
        FailoverClient.builder()
            .service(SERVICE)
            .home("us-east-1", "us-east-1a")
            .endpointSource(source)
            .discovery(DiscoveryPolicy.defaults().withStartTimeout(WAIT))
            .listener(
                new FailoverListener() {
                  @Override
                  public void onEndpointsChanged(FailoverEvent.EndpointsChanged e) {
                    sizes.add(e.endpoints());
                  }
                })
            .build()) {
      await("the client takes ZooKeeper's twelve endpoints", () -> client.endpoints().size() == 12);
      sizes.clear();
      List<org.apache.curator.framework.api.transaction.CuratorOp> deletes =
          new java.util.ArrayList<>();
      for (String id : registered.keySet()) {
        if (!id.equals("us-east-1a-0")) {
          deletes.add(
              registry
                  .client()
                  .transactionOp()
                  .delete()
                  .forPath("/services/" + SERVICE + "/" + id));
        }
      }
      registry.client().transaction().forOperations(deletes);

      await(
          "the client holds the source's list of one",
          () -> client.snapshot().discovery().status() == ListStatus.HELD);
      assertThat(client.snapshot().discovery().reason())
          .contains("would remove 11 of 12 endpoints at once");
      assertThat(client.endpoints()).hasSize(12);
      assertThat(sizes).as("lists applied after the deletion").isEmpty();
    }
  }

  @Test
  void aZooKeeperOutageFailsNoCallAndTheClientKeepsTheLastGoodList() throws Exception {
    Duration outage =
        Duration.parse("PT" + System.getProperty("failover.it.registryOutage", "10s"));
    for (String zone : List.of("us-east-1a", "us-east-1b", "us-west-2a")) {
      register(zone, 0);
      register(zone, 1);
    }
    try (FailoverClient client = client()) {
      await("the client takes ZooKeeper's six endpoints", () -> client.endpoints().size() == 6);
      Set<String> lastGood = addresses(client.endpoints());
      Load load = load(client, outage.plusSeconds(60));
      int checks = 0;
      long outageStart;
      long recovered;
      try {
        underLoad(load, RATE);
        int sentBefore = load.sent();
        long t0 = System.nanoTime();
        server.stop();
        outageStart = System.nanoTime();
        System.out.printf(
            "DEBUG stop took %d ms%n", TimeUnit.NANOSECONDS.toMillis(outageStart - t0));
        await(
            "the client holds its list",
            () -> client.snapshot().discovery().status() != ListStatus.CURRENT);
        long end = outageStart + outage.toNanos();
        while (System.nanoTime() - end < 0) {
          FailoverSnapshot.Discovery d = client.snapshot().discovery();
          assertThat(d.status()).isIn(ListStatus.HELD, ListStatus.STALE);
          assertThat(addresses(client.endpoints())).isEqualTo(lastGood);
          checks++;
          underLoad(load, RATE / 4);
        }
        System.out.printf(
            "during the outage: %d calls, held %d, reason %s%n",
            load.sent() - sentBefore,
            client.snapshot().discovery().held(),
            client.snapshot().discovery().reason());
        server.restart();
        await(
            "the client takes ZooKeeper's list again",
            () -> client.snapshot().discovery().status() == ListStatus.CURRENT);
        recovered = System.nanoTime();
        underLoad(load, RATE / 2);
      } finally {
        load.stop();
      }
      System.out.printf(
          "zookeeper outage of %d s under %d calls/s: %s; list current again %d ms after the"
              + " restart%n",
          outage.toSeconds(),
          RATE,
          load.summary(),
          TimeUnit.NANOSECONDS.toMillis(recovered - outageStart - outage.toNanos()));
      for (Load.Failure f : load.failures().subList(0, Math.min(5, load.failures().size()))) {
        System.out.printf(
            "failure %d ms after the outage began: %s%n",
            TimeUnit.NANOSECONDS.toMillis(f.atNanos() - outageStart), f.what());
      }
      assertThat(checks).isPositive();
      assertThat(load.failures()).as("failed calls").isEmpty();
      // The registering side re-registers on its own reconnection (Curator deletes and re-creates
      // each node), so for a moment after the restart one instance may be missing; the list
      // converges to the one before the outage.
      await(
          "the client's list is the one from before the outage",
          () -> addresses(client.endpoints()).equals(lastGood));
    }
  }
}
