package dev.failover.spring.boot.autoconfigure;

import dev.failover.HedgePolicy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.util.unit.DataSize;

/**
 * Configuration properties of the failover clients, under {@code failover}.
 *
 * <p>Each client under {@code failover.clients.<name>} gets each setting from the first of these
 * that sets it: every {@link FailoverClientCustomizer} bean (the last in order wins), {@code
 * failover.clients.<name>}, the shared configuration its {@code base-config} names ({@code
 * failover.configs.<base-config>}), {@code failover.configs.default}, then {@code
 * failover.defaults}. A setting left unset everywhere keeps the SDK's default, documented on {@link
 * dev.failover.FailoverClient.Builder}.
 *
 * <pre>{@code
 * failover:
 *   home: { region: us-east-1, zone: us-east-1a }
 *   defaults:
 *     deadline: 2s
 *   clients:
 *     directory:
 *       endpoints:
 *         - { url: "https://dir-a.internal:8443", region: us-east-1, zone: us-east-1a }
 *         - { url: "https://dir-w.internal:8443", region: us-west-2, zone: us-west-2a }
 *       health: { path: /health, interval: 2s }
 * }</pre>
 */
@ConfigurationProperties("failover")
public class FailoverProperties {
  /** Creates the properties with their defaults; Spring binds {@code failover.*} onto them. */
  public FailoverProperties() {}

  /** Whether to create failover clients, their RestClients and their Actuator and metrics parts. */
  private boolean enabled = true;

  /**
   * Whether to start when a key under failover binds to no setting (misspelt, or from a newer
   * version of the starter), logging a warning for each such key. When false, such a key fails
   * start-up, naming the nearest valid key.
   */
  private boolean ignoreUnknownKeys;

  /** Where this application runs: sets the routing order of every client. */
  private final Home home = new Home();

  /** Settings of every client that the client does not set itself. */
  private final Settings defaults = new Settings();

  /**
   * Shared configurations by name, each with the keys of failover.defaults: a client takes the one
   * its base-config names, under its own settings. The configuration named default applies to every
   * client, under its base-config and over failover.defaults.
   */
  private final Map<String, Settings> configs = new LinkedHashMap<>();

  /**
   * Failover clients by name. The name is the host that requests use, as in
   * http://directory/users/42, and names the beans: <name>FailoverClient and <name>RestClient. Each
   * client takes the same keys as failover.defaults, with the same defaults, plus endpoints (each
   * with url, region, zone and weight), discovery.service-id (its endpoints from a Spring Cloud
   * DiscoveryClient), zonal-shifts and base-config (a shared configuration of failover.configs).
   */
  private final Map<String, Client> clients = new LinkedHashMap<>();

  /**
   * Whether failover clients are created.
   *
   * @return true unless turned off
   */
  public boolean isEnabled() {
    return enabled;
  }

  /**
   * Sets whether failover clients are created.
   *
   * @param enabled false to create none
   */
  public void setEnabled(boolean enabled) {
    this.enabled = enabled;
  }

  /**
   * Whether a key that binds to no setting only logs a warning.
   *
   * @return false (the default) when such a key fails start-up
   */
  public boolean isIgnoreUnknownKeys() {
    return ignoreUnknownKeys;
  }

  /**
   * Sets whether a key that binds to no setting only logs a warning.
   *
   * @param ignoreUnknownKeys true to start anyway, with a warning for each such key
   */
  public void setIgnoreUnknownKeys(boolean ignoreUnknownKeys) {
    this.ignoreUnknownKeys = ignoreUnknownKeys;
  }

  /**
   * Returns where this application runs.
   *
   * @return the home settings
   */
  public Home getHome() {
    return home;
  }

  /**
   * Returns the settings shared by every client.
   *
   * @return the defaults
   */
  public Settings getDefaults() {
    return defaults;
  }

  /**
   * Returns the shared configurations by name.
   *
   * @return a mutable map
   */
  public Map<String, Settings> getConfigs() {
    return configs;
  }

  /**
   * Returns the clients by name, in the order configured.
   *
   * @return a mutable map
   */
  public Map<String, Client> getClients() {
    return clients;
  }

  /** Where this application runs. */
  public static class Home {
    /** Creates these properties with their defaults (every key unset). */
    public Home() {}

    /** Region this application runs in, such as us-east-1. Required when a client is configured. */
    private @Nullable String region;

    /**
     * Availability zone this application runs in, such as us-east-1a. Required when a client is
     * configured; calls prefer endpoints in this zone, then in its region.
     */
    private @Nullable String zone;

    /**
     * Returns the home region.
     *
     * @return the region, or null if unset
     */
    public @Nullable String getRegion() {
      return region;
    }

    /**
     * Sets the home region.
     *
     * @param region the region
     */
    public void setRegion(@Nullable String region) {
      this.region = region;
    }

    /**
     * Returns the home zone.
     *
     * @return the zone, or null if unset
     */
    public @Nullable String getZone() {
      return zone;
    }

    /**
     * Sets the home zone.
     *
     * @param zone the zone
     */
    public void setZone(@Nullable String zone) {
      this.zone = zone;
    }
  }

  /**
   * The settings a client can have; every one is optional and unset (null) unless configured. Used
   * by {@code failover.defaults} and by each {@code failover.clients.<name>}.
   */
  public static class Settings {

    /**
     * Total time a call may take: every attempt, backoff and wait, 1ms to 24h. When unset, 10s. A
     * request can replace it, with a shorter or a longer one, through a RequestOptions attribute.
     */
    private @Nullable Duration deadline;

    /**
     * Time one attempt may take, never more than what remains of the deadline. When unset, the
     * deadline divided by retry.max-attempts.
     */
    private @Nullable Duration attemptTimeout;

    /** Least time that must remain of the deadline to start another attempt. When unset, 25ms. */
    private @Nullable Duration minAttemptTime;

    /**
     * Most attempts in flight at once, across the client and to each endpoint host; health probes
     * run beside them, never in their slots, at most a quarter of it at once. When unset, 256.
     */
    private @Nullable Integer maxRequests;

    /**
     * Where a call's first attempt runs when the application calls execute(): true on the caller's
     * own thread, like a bare OkHttp call (no thread hand-off when it succeeds), false always on
     * the client's dispatcher while the caller waits. Retries, hedges, probes and enqueue() always
     * use the dispatcher. When unset, the client decides per call: the caller's thread only where
     * nothing of the application's runs on it before execute() returns and OkHttp's cancel ends
     * every step, so that no caller is held past its deadline; with the observation listener (an
     * ObservationRegistry bean), an OkHttpClient bean with interceptors, max-requests other than
     * 256, or HTTPS with HTTP/2 on offer, first attempts are handed off. True trades that guarantee
     * for speed: code of the application's that blocks on the attempt's path (an interceptor, an
     * observation handler) holds the caller past the deadline, as it would a bare OkHttp call.
     */
    private @Nullable Boolean callerRunsFirstAttempt;

