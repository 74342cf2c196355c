package dev.failover.discovery.zookeeper;

import static dev.failover.discovery.zookeeper.Recorder.urls;
import static org.assertj.core.api.Assertions.assertThat;

import dev.failover.Endpoint;
import dev.failover.EndpointSource;
import dev.failover.Locality;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.imps.CuratorFrameworkState;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingServer;
import org.apache.curator.x.discovery.ServiceInstance;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The source against a real ZooKeeper ({@link TestingServer} on a random port). */
class ZooKeeperEndpointSourceTest {

  private static final String SERVICE = "directory";

  private TestingServer server;
  private Registry registry;
  private final Recorder recorder = new Recorder();
  private final List<AutoCloseable> toClose = new ArrayList<>();

  @BeforeEach
  void startZooKeeper() throws Exception {
    server = new TestingServer();
    registry = new Registry(server.getConnectString());
  }

  @AfterEach
  void stopZooKeeper() throws Exception {
    for (int i = toClose.size() - 1; i >= 0; i--) {
      toClose.get(i).close();
    }
    registry.close();
    server.close();
  }

  private ZooKeeperEndpointSource.Builder<Map<String, String>> source() {
    return ZooKeeperEndpointSource.builder()
        .connectString(server.getConnectString())
        .serviceName(SERVICE)
        .connectTimeout(Duration.ofSeconds(2));
  }

  private ZooKeeperEndpointSource started(ZooKeeperEndpointSource source) {
    toClose.add(source);
    source.start(recorder);
    return source;
  }

  private static String url(int port) {
    return "http://127.0.0.1:" + port;
  }

  @Test
  void reportsEveryRegisteredInstanceWithItsZone() throws Exception {
    registry.register(SERVICE, "a1", 8081, Registry.zone("us-east-1", "us-east-1a"));
    registry.register(
        SERVICE,
        "b1",
        8082,
        Map.of("topology.kubernetes.io/region", "us-east-1", "topology.kubernetes.io/zone", "b"));
    registry.registerSsl(SERVICE, "w1", 8443, Registry.zone("us-west-2", "us-west-2a"));
    registry.register("other-service", "x1", 9999, Registry.zone("us-east-1", "us-east-1a"));
    started(source().build());

    List<Endpoint> list = recorder.awaitList("three endpoints", l -> l.size() == 3);

    assertThat(list)
        .containsExactly(
            Endpoint.of(url(8081), "us-east-1", "us-east-1a"),
            Endpoint.of(url(8082), "us-east-1", "b"),
            Endpoint.of("https://127.0.0.1:8443", "us-west-2", "us-west-2a"));
    assertThat(recorder.reports()).allMatch(Recorder.Report::isList);
  }

  /**
   * A connected source whose registry does not change vouches for its list again at each confirm
   * interval: without that, the client's list age grew for as long as nothing changed, and an alert
   * on it (the registry is down) fired on a quiet registry.
   */
  @Test
  void aConnectedSourceConfirmsItsListWhileNothingChanges() throws Exception {
    registry.register(SERVICE, "a", 8081, Registry.zone("r", "z1"));
    started(source().confirmInterval(Duration.ofMillis(200)).build());
    recorder.awaitList("a", l -> urls(l).equals(List.of(url(8081))));
    int first = recorder.size() - 1;

    recorder.awaitList(
        first + 3, "a confirmed three times", l -> urls(l).equals(List.of(url(8081))));
    assertThat(recorder.reports().subList(first, recorder.size()))
        .allSatisfy(r -> assertThat(r.urls()).containsExactly(url(8081)));
  }

  @Test
  void registeringAndUnregisteringAreReportedAsWholeLists() throws Exception {
    ServiceInstance<?> a = registry.register(SERVICE, "a", 8081, Registry.zone("r", "z1"));
    started(source().build());
    recorder.awaitList("a alone", l -> urls(l).equals(List.of(url(8081))));

    var b = registry.register(SERVICE, "b", 8082, Registry.zone("r", "z2"));
    recorder.awaitList("a and b", l -> urls(l).equals(List.of(url(8081), url(8082))));

    registry.unregister(castMap(a));
    recorder.awaitList("b alone", l -> urls(l).equals(List.of(url(8082))));

    registry.unregister(b);
    recorder.awaitList("nothing", List::isEmpty);
    assertThat(recorder.reports()).allMatch(Recorder.Report::isList);
  }

