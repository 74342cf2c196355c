package dev.failover.spring.boot.autoconfigure;

import dev.failover.DiscoveryPolicy;
import dev.failover.EjectionPolicy;
import dev.failover.EndpointSource;
import dev.failover.FailoverClient;
import dev.failover.HealthCheck;
import dev.failover.HedgePolicy;
import dev.failover.Locality;
import dev.failover.StaleCache;
import dev.failover.ZonePolicy;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.InitializingBean;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.ConfigurationProperty;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.boot.context.properties.source.ConfigurationPropertySource;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.core.env.Environment;
import org.springframework.util.unit.DataSize;

/**
 * Builds the failover client of each {@code failover.clients.<name>}: properties of {@code
 * failover.defaults}, {@code failover.configs.default}, the client's base configuration and the
 * client's own, then instrumentation listeners, then customizers. Every wrong value fails with a
 * {@link FailoverConfigurationException} naming its property. When the configuration changes at run
 * time ({@link #refresh(Set)}), it reconfigures the clients it built in place.
 */
final class FailoverClientFactory implements InitializingBean {
  private static final Logger LOG = LoggerFactory.getLogger(FailoverClientFactory.class);
  private static final String PREFIX = "failover.";
  private static final String DEFAULT_CONFIG = "default";
  private static final Duration MIN_ZONE_WINDOW = Duration.ofSeconds(2);
  private static final Duration DEFAULT_REFRESH_INTERVAL = Duration.ofSeconds(30);
  private static final Duration MIN_REFRESH_INTERVAL = Duration.ofMillis(100);

  private final FailoverProperties properties;
  private final Environment environment;
  private final ObjectProvider<FailoverClientCustomizer> customizers;
  private final ObjectProvider<ClientInstrumentation> instrumentation;
  private final ObjectProvider<OkHttpClient> okHttpClient;
  private final ObjectProvider<EndpointSources> endpointSources;

  /** The clients this factory built, by name; guarded by this. */
  private final Map<String, Built> built = new LinkedHashMap<>();

  /** The clients configured at start: those that have beans. */
  private Set<String> startNames = Set.of();

  FailoverClientFactory(
      FailoverProperties properties,
      Environment environment,
      ObjectProvider<FailoverClientCustomizer> customizers,
      ObjectProvider<ClientInstrumentation> instrumentation,
      ObjectProvider<OkHttpClient> okHttpClient,
      ObjectProvider<EndpointSources> endpointSources) {
    this.properties = properties;
    this.environment = environment;
    this.customizers = customizers;
    this.instrumentation = instrumentation;
    this.okHttpClient = okHttpClient;
    this.endpointSources = endpointSources;
  }

  /**
   * Checks the keys under {@code failover.} before any client is built: a key that binds to no
   * setting fails start-up (or, with {@code failover.ignore-unknown-keys}, is logged), since a
   * misspelt key would otherwise leave its setting at the default without a word.
   *
   * @throws FailoverConfigurationException naming the unknown key and the nearest valid one
   */
  @Override
  public void afterPropertiesSet() {
    FailoverKeys.check(environment, properties.isIgnoreUnknownKeys());
    startNames = Set.copyOf(properties.getClients().keySet());
    customizers
        .orderedStream()
        .forEach(
            c -> {
              if (c instanceof ClientCustomizer one && !startNames.contains(one.clientName())) {
                String near = nearest(one.clientName(), startNames);
                throw new FailoverConfigurationException(
                    PREFIX + "clients." + one.clientName(),
                    null,
                    null,
                    "a FailoverClientCustomizer.forClient(\""
                        + one.clientName()
                        + "\", ...) bean names no configured client; clients are "
                        + startNames,
                    near != null
                        ? "did you mean '" + near + "'? Correct the name given to forClient"
                        : "correct the name given to forClient, or configure failover.clients."
                            + one.clientName(),
                    null);
              }
            });
  }

  /** The name within two edits of {@code name}, or null. */
  private static @Nullable String nearest(String name, Set<String> names) {
    String best = null;
    int bestDistance = 3;
    for (String candidate : names) {
      int d = FailoverKeys.distance(name, candidate);
      if (d < bestDistance) {
        best = candidate;
        bestDistance = d;
      }
    }
    return best;
  }

  /** Names of the configured clients, in the order configured. */
  Set<String> clientNames() {
    return properties.getClients().keySet();
  }

  /**
   * Applies a change of the configuration at run time (Spring Cloud's refresh, which publishes the
   * changed keys): each client this factory built that the change concerns is reconfigured in place
   * ({@link FailoverClient#reconfigure}) with a builder made afresh from the properties, the
   * instrumentation and the customizers, as at start. Calls in flight finish on the old settings; a
   * client whose settings come out the same keeps its state. A change that does not check out (an
   * unknown key, a wrong value) is logged and not applied: the clients keep their settings. Clients
   * added or removed, and a changed discovery.service-id, take effect at the next start.
   *
   * @param changedKeys the names of the properties that changed, in their sources' forms
   */
  void refresh(Set<String> changedKeys) {
    Set<String> names = affected(changedKeys);
    if (names != null && names.isEmpty()) {
      return;
    }
    FailoverProperties fresh;
    try {
      fresh = Binder.get(environment).bindOrCreate("failover", FailoverProperties.class);
      FailoverKeys.check(environment, fresh.isIgnoreUnknownKeys());
    } catch (RuntimeException e) {
      LOG.error("failover configuration change not applied: {}", e.getMessage());
      return;
    }
    List<Built> clients;
    synchronized (this) {
      clients = List.copyOf(built.values());
    }
    for (Built state : clients) {
      if (names == null || names.contains(state.name)) {
        reconfigure(fresh, state);
      }
    }
    for (String name : fresh.getClients().keySet()) {
      if (!startNames.contains(name)) {
        LOG.warn(
            "failover.clients.{} was added while the application runs: clients and their beans"
                + " are created at start; restart to use it",
            name);
      }
    }
  }

