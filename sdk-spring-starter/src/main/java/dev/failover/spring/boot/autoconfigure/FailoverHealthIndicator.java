package dev.failover.spring.boot.autoconfigure;

import dev.failover.FailoverClient;
import dev.failover.FailoverSnapshot;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

/**
 * Health of one failover client, as its routing sees it: UP while some endpoint takes calls, DOWN
 * when none does. Outside panic, UP while some endpoint in some tier is healthy. In panic (too few
 * endpoints healthy, or none), a client that fails open sends calls to every endpoint whatever its
 * health, so it is UP (the detail {@code routing} says so), and one that fails closed fails every
 * call with {@code NO_ENDPOINT}, so it is DOWN however many endpoints are healthy. Details: home,
 * panic, budget tokens, and per zone its tier, status (ACTIVE, EVACUATED with the reason, or
 * RAMPING) and endpoints with their state, latency, outstanding attempts and ejections. For a
 * client whose endpoints come from a registry, the state of its list (CURRENT, HELD, ...). Endpoint
 * URLs never carry credentials.
 */
final class FailoverHealthIndicator implements HealthIndicator {
  private final FailoverClient client;

  FailoverHealthIndicator(FailoverClient client) {
    this.client = client;
  }

  /** The detail {@code routing} of a client in panic that fails open. */
  static final String PANIC_FAIL_OPEN =
      "panic, fail open: health is ignored, every endpoint takes calls";

  /** The detail {@code routing} of a client in panic that fails closed. */
  static final String PANIC_FAIL_CLOSED =
      "panic, fail closed: every call fails with NO_ENDPOINT, healthy endpoints included";

  @Override
  public Health health() {
    boolean failOpen = client.settings().panicFailOpen();
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
    // What routing does: in panic, every endpoint takes calls (fail open) or none does.
    boolean takesCalls = snapshot.panic() ? failOpen : serving > 0;
    Health.Builder builder = takesCalls ? Health.up() : Health.down();
    builder
        .withDetail("home", snapshot.home().toString())
        .withDetail("serving", serving + "/" + total)
        .withDetail("panic", snapshot.panic());
    if (snapshot.panic()) {
      builder.withDetail("routing", failOpen ? PANIC_FAIL_OPEN : PANIC_FAIL_CLOSED);
    }
    builder
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
