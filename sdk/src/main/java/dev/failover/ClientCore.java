package dev.failover;

import java.io.Closeable;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.concurrent.atomic.LongAdder;
import java.util.random.RandomGenerator;
import okhttp3.ConnectionPool;
import okhttp3.Cookie;
import okhttp3.CookieJar;
import okhttp3.Dispatcher;
import okhttp3.Dns;
import okhttp3.HttpUrl;
import okhttp3.Interceptor;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;

/** The shared machinery of one client: routing, budget, transport, timers and health checks. */
final class ClientCore implements Closeable {
  final Settings settings;
  final Ticker ticker;
  final RandomGenerator random;
  final Router router;
  final RetryBudget budget;
  final Backoff backoff;
  final Events events;

  /**
   * The end of the client's first seconds (its first core's, carried to the cores that replace it),
   * on the ticker's scale: a health probe begun before then that timed out is not counted.
   */
  private final long coldUntil;

  final Hedger hedger;
  final ClientHealth clientHealth;
  final @org.jspecify.annotations.Nullable StaleStore stale;
  final LongAdder calls = new LongAdder();
  final LongAdder attempts = new LongAdder();
  final LongAdder retries = new LongAdder();
  final LongAdder hedgesSent = new LongAdder();
  final LongAdder hedgesWon = new LongAdder();
  final LongAdder hedgesCancelled = new LongAdder();
  final LongAdder hedgesRefused = new LongAdder();
  final LongAdder budgetExhausted = new LongAdder();
  final LongAdder staleServed = new LongAdder();
  final LongAdder failedCalls = new LongAdder();
  final long minAttemptNanos;
  final long maxRetryAfterNanos;

  /** The first listener that also watches calls (tracing), or null. */
  final @org.jspecify.annotations.Nullable CallObserver observer;

  /** For idempotent requests: OkHttp may silently retry stale connections; we count it. */
  final OkHttpClient retrying;

  /** For the rest: OkHttp never resends on its own. */
  final OkHttpClient nonRetrying;

  /**
   * {@link #retrying} and {@link #nonRetrying} without OkHttp's socket read and write timeouts (the
   * same clients where those are off already), for the attempts whose own timeout ends them no
   * later than either of those could: see {@link #attemptClient}.
   */
  private final OkHttpClient retryingUntimed;

  private final OkHttpClient nonRetryingUntimed;

  /**
   * The four clients above without {@link SeenCapture} (non-retrying, non-retrying untimed,
   * retrying, retrying untimed), for first attempts on the caller's thread where nothing of the
   * application's runs before OkHttp's own interceptors (no application interceptor or {@code
   * EventListener}, no observations, no stale cache): there the SDK marks the attempt as reaching
   * it as the caller's thread starts it ({@link #reachedDirectly}), and its first interceptor would
   * only cost the call a link of OkHttp's interceptor chain (112 bytes, and the iterators around
   * it). Empty where first attempts never run on the caller's thread or that is not so.
   */
  private final OkHttpClient[] direct;

  /**
   * The longest attempt timeout that ends its attempt before OkHttp's read or write timeout could
   * fire: the shorter of the two ({@code Long.MAX_VALUE} where neither is set).
   */
  private final long socketTimeoutNanos;

  /**
   * Whether an HTTPS attempt (or, where it is {@link #TUNNEL_NEVER} only, one of cleartext HTTP/2
   * with prior knowledge) may go without the sockets' timeouts too: {@link #TUNNEL_NEVER} where the
   * client's proxy settings can route no request through an HTTP proxy's tunnel, {@link
   * #TUNNEL_BY_PROPERTIES} where that depends on the JDK's proxy properties (read at each HTTPS
   * attempt), {@link #TUNNEL_MAYBE} where it can: see {@link #attemptClient}.
   */
  private final int httpsTunnels;

  /** Whether the application chose to run first attempts on the caller's thread. */
  private final boolean callerRunsForced;

  /** Why no first attempt runs on the caller's thread (see {@link #notOnCallerByDefault}); null. */
  private final @org.jspecify.annotations.Nullable String notOnCaller;

  /** Whether HTTPS first attempts may run on the caller's thread (see {@link #callerRuns}). */
  private final boolean httpsOnCaller;

  /**
   * Whether the client speaks cleartext HTTP/2 with prior knowledge, which OkHttp sends through an
   * HTTP proxy's tunnel as it does HTTPS.
   */
  private final boolean priorKnowledge;

  static final int TUNNEL_NEVER = 0;
  static final int TUNNEL_BY_PROPERTIES = 1;
  static final int TUNNEL_MAYBE = 2;

  final ScheduledExecutorService scheduler;
  private final boolean ownScheduler;
  private final ExecutorService dispatcherExecutor;

  /** The attempts' timeouts (in place of OkHttp's call timeout; see {@link Timeouts}). */
  final Timeouts timeouts;

  /** Makes the attempts' OkHttp requests, with the builders it keeps for them. */
  final AttemptRequest attemptRequests = new AttemptRequest();

  /**
   * Whether the client measures on the system's ticker. Then the deadlines of {@code enqueue()}
   * calls are real-time {@link #timeouts} too, with no task per call on the scheduler; on a test's
   * ticker they are scheduler tasks, which its fake scheduler runs when its time comes.
   */
  final boolean realTime;

  /** The retryable statuses, looked up without boxing a status. */
  final Classifier.RetryableStatuses retryableStatuses;

  private final boolean ownPool;
  private final @org.jspecify.annotations.Nullable HealthChecker healthChecker;
  private final java.util.concurrent.ScheduledFuture<?> zoneTimer;
  private final java.util.concurrent.ScheduledFuture<?> clientTick;

  /** Every thread this client started, joined by {@link #close()}. */
  private final Set<Thread> ownThreads = ConcurrentHashMap.newKeySet();

  /** The context class loader of the thread that built the client: its threads get it. */
  private final @org.jspecify.annotations.Nullable ClassLoader contextClassLoader;

  private final RunningCalls<CallStateMachine> active = new RunningCalls<>();
  private final AtomicBoolean closed = new AtomicBoolean();

  /** Where the endpoints come from; its source is closed with the client. */
  final Discovery discovery;

  public ClientCore(Settings settings) {
    this(settings, null, false, Thread.currentThread().getContextClassLoader());
  }

  /**
   * A client whose endpoints {@code discovery} keeps current; the router starts with the settings'
   * endpoints, which are the source's first list when {@code fromSource}, else the fallback.
   */
  public ClientCore(
      Settings settings,
      @org.jspecify.annotations.Nullable Discovery discovery,
      boolean fromSource,
      @org.jspecify.annotations.Nullable ClassLoader contextClassLoader) {
    this(settings, discovery, fromSource, contextClassLoader, null);
  }

