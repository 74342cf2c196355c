package dev.failover;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import okhttp3.OkHttpClient;

/**
 * A read-only view of the settings a {@link FailoverClient} runs with: what the builder was given,
 * with every default filled in. {@link FailoverClient#settings()} returns the view of the
 * configuration in force; after a {@link
 * FailoverClient#reconfigure(java.util.function.UnaryOperator)} that changed something, or a {@link
 * FailoverClient#reset()}, it returns a new view, and a view taken before keeps describing the
 * configuration it was taken from. The same configuration gives the same view object, so {@code
 * before == client.settings()} tells whether a change was applied.
 *
 * <pre>{@code
 * FailoverSettings s = directory.settings();
 * log.info("{}: deadline {}, {} attempts, hedging {}", s.service(), s.deadline(),
 *     s.maxAttempts(), s.hedging().mode());
 * }</pre>
 *
 * <p>Every value is immutable. The view leaves out what the builder was handed for tests or
 * plumbing (listeners, clock, scheduler, random generator) and the endpoint source itself; {@link
 * #okHttpClient()} is the application's own {@code OkHttpClient}, if it gave one (OkHttp's clients
 * are immutable; the SDK runs attempts on a copy with its own dispatcher). For the endpoints in
 * use, see {@link FailoverClient#endpoints()}; for live state, {@link FailoverClient#snapshot()}.
 */
public final class FailoverSettings {
  private final Settings settings;

  FailoverSettings(Settings settings) {
    this.settings = settings;
  }

  /**
   * Returns the service name, the host that requests name.
   *
   * @return the service name
   */
  public String service() {
    return settings.service();
  }

  /**
   * Returns where the client runs.
   *
   * @return the home locality
   */
  public Locality home() {
    return settings.home();
  }

  /**
   * Returns the order in which other regions are tried after the home region.
   *
   * @return region names, nearest first; empty for the order in which endpoints were added
   */
  public List<String> regionOrder() {
    return settings.regionOrder();
  }

  /**
   * Returns the total deadline of a call.
   *
   * @return the deadline; 10 s by default
   */
  public Duration deadline() {
    return settings.deadline();
  }

  /**
   * Returns the time one attempt may take, if one was set.
   *
   * @return the attempt timeout, or empty for the default: each call's deadline divided by {@link
   *     #maxAttempts()}
   */
  public Optional<Duration> attemptTimeout() {
    return Optional.ofNullable(settings.attemptTimeout());
  }

  /**
   * Returns the least time that must remain of the deadline to start an attempt.
   *
   * @return 25 ms by default
   */
  public Duration minAttemptTime() {
    return settings.minAttemptTime();
  }

  /**
   * Returns the most attempts one call makes: the first, its retries and its hedges.
   *
   * @return 3 by default
   */
  public int maxAttempts() {
    return settings.maxAttempts();
  }

  /**
   * Returns the bound of the first retry's backoff.
   *
   * @return 25 ms by default
   */
  public Duration backoffBase() {
    return settings.backoffBase();
  }

  /**
   * Returns the largest backoff bound.
   *
   * @return 250 ms by default
   */
  public Duration backoffCap() {
    return settings.backoffCap();
  }

  /**
   * Returns the longest pause a {@code Retry-After} header can impose on an endpoint.
   *
   * @return 30 s by default
   */
  public Duration maxRetryAfter() {
    return settings.maxRetryAfter();
  }

  /**
   * Returns the response statuses that another attempt may follow.
   *
   * @return an immutable set; 429, 502, 503 and 504 by default
   */
  public Set<Integer> retryableStatuses() {
    return settings.retryableStatuses();
  }

  /**
   * Returns the retry budget's ratio: extra attempts per call.
   *
   * @return 0.1 by default
   */
  public double budgetRatio() {
    return settings.budgetRatio();
  }

  /**
   * Returns the extra attempts per second that the retry budget allows regardless of traffic.
   *
   * @return 1 by default
   */
  public int budgetMinPerSecond() {
    return settings.budgetMinPerSecond();
  }

  /**
   * Returns how long calls and retries count in the retry budget.
   *
   * @return 10 s by default
   */
  public Duration budgetWindow() {
    return settings.budgetWindow();
  }

  /**
   * Returns the active health check.
   *
   * @return {@link HealthCheck#off()} by default
   */
  public HealthCheck healthCheck() {
    return settings.healthCheck();
  }

