package dev.failover;

import java.io.Closeable;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import java.util.random.RandomGenerator;
import okhttp3.Call;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An {@link okhttp3.Call.Factory} for one logical service whose replicas run in several zones and
 * regions. Each call is routed, retried and bounded by a deadline so that it keeps succeeding when
 * an endpoint, a zone or a region fails.
 *
 * <p>A request names the service as its host, {@code http://directory/users/42}; each attempt is
 * rewritten onto the chosen endpoint's base URL (scheme, host, port and base path).
 *
 * <pre>{@code
 * try (FailoverClient directory = FailoverClient.builder()
 *     .service("directory")
 *     .home("us-east-1", "us-east-1a")
 *     .endpoint("https://dir-a.internal:8443", "us-east-1", "us-east-1a")
 *     .endpoint("https://dir-b.internal:8443", "us-east-1", "us-east-1b")
 *     .endpoint("https://dir-w.internal:8443", "us-west-2", "us-west-2a")
 *     .build()) {
 *   Request request = new Request.Builder().url("http://directory/users/42").build();
 *   try (Response response = directory.newCall(request).execute()) {
 *     System.out.println(response.body().string());
 *   }
 * }
 * }</pre>
 *
 * <h2>What happens to a call</h2>
 *
 * <ol>
 *   <li>A total <b>deadline</b> (default 10 s) bounds every attempt and backoff; each attempt has
 *       its own timeout (default: the call's deadline divided by the maximum attempts), and no
 *       attempt starts with less than {@code minAttemptTime} left.
 *   <li>The first attempt goes to the <b>nearest healthy tier</b>: the home zone, then the other
 *       zones of the home region, then the other regions in order. Traffic spills to the next tier
 *       in proportion to the health a tier lacks (overprovisioning factor 1.4). Inside a tier,
 *       power of two choices on Peak-EWMA latency times outstanding requests.
 *   <li>A <b>retryable outcome</b> (connect failure, reset, timeout, 502/503/504, 429, protocol
 *       error) leads to another attempt after an exponential backoff with full jitter, to an
 *       endpoint not yet tried, in a zone not yet tried where one exists, if the request is safe to
 *       repeat, the retry budget has a token, and time remains.
 *   <li>When no further attempt is allowed, the call returns the last response (for example a 503)
 *       or throws a {@link FailoverException} listing every attempt.
 * </ol>
 *
 * <h2>What is never repeated</h2>
 *
 * <p>A request is idempotent if its method is GET, HEAD, OPTIONS, PUT, DELETE or TRACE, if it has
 * an {@code Idempotency-Key} header, or if it is marked with {@link
 * RequestOptions#markIdempotent()}. Any other request (POST and PATCH) is sent again only when the
 * failed attempt provably never left the client (the connection could not be made). A request whose
 * body is one-shot or duplex is never sent twice.
 *
 * <p>Instances are thread-safe; share one per service. Their settings change only through {@link
 * #reconfigure(UnaryOperator)}, which swaps the client's core without losing a call; {@link
 * #reset()} forgets all routing state. {@link #close()} stops the health checks, cancels calls in
 * flight and releases every thread, timer and pooled connection the client created.
 */
public final class FailoverClient implements Call.Factory, Closeable {
  /** {@code maxRequests} by default. */
  static final int DEFAULT_MAX_REQUESTS = 256;

  private static final Logger log = LoggerFactory.getLogger(FailoverClient.class);

  /** Who asks, in the events and logs of the zonal shifts that {@link #reset()} ends. */
  static final String RESET = "FailoverClient.reset()";

  private final String service;

  /**
   * The context class loader of the thread that built the client (the application's): every core's
   * threads get it, also a core that a reconfigure() or reset() on another thread builds.
   */
  private final @Nullable ClassLoader contextClassLoader =
      Thread.currentThread().getContextClassLoader();

  /** Passes the endpoint source's reports to the current core; null without a source. */
  private final @Nullable SourceRelay relay;

  /** Guards the replacement of {@link #state}; never held while user code runs. */
  private final Object lock = new Object();

  /** The core that new calls use, the cores still finishing calls, and totals of closed cores. */
  private volatile State state;

  /** Who ended a shift that a {@link #cancelShift} ended while it was being carried over. */
  private static final String CANCELLED_DURING_CHANGE = "cancelShift during a reconfiguration";

  /**
   * How long {@link #close()} waits for the threads closing replaced cores: over the 12 s that
   * {@code ClientCore.close()} may take (5 s for the dispatcher, 1 s for the scheduler, 1 s for the
   * timeouts thread, 5 s to join its threads), with a margin.
   */
  private static final Duration RETIRED_CLOSE_BOUND = Duration.ofSeconds(15);

  /**
   * How long a close() that another thread's close() is running waits for it: past the longest the
   * first can take (the source's close, each core's 10 s for callbacks and threads, the retired
   * closers' 15 s), so that it too returns only once the client's threads have ended.
   */
  private static final Duration CONCURRENT_CLOSE_BOUND = Duration.ofSeconds(40);

  /** Counted down once the first close() has returned. */
  private final CountDownLatch firstCloseReturned = new CountDownLatch(1);

  /**
   * The thread running the first close(): code of the application's it runs (a callback or a
   * listener of a call it cancels) may call close() again there.
   */
  private volatile @Nullable Thread firstCloser;

  /** The zonal shifts asked for through this client, carried over to a new core. */
  private final Map<String, Shift> shifts = new ConcurrentHashMap<>();

  /** Who last cancelled each zone's shift: named when a carry-over ends one cancelled meanwhile. */
  private final Map<String, String> cancelledBy = new ConcurrentHashMap<>();

  private FailoverClient(
      Settings settings,
      @Nullable Discovery discovery,
      boolean fromSource,
      @Nullable SourceRelay relay) {
    this.service = settings.service();
    this.relay = relay;
    this.state =
        State.of(
            new Generation(
                settings, new ClientCore(settings, discovery, fromSource, contextClassLoader)));
  }

  /**
   * Returns a new builder.
   *
   * @return a builder with every setting at its default
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Returns a builder holding this client's settings, to build a new client that differs in some.
   * The new client has its own routing state, budgets, threads and (unless an {@code OkHttpClient}
   * was given) connection pool; it shares what was handed to the builder: the {@code OkHttpClient},
   * listeners, clock, scheduler and random generator. To change this client itself, use {@link
   * #reconfigure(UnaryOperator)}.
   *
   * @return a builder
   */
  public Builder newBuilder() {
    return new Builder(state.current.settings);
  }

  /**
   * Prepares a call. The request's host must be the service name. The call runs on the
   * configuration in force now: a {@link #reconfigure(UnaryOperator)} or {@link #reset()} that
   * comes before it ends lets it finish as it began.
   *
   * @param request the request, such as {@code GET http://directory/users/42}
   * @return a call that may be executed or enqueued once
   * @throws IllegalArgumentException if the request's host is not the service name
   * @throws IllegalStateException if the client is closed
   */
  @Override
  public Call newCall(Request request) {
    while (true) {
      State s = state;
      Generation g = s.current;
      try {
        return new FailoverCall(this, g, request);
      } catch (IllegalStateException e) {
        // The core closed: the client's (closed), or one just replaced and drained (try again).
        if (s.closed || state.current == g) {
          throw e;
        }
      }
    }
  }

  /**
   * Returns the name of the service, the host that requests name.
   *
   * @return the service name
   */
  public String service() {
    return service;
  }

  /**
   * Returns where this client runs.
   *
   * @return the home locality
   */
  public Locality home() {
    return state.current.settings.home();
  }

  /** Whether {@code listener} is one of the listeners of the client's current configuration. */
  boolean tells(FailoverListener listener) {
    for (FailoverListener l : state.current.settings.listeners()) {
      if (l == listener) {
        return true;
      }
    }
    return false;
  }

  /**
   * Returns the settings in force: what the builder was given, with every default filled in. It
   * follows {@link #reconfigure(UnaryOperator)} and {@link #reset()}: each returns a new view (a
   * reconfiguration that changed nothing keeps the view it had), and a view taken before keeps
   * describing the configuration it was taken from.
   *
   * <pre>{@code
   * Duration deadline = directory.settings().deadline();
   * }</pre>
   *
   * @return a read-only view of the current configuration
   */
  public FailoverSettings settings() {
    return state.current.view;
  }

  /**
   * Returns the endpoints in use now: those given to the builder, or, with an {@link
   * EndpointSource}, the last list applied (the fallback endpoints until the source's first list).
   *
   * @return an immutable list
   */
  public List<Endpoint> endpoints() {
    return state.current.core.endpoints();
  }

  /**
   * Whether first attempts on the caller's thread go without the SDK's first interceptor in the
   * configuration in force ({@code ClientCore.direct()}).
   */
  boolean firstAttemptsDirect() {
    return state.current.core.direct();
  }

  /**
   * A different object after every {@link #reconfigure} and {@link #reset()}: for the meters that
   * follow the client's settings, which may change while its endpoint list stays the same object.
   */
  Object generation() {
    return state.current;
  }

  /**
   * Whether {@code events} are those of this client's core in force or of a replaced core still
   * running calls: a listener shared by clients of one name ({@link FailoverMetrics}) tells them
   * apart by it.
   */
  boolean emits(Events events) {
    State s = state;
    if (s.current.core.events == events) {
      return true;
    }
    for (Generation g : s.retiring) {
      if (g.core.events == events) {
        return true;
      }
    }
    return false;
  }

  /**
   * Returns a read-only picture of the live state of every zone and endpoint. Its counters are
   * totals since the client was built, across {@link #reconfigure(UnaryOperator)} and {@link
   * #reset()}; the rest describes the configuration in force.
   *
   * @return a new snapshot
   */
  public FailoverSnapshot snapshot() {
    State s = state;
    FailoverSnapshot now = s.current.core.snapshot();
    if (s.retiring.isEmpty() && s.carried.isZero()) {
      return now;
    }
    Totals totals = s.carried.plus(Totals.of(now));
    for (Generation g : s.retiring) {
      totals = totals.plus(g.totals());
    }
    return totals.into(now);
  }

  /**
   * Shifts traffic away from a zone until {@code duration} has passed: an operator's zonal shift,
   * in the manner of AWS Route 53 Application Recovery Controller. The zone gets no first attempts
   * and no probes at once, whatever the detectors say; retries and hedges go there only as a last
   * resort, when everything else was tried. When the shift expires or is cancelled, the zone
   * returns with slow start. A shift always ends by itself, so a forgotten one cannot hold a zone
   * out for good; shifting the same zone again replaces its expiry. A shift outlives {@link
   * #reconfigure(UnaryOperator)}, not {@link #reset()}.
   *
   * <pre>{@code
   * directory.shiftAway("us-east-1a", Duration.ofHours(2), "change CHG-1234 by alice");
   * }</pre>
   *
   * <p>Emits {@link FailoverEvent.ZoneShifted} (and {@link FailoverEvent.ZoneShiftEnded} at the
   * end), logs at WARN with {@code requestedBy}, and shows the zone as {@link
   * FailoverSnapshot.ZoneStatus#SHIFTED} in the snapshot.
   *
   * @param zone the zone's name, such as {@code us-east-1a}; as {@code region/zone} ({@code
   *     westus/1}) where zone names repeat across regions
   * @param duration how long the shift lasts, 1 s to 3 days
   * @param requestedBy who or what asks, for the log and the event (not blank)
   * @return when the shift ends
   * @throws IllegalArgumentException if no zone has that name, the duration is out of range or
   *     {@code requestedBy} is blank
   * @throws IllegalStateException if no other zone in rotation would be left to serve, or the
   *     client is closed
   */
  public Instant shiftAway(String zone, Duration duration, String requestedBy) {
    Objects.requireNonNull(zone, "zone");
    Objects.requireNonNull(duration, "duration");
    Objects.requireNonNull(requestedBy, "requestedBy");
    if (duration.compareTo(Duration.ofSeconds(1)) < 0
        || duration.compareTo(Duration.ofDays(3)) > 0) {
      throw new IllegalArgumentException(
          "zonal shift duration must be between 1 s and 3 days but was " + duration);
    }
    if (requestedBy.isBlank()) {
      throw new IllegalArgumentException(
          "zonal shift requestedBy must name who or what asks, e.g. \"actuator:alice\"");
    }
    Generation g = state.current;
    Ticker ticker = g.settings.monotonic();
    long started = ticker.nanos();
    Instant until = g.core.shiftAway(zone, duration, requestedBy);
    // Kept as region/zone whichever way it was named: a cancel by the other name ends it here too,
    // and a later reconfigure() does not bring it back.
    String key = g.core.zoneKey(zone);
    Shift shift = new Shift(key, until, requestedBy, ticker, started + duration.toNanos());
    shifts.put(key, shift);
    // A core that replaced g meanwhile may have copied the shifts before this one: give it too.
    Generation now = state.current;
    if (now != g) {
      carryOver(now, shift);
    }
    return until;
  }

  /**
   * Ends the zonal shift of a zone before its expiry; the zone returns with slow start. A zone that
   * the endpoint list emptied since it was shifted can still be named (for up to 5 minutes after it
   * emptied; a shifted zone is kept until its shift ends).
   *
   * @param zone the zone's name, or {@code region/zone} where zone names repeat across regions
   * @param requestedBy who or what asks, for the log and the event
   * @return whether a shift was in force
   * @throws IllegalArgumentException if no zone has that name
   */
  public boolean cancelShift(String zone, String requestedBy) {
    Objects.requireNonNull(zone, "zone");
    Objects.requireNonNull(requestedBy, "requestedBy");
    // In force if the client held it and it has not expired, even if a configuration that
    // replaced the one it was given to has not been given it yet (carryOver ends it there).
    String key = state.current.core.zoneKey(zone); // as shiftAway keeps it
    cancelledBy.put(key, requestedBy);
    Shift held = shifts.remove(key);
    Generation g = state.current;
    boolean was = held != null && held.leftNanos() > 0;
    try {
      was |= g.core.cancelShift(zone, requestedBy);
    } catch (IllegalArgumentException noSuchZone) {
      if (held == null) {
        cancelledBy.remove(key, requestedBy); // a name no zone has is not remembered
      } else {
        shifts.putIfAbsent(key, held); // not cancelled: still carried over to a new core
      }
      throw noSuchZone;
    }
    Generation now = state.current;
    if (now != g) {
      was |= now.core.cancelShift(zone, requestedBy);
    }
    return was;
  }

  /**
   * Forgets everything the client has learned and starts afresh with the same settings: endpoint
   * health and ejections, zone evacuations and statistics, zonal shifts (ended with a {@link
   * FailoverEvent.ZoneShiftEnded} whose reason names {@code FailoverClient.reset()}), the retry
   * budget, hedge delay estimates, the client's own health and the stale cache. It is for tests
   * (one test's outage must not decide the next test's routing) and for operators (after a
   * misjudged incident). The endpoint list stays as it is (with an {@link EndpointSource}, the list
   * last applied, and the source keeps running); the snapshot's counters keep counting.
   *
   * <pre>{@code
   * @AfterEach
   * void forgetOutages() {
   *   directory.reset();
   * }
   * }</pre>
   *
   * <p>Calls in flight, and calls made before the reset that start before their old state is
   * closed, finish on the old state; calls made afterwards use the fresh one. The old state's
   * threads, timers and pooled connections are released once its last call has ended, on a
   * short-lived thread, or by {@link #close()}.
   *
   * @throws IllegalStateException if the client is closed
   */
  public void reset() {
    // With a source, the list in use now, not the one the client was built with.
    Generation old =
        replace(
            (g, inUse) -> {
              SourceRelay r = relay;
              return r == null ? g.settings : new Builder(g.settings).check(inUse, r.source);
            },
            true);
    if (old == null) {
      return;
    }
    for (Shift shift : List.copyOf(shifts.values())) {
      if (shifts.remove(shift.zone(), shift)) {
        // On the old core, for the event and the log line; the new core never had it, unless a
        // shiftAway on another thread gave it there as the reset began: it ends too.
        try {
          old.core.cancelShift(shift.zone(), RESET);
        } catch (IllegalArgumentException e) {
          // The old core forgot the zone: its shift expired and the list had emptied it.
        }
        try {
          state.current.core.cancelShift(shift.zone(), RESET);
        } catch (IllegalArgumentException e) {
          // The new core's list no longer has the zone (a source changed it): no shift there.
        }
      }
    }
  }

  /**
   * Changes this client's settings while it runs, without losing a call: the change is applied to a
   * builder holding the current settings, and a new client core is built from it; calls made from
   * then on use it, calls in flight finish on the old one, whose threads, timers and pooled
   * connections are released once its last call has ended (or by {@link #close()}). This object
   * stays the one that applications hold, so a bean or a Retrofit instance built on it follows.
   *
   * <pre>{@code
   * directory.reconfigure(b -> b.deadline(Duration.ofSeconds(2)).maxAttempts(2));
   * }</pre>
   *
   * <p>What carries over: the zonal shifts in force (announced again by the new core with a {@link
   * FailoverEvent.ZoneShifted}, same expiry; one of a zone where the new core has no endpoint is
   * held until it ends, and applies if the zone's endpoints come back), the endpoint source (it
   * keeps running, and its last list is the new core's list), and the snapshot's counters. What
   * starts afresh, as in a new client: endpoint and zone health, budgets, hedge delay estimates and
   * the stale cache. A change that leaves every setting as it was does nothing.
   *
   * <p>The service name and the endpoint source cannot change: build a new client for that. With an
   * endpoint source, endpoints given to the builder are ignored (the source's list is in use).
   *
   * @param change applied to a builder holding the current settings; returns the builder to build
   *     from (usually the same one). It runs on the calling thread, outside every lock of the
   *     client, and may run again if another reconfiguration wins a race.
   * @throws IllegalArgumentException if the change names another service or an endpoint source, or
   *     a setter rejects a value; the client keeps its settings
   * @throws InvalidConfigurationException (an {@code IllegalStateException}) if the settings do not
   *     fit together (as {@link Builder#build()} checks); the client keeps its settings
   * @throws IllegalStateException if the client is closed
   */
  public void reconfigure(UnaryOperator<Builder> change) {
    Objects.requireNonNull(change, "change");
    Generation old = replace((g, inUse) -> next(g, inUse, change), false);
    if (old == null) {
      return;
    }
    Generation now = state.current;
    for (Shift shift : List.copyOf(shifts.values())) {
      carryOver(now, shift);
    }
    // Given to the core before it was published, and cancelled in between on the core that was
    // current then: ended here too. (One renewed in between was replaced by the carry-over.)
    for (Shift shift : List.copyOf(now.givenBeforePublication)) {
      if (now.givenBeforePublication.remove(shift) && !shifts.containsKey(shift.zone())) {
        try {
          // Only that shift: a new one made on the core since (shiftAway on another thread) stays.
          now.core.cancelShiftIf(
              shift.zone(),
              shift.until(),
              shift.requestedBy(),
              cancelledBy.getOrDefault(shift.zone(), CANCELLED_DURING_CHANGE));
        } catch (RuntimeException e) {
          // The core forgot the zone (its list emptied it long enough), or it closed: no shift.
        }
      }
    }
  }

  /**
   * The settings a reconfiguration leads to, checked; null if they are the same. {@code inUse} is
   * the list in use (with a source, the one it reported last).
   */
  private @Nullable Settings next(
      Generation g, List<Endpoint> inUse, UnaryOperator<Builder> change) {
    Builder b =
        Objects.requireNonNull(
            change.apply(new Builder(g.settings)), "reconfigure's change returned null");
    if (b.endpointSource != null) {
      throw new IllegalArgumentException(
          "reconfigure cannot set an endpoint source; the client keeps "
              + (relay == null ? "its static endpoints" : "'" + relay.source.description() + "'")
              + " (build a new client to change where endpoints come from)");
    }
    if (!service.equals(b.service)) {
      throw new IllegalArgumentException(
          "reconfigure cannot change the service name from '"
              + service
              + "' to '"
              + b.service
              + "'; build a new client for another service");
    }
    SourceRelay r = relay;
    List<Endpoint> endpoints = r == null ? b.endpoints : inUse;
    Settings next = b.check(endpoints, r == null ? null : r.source);
    // With a source, the list in use is the one it reported last, not the one the core was built
    // with: a change that changes nothing else keeps the core (and what it learned).
    Settings now = r == null ? g.settings : g.settings.withEndpoints(endpoints);
    return next.equals(now) ? null : next;
  }

  /**
   * Gives {@code shift} to {@code g}'s core with what remains of it; logs what it cannot. A {@link
   * #cancelShift} or {@link #shiftAway} of the zone on another thread may reach {@code g}'s core
   * before this does: so once given, the shift is checked against {@link #shifts} again, and the
   * core is made to hold what the map holds now (no shift, or the newer one).
   */
  private void carryOver(Generation g, Shift shift) {
    if (!shift.equals(shifts.get(shift.zone()))) {
      return; // ended or replaced meanwhile
    }
    long left = shift.leftNanos();
    if (left <= 0) {
      return;
    }
    try {
      if (!g.core.shiftInForce(shift.zone(), shift.until(), shift.requestedBy())) {
        // Not given to the core before it was published (see replace), or made since.
        try {
          g.core.shiftAwayUntil(shift.zone(), shift.until(), left, shift.requestedBy());
        } catch (IllegalArgumentException notListed) {
          // No endpoint of the new core is in the zone (its registry emptied it for the
          // maintenance, or the new list leaves it out): held all the same, as the replaced core
          // held it, until it ends or the zone's endpoints come back shifted.
          g.core.holdShiftOfEmptied(shift.zone(), shift.until(), left, shift.requestedBy());
        }
      }
    } catch (RuntimeException e) {
      if (g != state.current) {
        // Replaced meanwhile (and maybe closed): the shift is the newer core's carry-over's.
        return;
      }
      shifts.remove(shift.zone(), shift);
      log.warn(
          "[{}] the zonal shift of '{}' by {} ends with the new configuration: {}",
          service,
          shift.zone(),
          shift.requestedBy(),
          e.getMessage());
      return;
    }
    Shift now = shifts.get(shift.zone());
    if (now == null) {
      // Only the shift carried: one made on the core since by another thread stays.
      g.core.cancelShiftIf(
          shift.zone(),
          shift.until(),
          shift.requestedBy(),
          cancelledBy.getOrDefault(shift.zone(), CANCELLED_DURING_CHANGE));
    } else if (!now.equals(shift)) {
      carryOver(g, now);
    }
  }

  /**
   * Builds a core from what {@code next} returns for the current one and the list it uses, and
   * makes it current; the old one finishes its calls, then closes. Returns the old generation, or
   * null if {@code next} returned null (nothing to change).
   */
  private @Nullable Generation replace(
      java.util.function.BiFunction<Generation, List<Endpoint>, @Nullable Settings> next,
      boolean reset) {
    while (true) {
      State s = state;
      if (s.closed) {
        throw new IllegalStateException("FailoverClient '" + service + "' is closed");
      }
      Generation old = s.current;
      // The list in use and whether the source gave it (the fallback no longer serves), in one
      // read: read apart, the source's first list could land between the two, and the new core
      // would be built on the fallback as if the source had given it, then hold the source's list
      // as a removal of the whole fallback.
      Discovery.InUse inUse = old.core.discovery.inUseAndOrigin();
      Settings settings = next.apply(old, inUse.endpoints());
      if (settings == null) {
        return null;
      }
      SourceRelay r = relay;
      Discovery intake = null;
      // Whether the source has given a list yet: a source that failed from the start is reported
      // STALE while the fallback still serves, and its first list must replace it.
      boolean fromSource = r != null && inUse.fromSource();
      if (r != null) {
        intake = r.newIntake(settings);
      }
      Generation fresh =
          new Generation(
              settings, new ClientCore(settings, intake, fromSource, contextClassLoader, old.core));
      // The shifts in force, before the core serves a call: published first, it would send first
      // attempts to a shifted zone until the carry-over after this. Told by it as it takes each
      // (ZoneShifted, the same expiry; each core tells of its own shifts, and their ends); the
      // carry-over ends one cancelled meanwhile. One it cannot take is left to the carry-over,
      // which warns. Not at a reset, which ends them.
      for (Shift shift : reset ? List.<Shift>of() : List.copyOf(shifts.values())) {
        long left = shift.leftNanos();
        if (left > 0) {
          try {
            try {
              fresh.core.shiftAwayUntil(shift.zone(), shift.until(), left, shift.requestedBy());
            } catch (IllegalArgumentException notListed) {
              // No endpoint of the new core in the zone: held (see carryOver), so that a list
              // bringing the zone back before the carry-over finds it shifted.
              fresh.core.holdShiftOfEmptied(shift.zone(), shift.until(), left, shift.requestedBy());
            }
            fresh.givenBeforePublication.add(shift);
          } catch (RuntimeException e) {
            log.debug("[{}] shift of '{}' left to the carry-over: {}", service, shift.zone(), e);
          }
        }
      }
      boolean won;
      synchronized (lock) {
        won = !state.closed && state.current == old;
        if (won) {
          state = state.replacedBy(fresh);
          if (r != null && intake != null) {
            // Aimed in the order the cores replace each other: two changes that overlap must not
            // leave the source reporting to the one that lost, whichever thread gets here first.
            r.aim(intake);
          }
        }
      }
      if (!won) {
        fresh.core.close(); // closed meanwhile, or another change came first: build on that one
        continue;
      }
      if (r != null && intake != null) {
        // The old core's intake gets no more reports, and must not go on judging the list on its
        // own timeline while its calls finish: it would apply a held removal, or report the list
        // stale, a second time beside the new core's intake (a report in flight to it is dropped;
        // catchUp hands the latest to the new one).
        old.core.discovery.close();
        r.catchUp(intake);
      }
      old.stallsWhenRetired = old.core.retire();
      int running = Math.max(0, old.running.get());
      log.info(
          "[{}] {}; {} call(s) in flight finish on the previous state",
          service,
          reset ? "routing state reset" : "configuration changed",
          running);
      if (old.retire()) {
        closeInBackground(old);
      }
      return old;
    }
  }

  /**
   * Closes a drained, replaced core on a thread of its own: never one of that core's threads. It
   * stops the core's tick (its health checks and zone judgement stopped when it was replaced), then
   * waits (up to 5 s) for the core's dispatcher to be idle: the attempt that carried a call's
   * response is still running on it until its callback has returned, and closing would cancel it
   * and the body the caller is about to read ({@link #close()} ends the wait). Then it waits until
   * the attempts' timeouts that still bound bodies being read have expired or been disarmed (each
   * at most its attempt's timeout; {@link #close()} ends the wait).
   */
  private void closeInBackground(Generation g) {
    Thread t =
        g.core.newThread(
            () -> {
              g.core.stopTicking();
              awaitIdle(g.core.transport().dispatcher(), g.idle, Duration.ofSeconds(5));
              try {
                g.core.awaitBodiesRead();
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
              finish(g);
            },
            "failover-" + service + "-retire");
    t.setDaemon(true);
    g.closer = t;
    t.start();
  }

  /**
   * Waits until the dispatcher is idle, at most {@code atMost}; {@code idle} is counted down when
   * it is, or by {@link #close()}, which cancels what still runs and must not wait the whole time.
   */
  private static void awaitIdle(
      okhttp3.Dispatcher dispatcher, CountDownLatch idle, Duration atMost) {
    dispatcher.setIdleCallback(idle::countDown);
    try {
      if (dispatcher.runningCallsCount() > 0) {
        idle.await(atMost.toMillis(), TimeUnit.MILLISECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Closes a core that this thread claimed, and moves its counters into the carried totals. */
  private void finish(Generation g) {
    try {
      g.core.close();
      Totals last = g.totals();
      synchronized (lock) {
        state = state.without(g, last);
      }
    } catch (RuntimeException | Error e) {
      log.error("[{}] closing a replaced client core failed", service, e);
    } finally {
      g.closed.countDown();
    }
  }

  /**
   * Cancels calls in flight, stops health checks and releases threads, timers and, if the client
   * created its own OkHttp connection pool, every pooled connection; also those of a configuration
   * that {@link #reconfigure(UnaryOperator)} or {@link #reset()} replaced and whose calls are still
   * running, or that a thread of their own is closing (their waits for an idle dispatcher and for
   * bodies being read end now). Returns once those threads have ended, every wait bounded (5 s for
   * application code still running on a core's threads, then an interrupt and 5 s more; 15 s for
   * the threads closing replaced cores). Called from one of the client's own threads (a callback, a
   * listener, an interceptor of an attempt or probe), it does not wait for that thread, which ends
   * once the application's code returns. Calling it again does nothing.
   */
  @Override
  public void close() {
    State s;
    boolean first;
    synchronized (lock) {
      first = !state.closed;
      if (first) {
        state = state.closing();
        firstCloser = Thread.currentThread();
      }
      s = state;
    }
    if (!first) {
      awaitOtherClose(s);
      return;
    }
    try {
      closeFirst(s);
    } finally {
      firstCloseReturned.countDown();
    }
  }

  /**
   * Another thread's close() runs, or ran: returns once it has returned, as it does once every
   * thread of the client has ended, so that no close() returns before then. At once on a thread of
   * the client's (a callback, a listener or a retired core's closer), which that close() waits for
   * or leaves to end by itself.
   */
  private void awaitOtherClose(State s) {
    Thread me = Thread.currentThread();
    SourceRelay r = relay;
    if (me == firstCloser || (r != null && r.deliveringHere()) || s.current.core.ownsThread(me)) {
      // The first close() itself (a callback of a call it cancelled), or a source's thread that
      // delivers a list (a listener told of it), which the first may wait for as it closes the
      // source.
      return;
    }
    for (Generation g : s.retiring) {
      if (g.closer == me || g.core.ownsThread(me)) {
        return;
      }
    }
    try {
      firstCloseReturned.await(CONCURRENT_CLOSE_BOUND.toNanos(), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void closeFirst(State s) {
    SourceRelay r = relay;
    if (r != null) {
      r.close(); // first, so that no list arrives while the rest shuts down
    }
    if (s.current.claim()) {
      finish(s.current);
    }
    for (Generation g : s.retiring) {
      if (g.claim()) {
        finish(g);
      }
    }
    for (Generation g : s.retiring) {
      // A replaced core that its closer holds may be waiting for its dispatcher to be idle, or for
      // bodies being read: close now.
      g.idle.countDown();
      g.core.stopWaitingForBodies();
    }
    // Each closer now closes its core: at most 5 s for a callback still running, then an
    // interrupt and up to 5 s more for the core's threads (ClientCore.close()), and they run side
    // by side. Wait for the closers' threads to end, bounded with a margin over that.
    long until = System.nanoTime() + RETIRED_CLOSE_BOUND.toNanos();
    try {
      for (Generation g : s.retiring) {
        Thread t = g.closer;
        if (t == Thread.currentThread() || g.core.ownsThread(Thread.currentThread())) {
          // close() from that closer (a listener it runs), or from the application's code on one
          // of that core's threads (a probe's EventListener), which the closer waits for: it ends
          // once this returns, and waiting here would only wait for the closer to interrupt it.
          continue;
        }
        g.closed.await(Math.max(0, until - System.nanoTime()), TimeUnit.NANOSECONDS);
        t = g.closer;
        if (t != null && t != Thread.currentThread()) {
          t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(until - System.nanoTime())));
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public String toString() {
    return "FailoverClient{service=" + service + ", home=" + home() + "}";
  }

  /**
   * A zonal shift asked for through this client: its end on the wall clock (what events tell) and
   * on the monotonic {@code ticker} ({@code untilNanos}), by which it is carried to a new
   * configuration. By the wall clock alone, a clock stepped forward (an NTP correction, a VM
   * resumed) dropped the shift at the next {@code reconfigure}, untold, and one stepped back
   * carried it for that much longer.
   */
  private record Shift(
      String zone, Instant until, String requestedBy, Ticker ticker, long untilNanos) {
    /** How long the shift has left, on its ticker. */
    long leftNanos() {
      return untilNanos - ticker.nanos();
    }
  }

  /** One core and the settings it was built from, with the count of calls running on it. */
  static final class Generation {
    final Settings settings;
    final ClientCore core;

    /** Calls running on the core; -1 once it is closed or being closed (by whoever set it). */
    final AtomicInteger running = new AtomicInteger();

    /** Whether a newer core replaced this one: it closes when its last call ends. */
    private volatile boolean retired;

    /**
     * The stalls the core had counted when a newer core replaced it, -1 before: its detector runs
     * on for its calls, and the newer core counts the same stalls.
     */
    volatile long stallsWhenRetired = -1;

    /** What the core adds to the client's totals. */
    Totals totals() {
      Totals t = Totals.of(core.snapshot());
      long atRetirement = stallsWhenRetired;
      return atRetirement < 0 || t.clientStalls() <= atRetirement
          ? t
          : new Totals(t.counters(), atRetirement, t.listUpdates(), t.listsHeld());
    }

    /** Counted down when the core is closed. */
    final CountDownLatch closed = new CountDownLatch(1);

    /**
     * Counted down when the core's dispatcher is idle, or when the client closes: ends the closer's
     * wait for it.
     */
    final CountDownLatch idle = new CountDownLatch(1);

    /** The thread closing the core in the background, if one does. */
    volatile @Nullable Thread closer;

    /** The public view of {@link #settings}, one per generation. */
    final FailoverSettings view;

    /** Shifts given to the core before it was published (see reconfigure). */
    final Set<Shift> givenBeforePublication = ConcurrentHashMap.newKeySet();

    Generation(Settings settings, ClientCore core) {
      this.settings = settings;
      this.core = core;
      this.view = new FailoverSettings(settings);
    }

    /** Counts a call in; false if the core is closed or closing. */
    boolean enter() {
      while (true) {
        int n = running.get();
        if (n < 0) {
          return false;
        }
        if (running.compareAndSet(n, n + 1)) {
          return true;
        }
      }
    }

    /** Counts a call out; true if the caller must now close the core (retired and drained). */
    boolean exit() {
      return running.decrementAndGet() == 0 && retired && running.compareAndSet(0, -1);
    }

    /** Marks the core replaced; true if the caller must now close it (no call running). */
    boolean retire() {
      retired = true;
      return running.compareAndSet(0, -1);
    }

    /** Claims the closing at once, running calls or not; false if another thread has it. */
    boolean claim() {
      return running.getAndSet(-1) >= 0;
    }
  }

  /**
   * What the client reads without a lock: the core for new calls, replaced cores that still run
   * calls, the counters of closed cores, and whether the client is closed. Replaced whole, under
   * {@link #lock}.
   */
  private record State(
      Generation current, List<Generation> retiring, Totals carried, boolean closed) {
    static State of(Generation first) {
      return new State(first, List.of(), Totals.ZERO, false);
    }

    State replacedBy(Generation next) {
      List<Generation> r = new ArrayList<>(retiring);
      r.add(current);
      return new State(next, List.copyOf(r), carried, closed);
    }

    State without(Generation closedOne, Totals last) {
      if (closedOne == current) {
        return this; // the client's own close(): the snapshot keeps reading the closed core
      }
      List<Generation> r = new ArrayList<>(retiring);
      r.remove(closedOne);
      return new State(current, List.copyOf(r), carried.plus(last), closed);
    }

    State closing() {
      return new State(current, retiring, carried, true);
    }
  }

  /** The totals of a snapshot that count since the client was built. */
  private record Totals(
      FailoverSnapshot.Counters counters, long clientStalls, long listUpdates, long listsHeld) {
    static final Totals ZERO =
        new Totals(new FailoverSnapshot.Counters(0, 0, 0, 0, 0, 0, 0, 0, 0, 0), 0, 0, 0);

    static Totals of(FailoverSnapshot s) {
      return new Totals(
          s.counters(), s.clientStalls(), s.discovery().updates(), s.discovery().held());
    }

    boolean isZero() {
      return equals(ZERO);
    }

    Totals plus(Totals o) {
      FailoverSnapshot.Counters a = counters;
      FailoverSnapshot.Counters b = o.counters;
      return new Totals(
          new FailoverSnapshot.Counters(
              a.calls() + b.calls(),
              a.attempts() + b.attempts(),
              a.retries() + b.retries(),
              a.hedgesSent() + b.hedgesSent(),
              a.hedgesWon() + b.hedgesWon(),
              a.hedgesCancelled() + b.hedgesCancelled(),
              a.hedgesRefused() + b.hedgesRefused(),
              a.budgetExhausted() + b.budgetExhausted(),
              a.staleServed() + b.staleServed(),
              a.failedCalls() + b.failedCalls()),
          clientStalls + o.clientStalls,
          listUpdates + o.listUpdates,
          listsHeld + o.listsHeld);
    }

    /** {@code s} with these totals in place of its own. */
    FailoverSnapshot into(FailoverSnapshot s) {
      FailoverSnapshot.Discovery d = s.discovery();
      return new FailoverSnapshot(
          s.service(),
          s.home(),
          s.takenAt(),
          s.budgetTokens(),
          s.hedgeDelay(),
          s.panic(),
          s.clientStalled(),
          clientStalls,
          counters,
          s.zones(),
          new FailoverSnapshot.Discovery(
              d.source(),
              d.status(),
              d.reason(),
              d.lastGoodList(),
              d.heldSince(),
              d.endpoints(),
              listUpdates,
              listsHeld));
    }
  }

  /**
   * Counts a call into the current core, waiting out a replacement that is being published; returns
   * that core's generation, or null if the client is closed.
   */
  @Nullable Generation enterCurrent() {
    while (true) {
      State s = state;
      Generation g = s.current;
      if (g.enter()) {
        return g;
      }
      if (s.closed) {
        return null;
      }
    }
  }

  /** Whether {@link #close()} has begun. */
  boolean isClosed() {
    return state.closed;
  }

  /**
   * Counts a call out of the core it ran on ({@code g}; null: none); closes that core if it was
   * replaced and this was its last call.
   */
  void exited(@Nullable Generation g) {
    if (g != null && g.exit()) {
      closeInBackground(g);
    }
  }

  /**
   * Passes the endpoint source's reports to the intake ({@link Discovery}) of the current core, and
   * keeps the latest report for the intake of a core that replaces it. Each core closes its intake
   * and a view of the source that does nothing when closed; the client closes the source itself,
   * once, in {@link #close()}.
   */
  private static final class SourceRelay implements EndpointSource.Updates {
    /**
     * The sources that clients use, from build() until the client's close() (or the failed build's
     * end): by identity, and held weakly, so that a client dropped without close() is not kept
     * reachable through here.
     */
    private static final List<Owner> IN_USE = new ArrayList<>();

    private record Owner(java.lang.ref.WeakReference<EndpointSource> source, String service) {}

    final EndpointSource source;
    private final EndpointSource view;
    private volatile @Nullable Discovery target;

    // Guarded by this: the latest report, and how many there were.
    private @Nullable List<Endpoint> lastList;
    private @Nullable Throwable lastFailure;
    private long reports;
    private boolean closed;

    SourceRelay(EndpointSource source) {
      this.source = source;
      this.view =
          new EndpointSource() {
            @Override
            public void start(Updates updates) {
              throw new IllegalStateException("started by the client, once");
            }

            @Override
            public void close() {}

            @Override
            public String description() {
              return source.description();
            }
          };
    }

    /**
     * A relay for a client of {@code service} that is being built, once {@code source} is known to
     * be free: a source that another client uses (not yet closed), or an {@link
     * EndpointSource.Push} that was started or closed, is refused without being started or closed.
     */
    static SourceRelay claim(EndpointSource source, String service) {
      // Asked before the lock: a custom source's description() is the application's code.
      String description = source.description();
      synchronized (IN_USE) {
        for (java.util.Iterator<Owner> it = IN_USE.iterator(); it.hasNext(); ) {
          Owner o = it.next();
          EndpointSource used = o.source().get();
          if (used == null) {
            it.remove();
          } else if (used == source) {
            throw new InvalidConfigurationException(
                "endpointSource",
                description,
                null,
                "endpoint source '"
                    + description
                    + "' already feeds a client of service "
                    + o.service()
                    + " that is not closed; a source feeds one client: give the client of service "
                    + service
                    + " a source of its own");
          }
        }
        if (source instanceof EndpointSource.Push push) {
          String why = push.unavailable();
          if (why != null) {
            throw new InvalidConfigurationException(
                "endpointSource",
                description,
                null,
                "push source '"
                    + description
                    + "' "
                    + why
                    + "; a push source feeds one client, once: give the client of service "
                    + service
                    + " a new EndpointSource.Push");
          }
        }
        IN_USE.add(new Owner(new java.lang.ref.WeakReference<>(source), service));
      }
      return new SourceRelay(source);
    }

    /** A new core's intake; it gets reports once {@link #aim} makes it the target. */
    Discovery newIntake(Settings settings) {
      return Discovery.of(
          settings.service(), view, settings.discovery(), settings.clock(), settings.monotonic());
    }

    /** The first core's intake, before the source starts. */
    Discovery first(String service, DiscoveryPolicy policy, Clock clock, Ticker ticker) {
      Discovery d = Discovery.of(service, view, policy, clock, ticker);
      target = d;
      return d;
    }

    // Each report is numbered under this lock and handed on outside it: an intake drops a report
    // older than one it took (two threads of a source reporting at once, or catchUp racing the
    // source's own delivery), so that the latest report is the one that lands last.

    /**
     * The relays whose reports a thread delivers (and whose listeners are told of them), innermost
     * last: a listener of one client's delivery may make another client's source deliver. Per
     * relay, so that a thread delivering one client's list still waits for another client's close()
     * that runs elsewhere.
     */
    private static final ThreadLocal<List<SourceRelay>> DELIVERING = new ThreadLocal<>();

    /** Whether this thread delivers a report of this relay's source. */
    boolean deliveringHere() {
      List<SourceRelay> d = DELIVERING.get();
      return d != null && d.contains(this);
    }

    /** Runs a delivery with {@link #deliveringHere()} true on this thread meanwhile. */
    private void delivering(Runnable delivery) {
      List<SourceRelay> d = DELIVERING.get();
      boolean outer = d == null;
      if (d == null) {
        d = new ArrayList<>(1);
        DELIVERING.set(d);
      }
      d.add(this);
      try {
        delivery.run();
      } finally {
        d.remove(d.size() - 1);
        if (outer) {
          DELIVERING.remove();
        }
      }
    }

    @Override
    public void endpoints(List<Endpoint> endpoints) {
      // A copy: the list is kept for the intake of a core that replaces the current one, and a
      // source may reuse (clear, refill) the list it reported.
      List<Endpoint> copy = copyOf(endpoints);
      long n;
      synchronized (this) {
        if (closed) {
          return;
        }
        lastList = copy;
        lastFailure = null;
        n = ++reports;
      }
      Discovery d = target;
      if (d != null) {
        delivering(() -> d.endpoints(copy, n));
      }
    }

    private static List<Endpoint> copyOf(List<Endpoint> endpoints) {
      Objects.requireNonNull(endpoints, "endpoints");
      for (Endpoint e : endpoints) {
        Objects.requireNonNull(e, "the source reported a list with a null endpoint");
      }
      return List.copyOf(endpoints);
    }

    @Override
    public void failed(Throwable cause) {
      Objects.requireNonNull(cause, "cause");
      long n;
      synchronized (this) {
        if (closed) {
          return;
        }
        lastFailure = cause;
        n = ++reports;
      }
      Discovery d = target;
      if (d != null) {
        delivering(() -> d.failed(cause, n));
      }
    }

    /**
     * Sends the source's reports to {@code intake} from now on; the caller holds the client's lock,
     * under which the core it belongs to became current, so that intakes are aimed at in the order
     * their cores replaced each other. Then {@link #catchUp}.
     */
    void aim(Discovery intake) {
      target = intake;
    }

    /**
     * Gives {@code intake}, just aimed at, the latest report: a report recorded after it was read
     * here reaches {@code intake} through the source's own delivery (if it is still the target) or
     * through another round of this loop, so {@code intake} ends on the latest.
     */
    void catchUp(Discovery intake) {
      long delivered = -1;
      while (true) {
        List<Endpoint> list;
        Throwable failure;
        synchronized (this) {
          if (closed || reports == delivered) {
            return;
          }
          delivered = reports;
          list = lastList;
          failure = lastFailure;
        }
        try {
          if (failure != null) {
            intake.failed(failure, delivered);
          } else if (list != null) {
            intake.endpoints(list, delivered);
          }
        } catch (RuntimeException e) {
          log.warn(
              "[{}] passing the endpoint list to the new core failed", intake.description(), e);
        }
      }
    }

    /** Closes the source, then frees it (another client may use it, if it can start again). */
    void close() {
      synchronized (this) {
        closed = true;
      }
      try {
        source.close();
      } catch (RuntimeException | Error e) {
        log.error("closing endpoint source '{}' failed", source.description(), e);
      } finally {
        synchronized (IN_USE) {
          IN_USE.removeIf(o -> o.source().get() == source || o.source().get() == null);
        }
      }
    }
  }

  /**
   * Builds a {@link FailoverClient}. Every setter checks its argument at once; {@link #build()}
   * checks that the settings fit together.
   *
   * <pre>{@code
   * FailoverClient client = FailoverClient.builder()
   *     .service("directory")
   *     .home("us-east-1", "us-east-1a")
   *     .endpoint(Endpoint.of("https://dir-a.internal:8443", "us-east-1", "us-east-1a"))
   *     .endpoint(Endpoint.of("https://dir-b.internal:8443", "us-east-1", "us-east-1b"))
   *     .endpoint(Endpoint.of("https://dir-w.internal:8443", "us-west-2", "us-west-2a"))
   *     .healthCheck(HealthCheck.http("/health"))
   *     .deadline(Duration.ofSeconds(2))
   *     .build();
   * }</pre>
   */
  public static final class Builder {
    private @Nullable String service;
    private @Nullable Locality home;
    private final List<Endpoint> endpoints = new ArrayList<>();
    private List<String> regionOrder = List.of();
    private @Nullable OkHttpClient okHttpClient;
    private Duration deadline = Duration.ofSeconds(10);
    private @Nullable Duration attemptTimeout;
    private Duration minAttemptTime = Duration.ofMillis(25);
    private int maxAttempts = 3;
    private Duration backoffBase = Duration.ofMillis(25);
    private Duration backoffCap = Duration.ofMillis(250);
    private Duration maxRetryAfter = Duration.ofSeconds(30);
    private Set<Integer> retryableStatuses = Classifier.DEFAULT_RETRYABLE_STATUSES;
    private double budgetRatio = 0.1;
    private int budgetMinPerSecond = 1;
    private Duration budgetWindow = Duration.ofSeconds(10);
    private HealthCheck healthCheck = HealthCheck.off();
    private EjectionPolicy ejection = EjectionPolicy.defaults();
    private HedgePolicy hedging = HedgePolicy.off();
    private StaleCache staleCache = StaleCache.off();
    private ZonePolicy zones = ZonePolicy.defaults();
    private int panicThresholdPercent = 0;
    private boolean panicFailOpen = true;
    private int maxRequests = DEFAULT_MAX_REQUESTS;
    private @Nullable Boolean callerRunsFirstAttempt;
    private final List<FailoverListener> listeners = new ArrayList<>();
    private Clock clock = Clock.systemUTC();
    private @Nullable Ticker ticker;
    private @Nullable ScheduledExecutorService scheduler;
    private @Nullable RandomGenerator random;
    private @Nullable EndpointSource endpointSource;
    private DiscoveryPolicy discovery = DiscoveryPolicy.defaults();

    Builder() {}

    Builder(Settings s) {
      service = s.service();
      home = s.home();
      endpoints.addAll(s.endpoints());
      regionOrder = s.regionOrder();
      okHttpClient = s.okHttpClient();
      deadline = s.deadline();
      attemptTimeout = s.attemptTimeout();
      minAttemptTime = s.minAttemptTime();
      maxAttempts = s.maxAttempts();
      backoffBase = s.backoffBase();
      backoffCap = s.backoffCap();
      maxRetryAfter = s.maxRetryAfter();
      retryableStatuses = s.retryableStatuses();
      budgetRatio = s.budgetRatio();
      budgetMinPerSecond = s.budgetMinPerSecond();
      budgetWindow = s.budgetWindow();
      healthCheck = s.healthCheck();
      ejection = s.ejection();
      hedging = s.hedging();
      staleCache = s.staleCache();
      zones = s.zones();
      panicThresholdPercent = s.panicThresholdPercent();
      panicFailOpen = s.panicFailOpen();
      maxRequests = s.maxRequests();
      callerRunsFirstAttempt = s.callerRunsFirstAttempt();
      listeners.addAll(s.listeners());
      clock = s.clock();
      ticker = s.ticker();
      scheduler = s.scheduler();
      random = s.random();
      discovery = s.discovery();
      // The endpoint source is not copied: a source feeds one client; give the new one its own.
    }

    /**
     * Sets the service name: the host that requests name, as in {@code http://directory/users}.
     * Required.
     *
     * @param service a valid host name
     * @return this builder
     * @throws InvalidSettingException if the name is not a valid host name
     */
    public Builder service(String service) {
      Objects.requireNonNull(service, "service");
      if (service.isBlank()
          || okhttp3.HttpUrl.parse("http://" + service + "/") == null
          || !okhttp3.HttpUrl.get("http://" + service + "/").host().equalsIgnoreCase(service)) {
        String shown = Endpoint.redactUserInfo(service);
        throw new InvalidSettingException(
            "service",
            shown,
            "service must be a host name such as 'directory' but was '" + shown + "'");
      }
      this.service = service;
      return this;
    }

    /**
     * Sets where this client runs. Required: it sets the routing order.
     *
     * @param region the home region
     * @param zone the home zone
     * @return this builder
     * @throws InvalidSettingException if a name is blank
     */
    public Builder home(String region, String zone) {
      return home(Locality.of(region, zone));
    }

    /**
     * Sets where this client runs. Required: it sets the routing order.
     *
     * @param home the home locality
     * @return this builder
     */
    public Builder home(Locality home) {
      this.home = Objects.requireNonNull(home, "home");
      return this;
    }

    /**
     * Adds an endpoint. At least one is required.
     *
     * @param endpoint the endpoint
     * @return this builder
     */
    public Builder endpoint(Endpoint endpoint) {
      endpoints.add(Objects.requireNonNull(endpoint, "endpoint"));
      return this;
    }

    /**
     * Adds an endpoint.
     *
     * @param url its base URL
     * @param region its region
     * @param zone its zone
     * @return this builder
     * @throws InvalidSettingException if the URL or a name is invalid
     */
    public Builder endpoint(String url, String region, String zone) {
      return endpoint(Endpoint.of(url, region, zone));
    }

    /**
     * Takes the endpoints from a source that keeps them current while the client runs: a service
     * registry (see {@link EndpointSource}). Endpoints given with {@link #endpoint(Endpoint)} or
     * {@link #endpoints(List)} become the fallback: the client starts with them at once and
     * replaces them with the source's first list. Without fallback endpoints, {@link #build()}
     * waits up to {@link DiscoveryPolicy#startTimeout()} for the source's first non-empty list and
     * fails if none comes. The client starts the source in {@code build()} and closes it in {@link
     * FailoverClient#close()} (or when {@code build()} fails); a source feeds one client: {@code
     * build()} refuses a source that another client, not yet closed, uses, and an {@link
     * EndpointSource.Push} started or closed before, without starting or closing it.
     *
     * @param source the source
     * @return this builder
     */
    public Builder endpointSource(EndpointSource source) {
      this.endpointSource = Objects.requireNonNull(source, "source");
      return this;
    }

    /**
     * Sets how lists from the {@link #endpointSource(EndpointSource) endpoint source} are treated:
     * how long {@code build()} waits for the first, which lists are held, when an old list is
     * reported stale.
     *
     * @param discovery the policy; {@link DiscoveryPolicy#defaults()} by default
     * @return this builder
     */
    public Builder discovery(DiscoveryPolicy discovery) {
      this.discovery = Objects.requireNonNull(discovery, "discovery");
      return this;
    }

    /**
     * Replaces the endpoints.
     *
     * @param endpoints the endpoints
     * @return this builder
     * @throws InvalidSettingException if an element is null
     */
    public Builder endpoints(List<Endpoint> endpoints) {
      List<Endpoint> copy = copyOf("endpoints", endpoints);
      this.endpoints.clear();
      this.endpoints.addAll(copy);
      return this;
    }

    /**
     * Sets the order in which other regions are tried after the home region. Regions not listed
     * follow in the order their first endpoint was added. Default: that order alone. {@link
     * #build()} rejects a name that no endpoint is in, since it is most likely misspelt.
     *
     * @param regions region names, nearest first
     * @return this builder
     * @throws InvalidSettingException if an element is null or a region is named twice
     */
    public Builder regionOrder(List<String> regions) {
      List<String> copy = copyOf("regionOrder", regions);
      Set<String> seen = new HashSet<>();
      for (String r : copy) {
        if (!seen.add(r)) {
          throw new InvalidSettingException(
              "regionOrder", copy, "regionOrder names region '" + r + "' twice: " + copy);
        }
      }
      this.regionOrder = copy;
      return this;
    }

    /**
     * Sets the OkHttp client that attempts run on: its connection pool, timeouts, interceptors, TLS
     * and proxy settings are used. The failover client adds its own dispatcher (threads are its
     * own, released by {@link FailoverClient#close()}) and a network interceptor that counts
     * OkHttp's silent retries and charges them to the retry budget; it turns OkHttp's silent
     * retries off for non-idempotent requests (including the resend of a 503 with {@code
     * Retry-After: 0}), and it does not follow redirects (a 3xx is returned to the caller), since a
     * redirect could carry credentials to a host that is not a configured endpoint. Where first
     * attempts may run on the caller's thread (see {@link #callerRunsFirstAttempt}), its {@code
     * Dns} is asked through a wrapper of the SDK's, which moves the callers' lookups to the
     * client's threads; OkHttp pools connections by address, {@code Dns} included, so calls you
     * make directly on this client then share no pooled connection with the SDK's attempts. A pool
     * given here belongs to its owner and is not emptied by {@code close()}. Default: a new client.
     *
     * @param okHttpClient the client to build on
     * @return this builder
     */
    public Builder okHttpClient(OkHttpClient okHttpClient) {
      this.okHttpClient = Objects.requireNonNull(okHttpClient, "okHttpClient");
      return this;
    }

    /**
     * Sets the total deadline of a call: every attempt, backoff and wait. Default 10 s. A request
     * can set its own with {@link RequestOptions#ofDeadline(Duration)}; OkHttp's {@code
     * call.timeout()} shortens it further.
     *
     * @param deadline 1 ms to 24 h
     * @return this builder
     * @throws InvalidSettingException if not positive, or out of range
     */
    public Builder deadline(Duration deadline) {
      HealthCheck.checkPositive("deadline", "deadline", deadline);
      this.deadline = deadline;
      return this;
    }

    /**
     * Sets the time one attempt may take, never more than what remains of the deadline; it also
     * bounds reading the response body. Default: the call's deadline divided by the maximum
     * attempts, so that a hanging endpoint leaves time for the others.
     *
     * @param attemptTimeout 1 ms to 24 h
     * @return this builder
     * @throws InvalidSettingException if not positive, or out of range
     */
    public Builder attemptTimeout(Duration attemptTimeout) {
      HealthCheck.checkPositive("attemptTimeout", "attemptTimeout", attemptTimeout);
      this.attemptTimeout = attemptTimeout;
      return this;
    }

    /**
     * Sets the least time that must remain of the deadline to start an attempt. Default 25 ms.
     *
     * @param minAttemptTime 0 to 24 h
     * @return this builder
     * @throws InvalidSettingException if negative, or out of range
     */
    public Builder minAttemptTime(Duration minAttemptTime) {
      HealthCheck.checkNotNegative("minAttemptTime", "minAttemptTime", minAttemptTime);
      this.minAttemptTime = minAttemptTime;
      return this;
    }

    /**
     * Sets the most attempts one call makes: the first, its retries and its hedges. Default 3, as
     * AWS and Google SRE; 1 turns retries and hedges off. Probes of evacuated zones (at most one a
     * second per zone, raced with a normal attempt) are not counted.
     *
     * @param maxAttempts 1 to 10
     * @return this builder
     * @throws InvalidSettingException if out of range
     */
    public Builder maxAttempts(int maxAttempts) {
      if (maxAttempts < 1 || maxAttempts > 10) {
        throw new InvalidSettingException(
            "maxAttempts",
            maxAttempts,
            "maxAttempts must be between 1 and 10 but was " + maxAttempts);
      }
      this.maxAttempts = maxAttempts;
      return this;
    }

    /**
     * Sets the retry backoff: retry {@code n} waits a uniformly random time in {@code [0, min(cap,
     * base x 2^(n-1))]} (full jitter). Default 25 ms and 250 ms, as Envoy.
     *
     * @param base the first retry's bound, 0 to 24 h
     * @param cap the largest bound, 0 to 24 h
     * @return this builder
     * @throws InvalidSettingException if negative, out of range, or the cap is below the base
     */
    public Builder backoff(Duration base, Duration cap) {
      Objects.requireNonNull(base, "base");
      Objects.requireNonNull(cap, "cap");
      HealthCheck.checkNotNegative("backoff.base", "backoff base", base);
      HealthCheck.checkNotNegative("backoff.cap", "backoff cap", cap);
      if (cap.compareTo(base) < 0) {
        throw new InvalidSettingException(
            "backoff.cap",
            cap,
            "backoff cap (" + cap + ") must not be below backoff base (" + base + ")");
      }
      this.backoffBase = base;
      this.backoffCap = cap;
      return this;
    }

    /**
     * Sets the longest pause a {@code Retry-After} header can impose on the endpoint that sent it.
     * Default 30 s. A {@code Retry-After} that names a later time, or a date in the past, or cannot
     * be parsed, is clamped to this or ignored; it never fails the call.
     *
     * @param maxRetryAfter 1 ms to 24 h
     * @return this builder
     * @throws InvalidSettingException if not positive, or out of range
     */
    public Builder maxRetryAfter(Duration maxRetryAfter) {
      HealthCheck.checkPositive("maxRetryAfter", "maxRetryAfter", maxRetryAfter);
      this.maxRetryAfter = maxRetryAfter;
      return this;
    }

    /**
     * {@code list} as an immutable copy; refuses a null list or element, naming the setting and the
     * element's index (where {@code List.copyOf} says nothing of either).
     */
    static <T> List<T> copyOf(String setting, List<T> list) {
      Objects.requireNonNull(list, setting);
      for (int i = 0; i < list.size(); i++) {
        if (list.get(i) == null) {
          throw new InvalidSettingException(
              setting, null, setting + "[" + i + "] is null: the list may hold no null element");
        }
      }
      return List.copyOf(list);
    }

    /**
     * Sets the response statuses that another attempt may follow. Default 429, 502, 503 and 504. A
     * retryable status counts against its endpoint like a failed connection (a 429 holds the
     * endpoint off for its {@code Retry-After} instead, without counting against it); a 5xx that is
     * not listed counts against the endpoint but is handed to the caller as it is. Add 500 for a
     * service whose 500s are transient; remove 429 to hand throttling to the caller. Only
     * idempotent requests are ever sent again after they reached a server, whatever the status.
     *
     * @param statuses HTTP statuses from 400 to 599; may be empty (no status is retried)
     * @return this builder
     * @throws InvalidSettingException naming the first status outside 400 to 599
     */
    public Builder retryableStatuses(Set<Integer> statuses) {
      Objects.requireNonNull(statuses, "retryableStatuses");
      for (Integer status : statuses) {
        if (status == null || status < 400 || status > 599) {
          throw new InvalidSettingException(
              "retryableStatuses",
              statuses,
              "retryableStatuses must hold HTTP statuses from 400 to 599 but held " + status);
        }
      }
      this.retryableStatuses = Set.copyOf(statuses);
      return this;
    }

    /**
     * Sets the retry budget shared by all calls of the client: an extra attempt is sent only while
     * the {@code window} that ends then holds fewer than {@code ratio} times its calls plus {@code
     * minPerSecond} per second of it. Default 10% and 1 per second over 10 s, so an outage adds at
     * most about 10% of load to the survivors at a steady rate of calls (when traffic drops, the
     * calls of the window before still pay for retries: docs/failover-semantics.md, "Retry
     * budget").
     *
     * @param ratio extra attempts per call, 0 to 1
     * @param minPerSecond extra attempts per second allowed regardless of traffic, 0 or more
     * @param window how long calls and retries count, 1 s to 5 min
     * @return this builder
     * @throws InvalidSettingException if out of range
     */
    public Builder retryBudget(double ratio, int minPerSecond, Duration window) {
      if (!(ratio >= 0 && ratio <= 1)) {
        throw new InvalidSettingException(
            "retryBudget.ratio",
            ratio,
            "retryBudget ratio must be between 0 and 1 but was " + ratio);
      }
      if (minPerSecond < 0) {
        throw new InvalidSettingException(
            "retryBudget.minPerSecond",
            minPerSecond,
            "retryBudget minPerSecond must not be negative but was " + minPerSecond);
      }
      Objects.requireNonNull(window, "window");
      HealthCheck.checkRange(
          "retryBudget.window",
          "retryBudget window",
          window,
          Duration.ofSeconds(1),
          Duration.ofMinutes(5));
      this.budgetRatio = ratio;
      this.budgetMinPerSecond = minPerSecond;
      this.budgetWindow = window;
      return this;
    }

    /**
     * Sets active health checking. Default {@link HealthCheck#off()}: health then comes from real
     * traffic alone. {@link #build()} logs a warning when the probe timeout is longer than the
     * interval: probes of an endpoint never overlap, so a hanging endpoint is then probed less
     * often than the interval says.
     *
     * @param healthCheck the health check
     * @return this builder
     */
    public Builder healthCheck(HealthCheck healthCheck) {
      this.healthCheck = Objects.requireNonNull(healthCheck, "healthCheck");
      return this;
    }

    /**
     * Sets passive health: when real traffic ejects an endpoint. Default {@link
     * EjectionPolicy#defaults()}.
     *
     * @param ejection the policy
     * @return this builder
     */
    public Builder ejection(EjectionPolicy ejection) {
      this.ejection = Objects.requireNonNull(ejection, "ejection");
      return this;
    }

    /**
     * Sets hedging. Default {@link HedgePolicy#off()}. Only idempotent requests are hedged.
     *
     * @param hedging the policy
     * @return this builder
     */
    public Builder hedging(HedgePolicy hedging) {
      this.hedging = Objects.requireNonNull(hedging, "hedging");
      return this;
    }

    /**
     * Sets stale-if-error. Default {@link StaleCache#off()}.
     *
     * @param staleCache the cache settings
     * @return this builder
     */
    public Builder staleIfError(StaleCache staleCache) {
      this.staleCache = Objects.requireNonNull(staleCache, "staleCache");
      return this;
    }

    /**
     * Sets how zones are judged and evacuated as a whole. Default {@link ZonePolicy#defaults()}.
     *
     * @param zones the policy
     * @return this builder
     */
    public Builder zones(ZonePolicy zones) {
      this.zones = Objects.requireNonNull(zones, "zones");
      return this;
    }

    /**
     * Sets panic: when the healthy share of all endpoints (by weight) is below {@code
     * thresholdPercent}, or nothing is healthy, health is ignored and calls go to every endpoint in
     * tier order ({@code failOpen}), or fail at once with {@link
     * FailoverException.Reason#NO_ENDPOINT} (fail closed). Default 0% and fail open: panic only
     * when nothing is healthy, and then try anyway.
     *
     * @param thresholdPercent 0 to 100
     * @param failOpen true to ignore health in panic, false to fail calls
     * @return this builder
     * @throws InvalidSettingException if out of range
     */
    public Builder panic(int thresholdPercent, boolean failOpen) {
      if (thresholdPercent < 0 || thresholdPercent > 100) {
        throw new InvalidSettingException(
            "panic.thresholdPercent",
            thresholdPercent,
            "panic thresholdPercent must be between 0 and 100 but was " + thresholdPercent);
      }
      this.panicThresholdPercent = thresholdPercent;
      this.panicFailOpen = failOpen;
      return this;
    }

    /**
     * Sets the most attempts in flight at once on the client's dispatcher (and per endpoint host).
     * Default 256; more wait in OkHttp's dispatcher queue, still bounded by their deadline. First
     * attempts of {@code execute()} that run on the caller's thread (see {@link
     * #callerRunsFirstAttempt}) are bounded by the calling threads instead; any value other than
     * 256 hands them to the dispatcher too, unless {@code callerRunsFirstAttempt(true)}.
     *
     * @param maxRequests at least 1
     * @return this builder
     * @throws InvalidSettingException if below 1
     */
    public Builder maxRequests(int maxRequests) {
      if (maxRequests < 1) {
        throw new InvalidSettingException(
            "maxRequests", maxRequests, "maxRequests must be >= 1 but was " + maxRequests);
      }
      this.maxRequests = maxRequests;
      return this;
    }

    /**
     * Chooses where {@code execute()} runs each call's first attempt: on the caller's own thread,
     * as a bare OkHttp {@code execute()} does (true), or handed to the client's dispatcher while
     * the caller waits (false). A first attempt that succeeds on the caller's thread costs no
     * thread hand-off (on an idle machine each costs tens of microseconds; see docs/benchmarks.md);
     * retries, hedges, probes and {@code enqueue()} calls always go through the dispatcher, and the
     * deadline, the attempt timeout, hedges and cancellation work the same either way.
     *
     * <p>Unset (the default), the client runs a first attempt on the caller's thread only where
     * every step of it ends when OkHttp cancels it and no code of the application's runs on that
     * thread before {@code execute()} returns, so that no caller is held past its deadline: the
     * {@code OkHttpClient} has no interceptors, cache, cookie jar, authenticators or {@code
     * EventListener} factory of yours, the JDK's socket factory and proxy selector (or a fixed
     * proxy, or none), OkHttp's fast fallback, no cleartext HTTP/2 and a {@code Dns} that answers
     * by {@code lookup}; no {@link FailoverListener} of yours (the SDK's {@link FailoverMetrics}
     * and the starter's own metrics and planned shifts are fine; {@link FailoverObservations} is
     * not: its handlers run on every attempt); {@code maxRequests} is left at 256; the call has no
     * {@code EventListener} of its own and no request body but one held in memory (a string, bytes,
     * a form, or a multipart body of those); and, over HTTPS, the client does not offer HTTP/2
     * (OkHttp's default protocols do) and uses the JDK's TLS (its SunJSSE socket factory and trust
     * managers) and OkHttp's hostname verifier, with neither {@code
     * com.sun.net.ssl.checkRevocation} nor {@code com.sun.security.enableAIAcaIssuers} set to true
     * and no HTTP proxy's tunnel on the way. Elsewhere the attempt is handed to the dispatcher. A
     * DNS lookup of an attempt on the caller's thread runs on one of the client's threads (shared
     * by the callers looking up the same host), and the caller waits for it only until the attempt
     * is cancelled (its timeout, the call's deadline or end). Choose false for an HTTPS client
     * whose {@code SSLContext} may block in its handshake where the SDK cannot see it: a key
     * manager of yours (a hardware module, a vault), revocation checks set up in the trust
     * manager's own parameters.
     *
     * <p>True runs every first attempt of {@code execute()} on the caller's thread whatever the
     * client and the call have. The price: code of yours that blocks where OkHttp's cancel cannot
     * reach (an interceptor, a listener, a request body that streams) holds the caller past the
     * deadline, as it would a bare OkHttp call, and {@code maxRequests} bounds only the attempts on
     * the dispatcher (your calling threads bound the others, as with bare OkHttp). False hands
     * every attempt to the dispatcher: the caller's own timed wait then ends the call at its
     * deadline whatever the attempt does, and {@code maxRequests} bounds every attempt.
     *
     * @param callerRuns true to run first attempts of {@code execute()} on the caller's thread,
     *     false to hand them to the dispatcher
     * @return this builder
     */
    public Builder callerRunsFirstAttempt(boolean callerRuns) {
      this.callerRunsFirstAttempt = Boolean.valueOf(callerRuns);
      return this;
    }

    /**
     * Adds a listener of events. Listeners are called in the order added.
     *
     * @param listener the listener
     * @return this builder
     */
    public Builder listener(FailoverListener listener) {
      listeners.add(Objects.requireNonNull(listener, "listener"));
      return this;
    }

    /**
     * Sets the wall clock: what a {@code Retry-After} date is compared with, and the instants a
     * zonal shift ends and an endpoint list was last good. For tests; default {@code
     * Clock.systemUTC()}. Unless a {@link #ticker(Ticker) ticker} is set, a clock other than the
     * system's also drives the client's monotonic time (deadlines, latency, budgets, breakers,
     * zones), read from its instants.
     *
     * @param clock the clock
     * @return this builder
     */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Sets the monotonic time the client measures on: deadlines and the time left for attempts,
     * elapsed times, retry budgets, latency and hedge delays, breaker ejections, zone judgement and
     * the stale cache's ages. For tests that move time by hand; default {@link Ticker#system()} (or
     * the {@link #clock(Clock) clock}, if one other than the system's was set). Timers (backoff,
     * hedges, the deadline of an {@code enqueue}) still run on the client's scheduler, and OkHttp
     * times each attempt out in real time: for a test on fake time throughout, also pass a
     * scheduler that follows the same ticker.
     *
     * @param ticker the ticker
     * @return this builder
     */
    public Builder ticker(Ticker ticker) {
      this.ticker = Objects.requireNonNull(ticker, "ticker");
      return this;
    }

    /**
     * Sets the scheduler for deadlines, backoff and health probes. It then belongs to the caller
     * and is not shut down by {@code close()}. For tests; default a single daemon thread owned by
     * the client.
     *
     * @param scheduler the scheduler
     * @return this builder
     */
    public Builder scheduler(ScheduledExecutorService scheduler) {
      this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
      return this;
    }

    /**
     * Sets the source of randomness for routing, jitter and probes. For reproducible tests; default
     * {@link java.util.concurrent.ThreadLocalRandom}. It must be thread-safe.
     *
     * @param random the generator
     * @return this builder
     */
    public Builder random(RandomGenerator random) {
      this.random = Objects.requireNonNull(random, "random");
      return this;
    }

    /**
     * Builds the client and starts its health checks.
     *
     * <p>A home zone without an endpoint is accepted (a client may run in a zone without replicas),
     * and so is a home region without one (a service that runs only in other regions); when the
     * name is within two edits of a zone or region that has endpoints, a warning naming both is
     * logged, since it is then probably misspelt.
     *
     * @return the client
     * @throws InvalidConfigurationException (an {@code IllegalStateException}) if the service, home
     *     or endpoints are missing, an endpoint is listed twice, {@code regionOrder} names a region
     *     that no endpoint is in, the attempt timeout exceeds the deadline, or {@code
     *     minAttemptTime} is not shorter than the deadline
     * @throws InvalidConfigurationException with {@code setting()} {@code endpointSource} if the
     *     endpoint source feeds another client that is not closed, or is an {@link
     *     EndpointSource.Push} that was started or closed before
     * @throws IllegalStateException if the endpoint source fails to start, or lists no endpoint
     *     within its start timeout while no fallback endpoint is configured
     */
    public FailoverClient build() {
      EndpointSource source = endpointSource;
      String s = validate(source != null);
      if (source == null) {
        return new FailoverClient(settings(endpoints, null), null, false, null);
      }
      // Refused before it is started: a source another client uses is neither started nor closed
      // here (closing it would freeze that client's list without a word).
      SourceRelay relay = SourceRelay.claim(source, s);
      try {
        Discovery intake = relay.first(s, discovery, clock, Tickers.monotonic(ticker, clock));
        List<Endpoint> initial = startSource(s, source, relay, intake, endpoints);
        return new FailoverClient(settings(initial, source), intake, initial != endpoints, relay);
      } catch (RuntimeException | Error e) {
        // Started above (also when start() threw: it may have started threads first), so closed
        // here: its threads must not outlive a failed build. Then free for another client.
        relay.close();
        throw e;
      }
    }

    /**
     * Checks the settings as {@link #build()} does and returns them with {@code endpoints} in use,
     * logging the warnings; for {@link FailoverClient#reconfigure(UnaryOperator)}.
     */
    Settings check(List<Endpoint> endpoints, @Nullable EndpointSource source) {
      validate(source != null);
      return settings(endpoints, source);
    }

    /** Checks that the settings fit together; returns the service name. */
    private String validate(boolean withSource) {
      String s = service;
      if (s == null) {
        throw new InvalidConfigurationException(
            "service", null, null, "service is required, e.g. builder.service(\"directory\")");
      }
      if (home == null) {
        throw new InvalidConfigurationException(
            "home",
            null,
            null,
            "home is required, e.g. builder.home(\"us-east-1\", \"us-east-1a\")");
      }
      if (endpoints.isEmpty() && !withSource) {
        throw new InvalidConfigurationException(
            "endpoint",
            null,
            null,
            "at least one endpoint, or an endpointSource, is required for service " + s);
      }
      Set<String> seen = new HashSet<>();
      for (Endpoint e : endpoints) {
        if (!seen.add(e.address())) {
          throw new InvalidConfigurationException(
              "endpoint", e.address(), "endpoint", "endpoint " + e.address() + " is listed twice");
        }
      }
      List<String> regions = endpoints.stream().map(e -> e.locality().region()).distinct().toList();
      for (String r : regionOrder) {
        // With a source, regions come and go with its lists: any region may be ordered.
        if (!withSource && !regions.contains(r)) {
          throw new InvalidConfigurationException(
              "regionOrder",
              r,
              "endpoint",
              "regionOrder names region '"
                  + r
                  + "', which no endpoint is in; endpoints are in "
                  + regions
                  + " (check its spelling)");
        }
      }
      if (minAttemptTime.compareTo(deadline) >= 0) {
        throw new InvalidConfigurationException(
            "minAttemptTime",
            minAttemptTime,
            "deadline",
            "minAttemptTime ("
                + minAttemptTime
                + ") must be shorter than deadline ("
                + deadline
                + ")");
      }
      if (attemptTimeout != null && attemptTimeout.compareTo(deadline) > 0) {
        throw new InvalidConfigurationException(
            "attemptTimeout",
            attemptTimeout,
            "deadline",
            "attemptTimeout (" + attemptTimeout + ") must not exceed deadline (" + deadline + ")");
      }
      return s;
    }

    /** The checked settings, with {@code initial} as the endpoints in use; logs the warnings. */
    private Settings settings(List<Endpoint> initial, @Nullable EndpointSource source) {
      Locality h = Objects.requireNonNull(home);
      for (String warning : warnings(h, initial, healthCheck)) {
        log.warn("{}", warning);
      }
      return new Settings(
          Objects.requireNonNull(service),
          h,
          initial,
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
          source,
          discovery);
    }

    /**
     * Starts the source; returns the endpoints to start with: the fallback if there is one, else
     * the source's first list, waited for up to the start timeout. Whatever it throws, build()
     * closes the source.
     */
    private List<Endpoint> startSource(
        String service,
        EndpointSource source,
        SourceRelay relay,
        Discovery intake,
        List<Endpoint> fallback) {
      try {
        source.start(relay);
      } catch (RuntimeException e) {
        if (fallback.isEmpty()) {
          throw new IllegalStateException(
              "endpoint source '"
                  + source.description()
                  + "' of service "
                  + service
                  + " failed to start ("
                  + Discovery.describe(e)
                  + "); configure fallback endpoints with endpoint(...) so that the client can"
                  + " start while the registry is down",
              e);
        }
        // Through the relay, which keeps it for the intake of a core that replaces this one.
        relay.failed(e);
        return fallback;
      }
      if (!fallback.isEmpty()) {
        return fallback;
      }
      List<Endpoint> first;
      try {
        first = intake.awaitFirst(discovery.startTimeout());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        first = null;
      }
      if (first == null) {
        Throwable failure = intake.lastFailure();
        throw new IllegalStateException(
            "endpoint source '"
                + source.description()
                + "' of service "
                + service
                + " reported no endpoints within "
                + discovery.startTimeout().toMillis()
                + " ms"
                + (failure == null ? "" : " (last failure: " + Discovery.describe(failure) + ")")
                + "; configure fallback endpoints with endpoint(...) so that the client can start"
                + " while the registry is down, or raise DiscoveryPolicy.startTimeout",
            failure);
      }
      return first;
    }
  }

  /**
   * Returns what {@link Builder#build()} logs as warnings: settings that are legal but probably
   * mistaken.
   */
  static List<String> warnings(Locality home, List<Endpoint> endpoints, HealthCheck healthCheck) {
    List<String> warnings = new ArrayList<>();
    if (endpoints.stream().noneMatch(e -> e.locality().equals(home))) {
      List<String> zones = endpoints.stream().map(e -> e.locality().zone()).distinct().toList();
      String near = nearest(home.zone(), zones);
      if (near != null) {
        warnings.add(
            "home zone '" + home.zone() + "' has no endpoint; did you mean '" + near + "'?");
      }
    }
    if (endpoints.stream().noneMatch(e -> e.locality().region().equals(home.region()))) {
      List<String> regions = endpoints.stream().map(e -> e.locality().region()).distinct().toList();
      String near = nearest(home.region(), regions);
      if (near != null) {
        warnings.add(
            "home region '" + home.region() + "' has no endpoint; did you mean '" + near + "'?");
      }
    }
    if (healthCheck.enabled() && healthCheck.timeout().compareTo(healthCheck.interval()) > 0) {
      warnings.add(
          "health check timeout ("
              + healthCheck.timeout()
              + ") is longer than its interval ("
              + healthCheck.interval()
              + "); probes of an endpoint never overlap, so a hanging endpoint is probed less"
              + " often than the interval says");
    }
    return warnings;
  }

  /**
   * Returns the first of {@code names} within two edits of {@code name} (ignoring case) and closest
   * to it, or null if none is or {@code name} is one of them.
   */
  static @Nullable String nearest(String name, List<String> names) {
    if (names.contains(name)) {
      return null;
    }
    String best = null;
    int bestDistance = 3;
    for (String candidate : names) {
      int d = editDistance(name.toLowerCase(Locale.ROOT), candidate.toLowerCase(Locale.ROOT));
      if (d < bestDistance) {
        best = candidate;
        bestDistance = d;
      }
    }
    return best;
  }

  /** Levenshtein distance: the fewest insertions, deletions and substitutions from a to b. */
  static int editDistance(String a, String b) {
    int[] previous = new int[b.length() + 1];
    int[] current = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      previous[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      current[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
        current[j] = Math.min(substitution, Math.min(previous[j], current[j - 1]) + 1);
      }
      int[] t = previous;
      previous = current;
      current = t;
    }
    return previous[b.length()];
  }
}