  /**
   * As above; {@code replaced} is the core this one replaces ({@code reconfigure}, {@code reset}),
   * whose client's first seconds (a cold JVM) this one keeps rather than starting anew.
   */
  public ClientCore(
      Settings settings,
      @org.jspecify.annotations.Nullable Discovery discovery,
      boolean fromSource,
      @org.jspecify.annotations.Nullable ClassLoader contextClassLoader,
      @org.jspecify.annotations.Nullable ClientCore replaced) {
    this.contextClassLoader = contextClassLoader;
    this.settings = settings;
    this.ticker = settings.monotonic();
    this.realTime = ticker == Ticker.system();
    RandomGenerator r = settings.random();
    this.random = r != null ? r : () -> ThreadLocalRandom.current().nextLong();
    this.events = new Events(settings.listeners());
    CallObserver watching = null;
    for (dev.failover.FailoverListener l : settings.listeners()) {
      if (l instanceof CallObserver o) {
        if (watching == null) {
          watching = o;
        } else {
          org.slf4j.LoggerFactory.getLogger(ClientCore.class)
              .warn(
                  "[{}] only the first CallObserver listener ({}) watches calls; {} does not",
                  settings.service(),
                  watching.getClass().getName(),
                  o.getClass().getName());
        }
      }
    }
    this.observer = watching;
    this.router =
        new Router(
            settings.service(),
            settings.home(),
            settings.endpoints(),
            settings.regionOrder(),
            settings.ejection(),
            settings.zones(),
            settings.panicThresholdPercent(),
            settings.panicFailOpen(),
            Tickers.breakerClock(settings.ticker(), settings.clock()),
            ticker,
            random,
            events);
    long startedAt = ticker.nanos();
    this.coldUntil =
        replaced != null ? replaced.coldUntil : startedAt + ClientHealth.STARTUP_GRACE_NANOS;
    this.clientHealth =
        new ClientHealth(settings.service(), events, startedAt, ClientHealth.STARTUP_GRACE_NANOS);
    router.zones().clientStalled(clientHealth::latencyUntrusted);
    this.budget =
        new RetryBudget(
            settings.budgetRatio(),
            settings.budgetMinPerSecond(),
            settings.budgetWindow().toNanos());
    this.backoff = new Backoff(settings.backoffBase(), settings.backoffCap());
    this.hedger = new Hedger(settings.hedging(), ticker.nanos());
    OkHttpClient application = settings.okHttpClient();
    this.stale =
        settings.staleCache().enabled()
            ? new StaleStore(
                settings.staleCache(),
                ticker,
                application != null
                    && !application.networkInterceptors().isEmpty()
                    && !settings.staleCache().networkInterceptorsAddNoIdentity())
            : null;
    this.retryableStatuses = Classifier.RetryableStatuses.of(settings.retryableStatuses());
    this.minAttemptNanos = settings.minAttemptTime().toNanos();
    this.maxRetryAfterNanos = settings.maxRetryAfter().toNanos();

    OkHttpInternals.tellOnce();
    String prefix = "failover-" + settings.service();
    ScheduledExecutorService s = settings.scheduler();
    if (s == null) {
      ScheduledThreadPoolExecutor stpe =
          new ScheduledThreadPoolExecutor(1, threads(prefix + "-scheduler"));
      stpe.setRemoveOnCancelPolicy(true);
      stpe.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
      s = stpe;
      this.ownScheduler = true;
    } else {
      this.ownScheduler = false;
    }
    this.scheduler = s;

    this.dispatcherExecutor =
        new ThreadPoolExecutor(
            0,
            Integer.MAX_VALUE,
            60,
            TimeUnit.SECONDS,
            new SynchronousQueue<>(),
            threads(prefix + "-io"));
    events.tellOffSchedulerOn(dispatcherExecutor);
    this.timeouts = new Timeouts(threads(prefix + "-timeouts"), dispatcherExecutor);
    // From here on threads run and tasks are scheduled: a failure stops them before it is thrown,
    // so that no thread or timer outlives a client that was never built.
    ScheduledFuture<?> tickTask = null;
    ScheduledFuture<?> zoneTask = null;
    HealthChecker checker = null;
    try {
      Dispatcher dispatcher = new Dispatcher(dispatcherExecutor);
      dispatcher.setMaxRequests(settings.maxRequests());
      dispatcher.setMaxRequestsPerHost(settings.maxRequests());
      OkHttpClient base = settings.okHttpClient();
      OkHttpClient.Builder b;
      if (base == null) {
        b = new OkHttpClient.Builder().connectionPool(new ConnectionPool());
        this.ownPool = true;
      } else {
        // The application's listeners, guarded where OkHttp's dispatcher cannot bear them throwing.
        b =
            base.newBuilder()
                .eventListenerFactory(GuardedEventListener.of(base.eventListenerFactory()));
        this.ownPool = false;
      }
      // Redirects are not followed: a redirect may lead to a host that is not a configured
      // endpoint, and OkHttp would carry cookies and custom credential headers there.
      CookieJar cookieJar = base == null ? CookieJar.NO_COOKIES : base.cookieJar();
      Interceptor attemptInterceptor = watching == null ? null : watching.attemptInterceptor();
      Boolean chosen = settings.callerRunsFirstAttempt();
      this.callerRunsForced = chosen != null && chosen;
      this.notOnCaller =
          chosen != null
              ? (chosen ? null : "callerRunsFirstAttempt(false)")
              : notOnCallerByDefault(base, settings.maxRequests(), settings.listeners());
      if (chosen == null && notOnCaller != null) {
        org.slf4j.LoggerFactory.getLogger(ClientCore.class)
            .debug(
                "[{}] first attempts of execute() go through the dispatcher: {}",
                settings.service(),
                notOnCaller);
      }
      if (notOnCaller == null) {
        // Lookups of attempts on the callers' threads run on the client's (see CallerDns).
        b.dns(new CallerDns(base == null ? Dns.SYSTEM : base.dns(), dispatcherExecutor, ticker));
      }
      b.dispatcher(dispatcher)
          .addInterceptor(
              new SeenCapture(
                  settings.staleCache().enabled() ? cookieJar : null,
                  ticker,
                  attemptInterceptor != null))
          .followRedirects(false)
          .followSslRedirects(false)
          // The deadline and the attempt timeout replace the application's call timeout: OkHttp
          // ends a call it times out by cancelling it, which would end a hanging attempt as
          // cancelled (no failure of its endpoint, never retried) instead of as a timeout.
          .callTimeout(Duration.ZERO)
          .addNetworkInterceptor(new TransmissionCounter(ticker));
      if (attemptInterceptor != null) {
        // After SeenCapture (the attempt's start is taken before the observations' work).
        b.addInterceptor(attemptInterceptor);
        if (settings.staleCache().enabled()) {
          // What the stale cache keys on and compares the network request with: the request with
          // the headers the observations' handlers added (trace context is left out of the key;
          // baggage, which may name a user or a tenant, is in it).
          b.addInterceptor(new LeftSdk());
        }
      }
      this.retrying =
          b.retryOnConnectionFailure(base == null || base.retryOnConnectionFailure()).build();
      this.nonRetrying = retrying.newBuilder().retryOnConnectionFailure(false).build();
      long read = retrying.readTimeoutMillis();
      long write = retrying.writeTimeoutMillis();
      this.socketTimeoutNanos =
          TimeUnit.MILLISECONDS.toNanos(
              Math.min(read > 0 ? read : Long.MAX_VALUE, write > 0 ? write : Long.MAX_VALUE));
      this.httpsTunnels = httpsTunnels(retrying);
      this.httpsOnCaller = notOnCaller == null && (callerRunsForced || httpsOnCaller(retrying));
      if (chosen == null && notOnCaller == null && !httpsOnCaller) {
        org.slf4j.LoggerFactory.getLogger(ClientCore.class)
            .debug(
                "[{}] HTTPS first attempts of execute() go through the dispatcher: the"
                    + " OkHttpClient offers HTTP/2, or its TLS set-up is not the JDK's",
                settings.service());
      }
      this.priorKnowledge = retrying.protocols().contains(okhttp3.Protocol.H2_PRIOR_KNOWLEDGE);
      if (read == 0 && write == 0) {
        this.retryingUntimed = retrying;
        this.nonRetryingUntimed = nonRetrying;
      } else {
        // The same pool, dispatcher, interceptors and listeners: only the sockets' timeouts differ.
        this.retryingUntimed =
            retrying.newBuilder().readTimeout(Duration.ZERO).writeTimeout(Duration.ZERO).build();
        this.nonRetryingUntimed =
            nonRetrying.newBuilder().readTimeout(Duration.ZERO).writeTimeout(Duration.ZERO).build();
      }
      this.direct =
          notOnCaller == null
                  && attemptInterceptor == null
                  && !settings.staleCache().enabled()
                  && (base == null
                      || (base.interceptors().isEmpty()
                          // Asked already where the default chose the caller's thread.
                          && (chosen == null || listensToNothing(base))))
              ? directClients()
              : new OkHttpClient[0];

      // Building the OkHttp clients can take a while on a cold JVM: the tick is due from now.
      clientHealth.restartTick(ticker.nanos());
      tickTask =
          scheduler.scheduleWithFixedDelay(
              Events.schedulerTask(this::tick),
              ClientHealth.TICK_NANOS,
              ClientHealth.TICK_NANOS,
              TimeUnit.NANOSECONDS);
      this.clientTick = tickTask;
      clientHealth.watchTick(tickTask, scheduler);
      // Zone judgement (when enabled), the expiry of zonal shifts and the endpoint list's
      // confirmations and staleness; zones may come and go with the list, so it always runs.
      zoneTask =
          scheduler.scheduleWithFixedDelay(
              Events.schedulerTask(this::evaluateZones), 1, 1, TimeUnit.SECONDS);
      this.zoneTimer = zoneTask;
      if (settings.healthCheck().enabled()) {
        checker =
            new HealthChecker(
                settings.service(), settings.healthCheck(), nonRetrying, scheduler, random, events);
        // A probe's timeout is excused by a stall long enough to explain it, as an attempt's; and
        // when the probe began in the client's first seconds (a cold JVM's first connections and
        // TLS handshakes time out on every endpoint at once, and a probe that marks an endpoint
        // down counts against its zone: the cold client evacuated its home zone).
        // (The client's first seconds, not a replacing core's: the JVM is warm by then.)
        long cold = coldUntil;
        checker.excuseTimeoutsWhen(
            (duration, now) -> clientHealth.explains(duration, now) || now - duration - cold < 0);
        checker.excuseUnreachableWhen(
            (zone, now) -> {
              clientHealth.unreachableIn(zone, now);
              return clientHealth.networkDown(now);
            },
            clientHealth::answered);
        checker.watchTraffic(calls::sum);
        checker.start(router.endpoints());
      }
      this.healthChecker = checker;
      if (discovery == null) {
        this.discovery =
            Discovery.fixed(settings.service(), settings.endpoints(), settings.clock(), ticker);
      } else {
        this.discovery = discovery;
        discovery.attach(this, settings.endpoints(), fromSource);
      }
    } catch (RuntimeException | Error e) {
      if (checker != null) {
        checker.stop();
      }
      if (zoneTask != null) {
        zoneTask.cancel(false);
      }
      if (tickTask != null) {
        tickTask.cancel(false);
      }
      timeouts.close();
      if (ownScheduler) {
        scheduler.shutdownNow();
      }
      dispatcherExecutor.shutdownNow();
      joinOwnThreads();
      throw e;
    }
  }