  @Test
  void anInstanceThatMovesZonesIsReportedInItsNewZone() throws Exception {
    registry.register(SERVICE, "a", 8081, Registry.zone("us-east-1", "us-east-1a"));
    started(source().build());
    recorder.awaitList(
        "a in 1a", l -> l.equals(List.of(Endpoint.of(url(8081), "us-east-1", "us-east-1a"))));

    // Re-registered under the same id with new metadata (Curator deletes and re-creates the node).
    var moved = registry.register(SERVICE, "a", 8081, Registry.zone("us-east-1", "us-east-1c"));
    recorder.awaitLatest(
        "a in 1c", l -> l.equals(List.of(Endpoint.of(url(8081), "us-east-1", "us-east-1c"))));

    // Its data rewritten in place (the node stays, a data change event).
    registry.update(moved, Registry.zone("us-west-2", "us-west-2a"));
    recorder.awaitLatest(
        "a in us-west-2a",
        l -> l.equals(List.of(Endpoint.of(url(8081), "us-west-2", "us-west-2a"))));
  }

  @Test
  void zookeeperStoppedIsReportedAsAFailureAndTheListAgainOnceItIsBack() throws Exception {
    registry.register(SERVICE, "a", 8081, Registry.zone("r", "z1"));
    registry.register(SERVICE, "b", 8082, Registry.zone("r", "z2"));
    started(source().build());
    recorder.awaitList("a and b", l -> l.size() == 2);

    int before = recorder.size();
    server.stop();
    Throwable failure = recorder.awaitFailure(before);
    assertThat(failure)
        .hasMessageContaining("ZooKeeper")
        .hasMessageContaining("/services/directory");

    int afterFailure = recorder.size();
    server.restart();
    List<Endpoint> again = recorder.awaitList(afterFailure, "the list again", l -> l.size() == 2);
    assertThat(urls(again)).containsExactly(url(8081), url(8082));
  }

  @ParameterizedTest
  @EnumSource(
      value = ConnectionState.class,
      names = {"SUSPENDED", "LOST"})
  void aConnectionLossAsTheCacheInitialisesIsReportedAtOnceAndClearedByAFreshRead(
      ConnectionState loss) throws Exception {
    registry.register(SERVICE, "a", 8081, Registry.zone("r", "z1"));
    ZooKeeperEndpointSource source = source().build();
    Watcher<?> watcher = source.watcher();
    // Handed to the worker between the cache's "initialised" and its first report: a signal queued
    // then was dropped along with the stale ones, and the outage went unreported.
    watcher.onCacheInitialized(() -> watcher.connectionStateChanged(loss));
    started(source);

    Throwable failure = recorder.awaitFailure(0);

    assertThat(failure)
        .hasMessageContaining("ZooKeeper connection " + loss)
        .hasMessageContaining("/services/directory");
    List<Recorder.Report> reports = recorder.reports();
    // (Its contents may miss "a": the registry re-registers, delete and create, on its CONNECTED.)
    assertThat(reports.get(0).isList()).as("the cache's first contents come first").isTrue();
    int afterFailure = indexOfFirstFailure(reports) + 1;
    // ZooKeeper never went away: the failure is cleared by a read from ZooKeeper itself, which
    // goes on, with the cache, to the registered instance.
    recorder.awaitList(afterFailure, "a again", l -> urls(l).equals(List.of(url(8081))));
  }