  private void reconfigure(FailoverProperties fresh, Built state) {
    String prefix = PREFIX + "clients." + state.name;
    FailoverProperties.Client client = fresh.getClients().get(state.name);
    FailoverClient c = Objects.requireNonNull(state.client);
    if (client == null) {
      LOG.warn(
          "{} was removed while the application runs: the client keeps its settings until the"
              + " next start",
          prefix);
      return;
    }
    String serviceId = client.getDiscovery().getServiceId();
    if (!Objects.equals(serviceId, state.serviceId)) {
      LOG.warn(
          "{}.discovery.service-id changed from {} to {} while the application runs: where a"
              + " client's endpoints come from changes at the next start; this change is not"
              + " applied",
          prefix,
          state.serviceId,
          serviceId);
      return;
    }
    // No lock held: customizers and listeners run here (Spring Cloud's ContextRefresher
    // publishes one change at a time).
    try {
      c.reconfigure(b -> prepare(fresh, state.name, client, state, false).builder());
      applyZonalShifts(prefix, client, state, false);
    } catch (FailoverConfigurationException e) {
      LOG.error(
          "failover configuration change not applied to {}: {}{}; {}",
          prefix,
          e.getMessage(),
          e.origin() == null ? "" : " (" + e.origin() + ")",
          e.action());
    } catch (IllegalArgumentException | IllegalStateException e) {
      LOG.error(
          "failover configuration change not applied to {}: {}",
          prefix,
          notBuilt(state.name, e).getMessage());
    }
  }

  /**
   * The clients that a change of {@code keys} concerns: null for every client (a key outside {@code
   * failover.clients.<name>}, or one in the system environment's form), empty for none (no key
   * under {@code failover}).
   */
  static @Nullable Set<String> affected(Set<String> keys) {
    Set<String> names = new LinkedHashSet<>();
    for (String key : keys) {
      String lower = key.toLowerCase(Locale.ROOT);
      if (lower.startsWith("failover_")) {
        return null; // FAILOVER_CLIENTS_MY_CLIENT_DEADLINE: which client is not certain
      }
      if (!lower.startsWith("failover.")) {
        continue;
      }
      ConfigurationPropertyName name = ConfigurationPropertyName.adapt(key, '.');
      if (name.getNumberOfElements() > 3
          && name.getElement(1, ConfigurationPropertyName.Form.UNIFORM).equals("clients")) {
        names.add(name.getElement(2, ConfigurationPropertyName.Form.ORIGINAL));
      } else {
        return null;
      }
    }
    return names;
  }

  /**
   * Empties the connection pools of the OkHttpClients this factory created (for a connect timeout);
   * called once its clients are closed.
   */
  void release() {
    List<OkHttpClient> own = new ArrayList<>();
    synchronized (this) {
      for (Built state : built.values()) {
        OkHttpClient c = state.own;
        if (c != null) {
          own.add(c);
        }
      }
    }
    for (OkHttpClient c : own) {
      c.connectionPool().evictAll();
    }
  }

  /** One client this factory built, and what a change at run time needs of it. */
  private static final class Built {
    final String name;
    final @Nullable String serviceId;
    @Nullable FailoverClient client;

    /** The zonal shifts its properties asked for: zone to end. */
    final Map<String, Instant> shifts = new java.util.concurrent.ConcurrentHashMap<>();

    /** An OkHttpClient this factory created for it: its pool is the factory's to empty. */
    @Nullable OkHttpClient own;

    /** Its OkHttpClient with a connect timeout, what it was made from, and the timeout. */
    private @Nullable OkHttpClient timed;

    private @Nullable OkHttpClient timedFrom;
    private @Nullable Duration timedTimeout;

    Built(String name, @Nullable String serviceId) {
      this.name = name;
      this.serviceId = serviceId;
    }

    /**
     * The OkHttpClient to build on: the application's unique one, or none (the SDK then makes and
     * owns its own); with a connect timeout, a copy with that timeout, sharing the connection pool
     * of the application's client or of one made once for this client. The same timeout gives the
     * same instance, so that a change elsewhere leaves it as it was.
     */
    synchronized @Nullable OkHttpClient okHttpClient(
        @Nullable OkHttpClient application, @Nullable Duration connectTimeout) {
      if (connectTimeout == null) {
        return application;
      }
      OkHttpClient base = application;
      if (base == null) {
        OkHttpClient o = own;
        if (o == null) {
          o = new OkHttpClient();
          own = o;
        }
        base = o;
      }
      OkHttpClient t = timed;
      if (t == null || timedFrom != base || !connectTimeout.equals(timedTimeout)) {
        t = base.newBuilder().connectTimeout(connectTimeout).build();
        timed = t;
        timedFrom = base;
        timedTimeout = connectTimeout;
      }
      return t;
    }
  }

  /**
   * Builds the client called {@code name}.
   *
   * @throws FailoverConfigurationException if a property is wrong
   */
  FailoverClient create(String name) {
    FailoverProperties.Client client = properties.getClients().get(name);
    if (client == null) {
      throw new FailoverConfigurationException(
          PREFIX + "clients." + name,
          null,
          null,
          "no such client",
          "add failover.clients." + name + ".endpoints",
          null);
    }
    String clientPrefix = PREFIX + "clients." + name;
    String serviceId = client.getDiscovery().getServiceId();
    Built state = new Built(name, serviceId);
    Prepared prepared = prepare(properties, name, client, state, true);
    @Nullable EndpointSource source = prepared.source();
    FailoverClient built;
    try {
      built = prepared.builder().build();
    } catch (RuntimeException | Error e) {
      if (source != null) {
        source.close(); // the SDK closes it too; closing twice is harmless
      }
      if (!(e instanceof IllegalStateException || e instanceof IllegalArgumentException)) {
        throw e;
      }
      if (source != null) {
        if (client.getEndpoints().isEmpty()) {
          // Without fallback endpoints, build() fails when the registry gave no usable list in
          // time: name the setting that made the client depend on it.
          throw invalid(
              clientPrefix + ".discovery.service-id",
              serviceId,
              String.valueOf(e.getMessage()),
              "check that the registry is reachable and lists instances of '"
                  + serviceId
                  + "' with a zone in their metadata, raise "
                  + clientPrefix
                  + ".discovery.start-timeout, or list "
                  + clientPrefix
                  + ".endpoints as a fallback",
              e);
        }
      }
      throw notBuilt(
          name, (RuntimeException) e); // IllegalStateException or IllegalArgumentException
    }
    state.client = built;
    try {
      applyZonalShifts(clientPrefix, client, state, true);
    } catch (RuntimeException e) {
      built.close();
      throw e;
    }
    instrumentation.orderedStream().forEach(i -> i.bind(name, built));
    synchronized (this) {
      this.built.put(name, state);
    }
    return built;
  }

