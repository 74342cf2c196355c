package dev.failover.drill;

import dev.failover.testkit.load.MachineLoad;
import java.time.Duration;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Everything a drill produced, for the reports.
 *
 * @param provenance the drill's build and the JVM that ran it
 * @param warmUp the unrecorded load before the drill's start
 * @param loadAtStart the machine's load before the fake zones and clients started
 * @param loadAtEnd the machine's load when the load had ended
 * @param generator how late the load generator itself sent the calls
 * @param plannedCalls the calls the load generator was to send in the phases (not the tail's): more
 *     than {@code generator.total().calls()} if the load was stopped before its end
 * @param expectations what the drill expected of the clients in some phases, and what it saw
 * @param tail the fail-back tail after the last phase, or null when there is no fail-back to watch
 *     (real endpoints, or no sdk); with {@code --tail 0} present, with no second
 */
record DrillResult(
    Options options,
    Provenance provenance,
    String mode,
    String description,
    String homeRegion,
    String homeZone,
    List<String> zones,
    List<Phase> phases,
    List<Stats> clients,
    List<EventLog.Entry> events,
    Duration warmUp,
    MachineLoad loadAtStart,
    MachineLoad loadAtEnd,
    GeneratorLag generator,
    long plannedCalls,
    List<Expectation> expectations,
    @Nullable FailBackTail tail) {

  /** The phases in which the drill saturates its own host, by name, such as {@code client-busy}. */
  String saturatedPhases() {
    return String.join(
        ", ", phases.stream().filter(Phase::saturatesClient).map(Phase::name).toList());
  }
}