  @Test
  void zookeeperStoppedAndBackAsTheCacheInitialisesIsReportedAndThenTheListAgain()
      throws Exception {
    registry.register(SERVICE, "a", 8081, Registry.zone("r", "z1"));
    CuratorFramework client =
        CuratorFrameworkFactory.builder()
            .connectString(server.getConnectString())
            .sessionTimeoutMs(60_000) // the session outlives the outage: SUSPENDED, RECONNECTED
            .connectionTimeoutMs(2_000)
            .retryPolicy(new RetryOneTime(100))
            .build();
    CountDownLatch suspended = new CountDownLatch(1);
    CountDownLatch reconnected = new CountDownLatch(1);
    client
        .getConnectionStateListenable()
        .addListener(
            (c, state) -> {
              if (state == ConnectionState.SUSPENDED) {
                suspended.countDown();
              } else if (state == ConnectionState.RECONNECTED) {
                reconnected.countDown();
              }
            });
    client.start();
    toClose.add(client::close);
    ZooKeeperEndpointSource source =
        ZooKeeperEndpointSource.builder().curatorFramework(client).serviceName(SERVICE).build();
    Watcher<?> watcher = source.watcher();
    watcher.onCacheInitialized(
        () -> {
          // After the cache has read its contents, before they are reported, ZooKeeper stops and
          // comes back. Curator hands each state to every listener before the next state, so once
          // this test's listener has RECONNECTED, the source's has had SUSPENDED.
          try {
            server.stop();
            await(suspended, "SUSPENDED");
            server.restart();
            await(reconnected, "RECONNECTED");
          } catch (Exception e) {
            throw new AssertionError(e);
          }
        });
    started(source);

    Throwable failure = recorder.awaitFailure(0);

    assertThat(failure)
        .hasMessageContaining("ZooKeeper connection SUSPENDED")
        .hasMessageContaining("/services/directory");
    List<Recorder.Report> reports = recorder.reports();
    assertThat(reports.get(0).isList()).as("the cache's first contents come first").isTrue();
    // Connected again: the failure is cleared by a read from ZooKeeper itself, which goes on, with
    // the cache, to the registered instance (the registry re-registers "a" on its reconnection).
    recorder.awaitList(
        indexOfFirstFailure(reports) + 1, "a again", l -> urls(l).equals(List.of(url(8081))));
  }

