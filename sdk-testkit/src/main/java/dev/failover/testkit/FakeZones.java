package dev.failover.testkit;

import com.github.tomakehurst.wiremock.client.MappingBuilder;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fake regions and zones of one service, each endpoint a real WireMock server on a loopback port,
 * with outages on demand; a JUnit 5 extension, and an {@link AutoCloseable} without JUnit.
 *
 * <pre>{@code
 * @RegisterExtension
 * static FakeZones zones = FakeZones.builder()
 *     .region("us-east-1", "us-east-1a", "us-east-1b", "us-east-1c")
 *     .region("us-west-2", "us-west-2a")
 *     .endpointsPerZone(2)
 *     .distance("us-west-2", Duration.ofMillis(35))
 *     .build();
 *
 * @Test
 * void survivesZoneOutage() {
 *   zones.stubAll(get(urlPathMatching("/users/.*")).willReturn(okJson("{\"id\":42}")));
 *   zones.zone("us-east-1a").fail(ZoneFault.refuse());
 *   // ... call the service through zones.endpoints() ...
 *   assertThat(zones.zone("us-east-1a").requestCount()).isZero();
 * }
 * }</pre>
 *
 * <p><b>Lifecycle.</b> In a {@code static} field the endpoints start before the class's first test
 * and stop after its last (per class); in an instance field they start before each test and stop
 * after it (per test), as with WireMock's {@code WireMockExtension}. Zones already running when the
 * class starts (started elsewhere, such as a static holder several classes share) are used as they
 * are and left running: the extension closes only what it started. Per class, before each test,
 * {@link #reset()} heals every fault (resetting the connections in which a hang or blackhole fault
 * held a request, and closing those of responses still waiting for their delay, so that none
 * reaches the next test), restores declared distances, clears the request journals and re-seeds the
 * randomness; stubs are kept, so stubs registered in {@code @BeforeAll} serve every test. Without
 * JUnit, call {@link #start()} and {@link #close()} (try-with-resources). Ports are fixed while
 * running; a restart picks new ones.
 *
 * <p><b>Clients.</b> A client built against the zones keeps what it learned (ejected endpoints,
 * evacuated zones) from one test to the next, and a client that outlives the zones keeps probing
 * ports that are gone. {@link #onReset(Runnable)} runs an action whenever the zones reset, such as
 * {@code client::reset}, and {@link #onClose(Runnable)} runs one before they stop, such as {@code
 * client::close}. Actions registered while a test class runs are the class's: when the class ends
 * and the zones keep running (shared by several classes), its close actions run then, and its
 * actions are dropped. In Spring tests, the testkit closes a test class's application context when
 * the class's zones close (see {@code dev.failover.testkit.spring.FakeZonesTestExecutionListener}).
 *
 * <p><b>Endpoints.</b> Each endpoint is a WireMock server on an internal port, behind a small TCP
 * proxy on the public port its URL names; the proxy injects the socket faults (see {@link
 * ZoneFault}). The proxies are non-blocking and share one selector thread, so connections held by a
 * fault cost no thread; one more thread switches flapping faults. A delay (distance, latency, a
 * stub's own) holds no thread either: the response waits on the endpoint's Jetty scheduler, so any
 * number of requests wait out their delays at once and the others are answered meanwhile. All
 * threads are daemon threads, and {@link #close()} returns only once every one of them has
 * terminated.
 *
 * <p>Thread-safe: faults may be changed from any thread, while requests are in flight.
 */
public final class FakeZones
    implements FakeTarget,
        AutoCloseable,
        BeforeAllCallback,
        AfterAllCallback,
        BeforeEachCallback,
        AfterEachCallback {

  private static final int CONTAINER_THREADS = 16;
  private static final long STOP_TIMEOUT_SECONDS = 5;

  private final List<FakeRegion> regions;
  private final Map<String, FakeRegion> regionsByName;
  private final Map<String, FakeZone> zonesByName;
  private final List<FakeZone> zones;
  private final List<FakeEndpoint> endpoints;
  private final long seed;
  private final @Nullable Long backendIdleTimeoutMillis; // Jetty's own (30 s) when null

  private final Object lifecycle = new Object();
  private @Nullable ProxyLoop proxyLoop;
  private @Nullable ScheduledExecutorService scheduler;
  private @Nullable DaemonThreads proxyThreads;
  private @Nullable DaemonThreads timerThreads;
  private boolean perTest;
  private boolean perClass; // started by beforeAll: afterAll of the outermost class closes them
  private int classDepth;

  // Guarded by lifecycle; registered while running, dropped when the zones close, or when the test
  // class they were registered for ends (see ClassScope).
  private final List<Hook> resetActions = new ArrayList<>();
  private final List<Hook> closeActions = new ArrayList<>();
  private final Deque<ClassScope> classScopes = new ArrayDeque<>(); // innermost class first

  /**
   * Runs before each endpoint starts, under the lifecycle lock; lets tests fail a start halfway.
   */
  Consumer<FakeEndpoint> beforeEndpointStart = endpoint -> {};

  private FakeZones(Builder builder) {
    this.seed = builder.seed;
    this.backendIdleTimeoutMillis = builder.backendIdleTimeoutMillis;
    int[] nextIndex = {0};
    FakeRegion.Topology topology =
        new FakeRegion.Topology() {
          @Override
          public int endpointsPerZone() {
            return builder.endpointsPerZone;
          }

          @Override
          public int containerThreads() {
            return CONTAINER_THREADS;
          }

          @Override
          public long distanceMillis(String regionOrZone) {
            Long millis = builder.distances.get(regionOrZone);
            return millis == null ? 0 : millis;
          }

          @Override
          public int nextGlobalIndex() {
            int first = nextIndex[0];
            nextIndex[0] += builder.endpointsPerZone;
            return first;
          }
        };
    List<FakeRegion> regionList = new ArrayList<>();
    Map<String, FakeRegion> regionMap = new LinkedHashMap<>();
    Map<String, FakeZone> zoneMap = new LinkedHashMap<>();
    List<FakeEndpoint> endpointList = new ArrayList<>();
    for (Map.Entry<String, List<String>> entry : builder.regions.entrySet()) {
      FakeRegion region = new FakeRegion(entry.getKey(), entry.getValue(), topology);
      regionList.add(region);
      regionMap.put(region.name(), region);
      for (FakeZone zone : region.zones()) {
        zoneMap.put(zone.name(), zone);
      }
      endpointList.addAll(region.fakeEndpoints());
    }
    this.regions = List.copyOf(regionList);
    this.regionsByName = regionMap;
    this.zonesByName = zoneMap;
    this.zones = List.copyOf(zoneMap.values());
    this.endpoints = List.copyOf(endpointList);
  }

  /**
   * Returns a builder; declare at least one region.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  // ---- topology ----

  /**
   * Returns the region named {@code name}.
   *
   * @param name a declared region, such as {@code us-east-1}
   * @return the region
   * @throws IllegalArgumentException if no region has that name
   */
  public FakeRegion region(String name) {
    FakeRegion region = regionsByName.get(name);
    if (region == null) {
      throw new IllegalArgumentException(
          "no region named '" + name + "'; regions are " + regionsByName.keySet());
    }
    return region;
  }

  /**
   * Returns the zone named {@code name}.
   *
   * @param name a declared zone, such as {@code us-east-1a}
   * @return the zone
   * @throws IllegalArgumentException if no zone has that name
   */
  public FakeZone zone(String name) {
    FakeZone zone = zonesByName.get(name);
    if (zone == null) {
      throw new IllegalArgumentException(
          "no zone named '" + name + "'; zones are " + zonesByName.keySet());
    }
    return zone;
  }

  /**
   * Returns every region, in declaration order.
   *
   * @return the regions
   */
  public List<FakeRegion> regions() {
    return regions;
  }

  /**
   * Returns every zone, in declaration order.
   *
   * @return the zones
   */
  public List<FakeZone> zones() {
    return zones;
  }

  @Override
  public List<FakeEndpoint> fakeEndpoints() {
    return endpoints;
  }

  /**
   * Registers a WireMock stub on every endpoint; the same as {@link #stubFor}.
   *
   * @param mapping the stub, such as {@code get("/users/42").willReturn(okJson("{}"))}
   * @throws IllegalStateException if not running
   */
  public void stubAll(MappingBuilder mapping) {
    stubFor(mapping);
  }

  /**
   * Renders every endpoint as Spring-style properties for the client {@code clientName}: {@code
   * failover.clients.NAME.endpoints[i].url}, {@code .region} and {@code .zone}, with {@code i} from
   * 0 in declaration order.
   *
   * @param clientName the client's name, such as {@code directory}
   * @return the properties, in a stable order
   * @throws IllegalArgumentException if {@code clientName} is blank
   * @throws IllegalStateException if not running
   */
  public Map<String, String> springProperties(String clientName) {
    Objects.requireNonNull(clientName, "clientName");
    if (clientName.isBlank()) {
      throw new IllegalArgumentException(
          "clientName must not be blank but was '" + clientName + "'");
    }
    Map<String, String> properties = new LinkedHashMap<>();
    List<EndpointDescriptor> descriptors = endpoints();
    for (int i = 0; i < descriptors.size(); i++) {
      EndpointDescriptor d = descriptors.get(i);
      String prefix = "failover.clients." + clientName + ".endpoints[" + i + "].";
      properties.put(prefix + "url", d.url());
      properties.put(prefix + "region", d.region());
      properties.put(prefix + "zone", d.zone());
    }
    return Collections.unmodifiableMap(properties);
  }

  // ---- counts ----

  /**
   * Marks the current end of every request journal, so that {@code requestCount(mark)} counts only
   * what comes after.
   *
   * @return the mark
   * @throws IllegalStateException if not running
   */
  public Mark mark() {
    return Journals.mark(endpoints);
  }

  /**
   * Clears every request journal, so that counts start again from zero.
   *
   * @throws IllegalStateException if not running
   */
  public void resetCounts() {
    for (FakeEndpoint endpoint : endpoints) {
      endpoint.server().resetRequests();
    }
  }

  /**
   * Returns everything to its state at start, except stubs: heals every fault, restores the
   * distances declared on the builder, clears the request journals and re-seeds the randomness;
   * then runs the actions registered with {@link #onReset(Runnable)}, in the order registered. The
   * extension calls it before each test when it runs per class.
   *
   * <p>Unlike {@link #heal()}, it does not resume the connections a {@link ZoneFault#hang()} or
   * {@link ZoneFault#blackhole()} fault holds with something in them: a connection to an endpoint
   * in one of those faults is reset (TCP RST) before the endpoint heals if its client sent anything
   * into the fault, if it waits for the answer to a request sent before the fault, or if a side has
   * closed it, so that a request held in one test is neither answered nor journaled in the next. An
   * idle keep-alive connection (its last request answered, nothing sent since) resumes, so that a
   * client's pooled connection serves the next test. Likewise a response still waiting for its
   * delay (distance, latency, a stub's own) is never sent: its connection is closed first, and its
   * client sees the connection end without an answer. Each endpoint's journal is cleared after
   * that.
   *
   * @throws IllegalStateException if not running
   * @throws RuntimeException the first exception an action threw, once every action has run (the
   *     others suppressed in it)
   */
  public void reset() {
    for (FakeRegion region : regions) {
      region.resetDistance();
    }
    for (FakeEndpoint endpoint : endpoints) {
      endpoint.reset(seed);
    }
    List<Hook> actions;
    synchronized (lifecycle) {
      actions = List.copyOf(resetActions);
    }
    RuntimeException failure = runAll(actions);
    if (failure != null) {
      throw failure;
    }
  }

  /**
   * Runs {@code action} each time these zones reset, after their faults are healed: before each
   * test when the extension runs per class, and on {@link #reset()}. Register a client's reset, so
   * that each test starts with a client that has forgotten the outages of the tests before, as the
   * zones have:
   *
   * <pre>{@code
   * @BeforeAll
   * static void client() {
   *   client = FailoverClient.builder()...build();
   *   zones.onReset(client::reset).onClose(client::close);
   * }
   * }</pre>
   *
   * <p>The action runs on the thread that resets, outside the zones' locks. It stays registered
   * until the zones close, or, if it was registered while a test class that registers these zones
   * ran (its {@code @BeforeAll}, its tests), until that class ends without closing them: zones
   * shared by several classes (started once, from a static holder) run one class's reset actions
   * only while that class runs, never the actions of a class before, whose client may be closed.
   *
   * @param action what to run, such as {@code client::reset}
   * @return this
   * @throws IllegalStateException if not running
   */
  public FakeZones onReset(Runnable action) {
    return register("onReset", resetActions, action);
  }

  /**
   * Runs {@code action} when these zones close, before their endpoints stop: register a client's
   * close, so that a client built against the zones never probes (and never judges) endpoints that
   * are gone. Actions run in the reverse order of registration, as try-with-resources closes, on
   * the thread that closes, outside the zones' locks; then they and the {@link #onReset} actions
   * are dropped (a restart starts with none).
   *
   * <p>An action registered while a test class that registers these zones runs (in its
   * {@code @BeforeAll}, say) belongs to that class: if the class ends and the zones keep running
   * (zones shared by several classes, which the extension does not close), the extension runs the
   * class's close actions then, in reverse order, and drops them and the class's reset actions, so
   * that the class's client is closed after its last test and the next class's tests never reset
   * it.
   *
   * @param action what to run, such as {@code client::close}
   * @return this
   * @throws IllegalStateException if not running
   */
  public FakeZones onClose(Runnable action) {
    return register("onClose", closeActions, action);
  }

  private FakeZones register(String what, List<Hook> actions, Runnable action) {
    Objects.requireNonNull(action, "action");
    synchronized (lifecycle) {
      if (proxyLoop == null) {
        throw new IllegalStateException(
            what + " needs running zones: call start(), or register them with @RegisterExtension");
      }
      Hook hook = new Hook(action);
      actions.add(hook);
      ClassScope scope = classScopes.peekFirst();
      if (scope != null) {
        scope.hooks.add(hook);
      }
    }
    return this;
  }

  /**
   * One registration of an action; compared by identity, so that dropping a class's hooks drops
   * exactly what it registered, even an action another class registered too.
   */
  private static final class Hook {
    final Runnable action;

    Hook(Runnable action) {
      this.action = action;
    }
  }

  /**
   * The hooks registered between a test class's {@code beforeAll} and its {@code afterAll} (its
   * {@code @BeforeAll} methods, its tests, and those of classes nested in it that register the
   * zones themselves belong to the innermost one). Guarded by {@code lifecycle}.
   */
  private static final class ClassScope {
    final List<Hook> hooks = new ArrayList<>();
    final @Nullable Class<?> owner;

    ClassScope(@Nullable Class<?> owner) {
      this.owner = owner;
    }
  }

  /** The advice of the errors about zones two tests or classes use at the same time. */
  private static final String PARALLEL_ADVICE =
      "; a FakeZones in a static field resets its zones before each test (healing the faults the"
          + " other test set and clearing its journals), and the hooks a class registers end with"
          + " it: run the tests and classes that share it one at a time (JUnit's"
          + " @ResourceLock on one key on every class that shares it, or"
          + " @Execution(ExecutionMode.SAME_THREAD) for the tests of one class), or give each test"
          + " its own zones in an instance field";

  /** Tests using these zones (a static field) that have begun and not yet ended. */
  private int testsRunning;

  /** Marks, in a test's store, that {@link #beforeEach} ran for it: once per test. */
  private static final String ENTERED = "entered";

  /** Runs every action; returns the first exception, the later ones suppressed in it. */
  private static @Nullable RuntimeException runAll(List<Hook> actions) {
    RuntimeException failure = null;
    for (Hook hook : actions) {
      try {
        hook.action.run();
      } catch (RuntimeException e) {
        if (failure == null) {
          failure = e;
        } else {
          failure.addSuppressed(e);
        }
      }
    }
    return failure;
  }

  // ---- lifecycle ----

  /**
   * Starts every endpoint: a WireMock server and its proxy on dynamic loopback ports.
   *
   * @return this, for {@code try (FakeZones zones = FakeZones.builder()...build().start())}
   * @throws IllegalStateException if already running
   * @throws RuntimeException or {@link Error}, what failed the start, once every server, proxy,
   *     port and thread already started is stopped again (not running then); a failure of that stop
   *     is suppressed in it
   */
  public FakeZones start() {
    synchronized (lifecycle) {
      if (proxyLoop != null) {
        throw new IllegalStateException("FakeZones is already running");
      }
      DaemonThreads proxyFactory = new DaemonThreads("failover-testkit-proxy");
      DaemonThreads timerFactory = new DaemonThreads("failover-testkit-timer");
      ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(timerFactory);
      scheduler = timer;
      timerThreads = timerFactory;
      proxyThreads = proxyFactory;
      try {
        ProxyLoop loop = new ProxyLoop(proxyFactory);
        proxyLoop = loop;
        for (FakeEndpoint endpoint : endpoints) {
          beforeEndpointStart.accept(endpoint);
          endpoint.start(loop, timer, seed, backendIdleTimeoutMillis);
        }
      } catch (RuntimeException | Error e) {
        // An Error too (no native thread left for a server's pool, say): what started is stopped,
        // so that no thread, port or timer outlives the failed start, and it is not running.
        try {
          stop(); // no action can be registered yet
        } catch (RuntimeException | Error stopFailure) {
          e.addSuppressed(stopFailure); // the start's failure is what the caller needs to see
        }
        throw e;
      }
      return this;
    }
  }

  /**
   * Returns whether the endpoints are running.
   *
   * @return true between {@link #start()} and {@link #close()}
   */
  public boolean isRunning() {
    synchronized (lifecycle) {
      return proxyLoop != null;
    }
  }

  /**
   * Runs the actions registered with {@link #onClose(Runnable)}, then stops every endpoint, proxy
   * connection, timer and thread, and returns only once every thread the fake zones started has
   * terminated: after {@code close()} returns, no {@code failover-testkit-*} thread of these zones
   * is alive. Sockets are closed and threads interrupted so that they end; the endpoints stop all
   * at once, each on a short-lived thread of its own, since one whose Jetty thread is busy writing
   * a response (a dribbled body, say) waits up to half a second for it. Waiting is bounded at 5
   * seconds in all (an interrupt does not cut it short, and is kept). Does nothing if not running.
   *
   * @throws IllegalStateException if a thread is still alive after 5 seconds (the endpoints are
   *     stopped all the same, and the fake zones are no longer running)
   * @throws RuntimeException the first exception an {@code onClose} action threw (the zones are
   *     stopped all the same)
   */
  @Override
  public void close() {
    List<Hook> actions;
    synchronized (lifecycle) {
      actions = new ArrayList<>(closeActions);
      Collections.reverse(actions);
      closeActions.clear();
      resetActions.clear();
      classScopes.forEach(scope -> scope.hooks.clear()); // run now: never again at a class's end
    }
    RuntimeException actionFailure = runAll(actions);
    try {
      stop();
    } catch (RuntimeException e) {
      if (actionFailure == null) {
        throw e;
      }
      actionFailure.addSuppressed(e);
    }
    if (actionFailure != null) {
      throw actionFailure;
    }
  }

  private void stop() {
    synchronized (lifecycle) {
      ProxyLoop loop = proxyLoop;
      ScheduledExecutorService timer = scheduler;
      DaemonThreads proxyFactory = proxyThreads;
      DaemonThreads timerFactory = timerThreads;
      if (timer == null || proxyFactory == null || timerFactory == null) {
        return;
      }
      proxyLoop = null;
      scheduler = null;
      proxyThreads = null;
      timerThreads = null;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(STOP_TIMEOUT_SECONDS);
      timer.shutdownNow();
      DaemonThreads stopFactory = new DaemonThreads("failover-testkit-stop");
      List<RuntimeException> failures = stopEndpoints(stopFactory, deadline);
      if (loop != null) {
        loop.close();
      }
      List<String> alive = new ArrayList<>(stopFactory.joinAll(deadline));
      alive.addAll(timerFactory.joinAll(deadline));
      alive.addAll(proxyFactory.joinAll(deadline));
      RuntimeException failure = null;
      synchronized (failures) {
        for (RuntimeException e : failures) {
          if (failure == null) {
            failure = e;
          } else {
            failure.addSuppressed(e);
          }
        }
      }
      if (!alive.isEmpty()) {
        IllegalStateException stuck =
            new IllegalStateException(
                "FakeZones threads did not stop within " + STOP_TIMEOUT_SECONDS + " s: " + alive);
        if (failure != null) {
          stuck.addSuppressed(failure);
        }
        throw stuck;
      }
      if (failure != null) {
        throw failure;
      }
    }
  }

  /**
   * Stops every endpoint, each on a thread of its own, all at once: an endpoint's stop waits for
   * its Jetty threads, up to half a second for one still busy (a response being written), and one
   * after another those waits would add up past the bound of {@link #close()}. Returns once every
   * stop has ended or at {@code deadline}; the threads that are still alive then are joined (and
   * named) with the others.
   *
   * @return what the stops threw; guarded by itself
   */
  private List<RuntimeException> stopEndpoints(DaemonThreads threads, long deadline) {
    List<RuntimeException> failures = new ArrayList<>();
    for (FakeEndpoint endpoint : endpoints) {
      Runnable stop =
          () -> {
            try {
              endpoint.stop(deadline);
            } catch (RuntimeException e) {
              synchronized (failures) {
                failures.add(e);
              }
            }
          };
      try {
        threads.newThread(stop).start();
      } catch (OutOfMemoryError e) {
        stop.run(); // no native thread left: stopped here, one after another, but stopped
      }
    }
    List<String> unused = threads.joinAll(deadline); // those still alive are named by the caller
    return failures;
  }

  /**
   * Starts the endpoints for the test class (a static field), unless they are running already:
   * zones started elsewhere (shared by several classes from a static holder, say) are used as they
   * are, and left running after the class. The hooks registered from now until the class's {@code
   * afterAll} are the class's (see {@link #afterAll}).
   */
  @Override
  public void beforeAll(ExtensionContext context) {
    Class<?> testClass = context.getTestClass().orElse(null);
    synchronized (lifecycle) {
      ClassScope outer = classScopes.peekFirst();
      classDepth++;
      classScopes.addFirst(new ClassScope(testClass));
      if (outer != null && !enclosedBy(testClass, outer.owner)) {
        // Another class that shares these zones is running: its hooks would end with this one.
        throw new IllegalStateException(
            "FakeZones shared by "
                + name(outer.owner)
                + " and "
                + name(testClass)
                + ", which run at the same time"
                + PARALLEL_ADVICE);
      }
      if (proxyLoop == null) {
        start();
        perTest = false;
        perClass = true;
      }
    }
  }

  /**
   * Stops the endpoints after the outermost test class, if this extension started them for it (they
   * were not running before): zones someone else started are theirs to close. When it does not
   * close them, it runs the {@link #onClose} actions registered while the class ran (in reverse
   * order) and drops them and the class's {@link #onReset} actions: the class's client is closed
   * after its last test, and the next class to share the zones never resets it.
   *
   * @throws RuntimeException the first exception a close action threw, once every one has run
   */
  @Override
  public void afterAll(ExtensionContext context) {
    boolean last;
    List<Hook> classCloseActions = new ArrayList<>();
    synchronized (lifecycle) {
      classDepth = Math.max(0, classDepth - 1);
      last = classDepth == 0 && perClass;
      if (last) {
        perClass = false;
      }
      ClassScope scope = pollScopeOf(context.getTestClass().orElse(null));
      if (scope != null && !last) {
        for (Hook hook : scope.hooks) {
          if (closeActions.remove(hook)) {
            classCloseActions.add(hook);
          }
          resetActions.remove(hook);
        }
        Collections.reverse(classCloseActions);
      }
    }
    if (last) {
      close();
      return;
    }
    RuntimeException failure = runAll(classCloseActions);
    if (failure != null) {
      throw failure;
    }
  }

  /**
   * Starts the endpoints for this test (an instance field), or resets them (a static field).
   *
   * @throws IllegalStateException if another test uses these zones at the same time (JUnit's
   *     parallel execution): the reset would heal that test's faults
   */
  @Override
  public void beforeEach(ExtensionContext context) {
    synchronized (lifecycle) {
      ExtensionContext.Store store =
          context.getStore(ExtensionContext.Namespace.create(FakeZones.class, this));
      if (store.get(ENTERED) != null) {
        // These zones registered twice for the same test (an outer class and its @Nested class,
        // or a class and its superclass, holding the same object): once is enough.
        return;
      }
      store.put(ENTERED, true);
      if (proxyLoop == null) {
        start();
        perTest = true;
        return;
      }
      if (testsRunning > 0) {
        throw new IllegalStateException(
            "FakeZones used by "
                + context.getDisplayName()
                + " while another test uses them"
                + PARALLEL_ADVICE);
      }
      testsRunning++;
      context
          .getStore(ExtensionContext.Namespace.create(FakeZones.class, this))
          .put("running", this);
    }
    reset();
  }

  /** Stops the endpoints after the test when they were started for it. */
  @Override
  public void afterEach(ExtensionContext context) {
    boolean started;
    synchronized (lifecycle) {
      if (context.getStore(ExtensionContext.Namespace.create(FakeZones.class, this)).remove(ENTERED)
          == null) {
        return; // the second registration's call for this test (see beforeEach)
      }
      started = perTest;
      if (context
              .getStore(ExtensionContext.Namespace.create(FakeZones.class, this))
              .remove("running")
          != null) {
        testsRunning--; // this test was counted (not one refused for running alongside another)
      }
    }
    if (started) {
      close();
    }
  }

  /** Whether {@code inner} is {@code outer} or a class nested in it (JUnit's {@code @Nested}). */
  private static boolean enclosedBy(@Nullable Class<?> inner, @Nullable Class<?> outer) {
    for (Class<?> c = inner; c != null; c = c.getEnclosingClass()) {
      if (c == outer) {
        return true;
      }
    }
    return false;
  }

  private static String name(@Nullable Class<?> testClass) {
    return testClass == null ? "a test class" : testClass.getName();
  }

  /** Removes and returns the scope of {@code testClass}, the innermost one if it has several. */
  private @Nullable ClassScope pollScopeOf(@Nullable Class<?> testClass) {
    for (java.util.Iterator<ClassScope> it = classScopes.iterator(); it.hasNext(); ) {
      ClassScope scope = it.next();
      if (scope.owner == testClass) {
        it.remove();
        return scope;
      }
    }
    return classScopes.pollFirst();
  }

  @Override
  public String toString() {
    return "FakeZones[regions " + regionsByName.keySet() + ", zones " + zonesByName.keySet() + "]";
  }

  /**
   * Declares the regions, zones and endpoints of a {@link FakeZones}. Every setter checks its
   * argument at once.
   *
   * <pre>{@code
   * FakeZones zones = FakeZones.builder()
   *     .region("us-east-1", "us-east-1a", "us-east-1b")
   *     .region("us-west-2", "us-west-2a")
   *     .endpointsPerZone(2)
   *     .distance("us-east-1b", Duration.ofMillis(1))
   *     .distance("us-west-2", Duration.ofMillis(35))
   *     .seed(7)
   *     .build();
   * }</pre>
   */
  public static final class Builder {

    private static final int MAX_ENDPOINTS_PER_ZONE = 16;
    private static final int MAX_ENDPOINTS = 64;

    private final Map<String, List<String>> regions = new LinkedHashMap<>();
    private final Map<String, Long> distances = new HashMap<>();
    private int endpointsPerZone = 1;
    private long seed = 1;
    private @Nullable Long backendIdleTimeoutMillis;

    private Builder() {}

    /**
     * Declares a region and its zones; names are unique across regions and zones.
     *
     * @param region the region's name, such as {@code us-east-1}
     * @param zones the zones' names, at least one, such as {@code us-east-1a}
     * @return this builder
     * @throws IllegalArgumentException if a name is blank or already declared, or no zone is given
     */
    public Builder region(String region, String... zones) {
      checkNewName("region", region);
      if (zones.length == 0) {
        throw new IllegalArgumentException(
            "region '" + region + "' needs at least one zone but had none");
      }
      List<String> zoneList = new ArrayList<>();
      for (String zone : zones) {
        checkNewName("zone", zone);
        if (zoneList.contains(zone) || zone.equals(region)) {
          throw new IllegalArgumentException("zone '" + zone + "' is already declared");
        }
        zoneList.add(zone);
      }
      regions.put(region, List.copyOf(zoneList));
      return this;
    }

    /**
     * Sets how many endpoints each zone has (1 by default).
     *
     * @param count from 1 to 16
     * @return this builder
     * @throws IllegalArgumentException if {@code count} is out of range
     */
    public Builder endpointsPerZone(int count) {
      if (count < 1) {
        throw new IllegalArgumentException("endpointsPerZone must be >= 1 but was " + count);
      }
      if (count > MAX_ENDPOINTS_PER_ZONE) {
        throw new IllegalArgumentException(
            "endpointsPerZone must be <= " + MAX_ENDPOINTS_PER_ZONE + " but was " + count);
      }
      this.endpointsPerZone = count;
      return this;
    }

    /**
     * Sets the distance of a declared region or zone: a delay added to every response from it,
     * which {@code heal()} keeps. A zone's distance adds to its region's. The outage drill makes
     * the other zones of the home region 1 ms and the other region 35 ms farther than home.
     *
     * @param regionOrZone the name of a region or zone declared before
     * @param distance the delay, from 0 to 10 minutes
     * @return this builder
     * @throws IllegalArgumentException if the name is not declared or the delay is out of range
     */
    public Builder distance(String regionOrZone, Duration distance) {
      Objects.requireNonNull(regionOrZone, "regionOrZone");
      boolean known =
          regions.containsKey(regionOrZone)
              || regions.values().stream().anyMatch(z -> z.contains(regionOrZone));
      if (!known) {
        throw new IllegalArgumentException(
            "distance needs a region or zone declared before, but '"
                + regionOrZone
                + "' is not one");
      }
      distances.put(regionOrZone, Latency.millis("distance", distance));
      return this;
    }

    /**
     * Sets the seed of the randomness behind fault rates and latency distributions (1 by default).
     * Each endpoint draws from its own generator, derived from this seed, so a test that sends
     * requests one at a time sees the same outcomes on every run.
     *
     * @param seed any value
     * @return this builder
     */
    public Builder seed(long seed) {
      this.seed = seed;
      return this;
    }

    /**
     * Sets how long a WireMock server keeps an idle connection from its proxy open (Jetty's idle
     * timeout, 30 s by default); lets tests see a held request outlive it without waiting that
     * long.
     */
    Builder backendIdleTimeout(Duration timeout) {
      this.backendIdleTimeoutMillis = timeout.toMillis();
      return this;
    }

    /**
     * Builds the fake zones, not yet started.
     *
     * @return the fake zones
     * @throws IllegalStateException if no region was declared or there are more than 64 endpoints
     */
    public FakeZones build() {
      if (regions.isEmpty()) {
        throw new IllegalStateException(
            "at least one region is required, declare it with region()");
      }
      int zoneCount = regions.values().stream().mapToInt(List::size).sum();
      int total = zoneCount * endpointsPerZone;
      if (total > MAX_ENDPOINTS) {
        throw new IllegalStateException(
            "at most "
                + MAX_ENDPOINTS
                + " endpoints are supported but there were "
                + total
                + " ("
                + zoneCount
                + " zones x endpointsPerZone "
                + endpointsPerZone
                + ")");
      }
      return new FakeZones(this);
    }

    private void checkNewName(String what, String name) {
      Objects.requireNonNull(name, what);
      if (name.isBlank()) {
        throw new IllegalArgumentException(what + " name must not be blank but was '" + name + "'");
      }
      boolean taken =
          regions.containsKey(name) || regions.values().stream().anyMatch(z -> z.contains(name));
      if (taken) {
        throw new IllegalArgumentException(what + " '" + name + "' is already declared");
      }
    }
  }
}