    /**
     * Time to open a connection to an endpoint (OkHttp's connect timeout). When unset, the
     * OkHttpClient's own: 10s for a new one. The attempt timeout bounds the whole attempt, the
     * connection included, so a connect timeout only matters when it is shorter: set it well below
     * the attempt timeout to give up quickly on an endpoint that does not accept connections (a
     * dead host, a black-holed zone) and leave time for another attempt.
     */
    private @Nullable Duration connectTimeout;

    /**
     * Response statuses after which another attempt may follow, each from 400 to 599; an empty
     * value retries no status. When unset, 429, 502, 503 and 504. Add 500 for a service whose 500s
     * are transient; remove 429 to hand throttling to the caller. Only idempotent requests are sent
     * again once they reached a server.
     */
    private @Nullable List<Integer> retryableStatuses;

    /**
     * Regions tried after the home region, nearest first. Regions not listed follow in the order
     * their first endpoint is listed.
     */
    private @Nullable List<String> regionOrder;

    /** Retries: how many attempts and how far apart. */
    private final Retry retry = new Retry();

    /** Retry budget shared by all calls of a client, so an outage never multiplies load. */
    private final Budget budget = new Budget();

    /** Active health checks: an HTTP GET to every endpoint on a schedule. */
    private final Health health = new Health();

    /** Passive health: when real traffic ejects an endpoint, and for how long. */
    private final Ejection ejection = new Ejection();

    /** Panic: what happens when too few endpoints are healthy. */
    private final Panic panic = new Panic();

    /** Hedged requests: a second attempt elsewhere when the first is slow. */
    private final Hedge hedge = new Hedge();

    /** Stale-if-error: recent GET responses served when every attempt fails. */
    private final Stale stale = new Stale();

    /** Zones as failure domains: when a whole zone is evacuated, and how it returns. */
    private final Zones zones = new Zones();

    /**
     * Endpoints from a Spring Cloud DiscoveryClient: how often to ask it, how to read its
     * instances, and which lists to refuse. Used by a client that sets discovery.service-id.
     */
    private final Discovery discovery;

    /** Creates empty settings. */
    public Settings() {
      this(new Discovery());
    }

    Settings(Discovery discovery) {
      this.discovery = discovery;
    }

    /**
     * Returns the total deadline of a call.
     *
     * @return the deadline, or null if unset
     */
    public @Nullable Duration getDeadline() {
      return deadline;
    }

    /**
     * Sets the total deadline of a call.
     *
     * @param deadline a positive duration
     */
    public void setDeadline(@Nullable Duration deadline) {
      this.deadline = deadline;
    }

    /**
     * Returns the time one attempt may take.
     *
     * @return the timeout, or null if unset
     */
    public @Nullable Duration getAttemptTimeout() {
      return attemptTimeout;
    }

    /**
     * Sets the time one attempt may take.
     *
     * @param attemptTimeout a positive duration, at most the deadline
     */
    public void setAttemptTimeout(@Nullable Duration attemptTimeout) {
      this.attemptTimeout = attemptTimeout;
    }

    /**
     * Returns the least time that must remain to start an attempt.
     *
     * @return the time, or null if unset
     */
    public @Nullable Duration getMinAttemptTime() {
      return minAttemptTime;
    }

    /**
     * Sets the least time that must remain to start an attempt.
     *
     * @param minAttemptTime zero or positive
     */
    public void setMinAttemptTime(@Nullable Duration minAttemptTime) {
      this.minAttemptTime = minAttemptTime;
    }

    /**
     * Returns the time to open a connection.
     *
     * @return the timeout, or null if unset
     */
    public @Nullable Duration getConnectTimeout() {
      return connectTimeout;
    }

    /**
     * Sets the time to open a connection.
     *
     * @param connectTimeout a positive duration
     */
    public void setConnectTimeout(@Nullable Duration connectTimeout) {
      this.connectTimeout = connectTimeout;
    }

    /**
     * Returns the statuses that another attempt may follow.
     *
     * @return the statuses, or null if unset
     */
    public @Nullable List<Integer> getRetryableStatuses() {
      return retryableStatuses;
    }

    /**
     * Sets the statuses that another attempt may follow.
     *
     * @param retryableStatuses HTTP statuses from 400 to 599
     */
    public void setRetryableStatuses(@Nullable List<Integer> retryableStatuses) {
      this.retryableStatuses = retryableStatuses;
    }

    /**
     * Returns the most attempts in flight at once.
     *
     * @return the limit, or null if unset
     */
    public @Nullable Integer getMaxRequests() {
      return maxRequests;
    }

    /**
     * Sets the most attempts in flight at once.
     *
     * @param maxRequests at least 1
     */
    public void setMaxRequests(@Nullable Integer maxRequests) {
      this.maxRequests = maxRequests;
    }

    /**
     * Returns where first attempts of {@code execute()} run.
     *
     * @return true for the caller's thread, false for the dispatcher, or null if unset
     */
    public @Nullable Boolean getCallerRunsFirstAttempt() {
      return callerRunsFirstAttempt;
    }

    /**
     * Sets where first attempts of {@code execute()} run.
     *
     * @param callerRunsFirstAttempt true for the caller's thread, false for the dispatcher, null to
     *     let the client decide per call
     */
    public void setCallerRunsFirstAttempt(@Nullable Boolean callerRunsFirstAttempt) {
      this.callerRunsFirstAttempt = callerRunsFirstAttempt;
    }

    /**
     * Returns the regions tried after the home region.
     *
     * @return region names, or null if unset
     */
    public @Nullable List<String> getRegionOrder() {
      return regionOrder;
    }

    /**
     * Sets the regions tried after the home region.
     *
     * @param regionOrder region names, nearest first
     */
    public void setRegionOrder(@Nullable List<String> regionOrder) {
      this.regionOrder = regionOrder;
    }

    /**
     * Returns the retry settings.
     *
     * @return the retry settings
     */
    public Retry getRetry() {
      return retry;
    }

    /**
     * Returns the retry budget settings.
     *
     * @return the budget settings
     */
    public Budget getBudget() {
      return budget;
    }

    /**
     * Returns the active health check settings.
     *
     * @return the health settings
     */
    public Health getHealth() {
      return health;
    }

    /**
     * Returns the passive health settings.
     *
     * @return the ejection settings
     */
    public Ejection getEjection() {
      return ejection;
    }

    /**
     * Returns the panic settings.
     *
     * @return the panic settings
     */
    public Panic getPanic() {
      return panic;
    }

    /**
     * Returns the hedging settings.
     *
     * @return the hedge settings
     */
    public Hedge getHedge() {
      return hedge;
    }

