package dev.failover.drill;

import dev.failover.testkit.FakeZones;
import dev.failover.testkit.Latency;
import dev.failover.testkit.Timeline;
import dev.failover.testkit.ZoneFault;
import dev.failover.testkit.load.HostSaturator;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * What the drill runs against: the endpoints, the clients' home, the phases, the request mix, and
 * for the embedded zones the fake zones and the timeline of faults.
 */
final class Scenario implements AutoCloseable {
  static final String HOME_REGION = "us-east-1";
  static final String HOME_ZONE = "us-east-1a";
  static final String GRAY_ZONE = "us-east-1b";

  /** How many phases the embedded scenario has. */
  static final int PHASES = 7;

  private final List<DrillEndpoint> endpoints;
  private final String homeRegion;
  private final String homeZone;
  private final String healthPath;
  private final List<Phase> phases;
  private final Supplier<String> mix;
  private final @Nullable FakeZones zones;
  private final @Nullable Timeline timeline;
  private final String description;
  private final PhaseHook phaseListener;
  private final @Nullable HostSaturator saturator;

  private Scenario(
      List<DrillEndpoint> endpoints,
      String homeRegion,
      String homeZone,
      String healthPath,
      List<Phase> phases,
      Supplier<String> mix,
      @Nullable FakeZones zones,
      @Nullable Timeline timeline,
      String description,
      PhaseHook phaseListener,
      @Nullable HostSaturator saturator) {
    this.endpoints = List.copyOf(endpoints);
    this.homeRegion = homeRegion;
    this.homeZone = homeZone;
    this.healthPath = healthPath;
    this.phases = List.copyOf(phases);
    this.mix = mix;
    this.zones = zones;
    this.timeline = timeline;
    this.description = description;
    this.phaseListener = phaseListener;
    this.saturator = saturator;
  }

  /** Sets what is told, with the phase's name, once a scripted phase's faults are in place. */
  void onPhaseStarted(Consumer<String> listener) {
    phaseListener.listener = listener;
  }

  /**
   * Starts the embedded zones: us-east-1 (a, b, c) and us-west-2 (a, b), two endpoints a zone, the
   * other zones of us-east-1 1 ms and us-west-2 35 ms farther than us-east-1a; and the timeline of
   * {@link #PHASES} phases of equal length.
   */
  static Scenario embedded(Duration duration, long seed) {
    FakeZones zones =
        FakeZones.builder()
            .region(HOME_REGION, HOME_ZONE, GRAY_ZONE, "us-east-1c")
            .region("us-west-2", "us-west-2a", "us-west-2b")
            .endpointsPerZone(2)
            .distance(GRAY_ZONE, Duration.ofMillis(1))
            .distance("us-east-1c", Duration.ofMillis(1))
            .distance("us-west-2", Duration.ofMillis(35))
            .seed(seed)
            .build()
            .start();
    try {
      new DirectoryApi(seed).stub(zones);
    } catch (RuntimeException e) {
      zones.close();
      throw e;
    }
    HostSaturator saturator = HostSaturator.perCore("drill");
    Plan plan = new Plan(duration, saturator);
    ZoneFault gray =
        ZoneFault.errors(503, 0.2)
            .withLatency(Latency.tail(0.15, Duration.ofMillis(400)))
            .sparing("/health");
    plan.add("healthy", "every zone serves", false, (z, length) -> {});
    plan.add(
        "client-busy",
        String.format(
            Locale.ROOT,
            "every zone serves; the drill's own JVM is saturated: %d busy thread%s (one per core)"
                + " and, halfway, a forced pause (load generator held %d ms, allocation burst and"
                + " System.gc()); expected: the sdk keeps serving home, ejects no endpoint and"
                + " evacuates no zone",
            saturator.threads(),
            saturator.threads() == 1 ? "" : "s",
            HostSaturator.PAUSE.toMillis()),
        true,
        (z, length) -> saturator.saturate(length));
    plan.add(
        "zone-refuse",
        HOME_ZONE + " refuses connections",
        false,
        (z, length) -> z.zone(HOME_ZONE).fail(ZoneFault.refuse()));
    plan.add(
        "zone-hang",
        HOME_ZONE + " accepts connections and never answers",
        false,
        (z, length) -> z.zone(HOME_ZONE).fail(ZoneFault.hang()));
    plan.add(
        "gray-zone",
        GRAY_ZONE + ": 20% 503s, 15% +400 ms; /health still passes",
        false,
        (z, length) -> z.zone(GRAY_ZONE).fail(gray));
    plan.add(
        "region-down",
        "all of " + HOME_REGION + " refuses connections",
        false,
        (z, length) -> z.region(HOME_REGION).fail(ZoneFault.refuse()));
    plan.add("fail-back", "everything healed", false, (z, length) -> {});
    DirectoryApi api = new DirectoryApi(seed);
    DirectoryApi.Mix mix = new DirectoryApi.Mix(api, seed);
    List<DrillEndpoint> endpoints = new ArrayList<>();
    zones.endpoints().forEach(e -> endpoints.add(new DrillEndpoint(e.url(), e.region(), e.zone())));
    return new Scenario(
        endpoints,
        HOME_REGION,
        HOME_ZONE,
        "/health",
        plan.phases,
        mix::next,
        zones,
        plan.timeline.build(),
        "embedded fake zones: us-east-1 (a, b, c) and us-west-2 (a, b), 2 endpoints each;"
            + " distance +1 ms to us-east-1b/c, +35 ms to us-west-2",
        plan.hook,
        saturator);
  }

