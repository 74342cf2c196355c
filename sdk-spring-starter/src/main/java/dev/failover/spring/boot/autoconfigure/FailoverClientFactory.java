package dev.failover.spring.boot.autoconfigure;

import dev.failover.DiscoveryPolicy;
import dev.failover.EjectionPolicy;
import dev.failover.EndpointSource;
import dev.failover.FailoverClient;
import dev.failover.HealthCheck;
import dev.failover.HedgePolicy;
import dev.failover.InvalidConfigurationException;
import dev.failover.InvalidSettingException;
import dev.failover.Locality;
import dev.failover.StaleCache;
import dev.failover.ZonePolicy;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;
import okhttp3.OkHttpClient;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.BeanCreationException;
import org.springframework.beans.factory.BeanCurrentlyInCreationException;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.BeanFactoryAware;
import org.springframework.beans.factory.BeanFactoryUtils;
import org.springframework.beans.factory.InitializingBean;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.boot.context.properties.PropertyMapper;
import org.springframework.boot.context.properties.bind.BindException;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.ConfigurationProperty;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.boot.context.properties.source.ConfigurationPropertySource;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.core.NestedExceptionUtils;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.core.env.Environment;
import org.springframework.util.unit.DataSize;

/**
 * Builds the failover client of each {@code failover.clients.<name>}: properties of {@code
 * failover.defaults}, {@code failover.configs.default}, the client's base configuration and the
 * client's own, then instrumentation listeners, then customizers. Every wrong value fails with a
 * {@link FailoverConfigurationException} naming its property. When the configuration changes at run
 * time ({@link #refresh(Set)}), it reconfigures the clients it built in place.
 */