    /**
     * Returns the stale-if-error settings.
     *
     * @return the stale settings
     */
    public Stale getStale() {
      return stale;
    }

    /**
     * Returns the zone evacuation settings.
     *
     * @return the zone settings
     */
    public Zones getZones() {
      return zones;
    }

    /**
     * Returns the settings of endpoints from a service registry.
     *
     * @return the discovery settings
     */
    public Discovery getDiscovery() {
      return discovery;
    }
  }

  /** One client: the shared settings plus its endpoints. */
  public static class Client extends Settings {

    /**
     * Name of the shared configuration under failover.configs whose settings this client takes
     * where it sets none itself. When unset, failover.configs.default if there is one.
     */
    private @Nullable String baseConfig;

    /**
     * Endpoints of the service: base URL, region, zone and optional weight. At least one is
     * required, unless discovery.service-id is set; then they are the fallback, used until the
     * registry's first list and when it cannot be read at start.
     */
    private List<Endpoint> endpoints = new ArrayList<>();

    /** Creates a client with no settings. */
    public Client() {
      super(new ClientDiscovery());
    }

    /**
     * Returns the name of the shared configuration this client builds on.
     *
     * @return the name, or null if unset
     */
    public @Nullable String getBaseConfig() {
      return baseConfig;
    }

    /**
     * Sets the name of the shared configuration this client builds on.
     *
     * @param baseConfig a key of failover.configs
     */
    public void setBaseConfig(@Nullable String baseConfig) {
      this.baseConfig = baseConfig;
    }

    /**
     * Returns the discovery settings, with the client's service id.
     *
     * @return the discovery settings
     */
    @Override
    public ClientDiscovery getDiscovery() {
      return (ClientDiscovery) super.getDiscovery();
    }

    /**
     * Planned zonal shifts: zone name to the instant (ISO-8601, such as 2026-12-03T06:00:00Z) until
     * which the zone gets no first attempts, at most 3 days after start-up. A shift whose instant
     * has passed is ignored.
     */
    private Map<String, java.time.Instant> zonalShifts = new java.util.LinkedHashMap<>();

    /**
     * Returns the planned zonal shifts.
     *
     * @return zone name to the end of its shift
     */
    public Map<String, java.time.Instant> getZonalShifts() {
      return zonalShifts;
    }

    /**
     * Sets the planned zonal shifts.
     *
     * @param zonalShifts zone name to the end of its shift
     */
    public void setZonalShifts(Map<String, java.time.Instant> zonalShifts) {
      this.zonalShifts = zonalShifts;
    }

    /**
     * Returns the endpoints.
     *
     * @return a mutable list
     */
    public List<Endpoint> getEndpoints() {
      return endpoints;
    }

    /**
     * Sets the endpoints.
     *
     * @param endpoints the endpoints
     */
    public void setEndpoints(List<Endpoint> endpoints) {
      this.endpoints = endpoints;
    }
  }

  /** One endpoint of a client. */
  public static class Endpoint {
    /** Creates these properties with their defaults (every key unset). */
    public Endpoint() {}

    /**
     * Base URL, http or https, such as https://dir-a.internal:8443 or https://dir-a.internal/api.
     * Never with credentials, a query or a fragment.
     */
    private @Nullable String url;

    /** Region of the endpoint, such as us-east-1. */
    private @Nullable String region;

    /** Availability zone of the endpoint, such as us-east-1a. */
    private @Nullable String zone;

    /** Relative share of traffic inside its zone, 1 to 10000. When unset, 100. */
    private @Nullable Integer weight;

    /**
     * Returns the base URL.
     *
     * @return the URL, or null if unset
     */
    public @Nullable String getUrl() {
      return url;
    }

    /**
     * Sets the base URL.
     *
     * @param url the URL
     */
    public void setUrl(@Nullable String url) {
      this.url = url;
    }

    /**
     * Returns the region.
     *
     * @return the region, or null if unset
     */
    public @Nullable String getRegion() {
      return region;
    }

    /**
     * Sets the region.
     *
     * @param region the region
     */
    public void setRegion(@Nullable String region) {
      this.region = region;
    }

    /**
     * Returns the zone.
     *
     * @return the zone, or null if unset
     */
    public @Nullable String getZone() {
      return zone;
    }

    /**
     * Sets the zone.
     *
     * @param zone the zone
     */
    public void setZone(@Nullable String zone) {
      this.zone = zone;
    }

    /**
     * Returns the weight.
     *
     * @return the weight, or null if unset
     */
    public @Nullable Integer getWeight() {
      return weight;
    }

    /**
     * Sets the weight.
     *
     * @param weight 1 to 10000
     */
    public void setWeight(@Nullable Integer weight) {
      this.weight = weight;
    }
  }

  /** Retries: how many attempts and how far apart. */
  public static class Retry {
    /** Creates these properties with their defaults (every key unset). */
    public Retry() {}

    /**
     * Most attempts one call makes: the first, its retries and its hedges, 1 to 10; 1 turns retries
     * and hedges off. When unset, 3.
     */
    private @Nullable Integer maxAttempts;

    /**
     * Bound of the first retry's random backoff (full jitter); each retry doubles it up to
     * backoff-cap. When unset, 25ms.
     */
    private @Nullable Duration backoffBase;

    /** Largest backoff bound. When unset, 250ms. */
    private @Nullable Duration backoffCap;

    /**
     * Longest pause a Retry-After header can impose on the endpoint that sent it. When unset, 30s.
     */
    private @Nullable Duration maxRetryAfter;

    /**
     * Returns the most attempts per call.
     *
     * @return the count, or null if unset
     */
    public @Nullable Integer getMaxAttempts() {
      return maxAttempts;
    }

    /**
     * Sets the most attempts per call.
     *
     * @param maxAttempts 1 to 10
     */
    public void setMaxAttempts(@Nullable Integer maxAttempts) {
      this.maxAttempts = maxAttempts;
    }

    /**
     * Returns the first retry's backoff bound.
     *
     * @return the bound, or null if unset
     */
    public @Nullable Duration getBackoffBase() {
      return backoffBase;
    }

    /**
     * Sets the first retry's backoff bound.
     *
     * @param backoffBase zero or positive
     */
    public void setBackoffBase(@Nullable Duration backoffBase) {
      this.backoffBase = backoffBase;
    }

    /**
     * Returns the largest backoff bound.
     *
     * @return the cap, or null if unset
     */
    public @Nullable Duration getBackoffCap() {
      return backoffCap;
    }

    /**
     * Sets the largest backoff bound.
     *
     * @param backoffCap at least the base
     */
    public void setBackoffCap(@Nullable Duration backoffCap) {
      this.backoffCap = backoffCap;
    }