  private static FailoverConfigurationException notBuilt(String name, RuntimeException e) {
    return new FailoverConfigurationException(
        PREFIX + "clients." + name,
        null,
        null,
        String.valueOf(e.getMessage()),
        "check failover.defaults, failover.configs, failover.clients."
            + name
            + " and any FailoverClientCustomizer",
        e);
  }

  /** A builder with every setting of one client applied, and the endpoint source it started. */
  private record Prepared(FailoverClient.Builder builder, @Nullable EndpointSource source) {}

  /**
   * Applies the properties of client {@code name} from {@code props}, then the instrumentation
   * listeners and the customizers, to a new builder. With {@code withSource} false (a change at run
   * time), a client fed by a registry gets its discovery settings but no new source: it keeps its
   * own.
   */
  private Prepared prepare(
      FailoverProperties props,
      String name,
      FailoverProperties.Client client,
      Built state,
      boolean withSource) {
    FailoverClient.Builder builder = FailoverClient.builder();
    String clientPrefix = PREFIX + "clients." + name;
    apply(clientPrefix, name, () -> builder.service(name), "use a host name such as 'directory'");
    Locality home = home(props);
    builder.home(home);
    String serviceId = client.getDiscovery().getServiceId();
    Layers l = layers(props, name, client);
    applyEndpoints(name, client, builder, serviceId != null);
    Duration connectTimeout = applySettings(l, builder);
    @Nullable EndpointSource source =
        serviceId == null ? null : applyDiscovery(l, serviceId, home, builder, withSource);
    OkHttpClient http = state.okHttpClient(okHttpClient.getIfUnique(), connectTimeout);
    if (http != null) {
      builder.okHttpClient(http);
    }
    instrumentation.orderedStream().forEach(i -> builder.listener(i.listener(name)));
    customizers.orderedStream().forEach(c -> c.customize(name, builder));
    return new Prepared(builder, source);
  }

  /**
   * The property layers of a client, most specific first: its own settings, the shared
   * configuration its base-config names, failover.configs.default, failover.defaults.
   *
   * @throws FailoverConfigurationException if base-config names no shared configuration
   */
  private Layers layers(FailoverProperties props, String name, FailoverProperties.Client client) {
    List<Layer> layers = new ArrayList<>();
    String clientPrefix = PREFIX + "clients." + name + ".";
    layers.add(new Layer(client, clientPrefix));
    String base = client.getBaseConfig();
    Map<String, FailoverProperties.Settings> configs = props.getConfigs();
    if (base != null) {
      FailoverProperties.Settings config = configs.get(base);
      if (config == null) {
        String near = nearest(base, configs.keySet());
        throw invalid(
            clientPrefix + "base-config",
            base,
            "names no shared configuration; "
                + (configs.isEmpty()
                    ? "failover.configs defines none"
                    : "failover.configs defines " + configs.keySet()),
            near != null
                ? "did you mean '" + near + "'?"
                : "define failover.configs." + base + ", or name one of failover.configs",
            null);
      }
      layers.add(new Layer(config, PREFIX + "configs." + base + "."));
    }
    FailoverProperties.Settings shared = configs.get(DEFAULT_CONFIG);
    if (shared != null && !DEFAULT_CONFIG.equals(base)) {
      layers.add(new Layer(shared, PREFIX + "configs." + DEFAULT_CONFIG + "."));
    }
    layers.add(new Layer(props.getDefaults(), PREFIX + "defaults."));
    return new Layers(name, clientPrefix, layers);
  }

  /**
   * Planned zonal shifts from {@code failover.clients.<name>.zonal-shifts.<zone>}: at start, every
   * one (a wrong one fails start-up); on a change at run time, those added or given another end (a
   * shift an operator cancelled stays cancelled until its property changes), and the end of those
   * removed (a wrong one is logged).
   */
  private void applyZonalShifts(
      String clientPrefix, FailoverProperties.Client client, Built state, boolean atStart) {
    FailoverClient c = Objects.requireNonNull(state.client);
    Map<String, Instant> wanted = client.getZonalShifts();
    for (String zone : List.copyOf(state.shifts.keySet())) {
      if (!wanted.containsKey(zone)) {
        state.shifts.remove(zone);
        String property = clientPrefix + ".zonal-shifts." + zone;
        try {
          c.cancelShift(zone, "property " + property + " removed");
        } catch (IllegalArgumentException e) {
          LOG.info("{} removed: {}", property, e.getMessage()); // its zone is gone too
        }
      }
    }
    Instant now = Instant.now();
    for (Map.Entry<String, Instant> shift : wanted.entrySet()) {
      String property = clientPrefix + ".zonal-shifts." + shift.getKey();
      if (!atStart && shift.getValue().equals(state.shifts.get(shift.getKey()))) {
        continue;
      }
      state.shifts.put(shift.getKey(), shift.getValue());
      Duration left = Duration.between(now, shift.getValue());
      if (left.compareTo(Duration.ofSeconds(1)) < 0) {
        LOG.info("{}: the zonal shift until {} has ended; ignored", property, shift.getValue());
        continue;
      }
      try {
        c.shiftAway(shift.getKey(), left, "property " + property);
      } catch (IllegalArgumentException | IllegalStateException e) {
        FailoverConfigurationException wrong =
            invalid(
                property,
                shift.getValue(),
                String.valueOf(e.getMessage()),
                "name a zone of one of the client's endpoints, with an end at most 3 days ahead",
                e);
        if (atStart) {
          throw wrong;
        }
        LOG.error("configuration change not applied: {}", wrong.getMessage());
      }
    }
  }

  private Locality home(FailoverProperties props) {
    FailoverProperties.Home home = props.getHome();
    String region = home.getRegion();
    String zone = home.getZone();
    if (region == null || region.isBlank()) {
      throw missing(
          PREFIX + "home.region",
          "set failover.home.region to the region this application runs in, such as us-east-1");
    }
    if (zone == null || zone.isBlank()) {
      throw missing(
          PREFIX + "home.zone",
          "set failover.home.zone to the availability zone this application runs in, such as"
              + " us-east-1a");
    }
    return Locality.of(region, zone);
  }

