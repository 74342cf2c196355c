package dev.failover.testkit;

import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.ok;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

/**
 * {@code onReset} and {@code onClose}: what a client built against the zones needs so that one
 * test's outage does not decide the next test's routing, and so that it never probes the zones once
 * they are gone.
 */
class ClientHooksTest {

  /** What the reset action saw of zone a, in order: "reset: healed" or "reset: faulted". */
  static final List<String> SEEN = new CopyOnWriteArrayList<>();

  @Nested
  @TestMethodOrder(MethodOrderer.OrderAnnotation.class)
  class PerClass {
    @RegisterExtension static FakeZones zones = FakeZones.builder().region("r", "a").build();

    @BeforeAll
    static void client() {
      SEEN.clear();
      zones.onReset(() -> SEEN.add("reset: " + faultOfA()));
    }

    static String faultOfA() {
      return zones.zone("a").endpoint(0).fault().map(f -> "faulted").orElse("healed");
    }

    @Test
    @Order(1)
    void theResetActionRunsBeforeEachTestOnceTheZonesAreHealed() {
      assertThat(SEEN).containsExactly("reset: healed");
      zones.zone("a").fail(ZoneFault.refuse());
    }

    @Test
    @Order(2)
    void andAgainBeforeTheNextTestWhichStartsHealed() {
      // Healed before the action ran: the action sees the zones as the test will.
      assertThat(SEEN).containsExactly("reset: healed", "reset: healed");
    }

    @AfterAll
    static void closedOnlyAfterTheClassesOwnAfterAll() {
      assertThat(zones.isRunning()).isTrue();
      assertThat(SEEN).containsExactly("reset: healed", "reset: healed");
    }
  }

  /**
   * Zones shared by classes from a static holder, each class registering its own client's hooks in
   * {@code @BeforeAll}, as the guide shows: each class's hooks end with the class. The next class's
   * tests never reset the client of a class before (which throws once that client is closed), and a
   * class's client is closed after its last test, not when the shared zones close.
   */
  @Test
  void hooksRegisteredByATestClassEndWithTheClassWhenTheZonesAreShared() {
    SharedZones.LOG.clear();
    try {
      TestExecutionSummary summary =
          JUnitRuns.run(
              selectClass(FirstOnSharedZones.class), selectClass(SecondOnSharedZones.class));

      assertThat(summary.getTotalFailureCount()).as(JUnitRuns.failures(summary)).isZero();
      assertThat(summary.getTestsSucceededCount()).isEqualTo(2);
      assertThat(SharedZones.ZONES.isRunning()).isTrue();
      assertThat(SharedZones.LOG)
          .containsExactly(
              "holder's reset", // registered outside any class: for every class
              "client of First reset",
              "client of First closed", // by its own @AfterAll; the hook's close does nothing
              "holder's reset",
              "client of Second reset",
              "client of Second closed"); // by its hook, at the end of its class
    } finally {
      SharedZones.ZONES.close();
    }
    assertThat(SharedZones.LOG).as("the class's close action ran once").hasSize(6);
  }

  /** Stands for a FailoverClient: reset() throws once closed, as FailoverClient.reset() does. */
  static final class FakeClient {
    private final String name;
    private boolean closed;

    FakeClient(String name) {
      this.name = name;
    }

    synchronized void reset() {
      if (closed) {
        throw new IllegalStateException(name + " is closed");
      }
      SharedZones.LOG.add(name + " reset");
    }

    synchronized void close() {
      if (!closed) {
        closed = true;
        SharedZones.LOG.add(name + " closed");
      }
    }
  }

  /** Zones started once, outside any extension, for classes to share. */
  static final class SharedZones {
    static final List<String> LOG = new CopyOnWriteArrayList<>();
    static final FakeZones ZONES =
        FakeZones.builder()
            .region("r", "a")
            .build()
            .start()
            .onReset(() -> LOG.add("holder's reset"));

    private SharedZones() {}

    /** Builds a client and ties it to the zones, as a class's {@code @BeforeAll} does. */
    static FakeClient clientWithHooks(String name) {
      FakeClient client = new FakeClient(name);
      ZONES.onReset(client::reset).onClose(client::close);
      return client;
    }
  }

  @Order(1)
  static class FirstOnSharedZones {
    @RegisterExtension static FakeZones zones = SharedZones.ZONES;
    static FakeClient client;

    @BeforeAll
    static void client() {
      client = SharedZones.clientWithHooks("client of First");
    }

    @AfterAll
    static void closeClient() {
      client.close();
    }

    @Test
    void one() {}
  }

  @Order(2)
  static class SecondOnSharedZones {
    @RegisterExtension static FakeZones zones = SharedZones.ZONES;

    @BeforeAll
    static void client() {
      FakeClient unused = SharedZones.clientWithHooks("client of Second"); // closed by its hook
    }

    @Test
    void two() {}
  }

  @Test
  void closeActionsRunInReverseOrderWhileTheEndpointsStillServeThenAreDropped() {
    FakeZones zones = FakeZones.builder().region("r", "a").build().start();
    List<String> order = new ArrayList<>();
    zones.stubAll(get("/health").willReturn(ok("up")));
    String url = zones.zone("a").endpoint(0).url() + "/health";
    try (Http http = new Http()) {
      zones
          .onClose(() -> order.add("first registered: " + http.call(url).status()))
          .onClose(() -> order.add("second registered: " + http.call(url).status()))
          .onReset(() -> order.add("reset"));
      zones.reset();
      zones.close();
      assertThat(order).containsExactly("reset", "second registered: 200", "first registered: 200");
      assertThat(zones.isRunning()).isFalse();

      // A restart starts with no actions: the clients they were for are gone with the old ports.
      zones.start();
      zones.reset();
      zones.close();
      assertThat(order).hasSize(3);
    }
  }

  @Test
  void aCloseActionThatThrowsStillStopsTheZonesAndTheOtherActionsRun() {
    FakeZones zones = FakeZones.builder().region("r", "a").build().start();
    List<String> ran = new ArrayList<>();
    zones
        .onClose(() -> ran.add("first"))
        .onClose(
            () -> {
              throw new IllegalStateException("client close failed");
            });
    assertThatThrownBy(zones::close)
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("client close failed");
    assertThat(ran).containsExactly("first");
    assertThat(zones.isRunning()).isFalse();
  }

  @Test
  void aResetActionThatThrowsFailsTheResetAfterEveryActionRan() {
    try (FakeZones zones = FakeZones.builder().region("r", "a").build().start()) {
      List<String> ran = new ArrayList<>();
      zones
          .onReset(
              () -> {
                throw new IllegalStateException("first failed");
              })
          .onReset(() -> ran.add("second"))
          .onReset(
              () -> {
                throw new IllegalArgumentException("third failed");
              });
      assertThatThrownBy(zones::reset)
          .isInstanceOf(IllegalStateException.class)
          .hasMessage("first failed")
          .satisfies(
              e ->
                  assertThat(e.getSuppressed())
                      .singleElement()
                      .satisfies(s -> assertThat(s).hasMessage("third failed")));
      assertThat(ran).containsExactly("second");
    }
  }

  @Test
  void actionsNeedRunningZones() {
    FakeZones zones = FakeZones.builder().region("r", "a").build();
    assertThatThrownBy(() -> zones.onReset(() -> {}))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage(
            "onReset needs running zones: call start(), or register them with @RegisterExtension");
    assertThatThrownBy(() -> zones.onClose(() -> {}))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage(
            "onClose needs running zones: call start(), or register them with @RegisterExtension");
    assertThatThrownBy(() -> zones.onClose(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("action");
  }
}
