package dev.failover.testkit;

import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
import com.github.tomakehurst.wiremock.http.Fault;
import com.github.tomakehurst.wiremock.http.ResponseDefinition;
import com.github.tomakehurst.wiremock.stubbing.ServeEvent;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import wiremock.org.eclipse.jetty.util.thread.QueuedThreadPool;
import wiremock.org.eclipse.jetty.util.thread.ScheduledExecutorScheduler;
import wiremock.org.eclipse.jetty.util.thread.Scheduler;

/**
 * One fake endpoint: a WireMock server behind a fault-injecting TCP proxy, whose port is the one in
 * {@link #url()}.
 *
 * <pre>{@code
 * FakeEndpoint first = zones.zone("us-east-1a").endpoint(0);
 * first.fail(ZoneFault.hang());
 * first.server().stubFor(get("/only-here").willReturn(ok()));
 * }</pre>
 */
public final class FakeEndpoint implements FakeTarget {

  private static final String LOOPBACK = "127.0.0.1";

  private final FakeZone zone;
  private final int index;
  private final int globalIndex;
  private final int containerThreads;
  private volatile @Nullable Node node;
  private volatile @Nullable Applied applied;
  private long generation; // guarded by this

  FakeEndpoint(FakeZone zone, int index, int globalIndex, int containerThreads) {
    this.zone = zone;
    this.index = index;
    this.globalIndex = globalIndex;
    this.containerThreads = containerThreads;
  }

  /**
   * Returns the zone this endpoint belongs to.
   *
   * @return the zone
   */
  public FakeZone zone() {
    return zone;
  }

  /**
   * Returns this endpoint's index within its zone, from 0.
   *
   * @return the index
   */
  public int index() {
    return index;
  }

  /**
   * Returns the port clients connect to (the proxy's, not WireMock's). It stays the same while the
   * fake zones run, across {@link ZoneFault#refuse()} and {@link #heal()}.
   *
   * @return the public port on 127.0.0.1
   * @throws IllegalStateException if the fake zones are not running
   */
  public int port() {
    return running().proxy.port();
  }

  /**
   * Returns the base URL clients use, {@code http://127.0.0.1:PORT}.
   *
   * @return the URL
   * @throws IllegalStateException if the fake zones are not running
   */
  public String url() {
    return "http://" + LOOPBACK + ":" + port();
  }

  /**
   * Returns this endpoint as a plain descriptor.
   *
   * @return the descriptor
   * @throws IllegalStateException if the fake zones are not running
   */
  public EndpointDescriptor descriptor() {
    return new EndpointDescriptor(url(), zone.region().name(), zone.name());
  }

  /**
   * Returns the WireMock server behind the proxy, for stubbing, verification and anything else
   * WireMock offers. Its own port is internal: connecting to it directly bypasses socket faults.
   *
   * @return the server
   * @throws IllegalStateException if the fake zones are not running
   */
  public WireMockServer server() {
    return running().server;
  }

  /**
   * Returns the fault this endpoint has now, if any (for a flapping fault, the flapping fault
   * itself, whether it is currently on or off).
   *
   * @return the fault, or empty when healthy
   */
  public Optional<ZoneFault> fault() {
    Applied a = applied;
    return a == null ? Optional.empty() : Optional.of(a.fault());
  }

  @Override
  public List<FakeEndpoint> fakeEndpoints() {
    return List.of(this);
  }

  @Override
  public String toString() {
    Node n = node;
    return "FakeEndpoint[" + zone.name() + "#" + index + (n == null ? "" : " " + url()) + "]";
  }

  // ---- lifecycle, called by FakeZones ----

  void start(
      ProxyLoop loop,
      ScheduledExecutorService scheduler,
      long seed,
      @Nullable Long backendIdleTimeoutMillis) {
    DaemonPool pool = new DaemonPool(containerThreads);
    DelayedResponses delayed = new DelayedResponses(pool, pool);
    WireMockServer server =
        new WireMockServer(
            options()
                .port(0)
                .bindAddress(LOOPBACK)
                .containerThreads(containerThreads)
                .threadPoolFactory(options -> pool)
                .httpServerFactory(delayed::server)
                // A delayed response waits in the request's asynchronous cycle: no time-out.
                .timeout(Integer.MAX_VALUE)
                .jettyAcceptors(1)
                .jettyIdleTimeout(backendIdleTimeoutMillis) // null: Jetty's default, 30 s
                .http2PlainDisabled(true)
                .stubRequestLoggingDisabled(true)
                .notifier(new QuietNotifier(zone.name() + "#" + index))
                .extensions(new FaultTransformer(this)));
    server.start();
    try {
      FaultProxy proxy = new FaultProxy(zone.name() + "-" + index, server.port(), loop);
      applied = null;
      node = new Node(server, proxy, delayed, scheduler, new Random(mix(seed)));
    } catch (IOException e) {
      server.stop();
      throw new UncheckedIOException("cannot start the proxy of " + this, e);
    } catch (RuntimeException | Error e) {
      server.stop();
      throw e;
    }
  }

