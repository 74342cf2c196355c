package dev.failover;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.random.RandomGenerator;
import okhttp3.OkHttpClient;
import org.jspecify.annotations.Nullable;

/** Everything a built client was configured with; checked by the builder. */
record Settings(
    String service,
    Locality home,
    List<Endpoint> endpoints,
    List<String> regionOrder,
    @Nullable OkHttpClient okHttpClient,
    Duration deadline,
    @Nullable Duration attemptTimeout,
    Duration minAttemptTime,
    int maxAttempts,
    Duration backoffBase,
    Duration backoffCap,
    Duration maxRetryAfter,
    java.util.Set<Integer> retryableStatuses,
    double budgetRatio,
    int budgetMinPerSecond,
    Duration budgetWindow,
    HealthCheck healthCheck,
    EjectionPolicy ejection,
    HedgePolicy hedging,
    StaleCache staleCache,
    ZonePolicy zones,
    int panicThresholdPercent,
    boolean panicFailOpen,
    int maxRequests,
    @Nullable Boolean callerRunsFirstAttempt,
    List<FailoverListener> listeners,
    Clock clock,
    @Nullable Ticker ticker,
    @Nullable ScheduledExecutorService scheduler,
    @Nullable RandomGenerator random,
    @Nullable EndpointSource endpointSource,
    DiscoveryPolicy discovery) {

  /** The ticker the client measures on; see {@link Tickers#monotonic}. */
  Ticker monotonic() {
    return Tickers.monotonic(ticker, clock);
  }

  /** These settings with another endpoint list (what a source reported since). */
  Settings withEndpoints(List<Endpoint> endpoints) {
    return new Settings(
        service,
        home,
        endpoints,
        regionOrder,
        okHttpClient,
        deadline,
        attemptTimeout,
        minAttemptTime,
        maxAttempts,
        backoffBase,
        backoffCap,
        maxRetryAfter,
        retryableStatuses,
        budgetRatio,
        budgetMinPerSecond,
        budgetWindow,
        healthCheck,
        ejection,
        hedging,
        staleCache,
        zones,
        panicThresholdPercent,
        panicFailOpen,
        maxRequests,
        callerRunsFirstAttempt,
        listeners,
        clock,
        ticker,
        scheduler,
        random,
        endpointSource,
        discovery);
  }

  public Settings {
    endpoints = List.copyOf(endpoints);
    regionOrder = List.copyOf(regionOrder);
    listeners = List.copyOf(listeners);
    retryableStatuses = java.util.Set.copyOf(retryableStatuses);
  }
}
