package dev.failover.drill;

/** One endpoint the drill sends to: its base URL (no trailing slash) and where it runs. */
record DrillEndpoint(String url, String region, String zone) {}