  /**
   * WireMock's default Jetty pool with daemon threads (Jetty's are not daemons), so that a {@code
   * main()} that throws before {@code close()} still exits. It is also the server's {@link
   * Scheduler}: Jetty's connector takes the server's scheduler when it has one and otherwise starts
   * a scheduler thread of its own that is not a daemon either. The pool starts and stops it. The
   * endpoint's delayed responses wait on it too (see {@link DelayedResponses}), and are written on
   * the pool when due.
   */
  private static final class DaemonPool extends QueuedThreadPool implements Scheduler {
    private final ScheduledExecutorScheduler scheduler;

    DaemonPool(int threads) {
      super(threads);
      setDaemon(true);
      scheduler = new ScheduledExecutorScheduler(getName() + "-scheduler", true);
      addBean(scheduler);
    }

    @Override
    public Task schedule(Runnable task, long delay, TimeUnit units) {
      return scheduler.schedule(task, delay, units);
    }
  }

  /**
   * Closes the proxy (its sockets are closed when this returns; waits until {@code deadlineNanos}
   * at most), then stops the WireMock server.
   */
  void stop(long deadlineNanos) {
    Node n = node;
    node = null;
    applied = null;
    if (n != null) {
      try {
        n.proxy.close(deadlineNanos);
      } finally {
        n.server.stop();
      }
    }
  }

  /**
   * Heals, clears the journal and re-seeds the randomness, as at start. Unlike {@link
   * FakeTarget#heal()}, the connections a hang or blackhole fault holds with a request in them are
   * reset (TCP RST) rather than resumed, in the same step as the heal, so that nothing a test sent
   * into the fault reaches WireMock, its journal or a client after the reset; idle keep-alive ones
   * resume (see {@link FaultProxy#setMode(FaultProxy.Mode, boolean)}). First, the responses still
   * waiting for their delay are dropped (their connections closed), so that none is sent after the
   * reset.
   */
  void reset(long seed) {
    running().delayed.drop();
    apply(null, System.nanoTime(), true);
    Node n = running();
    n.server.resetRequests();
    n.random.setSeed(mix(seed));
  }

  FaultProxy proxy() {
    return running().proxy;
  }

  /** Responses waiting for their delay now; lets tests see them wait. */
  int delayedResponses() {
    return running().delayed.waiting();
  }

  private long mix(long seed) {
    return seed ^ ((globalIndex + 1) * 0x9E3779B97F4A7C15L);
  }

  private Node running() {
    Node n = node;
    if (n == null) {
      throw new IllegalStateException(
          "FakeZones is not running: call start(), or register it with @RegisterExtension");
    }
    return n;
  }

  // ---- faults ----

  void apply(@Nullable ZoneFault fault, long startNanos) {
    apply(fault, startNanos, false);
  }

  /** With {@code dropHeld}, resets the connections the fault in force holds instead of resuming. */
  private synchronized void apply(@Nullable ZoneFault fault, long startNanos, boolean dropHeld) {
    Node n = running();
    Applied a = fault == null ? null : new Applied(fault, startNanos, ++generation);
    applied = a;
    n.proxy.setMode(socketMode(a, System.nanoTime()), dropHeld);
    if (a != null
        && a.fault().kind() == ZoneFault.Kind.FLAPPING
        && a.fault().socketKind() != null) {
      scheduleFlap(n, a);
    }
  }