  /** The embedded phases, each {@code 1 / PHASES} of the duration, in order. */
  private static final class Plan {
    final List<Phase> phases = new ArrayList<>();
    final Timeline.Builder timeline = Timeline.builder();
    final PhaseHook hook = new PhaseHook();
    private final Duration duration;
    private final HostSaturator saturator;

    Plan(Duration duration, HostSaturator saturator) {
      this.duration = duration;
      this.saturator = saturator;
    }

    void add(
        String name,
        String description,
        boolean saturatesClient,
        BiConsumer<FakeZones, Duration> onStart) {
      int index = phases.size();
      long total = duration.toMillis();
      Duration start = Duration.ofMillis(total * index / PHASES);
      Duration end = Duration.ofMillis(total * (index + 1) / PHASES);
      Duration length = end.minus(start);
      phases.add(new Phase(name, start, end, description, saturatesClient));
      timeline.phase(
          name,
          start,
          length,
          z -> {
            // Each phase sets the whole state: heal everything and end any host saturation, then
            // inject its own fault. A phase's own end step would race with the next phase's start
            // at the same offset (Timeline runs same-offset steps in no guaranteed order), and
            // could heal the next fault.
            saturator.stop();
            z.heal();
            onStart.accept(z, length);
            hook.listener.accept(name);
          },
          z -> {});
    }
  }

  /** Real endpoints from a topology file: no fault, one phase named {@code all}. */
  static Scenario topology(
      List<DrillEndpoint> endpoints,
      @Nullable String home,
      String healthPath,
      Duration duration,
      long seed,
      String file)
      throws UsageException {
    String region;
    String zone;
    if (home == null) {
      region = endpoints.get(0).region();
      zone = endpoints.get(0).zone();
    } else {
      String[] parts = home.split(",", -1);
      region = parts[0].strip();
      zone = parts[1].strip();
    }
    String r = region;
    if (endpoints.stream().noneMatch(e -> e.region().equals(r))) {
      throw new UsageException(
          "--home region '"
              + region
              + "' has no endpoint in "
              + file
              + "; its regions are "
              + endpoints.stream().map(DrillEndpoint::region).distinct().toList());
    }
    String z = zone;
    if (endpoints.stream().noneMatch(e -> e.region().equals(r) && e.zone().equals(z))) {
      // Every home figure would read 0%: no endpoint is in the home zone.
      List<String> elsewhere =
          endpoints.stream()
              .filter(e -> e.zone().equals(z))
              .map(DrillEndpoint::region)
              .distinct()
              .toList();
      throw new UsageException(
          "--home '"
              + home
              + "': zone '"
              + zone
              + "' has no endpoint in region '"
              + region
              + "' in "
              + file
              + (elsewhere.isEmpty() ? "" : " (it is in " + String.join(", ", elsewhere) + ")")
              + "; the region's zones are "
              + endpoints.stream()
                  .filter(e -> e.region().equals(r))
                  .map(DrillEndpoint::zone)
                  .distinct()
                  .toList());
    }
    Random random = new Random(seed);
    Supplier<String> mix = () -> "/users/" + (1 + random.nextInt(1000));
    return new Scenario(
        endpoints,
        region,
        zone,
        healthPath,
        List.of(new Phase("all", Duration.ZERO, duration, "no scripted fault")),
        mix,
        null,
        null,
        endpoints.size() + " endpoints from " + file,
        new PhaseHook(),
        null);
  }

  List<DrillEndpoint> endpoints() {
    return endpoints;
  }

  /** The zones, in order of first appearance. */
  List<String> zoneNames() {
    LinkedHashSet<String> names = new LinkedHashSet<>();
    endpoints.forEach(e -> names.add(e.zone()));
    return List.copyOf(names);
  }

  String homeRegion() {
    return homeRegion;
  }

  String homeZone() {
    return homeZone;
  }

  String healthPath() {
    return healthPath;
  }

  List<Phase> phases() {
    return phases;
  }

  /**
   * The last phase, in which every zone has healed ({@code fail-back}), with the embedded zones;
   * null with real endpoints, where nothing heals on a schedule.
   */
  @Nullable Phase failBack() {
    return zones == null ? null : phases.get(phases.size() - 1);
  }

  /** The next request path of the mix; call from one thread. */
  String nextPath() {
    return mix.get();
  }

  @Nullable FakeZones zones() {
    return zones;
  }

  @Nullable Timeline timeline() {
    return timeline;
  }

  String description() {
    return description;
  }

  /** What saturates the drill's own host in the client-busy phase; null with real endpoints. */
  @Nullable HostSaturator saturator() {
    return saturator;
  }

  @Override
  public void close() {
    HostSaturator h = saturator;
    if (h != null) {
      h.close();
    }
    FakeZones z = zones;
    if (z != null) {
      z.close();
    }
  }

  /** Who is told when a scripted phase's faults are in place. */
  private static final class PhaseHook {
    volatile Consumer<String> listener = name -> {};
  }
}
