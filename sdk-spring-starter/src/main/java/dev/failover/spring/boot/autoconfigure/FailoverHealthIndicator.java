package dev.failover.spring.boot.autoconfigure;

import dev.failover.FailoverClient;
import dev.failover.FailoverSnapshot;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

/**
 * Health of one failover client: UP while some endpoint in some tier takes traffic, DOWN when none
 * does. Details: home, panic, budget tokens, and per zone its tier, status (ACTIVE, EVACUATED with
 * the reason, or RAMPING) and endpoints with their state, latency, outstanding attempts and
 * ejections. For a client whose endpoints come from a registry, the state of its list (CURRENT,
 * HELD, ...). Endpoint URLs never carry credentials.
 */
final class FailoverHealthIndicator implements HealthIndicator {
  private final FailoverClient client;

  FailoverHealthIndicator(FailoverClient client) {
    this.client = client;
  }

  @Override
  public Health health() {
    FailoverSnapshot snapshot = client.snapshot();
    long serving = 0;
    long total = 0;
    Map<String, Object> zones = new LinkedHashMap<>();
    for (FailoverSnapshot.Zone zone : snapshot.zones()) {
      Map<String, Object> endpoints = new LinkedHashMap<>();
      for (FailoverSnapshot.EndpointState e : zone.endpoints()) {
        Map<String, Object> detail = new LinkedHashMap<>();
        detail.put("state", e.health().name());
        detail.put("latencyMillis", millis(e.latency()));
        detail.put("outstanding", e.outstanding());
        detail.put("ejections", e.ejections());
        endpoints.put(e.endpoint().address(), detail);
        total++;
      }
      serving += zone.healthyEndpoints();
      Map<String, Object> z = new LinkedHashMap<>();
      z.put("tier", zone.tier());
      z.put("status", zone.status().name());
      if (!zone.reason().isEmpty()) {
        z.put("reason", zone.reason());
      }
      z.put("serving", zone.healthyEndpoints() + "/" + zone.endpoints().size());
      z.put("endpoints", endpoints);
      zones.put(zone.locality().toString(), z);
    }
    Health.Builder builder = serving > 0 ? Health.up() : Health.down();
    builder
        .withDetail("home", snapshot.home().toString())
        .withDetail("serving", serving + "/" + total)
        .withDetail("panic", snapshot.panic())
        .withDetail("clientStalled", snapshot.clientStalled())
        .withDetail("budgetTokens", Math.round(snapshot.budgetTokens() * 100) / 100.0);
    FailoverSnapshot.Discovery discovery = snapshot.discovery();
    if (discovery.status() != FailoverSnapshot.ListStatus.STATIC) {
      // A held or stale list keeps the client UP: it still serves from its last good list.
      builder.withDetail("discovery", FailoverEndpoint.discovery(discovery));
    }
    return builder.withDetail("zones", zones).build();
  }

  static double millis(java.time.Duration d) {
    return Math.round(d.toNanos() / 10_000.0) / 100.0;
  }
}
