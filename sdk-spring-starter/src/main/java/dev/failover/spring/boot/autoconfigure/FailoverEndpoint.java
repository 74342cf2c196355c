package dev.failover.spring.boot.autoconfigure;

import dev.failover.FailoverClient;
import dev.failover.FailoverSnapshot;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.boot.actuate.endpoint.Access;
import org.springframework.boot.actuate.endpoint.InvalidEndpointRequestException;
import org.springframework.boot.actuate.endpoint.OperationResponseBody;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.Selector;
import org.springframework.boot.actuate.endpoint.annotation.WriteOperation;
import org.springframework.boot.convert.DurationStyle;

/**
 * The {@code failover} Actuator endpoint: every failover client with its hedge delay and counters,
 * where its endpoints come from (and whether the registry's list is current or held), its zones in
 * routing order with their status, and their endpoints, with live state. {@code GET
 * /actuator/failover} lists every client; {@code GET /actuator/failover/{client}} one. Expose it
 * with {@code management.endpoints.web.exposure.include=health,failover}.
 *
 * <p>A client configured under {@code failover.clients.<name>} is listed under {@code <name>}: its
 * bean {@code <name>FailoverClient}, the client {@code @Qualifier("<name>")} injects. Any other
 * {@link FailoverClient} bean, such as a variant built from a configured client with {@code
 * newBuilder()}, is listed under its bean name (see {@link NamedClients}).
 *
 * <p>Its default access is read-only: exposing it does not allow its write operation (a zonal
 * shift), which needs {@code management.endpoint.failover.access=unrestricted} set explicitly (see
 * {@link FailoverEndpointAutoConfiguration}).
 */
@Endpoint(id = "failover", defaultAccess = Access.READ_ONLY)
public class FailoverEndpoint {
  /** Most characters {@code requestedBy} may have. */
  static final int MAX_REQUESTED_BY = 200;

  /** A duration without a unit, which Spring's simple style takes as milliseconds. */
  private static final Pattern BARE_NUMBER = Pattern.compile("[+-]?\\d+");

  private final NamedClients clients;

  /**
   * Creates the endpoint.
   *
   * @param beans where the failover clients are found: the configured clients by their bean names
   *     {@code <name>FailoverClient}, and every other FailoverClient bean
   */
  public FailoverEndpoint(ListableBeanFactory beans) {
    this.clients = new NamedClients(beans);
  }

  /**
   * Describes every client.
   *
   * @return the clients by name
   */
  @ReadOperation
  public ClientsDescriptor clients() {
    Map<String, ClientDescriptor> all = new LinkedHashMap<>();
    clients.all().forEach((name, client) -> all.put(name, describe(client)));
    return new ClientsDescriptor(all);
  }

  /**
   * Describes one client.
   *
   * @param name the client's name: its name under {@code failover.clients}, or the bean name of
   *     another FailoverClient bean
   * @return the client, or null (404) if there is none of that name
   */
  @ReadOperation
  public @Nullable ClientDescriptor client(@Selector String name) {
    FailoverClient client = clients.get(name);
    return client == null ? null : describe(client);
  }

  /**
   * Shifts traffic away from a zone of one client until an expiry, or ends a shift: {@code POST
   * /actuator/failover/{client}} with a JSON body {@code {"zone": "us-east-1a", "duration": "2h",
   * "requestedBy": "alice"}}, or {@code {"zone": "us-east-1a", "cancel": true, "requestedBy":
   * "alice"}}. The endpoint's default access is read-only: the write operation needs {@code
   * management.endpoint.failover.access=unrestricted}; secure it like any other write endpoint.
   *
   * @param name the client's name, as {@link #client(String)} takes it
   * @param zone the zone's name
   * @param duration how long the shift lasts (1s to 3d), with its unit, such as {@code 30m}, {@code
   *     2h} or {@code PT2H}; ignored to cancel
   * @param requestedBy who asks, for the log line, the event and the zone's reason: 1 to 200
   *     characters, not blank, no control characters (line breaks, tabs)
   * @param cancel true to end the zone's shift instead
   * @return the client, with the zone's new status
   * @throws InvalidEndpointRequestException (400) if there is no client of that name, {@code
   *     requestedBy} is not valid, the duration is missing, has no unit or is not valid, the client
   *     has no such zone, or the shift would leave no zone serving
   */
  @WriteOperation
  public ClientDescriptor shift(
      @Selector String name,
      String zone,
      @Nullable String duration,
      String requestedBy,
      @Nullable Boolean cancel) {
    Map<String, FailoverClient> all = clients.all();
    FailoverClient client = all.get(name);
    if (client == null) {
      throw invalid("no failover client '" + shown(name) + "'; clients are " + all.keySet(), null);
    }
    String who = "actuator:" + requester(requestedBy);
    try {
      if (Boolean.TRUE.equals(cancel)) {
        client.cancelShift(zone, who);
      } else {
        client.shiftAway(zone, parse(duration), who);
      }
    } catch (IllegalArgumentException | IllegalStateException e) {
      // No such zone, a duration out of range, or no other zone left to serve: the request's fault.
      throw invalid(String.valueOf(e.getMessage()), e);
    }
    return describe(client);
  }