  /**
   * The client's endpoints: all of them, or with {@code discovery.service-id} the fallback used
   * until the registry's first list (then they may be left out).
   */
  private void applyEndpoints(
      String name,
      FailoverProperties.Client client,
      FailoverClient.Builder builder,
      boolean fallback) {
    String prefix = PREFIX + "clients." + name + ".endpoints";
    List<FailoverProperties.Endpoint> endpoints = client.getEndpoints();
    if (endpoints.isEmpty()) {
      if (fallback) {
        return;
      }
      throw missing(
          prefix,
          "list the service's endpoints under failover.clients."
              + name
              + ".endpoints, each with url, region and zone, or set failover.clients."
              + name
              + ".discovery.service-id to take them from a service registry");
    }
    Map<String, Integer> seen = new HashMap<>();
    for (int i = 0; i < endpoints.size(); i++) {
      FailoverProperties.Endpoint e = endpoints.get(i);
      String at = prefix + "[" + i + "]";
      String url = e.getUrl();
      String region = e.getRegion();
      String zone = e.getZone();
      if (url == null || url.isBlank()) {
        throw missing(at + ".url", "give the endpoint's base URL, such as https://dir-a:8443");
      }
      if (region == null || region.isBlank()) {
        throw missing(at + ".region", "give the endpoint's region, such as us-east-1");
      }
      if (zone == null || zone.isBlank()) {
        throw missing(at + ".zone", "give the endpoint's availability zone, such as us-east-1a");
      }
      dev.failover.Endpoint endpoint;
      try {
        if (HttpUrl.parse(url) == null) {
          throw new IllegalArgumentException(
              "not an absolute http or https URL; an endpoint URL looks like"
                  + " https://dir-a.internal:8443 or http://10.0.1.7:8080/api");
        }
        endpoint = dev.failover.Endpoint.of(url, region, zone);
        Integer weight = e.getWeight();
        if (weight != null) {
          endpoint = endpoint.withWeight(weight);
        }
      } catch (IllegalArgumentException ex) {
        String property =
            ex.getMessage() != null && ex.getMessage().contains("weight")
                ? at + ".weight"
                : at + ".url";
        throw invalid(
            property,
            property.endsWith("weight") ? e.getWeight() : redact(url),
            String.valueOf(ex.getMessage()),
            property.endsWith("weight")
                ? "use a weight between 1 and 10000"
                : "use an absolute http or https base URL without credentials, query or fragment",
            ex);
      }
      Integer first = seen.putIfAbsent(endpoint.address(), i);
      if (first != null) {
        throw invalid(
            at + ".url",
            endpoint.address(),
            "endpoint "
                + endpoint.address()
                + " is listed twice (also as "
                + prefix
                + "["
                + first
                + "])",
            "remove one of the two entries",
            null);
      }
      builder.endpoint(endpoint);
    }
  }