  /**
   * Applies a new endpoint list: the router's topology, then the health checks of added and removed
   * endpoints; new endpoints and zones ramp up when {@code slowStart}. Called by {@link Discovery}
   * under its lock (never by user code).
   */
  Router.Change applyEndpoints(java.util.List<dev.failover.Endpoint> endpoints, boolean slowStart) {
    Router.Change change = router.update(endpoints, ticker.nanos(), slowStart);
    HealthChecker hc = healthChecker;
    if (hc != null) {
      hc.removed(change.removed());
      hc.added(change.added());
    }
    return change;
  }

  /** The endpoints in use now. */
  public java.util.List<dev.failover.Endpoint> endpoints() {
    return discovery.inUse();
  }

  /** Whether {@code t} is one of the threads this core started (its dispatcher's, its timers'). */
  boolean ownsThread(Thread t) {
    return ownThreads.contains(t);
  }

  private ThreadFactory threads(String name) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = newThread(r, name + "-" + n.incrementAndGet());
      t.setDaemon(true);
      ownThreads.removeIf(old -> old.getState() == Thread.State.TERMINATED);
      ownThreads.add(t);
      return t;
    };
  }

  /**
   * A thread of the SDK's. It inherits no {@code InheritableThreadLocal}: a dispatcher thread made
   * while one caller's call started would carry that caller's context (a security context, a
   * tenant) into the interceptors of every later caller's attempts it runs. Its context class
   * loader is the one of the thread that built the client (the application's), whichever thread
   * made it: from Java 19 on, a thread that inherits no thread locals gets the system class loader
   * instead, and the application's callbacks and interceptors running on it would not find their
   * classes through it ({@code ServiceLoader}, JAXB, Jackson type ids).
   */
  Thread newThread(Runnable r, String name) {
    Thread t = new Thread(null, r, name, 0, false);
    t.setContextClassLoader(contextClassLoader);
    return t;
  }

  /**
   * The state machine of a new call of {@code request} on this core, for {@code owner}, the call
   * handed out.
   *
   * @throws IllegalArgumentException if the request's host is not the service name
   * @throws IllegalStateException if this core is closed
   */
  CallStateMachine newMachine(Request request, okhttp3.Call owner) {
    if (closed.get()) {
      throw new IllegalStateException("FailoverClient '" + settings.service() + "' is closed");
    }
    HttpUrl url = request.url();
    String host = url.host(); // lower case: OkHttp canonicalises hosts
    if (!host.equals(settings.service()) && !host.equalsIgnoreCase(settings.service())) {
      throw new IllegalArgumentException(
          "request host '"
              + url.host()
              + "' must name the service '"
              + settings.service()
              + "', as in http://"
              + settings.service()
              + url.encodedPath());
    }
    return new CallStateMachine(this, request, owner);
  }

  /** Whether execute() runs each call's first attempt on the caller's thread; see the builder. */
  boolean callerRunsFirstAttempt() {
    return notOnCaller == null;
  }

  /**
   * Whether the first attempt of an {@code execute()} (which {@link #callerRunsFirstAttempt} let
   * run on the caller's thread) runs there: always where the application chose so; by default, not
   * for a call with {@code EventListener}s of its own or a request body that is not held in memory
   * (the application's code, which may block where OkHttp's cancel cannot reach), nor over HTTPS
   * unless {@link #httpsOnCaller} and no HTTP proxy's tunnel can be on the way now (a cancel
   * between the TCP connect and the proxy's {@code CONNECT} closes nothing; see {@link
   * #attemptClient}).
   */
  boolean callerRuns(
      boolean https,
      boolean callListeners,
      okhttp3.@org.jspecify.annotations.Nullable RequestBody body) {
    if (callerRunsForced) {
      return true;
    }
    return !callListeners
        && (body == null || inMemory(body))
        && (!https || (httpsOnCaller && noTunnel()));
  }

  /**
   * Whether writing {@code body} runs no code of the application's and reads from nothing that can
   * block: OkHttp's bodies of a string, bytes or a {@code ByteString}, a form, and a multipart body
   * of such parts. (A file, a file descriptor, an okio file system or a body class of the
   * application's may block where OkHttp's cancel cannot reach.)
   */
  static boolean inMemory(okhttp3.RequestBody body) {
    if (body instanceof okhttp3.FormBody) {
      return true;
    }
    if (body instanceof okhttp3.MultipartBody multipart) {
      for (okhttp3.MultipartBody.Part part : multipart.parts()) {
        if (!inMemory(part.body())) {
          return false;
        }
      }
      return true;
    }
    String kind = body.getClass().getName();
    // RequestBody.create / toRequestBody of a ByteString ($1), of bytes or a string ($3).
    return kind.equals("okhttp3.RequestBody$Companion$toRequestBody$1")
        || kind.equals("okhttp3.RequestBody$Companion$toRequestBody$3");
  }

  /**
   * Why, by default, no first attempt of this client's calls may run on the caller's thread; null
   * if they may. A first attempt runs there only where every step of it ends when OkHttp cancels it
   * (its timeout, the call's end or deadline, the caller's {@code cancel()}), and where the code
   * the call's end runs on that thread is the SDK's, so that no caller is held past its deadline,
   * which is what handing it to the dispatcher guarantees otherwise: no code of the application's
   * on the attempt's path (interceptors, a cache, cookies, authenticators, an {@code EventListener}
   * factory, a proxy selector or socket factory of its own, an asynchronous {@code Dns}; a lookup
   * through a {@code Dns} that answers by {@code lookup}, the JDK's included, runs on a thread of
   * the client's: {@link CallerDns}), no {@code FailoverListener} of the application's (the thread
   * that ends a call tells the listeners; the SDK's own meters and the starter's planned shifts
   * never wait), OkHttp's fast fallback (a cancel that the TCP connect's step misses is then seen
   * within 250 ms), no HTTP/2 over cleartext (one stream's write can wait, past its cancel, behind
   * another's on a full socket), and {@code maxRequests} left at its default ({@code maxRequests}
   * bounds the attempts on the dispatcher: one set on purpose bounds them all, as before).
   */
  static @org.jspecify.annotations.Nullable String notOnCallerByDefault(
      @org.jspecify.annotations.Nullable OkHttpClient base,
      int maxRequests,
      java.util.List<dev.failover.FailoverListener> listeners) {
    if (maxRequests != FailoverClient.DEFAULT_MAX_REQUESTS) {
      return "maxRequests(" + maxRequests + ") bounds every attempt";
    }
    for (dev.failover.FailoverListener l : listeners) {
      if (l instanceof CallObserver) {
        return "the FailoverObservations listener's handlers run on every attempt";
      }
      if (!(l instanceof Events.ClientListener)
          && !l.getClass()
              .getName()
              .equals("dev.failover.spring.boot.autoconfigure.PlannedShifts")) {
        return "a FailoverListener of the application's ("
            + l.getClass().getName()
            + ") is told on the thread that ends a call";
      }
    }
    if (base == null) {
      // OkHttp's own Dns answers by lookup (pinned by a test: an OkHttp that did otherwise would
      // run it on the caller's thread, past CallerDns).
      return CallerDns.looksUp(Dns.SYSTEM) ? null : "OkHttp's Dns answers asynchronously";
    }
    if (!base.interceptors().isEmpty() || !base.networkInterceptors().isEmpty()) {
      return "the OkHttpClient has interceptors";
    }
    if (base.cache() != null) {
      return "the OkHttpClient has a cache";
    }
    if (base.cookieJar() != CookieJar.NO_COOKIES) {
      return "the OkHttpClient has a CookieJar";
    }
    if (base.authenticator() != okhttp3.Authenticator.NONE
        || base.proxyAuthenticator() != okhttp3.Authenticator.NONE) {
      return "the OkHttpClient has an Authenticator";
    }
    if (!listensToNothing(base)) {
      return "the OkHttpClient has an EventListener";
    }
    if (!base.fastFallback()) {
      return "the OkHttpClient has fastFallback(false)";
    }
    if (base.protocols().contains(okhttp3.Protocol.H2_PRIOR_KNOWLEDGE)) {
      return "the OkHttpClient speaks cleartext HTTP/2";
    }
    if (!base.socketFactory().getClass().getName().equals("javax.net.DefaultSocketFactory")) {
      return "the OkHttpClient has a SocketFactory";
    }
    if (base.proxy() == null) {
      java.net.ProxySelector selector = base.proxySelector();
      String kind = selector.getClass().getName();
      if (!kind.equals("okhttp3.internal.proxy.NullProxySelector")
          && (!kind.equals("sun.net.spi.DefaultProxySelector") || usesSystemProxies())) {
        return "the OkHttpClient's proxy selector may take its time";
      }
    }
    try {
      if (!CallerDns.looksUp(base.dns())) {
        return "the OkHttpClient's Dns answers asynchronously";
      }
    } catch (RuntimeException e) {
      return "the OkHttpClient's Dns threw " + e;
    }
    return null;
  }

  /**
   * Whether {@code client}'s {@code EventListener} factory makes OkHttp's {@code NONE}: asked once,
   * for a call that is never sent, made by a copy of the client that keeps what the factory made.
   */
  private static boolean listensToNothing(OkHttpClient client) {
    okhttp3.EventListener.Factory factory = client.eventListenerFactory();
    okhttp3.EventListener[] made = new okhttp3.EventListener[1];
    try {
      client
          .newBuilder()
          .eventListenerFactory(
              call -> {
                okhttp3.EventListener l = factory.create(call);
                made[0] = l;
                return l;
              })
          .build()
          .newCall(new Request.Builder().url("http://failover.invalid/").build());
      return made[0] == okhttp3.EventListener.NONE;
    } catch (RuntimeException e) {
      return false;
    }
  }

  /**
   * Whether, by default, HTTPS first attempts of {@code client} may run on the caller's thread: not
   * where it may speak HTTP/2 (ALPN may choose it), nor with a TLS set-up of the application's that
   * may block (a trust manager or hostname verifier that is not the JDK's or OkHttp's; the JDK's
   * revocation checks and its fetching of missing issuers, which go over the network). Not seen
   * here: revocation checks set up through the trust manager's own parameters, and a key manager of
   * the application's in its {@code SSLContext} (docs/configuration.md says to choose false there).
   */
  static boolean httpsOnCaller(OkHttpClient client) {
    if (client.protocols().contains(okhttp3.Protocol.HTTP_2)) {
      return false;
    }
    javax.net.ssl.X509TrustManager trust = client.x509TrustManager();
    return trust != null
        && trust.getClass().getName().equals("sun.security.ssl.X509TrustManagerImpl")
        && client
            .sslSocketFactory()
            .getClass()
            .getName()
            .equals("sun.security.ssl.SSLSocketFactoryImpl")
        && client
            .hostnameVerifier()
            .getClass()
            .getName()
            .equals("okhttp3.internal.tls.OkHostnameVerifier")
        && !Boolean.getBoolean("com.sun.net.ssl.checkRevocation")
        && !Boolean.getBoolean("com.sun.security.enableAIAcaIssuers");
  }

  boolean isClosed() {
    return closed.get();
  }

  void register(CallStateMachine call) {
    active.add(call);
  }

  void unregister(CallStateMachine call) {
    active.remove(call);
  }

  private void tick() {
    try {
      clientHealth.tick(ticker.nanos());
    } catch (RuntimeException e) {
      org.slf4j.LoggerFactory.getLogger(ClientCore.class)
          .warn("[{}] client health tick failed", settings.service(), e);
    }
  }

  private void evaluateZones() {
    try {
      router.zones().evaluate(ticker.nanos());
    } catch (RuntimeException e) {
      org.slf4j.LoggerFactory.getLogger(ClientCore.class)
          .warn("[{}] zone evaluation failed", settings.service(), e);
    }
    try {
      discovery.tick();
    } catch (RuntimeException e) {
      org.slf4j.LoggerFactory.getLogger(ClientCore.class)
          .warn("[{}] endpoint list check failed", settings.service(), e);
    }
  }

  public FailoverSnapshot snapshot() {
    long now = ticker.nanos();
    return new FailoverSnapshot(
        settings.service(),
        settings.home(),
        settings.clock().instant(),
        budget.balance(now),
        hedger.enabled() ? Duration.ofNanos(hedger.delayNanos(now)) : null,
        router.panic(now),
        clientHealth.stalled(now),
        clientHealth.stalls(),
        new FailoverSnapshot.Counters(
            calls.sum(),
            attempts.sum(),
            retries.sum(),
            hedgesSent.sum(),
            hedgesWon.sum(),
            hedgesCancelled.sum(),
            hedgesRefused.sum(),
            budgetExhausted.sum(),
            staleServed.sum(),
            failedCalls.sum()),
        router.snapshot(now),
        discovery.snapshot());
  }

  /** See {@code FailoverClient.shiftAway}. */
  public java.time.Instant shiftAway(String zone, Duration duration, String requestedBy) {
    java.time.Instant until = settings.clock().instant().plus(duration);
    shiftAwayUntil(zone, until, duration.toNanos(), requestedBy);
    return until;
  }

  /**
   * A zonal shift of {@code zone} for {@code leftNanos} more (monotonic time), as {@link
   * #shiftAway} makes, for a shift carried over from a replaced core: the same expiry {@code until}
   * (wall time), told with it.
   */
  void shiftAwayUntil(String zone, java.time.Instant until, long leftNanos, String requestedBy) {
    if (closed.get()) {
      throw new IllegalStateException("FailoverClient '" + settings.service() + "' is closed");
    }
    long now = ticker.nanos();
    router.zones().shiftAway(zone, now + leftNanos, until, requestedBy, now);
  }

  /**
   * Holds the shift of {@code zone} (named {@code region/zone}) until {@code until} although this
   * core has no endpoint in it: carried over from a core that had, or that held it for a zone its
   * registry had emptied. The zone is then one this core knows without endpoints, shifted when its
   * endpoints come back.
   *
   * @throws IllegalArgumentException if {@code zone} is not named {@code region/zone}
   */
  void holdShiftOfEmptied(
      String zone, java.time.Instant until, long leftNanos, String requestedBy) {
    if (closed.get()) {
      throw new IllegalStateException("FailoverClient '" + settings.service() + "' is closed");
    }
    int slash = zone.indexOf('/');
    if (slash <= 0 || slash == zone.length() - 1) {
      throw new IllegalArgumentException("no zone of the new configuration is '" + zone + "'");
    }
    Locality l = Locality.of(zone.substring(0, slash), zone.substring(slash + 1));
    long now = ticker.nanos();
    router.knowEmptied(l, now);
    router.zones().holdShift(l, now + leftNanos, until, requestedBy, now);
  }

  /** Whether the shift of {@code zone} until {@code until} by {@code requestedBy} is in force. */
  boolean shiftInForce(String zone, java.time.Instant until, String requestedBy) {
    return router.zones().shiftInForce(zone, until, requestedBy, ticker.nanos());
  }

  /**
   * Ends the shift of {@code zone} only if it is the one until {@code until} by {@code requestedBy}
   * (a carried shift the client no longer holds), not one made since.
   */
  void cancelShiftIf(String zone, java.time.Instant until, String requestedBy, String by) {
    router.zones().cancelShiftIf(zone, until, requestedBy, by, ticker.nanos());
  }

  /** The zone {@code zone} names, as {@code region/zone} (see {@link Zones#canonicalName}). */
  String zoneKey(String zone) {
    return router.zones().canonicalName(zone);
  }

  /** See {@code FailoverClient.cancelShift}. */
  public boolean cancelShift(String zone, String requestedBy) {
    return router.zones().cancelShift(zone, requestedBy, ticker.nanos());
  }

  /**
   * Where callbacks due from scheduler tasks run: the dispatcher's threads, never the scheduler.
   */
  java.util.concurrent.Executor callbackExecutor() {
    return dispatcherExecutor;
  }

  public Router router() {
    return router;
  }

  public OkHttpClient transport() {
    return retrying;
  }

  /**
   * The OkHttp client that sends an attempt whose own timeout is {@code timeoutNanos}: {@link
   * #retrying} for an idempotent request, {@link #nonRetrying} for the rest, and either without its
   * sockets' read and write timeouts when the attempt's timeout is no longer than the shorter of
   * those and no HTTP proxy's tunnel can be on its way.
   *
   * <p>The attempt's timeout (armed as the attempt is sent, disarmed only once OkHttp ends its
   * call: its body closed, or its failure) bounds every read and write of the attempt, from before
   * the first: where it is the shorter, OkHttp's read or write timeout, which counts from the start
   * of one read or write, could never fire first, and what it would cost is all that remains. That
   * cost is okio's: each socket read or write with a timeout takes one lock that every thread of
   * the JVM shares and, when no other read or write is timed at that moment, wakes okio's watchdog
   * thread (about 1.3 wake-ups and several microseconds of CPU a call with one calling thread,
   * docs/benchmarks.md). An attempt with a longer timeout keeps OkHttp's, which may then end it
   * first, as before.
   *
   * <p>Over HTTPS, only where no HTTP proxy's tunnel can be on the way ({@link #httpsTunnels});
   * over cleartext HTTP/2 with prior knowledge, which OkHttp tunnels through an HTTP proxy too,
   * only where no proxy selector is asked ({@link #TUNNEL_NEVER}: the JDK's would answer by {@code
   * http.proxyHost}, which {@link #noTunnel} does not read). OkHttp's cancel, which is how the
   * attempt's timeout ends an attempt, closes a connection being set up only once OkHttp has
   * registered its step (the TCP connect, then the tunnel and the TLS handshake), and a cancel that
   * falls between the two steps closes nothing: what then bounds the rest of the set-up is the read
   * timeout, as the socket's. For the handshake the SDK closes that gap itself (its attempts'
   * listener, at {@code secureConnectStart}, after the registration, fails a cancelled attempt's
   * connection before its handshake starts), but nothing is told between the registration and a
   * proxy's {@code CONNECT}: with a proxy that may tunnel, HTTPS attempts keep the timeouts. Any
   * other cleartext connection has neither step: its connect is bounded by the connect timeout, and
   * OkHttp checks for a cancel before each exchange, which a cancel then closes.
   */
  OkHttpClient attemptClient(
      boolean idempotent, long timeoutNanos, boolean https, boolean directly) {
    boolean untimed =
        timeoutNanos <= socketTimeoutNanos
            && (https ? noTunnel() : !priorKnowledge || httpsTunnels == TUNNEL_NEVER);
    if (directly && direct.length > 0) {
      return direct[(idempotent ? 2 : 0) + (untimed ? 1 : 0)];
    }
    if (idempotent) {
      return untimed ? retryingUntimed : retrying;
    }
    return untimed ? nonRetryingUntimed : nonRetrying;
  }

  /**
   * Whether a first attempt on the caller's thread with no event listener of its call's goes
   * without {@link SeenCapture} ({@link #direct}): the caller's thread then marks it with {@link
   * #reachedDirectly} as it starts it, and restores its Retry-After with {@link
   * #restoreRetryAfter}.
   */
  boolean direct() {
    return direct.length > 0;
  }

  /**
   * {@link #direct}'s clients; an untimed one that is its timed one (neither socket timeout set) is
   * built once.
   */
  private OkHttpClient[] directClients() {
    OkHttpClient nonRetryingDirect = withoutCapture(nonRetrying);
    OkHttpClient retryingDirect = withoutCapture(retrying);
    return new OkHttpClient[] {
      nonRetryingDirect,
      nonRetryingUntimed == nonRetrying ? nonRetryingDirect : withoutCapture(nonRetryingUntimed),
      retryingDirect,
      retryingUntimed == retrying ? retryingDirect : withoutCapture(retryingUntimed)
    };
  }

  /** {@code client} without {@link SeenCapture}: the same in every other part. */
  private static OkHttpClient withoutCapture(OkHttpClient client) {
    OkHttpClient.Builder b = client.newBuilder();
    b.interceptors().removeIf(SeenCapture.class::isInstance);
    return b.build();
  }

  /**
   * What {@link SeenCapture} does as a {@linkplain #direct() direct} attempt's call starts on the
   * caller's thread: nothing of the application's runs before OkHttp's own interceptors, so the
   * attempt reaches the SDK now (unless its call was cancelled already).
   */
  static void reachedDirectly(AttemptTag tag, okhttp3.Call call, Ticker ticker) {
    tag.passedSdk = true;
    if (!call.isCanceled()) {
      tag.reachedSdkAt = ticker.nanos();
      tag.reachedSdk = true; // publishes reachedSdkAt
    }
  }

  /**
   * What {@link SeenCapture} does with a {@linkplain #direct() direct} attempt's response: gives
   * the caller back the server's oversized Retry-After, which {@link TransmissionCounter} made
   * readable for OkHttp.
   */
  static Response restoreRetryAfter(AttemptTag tag, Response response) {
    String original = tag.overflowingRetryAfter;
    return original == null
        ? response
        : response.newBuilder().header("Retry-After", original).build();
  }

  /** Whether no HTTPS request of this client can go through an HTTP proxy's tunnel now. */
  private boolean noTunnel() {
    int tunnels = httpsTunnels;
    return tunnels == TUNNEL_NEVER
        || (tunnels == TUNNEL_BY_PROPERTIES
            && System.getProperty("https.proxyHost") == null
            && System.getProperty("proxyHost") == null);
  }

  /**
   * Whether {@code client}'s HTTPS requests can go through an HTTP proxy's tunnel: never with a
   * proxy that is not an HTTP one ({@code Proxy.NO_PROXY}, SOCKS) or OkHttp's own selector for a
   * JVM without one; by the properties {@code https.proxyHost} and {@code proxyHost} with the JDK's
   * default selector, if it chooses no HTTP proxy now (it would where {@code net.properties} names
   * one); maybe with any other proxy or selector, and with the JDK's where {@code
   * java.net.useSystemProxies} is on (the system's answer may differ by host, as with a PAC file,
   * and over time).
   */
  static int httpsTunnels(OkHttpClient client) {
    java.net.Proxy proxy = client.proxy();
    if (proxy != null) {
      return proxy.type() == java.net.Proxy.Type.HTTP ? TUNNEL_MAYBE : TUNNEL_NEVER;
    }
    java.net.ProxySelector selector = client.proxySelector();
    String kind = selector.getClass().getName();
    if (kind.equals("okhttp3.internal.proxy.NullProxySelector")) {
      return TUNNEL_NEVER;
    }
    if (selector != java.net.ProxySelector.getDefault()
        || !kind.equals("sun.net.spi.DefaultProxySelector")
        || usesSystemProxies()) {
      return TUNNEL_MAYBE;
    }
    try {
      for (java.net.Proxy p : selector.select(java.net.URI.create("https://failover.invalid/"))) {
        if (p.type() == java.net.Proxy.Type.HTTP) {
          return TUNNEL_MAYBE;
        }
      }
    } catch (RuntimeException e) {
      return TUNNEL_MAYBE;
    }
    return TUNNEL_BY_PROPERTIES;
  }

  /**
   * Whether the JDK's default proxy selector asks the system: {@code java.net.useSystemProxies} as
   * a system property or, where that is unset, in the JDK's {@code conf/net.properties} (which is
   * where the selector reads it); true where the file cannot be read.
   */
  static boolean usesSystemProxies() {
    String property = System.getProperty("java.net.useSystemProxies");
    if (property != null) {
      return Boolean.parseBoolean(property);
    }
    java.util.Properties net = new java.util.Properties();
    try (java.io.InputStream in =
        java.nio.file.Files.newInputStream(
            java.nio.file.Path.of(System.getProperty("java.home"), "conf", "net.properties"))) {
      net.load(in);
    } catch (java.nio.file.NoSuchFileException e) {
      return false;
    } catch (java.io.IOException | RuntimeException e) {
      return true;
    }
    return Boolean.parseBoolean(net.getProperty("java.net.useSystemProxies", "false"));
  }

  /**
   * A newer configuration replaced this one, whose calls still run: its health checks and zone
   * judgement stop at once (the new core probes and judges the same endpoints and zones, and both
   * told the application's listeners of each change); its stall detector runs on while its calls
   * do, to excuse their timeouts, but tells no one (the new core's tells of the same stall).
   * Returns the stalls it had counted.
   */
  long retire() {
    if (healthChecker != null) {
      healthChecker.stop();
    }
    zoneTimer.cancel(false);
    // A stall it told ends with it: its tick stops once its calls have ended, and listeners must
    // not be left believing the client stalled (the new core tells of the stall if it goes on).
    FailoverEvent.ClientRecovered ended = clientHealth.endStall(ticker.nanos());
    if (ended != null) {
      events.emit(ended);
    }
    events.muteClientHealth();
    return clientHealth.stalls();
  }

  /**
   * Stops the tick of a replaced configuration once its calls have ended (its health checks and
   * zone judgement stopped when it was replaced: {@link #retire}).
   */
  void stopTicking() {
    clientTick.cancel(false);
    clientHealth.stopTicking();
  }

  /**
   * Waits until the timeouts of a replaced configuration's last attempts are done: a body still
   * being read stays bounded by its attempt's timeout. Returns early if the timeouts close
   * meanwhile ({@link #stopWaitingForBodies}).
   */
  void awaitBodiesRead() throws InterruptedException {
    boolean unused = timeouts.awaitDrained();
  }

  /** Ends {@link #awaitBodiesRead}'s wait: the client closes. */
  void stopWaitingForBodies() {
    timeouts.close();
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    // The source first, so that no list arrives while the rest shuts down.
    discovery.close();
    dev.failover.EndpointSource source = discovery.source();
    if (source != null) {
      try {
        source.close();
      } catch (RuntimeException | Error e) {
        org.slf4j.LoggerFactory.getLogger(ClientCore.class)
            .error("[{}] closing the endpoint source failed", settings.service(), e);
      }
    }
    if (healthChecker != null) {
      healthChecker.stop();
    }
    zoneTimer.cancel(false);
    clientTick.cancel(false);
    clientHealth.stopTicking();
    for (CallStateMachine call : active.snapshot()) {
      try {
        call.cancel();
      } catch (RuntimeException | Error e) {
        // Whatever a callback did, close() goes on: every call, thread and connection.
        org.slf4j.LoggerFactory.getLogger(ClientCore.class)
            .error("[{}] cancelling a call on close failed", settings.service(), e);
      }
    }
    // What is left on the dispatcher (a probe, a health check), one by one rather than by its
    // cancelAll(), which holds the dispatcher's lock while the application's
    // EventListener.canceled runs; a listener that throws stops nothing (OkHttp tells it last).
    for (okhttp3.Call c : retrying.dispatcher().queuedCalls()) {
      CallStateMachine.cancelQuietly(c);
    }
    for (okhttp3.Call c : retrying.dispatcher().runningCalls()) {
      CallStateMachine.cancelQuietly(c);
    }
    HealthChecker checker = healthChecker;
    if (checker != null) {
      for (okhttp3.Call c : checker.calls()) {
        CallStateMachine.cancelQuietly(c); // probes have a dispatcher of their own
      }
    }
    if (stale != null) {
      stale.close(); // no call serves from it now; a closed client may stay reachable
    }
    attemptRequests.close();
    timeouts.close();
    // What the timeouts still bound is a body being read (the calls are cancelled): its attempt's
    // OkHttp call is cancelled now, so that its connection closes with the client.
    for (Timeouts.Target armed : timeouts.takeArmed()) {
      try {
        armed.timedOut();
      } catch (RuntimeException | Error e) {
        org.slf4j.LoggerFactory.getLogger(ClientCore.class)
            .error("[{}] ending a body still read on close failed", settings.service(), e);
      }
    }
    if (ownScheduler) {
      scheduler.shutdownNow();
    }
    dispatcherExecutor.shutdown();
    try {
      // Closed from a callback, on a dispatcher thread: that thread cannot end while it runs this,
      // so waiting for the executor would only wait 5 s and then interrupt the caller;
      // joinOwnThreads waits for the other threads.
      if (!ownThreads.contains(Thread.currentThread())
          && !dispatcherExecutor.awaitTermination(
              Duration.ofSeconds(5).toMillis(), TimeUnit.MILLISECONDS)) {
        dispatcherExecutor.shutdownNow();
      }
      if (ownScheduler) {
        scheduler.awaitTermination(1, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    joinOwnThreads();
    if (ownPool) {
      retrying.connectionPool().evictAll();
    }
  }

  /**
   * Waits until every thread this client started has ended: a terminated executor's worker may
   * still be on its way out. Bounded (5 s in all), and never waits for the calling thread.
   */
  private void joinOwnThreads() {
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    try {
      for (Thread t : ownThreads) {
        long left = until - System.nanoTime();
        if (t != Thread.currentThread() && left > 0) {
          t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Runs after the application's own interceptors: marks the attempt or health probe as {@linkplain
   * Reach#reachedSdk begun}; records what the server will see of the attempt (headers, query,
   * cookie-jar cookies), the stale cache's key material, when the stale cache is on ({@code
   * cookieJar} not null); and gives the caller back an oversized {@code Retry-After}.
   */
  static final class SeenCapture implements Interceptor {
    private final @org.jspecify.annotations.Nullable CookieJar cookieJar;
    private final Ticker ticker;
    private final boolean leftSdkFollows;

    SeenCapture(
        @org.jspecify.annotations.Nullable CookieJar cookieJar,
        Ticker ticker,
        boolean leftSdkFollows) {
      this.cookieJar = cookieJar;
      this.ticker = ticker;
      this.leftSdkFollows = leftSdkFollows;
    }

    @Override
    public Response intercept(Chain chain) throws java.io.IOException {
      Request request = chain.request();
      AttemptTag tag = request.tag(AttemptTag.KEY);
      Reach reach = tag;
      if (reach == null) {
        // A health probe; or an attempt whose request the application's interceptor built anew,
        // without its tags: the call's own request still has them. Not a request of its own to
        // another origin (a token fetched through the chain before the real request).
        Request original = chain.call().request();
        AttemptTag own = original.tag(AttemptTag.KEY);
        Reach ownReach = own != null ? own : original.tag(Reach.KEY);
        if (ownReach != null) {
          ownReach.passedSdk = true; // whatever origin the application sent it to
        }
        if (sameOrigin(request.url(), original.url())) {
          tag = own;
          reach = ownReach;
        }
      } else {
        reach.passedSdk = true;
      }
      if (reach != null && !reach.reachedSdk && !chain.call().isCanceled()) {
        // Not when it was cancelled (timed out) while it waited: OkHttp still runs the
        // application's interceptors and this one before it fails such a call. Only the first
        // time: an interceptor of the application's that retries runs this again, and the
        // endpoint's time began with the first pass.
        reach.reachedSdkAt = ticker.nanos();
        reach.reachedSdk = true; // publishes reachedSdkAt
      }
      CookieJar cookieJar = this.cookieJar;
      if (tag != null && cookieJar != null) {
        String cookies = "";
        if (cookieJar != CookieJar.NO_COOKIES) {
          StringBuilder sb = new StringBuilder();
          for (Cookie c : cookieJar.loadForRequest(request.url())) {
            sb.append(c.name()).append('=').append(c.value()).append(';');
          }
          cookies = sb.toString();
        }
        StaleStore.Seen earlier = tag.seen;
        StaleStore.Seen seen =
            new StaleStore.Seen(request, cookies, chain.call().request().url(), leftSdkFollows);
        if (earlier != null && earlier.identityAddedBelow) {
          // An application interceptor that sends the request again (its own retry): the pass
          // before showed identity added below, which holds for this attempt whatever this pass
          // gets to show.
          seen.identityAddedBelow = true;
        }
        tag.seen = seen;
      }
      Response response;
      try {
        response = chain.proceed(request);
      } catch (java.io.IOException | RuntimeException e) {
        if (reach != null) {
          // An interceptor above may turn this failure into a response of its own (a fallback):
          // that response stands for the failure, not for an answer made in the client.
          reach.failedBelow = true;
        }
        throw e;
      }
      // The network interceptor made an oversized one readable for OkHttp; the caller sees the
      // server's.
      return tag == null ? response : restoreRetryAfter(tag, response);
    }
  }

  /**
   * Records the request as it leaves the SDK's own interceptors (after the observations' tracing
   * headers), for the stale cache's check of what the network request gained below them.
   */
  static final class LeftSdk implements Interceptor {
    @Override
    public Response intercept(Chain chain) throws java.io.IOException {
      AttemptTag tag = chain.request().tag(AttemptTag.KEY);
      if (tag == null) {
        Request original = chain.call().request();
        if (sameOrigin(chain.request().url(), original.url())) {
          // Rebuilt without its tags by an interceptor: the call's own request has them.
          tag = original.tag(AttemptTag.KEY);
        }
      }
      StaleStore.Seen seen = tag == null ? null : tag.seen;
      if (seen != null) {
        seen.leftSdk = chain.request();
      }
      return chain.proceed(chain.request());
    }
  }

  /** Counts each time OkHttp puts an attempt on the network, to expose its silent retries. */
  static final class TransmissionCounter implements Interceptor {
    private final Ticker ticker;

    TransmissionCounter(Ticker ticker) {
      this.ticker = ticker;
    }

    @Override
    public Response intercept(Chain chain) throws java.io.IOException {
      AttemptTag tag = chain.request().tag(AttemptTag.KEY);
      if (tag == null) {
        Request original = chain.call().request();
        Request request = chain.request();
        if (sameOrigin(request.url(), original.url())
            || (request.body() != null && request.body() == original.body())) {
          // A request an Authenticator or an interceptor built anew, without its tags: the call's
          // own request still has them; also one an interceptor sent to another origin (an egress
          // gateway) with the attempt's own body, which must never be sent twice. Not a request
          // of the application's own to another origin (a token fetched through the chain before
          // the real request): counted, it made the real request a silent resend (charged to the
          // retry budget) and a refused connection look sent.
          tag = original.tag(AttemptTag.KEY);
        }
      }
      if (tag == null) {
        // A health probe, or the application's own request: OkHttp must still be able to read its
        // Retry-After (see below).
        Response response = chain.proceed(chain.request());
        String retryAfter = response.header("Retry-After");
        return retryAfter != null && overflowsInt(retryAfter.trim())
            ? response
                .newBuilder()
                .header("Retry-After", Integer.toString(Integer.MAX_VALUE))
                .build()
            : response;
      }
      tag.transmissionStarted(ticker);
      if (tag.overflowingRetryAfter != null) {
        // A follow-up within the attempt (an Authenticator's answer to a 401 that carried one):
        // only the response this transmission gets may have its Retry-After given back.
        tag.overflowingRetryAfter = null;
      }
      okhttp3.Connection connection = chain.connection();
      tag.connection = connection;
      StaleStore.Seen seen = tag.seen;
      if (seen != null) {
        // Only with the stale cache on: what a network interceptor or an Authenticator added.
        seen.sentOnNetwork(chain.request());
      }
      Request request = chain.request();
      okhttp3.RequestBody body = request.body();
      // Judged afresh on each pass: an interceptor of the application's that sends again after a
      // failure gets a connection failure judged as one. (Read first: a volatile write on every
      // attempt would cost a fence where it is nearly always false already.)
      if (tag.applicationBodyFailed) {
        tag.applicationBodyFailed = false;
      }
      boolean duplexOnHttp1 = false;
      if (body != null) {
        if (!body.isDuplex()) {
          // Tells the application's failure to write its body from the connection's: only the
          // connection's says anything about the endpoint.
          request =
              request.newBuilder().method(request.method(), new WatchedBody(body, tag)).build();
        } else {
          duplexOnHttp1 =
              connection != null
                  && connection.protocol() != okhttp3.Protocol.HTTP_2
                  && connection.protocol() != okhttp3.Protocol.H2_PRIOR_KNOWLEDGE;
        }
      }
      Response response;
      try {
        response = chain.proceed(request);
      } catch (java.io.IOException e) {
        if (duplexOnHttp1 && e instanceof java.net.ProtocolException) {
          // OkHttp refuses a duplex body on HTTP/1 (a ProtocolException once the headers are out):
          // the application's request, not the endpoint, is at fault.
          tag.applicationBodyFailed = true;
        }
        okhttp3.Connection c = chain.connection();
        if (c != null && Classifier.connectionFailure(e)) {
          tag.loss = new EndpointState.Loss(c, e, Classifier.givenUpUnder(c, e));
        }
        throw e;
      }
      tag.lastWasRedirect = response.isRedirect();
      String retryAfter = response.header("Retry-After");
      if (retryAfter != null && overflowsInt(retryAfter.trim())) {
        // OkHttp reads a Retry-After of digits as an int to decide its own resend of a 503 or 408:
        // a larger number throws NumberFormatException on the dispatcher thread. Same meaning,
        // a value it can read; SeenCapture puts the server's value back once OkHttp is done.
        tag.overflowingRetryAfter = retryAfter;
        response =
            response
                .newBuilder()
                .header("Retry-After", Integer.toString(Integer.MAX_VALUE))
                .build();
        retryAfter = response.header("Retry-After");
      }
      if (!tag.idempotent
          && response.code() == 503
          && retryAfter != null
          && retryAfter.trim().matches("0+")) {
        // OkHttp resends a 503 with Retry-After: 0 on its own, even a POST: not this one.
        return response.newBuilder().removeHeader("Retry-After").build();
      }
      return response;
    }
  }

  /**
   * An attempt's request body as OkHttp writes it: when the application's {@code writeTo} fails
   * with an exception that no write to the connection threw (its own source broke off: a relayed
   * upload whose client went away, a file that vanished), or when the body writes more or fewer
   * bytes than its {@code contentLength()} said (OkHttp refuses both), marks the attempt {@link
   * AttemptTag#applicationBodyFailed}. Such a failure says nothing about the endpoint, and another
   * endpoint would get the same body. Everything else is the body's own.
   */
  static final class WatchedBody extends okhttp3.RequestBody {
    private final okhttp3.RequestBody body;
    private final AttemptTag tag;

    WatchedBody(okhttp3.RequestBody body, AttemptTag tag) {
      this.body = body;
      this.tag = tag;
    }

    @Override
    public okhttp3.@org.jspecify.annotations.Nullable MediaType contentType() {
      return body.contentType();
    }

    @Override
    public long contentLength() throws java.io.IOException {
      return body.contentLength();
    }

    @Override
    public boolean isOneShot() {
      return body.isOneShot();
    }

    @Override
    public boolean isDuplex() {
      return body.isDuplex();
    }

    @Override
    public void writeTo(okio.BufferedSink sink) throws java.io.IOException {
      long declared = body.contentLength();
      Connection watched = new Connection(sink, declared);
      okio.BufferedSink buffered = okio.Okio.buffer(watched);
      try {
        body.writeTo(buffered);
        if (buffered.isOpen()) {
          // (A body may close its sink, as a JSON writer that closes its stream does.)
          buffered.emit();
        }
      } catch (java.io.IOException e) {
        if (!watched.failed) {
          tag.applicationBodyFailed = true;
        }
        throw e;
      }
      if (declared >= 0 && watched.written != declared) {
        // More or fewer bytes than its contentLength() said: OkHttp fails the request as it
        // closes the body's sink, after this (or as it writes, past its buffer). The
        // application's body, not the connection.
        tag.applicationBodyFailed = true;
      }
    }

    /**
     * The connection's sink, remembering whether a write to it failed. A write past the body's
     * declared length is the body's fault, not the connection's: OkHttp refuses it before any
     * socket write.
     */
    private static final class Connection extends okio.ForwardingSink {
      private final long declared;
      long written;
      boolean failed;

      Connection(okio.Sink delegate, long declared) {
        super(delegate);
        this.declared = declared;
      }

      @Override
      public void write(okio.Buffer source, long byteCount) throws java.io.IOException {
        written += byteCount;
        boolean overrun = declared >= 0 && written > declared;
        try {
          super.write(source, byteCount);
        } catch (java.io.IOException e) {
          failed = !overrun;
          throw e;
        }
      }

      @Override
      public void flush() throws java.io.IOException {
        try {
          super.flush();
        } catch (java.io.IOException e) {
          failed = true;
          throw e;
        }
      }

      @Override
      public void close() throws java.io.IOException {
        try {
          super.close();
        } catch (java.io.IOException e) {
          failed = true;
          throw e;
        }
      }
    }
  }

  /** Whether two URLs have the same scheme, host and port. */
  static boolean sameOrigin(okhttp3.HttpUrl a, okhttp3.HttpUrl b) {
    return a.port() == b.port() && a.host().equals(b.host()) && a.scheme().equals(b.scheme());
  }

  /** Whether {@code value} is all ASCII digits and more than an int holds. */
  static boolean overflowsInt(String value) {
    if (value.isEmpty()) {
      return false;
    }
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c < '0' || c > '9') {
        return false;
      }
    }
    String digits = value.replaceFirst("^0+(?=.)", "");
    return digits.length() > 10
        || (digits.length() == 10 && digits.compareTo(Integer.toString(Integer.MAX_VALUE)) > 0);
  }

  /**
   * Whether and when a request of the SDK's (an attempt, or a health probe, which carries one of
   * these as its tag) got past the application's interceptors and the dispatcher's queue to the
   * SDK's first interceptor. Time before that was the client's, not the endpoint's.
   */
  static class Reach {
    /** The tag's key for a health probe (an attempt is tagged with its {@link AttemptTag}). */
    static final kotlin.reflect.KClass<Reach> KEY =
        kotlin.jvm.JvmClassMappingKt.getKotlinClass(Reach.class);

    /**
     * Whether OkHttp ran the request as far as the SDK's first interceptor: false while it waits
     * for a free slot of the dispatcher ({@code maxRequests}) or runs the application's own
     * interceptors, and stays false if it timed out (was cancelled) before. A request that times
     * out before then says nothing about its endpoint.
     */
    volatile boolean reachedSdk;

    /** When it did (the client's ticker); read only after {@link #reachedSdk} reads true. */
    long reachedSdkAt;

    /**
     * Whether OkHttp ran the request's call as far as the SDK's first interceptor at all, whatever
     * the application's interceptors made of the request (one sent to another origin, or
     * cancelled): false only when it failed before (in the queue, or in the application's
     * interceptors).
     */
    volatile boolean passedSdk;

    /**
     * Whether what lay below the SDK's interceptor (OkHttp's cache, the connection, the network)
     * failed for it at least once: a response the caller then gets was made above it, by an
     * interceptor of the application's, out of that failure.
     */
    volatile boolean failedBelow;
  }

  /** Per-attempt marker carried as a request tag. */
  static final class AttemptTag extends Reach {
    /**
     * The tag's key, made once: OkHttp 5 keys tags by {@code KClass}, and its {@code Class}
     * overloads make a new one on every call.
     */
    static final kotlin.reflect.KClass<AttemptTag> KEY =
        kotlin.jvm.JvmClassMappingKt.getKotlinClass(AttemptTag.class);

    private static final AtomicIntegerFieldUpdater<AttemptTag> TRANSMISSIONS =
        AtomicIntegerFieldUpdater.newUpdater(AttemptTag.class, "transmissions");
    private static final AtomicIntegerFieldUpdater<AttemptTag> SILENT_RETRIES =
        AtomicIntegerFieldUpdater.newUpdater(AttemptTag.class, "silentRetries");

    /** Whether OkHttp may resend the attempt: an idempotent request with a replayable body. */
    final boolean idempotent;

    /**
     * Whether the attempt runs on the thread that called {@code execute()} (set by that thread
     * before it runs the attempt, read by it in {@code dnsStart}; see {@link CallerDns}).
     */
    boolean onCaller;

    private volatile int transmissions;
    private volatile int silentRetries;

    /**
     * When OkHttp first put the attempt on the network, its connection ready (the client's ticker):
     * what it spent before, after {@link #reachedSdkAt}, was finding or opening a connection.
     * Written before the first transmission is counted; read only after {@link #sent()} reads true.
     */
    private long firstSentAt;

    volatile boolean lastWasRedirect;

    /**
     * A Retry-After too large for OkHttp to read, as the server sent it; restored for the caller.
     */
    volatile @org.jspecify.annotations.Nullable String overflowingRetryAfter;

    /**
     * The endpoint whose answer this attempt was, counted as a success at its headers: should its
     * body break off while the caller reads it, that counts against the endpoint ({@link
     * EndpointState#bodyFailed}). Null otherwise, and once told.
     */
    volatile @org.jspecify.annotations.Nullable EndpointState answeredBy;

    /** Whether the attempt's own timeout ended it (the SDK cancels its OkHttp call to do so). */
    volatile boolean timedOut;

    /**
     * Whether the application's request body failed as OkHttp wrote it (its {@code writeTo} threw
     * with no write to the connection failing, or it wrote more or fewer bytes than its {@code
     * contentLength()}), or was a duplex body on an HTTP/1 connection, which OkHttp refuses: the
     * application's failure, no evidence about the endpoint.
     */
    volatile boolean applicationBodyFailed;

    /**
     * The connection OkHttp last put the attempt on; null until then. When a connection dies, every
     * attempt on it fails at once (the streams of an HTTP/2 connection): one loss, counted once
     * against the endpoint ({@link EndpointState#sameLoss}). Not volatile (it is written on every
     * transmission): written on the thread that runs the attempt's chain, and read after the
     * response's hand-off to the caller that reads its body.
     */
    okhttp3.@org.jspecify.annotations.Nullable Connection connection;

    /**
     * How the attempt's last transmission failed, if the way it failed is how a connection that
     * dies fails its streams ({@link Classifier#connectionFailure}): its connection, the failure,
     * and whether OkHttp had given the connection up as the failure came through the SDK's network
     * interceptor (judged then: OkHttp closes a connection later for other reasons, one a stream
     * reset made it stop using, once its last call leaves). Null otherwise.
     */
    volatile EndpointState.@org.jspecify.annotations.Nullable Loss loss;

    /** What the server saw of this attempt; null until the attempt started executing. */
    volatile StaleStore.@org.jspecify.annotations.Nullable Seen seen;

    /**
     * The attempt's timeout, armed before OkHttp runs it and disarmed when OkHttp ends its call
     * (after the response body, for the attempt whose response the caller reads).
     */
    volatile Timeouts.@org.jspecify.annotations.Nullable Timeout timeout;

    AttemptTag(boolean idempotent) {
      this.idempotent = idempotent;
    }

    /**
     * Counts a transmission as OkHttp puts the attempt on the network; fails it instead if its
     * timeout {@linkplain #abandon() abandoned} it first.
     */
    void transmissionStarted(Ticker ticker) throws java.io.IOException {
      long at = ticker.nanos();
      int t;
      do {
        t = transmissions;
        if (t < 0) {
          // Abandoned: the SDK ended the attempt as never sent, and may have sent its request
          // elsewhere (a POST too).
          throw new java.io.IOException("Canceled");
        }
        if (t == 0) {
          firstSentAt = at; // published by the compare-and-set below
        }
      } while (!TRANSMISSIONS.compareAndSet(this, t, t + 1));
      if (t > 0 && !lastWasRedirect) {
        SILENT_RETRIES.incrementAndGet(this);
      }
      lastWasRedirect = false;
    }

    /**
     * Marks the attempt as never to be put on the network, if it was not yet; returns whether it
     * was not. Its timeout does this when OkHttp's cancel cannot end it at once (a DNS lookup
     * blocks, uninterruptibly, until the resolver gives up), so that the attempt can end as the
     * connect timeout it is and its call go on, without its request ever leaving after that.
     */
    boolean abandon() {
      return TRANSMISSIONS.compareAndSet(this, 0, -1);
    }

    boolean sent() {
      return transmissions > 0;
    }

    /**
     * How long the attempt spent getting a connection before it was first sent: from when it
     * {@linkplain #reachedSdk reached the SDK} to its first transmission (a new connection's DNS
     * lookup, TCP and TLS handshakes; next to nothing for a pooled one). 0 if it was not sent yet
     * or never reached the SDK.
     */
    long connectionSetupNanos() {
      if (transmissions <= 0 || !reachedSdk) {
        return 0;
      }
      return Math.max(0, firstSentAt - reachedSdkAt);
    }

    int silentRetries() {
      return silentRetries;
    }
  }
}