  /**
   * {@code requestedBy} checked: it goes into a WARN log line, an event and the zone's reason, so
   * it must name someone, and may not forge log lines or flood them.
   */
  private static String requester(String requestedBy) {
    if (requestedBy.isBlank()) {
      throw invalid(
          "requestedBy must name who asks, such as alice or CHG-1234, but was '"
              + shown(requestedBy)
              + "'",
          null);
    }
    if (requestedBy.codePoints().anyMatch(FailoverEndpoint::isControl)) {
      throw invalid(
          "requestedBy must not contain control characters such as line breaks or tabs but was '"
              + shown(requestedBy)
              + "'",
          null);
    }
    if (requestedBy.length() > MAX_REQUESTED_BY) {
      throw invalid(
          "requestedBy must have at most "
              + MAX_REQUESTED_BY
              + " characters but had "
              + requestedBy.length()
              + ": '"
              + shown(requestedBy)
              + "'",
          null);
    }
    return requestedBy;
  }

  private static boolean isControl(int c) {
    return Character.isISOControl(c)
        || c == 0x2028 // line separator
        || c == 0x2029 // paragraph separator
        // Format characters: a right-to-left override (U+202E) or zero-width ones would make the
        // WARN line and the zone's reason read other than they are.
        || Character.getType(c) == Character.FORMAT;
  }