    /**
     * Returns the longest Retry-After pause honoured.
     *
     * @return the pause, or null if unset
     */
    public @Nullable Duration getMaxRetryAfter() {
      return maxRetryAfter;
    }

    /**
     * Sets the longest Retry-After pause honoured.
     *
     * @param maxRetryAfter a positive duration
     */
    public void setMaxRetryAfter(@Nullable Duration maxRetryAfter) {
      this.maxRetryAfter = maxRetryAfter;
    }
  }

  /** Retry budget: extra attempts never exceed ratio times the calls, plus a small floor. */
  public static class Budget {
    /** Creates these properties with their defaults (every key unset). */
    public Budget() {}

    /**
     * Extra attempts (retries and hedges) allowed per call, 0 to 1, as a fraction (0.1) or a
     * percentage (10%). When unset, 0.1.
     */
    private @Nullable Percentage ratio;

    /** Extra attempts per second allowed regardless of traffic. When unset, 1. */
    private @Nullable Integer minPerSecond;

    /** How long calls and retries count towards the budget, 1s to 5m. When unset, 10s. */
    private @Nullable Duration window;

    /**
     * Returns the ratio.
     *
     * @return the ratio, or null if unset
     */
    public @Nullable Percentage getRatio() {
      return ratio;
    }

    /**
     * Sets the ratio.
     *
     * @param ratio 0 to 1 (0% to 100%)
     */
    public void setRatio(@Nullable Percentage ratio) {
      this.ratio = ratio;
    }

    /**
     * Returns the floor of extra attempts per second.
     *
     * @return the floor, or null if unset
     */
    public @Nullable Integer getMinPerSecond() {
      return minPerSecond;
    }

    /**
     * Sets the floor of extra attempts per second.
     *
     * @param minPerSecond zero or more
     */
    public void setMinPerSecond(@Nullable Integer minPerSecond) {
      this.minPerSecond = minPerSecond;
    }

    /**
     * Returns the budget window.
     *
     * @return the window, or null if unset
     */
    public @Nullable Duration getWindow() {
      return window;
    }

    /**
     * Sets the budget window.
     *
     * @param window 1s to 5m
     */
    public void setWindow(@Nullable Duration window) {
      this.window = window;
    }
  }

  /** Active health checks. */
  public static class Health {
    /** Creates these properties with their defaults (every key unset). */
    public Health() {}

    /**
     * Whether to probe every endpoint. When unset, probes are sent if a path is set (here or in
     * failover.defaults.health.path) and not otherwise.
     */
    private @Nullable Boolean enabled;

    /** Path probed, appended to each endpoint's base URL, such as /health. */
    private @Nullable String path;

    /** Delay between probes of an endpoint that is up. When unset, 2s. */
    private @Nullable Duration interval;

    /**
     * Delay between probes of an endpoint that is down, so its return is seen quickly. When unset,
     * 500ms.
     */
    private @Nullable Duration downInterval;

    /**
     * Delay between probes of each endpoint once the client has started no call for this long
     * (Envoy's no_traffic_interval): an idle client, such as a cached test context, stops probing
     * at the usual rate; the first call brings it back within one interval. When unset, 60s.
     */
    private @Nullable Duration noTrafficInterval;

    /** Time a probe may take. When unset, 1s. */
    private @Nullable Duration timeout;

    /** Good probes in a row that mark a down endpoint up. When unset, 2. */
    private @Nullable Integer healthyThreshold;

    /** Failed probes in a row that mark an up endpoint down. When unset, 2. */
    private @Nullable Integer unhealthyThreshold;

    /**
     * Returns whether probes are sent.
     *
     * @return the flag, or null if unset
     */
    public @Nullable Boolean getEnabled() {
      return enabled;
    }

    /**
     * Sets whether probes are sent.
     *
     * @param enabled the flag
     */
    public void setEnabled(@Nullable Boolean enabled) {
      this.enabled = enabled;
    }

    /**
     * Returns the probed path.
     *
     * @return the path, or null if unset
     */
    public @Nullable String getPath() {
      return path;
    }

    /**
     * Sets the probed path.
     *
     * @param path a path starting with /
     */
    public void setPath(@Nullable String path) {
      this.path = path;
    }

    /**
     * Returns the interval between probes of an endpoint that is up.
     *
     * @return the interval, or null if unset
     */
    public @Nullable Duration getInterval() {
      return interval;
    }

    /**
     * Sets the interval between probes of an endpoint that is up.
     *
     * @param interval a positive duration
     */
    public void setInterval(@Nullable Duration interval) {
      this.interval = interval;
    }

    /**
     * Returns the interval between probes of an endpoint that is down.
     *
     * @return the interval, or null if unset
     */
    public @Nullable Duration getDownInterval() {
      return downInterval;
    }

    /**
     * Sets the interval between probes of an endpoint that is down.
     *
     * @param downInterval a positive duration
     */
    public void setDownInterval(@Nullable Duration downInterval) {
      this.downInterval = downInterval;
    }

    /**
     * Returns the interval between probes of each endpoint while the client has started no call for
     * that long.
     *
     * @return the interval, or null if unset
     */
    public @Nullable Duration getNoTrafficInterval() {
      return noTrafficInterval;
    }

    /**
     * Sets the interval between probes of each endpoint while the client has started no call for
     * that long (Envoy's {@code no_traffic_interval}).
     *
     * @param noTrafficInterval a positive duration
     */
    public void setNoTrafficInterval(@Nullable Duration noTrafficInterval) {
      this.noTrafficInterval = noTrafficInterval;
    }

    /**
     * Returns the probe timeout.
     *
     * @return the timeout, or null if unset
     */
    public @Nullable Duration getTimeout() {
      return timeout;
    }

    /**
     * Sets the probe timeout.
     *
     * @param timeout a positive duration
     */
    public void setTimeout(@Nullable Duration timeout) {
      this.timeout = timeout;
    }

    /**
     * Returns the good probes that mark an endpoint up.
     *
     * @return the threshold, or null if unset
     */
    public @Nullable Integer getHealthyThreshold() {
      return healthyThreshold;
    }

    /**
     * Sets the good probes that mark an endpoint up.
     *
     * @param healthyThreshold at least 1
     */
    public void setHealthyThreshold(@Nullable Integer healthyThreshold) {
      this.healthyThreshold = healthyThreshold;
    }

    /**
     * Returns the failed probes that mark an endpoint down.
     *
     * @return the threshold, or null if unset
     */
    public @Nullable Integer getUnhealthyThreshold() {
      return unhealthyThreshold;
    }

    /**
     * Sets the failed probes that mark an endpoint down.
     *
     * @param unhealthyThreshold at least 1
     */
    public void setUnhealthyThreshold(@Nullable Integer unhealthyThreshold) {
      this.unhealthyThreshold = unhealthyThreshold;
    }
  }

