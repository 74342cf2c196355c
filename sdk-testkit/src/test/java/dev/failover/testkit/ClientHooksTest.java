package dev.failover.testkit;

import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.ok;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
