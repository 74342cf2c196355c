package dev.failover.drill;

import java.util.List;

/** Everything a drill produced, for the reports. */
record DrillResult(
    Options options,
    String mode,
    String description,
    String homeRegion,
    String homeZone,
    List<String> zones,
    List<Phase> phases,
    List<Stats> clients,
    List<EventLog.Entry> events) {}