  private static void await(CountDownLatch latch, String what) throws InterruptedException {
    if (!latch.await(Recorder.WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new AssertionError("no " + what + " within " + Recorder.WAIT.toSeconds() + " s");
    }
  }

  private static int indexOfFirstFailure(List<Recorder.Report> reports) {
    for (int i = 0; i < reports.size(); i++) {
      if (!reports.get(i).isList()) {
        return i;
      }
    }
    throw new AssertionError("no failure in " + reports);
  }

  @Test
  void changesMadeWhileTheSourceWasCutOffAreSeenOnceItIsBack() throws Exception {
    registry.register(SERVICE, "a", 8081, Registry.zone("r", "z1"));
    started(source().build());
    recorder.awaitList("a", l -> l.size() == 1);

    int before = recorder.size();
    server.stop();
    recorder.awaitFailure(before);
    server.restart();
    // The registering side comes back too, and adds an instance.
    registry.register(SERVICE, "b", 8082, Registry.zone("r", "z2"));

    recorder.awaitLatest("a and b", l -> urls(l).equals(List.of(url(8081), url(8082))));
  }

  @Test
  void anOutageLongerThanTheSessionEndsOnANewSessionAndTheListFollows() throws Exception {
    registry.register(SERVICE, "a", 8081, Registry.zone("r", "z1"));
    CuratorFramework client =
        CuratorFrameworkFactory.builder()
            .connectString(server.getConnectString())
            .sessionTimeoutMs(2_000) // the server raises it to its minimum (two ticks)
            .connectionTimeoutMs(1_000)
            .retryPolicy(new RetryOneTime(100))
            .build();
    List<ConnectionState> states = new CopyOnWriteArrayList<>();
    client.getConnectionStateListenable().addListener((c, state) -> states.add(state));
    client.start();
    toClose.add(client::close);
    started(
        ZooKeeperEndpointSource.builder().curatorFramework(client).serviceName(SERVICE).build());
    recorder.awaitList("a", l -> l.size() == 1);

    int before = recorder.size();
    server.stop();
    recorder.awaitFailure(before);
    long until = System.nanoTime() + Recorder.WAIT.toNanos();
    while (!states.contains(ConnectionState.LOST) && System.nanoTime() < until) {
      Thread.sleep(20); // waiting for Curator to declare the session lost, bounded
    }
    assertThat(states).contains(ConnectionState.LOST);
    int afterLoss = recorder.size();
    server.restart();

    recorder.awaitList(afterLoss, "a on a new session", l -> urls(l).equals(List.of(url(8081))));
  }

  @Test
  void flappingMembershipEndsOnTheFinalList() throws Exception {
    registry.register(SERVICE, "stable", 8080, Registry.zone("r", "z1"));
    started(source().build());
    recorder.awaitList("stable", l -> l.size() == 1);

    for (int i = 0; i < 25; i++) {
      var flapping = registry.register(SERVICE, "flap", 8090, Registry.zone("r", "z2"));
      var other = registry.register(SERVICE, "other-" + i, 8100 + i, Registry.zone("r", "z3"));
      registry.unregister(flapping);
      if (i < 24) {
        registry.unregister(other);
      }
    }

    List<Endpoint> last =
        recorder.awaitLatest(
            "stable and other-24", l -> urls(l).equals(List.of(url(8124), url(8080))));
    assertThat(last).hasSize(2);
    // Every list reported was a real membership: the stable instance was never missing.
    assertThat(recorder.reports())
        .filteredOn(Recorder.Report::isList)
        .allSatisfy(r -> assertThat(urls(r.endpoints())).contains(url(8080)));
    assertThat(recorder.reports()).allMatch(Recorder.Report::isList);
  }

  @Test
  void zookeeperDownAtStartIsAFailureNotAnExceptionThenTheListFollows() throws Exception {
    registry.close();
    server.close();
    server = new TestingServer(InstanceSpec.getRandomPort(), false); // not yet listening
    ZooKeeperEndpointSource source = source().connectTimeout(Duration.ofMillis(500)).build();

    long start = System.nanoTime();
    started(source);
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(1));

    Throwable failure = recorder.awaitFailure(0);
    assertThat(failure).hasMessageContaining("no connection to ZooKeeper");
    assertThat(recorder.reports()).noneMatch(Recorder.Report::isList);

    server.start();
    registry = new Registry(server.getConnectString());
    registry.register(SERVICE, "a", 8081, Registry.zone("r", "z1"));
    recorder.awaitList("a, once ZooKeeper is up", l -> urls(l).equals(List.of(url(8081))));
  }

  @Test
  void instancesWithoutAZoneAreLeftOutUnlessDefaultsAreSet() throws Exception {
    registry.register(SERVICE, "zoned", 8081, Registry.zone("us-east-1", "us-east-1a"));
    registry.register(SERVICE, "zone-only", 8082, Map.of("zone", "us-east-1b"));
    registry.register(SERVICE, "bare", 8083, Map.of("version", "7"));
    started(source().build());
    recorder.awaitList("only the zoned one", l -> urls(l).equals(List.of(url(8081))));

    Recorder defaulted = new Recorder();
    ZooKeeperEndpointSource withDefaults =
        source().defaultRegion("us-east-1").defaultZone("us-east-1c").build();
    toClose.add(withDefaults);
    withDefaults.start(defaulted);
    List<Endpoint> all = defaulted.awaitList("all three", l -> l.size() == 3);
    assertThat(all)
        .extracting(Endpoint::locality)
        .containsExactly(
            Locality.of("us-east-1", "us-east-1c"), // bare
            Locality.of("us-east-1", "us-east-1b"), // zone-only
            Locality.of("us-east-1", "us-east-1a")); // zoned
  }

  @Test
  void aRegistrationThatCannotBeReadIsLeftOutAndTheOthersAreReported() throws Exception {
    registry.register(SERVICE, "good", 8081, Registry.zone("r", "z1"));
    registry
        .client()
        .create()
        .forPath("/services/directory/garbage", "not json".getBytes(StandardCharsets.UTF_8));
    started(source().build());
    recorder.awaitList("the good one", l -> urls(l).equals(List.of(url(8081))));

    // After a reconnection the source reads ZooKeeper itself: the same answer.
    int before = recorder.size();
    server.stop();
    recorder.awaitFailure(before);
    int afterFailure = recorder.size();
    server.restart();
    recorder.awaitList(afterFailure, "the good one again", l -> urls(l).equals(List.of(url(8081))));
  }