  /** Applies the settings shared with failover.defaults; returns the connect timeout, if set. */
  private @Nullable Duration applySettings(Layers l, FailoverClient.Builder builder) {

    Setting<Duration> deadline = l.pick("deadline", FailoverProperties.Settings::getDeadline);
    if (deadline != null) {
      positive(deadline);
      apply(deadline.property, deadline.value, () -> builder.deadline(deadline.value), "");
    }
    Setting<Duration> attemptTimeout =
        l.pick("attempt-timeout", FailoverProperties.Settings::getAttemptTimeout);
    if (attemptTimeout != null) {
      positive(attemptTimeout);
      apply(
          attemptTimeout.property,
          attemptTimeout.value,
          () -> builder.attemptTimeout(attemptTimeout.value),
          "");
    }
    Setting<Duration> minAttemptTime =
        l.pick("min-attempt-time", FailoverProperties.Settings::getMinAttemptTime);
    if (minAttemptTime != null) {
      notNegative(minAttemptTime);
      builder.minAttemptTime(minAttemptTime.value);
    }
    Setting<Integer> maxRequests =
        l.pick("max-requests", FailoverProperties.Settings::getMaxRequests);
    if (maxRequests != null) {
      apply(
          maxRequests.property,
          maxRequests.value,
          () -> builder.maxRequests(maxRequests.value),
          "use 1 or more");
    }
    Setting<List<Integer>> statuses =
        l.pick("retryable-statuses", FailoverProperties.Settings::getRetryableStatuses);
    if (statuses != null) {
      apply(
          statuses.property,
          statuses.value,
          () -> builder.retryableStatuses(new LinkedHashSet<>(statuses.value)),
          "list HTTP statuses from 400 to 599, such as 500,502,503,504");
    }
    Setting<Duration> connectTimeout =
        l.pick("connect-timeout", FailoverProperties.Settings::getConnectTimeout);
    if (connectTimeout != null) {
      positive(connectTimeout);
      // What OkHttp accepts (1 ms to about 24 days), checked on a throwaway builder.
      apply(
          connectTimeout.property,
          connectTimeout.value,
          () -> new OkHttpClient.Builder().connectTimeout(connectTimeout.value),
          "use a duration such as 500ms or 2s");
    }
    Setting<List<String>> regionOrder =
        l.pick("region-order", FailoverProperties.Settings::getRegionOrder);
    if (regionOrder != null) {
      builder.regionOrder(regionOrder.value);
    }

    // retry
    Setting<Integer> maxAttempts = l.pick("retry.max-attempts", s -> s.getRetry().getMaxAttempts());
    if (maxAttempts != null) {
      apply(
          maxAttempts.property,
          maxAttempts.value,
          () -> builder.maxAttempts(maxAttempts.value),
          "use 1 (no retries) to 10");
    }
    Setting<Duration> backoffBase =
        l.pick("retry.backoff-base", s -> s.getRetry().getBackoffBase());
    Setting<Duration> backoffCap = l.pick("retry.backoff-cap", s -> s.getRetry().getBackoffCap());
    if (backoffBase != null || backoffCap != null) {
      Duration base = backoffBase != null ? backoffBase.value : Duration.ofMillis(25);
      Duration cap = backoffCap != null ? backoffCap.value : Duration.ofMillis(250);
      if (backoffBase != null) {
        notNegative(backoffBase);
      }
      if (backoffCap != null) {
        notNegative(backoffCap);
      }
      if (cap.compareTo(base) < 0) {
        // Only the base was raised above the default cap: follow it, as the user meant.
        if (backoffCap == null) {
          cap = base;
        } else {
          throw invalid(
              backoffCap.property,
              backoffCap.value,
              "backoff cap (" + cap + ") must not be below backoff base (" + base + ")",
              "raise " + backoffCap.property + " or lower the backoff base",
              null);
        }
      }
      builder.backoff(base, cap);
    }
    Setting<Duration> maxRetryAfter =
        l.pick("retry.max-retry-after", s -> s.getRetry().getMaxRetryAfter());
    if (maxRetryAfter != null) {
      positive(maxRetryAfter);
      builder.maxRetryAfter(maxRetryAfter.value);
    }

    // budget
    Setting<Percentage> ratio = l.pick("budget.ratio", s -> s.getBudget().getRatio());
    Setting<Integer> minPerSecond =
        l.pick("budget.min-per-second", s -> s.getBudget().getMinPerSecond());
    Setting<Duration> window = l.pick("budget.window", s -> s.getBudget().getWindow());
    if (ratio != null || minPerSecond != null || window != null) {
      double r = ratio != null ? ratio.value.fraction() : 0.1;
      int m = minPerSecond != null ? minPerSecond.value : 1;
      Duration w = window != null ? window.value : Duration.ofSeconds(10);
      if (ratio != null && !(r >= 0 && r <= 1)) {
        throw invalid(
            ratio.property,
            ratio.value,
            "must be between 0 and 1 (0% and 100%)",
            "use for example 0.1 or 10%",
            null);
      }
      if (minPerSecond != null && m < 0) {
        throw invalid(minPerSecond.property, m, "must not be negative", "use 0 or more", null);
      }
      if (window != null) {
        positive(window);
      }
      Setting<Duration> windowSetting = window;
      apply(
          windowSetting != null ? windowSetting.property : l.clientPrefix + "budget",
          w,
          () -> builder.retryBudget(r, m, w),
          "use a window between 1s and 5m");
    }

    // health
    Setting<Boolean> enabled = l.pick("health.enabled", s -> s.getHealth().getEnabled());
    Setting<String> path = l.pick("health.path", s -> s.getHealth().getPath());
    boolean probe = enabled != null ? enabled.value : path != null;
    if (probe) {
      String p = path != null ? path.value : "/health";
      HealthCheck check =
          apply(
              path != null ? path.property : l.clientPrefix + "health.path",
              p,
              () -> HealthCheck.http(p),
              "use a path starting with '/', such as /health");
      check =
          durationOf(
              l,
              "health.interval",
              s -> s.getHealth().getInterval(),
              check,
              HealthCheck::withInterval);
      check =
          durationOf(
              l,
              "health.down-interval",
              s -> s.getHealth().getDownInterval(),
              check,
              HealthCheck::withDownInterval);
      check =
          durationOf(
              l,
              "health.no-traffic-interval",
              s -> s.getHealth().getNoTrafficInterval(),
              check,
              HealthCheck::withNoTrafficInterval);
      check =
          durationOf(
              l,
              "health.timeout",
              s -> s.getHealth().getTimeout(),
              check,
              HealthCheck::withTimeout);
      Setting<Integer> healthy =
          l.pick("health.healthy-threshold", s -> s.getHealth().getHealthyThreshold());
      Setting<Integer> unhealthy =
          l.pick("health.unhealthy-threshold", s -> s.getHealth().getUnhealthyThreshold());
      if (healthy != null) {
        atLeastOne(healthy);
      }
      if (unhealthy != null) {
        atLeastOne(unhealthy);
      }
      check =
          check.withThresholds(
              healthy != null ? healthy.value : check.healthyThreshold(),
              unhealthy != null ? unhealthy.value : check.unhealthyThreshold());
      builder.healthCheck(check);
    }

    // ejection
    EjectionPolicy ejection = EjectionPolicy.defaults();
    Setting<Integer> consecutive =
        l.pick("ejection.consecutive-failures", s -> s.getEjection().getConsecutiveFailures());
    if (consecutive != null) {
      atLeastOne(consecutive);
      ejection = ejection.withConsecutiveFailures(consecutive.value);
    }
    Setting<Integer> failureRate =
        l.pick("ejection.failure-rate", s -> s.getEjection().getFailureRate());
    Setting<Integer> windowSize =
        l.pick("ejection.window-size", s -> s.getEjection().getWindowSize());
    Setting<Integer> minimumCalls =
        l.pick("ejection.minimum-calls", s -> s.getEjection().getMinimumCalls());
    if (failureRate != null) {
      percent(failureRate, 1);
    }
    if (windowSize != null) {
      atLeastOne(windowSize);
    }
    if (minimumCalls != null) {
      atLeastOne(minimumCalls);
    }
    int ws = windowSize != null ? windowSize.value : ejection.windowSize();
    int mc = minimumCalls != null ? minimumCalls.value : ejection.minimumCalls();
    if (mc > ws) {
      if (minimumCalls == null) {
        mc = ws; // only the window shrank below the default minimum: follow it
      } else {
        throw invalid(
            minimumCalls.property,
            mc,
            "must not exceed the window size (" + ws + ")",
            "lower " + minimumCalls.property + " or raise the window size",
            null);
      }
    }
    ejection =
        ejection.withFailureRate(
            failureRate != null ? failureRate.value : ejection.failureRatePercent(), ws, mc);
    Setting<Duration> slow =
        l.pick("ejection.slow-call-duration", s -> s.getEjection().getSlowCallDuration());
    Setting<Integer> slowRate =
        l.pick("ejection.slow-call-rate", s -> s.getEjection().getSlowCallRate());
    if (slow != null) {
      positive(slow);
    }
    if (slowRate != null) {
      percent(slowRate, 1);
    }
    ejection =
        ejection.withSlowCalls(
            slow != null ? slow.value : ejection.slowCallDuration(),
            slowRate != null ? slowRate.value : ejection.slowCallRatePercent());
    Setting<Duration> baseEjection =
        l.pick("ejection.base-ejection-time", s -> s.getEjection().getBaseEjectionTime());
    Setting<Duration> maxEjection =
        l.pick("ejection.max-ejection-time", s -> s.getEjection().getMaxEjectionTime());
    if (baseEjection != null) {
      positive(baseEjection);
    }
    if (maxEjection != null) {
      positive(maxEjection);
    }
    Duration be = baseEjection != null ? baseEjection.value : ejection.baseEjectionTime();
    Duration me = maxEjection != null ? maxEjection.value : ejection.maxEjectionTime();
    if (me.compareTo(be) < 0) {
      if (maxEjection == null) {
        me = be;
      } else {
        throw invalid(
            maxEjection.property,
            me,
            "must not be shorter than the base ejection time (" + be + ")",
            "raise " + maxEjection.property + " or lower the base ejection time",
            null);
      }
    }
    ejection = ejection.withEjectionTime(be, me);
    Setting<Integer> halfOpen =
        l.pick("ejection.half-open-probes", s -> s.getEjection().getHalfOpenProbes());
    if (halfOpen != null) {
      atLeastOne(halfOpen);
      ejection = ejection.withHalfOpenProbes(halfOpen.value);
    }
    builder.ejection(ejection);

    applyHedging(l, builder);
    applyStale(l, builder);
    applyZones(l, builder);

    // panic
    Setting<Integer> threshold = l.pick("panic.threshold", s -> s.getPanic().getThreshold());
    Setting<Boolean> failOpen = l.pick("panic.fail-open", s -> s.getPanic().getFailOpen());
    if (threshold != null || failOpen != null) {
      if (threshold != null) {
        percent(threshold, 0);
      }
      builder.panic(
          threshold != null ? threshold.value : 0, failOpen != null ? failOpen.value : true);
    }
    return connectTimeout == null ? null : connectTimeout.value;
  }

