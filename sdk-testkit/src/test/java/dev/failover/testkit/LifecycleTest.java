package dev.failover.testkit;

import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.ok;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

/** The extension's per-class and per-test lifecycles, and use without JUnit. */
class LifecycleTest {

  @Nested
  @TestMethodOrder(MethodOrderer.OrderAnnotation.class)
  class PerClass {
    // A static field in a @Nested class needs Java 16+; fine on 17.
    @RegisterExtension
    static FakeZones zones =
        FakeZones.builder().region("r", "a", "b").distance("b", Duration.ofMillis(5)).build();

    static String firstUrl = "";

    @BeforeAll
    static void stubOnce() {
      zones.stubAll(get("/x").willReturn(ok("x")));
    }

    @Test
    @Order(1)
    void firstTestBreaksThings() {
      firstUrl = zones.zone("a").endpoint(0).url();
      try (Http http = new Http()) {
        assertThat(http.call(firstUrl + "/x").body()).isEqualTo("x");
      }
      zones.zone("a").fail(ZoneFault.refuse());
      zones.zone("b").fail(ZoneFault.hang());
      zones.zone("b").distance(Duration.ofMillis(50));
    }

    @Test
    @Order(2)
    void secondTestStartsHealedWithEmptyJournalsAndTheSameStubsAndPorts() {
      assertThat(zones.zone("a").endpoint(0).url()).isEqualTo(firstUrl);
      assertThat(zones.zone("a").endpoint(0).fault()).isEmpty();
      assertThat(zones.zone("b").endpoint(0).fault()).isEmpty();
      assertThat(zones.zone("b").distance()).isEqualTo(Duration.ofMillis(5));
      assertThat(zones.requestCount()).isZero();
      try (Http http = new Http(Duration.ofSeconds(2))) {
        assertThat(http.call(firstUrl + "/x").body()).isEqualTo("x");
        assertThat(http.call(zones.zone("b").endpoint(0).url() + "/x").body()).isEqualTo("x");
      }
    }
  }

  @Nested
  @TestMethodOrder(MethodOrderer.OrderAnnotation.class)
  class PerTest {
    static final List<FakeZones> SEEN = new ArrayList<>();

    @RegisterExtension FakeZones zones = FakeZones.builder().region("r", "a").build();

    @Test
    @Order(1)
    void eachTestGetsRunningZones() {
      assertThat(zones.isRunning()).isTrue();
      SEEN.add(zones);
    }

    @Test
    @Order(2)
    void andThePreviousTestsZonesAreStopped() {
      assertThat(zones.isRunning()).isTrue();
      assertThat(SEEN).hasSize(1);
      assertThat(SEEN.get(0)).isNotSameAs(zones);
      assertThat(SEEN.get(0).isRunning()).isFalse();
    }
  }

  @Test
  void withoutJUnitStartAndCloseLeaveNoThreadBehind() {
    FakeZones zones = FakeZones.builder().region("r", "a", "b").endpointsPerZone(2).build();
    assertThatThrownBy(zones::endpoints)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("not running");

    try (FakeZones running = zones.start()) {
      assertThatThrownBy(running::start).hasMessage("FakeZones is already running");
      running.stubAll(get("/x").willReturn(ok("x")));
      running
          .zone("a")
          .fail(
              ZoneFault.flapping(ZoneFault.refuse(), Duration.ofMillis(20), Duration.ofMillis(20)));
      running.zone("b").endpoint(0).fail(ZoneFault.hang());
      try (Http impatient = new Http(Duration.ofMillis(200))) {
        impatient.call(running.zone("a").endpoint(0).url() + "/x");
        impatient.call(running.zone("b").endpoint(0).url() + "/x");
      }
      try (Http http = new Http()) {
        Http.Outcome healthy = http.call(running.zone("b").endpoint(1).url() + "/x");
        assertThat(healthy.body()).as("a healthy endpoint answers: %s", healthy).isEqualTo("x");
      }
      assertThat(testkitThreads()).isNotEmpty();
    }

    // close() returns only once every thread it started has terminated: no waiting here.
    assertThat(zones.isRunning()).isFalse();
    assertThat(testkitThreads()).isEmpty();

    try (FakeZones again = zones.start()) {
      assertThat(again.zone("a").endpoint(0).fault()).as("a restart starts healed").isEmpty();
      try (Http http = new Http()) {
        assertThat(http.call(again.zone("a").endpoint(0).url() + "/x").status())
            .as("stubs belong to the servers of one run")
            .isEqualTo(404);
      }
    }
    zones.close(); // a second close does nothing
  }