  /** As docs/discovery.md says: Curator's cache keeps the value it last read. */
  @Test
  void aRegistrationOverwrittenWithDataThatCannotBeReadKeepsItsLastAddress() throws Exception {
    registry.register(SERVICE, "a", 8081, Registry.zone("r", "z1"));
    registry.register(SERVICE, "b", 8082, Registry.zone("r", "z2"));
    started(source().build());
    recorder.awaitList("a and b", l -> l.size() == 2);

    registry
        .client()
        .setData()
        .forPath("/services/directory/b", "not json".getBytes(StandardCharsets.UTF_8));
    registry.register(SERVICE, "c", 8083, Registry.zone("r", "z3"));

    List<Endpoint> list = recorder.awaitList("c", l -> urls(l).contains(url(8083)));
    assertThat(urls(list)).containsExactlyInAnyOrder(url(8081), url(8082), url(8083));
  }

  @Test
  void aLocalityFunctionReplacesTheMetadataMapping() throws Exception {
    registry.register(SERVICE, "a", 8081, Map.of("az", "use1-az1"));
    registry.register(SERVICE, "b", 8082, Map.of());
    ZooKeeperEndpointSource source =
        source()
            .locality(
                i -> {
                  String az = i.getPayload() == null ? null : i.getPayload().get("az");
                  return az == null ? null : Locality.of("us-east-1", az);
                })
            .build();
    started(source);
    List<Endpoint> list = recorder.awaitList("a", l -> !l.isEmpty());
    assertThat(list).containsExactly(Endpoint.of(url(8081), "us-east-1", "use1-az1"));
  }

  @Test
  void aGivenCuratorClientIsUsedAndLeftOpen() throws Exception {
    registry.register(SERVICE, "a", 8081, Registry.zone("r", "z1"));
    CuratorFramework client = registry.client();
    ZooKeeperEndpointSource source =
        ZooKeeperEndpointSource.builder().curatorFramework(client).serviceName(SERVICE).build();
    assertThat(source.description())
        .isEqualTo("zookeeper /services/directory via a given Curator client");
    source.start(recorder);
    recorder.awaitList("a", l -> l.size() == 1);

    source.close();

    assertThat(client.getState()).isEqualTo(CuratorFrameworkState.STARTED);
    assertThat(client.checkExists().forPath("/services/directory/a")).isNotNull();
  }

  @Test
  void closeEndsEveryThreadTheSourceStartedAndStopsReporting() throws Exception {
    registry.register(SERVICE, "a", 8081, Registry.zone("r", "z1"));
    ZooKeeperEndpointSource source = source().build();
    source.start(recorder);
    recorder.awaitList("a", l -> l.size() == 1);
    assertThat(sourceThreads()).isNotEmpty();

    source.close();

    assertThat(sourceThreads()).isEmpty();
    int reports = recorder.size();
    registry.register(SERVICE, "b", 8082, Registry.zone("r", "z2"));
    // Nothing to wait for: give the change the time a live source needs to report it.
    Recorder probe = new Recorder();
    ZooKeeperEndpointSource live = source().build();
    toClose.add(live);
    live.start(probe);
    probe.awaitList("a and b", l -> l.size() == 2);
    assertThat(recorder.size()).isEqualTo(reports);
    source.close(); // twice: nothing happens
  }