  /**
   * Endpoints from the application's Spring Cloud DiscoveryClient: the source (unless {@code
   * withSource} is false), and the policy over the SDK's defaults ({@link
   * DiscoveryPolicy#defaults()}).
   *
   * @return the source, not yet started, or null without {@code withSource}
   */
  private @Nullable EndpointSource applyDiscovery(
      Layers l,
      String serviceId,
      Locality home,
      FailoverClient.Builder builder,
      boolean withSource) {
    String name = l.name;
    String serviceIdProperty = l.clientPrefix + "discovery.service-id";
    if (serviceId.isBlank()) {
      throw invalid(
          serviceIdProperty,
          serviceId,
          "must not be blank",
          "set the id the registry knows the service by, such as directory-service",
          null);
    }
    Duration refreshInterval = DEFAULT_REFRESH_INTERVAL;
    Setting<Duration> refresh =
        l.pick("discovery.refresh-interval", s -> s.getDiscovery().getRefreshInterval());
    if (refresh != null) {
      positive(refresh);
      if (refresh.value.compareTo(MIN_REFRESH_INTERVAL) < 0) {
        throw invalid(
            refresh.property,
            refresh.value,
            "must be at least 100ms but was " + refresh.value,
            "use an interval of 100ms or more, such as 30s",
            null);
      }
      refreshInterval = refresh.value;
    }
    Setting<Duration> heartbeat =
        l.pick("discovery.heartbeat-timeout", s -> s.getDiscovery().getHeartbeatTimeout());
    if (heartbeat != null) {
      positive(heartbeat);
    }
    Setting<String> region = l.pick("discovery.region", s -> s.getDiscovery().getRegion());
    if (region != null) {
      notBlank(region, "name a region such as us-east-1, or leave it unset for the home region");
    }
    Setting<String> defaultZone =
        l.pick("discovery.default-zone", s -> s.getDiscovery().getDefaultZone());
    if (defaultZone != null) {
      notBlank(
          defaultZone,
          "name a zone such as us-east-1a, or leave it unset to skip instances without a zone");
    }
    Setting<List<String>> zoneKeys =
        l.pick("discovery.zone-keys", s -> s.getDiscovery().getZoneKeys());
    if (zoneKeys != null) {
      keys(zoneKeys);
    }
    Setting<List<String>> regionKeys =
        l.pick("discovery.region-keys", s -> s.getDiscovery().getRegionKeys());
    if (regionKeys != null) {
      keys(regionKeys);
    }
    Setting<String> weightKey =
        l.pick("discovery.weight-key", s -> s.getDiscovery().getWeightKey());
    if (weightKey != null) {
      notBlank(weightKey, "name a metadata key such as weight");
    }

    DiscoveryPolicy policy = DiscoveryPolicy.defaults();
    Setting<Duration> startTimeout =
        l.pick("discovery.start-timeout", s -> s.getDiscovery().getStartTimeout());
    if (startTimeout != null) {
      DiscoveryPolicy p = policy;
      policy =
          apply(
              startTimeout.property,
              startTimeout.value,
              () -> p.withStartTimeout(startTimeout.value),
              "use a duration between 0s and 10m, such as 5s");
    }
    Setting<Integer> maxRemoval =
        l.pick("discovery.max-removal-percent", s -> s.getDiscovery().getMaxRemovalPercent());
    if (maxRemoval != null) {
      percent(maxRemoval, 1);
      DiscoveryPolicy p = policy;
      policy =
          apply(
              maxRemoval.property,
              maxRemoval.value,
              () -> p.withMaxRemovalPercent(maxRemoval.value),
              "use a whole number of percent between 1 and 100, such as 50");
    }
    Setting<Duration> confirmation =
        l.pick("discovery.removal-confirmation", s -> s.getDiscovery().getRemovalConfirmation());
    if (confirmation != null) {
      DiscoveryPolicy p = policy;
      policy =
          apply(
              confirmation.property,
              confirmation.value,
              () -> p.withRemovalConfirmation(confirmation.value),
              "use a duration between 0s and 24h, such as 60s");
    }
    Setting<Duration> maxStaleness =
        l.pick("discovery.max-staleness", s -> s.getDiscovery().getMaxStaleness());
    if (maxStaleness != null) {
      DiscoveryPolicy p = policy;
      policy =
          apply(
              maxStaleness.property,
              maxStaleness.value,
              () -> p.withMaxStaleness(maxStaleness.value),
              "use a duration between 1s and 30d, such as 5m");
    }

    if (!withSource) {
      builder.discovery(policy); // the client keeps the source it has
      return null;
    }
    EndpointSources sources = endpointSources.getIfAvailable();
    if (sources == null) {
      throw invalid(
          serviceIdProperty,
          serviceId,
          "needs Spring Cloud Commons and a DiscoveryClient on the class path",
          "add a Spring Cloud discovery client, such as spring-cloud-starter-netflix-eureka-client,"
              + " or list the endpoints under "
              + l.clientPrefix
              + "endpoints instead",
          null);
    }
    EndpointSources.Settings settings =
        new EndpointSources.Settings(
            serviceId.trim(),
            refreshInterval,
            heartbeat != null ? heartbeat.value : null,
            new EndpointSources.InstanceMapping(
                region != null ? region.value.trim() : home.region(),
                defaultZone != null ? defaultZone.value.trim() : null,
                zoneKeys != null
                    ? trimmed(zoneKeys.value)
                    : EndpointSources.InstanceMapping.ZONE_KEYS,
                regionKeys != null
                    ? trimmed(regionKeys.value)
                    : EndpointSources.InstanceMapping.REGION_KEYS,
                weightKey != null
                    ? weightKey.value.trim()
                    : EndpointSources.InstanceMapping.WEIGHT_KEY));
    EndpointSource source;
    try {
      source = sources.create(name, settings);
    } catch (IllegalStateException e) {
      throw invalid(
          serviceIdProperty,
          serviceId,
          String.valueOf(e.getMessage()),
          "add a Spring Cloud discovery client, such as spring-cloud-starter-netflix-eureka-client,"
              + " or list the endpoints under "
              + l.clientPrefix
              + "endpoints instead",
          e);
    }
    builder.endpointSource(source).discovery(policy);
    return source;
  }

