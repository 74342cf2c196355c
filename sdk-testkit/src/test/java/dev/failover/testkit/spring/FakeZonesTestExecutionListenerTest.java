package dev.failover.testkit.spring;

import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.ok;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import dev.failover.testkit.FakeZones;
import dev.failover.testkit.JUnitRuns;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.platform.launcher.listeners.TestExecutionSummary;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.context.junit.jupiter.SpringJUnitConfig;

/**
 * The listener with real Spring test contexts and real fake zones. The scenario classes below run
 * through the JUnit launcher, in order, as a build would run them; each context holds a {@link
 * Probe} bean that stands for a client built on the zones' URL (it calls the URL, and records when
 * its context closes it).
 */
class FakeZonesTestExecutionListenerTest {

  /** Every probe bean created, in order. */
  static final List<Probe> PROBES = new CopyOnWriteArrayList<>();

  /** What each scenario test saw when it called its probe's URL: "ClassName 200", or the error. */
  static final List<String> CALLS = new CopyOnWriteArrayList<>();

  @BeforeEach
  void clear() {
    PROBES.clear();
    CALLS.clear();
  }

  @Test
  void twoClassesOfOneBaseGetAContextEachOnTheirOwnZones() {
    TestExecutionSummary summary =
        JUnitRuns.run(selectClass(FirstOfBase.class), selectClass(SecondOfBase.class));

    assertThat(summary.getTotalFailureCount()).as(JUnitRuns.failures(summary)).isZero();
    assertThat(CALLS).containsExactly("FirstOfBase 200", "SecondOfBase 200");
    // Same configuration, but the first context was closed with the first class's zones: the
    // second class got a context on the zones it started (new ports), not the cached one.
    assertThat(PROBES).hasSize(2);
    assertThat(PROBES.get(0).url).isNotEqualTo(PROBES.get(1).url);
    assertThat(PROBES.get(0).closed).isTrue();
    assertThat(PROBES.get(1).closed).isTrue();
  }

  @Test
  void theContextOfAClassWhoseZonesClosedIsClosedBeforeTheNextClassRuns() {
    TestExecutionSummary summary =
        JUnitRuns.run(selectClass(Lonely.class), selectClass(Witness.class));

    assertThat(summary.getTotalFailureCount()).as(JUnitRuns.failures(summary)).isZero();
    // Witness ran after Lonely and saw Lonely's probe already closed: nothing in the cached
    // context could call the closed ports while Witness ran.
    assertThat(CALLS).containsExactly("Lonely 200", "Witness saw Lonely's probe closed: true");
  }

  @Test
  void aContextOnZonesThatKeepRunningStaysCached() {
    try {
      TestExecutionSummary summary =
          JUnitRuns.run(
              selectClass(OnLongLivedZones.class), selectClass(AgainOnLongLivedZones.class));

      assertThat(summary.getTotalFailureCount()).as(JUnitRuns.failures(summary)).isZero();
      assertThat(CALLS).containsExactly("OnLongLivedZones 200", "AgainOnLongLivedZones 200");
      assertThat(PROBES).singleElement().satisfies(p -> assertThat(p.closed).isFalse());
    } finally {
      LongLivedZones.ZONES.close();
    }
  }

  @Test
  void closedZonesAreFoundInTheClassItsSuperclassesAndEnclosingClasses() {
    FakeZones stopped = FakeZones.builder().region("r", "a").build();
    Holder.zones = stopped;
    assertThat(FakeZonesTestExecutionListener.closedZones(Holder.Inner.class))
        .containsExactly("Holder.zones");
    assertThat(FakeZonesTestExecutionListener.closedZones(FirstOfBase.class))
        .containsExactly("ZonesBase.zones"); // not running outside a launcher run
    try (FakeZones running = FakeZones.builder().region("r", "a").build().start()) {
      Holder.zones = running;
      assertThat(FakeZonesTestExecutionListener.closedZones(Holder.Inner.class)).isEmpty();
    }
    assertThat(FakeZonesTestExecutionListener.closedZones(String.class)).isEmpty();
  }