  /**
   * Returns when real traffic ejects an endpoint.
   *
   * @return {@link EjectionPolicy#defaults()} by default
   */
  public EjectionPolicy ejection() {
    return settings.ejection();
  }

  /**
   * Returns the hedging policy.
   *
   * @return {@link HedgePolicy#off()} by default
   */
  public HedgePolicy hedging() {
    return settings.hedging();
  }

  /**
   * Returns the stale-if-error settings.
   *
   * @return {@link StaleCache#off()} by default
   */
  public StaleCache staleCache() {
    return settings.staleCache();
  }

  /**
   * Returns how zones are judged and evacuated.
   *
   * @return {@link ZonePolicy#defaults()} by default
   */
  public ZonePolicy zones() {
    return settings.zones();
  }

  /**
   * Returns the healthy share of endpoints, in percent, below which the client panics.
   *
   * @return 0 by default: panic only when nothing is healthy
   */
  public int panicThresholdPercent() {
    return settings.panicThresholdPercent();
  }

  /**
   * Returns whether a panicking client tries every endpoint (true) or fails calls (false).
   *
   * @return true by default
   */
  public boolean panicFailOpen() {
    return settings.panicFailOpen();
  }

  /**
   * Returns the most attempts in flight at once across the client.
   *
   * @return 256 by default
   */
  public int maxRequests() {
    return settings.maxRequests();
  }

  /**
   * Returns whether {@code execute()} runs each call's first attempt on the caller's thread, if the
   * application chose; see {@link FailoverClient.Builder#callerRunsFirstAttempt(boolean)}.
   *
   * @return true or false as set, or empty for the default: the client decides by its {@code
   *     OkHttpClient} and each call
   */
  public Optional<Boolean> callerRunsFirstAttempt() {
    return Optional.ofNullable(settings.callerRunsFirstAttempt());
  }

  /**
   * Returns how lists from an endpoint source are treated.
   *
   * @return {@link DiscoveryPolicy#defaults()} by default
   */
  public DiscoveryPolicy discovery() {
    return settings.discovery();
  }

  /**
   * Returns the description of the endpoint source, if the client has one.
   *
   * @return the source's {@link EndpointSource#description()}, or empty for static endpoints
   */
  public Optional<String> endpointSource() {
    EndpointSource source = settings.endpointSource();
    return source == null ? Optional.empty() : Optional.of(source.description());
  }

  /**
   * Returns the {@code OkHttpClient} the application gave the builder, if any: its connection pool,
   * timeouts, interceptors, TLS and proxy settings are those attempts use.
   *
   * @return the application's client, or empty when the SDK made its own
   */
  public Optional<OkHttpClient> okHttpClient() {
    return Optional.ofNullable(settings.okHttpClient());
  }

  @Override
  public String toString() {
    return "FailoverSettings{service="
        + service()
        + ", home="
        + home()
        + ", regionOrder="
        + regionOrder()
        + ", deadline="
        + deadline()
        + ", attemptTimeout="
        + (settings.attemptTimeout() == null ? "deadline/maxAttempts" : settings.attemptTimeout())
        + ", minAttemptTime="
        + minAttemptTime()
        + ", maxAttempts="
        + maxAttempts()
        + ", backoff="
        + backoffBase()
        + ".."
        + backoffCap()
        + ", maxRetryAfter="
        + maxRetryAfter()
        + ", retryableStatuses="
        + retryableStatuses()
        + ", retryBudget="
        + budgetRatio()
        + "+"
        + budgetMinPerSecond()
        + "/s over "
        + budgetWindow()
        + ", healthCheck="
        + healthCheck()
        + ", ejection="
        + ejection()
        + ", hedging="
        + hedging()
        + ", staleCache="
        + staleCache()
        + ", zones="
        + zones()
        + ", panic="
        + panicThresholdPercent()
        + "%"
        + (panicFailOpen() ? " fail open" : " fail closed")
        + ", maxRequests="
        + maxRequests()
        + ", callerRunsFirstAttempt="
        + callerRunsFirstAttempt().map(String::valueOf).orElse("unset")
        + ", discovery="
        + discovery()
        + ", endpointSource="
        + endpointSource().orElse("none")
        + "}";
  }
}