  private static List<String> trimmed(List<String> keys) {
    return keys.stream().map(String::trim).toList();
  }

  /** Hedging: the mode, then each setting, over the SDK's defaults ({@link HedgePolicy#off()}). */
  private void applyHedging(Layers l, FailoverClient.Builder builder) {
    Setting<HedgePolicy.Mode> mode = l.pick("hedge.mode", s -> s.getHedge().getMode());
    Setting<Duration> delay = l.pick("hedge.delay", s -> s.getHedge().getDelay());
    Setting<Percentage> maxExtraLoad =
        l.pick("hedge.max-extra-load", s -> s.getHedge().getMaxExtraLoad());
    Setting<Integer> maxHedges = l.pick("hedge.max-hedges", s -> s.getHedge().getMaxHedges());
    Setting<Duration> minDelay = l.pick("hedge.min-delay", s -> s.getHedge().getMinDelay());
    if (mode == null
        && delay == null
        && maxExtraLoad == null
        && maxHedges == null
        && minDelay == null) {
      return;
    }
    if (delay != null) {
      positive(delay);
    }
    if (maxExtraLoad != null) {
      double x = maxExtraLoad.value.fraction();
      if (!(x > 0 && x <= 0.5)) {
        throw invalid(
            maxExtraLoad.property,
            maxExtraLoad.value,
            "must be above 0 and at most 0.5 (50%) but was " + maxExtraLoad.value,
            "use a share of extra attempts such as 5% or 0.05",
            null);
      }
    }
    if (maxHedges != null && (maxHedges.value < 1 || maxHedges.value > 4)) {
      throw invalid(
          maxHedges.property,
          maxHedges.value,
          "must be between 1 and 4",
          "use 1 to 4 hedges per call",
          null);
    }
    if (minDelay != null) {
      notNegative(minDelay);
    }
    HedgePolicy d = HedgePolicy.off();
    HedgePolicy policy =
        apply(
            l.clientPrefix + "hedge",
            null,
            () ->
                new HedgePolicy(
                    mode != null ? mode.value : d.mode(),
                    delay != null ? delay.value : d.delay(),
                    maxExtraLoad != null ? maxExtraLoad.value.fraction() : d.maxExtraLoad(),
                    maxHedges != null ? maxHedges.value : d.maxHedges(),
                    minDelay != null ? minDelay.value : d.minDelay()),
            "");
    builder.hedging(policy);
  }

  /** Stale-if-error, over the SDK's defaults ({@link StaleCache#disabled()}). */
  private void applyStale(Layers l, FailoverClient.Builder builder) {
    Setting<Boolean> enabled = l.pick("stale.enabled", s -> s.getStale().getEnabled());
    Setting<Long> maxEntries = l.pick("stale.max-entries", s -> s.getStale().getMaxEntries());
    Setting<DataSize> maxBodySize =
        l.pick("stale.max-body-size", s -> s.getStale().getMaxBodySize());
    Setting<Duration> maxAge = l.pick("stale.max-age", s -> s.getStale().getMaxAge());
    if (enabled == null && maxEntries == null && maxBodySize == null && maxAge == null) {
      return;
    }
    if (maxEntries != null && maxEntries.value < 1) {
      throw invalid(
          maxEntries.property,
          maxEntries.value,
          "must be 1 or more",
          "use 1 or more, such as 1000",
          null);
    }
    if (maxBodySize != null && maxBodySize.value.toBytes() < 1) {
      throw invalid(
          maxBodySize.property,
          maxBodySize.value,
          "must be at least 1B but was " + maxBodySize.value,
          "use a size such as 64KB or 1MB",
          null);
    }
    if (maxAge != null) {
      positive(maxAge);
    }
    StaleCache d = StaleCache.disabled();
    StaleCache cache =
        apply(
            l.clientPrefix + "stale",
            null,
            () ->
                new StaleCache(
                    enabled != null && enabled.value,
                    maxEntries != null ? maxEntries.value : d.maxEntries(),
                    maxBodySize != null ? maxBodySize.value.toBytes() : d.maxBodyBytes(),
                    maxAge != null ? maxAge.value : d.maxAge()),
            "");
    builder.staleIfError(cache);
  }

  /** Zone evacuation, over the SDK's defaults ({@link ZonePolicy#defaults()}). */
  private void applyZones(Layers l, FailoverClient.Builder builder) {
    Setting<Boolean> enabled = l.pick("zones.enabled", s -> s.getZones().getEnabled());
    Setting<Integer> ejectedPercent =
        l.pick("zones.ejected-percent", s -> s.getZones().getEjectedPercent());
    Setting<Double> outlierK = l.pick("zones.outlier-k", s -> s.getZones().getOutlierK());
    Setting<Integer> minSamples = l.pick("zones.min-samples", s -> s.getZones().getMinSamples());
    Setting<Duration> window = l.pick("zones.window", s -> s.getZones().getWindow());
    Setting<Duration> hysteresis = l.pick("zones.hysteresis", s -> s.getZones().getHysteresis());
    Setting<Duration> slowStart = l.pick("zones.slow-start", s -> s.getZones().getSlowStart());
    Setting<Integer> maxEvacuatedPercent =
        l.pick("zones.max-evacuated-percent", s -> s.getZones().getMaxEvacuatedPercent());
    if (maxEvacuatedPercent == null
        && enabled == null
        && ejectedPercent == null
        && outlierK == null
        && minSamples == null
        && window == null
        && hysteresis == null
        && slowStart == null) {
      return;
    }
    if (ejectedPercent != null) {
      percent(ejectedPercent, 1);
    }
    if (maxEvacuatedPercent != null) {
      percent(maxEvacuatedPercent, 1);
    }
    if (outlierK != null && !(outlierK.value > 0 && Double.isFinite(outlierK.value))) {
      throw invalid(
          outlierK.property,
          outlierK.value,
          "must be a positive number but was " + outlierK.value,
          "use a positive number of median absolute deviations, such as 3",
          null);
    }
    if (minSamples != null) {
      atLeastOne(minSamples);
    }
    if (window != null) {
      positive(window);
      if (window.value.compareTo(MIN_ZONE_WINDOW) < 0) {
        throw invalid(
            window.property,
            window.value,
            "must be at least 2s but was " + window.value,
            "use a window of 2s or more, such as 10s",
            null);
      }
    }
    if (hysteresis != null) {
      positive(hysteresis);
    }
    if (slowStart != null) {
      notNegative(slowStart);
    }
    ZonePolicy d = ZonePolicy.defaults();
    ZonePolicy policy =
        apply(
            l.clientPrefix + "zones",
            null,
            () ->
                new ZonePolicy(
                    enabled != null ? enabled.value : d.enabled(),
                    ejectedPercent != null ? ejectedPercent.value : d.ejectedPercent(),
                    outlierK != null ? outlierK.value : d.outlierK(),
                    minSamples != null ? minSamples.value : d.minSamples(),
                    window != null ? window.value : d.window(),
                    hysteresis != null ? hysteresis.value : d.hysteresis(),
                    slowStart != null ? slowStart.value : d.slowStart(),
                    maxEvacuatedPercent != null
                        ? maxEvacuatedPercent.value
                        : d.maxEvacuatedPercent()),
            "");
    builder.zones(policy);
  }