  /** Passive health: a circuit breaker per endpoint, fed by real traffic. */
  public static class Ejection {
    /** Creates these properties with their defaults (every key unset). */
    public Ejection() {}

    /** Failures in a row that eject an endpoint at once. When unset, 5. */
    private @Nullable Integer consecutiveFailures;

    /**
     * Failure rate, in percent (1 to 100), over the window that ejects an endpoint. When unset, 50.
     */
    private @Nullable Integer failureRate;

    /**
     * Attempts over which the failure and slow-call rates are measured, 1 to 10000. When unset, 50.
     */
    private @Nullable Integer windowSize;

    /** Attempts needed in the window before the rates are judged. When unset, 20. */
    private @Nullable Integer minimumCalls;

    /** An attempt slower than this counts as slow, 1ms to 24h. When unset, 2s. */
    private @Nullable Duration slowCallDuration;

    /** Share of slow attempts, in percent (1 to 100), that ejects an endpoint. When unset, 80. */
    private @Nullable Integer slowCallRate;

    /**
     * Length of the first ejection, 1ms to 24h; it doubles on each ejection that follows. When
     * unset, 5s.
     */
    private @Nullable Duration baseEjectionTime;

    /** Longest ejection, 1ms to 24h. When unset, 60s. */
    private @Nullable Duration maxEjectionTime;

    /** Calls let through after an ejection to test the endpoint, 1 to 1000. When unset, 3. */
    private @Nullable Integer halfOpenProbes;

    /**
     * Returns the failures in a row that eject.
     *
     * @return the count, or null if unset
     */
    public @Nullable Integer getConsecutiveFailures() {
      return consecutiveFailures;
    }

    /**
     * Sets the failures in a row that eject.
     *
     * @param consecutiveFailures at least 1
     */
    public void setConsecutiveFailures(@Nullable Integer consecutiveFailures) {
      this.consecutiveFailures = consecutiveFailures;
    }

    /**
     * Returns the failure rate that ejects, in percent.
     *
     * @return the rate, or null if unset
     */
    public @Nullable Integer getFailureRate() {
      return failureRate;
    }

    /**
     * Sets the failure rate that ejects, in percent.
     *
     * @param failureRate 1 to 100
     */
    public void setFailureRate(@Nullable Integer failureRate) {
      this.failureRate = failureRate;
    }

    /**
     * Returns the window size in attempts.
     *
     * @return the size, or null if unset
     */
    public @Nullable Integer getWindowSize() {
      return windowSize;
    }

    /**
     * Sets the window size in attempts.
     *
     * @param windowSize at least 1
     */
    public void setWindowSize(@Nullable Integer windowSize) {
      this.windowSize = windowSize;
    }

    /**
     * Returns the attempts needed before judging.
     *
     * @return the count, or null if unset
     */
    public @Nullable Integer getMinimumCalls() {
      return minimumCalls;
    }

    /**
     * Sets the attempts needed before judging.
     *
     * @param minimumCalls 1 to the window size
     */
    public void setMinimumCalls(@Nullable Integer minimumCalls) {
      this.minimumCalls = minimumCalls;
    }

    /**
     * Returns the duration beyond which an attempt is slow.
     *
     * @return the duration, or null if unset
     */
    public @Nullable Duration getSlowCallDuration() {
      return slowCallDuration;
    }

    /**
     * Sets the duration beyond which an attempt is slow.
     *
     * @param slowCallDuration a positive duration
     */
    public void setSlowCallDuration(@Nullable Duration slowCallDuration) {
      this.slowCallDuration = slowCallDuration;
    }

    /**
     * Returns the slow-call rate that ejects, in percent.
     *
     * @return the rate, or null if unset
     */
    public @Nullable Integer getSlowCallRate() {
      return slowCallRate;
    }

    /**
     * Sets the slow-call rate that ejects, in percent.
     *
     * @param slowCallRate 1 to 100
     */
    public void setSlowCallRate(@Nullable Integer slowCallRate) {
      this.slowCallRate = slowCallRate;
    }

    /**
     * Returns the first ejection's length.
     *
     * @return the length, or null if unset
     */
    public @Nullable Duration getBaseEjectionTime() {
      return baseEjectionTime;
    }

    /**
     * Sets the first ejection's length.
     *
     * @param baseEjectionTime a positive duration
     */
    public void setBaseEjectionTime(@Nullable Duration baseEjectionTime) {
      this.baseEjectionTime = baseEjectionTime;
    }

    /**
     * Returns the longest ejection.
     *
     * @return the length, or null if unset
     */
    public @Nullable Duration getMaxEjectionTime() {
      return maxEjectionTime;
    }

    /**
     * Sets the longest ejection.
     *
     * @param maxEjectionTime at least the base ejection time
     */
    public void setMaxEjectionTime(@Nullable Duration maxEjectionTime) {
      this.maxEjectionTime = maxEjectionTime;
    }

    /**
     * Returns the calls let through after an ejection.
     *
     * @return the count, or null if unset
     */
    public @Nullable Integer getHalfOpenProbes() {
      return halfOpenProbes;
    }

    /**
     * Sets the calls let through after an ejection.
     *
     * @param halfOpenProbes at least 1
     */
    public void setHalfOpenProbes(@Nullable Integer halfOpenProbes) {
      this.halfOpenProbes = halfOpenProbes;
    }
  }

  /** Panic: when the healthy share of endpoints is too low, health is ignored (or calls fail). */
  public static class Panic {
    /** Creates these properties with their defaults (every key unset). */
    public Panic() {}

    /**
     * Healthy share of all endpoints, in percent (0 to 100), below which routing panics. When
     * unset, 0: panic only when nothing is healthy.
     */
    private @Nullable Integer threshold;

    /**
     * Whether to try every endpoint in tier order in panic (fail open) rather than fail calls at
     * once. When unset, true.
     */
    private @Nullable Boolean failOpen;

    /**
     * Returns the panic threshold in percent.
     *
     * @return the threshold, or null if unset
     */
    public @Nullable Integer getThreshold() {
      return threshold;
    }

    /**
     * Sets the panic threshold in percent.
     *
     * @param threshold 0 to 100
     */
    public void setThreshold(@Nullable Integer threshold) {
      this.threshold = threshold;
    }

    /**
     * Returns whether panic fails open.
     *
     * @return the flag, or null if unset
     */
    public @Nullable Boolean getFailOpen() {
      return failOpen;
    }

    /**
     * Sets whether panic fails open.
     *
     * @param failOpen true to try every endpoint, false to fail calls
     */
    public void setFailOpen(@Nullable Boolean failOpen) {
      this.failOpen = failOpen;
    }
  }

