package dev.failover.drill;

import dev.failover.testkit.FakeZones;
import dev.failover.testkit.Latency;
import dev.failover.testkit.Timeline;
import dev.failover.testkit.ZoneFault;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
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
      PhaseHook phaseListener) {
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
  }

  /** Sets what is told, with the phase's name, once a scripted phase's faults are in place. */
  void onPhaseStarted(Consumer<String> listener) {
    phaseListener.listener = listener;
  }

  /**
   * Starts the embedded zones: us-east-1 (a, b, c) and us-west-2 (a, b), two endpoints a zone, the
   * other zones of us-east-1 1 ms and us-west-2 35 ms farther than us-east-1a; and the timeline.
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
    List<Phase> phases = new ArrayList<>();
    Timeline.Builder timeline = Timeline.builder();
    PhaseHook phaseListener = new PhaseHook();
    ZoneFault gray =
        ZoneFault.errors(503, 0.2)
            .withLatency(Latency.tail(0.15, Duration.ofMillis(400)))
            .sparing("/health");
    addPhase(phases, timeline, phaseListener, duration, 0, "healthy", "every zone serves", z -> {});
    addPhase(
        phases,
        timeline,
        phaseListener,
        duration,
        1,
        "zone-refuse",
        HOME_ZONE + " refuses connections",
        z -> z.zone(HOME_ZONE).fail(ZoneFault.refuse()));
    addPhase(
        phases,
        timeline,
        phaseListener,
        duration,
        2,
        "zone-hang",
        HOME_ZONE + " accepts connections and never answers",
        z -> z.zone(HOME_ZONE).fail(ZoneFault.hang()));
    addPhase(
        phases,
        timeline,
        phaseListener,
        duration,
        3,
        "gray-zone",
        GRAY_ZONE + ": 20% 503s, 15% +400 ms; /health still passes",
        z -> z.zone(GRAY_ZONE).fail(gray));
    addPhase(
        phases,
        timeline,
        phaseListener,
        duration,
        4,
        "region-down",
        "all of " + HOME_REGION + " refuses connections",
        z -> z.region(HOME_REGION).fail(ZoneFault.refuse()));
    addPhase(
        phases, timeline, phaseListener, duration, 5, "fail-back", "everything healed", z -> {});
    DirectoryApi api = new DirectoryApi(seed);
    DirectoryApi.Mix mix = new DirectoryApi.Mix(api, seed);
    List<DrillEndpoint> endpoints = new ArrayList<>();
    zones.endpoints().forEach(e -> endpoints.add(new DrillEndpoint(e.url(), e.region(), e.zone())));
    return new Scenario(
        endpoints,
        HOME_REGION,
        HOME_ZONE,
        "/health",
        phases,
        mix::next,
        zones,
        timeline.build(),
        "embedded fake zones: us-east-1 (a, b, c) and us-west-2 (a, b), 2 endpoints each;"
            + " distance +1 ms to us-east-1b/c, +35 ms to us-west-2",
        phaseListener);
  }

  private static void addPhase(
      List<Phase> phases,
      Timeline.Builder timeline,
      PhaseHook phaseListener,
      Duration duration,
      int index,
      String name,
      String description,
      Consumer<FakeZones> onStart) {
    long total = duration.toMillis();
    Duration start = Duration.ofMillis(total * index / 6);
    Duration end = Duration.ofMillis(total * (index + 1) / 6);
    phases.add(new Phase(name, start, end, description));
    timeline.phase(
        name,
        start,
        end.minus(start),
        z -> {
          // Each phase sets the whole state: heal everything, then inject its own fault. A phase's
          // own end step would race with the next phase's start at the same offset (Timeline
          // runs same-offset steps in no guaranteed order), and could heal the next fault.
          z.heal();
          onStart.accept(z);
          phaseListener.listener.accept(name);
        },
        z -> {});
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
        new PhaseHook());
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

  @Override
  public void close() {
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