  /**
   * A value of a request, to quote in an error: line breaks and tabs as Java writes them, other
   * control characters as Java's unicode escapes, and cut after {@link #MAX_REQUESTED_BY}
   * characters.
   */
  static String shown(String value) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < value.length(); i++) {
      if (i == MAX_REQUESTED_BY) {
        return out.append("...").toString();
      }
      char c = value.charAt(i);
      switch (c) {
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (isControl(c)) {
            out.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    return out.toString();
  }

  private static Duration parse(@Nullable String duration) {
    if (duration == null) {
      throw invalid("duration is required to shift, such as 30m or 2h", null);
    }
    if (BARE_NUMBER.matcher(duration.strip()).matches()) {
      // Spring's simple style would take it as milliseconds: 7200 would shift for 7.2 s.
      throw invalid(
          "duration must have a unit, such as 30m or 2h, but was '" + shown(duration) + "'", null);
    }
    try {
      return DurationStyle.detectAndParse(duration);
    } catch (IllegalArgumentException e) {
      throw invalid(
          "duration must be a duration such as 30m or 2h but was '" + shown(duration) + "'", e);
    }
  }

  /** A bad request: Actuator answers 400 with the reason. */
  private static InvalidEndpointRequestException invalid(String reason, @Nullable Throwable cause) {
    return cause == null
        ? new InvalidEndpointRequestException(reason, reason)
        : new InvalidEndpointRequestException(reason, reason, cause);
  }

  static ClientDescriptor describe(FailoverClient client) {
    FailoverSnapshot s = client.snapshot();
    List<ZoneDescriptor> zones = new ArrayList<>();
    for (FailoverSnapshot.Zone zone : s.zones()) {
      List<EndpointDescriptor> endpoints = new ArrayList<>();
      for (FailoverSnapshot.EndpointState e : zone.endpoints()) {
        endpoints.add(
            new EndpointDescriptor(
                e.endpoint().address(),
                e.endpoint().weight(),
                e.health().name(),
                e.breakerState(),
                FailoverHealthIndicator.millis(e.latency()),
                e.outstanding(),
                e.ejections(),
                e.failureRatePercent()));
      }
      zones.add(
          new ZoneDescriptor(
              zone.locality().region(),
              zone.locality().zone(),
              zone.tier(),
              zone.status().name(),
              zone.reason(),
              zone.evacuations(),
              zone.errorRatePercent(),
              FailoverHealthIndicator.millis(zone.meanLatency()),
              zone.healthyEndpoints(),
              endpoints));
    }
    FailoverSnapshot.Counters c = s.counters();
    Duration hedgeDelay = s.hedgeDelay();
    return new ClientDescriptor(
        s.service(),
        s.home().region(),
        s.home().zone(),
        s.takenAt().toString(),
        s.panic(),
        s.clientStalled(),
        s.clientStalls(),
        Math.round(s.budgetTokens() * 100) / 100.0,
        hedgeDelay == null ? null : FailoverHealthIndicator.millis(hedgeDelay),
        new CountersDescriptor(
            c.calls(),
            c.attempts(),
            c.retries(),
            c.hedgesSent(),
            c.hedgesWon(),
            c.hedgesCancelled(),
            c.hedgesRefused(),
            c.budgetExhausted(),
            c.staleServed(),
            c.failedCalls()),
        discovery(s.discovery()),
        zones);
  }

  static DiscoveryDescriptor discovery(FailoverSnapshot.Discovery d) {
    Instant heldSince = d.heldSince();
    return new DiscoveryDescriptor(
        d.source(),
        d.status().name(),
        d.reason(),
        d.lastGoodList().toString(),
        heldSince == null ? null : heldSince.toString(),
        d.endpoints(),
        d.updates(),
        d.held());
  }

  /**
   * Every failover client.
   *
   * @param clients the clients by name
   */
  public record ClientsDescriptor(Map<String, ClientDescriptor> clients)
      implements OperationResponseBody {}

  /**
   * One failover client.
   *
   * @param service the service name, the host requests use
   * @param homeRegion the region the application runs in
   * @param homeZone the zone the application runs in
   * @param takenAt when the state was read
   * @param panic whether routing ignores health because too few endpoints are healthy
   * @param clientStalled whether the client itself is the slow party now (no timeout is charged)
   * @param clientStalls times the client found itself stalled since it was built
   * @param budgetTokens retries the retry budget allows now
   * @param hedgeDelayMillis the hedge delay in force in milliseconds, or null when hedging is off
   * @param counters totals since the client was built
   * @param discovery where the endpoints come from and how current the list in use is
   * @param zones every zone, in routing order
   */
  public record ClientDescriptor(
      String service,
      String homeRegion,
      String homeZone,
      String takenAt,
      boolean panic,
      boolean clientStalled,
      long clientStalls,
      double budgetTokens,
      @Nullable Double hedgeDelayMillis,
      CountersDescriptor counters,
      DiscoveryDescriptor discovery,
      List<ZoneDescriptor> zones)
      implements OperationResponseBody {}

  /**
   * Where a client's endpoints come from, and how current the list in use is.
   *
   * @param source {@code static} for endpoints from properties, else the source, such as {@code
   *     spring-cloud-discovery directory-service}
   * @param status STATIC, FALLBACK (no list from the source yet), CURRENT, HELD (the source's last
   *     answer was not applied) or STALE (held for longer than the policy's max staleness)
   * @param reason why the list is held or stale, or null
   * @param lastGoodList when the list in use was applied
   * @param heldSince when the source's answers stopped being applied, or null
   * @param endpoints endpoints in the list in use
   * @param updates lists applied since the client was built
   * @param held answers not applied: failures, empty lists, lists that removed too many endpoints
   */
  public record DiscoveryDescriptor(
      String source,
      String status,
      @Nullable String reason,
      String lastGoodList,
      @Nullable String heldSince,
      int endpoints,
      long updates,
      long held) {}

  /**
   * Totals of one client since it was built.
   *
   * @param calls calls started
   * @param attempts attempts sent: first attempts, retries, hedges and zone probes
   * @param retries retries sent
   * @param hedgesSent hedges sent
   * @param hedgesWon hedges whose response won
   * @param hedgesCancelled attempts cancelled because another attempt of their call won
   * @param hedgesRefused hedges not sent because a budget was empty
   * @param budgetExhausted retries not sent because the retry budget was empty
   * @param staleServed stale responses served
   * @param failedCalls calls that ended with an exception
   */
  public record CountersDescriptor(
      long calls,
      long attempts,
      long retries,
      long hedgesSent,
      long hedgesWon,
      long hedgesCancelled,
      long hedgesRefused,
      long budgetExhausted,
      long staleServed,
      long failedCalls) {}

  /**
   * One zone.
   *
   * @param region the region
   * @param zone the zone
   * @param tier 0 for the home zone, 1 for the rest of the home region, 2 and up for other regions
   * @param status ACTIVE, EVACUATED (no first attempts), RAMPING (back, its share ramping up) or
   *     SHIFTED (an operator's zonal shift: no first attempts until it ends)
   * @param reason why it is evacuated, or empty
   * @param evacuations times it was evacuated since the client started
   * @param errorRatePercent its attempts' error rate over the zone window
   * @param meanLatencyMillis its successful attempts' mean latency over the zone window, in
   *     milliseconds
   * @param serving how many of its endpoints take traffic
   * @param endpoints its endpoints
   */
  public record ZoneDescriptor(
      String region,
      String zone,
      int tier,
      String status,
      String reason,
      long evacuations,
      float errorRatePercent,
      double meanLatencyMillis,
      long serving,
      List<EndpointDescriptor> endpoints) {}

  /**
   * One endpoint.
   *
   * @param url its base URL (never with credentials)
   * @param weight its weight inside its zone
   * @param state HEALTHY, PROBING, EJECTED, DOWN or HELD_OFF
   * @param breaker its circuit breaker's state
   * @param latencyMillis its Peak-EWMA latency estimate in milliseconds
   * @param outstanding attempts in flight to it
   * @param ejections times it was ejected since the client started
   * @param failureRatePercent its breaker's failure rate, or -1 with too few calls
   */
  public record EndpointDescriptor(
      String url,
      int weight,
      String state,
      String breaker,
      double latencyMillis,
      int outstanding,
      long ejections,
      float failureRatePercent) {}
}