  /**
   * Hedged requests: when an idempotent call has no answer after the hedge delay, one more attempt
   * goes to another endpoint (in another zone where one exists) and the first good answer wins.
   */
  public static class Hedge {
    /** Creates these properties with their defaults (every key unset). */
    public Hedge() {}

    /**
     * How the hedge delay is chosen: off (no hedging), fixed (the delay below), or adaptive (a high
     * percentile of recent latency, so that about max-extra-load of calls are hedged). When unset,
     * off.
     */
    private HedgePolicy.@Nullable Mode mode;

    /**
     * Delay after which a hedge is sent in fixed mode; in adaptive mode, the delay used until
     * enough latency was seen. When unset, 100ms.
     */
    private @Nullable Duration delay;

    /**
     * Most hedges per call on average, above 0 and at most 0.5, as a fraction (0.05) or a
     * percentage (5%). In adaptive mode it also picks the percentile: 5% hedges after the p95
     * latency. When unset, 5%.
     */
    private @Nullable Percentage maxExtraLoad;

    /** Most hedges one call sends, 1 to 4. When unset, 1. */
    private @Nullable Integer maxHedges;

    /** Floor of the adaptive delay. When unset, 1ms. */
    private @Nullable Duration minDelay;

    /**
     * Returns the hedging mode.
     *
     * @return the mode, or null if unset
     */
    public HedgePolicy.@Nullable Mode getMode() {
      return mode;
    }

    /**
     * Sets the hedging mode.
     *
     * @param mode off, fixed or adaptive
     */
    public void setMode(HedgePolicy.@Nullable Mode mode) {
      this.mode = mode;
    }

    /**
     * Returns the hedge delay.
     *
     * @return the delay, or null if unset
     */
    public @Nullable Duration getDelay() {
      return delay;
    }

    /**
     * Sets the hedge delay.
     *
     * @param delay a positive duration
     */
    public void setDelay(@Nullable Duration delay) {
      this.delay = delay;
    }

    /**
     * Returns the most hedges per call on average.
     *
     * @return the share, or null if unset
     */
    public @Nullable Percentage getMaxExtraLoad() {
      return maxExtraLoad;
    }

    /**
     * Sets the most hedges per call on average.
     *
     * @param maxExtraLoad above 0 and at most 0.5 (50%)
     */
    public void setMaxExtraLoad(@Nullable Percentage maxExtraLoad) {
      this.maxExtraLoad = maxExtraLoad;
    }

    /**
     * Returns the most hedges one call sends.
     *
     * @return the count, or null if unset
     */
    public @Nullable Integer getMaxHedges() {
      return maxHedges;
    }

    /**
     * Sets the most hedges one call sends.
     *
     * @param maxHedges 1 to 4
     */
    public void setMaxHedges(@Nullable Integer maxHedges) {
      this.maxHedges = maxHedges;
    }

    /**
     * Returns the floor of the adaptive delay.
     *
     * @return the floor, or null if unset
     */
    public @Nullable Duration getMinDelay() {
      return minDelay;
    }

    /**
     * Sets the floor of the adaptive delay.
     *
     * @param minDelay zero or positive
     */
    public void setMinDelay(@Nullable Duration minDelay) {
      this.minDelay = minDelay;
    }
  }

  /**
   * Stale-if-error: recent successful GET responses are kept, and served (with a Warning and an Age
   * header) when every attempt of a later GET for the same URL failed.
   */
  public static class Stale {
    /** Creates these properties with their defaults (every key unset). */
    public Stale() {}

    /** Whether to keep GET responses and serve them when every attempt fails. When unset, false. */
    private @Nullable Boolean enabled;

    /** Most responses kept; the least useful are evicted first. When unset, 1000. */
    private @Nullable Long maxEntries;

    /** Largest response body kept; larger responses are never served stale. When unset, 64KB. */
    private @Nullable DataSize maxBodySize;

    /** Oldest response served. When unset, 5m. */
    private @Nullable Duration maxAge;

    /**
     * Declares that the OkHttpClient's network interceptors add nothing that identifies a caller;
     * while false and it has any, a call whose every connection failed is served no copy. When
     * unset, false.
     */
    private @Nullable Boolean networkInterceptorsAddNoIdentity;

    /**
     * Returns whether stale responses are served.
     *
     * @return the flag, or null if unset
     */
    public @Nullable Boolean getEnabled() {
      return enabled;
    }

    /**
     * Sets whether stale responses are served.
     *
     * @param enabled the flag
     */
    public void setEnabled(@Nullable Boolean enabled) {
      this.enabled = enabled;
    }

    /**
     * Returns the most responses kept.
     *
     * @return the count, or null if unset
     */
    public @Nullable Long getMaxEntries() {
      return maxEntries;
    }

    /**
     * Sets the most responses kept.
     *
     * @param maxEntries at least 1
     */
    public void setMaxEntries(@Nullable Long maxEntries) {
      this.maxEntries = maxEntries;
    }

    /**
     * Returns the largest body kept.
     *
     * @return the size, or null if unset
     */
    public @Nullable DataSize getMaxBodySize() {
      return maxBodySize;
    }

    /**
     * Sets the largest body kept.
     *
     * @param maxBodySize at least 1B
     */
    public void setMaxBodySize(@Nullable DataSize maxBodySize) {
      this.maxBodySize = maxBodySize;
    }

    /**
     * Returns the oldest response served.
     *
     * @return the age, or null if unset
     */
    public @Nullable Duration getMaxAge() {
      return maxAge;
    }

    /**
     * Sets the oldest response served.
     *
     * @param maxAge a positive duration
     */
    public void setMaxAge(@Nullable Duration maxAge) {
      this.maxAge = maxAge;
    }

    /**
     * Returns whether the network interceptors are declared to add no identity.
     *
     * @return the flag, or null if unset
     */
    public @Nullable Boolean getNetworkInterceptorsAddNoIdentity() {
      return networkInterceptorsAddNoIdentity;
    }

    /**
     * Sets whether the network interceptors are declared to add no identity.
     *
     * @param networkInterceptorsAddNoIdentity the flag
     */
    public void setNetworkInterceptorsAddNoIdentity(
        @Nullable Boolean networkInterceptorsAddNoIdentity) {
      this.networkInterceptorsAddNoIdentity = networkInterceptorsAddNoIdentity;
    }
  }

  /**
   * Zones as failure domains: a zone whose endpoints are mostly ejected, or whose errors or latency
   * stand out against the other zones, gets no first attempts until it has been clean for a while.
   */
  public static class Zones {
    /** Creates these properties with their defaults (every key unset). */
    public Zones() {}

    /**
     * Whether to judge and evacuate zones as a whole; endpoints are ejected either way. When unset,
     * true.
     */
    private @Nullable Boolean enabled;