  private HealthCheck durationOf(
      Layers l,
      String key,
      Function<FailoverProperties.Settings, @Nullable Duration> getter,
      HealthCheck check,
      java.util.function.BiFunction<HealthCheck, Duration, HealthCheck> with) {
    Setting<Duration> d = l.pick(key, getter);
    if (d == null) {
      return check;
    }
    positive(d);
    return with.apply(check, d.value);
  }

  // ---- checks that name the property ----

  private void positive(Setting<Duration> d) {
    if (d.value.isNegative() || d.value.isZero()) {
      throw invalid(
          d.property,
          d.value,
          "must be a positive duration but was " + d.value,
          "use a positive duration such as 500ms or 2s",
          null);
    }
  }

  private void notNegative(Setting<Duration> d) {
    if (d.value.isNegative()) {
      throw invalid(
          d.property,
          d.value,
          "must not be a negative duration but was " + d.value,
          "use zero or a positive duration such as 25ms",
          null);
    }
  }

  private void notBlank(Setting<String> s, String action) {
    if (s.value.isBlank()) {
      throw invalid(s.property, s.value, "must not be blank", action, null);
    }
  }

  private void keys(Setting<List<String>> keys) {
    if (keys.value.isEmpty() || keys.value.stream().anyMatch(k -> k == null || k.isBlank())) {
      throw invalid(
          keys.property,
          String.join(",", keys.value),
          "must list one or more metadata keys, none blank",
          "list metadata keys such as zone,topology.kubernetes.io/zone",
          null);
    }
  }

  private void atLeastOne(Setting<Integer> n) {
    if (n.value < 1) {
      throw invalid(n.property, n.value, "must be 1 or more", "use 1 or more", null);
    }
  }

  private void percent(Setting<Integer> n, int min) {
    if (n.value < min || n.value > 100) {
      throw invalid(
          n.property,
          n.value,
          "must be a percentage between " + min + " and 100",
          "use a whole number of percent between " + min + " and 100, such as 50",
          null);
    }
  }

  private <T> T apply(
      String property,
      @Nullable Object value,
      java.util.function.Supplier<T> setter,
      String action) {
    try {
      return setter.get();
    } catch (IllegalArgumentException e) {
      throw invalid(
          property,
          value,
          String.valueOf(e.getMessage()),
          action.isEmpty() ? "correct the value" : action,
          e);
    }
  }

  private FailoverConfigurationException missing(String property, String action) {
    return new FailoverConfigurationException(
        property, null, null, "is required but is not set", action, null);
  }

  private FailoverConfigurationException invalid(
      String property,
      @Nullable Object value,
      String problem,
      String action,
      @Nullable Throwable cause) {
    ConfigurationProperty configured = configured(property);
    Object shown = value;
    String origin = null;
    if (configured != null) {
      // Show the value as written (-2s rather than PT-2S), except for URLs, which may hold secrets.
      if (!property.endsWith(".url") && configured.getValue() != null) {
        shown = configured.getValue();
      }
      origin = configured.getOrigin() != null ? configured.getOrigin().toString() : null;
    }
    return new FailoverConfigurationException(property, shown, origin, problem, action, cause);
  }

  /** The property as configured, with where it comes from, such as a line of application.yml. */
  private @Nullable ConfigurationProperty configured(String property) {
    ConfigurationPropertyName name = ConfigurationPropertyName.of(property);
    for (ConfigurationPropertySource source : ConfigurationPropertySources.get(environment)) {
      ConfigurationProperty found = source.getConfigurationProperty(name);
      if (found != null) {
        return found;
      }
    }
    return null;
  }

  /** The text with the user info of a URL in it replaced by {@code ***}. */
  static String redact(String url) {
    int at = url.indexOf('@');
    int scheme = url.indexOf("://");
    if (at > 0 && scheme >= 0 && at > scheme) {
      return url.substring(0, scheme + 3) + "***@" + url.substring(at + 1);
    }
    return url;
  }

  /** A resolved setting: its value and the property that supplied it. */
  private record Setting<T>(T value, String property) {}

  /** One layer of settings and the prefix of its properties, such as failover.defaults. */
  private record Layer(FailoverProperties.Settings settings, String prefix) {}

  /** The property layers of one client, most specific first. */
  private static final class Layers {
    final String name;
    final String clientPrefix;
    final List<Layer> layers;

    Layers(String name, String clientPrefix, List<Layer> layers) {
      this.name = name;
      this.clientPrefix = clientPrefix;
      this.layers = List.copyOf(layers);
    }

    /** The value of the first layer that sets {@code key}, with its property; null if none. */
    <T> @Nullable Setting<T> pick(
        String key, Function<FailoverProperties.Settings, @Nullable T> getter) {
      for (Layer layer : layers) {
        T value = getter.apply(layer.settings());
        if (value != null) {
          return new Setting<>(value, layer.prefix() + key);
        }
      }
      return null;
    }
  }
}