  /** Calls {@code url}; returns "status" or the exception. */
  static String call(String url) {
    OkHttpClient http =
        new OkHttpClient.Builder()
            .connectTimeout(Duration.ofSeconds(2))
            .readTimeout(Duration.ofSeconds(2))
            .retryOnConnectionFailure(false)
            .build();
    try (Response response = http.newCall(new Request.Builder().url(url).build()).execute()) {
      return String.valueOf(response.code());
    } catch (IOException e) {
      return e.toString();
    } finally {
      http.dispatcher().executorService().shutdown();
      http.connectionPool().evictAll();
    }
  }

  /** A bean built on the zones' URL, as a client would be; its context closes it. */
  static final class Probe implements AutoCloseable {
    final String url;
    volatile boolean closed;

    Probe(String url) {
      this.url = url;
      PROBES.add(this);
    }

    String call() {
      if (closed) {
        throw new IllegalStateException("probe of " + url + " is closed");
      }
      return FakeZonesTestExecutionListenerTest.call(url + "/health");
    }

    @Override
    public void close() {
      closed = true;
    }
  }

  @Configuration(proxyBeanMethods = false)
  static class ProbeConfig {
    @Bean
    Probe probe(@Value("${zone.url}") String url) {
      return new Probe(url);
    }
  }

  /** A Spring test that calls its zones through the probe bean of its context. */
  @SpringJUnitConfig(ProbeConfig.class)
  abstract static class CallsThroughItsContext {
    @Autowired Probe probe;

    abstract FakeZones zones();

    @Test
    void callsTheZonesThroughTheContext() {
      zones().stubAll(get("/health").willReturn(ok("up")));
      CALLS.add(getClass().getSimpleName() + " " + probe.call());
    }
  }

  /** The zones and the property that points the context at them, shared by its subclasses. */
  abstract static class ZonesBase extends CallsThroughItsContext {
    @RegisterExtension static FakeZones zones = FakeZones.builder().region("r", "a").build();

    @DynamicPropertySource
    static void zoneUrl(DynamicPropertyRegistry registry) {
      registry.add("zone.url", () -> zones.zone("a").endpoint(0).url());
    }

    @Override
    FakeZones zones() {
      return zones;
    }
  }

  @Order(1)
  static class FirstOfBase extends ZonesBase {}

  @Order(2)
  static class SecondOfBase extends ZonesBase {}

  /** A class with zones and a context of its own: nobody will use its context again. */
  @Order(1)
  static class Lonely extends CallsThroughItsContext {
    @RegisterExtension static FakeZones zones = FakeZones.builder().region("r", "a").build();

    @DynamicPropertySource
    static void zoneUrl(DynamicPropertyRegistry registry) {
      registry.add("zone.url", () -> zones.zone("a").endpoint(0).url());
    }

    @Override
    FakeZones zones() {
      return zones;
    }
  }

  @Order(2)
  static class Witness {
    @Test
    void runsAfterLonely() {
      CALLS.add("Witness saw Lonely's probe closed: " + PROBES.get(0).closed);
    }
  }

  /** Zones started once for the whole run, as a suite may share them; never closed by a class. */
  static final class LongLivedZones {
    static final FakeZones ZONES = FakeZones.builder().region("r", "a").build().start();

    private LongLivedZones() {}
  }

  abstract static class LongLivedBase extends CallsThroughItsContext {
    static final FakeZones zones = LongLivedZones.ZONES;

    @DynamicPropertySource
    static void zoneUrl(DynamicPropertyRegistry registry) {
      registry.add("zone.url", () -> zones.zone("a").endpoint(0).url());
    }

    @Override
    FakeZones zones() {
      return zones;
    }

    @AfterAll
    static void zonesStillRun() {
      assertThat(zones.isRunning()).isTrue();
    }
  }

  @Order(1)
  static class OnLongLivedZones extends LongLivedBase {}

  @Order(2)
  static class AgainOnLongLivedZones extends LongLivedBase {}

  static class Holder {
    static FakeZones zones = FakeZones.builder().region("r", "a").build();

    static class Inner {}
  }
}