  @Test
  void everyThreadTheZonesStartIsADaemon() {
    Set<Thread> before = Thread.getAllStackTraces().keySet();
    try (FakeZones running =
        FakeZones.builder().region("r", "a", "b").endpointsPerZone(2).build().start()) {
      running.stubAll(get("/x").willReturn(ok("x")));
      try (Http http = new Http()) {
        for (FakeEndpoint endpoint : running.fakeEndpoints()) {
          assertThat(http.call(endpoint.url() + "/x").body()).isEqualTo("x");
        }
      }
      List<String> userThreads = new ArrayList<>();
      for (Thread thread : Thread.getAllStackTraces().keySet()) {
        if (!before.contains(thread) && thread.isAlive() && !thread.isDaemon()) {
          userThreads.add(thread.getName());
        }
      }
      // A user thread would keep a main() that forgot close() (or threw before it) from exiting.
      assertThat(userThreads).as("threads started by the zones that are not daemons").isEmpty();
    }
  }

  @Test
  void closeKeepsItsBoundWhileEveryEndpointHasResponsesInFlight() throws IOException {
    // 24 endpoints, each with a Jetty thread busy writing a dribbled response and a response
    // waiting for its delay: an endpoint's stop waits up to half a second for its busy thread.
    FakeZones zones =
        FakeZones.builder().region("r", "a", "b", "c").endpointsPerZone(8).build().start();
    List<Socket> clients = new ArrayList<>();
    try {
      zones.stubAll(get("/drip").willReturn(ok("0123456789").withChunkedDribbleDelay(10, 20_000)));
      zones.stubAll(get("/x").willReturn(ok("x")));
      zones.fail(ZoneFault.latency(Latency.fixed(Duration.ofSeconds(30))).sparing("/drip"));
      for (FakeEndpoint endpoint : zones.fakeEndpoints()) {
        for (String path : List.of("/drip", "/x")) {
          Socket client = new Socket();
          clients.add(client);
          client.connect(new InetSocketAddress("127.0.0.1", endpoint.port()), 5_000);
          client
              .getOutputStream()
              .write(
                  ("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                      .getBytes(StandardCharsets.US_ASCII));
        }
      }
      Await.until(
          Duration.ofSeconds(20),
          "every endpoint to be answering both requests",
          () -> zones.fakeEndpoints().stream().allMatch(e -> e.requestCount() == 2));

      long start = System.nanoTime();
      zones.close(); // throws if a thread outlives its bound of 5 s

      assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(4_000L);
      assertThat(testkitThreads()).isEmpty();
    } finally {
      for (Socket client : clients) {
        client.close();
      }
      zones.close();
    }
  }

  /**
   * An Error halfway through start (a JVM out of native threads fails a server's pool this way)
   * stops what had started: no thread, server or port of the zones is left, they are not running,
   * and a later start works.
   */
  @Test
  void anErrorHalfwayThroughStartStopsWhatHadStarted() {
    FakeZones zones = FakeZones.builder().region("r", "a", "b", "c").build();
    OutOfMemoryError noThread = new OutOfMemoryError("unable to create native thread");
    zones.beforeEndpointStart =
        endpoint -> {
          if (endpoint.zone().name().equals("b")) {
            throw noThread; // zone a's endpoint, its server and proxy, and the proxy loop run
          }
        };

    assertThatThrownBy(zones::start).isSameAs(noThread);

    assertThat(zones.isRunning()).isFalse();
    assertThat(testkitThreads()).as("threads of the failed start").isEmpty();
    assertThatThrownBy(() -> zones.zone("a").endpoint(0).server())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("not running");
    zones.beforeEndpointStart = endpoint -> {};
    try (FakeZones again = zones.start()) {
      again.stubAll(get("/x").willReturn(ok("x")));
      try (Http http = new Http()) {
        assertThat(http.call(again.zone("b").endpoint(0).url() + "/x").body()).isEqualTo("x");
      }
    }
  }

  /**
   * Zones started elsewhere (a static holder shared by classes, as a suite may do) and registered
   * in two classes are theirs to close: each class uses them as they are, on the same ports. Zones
   * the extension started for a class are closed after it.
   */
  @Test
  void theExtensionClosesOnlyTheZonesItStarted() {
    SharedZones.SEEN.clear();
    try {
      TestExecutionSummary summary =
          JUnitRuns.run(
              selectClass(FirstOnSharedZones.class),
              selectClass(SecondOnSharedZones.class),
              selectClass(OnItsOwnZones.class));

      assertThat(summary.getTotalFailureCount()).as(JUnitRuns.failures(summary)).isZero();
      assertThat(summary.getTestsSucceededCount()).isEqualTo(3);
      assertThat(SharedZones.ZONES.isRunning()).as("the shared zones, after both classes").isTrue();
      int port = SharedZones.ZONES.zone("a").endpoint(0).port();
      assertThat(SharedZones.SEEN)
          .as("the ports each class saw")
          .containsExactly(
              "FirstOnSharedZones " + port, "SecondOnSharedZones " + port, "OnItsOwnZones");
      assertThat(OnItsOwnZones.zones.isRunning()).as("the class's own zones, after it").isFalse();
    } finally {
      SharedZones.ZONES.close();
    }
  }

  /** Zones started once, outside any extension, for classes to share. */
  static final class SharedZones {
    static final FakeZones ZONES = FakeZones.builder().region("r", "a").build().start();
    static final List<String> SEEN = new CopyOnWriteArrayList<>();

    private SharedZones() {}
  }

  @Order(1)
  static class FirstOnSharedZones {
    @RegisterExtension static FakeZones zones = SharedZones.ZONES;

    @Test
    void usesTheSharedZones() {
      SharedZones.SEEN.add("FirstOnSharedZones " + zones.zone("a").endpoint(0).port());
    }
  }

  @Order(2)
  static class SecondOnSharedZones {
    @RegisterExtension static FakeZones zones = SharedZones.ZONES;

    @Test
    void usesTheSharedZonesStillRunningOnTheSamePorts() {
      assertThat(zones.isRunning()).isTrue();
      SharedZones.SEEN.add("SecondOnSharedZones " + zones.zone("a").endpoint(0).port());
    }
  }

  @Order(3)
  static class OnItsOwnZones {
    @RegisterExtension static FakeZones zones = FakeZones.builder().region("r", "a").build();

    @Test
    void usesZonesStartedForIt() {
      assertThat(zones.isRunning()).isTrue();
      SharedZones.SEEN.add("OnItsOwnZones");
    }
  }

  /**
   * The same zones registered twice for one test (by an outer class and its {@code @Nested} class,
   * or by a class and its superclass) are set up once for it: the second registration's call was
   * once taken for another test running at the same time, and every such test failed.
   */
  @Test
  void zonesRegisteredTwiceForATestAreSetUpOnce() {
    TwiceZones.SEEN.clear();
    try {
      TestExecutionSummary summary =
          JUnitRuns.run(selectClass(OuterAndNested.class), selectClass(SubclassToo.class));

      assertThat(summary.getTotalFailureCount()).as(JUnitRuns.failures(summary)).isZero();
      assertThat(summary.getTestsSucceededCount()).isEqualTo(4);
      // The nested test found the zones healed of the outer test's fault: reset for it once.
      assertThat(TwiceZones.SEEN).containsExactly("outer", "nested 200", "subclass 200");
      assertThat(OuterAndNested.Nested2.own.isRunning())
          .as("zones started for the nested class, registered by it twice, after it")
          .isFalse();
    } finally {
      TwiceZones.ZONES.close();
    }
  }

  /** Zones started once, for the classes that register them twice. */
  static final class TwiceZones {
    static final FakeZones ZONES = started();
    static final List<String> SEEN = new CopyOnWriteArrayList<>();

    private TwiceZones() {}

    private static FakeZones started() {
      FakeZones zones = FakeZones.builder().region("r", "a").build().start();
      zones.stubAll(get("/users/1").willReturn(ok("{}")));
      return zones;
    }

    static int status() {
      try (Http http = new Http()) {
        return http.call(ZONES.zone("a").endpoint(0).url() + "/users/1").status();
      }
    }
  }

  @Order(4)
  static class OuterAndNested {
    @RegisterExtension static FakeZones zones = TwiceZones.ZONES;

    @Test
    void outer() {
      zones.zone("a").fail(ZoneFault.errors(503, 1.0));
      TwiceZones.SEEN.add("outer");
    }

    @org.junit.jupiter.api.Nested
    class Nested1 {
      @RegisterExtension static FakeZones again = TwiceZones.ZONES;

      @Test
      void nested() {
        TwiceZones.SEEN.add("nested " + TwiceZones.status());
      }
    }

    @org.junit.jupiter.api.Nested
    class Nested2 {
      static FakeZones own = FakeZones.builder().region("r", "a").build();
      @RegisterExtension static FakeZones first = own;
      @RegisterExtension static FakeZones second = own;

      @Test
      void startedOnce() {
        assertThat(own.isRunning()).isTrue();
      }
    }
  }

  static class TwiceBase {
    @RegisterExtension static FakeZones zones = TwiceZones.ZONES;
  }

  @Order(5)
  static class SubclassToo extends TwiceBase {
    @RegisterExtension static FakeZones zones = TwiceZones.ZONES;

    @Test
    void subclass() {
      TwiceZones.SEEN.add("subclass " + TwiceZones.status());
    }
  }

  private static List<String> testkitThreads() {
    List<String> names = new ArrayList<>();
    for (Thread thread : Thread.getAllStackTraces().keySet()) {
      if (thread.isAlive() && thread.getName().startsWith("failover-testkit")) {
        names.add(thread.getName());
      }
    }
    return names;
  }
}