  @Test
  void closeWhileZooKeeperIsDownReturnsPromptlyAndLeavesNoThread() throws Exception {
    server.stop();
    ZooKeeperEndpointSource source = source().connectTimeout(Duration.ofMillis(300)).build();
    source.start(recorder);
    recorder.awaitFailure(0);

    long start = System.nanoTime();
    source.close();

    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(8));
    assertThat(sourceThreads()).isEmpty();
  }

  /**
   * A ZooKeeper that holds its connections open and answers nothing (its process stopped, packets
   * dropped): closing the session waits for an answer that never comes. Before the source set a
   * request timeout on its own client, close() gave up on its worker after 10 s and ZooKeeper's
   * SendThread and EventThread lived on until the connection timed out (~40 s later).
   */
  @ParameterizedTest(name = "frozen {0}")
  @EnumSource(Freeze.class)
  void closeWhileZooKeeperHangsReturnsWithinItsBoundAndLeavesNoThread(Freeze when)
      throws Exception {
    registry.register(SERVICE, "a", 8081, Registry.zone("r", "z1"));
    try (FreezingProxy proxy = new FreezingProxy(server.getPort())) {
      ZooKeeperEndpointSource source =
          ZooKeeperEndpointSource.builder()
              .connectString(proxy.connectString())
              .serviceName(SERVICE)
              .connectTimeout(Duration.ofMillis(500))
              .build();
      if (when == Freeze.BEFORE_START) {
        proxy.freeze();
        source.start(recorder);
        recorder.awaitFailure(0);
      } else {
        source.start(recorder);
        recorder.awaitList("a", l -> l.size() == 1);
        proxy.freeze();
      }

      long start = System.nanoTime();
      source.close();

      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(9));
      assertThat(sourceThreads()).isEmpty();
    }
  }

  enum Freeze {
    BEFORE_START,
    AFTER_FIRST_LIST
  }

  /**
   * A listener of the client runs on the source's worker, and may close the client, so the source:
   * close() there closes the cache, the own Curator client and its ZooKeeper session, and returns
   * once their threads have ended. Before, it returned at once, and all of it lived on until the
   * listener returned.
   */
  @Test
  void closedFromItsOwnListenerItsCuratorAndZooKeeperThreadsHaveEndedWhenCloseReturns()
      throws Exception {
    registry.register(SERVICE, "a", 8081, Registry.zone("r", "z1"));
    ZooKeeperEndpointSource source = source().build();
    toClose.add(source);
    AtomicReference<Thread> worker = new AtomicReference<>();
    AtomicReference<List<String>> beforeClose = new AtomicReference<>();
    AtomicReference<List<String>> afterClose = new AtomicReference<>();
    CountDownLatch closed = new CountDownLatch(1);
    source.start(
        new EndpointSource.Updates() {
          @Override
          public void endpoints(List<Endpoint> endpoints) {
            if (worker.compareAndSet(null, Thread.currentThread())) {
              beforeClose.set(sourceThreadsBut(Thread.currentThread()));
              source.close();
              afterClose.set(sourceThreadsBut(Thread.currentThread()));
              closed.countDown();
            }
          }

          @Override
          public void failed(Throwable cause) {}
        });

    await(closed, "the first list");

    assertThat(beforeClose.get())
        .as("the source's other threads before close()")
        .anyMatch(n -> n.startsWith("failover-zookeeper-curator-" + SERVICE + "-"))
        .anyMatch(n -> n.contains("-SendThread("))
        .anyMatch(n -> n.endsWith("-EventThread"));
    assertThat(afterClose.get()).as("the source's other threads after close()").isEmpty();
    Thread thread = worker.get();
    assertThat(thread.getName()).isEqualTo("failover-zookeeper-" + SERVICE);
    thread.join(Recorder.WAIT.toMillis());
    assertThat(thread.isAlive()).as("the worker, after the listener returned").isFalse();
    assertThat(sourceThreads()).isEmpty();
  }

  private static List<String> sourceThreads() {
    return sourceThreadsBut(null);
  }

  /** The live threads the source started (their names say so), but {@code except}. */
  private static List<String> sourceThreadsBut(Thread except) {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t != except && t.isAlive())
        .map(Thread::getName)
        .filter(n -> n.startsWith("failover-zookeeper-"))
        .toList();
  }

  @SuppressWarnings({"rawtypes", "unchecked"})
  private static ServiceInstance<Map> castMap(ServiceInstance<?> instance) {
    return (ServiceInstance<Map>) instance;
  }
}
