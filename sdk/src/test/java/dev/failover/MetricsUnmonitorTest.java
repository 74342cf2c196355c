package dev.failover;

import static org.assertj.core.api.Assertions.assertThat;

import dev.failover.testkit.FakeZones;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.lang.ref.WeakReference;
import java.time.Duration;
import java.util.List;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@link FailoverMetrics#unmonitor}: a client's meters leave the registry, which often outlives the
 * client (Spring Boot adds each context's registry to the global one); and a client closed without
 * it is not kept reachable by the registry's gauges or by the binder.
 */
class MetricsUnmonitorTest {

  @RegisterExtension static FakeZones zones = Zones3.zones();

  private final MeterRegistry registry = new SimpleMeterRegistry();

  @BeforeEach
  void stub() {
    Zones3.stub(zones);
  }

  private static void call(FailoverClient client) throws IOException {
    Request request = new Request.Builder().url("http://directory/users/1").build();
    try (Response response = client.newCall(request).execute()) {
      assertThat(response.code()).isEqualTo(200);
    }
  }

  private List<Meter> metersOf(String name) {
    return registry.getMeters().stream()
        .filter(m -> name.equals(m.getId().getTag("client.name")))
        .toList();
  }

  @Test
  void unmonitorRemovesEveryMeterOfTheClientAndNoneOfAnother() throws IOException {
    FailoverMetrics metrics = new FailoverMetrics();
    try (FailoverClient directory =
            Zones3.client(zones)
                .hedging(HedgePolicy.fixed(Duration.ofMillis(40)))
                .listener(metrics)
                .build();
        FailoverClient catalog =
            Zones3.client(zones).service("catalog").listener(metrics).build()) {
      metrics.monitor(directory).monitor(catalog).bindTo(registry);
      call(directory); // calls, attempts and latency meters too
      int catalogMeters = metersOf("catalog").size();
      assertThat(metersOf("directory"))
          .extracting(m -> m.getId().getName())
          .contains(
              "failover.calls",
              "failover.attempts",
              "failover.endpoint.latency",
              "failover.zone.state",
              "failover.hedge.delay",
              "failover.client.stalls");

      metrics.unmonitor(directory);

      assertThat(metersOf("directory")).isEmpty();
      assertThat(metersOf("catalog")).hasSize(catalogMeters);
      // Its later calls register nothing again; a second unmonitor is harmless.
      call(directory);
      metrics.unmonitor(directory);
      assertThat(metersOf("directory")).isEmpty();
    }
  }

  /**
   * A client monitored but not built with the metrics as a listener: its counters would stay at 0
   * for good, silently; it is said when it is monitored (and not for a client that tells them).
   */
  @Test
  void monitoringAClientThatDoesNotTellTheMetricsSaysSo() {
    FailoverMetrics metrics = new FailoverMetrics();
    java.io.PrintStream err = System.err;
    java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
    try (FailoverClient told = Zones3.client(zones).listener(metrics).build();
        FailoverClient untold = Zones3.client(zones).service("catalog").build()) {
      System.setErr(
          new java.io.PrintStream(captured, true, java.nio.charset.StandardCharsets.UTF_8));
      metrics.monitor(told);
      assertThat(captured.toString(java.nio.charset.StandardCharsets.UTF_8)).isEmpty();
      metrics.monitor(untold);
    } finally {
      System.setErr(err);
    }
    assertThat(captured.toString(java.nio.charset.StandardCharsets.UTF_8))
        .contains(
            "FailoverMetrics monitors client 'catalog', which was not built with it as a listener")
        .contains("listener(metrics)");
  }

  /** A client that another of the same name replaced: its unmonitor leaves the name's meters. */
  @Test
  void unmonitoringAReplacedClientLeavesTheMetersOfItsSuccessor() throws IOException {
    FailoverMetrics metrics = new FailoverMetrics();
    metrics.bindTo(registry);
    FailoverClient first = Zones3.client(zones).listener(metrics).build();
    metrics.monitor(first);
    try (FailoverClient second = Zones3.client(zones).listener(metrics).build()) {
      metrics.monitor(second);
      first.close();
      metrics.unmonitor(first);
      call(second);
      assertThat(registry.get("failover.calls").tag("client.name", "directory").timer().count())
          .isEqualTo(1);
      metrics.unmonitor(second);
      assertThat(metersOf("directory")).isEmpty();
    }
  }

  /**
   * A closed client nobody passed to unmonitor, and that the application dropped, can be collected:
   * the binder and the registry's gauges hold it weakly, and the gauges keep its last values.
   */
  @Test
  void aClosedClientThatWasNotUnmonitoredCanBeCollected() throws Exception {
    FailoverMetrics metrics = new FailoverMetrics();
    metrics.bindTo(registry);
    WeakReference<FailoverClient> ref = closedMonitoredClient(metrics);

    // Bounded: at most 50 collections and 20 s; a collectable object goes at the first one or two.
    long until = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    for (int i = 0; i < 50 && ref.get() != null && System.nanoTime() < until; i++) {
      System.gc();
      Thread.onSpinWait();
    }
    assertThat(ref.get()).as("the closed client, still reachable").isNull();
    assertThat(metersOf("directory")).isNotEmpty();
    for (Meter meter : metersOf("directory")) {
      if (meter instanceof Gauge gauge) {
        assertThat(gauge.value()).as(meter.getId().toString()).isFinite();
      } else if (meter instanceof FunctionCounter counter) {
        assertThat(counter.count()).as(meter.getId().toString()).isFinite();
      }
    }
    assertThat(registry.get("failover.endpoint.state").tag("state", "healthy").gauges())
        .anyMatch(g -> g.value() == 1.0);
  }

  private static WeakReference<FailoverClient> closedMonitoredClient(FailoverMetrics metrics)
      throws IOException {
    FailoverClient client = Zones3.client(zones).listener(metrics).build();
    metrics.monitor(client);
    call(client);
    client.close();
    return new WeakReference<>(client);
  }
}