    /**
     * Share of a zone's endpoints, in percent (1 to 100), that must be ejected, down or held off
     * before the zone is evacuated. When unset, 50.
     */
    private @Nullable Integer ejectedPercent;

    /**
     * Most zones, in percent of all (1 to 100), that passive evidence alone (outliers, breaker
     * ejections) may evacuate at once; refusals, or health checks refused or answered badly (not
     * ones that time out or fail in the client), lift the cap, and the last zone that answers is
     * never evacuated. When unset, 50.
     */
    private @Nullable Integer maxEvacuatedPercent;

    /**
     * How many median absolute deviations from the median across zones make a zone's error rate or
     * latency an outlier. When unset, 3.
     */
    private @Nullable Double outlierK;

    /**
     * Attempts a zone needs in the window to be judged on its errors and latency. When unset, 20.
     */
    private @Nullable Integer minSamples;

    /** Sliding window over which zones are judged, 2s to 24h. When unset, 10s. */
    private @Nullable Duration window;

    /**
     * How long an evacuated zone must stay clean before it returns, 1ms to 24h; doubled each time
     * the zone flaps, at most twice (4 times this value). When unset, 10s.
     */
    private @Nullable Duration hysteresis;

    /**
     * How long a returning zone or endpoint takes to ramp up to its full share of traffic, from
     * 10%, 0 to 24h; 0 for at once. When unset, 10s.
     */
    private @Nullable Duration slowStart;

    /**
     * Returns whether zones are judged as a whole.
     *
     * @return the flag, or null if unset
     */
    public @Nullable Boolean getEnabled() {
      return enabled;
    }

    /**
     * Sets whether zones are judged as a whole.
     *
     * @param enabled the flag
     */
    public void setEnabled(@Nullable Boolean enabled) {
      this.enabled = enabled;
    }

    /**
     * Returns the ejected share that evacuates a zone, in percent.
     *
     * @return the share, or null if unset
     */
    public @Nullable Integer getEjectedPercent() {
      return ejectedPercent;
    }

    /**
     * Sets the ejected share that evacuates a zone, in percent.
     *
     * @param ejectedPercent 1 to 100
     */
    public void setEjectedPercent(@Nullable Integer ejectedPercent) {
      this.ejectedPercent = ejectedPercent;
    }

    /**
     * Returns the most zones, in percent, that passive evidence may evacuate at once.
     *
     * @return the share, or null if unset
     */
    public @Nullable Integer getMaxEvacuatedPercent() {
      return maxEvacuatedPercent;
    }

    /**
     * Sets the most zones, in percent, that passive evidence may evacuate at once.
     *
     * @param maxEvacuatedPercent 1 to 100
     */
    public void setMaxEvacuatedPercent(@Nullable Integer maxEvacuatedPercent) {
      this.maxEvacuatedPercent = maxEvacuatedPercent;
    }

    /**
     * Returns the median absolute deviations that make an outlier.
     *
     * @return the factor, or null if unset
     */
    public @Nullable Double getOutlierK() {
      return outlierK;
    }

    /**
     * Sets the median absolute deviations that make an outlier.
     *
     * @param outlierK a positive number
     */
    public void setOutlierK(@Nullable Double outlierK) {
      this.outlierK = outlierK;
    }

    /**
     * Returns the attempts a zone needs to be judged.
     *
     * @return the count, or null if unset
     */
    public @Nullable Integer getMinSamples() {
      return minSamples;
    }

    /**
     * Sets the attempts a zone needs to be judged.
     *
     * @param minSamples at least 1
     */
    public void setMinSamples(@Nullable Integer minSamples) {
      this.minSamples = minSamples;
    }

    /**
     * Returns the judgement window.
     *
     * @return the window, or null if unset
     */
    public @Nullable Duration getWindow() {
      return window;
    }

    /**
     * Sets the judgement window.
     *
     * @param window at least 2s
     */
    public void setWindow(@Nullable Duration window) {
      this.window = window;
    }

    /**
     * Returns how long an evacuated zone must stay clean.
     *
     * @return the duration, or null if unset
     */
    public @Nullable Duration getHysteresis() {
      return hysteresis;
    }

    /**
     * Sets how long an evacuated zone must stay clean.
     *
     * @param hysteresis a positive duration
     */
    public void setHysteresis(@Nullable Duration hysteresis) {
      this.hysteresis = hysteresis;
    }

    /**
     * Returns how long a returning zone takes to reach its full share.
     *
     * @return the duration, or null if unset
     */
    public @Nullable Duration getSlowStart() {
      return slowStart;
    }

    /**
     * Sets how long a returning zone takes to reach its full share.
     *
     * @param slowStart zero or positive
     */
    public void setSlowStart(@Nullable Duration slowStart) {
      this.slowStart = slowStart;
    }
  }

  /**
   * Endpoints from the application's Spring Cloud DiscoveryClient (Eureka, Consul, ZooKeeper,
   * Kubernetes): how often to ask it, how to read zones, regions and weights from its instances'
   * metadata, and which lists the client refuses to apply.
   */
  public static class Discovery {
    /** Creates these properties with their defaults (every key unset). */
    public Discovery() {}

    /**
     * How often to ask the DiscoveryClient for the service's instances, 100ms to 24h. When unset,
     * 30s, as Spring Cloud LoadBalancer's cache; a HeartbeatEvent (Eureka publishes one after each
     * registry fetch) asks at once, at most once a second.
     */
    private @Nullable Duration refreshInterval;

    /** Region of instances whose metadata names none. When unset, failover.home.region. */
    private @Nullable String region;

    /**
     * Zone of instances whose metadata names none. When unset, such instances are skipped, with a
     * warning: a guessed zone would draw home-zone traffic to them or evacuate the wrong zone.
     */
    private @Nullable String defaultZone;

    /**
     * Keys of ServiceInstance.getMetadata() read for an instance's zone, first found wins. When
     * unset, zone, then topology.kubernetes.io/zone. Spring Cloud Kubernetes puts neither there
     * (pod labels go to podMetadata(), and the topology labels are the node's): set default-zone,
     * or list the endpoints per zone.
     */
    private @Nullable List<String> zoneKeys;

    /**
     * Metadata keys read for an instance's region, first found wins. When unset, region, then
     * topology.kubernetes.io/region.
     */
    private @Nullable List<String> regionKeys;

    /**
     * Metadata key read for an instance's weight inside its zone (1 to 10000); a value that is not
     * a whole number in range is ignored with a warning. When unset, weight.
     */
    private @Nullable String weightKey;