final class FailoverClientFactory
    implements InitializingBean, SmartInitializingSingleton, BeanFactoryAware {
  private static final Logger LOG = LoggerFactory.getLogger(FailoverClientFactory.class);
  private static final String PREFIX = "failover.";
  private static final String DEFAULT_CONFIG = "default";

  // The SDK's defaults of the settings its builder takes in pairs or triples (backoff, retry
  // budget, panic), for a layer that sets one of them; ConfigurationMetadataTests checks them
  // against a client built without the starter.
  private static final Duration BACKOFF_BASE = Duration.ofMillis(25);
  private static final Duration BACKOFF_CAP = Duration.ofMillis(250);
  private static final double BUDGET_RATIO = 0.1;
  private static final int BUDGET_MIN_PER_SECOND = 1;
  private static final Duration BUDGET_WINDOW = Duration.ofSeconds(10);
  private static final int PANIC_THRESHOLD = 0;
  private static final boolean PANIC_FAIL_OPEN = true;
  private static final Duration DEFAULT_REFRESH_INTERVAL = Duration.ofSeconds(30);
  private static final Duration MIN_REFRESH_INTERVAL = Duration.ofMillis(100);
  // The longest duration the SDK takes for any setting: the registry source's intervals go into
  // nanosecond arithmetic too (an overflow there stopped the source without naming the property).
  private static final Duration MAX_DURATION = Duration.ofHours(24);
  private static final Duration MIN_HEARTBEAT_TIMEOUT = Duration.ofMillis(1);

  private final FailoverProperties properties;
  private final Environment environment;
  private final ObjectProvider<FailoverClientCustomizer> customizers;
  private final ObjectProvider<ClientInstrumentation> instrumentation;
  private final ObjectProvider<OkHttpClient> okHttpClient;
  private final ObjectProvider<EndpointSources> endpointSources;

  /** The clients this factory built, by name; guarded by this. */
  private final Map<String, Built> built = new LinkedHashMap<>();

  /** The application's bean factory; null when built outside Spring (tests). */
  private volatile @Nullable ConfigurableListableBeanFactory beanFactory;

  /**
   * By client, the customizer beans left out of it because they were being created when it was
   * built ({@link #customizers(String)}), until {@link #checkSkipped} checks them. Guarded by this.
   */
  private final Map<String, Set<String>> skipped = new LinkedHashMap<>();

  /** The clients configured at start: those that have beans. */
  private volatile Set<String> startNames = Set.of();

  /**
   * The value of each key under {@code failover} as last seen (at start, or at the last change),
   * placeholders resolved: to find the keys that a change of another key reaches through a
   * placeholder. Guarded by this.
   */
  private Map<String, String> lastValues = Map.of();

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
    FailoverKeys.checkDistinctNames(environment);
    startNames = Collections.unmodifiableSet(new LinkedHashSet<>(properties.getClients().keySet()));
    synchronized (this) {
      lastValues = FailoverKeys.values(environment);
    }
    // The customizers are not created here: one that uses another client (its RestClient) would
    // need this factory, still being created. They are created when the first client is built.
  }

  /**
   * Checks every customizer, all created by now: each {@code forClient} name is a configured
   * client, and none that was still being created when a client was built ({@link
   * #customizers(String)}) applies to that client.
   *
   * @throws FailoverConfigurationException naming the client and the customizer
   */
  @Override
  public void afterSingletonsInstantiated() {
    checkSkipped();
    customizers.orderedStream().forEach(this::checkName);
  }

  @Override
  public void setBeanFactory(BeanFactory beanFactory) {
    if (beanFactory instanceof ConfigurableListableBeanFactory listable) {
      this.beanFactory = listable;
    }
  }

  /**
   * The customizer beans, in order, that can customize client {@code name} now: all of them but
   * those that need this client, directly or through another bean: a customizer whose bean method
   * takes the client's RestClient (a customizer of the directory client that fetches tokens with
   * the auth client), while the auth client is being built. Such a customizer is being created
   * (when it is what asked for the client), or cannot be created before the client is (Spring's
   * BeanCurrentlyInCreationException): so it is left out, and once it exists, {@link #checkSkipped}
   * checks that it is not meant for this client.
   */
  private List<FailoverClientCustomizer> customizers(String name) {
    ConfigurableListableBeanFactory beans = beanFactory;
    List<FailoverClientCustomizer> found;
    if (beans == null) {
      found = customizers.orderedStream().toList();
    } else {
      List<String> leftOut = new ArrayList<>();
      for (String bean : beans.getBeanNamesForType(FailoverClientCustomizer.class, true, false)) {
        if (beans.isCurrentlyInCreation(bean)) {
          leftOut.add(bean);
        }
      }
      List<FailoverClientCustomizer> all = leftOut.isEmpty() ? inOrder() : null;
      found = all != null ? all : ordered(beans, leftOut);
      if (!leftOut.isEmpty()) {
        synchronized (this) {
          skipped.computeIfAbsent(name, n -> new LinkedHashSet<>()).addAll(leftOut);
        }
      }
    }
    found.forEach(this::checkName);
    return found;
  }

  /**
   * Every customizer bean in order, as {@link ObjectProvider#orderedStream()} gives them; null if
   * one cannot be created before the client being built.
   */
  private @Nullable List<FailoverClientCustomizer> inOrder() {
    try {
      return customizers.orderedStream().toList();
    } catch (BeanCreationException e) {
      if (!e.contains(BeanCurrentlyInCreationException.class)) {
        throw e;
      }
      return null;
    }
  }

  /**
   * The customizer beans that can be created now, but {@code leftOut}, in the order {@link
   * ObjectProvider#orderedStream()} gives: {@link Ordered}, else {@link Order} on the bean method
   * or class, else last; ties in the order the beans were registered. One that cannot be created
   * before the client being built is added to {@code leftOut}.
   */
  private static List<FailoverClientCustomizer> ordered(
      ConfigurableListableBeanFactory beans, List<String> leftOut) {
    record Found(int order, FailoverClientCustomizer customizer) {}
    List<Found> found = new ArrayList<>();
    for (String bean :
        BeanFactoryUtils.beanNamesForTypeIncludingAncestors(
            beans, FailoverClientCustomizer.class, true, true)) {
      if (leftOut.contains(bean)
          || (beans.containsBeanDefinition(bean)
              && !beans.getBeanDefinition(bean).isAutowireCandidate())) {
        continue;
      }
      FailoverClientCustomizer c;
      try {
        c = beans.getBean(bean, FailoverClientCustomizer.class);
      } catch (BeanCreationException e) {
        if (!e.contains(BeanCurrentlyInCreationException.class)) {
          throw e;
        }
        leftOut.add(bean);
        continue;
      }
      Order order = beans.findAnnotationOnBean(bean, Order.class);
      int o =
          c instanceof Ordered ordered
              ? ordered.getOrder()
              : order != null ? order.value() : Ordered.LOWEST_PRECEDENCE;
      found.add(new Found(o, c));
    }
    found.sort(Comparator.comparingInt(Found::order)); // stable
    return found.stream().map(Found::customizer).toList();
  }

  /**
   * Checks the customizers left out of a client as being created ({@link #customizers(String)})
   * that exist by now: one meant for that client fails start-up, since the client was built without
   * it.
   */
  private void checkSkipped() {
    ConfigurableListableBeanFactory beans = beanFactory;
    if (beans == null) {
      return;
    }
    Map<String, List<String>> ready = new LinkedHashMap<>();
    synchronized (this) {
      skipped.forEach(
          (client, names) -> {
            for (String bean : List.copyOf(names)) {
              if (!beans.isCurrentlyInCreation(bean)) {
                names.remove(bean);
                ready.computeIfAbsent(client, c -> new ArrayList<>()).add(bean);
              }
            }
          });
      skipped.values().removeIf(Set::isEmpty);
    }
    ready.forEach(
        (client, names) -> {
          for (String bean : names) {
            FailoverClientCustomizer c = beans.getBean(bean, FailoverClientCustomizer.class);
            if (c instanceof ClientCustomizer one && !one.clientName().equals(client)) {
              continue; // another client's: nothing was missed
            }
            throw new FailoverConfigurationException(
                PREFIX + "clients." + client,
                null,
                null,
                "the FailoverClientCustomizer bean '"
                    + bean
                    + "' customizes this client and needs it (its bean method takes the client's"
                    + " RestClient or FailoverClient, or a bean that does): it was still being"
                    + " created when the client was built, so it could not customize it",
                "take ObjectProvider<RestClient> (with the same @Qualifier) in the customizer's bean"
                    + " method and get the client only when the customizer's code calls it, or make"
                    + " the customizer FailoverClientCustomizer.forClient(...) of the clients it"
                    + " does not need",
                null);
          }
        });
  }

  /** Fails start-up for a {@code forClient} customizer that names no configured client. */
  private void checkName(FailoverClientCustomizer c) {
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
   * Names of the clients configured at start, in the order configured: those whose beans {@code
   * <name>FailoverClient} exist (a client added at run time has none).
   */
  Set<String> startNames() {
    return startNames;
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
   * <p>A key outside {@code failover} may reach a failover setting through a placeholder ({@code
   * failover.clients.directory.deadline=${directory.deadline:2s}}): the change then concerns the
   * clients whose keys' values, placeholders resolved, differ from those last seen.
   *
   * @param changedKeys the names of the properties that changed, in their sources' forms
   */
  void refresh(Set<String> changedKeys) {
    Set<String> keys = new LinkedHashSet<>(changedKeys);
    Map<String, String> now = FailoverKeys.values(environment);
    Map<String, String> before;
    synchronized (this) {
      before = lastValues;
      lastValues = now;
    }
    if (keys.stream().anyMatch(k -> !isFailoverKey(k))) {
      keys.addAll(differences(before, now));
    }
    Set<String> names = affected(keys);
    if (names != null && names.isEmpty()) {
      return;
    }
    FailoverProperties fresh;
    try {
      fresh = Binder.get(environment).bindOrCreate("failover", FailoverProperties.class);
      FailoverKeys.check(environment, fresh.isIgnoreUnknownKeys());
      FailoverKeys.checkDistinctNames(environment);
    } catch (BindException e) {
      notApplied(null, unbound(e));
      return;
    } catch (FailoverConfigurationException e) {
      notApplied(null, e);
      return;
    } catch (RuntimeException e) {
      LOG.error(
          "failover configuration change not applied: {}",
          Redaction.text(String.valueOf(e.getMessage())));
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
    String customizerSource = state.customizerSource;
    // A client that starts with static endpoints and is moved to a registry, its endpoints
    // removed, has nothing to reconfigure with until it restarts: only its planned shifts follow.
    boolean shiftsOnly = false;
    if (!Objects.equals(serviceId, state.serviceId)) {
      shiftsOnly = state.serviceId == null && client.getEndpoints().isEmpty();
      LOG.warn(
          "{}.discovery.service-id changed from {} to {} while the application runs: where a"
              + " client's endpoints come from changes at the next start, and the client keeps"
              + " service-id {} until then; {}",
          prefix,
          state.serviceId,
          serviceId,
          state.serviceId,
          customizerSource != null || shiftsOnly
              ? "only its zonal-shifts properties follow changes until then"
              : "the rest of the change is applied");
      // Read as if it were unchanged (this binding is this change's own), so that the client's
      // other settings and its planned shifts still follow the properties.
      client.getDiscovery().setServiceId(state.serviceId);
    }
    // No lock held: customizers and listeners run here (Spring Cloud's ContextRefresher
    // publishes one change at a time).
    List<Prepared> prepared = new ArrayList<>(1);
    try {
      if (customizerSource == null && !shiftsOnly) {
        c.reconfigure(
            b -> {
              Prepared p = prepare(fresh, state.name, client, state, false);
              prepared.add(p);
              return p.builder();
            });
      }
      state.plans.apply(client.getZonalShifts(), false);
      if (customizerSource != null) {
        // The customizers would give the builder a new source, which reconfigure() refuses, and
        // the SDK's builder cannot drop it again: so they do not run (nor make a source that no
        // one starts or closes), and the client keeps its settings.
        LOG.error(
            "failover configuration change not applied to {}: a FailoverClientCustomizer gives the"
                + " client its endpoint source '{}', and a client's source cannot change while it"
                + " runs (only its zonal-shifts properties follow changes); restart the"
                + " application to apply the change",
            prefix,
            Redaction.text(customizerSource));
      }
    } catch (FailoverConfigurationException e) {
      notApplied(prefix, e);
    } catch (InvalidConfigurationException e) {
      FailoverConfigurationException mapped =
          prepared.isEmpty() ? null : misfit(prepared.get(0), e);
      notApplied(prefix, mapped != null ? mapped : notBuilt(state.name, e));
    } catch (IllegalArgumentException | IllegalStateException e) {
      notApplied(prefix, notBuilt(state.name, e));
    }
  }

  /**
   * A value of a change that does not bind (such as {@code deadline=soon}) as the property at
   * fault: its name, its value (masked as {@link Redaction#value} masks it), its origin, why it
   * does not convert (the root cause, quoting the value masked) and advice for its type.
   */
  static FailoverConfigurationException unbound(BindException e) {
    ConfigurationProperty p = e.getProperty();
    String property = (p != null ? p.getName() : e.getName()).toString();
    String raw = p == null || p.getValue() == null ? null : String.valueOf(p.getValue());
    String shown = raw == null ? null : Redaction.value(property, raw);
    String origin = p == null || p.getOrigin() == null ? null : p.getOrigin().toString();
    Class<?> type = e.getTarget().getType().resolve(Object.class);
    Throwable root = NestedExceptionUtils.getMostSpecificCause(e);
    String why = root == e ? "" : " (" + root.getMessage() + ")";
    String problem = "cannot be converted to " + type.getSimpleName() + why;
    return new FailoverConfigurationException(
        property,
        shown,
        origin,
        Redaction.quoting(problem, raw, String.valueOf(shown)),
        advice(type),
        e);
  }

  /** What to write for a value of {@code type}. */
  private static String advice(Class<?> type) {
    if (type == Duration.class) {
      return "use a duration such as 500ms or 2s";
    }
    if (type == DataSize.class) {
      return "use a size such as 64KB";
    }
    if (type == Boolean.class || type == boolean.class) {
      return "use true or false";
    }
    if (type == Integer.class || type == int.class || type == Long.class || type == long.class) {
      return "use a whole number";
    }
    if (type == Percentage.class) {
      return "use a share such as 10% or 0.1";
    }
    if (type == Instant.class) {
      return "use an instant such as 2030-01-01T00:00:00Z";
    }
    if (type.isEnum()) {
      List<String> names = new ArrayList<>();
      for (Object constant : type.getEnumConstants()) {
        names.add(((Enum<?>) constant).name().toLowerCase(Locale.ROOT).replace('_', '-'));
      }
      return "use one of " + names;
    }
    return "use a value that converts to " + type.getSimpleName();
  }

  /** Logs a change not applied: to the clients under {@code prefix}, or (null) to every client. */
  private static void notApplied(@Nullable String prefix, FailoverConfigurationException e) {
    LOG.error(
        "failover configuration change not applied{}: {}{}; {}",
        prefix == null ? "" : " to " + prefix,
        e.getMessage(),
        e.origin() == null ? "" : " (" + e.origin() + ")",
        e.action());
  }

  private static boolean isFailoverKey(String key) {
    String lower = key.toLowerCase(Locale.ROOT);
    return lower.startsWith("failover.") || lower.startsWith("failover_");
  }

  /**
   * The keys whose values differ between two {@link FailoverKeys#values} (added or removed too).
   */
  static Set<String> differences(Map<String, String> before, Map<String, String> now) {
    Set<String> changed = new LinkedHashSet<>();
    now.forEach(
        (k, v) -> {
          if (!v.equals(before.get(k))) {
            changed.add(k);
          }
        });
    for (String k : before.keySet()) {
      if (!now.containsKey(k)) {
        changed.add(k);
      }
    }
    return changed;
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

    /** The zonal shifts its properties ask for (zonal-shifts.<zone>). */
    final PlannedShifts plans;

    /** The instrumentation bound to the client, to unbind when it closes. */
    volatile List<ClientInstrumentation> bound = List.of();

    /**
     * The description of the endpoint source a customizer gave the client (null if none did): a
     * change at run time cannot be applied to it, since the customizers would give it a new source.
     */
    volatile @Nullable String customizerSource;

    /** An OkHttpClient this factory created for it: its pool is the factory's to empty. */
    @Nullable OkHttpClient own;

    /**
     * The settings its registry source was created with (null without one): a change at run time
     * keeps the source, and says so when these would have changed.
     */
    volatile EndpointSources.@Nullable Settings sourceSettings;

    /** Its OkHttpClient with a connect timeout, what it was made from, and the timeout. */
    private @Nullable OkHttpClient timed;

    private @Nullable OkHttpClient timedFrom;
    private @Nullable Duration timedTimeout;

    Built(String name, @Nullable String serviceId, PlannedShifts plans) {
      this.name = name;
      this.serviceId = serviceId;
      this.plans = plans;
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
    checkSkipped(); // with lazy initialization, no afterSingletonsInstantiated() comes
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
    Built state =
        new Built(
            name, serviceId, new PlannedShifts(clientPrefix, serviceId != null, this::invalid));
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
      if (e instanceof InvalidConfigurationException misfit) {
        FailoverConfigurationException mapped = misfit(prepared, misfit);
        if (mapped != null) {
          throw mapped;
        }
      } else if (source != null) {
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
    String used = built.settings().endpointSource().orElse(null);
    if (used != null && (source == null || !used.equals(source.description()))) {
      // A customizer gave the client a source (the SDK keeps the last one given): the starter's,
      // if it made one, was never started.
      state.customizerSource = used;
      if (source != null) {
        source.close();
      }
    }
    try {
      state.plans.attach(built);
      state.plans.apply(client.getZonalShifts(), true);
    } catch (RuntimeException e) {
      built.close();
      throw e;
    }
    List<ClientInstrumentation> bound = new ArrayList<>();
    try {
      instrumentation
          .orderedStream()
          .forEach(
              i -> {
                bound.add(i); // before bind(): one that fails halfway is undone too
                i.bind(name, built);
              });
    } catch (RuntimeException | Error e) {
      unbind(name, built, bound);
      built.close();
      throw e;
    }
    state.bound = List.copyOf(bound);
    synchronized (this) {
      this.built.put(name, state);
    }
    return built;
  }

  /**
   * Undoes what the instrumentation did for a client this factory built (its meters leave the
   * registry); called before the client is closed.
   */
  void unbind(FailoverClient client) {
    Built state = null;
    synchronized (this) {
      for (Built b : built.values()) {
        if (b.client == client) {
          state = b;
        }
      }
    }
    if (state != null) {
      unbind(state.name, client, state.bound);
    }
  }

  private static void unbind(
      String name, FailoverClient client, List<ClientInstrumentation> instrumentations) {
    for (ClientInstrumentation i : instrumentations) {
      try {
        i.unbind(name, client);
      } catch (RuntimeException e) {
        LOG.warn("failover.clients.{}: releasing its instrumentation failed", name, e);
      }
    }
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

  /**
   * {@code build()}'s error about settings that do not fit together (an attempt timeout beyond the
   * deadline, an endpoint listed twice ...) as the property that set the setting to change: the
   * layer that set it, as for a value the SDK rejects ({@link #rejected}), with advice that names
   * the property it conflicts with. Null for an error that no property maps to (a service or home
   * that a customizer removed), which {@link #notBuilt} reports against the client.
   */
  private @Nullable FailoverConfigurationException misfit(
      Prepared prepared, InvalidConfigurationException e) {
    Layers l = prepared.layers();
    String problem = String.valueOf(e.getMessage());
    switch (e.setting()) {
      case "attemptTimeout", "minAttemptTime" -> {
        boolean timeout = e.setting().equals("attemptTimeout");
        String suffix = timeout ? "attempt-timeout" : "min-attempt-time";
        Setting<?> own = l.picked(suffix);
        String property = own != null ? own.property() : l.clientPrefix + suffix;
        Setting<?> deadline = l.picked("deadline");
        String deadlineProperty =
            deadline != null ? deadline.property() : l.clientPrefix + "deadline";
        String limit = deadline != null ? " (" + deadline.value() + ")" : "";
        String reason =
            deadline == null
                ? problem
                : (timeout ? "must not exceed" : "must be shorter than")
                    + " the deadline ("
                    + deadline.value()
                    + ", set by "
                    + deadlineProperty
                    + ") but was "
                    + (own != null ? own.value() : e.value());
        return invalid(
            property,
            own != null ? own.value() : e.value(),
            reason,
            "lower "
                + property
                + (timeout ? " to at most the deadline" : " below the deadline")
                + limit
                + ", or raise "
                + deadlineProperty,
            e);
      }
      case "regionOrder" -> {
        Setting<?> order = l.picked("region-order");
        String property = order != null ? order.property() : l.clientPrefix + "region-order";
        if (order != null && order.value() instanceof List<?> regions) {
          // Written as a YAML list, each region has its own key, with its own line.
          String item = property + "[" + regions.indexOf(e.value()) + "]";
          if (configured(item) != null) {
            property = item;
          }
        }
        return invalid(
            property,
            e.value(),
            problem,
            "correct the region's name, remove it from "
                + property
                + ", or list an endpoint in region '"
                + e.value()
                + "' under "
                + l.clientPrefix
                + "endpoints",
            e);
      }
      case "endpoint" -> {
        Object duplicate = e.value();
        if (duplicate == null) {
          return invalid(
              l.clientPrefix + "endpoints",
              null,
              problem,
              "list the service's endpoints under "
                  + l.clientPrefix
                  + "endpoints, and check that no FailoverClientCustomizer removes them",
              e);
        }
        // The starter rejects an endpoint its properties list twice: a customizer added it again.
        List<FailoverProperties.Endpoint> endpoints = prepared.client().getEndpoints();
        for (int i = 0; i < endpoints.size(); i++) {
          FailoverProperties.Endpoint endpoint = endpoints.get(i);
          if (duplicate.equals(address(endpoint))) {
            return invalid(
                l.clientPrefix + "endpoints[" + i + "].url",
                duplicate,
                problem + " (by this property and by a FailoverClientCustomizer)",
                "remove "
                    + l.clientPrefix
                    + "endpoints["
                    + i
                    + "], or stop the FailoverClientCustomizer adding the endpoint again",
                e);
          }
        }
        return null;
      }
      default -> {
        return null;
      }
    }
  }

  /** The address of an endpoint of the properties, as the SDK writes it; null if it has none. */
  private static @Nullable String address(FailoverProperties.Endpoint endpoint) {
    String url = endpoint.getUrl();
    String region = endpoint.getRegion();
    String zone = endpoint.getZone();
    if (url == null || region == null || zone == null) {
      return null;
    }
    try {
      return dev.failover.Endpoint.of(url, region.strip(), zone.strip()).address();
    } catch (InvalidSettingException e) {
      return null; // rejected before build(), so not this one
    }
  }

  /**
   * A builder with every setting of one client applied, the endpoint source it started, and where
   * each setting came from.
   */
  private record Prepared(
      FailoverClient.Builder builder,
      @Nullable EndpointSource source,
      Layers layers,
      FailoverProperties.Client client) {}

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
    try {
      builder.service(name);
    } catch (InvalidSettingException e) {
      throw invalid(
          clientPrefix,
          e.value(),
          String.valueOf(e.getMessage()),
          "use a host name such as 'directory'",
          e);
    }
    Locality home = home(props);
    builder.home(home);
    String serviceId = client.getDiscovery().getServiceId();
    Layers l = layers(props, name, client);
    applyEndpoints(name, client, builder, serviceId != null);
    Duration connectTimeout = applySettings(l, builder);
    @Nullable EndpointSource source =
        applyDiscovery(l, serviceId, home, builder, state, withSource);
    OkHttpClient http = state.okHttpClient(okHttpClient.getIfUnique(), connectTimeout);
    if (http != null) {
      builder.okHttpClient(http);
    }
    instrumentation.orderedStream().forEach(i -> builder.listener(i.listener(name)));
    if (serviceId != null) {
      // Applies the planned shifts of zones that come back in the registry's list. The same
      // object each time: a change at run time that changes nothing else keeps the client's core.
      builder.listener(state.plans);
    }
    customizers(name).forEach(c -> c.customize(name, builder));
    return new Prepared(builder, source, l, client);
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
    try {
      // Stripped, as the discovery settings' names are: a .properties file keeps a trailing
      // space, which would make a zone of its own (the SDK rejects such a name).
      return Locality.of(region.strip(), zone.strip());
    } catch (InvalidSettingException e) {
      boolean ofZone = e.setting().equals("locality.zone");
      throw invalid(
          PREFIX + (ofZone ? "home.zone" : "home.region"),
          ofZone ? zone : region,
          String.valueOf(e.getMessage()),
          ofZone
              ? "name an availability zone such as us-east-1a"
              : "name a region such as us-east-1",
          e);
    }
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
        // Names stripped, as home()'s: "us-east-1a " (a .properties file keeps a trailing space)
        // is the zone us-east-1a, not a zone of its own.
        endpoint = dev.failover.Endpoint.of(url, region.strip(), zone.strip());
        Integer weight = e.getWeight();
        if (weight != null) {
          endpoint = endpoint.withWeight(weight);
        }
      } catch (InvalidSettingException ex) {
        throw switch (ex.setting()) {
          case "endpoint.weight" ->
              invalid(
                  at + ".weight",
                  e.getWeight(),
                  String.valueOf(ex.getMessage()),
                  "use a weight between 1 and 10000",
                  ex);
          case "locality.region" ->
              invalid(
                  at + ".region",
                  region,
                  String.valueOf(ex.getMessage()),
                  "give the endpoint's region, such as us-east-1",
                  ex);
          case "locality.zone" ->
              invalid(
                  at + ".zone",
                  zone,
                  String.valueOf(ex.getMessage()),
                  "give the endpoint's availability zone, such as us-east-1a",
                  ex);
          default ->
              invalid(
                  at + ".url",
                  ex.value(),
                  String.valueOf(ex.getMessage()),
                  "use an absolute http or https base URL without credentials, query or fragment",
                  ex);
        };
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
    Setting<Duration> connectTimeout =
        l.pick("connect-timeout", FailoverProperties.Settings::getConnectTimeout);
    if (connectTimeout != null) {
      // OkHttp's setting, not the SDK's: 0 would mean no timeout, so the starter checks it.
      positive(connectTimeout);
      try {
        // What OkHttp accepts (1 ms to about 24 days), checked on a throwaway builder.
        new OkHttpClient.Builder().connectTimeout(connectTimeout.value);
      } catch (IllegalArgumentException e) {
        throw invalid(
            connectTimeout.property,
            connectTimeout.value,
            String.valueOf(e.getMessage()),
            "use a duration such as 500ms or 2s",
            e);
      }
    }
    try {
      applySdkSettings(l, builder);
    } catch (InvalidSettingException e) {
      throw rejected(l, e);
    }
    return connectTimeout == null ? null : connectTimeout.value;
  }

  /**
   * Maps the properties onto the builder and the policies. The SDK checks every value; its {@link
   * InvalidSettingException} names the setting, which {@link #rejected} turns into the property.
   */
  private void applySdkSettings(Layers l, FailoverClient.Builder builder) {
    l.from("deadline", FailoverProperties.Settings::getDeadline).to(builder::deadline);
    l.from("attempt-timeout", FailoverProperties.Settings::getAttemptTimeout)
        .to(builder::attemptTimeout);
    l.from("min-attempt-time", FailoverProperties.Settings::getMinAttemptTime)
        .to(builder::minAttemptTime);
    l.from("max-requests", FailoverProperties.Settings::getMaxRequests).to(builder::maxRequests);
    l.from("caller-runs-first-attempt", FailoverProperties.Settings::getCallerRunsFirstAttempt)
        .to(builder::callerRunsFirstAttempt);
    l.from("retryable-statuses", FailoverProperties.Settings::getRetryableStatuses)
        .as(LinkedHashSet::new)
        .to(builder::retryableStatuses);
    l.from("region-order", FailoverProperties.Settings::getRegionOrder).to(builder::regionOrder);

    // retry
    l.from("retry.max-attempts", s -> s.getRetry().getMaxAttempts()).to(builder::maxAttempts);
    Duration backoffBase = l.value("retry.backoff-base", s -> s.getRetry().getBackoffBase());
    Duration backoffCap = l.value("retry.backoff-cap", s -> s.getRetry().getBackoffCap());
    if (backoffBase != null || backoffCap != null) {
      Duration base = backoffBase != null ? backoffBase : BACKOFF_BASE;
      // Only the base was raised above the default cap: the cap follows it, as the user meant.
      Duration cap =
          backoffCap != null ? backoffCap : base.compareTo(BACKOFF_CAP) > 0 ? base : BACKOFF_CAP;
      builder.backoff(base, cap);
    }
    l.from("retry.max-retry-after", s -> s.getRetry().getMaxRetryAfter())
        .to(builder::maxRetryAfter);

    // budget
    Percentage ratio = l.value("budget.ratio", s -> s.getBudget().getRatio());
    Integer minPerSecond = l.value("budget.min-per-second", s -> s.getBudget().getMinPerSecond());
    Duration window = l.value("budget.window", s -> s.getBudget().getWindow());
    if (ratio != null || minPerSecond != null || window != null) {
      builder.retryBudget(
          ratio != null ? ratio.fraction() : BUDGET_RATIO,
          minPerSecond != null ? minPerSecond : BUDGET_MIN_PER_SECOND,
          window != null ? window : BUDGET_WINDOW);
    }

    applyHealth(l, builder);
    applyEjection(l, builder);
    applyHedging(l, builder);
    applyStale(l, builder);
    applyZones(l, builder);

    // panic
    Integer threshold = l.value("panic.threshold", s -> s.getPanic().getThreshold());
    Boolean failOpen = l.value("panic.fail-open", s -> s.getPanic().getFailOpen());
    if (threshold != null || failOpen != null) {
      builder.panic(
          threshold != null ? threshold : PANIC_THRESHOLD,
          failOpen != null ? failOpen : PANIC_FAIL_OPEN);
    }
  }

  /**
   * Active health checks: each setting over {@link HealthCheck#http}'s values, checked even while
   * checks are off; on with a path (or {@code health.enabled=true}), otherwise {@link
   * HealthCheck#off()} (the SDK's default).
   */
  private static void applyHealth(Layers l, FailoverClient.Builder builder) {
    Boolean enabled = l.value("health.enabled", s -> s.getHealth().getEnabled());
    String path = l.value("health.path", s -> s.getHealth().getPath());
    HealthCheck check = HealthCheck.http(path != null ? path : HealthCheck.off().path());
    check =
        l.from("health.interval", s -> s.getHealth().getInterval())
            .to(check, HealthCheck::withInterval);
    check =
        l.from("health.down-interval", s -> s.getHealth().getDownInterval())
            .to(check, HealthCheck::withDownInterval);
    check =
        l.from("health.no-traffic-interval", s -> s.getHealth().getNoTrafficInterval())
            .to(check, HealthCheck::withNoTrafficInterval);
    check =
        l.from("health.timeout", s -> s.getHealth().getTimeout())
            .to(check, HealthCheck::withTimeout);
    Integer healthy = l.value("health.healthy-threshold", s -> s.getHealth().getHealthyThreshold());
    Integer unhealthy =
        l.value("health.unhealthy-threshold", s -> s.getHealth().getUnhealthyThreshold());
    check =
        check.withThresholds(
            healthy != null ? healthy : check.healthyThreshold(),
            unhealthy != null ? unhealthy : check.unhealthyThreshold());
    boolean on = enabled != null ? enabled : path != null;
    builder.healthCheck(on ? check : HealthCheck.off());
  }

  /** Passive health, over {@link EjectionPolicy#defaults()}. */
  private static void applyEjection(Layers l, FailoverClient.Builder builder) {
    EjectionPolicy ejection = EjectionPolicy.defaults();
    ejection =
        l.from("ejection.consecutive-failures", s -> s.getEjection().getConsecutiveFailures())
            .to(ejection, EjectionPolicy::withConsecutiveFailures);
    Integer failureRate = l.value("ejection.failure-rate", s -> s.getEjection().getFailureRate());
    Integer windowSize = l.value("ejection.window-size", s -> s.getEjection().getWindowSize());
    Integer minimumCalls =
        l.value("ejection.minimum-calls", s -> s.getEjection().getMinimumCalls());
    int ws = windowSize != null ? windowSize : ejection.windowSize();
    // Only the window shrank below the default minimum: the minimum follows it.
    int mc = minimumCalls != null ? minimumCalls : Math.min(ejection.minimumCalls(), ws);
    ejection =
        ejection.withFailureRate(
            failureRate != null ? failureRate : ejection.failureRatePercent(), ws, mc);
    Duration slow =
        l.value("ejection.slow-call-duration", s -> s.getEjection().getSlowCallDuration());
    Integer slowRate = l.value("ejection.slow-call-rate", s -> s.getEjection().getSlowCallRate());
    ejection =
        ejection.withSlowCalls(
            slow != null ? slow : ejection.slowCallDuration(),
            slowRate != null ? slowRate : ejection.slowCallRatePercent());
    Duration base =
        l.value("ejection.base-ejection-time", s -> s.getEjection().getBaseEjectionTime());
    Duration max = l.value("ejection.max-ejection-time", s -> s.getEjection().getMaxEjectionTime());
    Duration be = base != null ? base : ejection.baseEjectionTime();
    // Only the base rose above the default maximum: the maximum follows it.
    Duration me =
        max != null
            ? max
            : be.compareTo(ejection.maxEjectionTime()) > 0 ? be : ejection.maxEjectionTime();
    ejection = ejection.withEjectionTime(be, me);
    ejection =
        l.from("ejection.half-open-probes", s -> s.getEjection().getHalfOpenProbes())
            .to(ejection, EjectionPolicy::withHalfOpenProbes);
    builder.ejection(ejection);
  }

  /**
   * Endpoints from the application's Spring Cloud DiscoveryClient: the source (unless {@code
   * withSource} is false), and the policy over the SDK's defaults ({@link
   * DiscoveryPolicy#defaults()}). Without a service id, the {@code discovery.*} values are checked
   * all the same (a wrong one, set for every client under {@code failover.defaults} or before a
   * registry is switched on, fails start-up now rather than at the start that turns discovery on)
   * and nothing is applied.
   *
   * @return the source, not yet started, or null without {@code withSource} or a service id
   */
  private @Nullable EndpointSource applyDiscovery(
      Layers l,
      @Nullable String serviceId,
      Locality home,
      FailoverClient.Builder builder,
      Built state,
      boolean withSource) {
    String name = l.name;
    String serviceIdProperty = l.clientPrefix + "discovery.service-id";
    if (serviceId != null && serviceId.isBlank()) {
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
      between(
          refresh,
          MIN_REFRESH_INTERVAL,
          "100ms",
          "use an interval between 100ms and 24h, such as 30s");
      refreshInterval = refresh.value;
    }
    Setting<Duration> heartbeat =
        l.pick("discovery.heartbeat-timeout", s -> s.getDiscovery().getHeartbeatTimeout());
    if (heartbeat != null) {
      positive(heartbeat);
      between(
          heartbeat,
          MIN_HEARTBEAT_TIMEOUT,
          "1ms",
          "use a timeout between 1ms and 24h, such as 90s");
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
    try {
      policy =
          l.from("discovery.start-timeout", s -> s.getDiscovery().getStartTimeout())
              .to(policy, DiscoveryPolicy::withStartTimeout);
      policy =
          l.from("discovery.max-removal-percent", s -> s.getDiscovery().getMaxRemovalPercent())
              .to(policy, DiscoveryPolicy::withMaxRemovalPercent);
      policy =
          l.from("discovery.removal-confirmation", s -> s.getDiscovery().getRemovalConfirmation())
              .to(policy, DiscoveryPolicy::withRemovalConfirmation);
      policy =
          l.from("discovery.max-staleness", s -> s.getDiscovery().getMaxStaleness())
              .to(policy, DiscoveryPolicy::withMaxStaleness);
    } catch (InvalidSettingException e) {
      throw rejected(l, e);
    }
    if (serviceId == null) {
      return null; // checked only: the client's endpoints are its own
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
    if (!withSource) {
      builder.discovery(policy); // the client keeps the source it has
      EndpointSources.Settings started = state.sourceSettings;
      if (started != null && !started.equals(settings)) {
        LOG.warn(
            "{}discovery: the registry source's settings changed while the application runs"
                + " (from {} to {}): the source keeps the settings it started with until the next"
                + " start; the rest of the change is applied",
            l.clientPrefix,
            started,
            settings);
      }
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
    state.sourceSettings = settings;
    return source;
  }

  private static List<String> trimmed(List<String> keys) {
    return keys.stream().map(String::trim).toList();
  }

  /**
   * Hedging: each setting over {@link HedgePolicy#builder()}'s defaults, checked even while hedging
   * is off; on with a mode of fixed or adaptive, otherwise {@link HedgePolicy#off()} (the SDK's
   * default).
   */
  private static void applyHedging(Layers l, FailoverClient.Builder builder) {
    HedgePolicy.Mode mode = l.value("hedge.mode", s -> s.getHedge().getMode());
    Duration delay = l.value("hedge.delay", s -> s.getHedge().getDelay());
    Percentage maxExtraLoad = l.value("hedge.max-extra-load", s -> s.getHedge().getMaxExtraLoad());
    Integer maxHedges = l.value("hedge.max-hedges", s -> s.getHedge().getMaxHedges());
    Duration minDelay = l.value("hedge.min-delay", s -> s.getHedge().getMinDelay());
    if (mode == null
        && delay == null
        && maxExtraLoad == null
        && maxHedges == null
        && minDelay == null) {
      return;
    }
    PropertyMapper map = PropertyMapper.get();
    HedgePolicy.Builder hedge = HedgePolicy.builder();
    map.from(delay).to(hedge::delay);
    map.from(maxExtraLoad).as(Percentage::fraction).to(hedge::maxExtraLoad);
    map.from(maxHedges).to(hedge::maxHedges);
    map.from(minDelay).to(hedge::minDelay);
    boolean on = mode != null && mode != HedgePolicy.Mode.OFF;
    if (mode != null && on) {
      hedge.mode(mode);
    }
    HedgePolicy checked = hedge.build();
    builder.hedging(on ? checked : HedgePolicy.off());
  }

  /**
   * Stale-if-error: each setting over {@link StaleCache#builder()}'s values, checked even while the
   * cache is off; on only with {@code stale.enabled=true}, otherwise {@link StaleCache#off()} (the
   * SDK's default).
   */
  private static void applyStale(Layers l, FailoverClient.Builder builder) {
    Boolean enabled = l.value("stale.enabled", s -> s.getStale().getEnabled());
    Long maxEntries = l.value("stale.max-entries", s -> s.getStale().getMaxEntries());
    DataSize maxBodySize = l.value("stale.max-body-size", s -> s.getStale().getMaxBodySize());
    Duration maxAge = l.value("stale.max-age", s -> s.getStale().getMaxAge());
    Boolean addNoIdentity =
        l.value(
            "stale.network-interceptors-add-no-identity",
            s -> s.getStale().getNetworkInterceptorsAddNoIdentity());
    if (enabled == null
        && maxEntries == null
        && maxBodySize == null
        && maxAge == null
        && addNoIdentity == null) {
      return;
    }
    PropertyMapper map = PropertyMapper.get();
    StaleCache.Builder stale = StaleCache.builder();
    map.from(maxEntries).to(stale::maxEntries);
    map.from(maxBodySize).as(DataSize::toBytes).to(stale::maxBodyBytes);
    map.from(maxAge).to(stale::maxAge);
    map.from(addNoIdentity).to(stale::networkInterceptorsAddNoIdentity);
    StaleCache checked = stale.build();
    builder.staleIfError(Boolean.TRUE.equals(enabled) ? checked : StaleCache.off());
  }

  /**
   * Zone evacuation: each setting over the SDK's defaults ({@link ZonePolicy#defaults()}), checked
   * even while zones are off; {@code zones.enabled=false} gives {@link ZonePolicy#off()}. Of its
   * settings the client still uses the slow start of returning endpoints, which is then the
   * default's: another {@code zones.slow-start} is rejected rather than dropped.
   */
  private void applyZones(Layers l, FailoverClient.Builder builder) {
    Boolean enabled = l.value("zones.enabled", s -> s.getZones().getEnabled());
    Integer ejectedPercent =
        l.value("zones.ejected-percent", s -> s.getZones().getEjectedPercent());
    Double outlierK = l.value("zones.outlier-k", s -> s.getZones().getOutlierK());
    Integer minSamples = l.value("zones.min-samples", s -> s.getZones().getMinSamples());
    Duration window = l.value("zones.window", s -> s.getZones().getWindow());
    Duration hysteresis = l.value("zones.hysteresis", s -> s.getZones().getHysteresis());
    Duration slowStart = l.value("zones.slow-start", s -> s.getZones().getSlowStart());
    Integer maxEvacuatedPercent =
        l.value("zones.max-evacuated-percent", s -> s.getZones().getMaxEvacuatedPercent());
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
    PropertyMapper map = PropertyMapper.get();
    ZonePolicy.Builder zones = ZonePolicy.builder();
    map.from(maxEvacuatedPercent).to(zones::maxEvacuatedPercent);
    map.from(ejectedPercent).to(zones::ejectedPercent);
    map.from(outlierK).to(zones::outlierK);
    map.from(minSamples).to(zones::minSamples);
    map.from(window).to(zones::window);
    map.from(hysteresis).to(zones::hysteresis);
    map.from(slowStart).to(zones::slowStart);
    ZonePolicy checked = zones.build();
    if (!Boolean.FALSE.equals(enabled)) {
      builder.zones(checked);
      return;
    }
    Setting<?> slow = l.picked("zones.slow-start");
    if (slow != null && !checked.slowStart().equals(ZonePolicy.off().slowStart())) {
      throw invalid(
          slow.property(),
          slow.value(),
          "zones are off (zones.enabled=false), and then endpoints returning from an ejection"
              + " ramp up over ZonePolicy.off()'s slow start of "
              + ZonePolicy.off().slowStart().toSeconds()
              + "s, not another",
          "remove zones.slow-start, or turn zones on",
          null);
    }
    builder.zones(ZonePolicy.off());
  }

  /**
   * The SDK's rejection of a value as the property that supplied it: the layer that set the key the
   * SDK setting maps to (or, for a value the starter derived, the client's own key), its value as
   * written, the reason and the advice.
   */
  private FailoverConfigurationException rejected(Layers l, InvalidSettingException e) {
    SettingKeys.Key key = SettingKeys.of(e.setting());
    if (key == null) {
      return invalid(
          l.clientPrefix.substring(0, l.clientPrefix.length() - 1),
          e.value(),
          String.valueOf(e.getMessage()),
          "correct the value",
          e);
    }
    Setting<?> picked = l.picked(key.suffix());
    String property = picked != null ? picked.property : l.clientPrefix + key.suffix();
    Object value = picked != null ? picked.value : e.value();
    return invalid(
        property,
        value,
        SettingKeys.reason(key, value, e),
        SettingKeys.action(key, property, value),
        e);
  }

  // ---- checks of the starter's own settings, naming the property ----

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

  /** Checks that {@code d} is between {@code min} (written {@code minText}) and 24 h, inclusive. */
  private void between(Setting<Duration> d, Duration min, String minText, String action) {
    if (d.value.compareTo(min) < 0 || d.value.compareTo(MAX_DURATION) > 0) {
      throw invalid(
          d.property,
          d.value,
          "must be between " + minText + " and 24h but was " + d.value,
          action,
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
    Object written = value;
    String origin = null;
    if (configured != null) {
      // Show the value as written (-2s rather than PT-2S), except for URLs, which may hold secrets.
      if (!property.endsWith(".url") && configured.getValue() != null) {
        written = configured.getValue();
      }
      origin = configured.getOrigin() != null ? configured.getOrigin().toString() : null;
    }
    // Masked as Redaction.value does (a health path's ?access_token=, a URL's user info), also
    // where the reason or the advice quote it, as written or as bound.
    String raw = written == null ? null : String.valueOf(written);
    String shown = raw == null ? null : Redaction.value(property, raw);
    String bound = value == null ? null : String.valueOf(value);
    String boundShown = bound == null ? "" : Redaction.value(property, bound);
    String reason =
        Redaction.quoting(
            Redaction.quoting(problem, raw, String.valueOf(shown)), bound, boundShown);
    String advice =
        Redaction.quoting(Redaction.quoting(action, raw, String.valueOf(shown)), bound, boundShown);
    return new FailoverConfigurationException(property, shown, origin, reason, advice, cause);
  }

  /** The property as configured, with where it comes from, such as a line of application.yml. */
  private @Nullable ConfigurationProperty configured(String property) {
    // A client's name is a map key, which may hold capitals or underscores that a canonical
    // property name may not: adapt such a name rather than fail on it.
    ConfigurationPropertyName name = ConfigurationPropertyName.ofIfValid(property);
    if (name == null) {
      name = ConfigurationPropertyName.adapt(property, '.');
    }
    for (ConfigurationPropertySource source : ConfigurationPropertySources.get(environment)) {
      ConfigurationProperty found = source.getConfigurationProperty(name);
      if (found != null) {
        return found;
      }
    }
    return null;
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

    /** The settings picked so far, by key: where an SDK error's value came from. */
    private final Map<String, Setting<?>> picked = new HashMap<>();

    /** The value of the first layer that sets {@code key}, with its property; null if none. */
    <T> @Nullable Setting<T> pick(
        String key, Function<FailoverProperties.Settings, @Nullable T> getter) {
      for (Layer layer : layers) {
        T value = getter.apply(layer.settings());
        if (value != null) {
          Setting<T> setting = new Setting<>(value, layer.prefix() + key);
          picked.put(key, setting);
          return setting;
        }
      }
      return null;
    }

    /** The value of the first layer that sets {@code key}; null if none. */
    <T> @Nullable T value(String key, Function<FailoverProperties.Settings, @Nullable T> getter) {
      Setting<T> setting = pick(key, getter);
      return setting == null ? null : setting.value();
    }

    /** The value of the first layer that sets {@code key}, to map onto the builder. */
    <T> PropertyMapper.Source<T> from(
        String key, Function<FailoverProperties.Settings, @Nullable T> getter) {
      return PropertyMapper.get().from(value(key, getter));
    }

    /** The setting picked for {@code key}, or null if no layer set it. */
    @Nullable Setting<?> picked(String key) {
      return picked.get(key);
    }
  }
}