  private void scheduleFlap(Node n, Applied a) {
    long delay = a.nanosToNextSwitch(System.nanoTime());
    try {
      Future<?> unused = n.scheduler.schedule(() -> flap(a), delay, TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException e) {
      // Stopping: nothing left to switch.
    }
  }

  private synchronized void flap(Applied a) {
    Node n = node;
    if (n == null || !a.equals(applied)) {
      return; // healed, replaced or stopped: this cycle ends here
    }
    try {
      n.proxy.setMode(socketMode(a, System.nanoTime()));
    } finally {
      scheduleFlap(n, a);
    }
  }

  private static FaultProxy.Mode socketMode(@Nullable Applied a, long now) {
    ZoneFault f = a == null ? null : a.effectiveAt(now);
    if (f == null) {
      return FaultProxy.Mode.OPEN;
    }
    return switch (f.kind()) {
      case REFUSE -> FaultProxy.Mode.REFUSE;
      case HANG -> FaultProxy.Mode.HANG;
      case RESET -> FaultProxy.Mode.RESET;
      case BLACKHOLE -> FaultProxy.Mode.BLACKHOLE;
      default -> FaultProxy.Mode.OPEN;
    };
  }

  /**
   * Applies distance and HTTP faults to one response; called by WireMock for every request, on the
   * Jetty thread that handles it. A delay becomes the response's fixed delay, which WireMock's
   * servlet waits out without a thread (see {@link DelayedResponses}); a request that no stub
   * matched has its 404 held back by {@link DelayedResponses#delayUnmatched(long)} instead.
   */
  ResponseDefinition respond(ServeEvent event) {
    ResponseDefinition response = event.getResponseDefinition();
    Node n = node;
    if (n == null) {
      return response;
    }
    long delay = zone.distanceMillis();
    Applied a = applied;
    ZoneFault f = a == null ? null : a.effectiveAt(System.nanoTime());
    if (f != null && f.socketKind() == null && !f.spares(path(event.getRequest().getUrl()))) {
      switch (f.kind()) {
        case LATENCY -> {
          Latency latency = f.latencyDistribution();
          if (latency != null) {
            delay += latency.sampleMillis(n.random);
          }
        }
        case ERRORS -> {
          Latency extra = f.latencyDistribution();
          if (extra != null) {
            delay += extra.sampleMillis(n.random);
          }
          if (n.random.nextDouble() < f.rate()) {
            ResponseDefinitionBuilder error =
                ResponseDefinitionBuilder.responseDefinition().withStatus(f.status());
            Duration retryAfter = f.retryAfter();
            if (retryAfter != null) {
              error.withHeader(
                  "Retry-After", Long.toString(ZoneFault.retryAfterSeconds(retryAfter)));
            }
            response = error.build();
          }
        }
        case GARBAGE -> {
          Latency extra = f.latencyDistribution();
          if (extra != null) {
            delay += extra.sampleMillis(n.random);
          }
          if (n.random.nextDouble() < f.rate()) {
            response =
                ResponseDefinitionBuilder.responseDefinition()
                    .withFault(Fault.RANDOM_DATA_THEN_CLOSE)
                    .build();
          }
        }
        default -> {
          // Socket faults act in the proxy.
        }
      }
    }
    if (delay > 0) {
      if (!response.wasConfigured()) {
        DelayedResponses.delayUnmatched(delay); // WireMock's 404 takes no delay of a definition
        return response;
      }
      Integer own = response.getFixedDelayMilliseconds();
      long total = Math.min(Integer.MAX_VALUE, delay + (own == null ? 0 : own));
      response = ResponseDefinitionBuilder.like(response).withFixedDelay((int) total).build();
    }
    return response;
  }

  private static String path(String url) {
    int query = url.indexOf('?');
    return query < 0 ? url : url.substring(0, query);
  }

  /** A fault, the moment it was applied (the start of a flapping cycle), and which apply it was. */
  private record Applied(ZoneFault fault, long startNanos, long generation) {

    /** The fault in force at {@code now}: for flapping, the inner fault or none. */
    @Nullable ZoneFault effectiveAt(long now) {
      if (fault.kind() != ZoneFault.Kind.FLAPPING) {
        return fault;
      }
      long down = fault.down().toNanos();
      long cycle = down + fault.up().toNanos();
      long position = Math.floorMod(now - startNanos, cycle);
      return position < down ? fault.inner() : null;
    }

    long nanosToNextSwitch(long now) {
      long down = fault.down().toNanos();
      long cycle = down + fault.up().toNanos();
      long position = Math.floorMod(now - startNanos, cycle);
      return position < down ? down - position : cycle - position;
    }
  }

  /** What exists while running. */
  private record Node(
      WireMockServer server,
      FaultProxy proxy,
      DelayedResponses delayed,
      ScheduledExecutorService scheduler,
      Random random) {}
}