    /**
     * Longest gap between two HeartbeatEvents before the DiscoveryClient's answers count as
     * failures (its cache is no longer refreshed, so the registry is likely unreachable), 1ms to
     * 24h. Set it for Eureka, whose client answers from a cache and publishes a HeartbeatEvent
     * after each successful fetch, to about three fetch intervals (90s with Eureka's defaults).
     * When unset, heartbeats are not watched: right for registries that publish HeartbeatEvents
     * only on change.
     */
    private @Nullable Duration heartbeatTimeout;

    /**
     * How long start-up waits for the registry's first list when the client has no fallback
     * endpoints, 0 to 10m. When unset, 5s.
     */
    private @Nullable Duration startTimeout;

    /**
     * Largest share of the endpoints in use, in percent (1 to 100), by which one list may have
     * fewer endpoints; a list that shrinks by more is held (not applied) until it has been the
     * registry's answer for removal-confirmation. When unset, 50.
     */
    private @Nullable Integer maxRemovalPercent;

    /**
     * How long a held list must stay the registry's answer before it is applied, 0 to 24h. When
     * unset, 60s.
     */
    private @Nullable Duration removalConfirmation;

    /**
     * How long the client serves from a list the registry no longer confirms before it warns and
     * reports the list as stale, 1s to 30d; it keeps serving from it. When unset, 5m.
     */
    private @Nullable Duration maxStaleness;

    /**
     * Returns how often the DiscoveryClient is asked.
     *
     * @return the interval, or null if unset
     */
    public @Nullable Duration getRefreshInterval() {
      return refreshInterval;
    }

    /**
     * Sets how often the DiscoveryClient is asked.
     *
     * @param refreshInterval a positive duration
     */
    public void setRefreshInterval(@Nullable Duration refreshInterval) {
      this.refreshInterval = refreshInterval;
    }

    /**
     * Returns the region of instances whose metadata names none.
     *
     * @return the region, or null if unset
     */
    public @Nullable String getRegion() {
      return region;
    }

    /**
     * Sets the region of instances whose metadata names none.
     *
     * @param region the region
     */
    public void setRegion(@Nullable String region) {
      this.region = region;
    }

    /**
     * Returns the zone of instances whose metadata names none.
     *
     * @return the zone, or null if unset
     */
    public @Nullable String getDefaultZone() {
      return defaultZone;
    }

    /**
     * Sets the zone of instances whose metadata names none.
     *
     * @param defaultZone the zone
     */
    public void setDefaultZone(@Nullable String defaultZone) {
      this.defaultZone = defaultZone;
    }

    /**
     * Returns the metadata keys read for the zone.
     *
     * @return the keys, or null if unset
     */
    public @Nullable List<String> getZoneKeys() {
      return zoneKeys;
    }

    /**
     * Sets the metadata keys read for the zone.
     *
     * @param zoneKeys the keys, first found wins
     */
    public void setZoneKeys(@Nullable List<String> zoneKeys) {
      this.zoneKeys = zoneKeys;
    }

    /**
     * Returns the metadata keys read for the region.
     *
     * @return the keys, or null if unset
     */
    public @Nullable List<String> getRegionKeys() {
      return regionKeys;
    }

    /**
     * Sets the metadata keys read for the region.
     *
     * @param regionKeys the keys, first found wins
     */
    public void setRegionKeys(@Nullable List<String> regionKeys) {
      this.regionKeys = regionKeys;
    }

    /**
     * Returns the metadata key read for the weight.
     *
     * @return the key, or null if unset
     */
    public @Nullable String getWeightKey() {
      return weightKey;
    }

    /**
     * Sets the metadata key read for the weight.
     *
     * @param weightKey the key
     */
    public void setWeightKey(@Nullable String weightKey) {
      this.weightKey = weightKey;
    }

    /**
     * Returns the longest gap between HeartbeatEvents.
     *
     * @return the timeout, or null if heartbeats are not watched
     */
    public @Nullable Duration getHeartbeatTimeout() {
      return heartbeatTimeout;
    }

    /**
     * Sets the longest gap between HeartbeatEvents.
     *
     * @param heartbeatTimeout a positive duration
     */
    public void setHeartbeatTimeout(@Nullable Duration heartbeatTimeout) {
      this.heartbeatTimeout = heartbeatTimeout;
    }

    /**
     * Returns how long start-up waits for the first list without fallback endpoints.
     *
     * @return the timeout, or null if unset
     */
    public @Nullable Duration getStartTimeout() {
      return startTimeout;
    }

    /**
     * Sets how long start-up waits for the first list without fallback endpoints.
     *
     * @param startTimeout 0 to 10 minutes
     */
    public void setStartTimeout(@Nullable Duration startTimeout) {
      this.startTimeout = startTimeout;
    }

    /**
     * Returns the largest share of endpoints one list may remove.
     *
     * @return the percentage, or null if unset
     */
    public @Nullable Integer getMaxRemovalPercent() {
      return maxRemovalPercent;
    }

    /**
     * Sets the largest share of endpoints one list may remove.
     *
     * @param maxRemovalPercent 1 to 100
     */
    public void setMaxRemovalPercent(@Nullable Integer maxRemovalPercent) {
      this.maxRemovalPercent = maxRemovalPercent;
    }

    /**
     * Returns how long a held list must stay the answer before it is applied.
     *
     * @return the time, or null if unset
     */
    public @Nullable Duration getRemovalConfirmation() {
      return removalConfirmation;
    }

    /**
     * Sets how long a held list must stay the answer before it is applied.
     *
     * @param removalConfirmation 0 to 24 hours
     */
    public void setRemovalConfirmation(@Nullable Duration removalConfirmation) {
      this.removalConfirmation = removalConfirmation;
    }

    /**
     * Returns how long an unconfirmed list is served before it counts as stale.
     *
     * @return the bound, or null if unset
     */
    public @Nullable Duration getMaxStaleness() {
      return maxStaleness;
    }

    /**
     * Sets how long an unconfirmed list is served before it counts as stale.
     *
     * @param maxStaleness 1 second to 30 days
     */
    public void setMaxStaleness(@Nullable Duration maxStaleness) {
      this.maxStaleness = maxStaleness;
    }
  }

  /** Discovery settings of one client: the shared ones plus the service id. */
  public static class ClientDiscovery extends Discovery {
    /** Creates these properties with their defaults (every key unset). */
    public ClientDiscovery() {}

    /**
     * Service id to look up in the application's Spring Cloud DiscoveryClient, such as
     * directory-service. Setting it makes the client's endpoints come from the registry, and the
     * client's endpoints list the fallback.
     */
    private @Nullable String serviceId;

    /**
     * Returns the service id.
     *
     * @return the service id, or null if the endpoints do not come from a registry
     */
    public @Nullable String getServiceId() {
      return serviceId;
    }

    /**
     * Sets the service id.
     *
     * @param serviceId the service id in the registry
     */
    public void setServiceId(@Nullable String serviceId) {
      this.serviceId = serviceId;
    }
  }
}
