package dev.failover.discovery.zookeeper;

import static dev.failover.discovery.zookeeper.Recorder.urls;
import static org.assertj.core.api.Assertions.assertThat;

import dev.failover.Endpoint;
import dev.failover.EndpointSource;
import dev.failover.Locality;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The application's code on the source's worker, against a real ZooKeeper ({@link TestingServer} on
 * a random port): a locality mapping or a callback of the client that throws an Error. Before, the
 * Error reached the worker's loop, was reported once as a failure, and the source stopped watching
 * for good: the client never got another list.
 */
class ZooKeeperSourceUserCodeTest {

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

  private static String url(int port) {
    return "http://127.0.0.1:" + port;
  }

  /**
   * A locality mapping that throws an Error leaves that instance out, with a warning, like an
   * exception; the next change is reported with the instance in it.
   */
  @Test
  void aLocalityMappingThatThrowsAnErrorLeavesTheInstanceOutAndLaterListsFollow() throws Exception {
    registry.register(SERVICE, "a", 8081, Registry.zone("r", "z1"));
    AtomicBoolean thrown = new AtomicBoolean();
    CountDownLatch threw = new CountDownLatch(1);
    ZooKeeperEndpointSource source =
        source()
            .locality(
                instance -> {
                  if (thrown.compareAndSet(false, true)) {
                    threw.countDown();
                    throw new AssertionError("mapping bug");
                  }
                  return Locality.of("r", instance.getPayload().get("zone"));
                })
            .build();
    toClose.add(source);
    String log;
    try (StderrCapture err = new StderrCapture()) {
      source.start(recorder);
      await(threw, "the mapping's first call");
      // After the call that threw: a change the source must still see.
      registry.register(SERVICE, "b", 8082, Registry.zone("r", "z2"));

      List<Endpoint> both =
          recorder.awaitList("a and b", l -> urls(l).equals(List.of(url(8081), url(8082))));

      assertThat(both)
          .containsExactly(Endpoint.of(url(8081), "r", "z1"), Endpoint.of(url(8082), "r", "z2"));
      log = err.text();
    }
    assertThat(recorder.reports())
        .as("an instance left out, not a failure")
        .allMatch(Recorder.Report::isList);
    assertThat(log)
        .contains("ZooKeeper instance a of service directory")
        .contains("left out: the locality mapping failed: java.lang.AssertionError: mapping bug");
  }

  /**
   * The client's {@code endpoints()} throwing an Error is logged at WARN and ignored like an
   * exception: the next change is reported.
   */
  @Test
  void anEndpointsCallbackThatThrowsAnErrorDoesNotStopTheWatch() throws Exception {
    registry.register(SERVICE, "a", 8081, Registry.zone("r", "z1"));
    ZooKeeperEndpointSource source = source().build();
    toClose.add(source);
    AtomicInteger calls = new AtomicInteger();
    CountDownLatch threw = new CountDownLatch(1);
    String log;
    try (StderrCapture err = new StderrCapture()) {
      source.start(
          new EndpointSource.Updates() {
            @Override
            public void endpoints(List<Endpoint> endpoints) {
              if (calls.incrementAndGet() == 1) {
                threw.countDown();
                throw new StackOverflowError("callback bug");
              }
              recorder.endpoints(endpoints);
            }

            @Override
            public void failed(Throwable cause) {
              recorder.failed(cause);
            }
          });
      await(threw, "the first list");
      registry.register(SERVICE, "b", 8082, Registry.zone("r", "z2"));

      recorder.awaitList("a and b", l -> urls(l).equals(List.of(url(8081), url(8082))));
      log = err.text();
    }
    assertThat(calls.get()).isGreaterThanOrEqualTo(2);
    assertThat(recorder.reports())
        .as("the Error is not reported as a failure")
        .allMatch(Recorder.Report::isList);
    assertThat(log)
        .contains("WARN")
        .contains("the client's endpoints() threw; ignored")
        .contains("java.lang.StackOverflowError: callback bug");
  }

  /**
   * The client's {@code failed()} throwing an Error is ignored too: once ZooKeeper is back, the
   * list is reported.
   */
  @Test
  void aFailedCallbackThatThrowsAnErrorDoesNotStopTheWatch() throws Exception {
    registry.register(SERVICE, "a", 8081, Registry.zone("r", "z1"));
    ZooKeeperEndpointSource source = source().build();
    toClose.add(source);
    AtomicInteger failures = new AtomicInteger();
    CountDownLatch threw = new CountDownLatch(1);
    source.start(
        new EndpointSource.Updates() {
          @Override
          public void endpoints(List<Endpoint> endpoints) {
            recorder.endpoints(endpoints);
          }

          @Override
          public void failed(Throwable cause) {
            if (failures.incrementAndGet() == 1) {
              threw.countDown();
              throw new StackOverflowError("callback bug");
            }
            recorder.failed(cause);
          }
        });
    recorder.awaitList("a", l -> urls(l).equals(List.of(url(8081))));

    server.stop();
    await(threw, "the first failure");
    int afterFailure = recorder.size();
    server.restart();

    recorder.awaitList(afterFailure, "a again", l -> urls(l).equals(List.of(url(8081))));
  }

  private static void await(CountDownLatch latch, String what) throws InterruptedException {
    if (!latch.await(Recorder.WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new AssertionError("no " + what + " within " + Recorder.WAIT.toSeconds() + " s");
    }
  }
}
