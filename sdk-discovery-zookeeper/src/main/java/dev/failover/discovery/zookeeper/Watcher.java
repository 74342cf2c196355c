package dev.failover.discovery.zookeeper;

import dev.failover.Endpoint;
import dev.failover.EndpointSource.Updates;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.BlockingDeque;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.imps.CuratorFrameworkState;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.framework.state.ConnectionStateListener;
import org.apache.curator.retry.BoundedExponentialBackoffRetry;
import org.apache.curator.utils.ZKPaths;
import org.apache.curator.x.discovery.ServiceCache;
import org.apache.curator.x.discovery.ServiceInstance;
import org.apache.curator.x.discovery.details.InstanceSerializer;
import org.apache.curator.x.discovery.details.ServiceCacheListener;
import org.apache.curator.x.discovery.details.ServiceDiscoveryImpl;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.client.ZKClientConfig;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The source's worker: one thread that connects, opens the service cache, and turns cache changes
 * and connection changes into reports, in order.
 *
 * <p>Curator's threads only put {@link Signal}s on a queue; the worker takes them, coalesces what
 * has piled up, and decides from the batch and the connection's state now:
 *
 * <ul>
 *   <li>a suspended or lost connection: {@code failed()} at once;
 *   <li>reconnected (or a failure still to be cleared): the instances are read from ZooKeeper
 *       itself (not the cache, which may not have caught up) and reported;
 *   <li>a cache change: the cache's instances are reported;
 *   <li>for a while after such a read, the cache is checked once a second against what was reported
 *       (see {@link #settle()});
 *   <li>connected, with no signal for the confirm interval: the cache's instances are reported
 *       again, so that the client knows the list is still the registry's.
 * </ul>
 *
 * <p>When the cache's first contents are reported, what was signalled while it started is dropped:
 * its changes and the connection it was opened on are in those contents. A suspended or lost
 * connection is kept though, the latest one (see {@link #awaitCacheInitialized()}): the connection
 * may have dropped after the cache read its contents, and the outage must be reported at once, not
 * only at the next signal. A {@code CONNECTED} signal is never acted on: it announces the first
 * connection of a client, which the cache is always opened on.
 */
final class Watcher<T> {

  private static final Logger log = LoggerFactory.getLogger(ZooKeeperEndpointSource.class);

  /** How long the worker waits before it tries again after a failed read or cache start. */
  private static final long RETRY_MILLIS = 1_000;

  /** How long after a read from ZooKeeper itself the cache is checked against it. */
  private static final long SETTLE_MILLIS = 10_000;

  /**
   * How long the cache must be still after a change before the watch reports it, and the longest a
   * change in steps may keep it waiting: Curator's cache applies a change of many nodes (one
   * transaction, a mass deregistration) one node at a time, and each step reported alone is a small
   * shrink that the client's removal guard lets through.
   */
  private static final long QUIET_MILLIS = 200;

  private static final long MAX_QUIET_MILLIS = 2_000;

  /** How long {@link #close()} waits for the worker to end. */
  private static final long CLOSE_WAIT_MILLIS = 10_000;

  /** How long an own Curator client's close waits for ZooKeeper's I/O threads. */
  private static final int ZOOKEEPER_SHUTDOWN_MILLIS = 5_000;

  /**
   * How long the own client's ZooKeeper waits for the answer to one request, unless the system
   * property {@value ZKClientConfig#ZOOKEEPER_REQUEST_TIMEOUT} says otherwise. ZooKeeper's default
   * waits for ever, and its close sends a request: against a server that holds the connection and
   * answers nothing, close() would give up on its worker and leave ZooKeeper's threads running
   * until the connection timed out. Inside {@link #CLOSE_WAIT_MILLIS} with room for the threads to
   * end.
   */
  static final long REQUEST_TIMEOUT_MILLIS = 4_000;

  /** A cache change, or a connection state. */
  private record Signal(@Nullable ConnectionState state) {
    static final Signal CHANGED = new Signal(null);
  }

  // ---- configuration, immutable ----
  private final @Nullable String connectString;
  private final @Nullable CuratorFramework givenClient;
  private final String basePath;
  private final String serviceName;
  private final String servicePath;
  private final InstanceSerializer<T> serializer;
  private final InstanceMapper<T> mapper;
  private final Duration connectTimeout;

  /** How long a connected source that heard of no change waits before it reports its list again. */
  private final long confirmMillis;

  private final String description;

  // ---- any thread: Curator's listeners only offer ----
  private final BlockingDeque<Signal> signals = new LinkedBlockingDeque<>();
  private final ConnectionStateListener connectionListener =
      (client, state) -> connectionStateChanged(state);
  private final ServiceCacheListener cacheListener =
      new ServiceCacheListener() {
        @Override
        public void cacheChanged() {
          signals.offer(Signal.CHANGED);
        }

        @Override
        public void stateChanged(CuratorFramework client, ConnectionState state) {
          // Connection states arrive through connectionListener, added before the cache exists.
        }
      };

  // ---- guarded by lock ----
  private final Object lock = new Object();
  private @Nullable Updates updates;
  private @Nullable Thread worker;
  private boolean started;
  private boolean closed;
  private boolean exiting; // the worker has left its loop: close() interrupts it no more

  // ---- set by tests before start ----
  private volatile @Nullable Runnable cacheInitializedHook;

  // ---- only the worker thread (close() runs there when a listener calls it) ----
  private @Nullable CuratorFramework client; // the client in use, with our listener on it
  private @Nullable OwnThreads ownThreads; // set when the client is the source's own
  private @Nullable ExecutorService runSafe; // set when the client is the source's own
  private @Nullable ServiceDiscoveryImpl<T> discovery;
  private @Nullable ServiceCache<T> cache;
  private @Nullable CountDownLatch cacheInitialized;
  private boolean failing;
  private int failuresInARow;
  private List<Endpoint> lastReported = List.of();
  private long settleUntil; // System.nanoTime() until which settle() runs; 0: not settling

  Watcher(
      @Nullable String connectString,
      @Nullable CuratorFramework givenClient,
      String basePath,
      String serviceName,
      InstanceSerializer<T> serializer,
      InstanceMapper<T> mapper,
      Duration connectTimeout,
      Duration confirmInterval) {
    this.connectString = connectString;
    this.givenClient = givenClient;
    this.basePath = basePath;
    this.serviceName = serviceName;
    this.servicePath = ZKPaths.makePath(basePath, serviceName);
    this.serializer = serializer;
    this.mapper = mapper;
    this.connectTimeout = connectTimeout;
    this.confirmMillis = confirmInterval.toMillis();
    this.description =
        "zookeeper "
            + servicePath
            + (connectString != null ? " at " + connectString : " via a given Curator client");
  }

  String description() {
    return description;
  }

  /** What {@link #connectionListener} does with a connection state: queues it for the worker. */
  void connectionStateChanged(ConnectionState state) {
    signals.offer(new Signal(state));
  }

  /**
   * For tests: runs {@code hook} on the worker each time the cache's first contents are in, before
   * the signals that arrived meanwhile are sorted out and the contents reported; a connection state
   * it hands to {@link #connectionStateChanged} arrives at the moment the cache initialises.
   */
  void onCacheInitialized(Runnable hook) {
    cacheInitializedHook = Objects.requireNonNull(hook, "hook");
  }

  void start(Updates target) {
    CuratorFramework given = givenClient;
    if (given != null && given.getState() != CuratorFrameworkState.STARTED) {
      throw new IllegalStateException(
          "the curatorFramework of "
              + description
              + " must be started before the source starts but was "
              + given.getState());
    }
    synchronized (lock) {
      if (closed) {
        throw new IllegalStateException(description + " is closed");
      }
      if (started) {
        throw new IllegalStateException(description + " was started already");
      }
      started = true;
      updates = target;
      Thread thread = new Thread(this::run, "failover-zookeeper-" + serviceName);
      thread.setDaemon(true);
      worker = thread;
      thread.start();
    }
  }

  void close() {
    Thread thread;
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      updates = null;
      thread = worker;
      if (thread != null && thread != Thread.currentThread() && !exiting) {
        // Under the lock, with closed: a worker that sees closed (under the lock) has the
        // interrupt already and clears it, under the lock, before it cleans up. Sent after the
        // lock, it could land in the cleanup, and ZooKeeper's wait for its own threads to end
        // would return at once, leaving them running after close().
        thread.interrupt();
      }
    }
    if (thread == null) {
      return;
    }
    if (thread == Thread.currentThread()) {
      // From a listener of the client, on the worker: the worker ends as soon as the listener
      // returns, but the cache, the own client, its session and its threads are closed now.
      cleanUp();
      return;
    }
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(CLOSE_WAIT_MILLIS);
    if (!OwnThreads.join(thread, deadline)) {
      log.warn("{}: worker thread did not end within {} ms", description, CLOSE_WAIT_MILLIS);
    }
  }

  private boolean isClosed() {
    synchronized (lock) {
      return closed;
    }
  }

  // ---- the worker ----

  private void run() {
    try {
      CuratorFramework inUse = givenClient;
      if (inUse == null) {
        OwnThreads threads = new OwnThreads("failover-zookeeper-curator-" + serviceName);
        ownThreads = threads;
        ExecutorService executor = Executors.newSingleThreadExecutor(threads);
        runSafe = executor;
        inUse = ownClient(threads, executor);
        client = inUse;
        inUse.getConnectionStateListenable().addListener(connectionListener);
        inUse.start();
      } else {
        client = inUse;
        inUse.getConnectionStateListenable().addListener(connectionListener);
      }
      loop(inUse);
    } catch (InterruptedException e) {
      // close(): fall through to clean up
    } catch (RuntimeException | Error e) {
      if (isClosed()) {
        // Closed by a listener on this thread, which closed the client under the loop's feet.
        log.debug("{}: stopped after close", description, e);
      } else {
        log.error("{}: stopped watching after an unexpected error", description, e);
        fail(e);
      }
    } finally {
      synchronized (lock) {
        // Clean up without the interrupt that ended the loop; close() sends none after this.
        exiting = true;
        Thread.interrupted();
      }
      cleanUp();
    }
  }

  /**
   * Closes the cache and removes the source's listener from the client; closes the client too when
   * it is the source's own, and waits for its threads. On the worker, as its run ends, or in
   * close() when a listener called it there. Idempotent.
   */
  private void cleanUp() {
    closeCache();
    CuratorFramework inUse = client;
    OwnThreads threads = ownThreads;
    ExecutorService executor = runSafe;
    client = null;
    ownThreads = null;
    runSafe = null;
    if (inUse != null) {
      inUse.getConnectionStateListenable().removeListener(connectionListener);
    }
    if (threads != null && executor != null) {
      closeOwnClient(inUse, threads, executor);
    }
  }

  /**
   * Builds the source's own client. Its "run safe" executor is ours to shut down: Curator 5.9.0
   * leaves the one it makes itself running after close (apache/curator GH-1277).
   */
  private CuratorFramework ownClient(OwnThreads threads, ExecutorService runSafe) {
    int timeoutMillis = (int) connectTimeout.toMillis();
    return CuratorFrameworkFactory.builder()
        .connectString(Objects.requireNonNull(connectString))
        .connectionTimeoutMs(timeoutMillis)
        .retryPolicy(new BoundedExponentialBackoffRetry(100, 1_000, 3))
        .threadFactory(threads)
        .runSafeService(runSafe)
        .waitForShutdownTimeoutMs(ZOOKEEPER_SHUTDOWN_MILLIS)
        .zkClientConfig(zooKeeperConfig())
        .build();
  }

  private static ZKClientConfig zooKeeperConfig() {
    ZKClientConfig config = new ZKClientConfig();
    String key = ZKClientConfig.ZOOKEEPER_REQUEST_TIMEOUT;
    if (config.getProperty(key) == null && System.getProperty(key) == null) {
      config.setProperty(key, Long.toString(REQUEST_TIMEOUT_MILLIS));
    }
    return config;
  }

  private void closeOwnClient(
      @Nullable CuratorFramework client, OwnThreads threads, ExecutorService runSafe) {
    if (client != null) {
      try {
        client.close();
      } catch (RuntimeException e) {
        log.warn("{}: closing the Curator client failed", description, e);
      }
    }
    runSafe.shutdownNow();
    List<String> alive =
        threads.joinAll(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(CLOSE_WAIT_MILLIS / 2));
    if (!alive.isEmpty()) {
      log.warn("{}: Curator threads still alive after close: {}", description, alive);
    }
  }

  private void loop(CuratorFramework client) throws InterruptedException {
    while (!isClosed()) {
      if (cache == null) {
        openCache(client);
      } else if (cacheInitialized != null) {
        awaitCacheInitialized();
      } else {
        watch(client);
      }
    }
  }

  /** Connects (reporting a failure each connect timeout that passes) and starts the cache. */
  private void openCache(CuratorFramework client) throws InterruptedException {
    if (!client.getZookeeperClient().isConnected()
        && !client.blockUntilConnected((int) connectTimeout.toMillis(), TimeUnit.MILLISECONDS)) {
      fail(
          new IOException(
              "no connection to ZooKeeper ("
                  + description
                  + ") within "
                  + connectTimeout.toMillis()
                  + " ms"));
      return;
    }
    try {
      ServiceDiscoveryImpl<T> newDiscovery =
          new ServiceDiscoveryImpl<>(client, basePath, serializer, null, false);
      discovery = newDiscovery;
      newDiscovery.start();
      ServiceCache<T> newCache = newDiscovery.serviceCacheBuilder().name(serviceName).build();
      cache = newCache;
      newCache.addListener(cacheListener);
      cacheInitialized = newCache.startImmediate();
    } catch (InterruptedException e) {
      throw e;
    } catch (Exception e) {
      fail(e);
      closeCache();
      pause();
    }
  }

  /**
   * Reports the cache's first contents, or a failure each connect timeout that passes.
   *
   * <p>Of the signals that arrived while the cache started, cache changes and connections are
   * dropped: what they announced is in the contents read now (and a stale connection signal acted
   * on would read ZooKeeper again, which may fail on its own). The latest suspended or lost
   * connection among them is kept, at the head of the queue, for {@link #watch} to report at once:
   * the connection may have dropped after the cache read its contents, or just after it said so,
   * and no other signal may follow for as long as the session lasts. Once the connection is back (a
   * {@code RECONNECTED}, or the retry a failure brings), the instances are read again.
   */
  private void awaitCacheInitialized() throws InterruptedException {
    CountDownLatch latch = Objects.requireNonNull(cacheInitialized);
    if (latch.await(connectTimeout.toMillis(), TimeUnit.MILLISECONDS)) {
      cacheInitialized = null;
      Runnable hook = cacheInitializedHook;
      if (hook != null) {
        hook.run();
      }
      List<Signal> meanwhile = new ArrayList<>();
      signals.drainTo(meanwhile);
      Signal loss = null;
      for (Signal signal : meanwhile) {
        if (isLoss(signal.state())) {
          loss = signal;
        }
      }
      if (loss != null) {
        // Ahead of any signal that arrived since the drain: they came after it.
        signals.offerFirst(loss);
      }
      report(Objects.requireNonNull(cache).getInstances());
    } else {
      fail(
          new IOException(
              "ZooKeeper did not list "
                  + servicePath
                  + " within "
                  + connectTimeout.toMillis()
                  + " ms ("
                  + description
                  + ")"));
    }
  }

  /** Waits for signals and reports what they mean; see the class comment. */
  private void watch(CuratorFramework client) throws InterruptedException {
    boolean timed = failing || settleUntil != 0;
    Signal first = signals.poll(timed ? RETRY_MILLIS : confirmMillis, TimeUnit.MILLISECONDS);
    // Nothing happened for confirmMillis: the list the watch holds is vouched for again below.
    boolean confirm = first == null && !timed;
    List<Signal> batch = new ArrayList<>();
    if (first != null) {
      batch.add(first);
    }
    signals.drainTo(batch);
    ConnectionState loss = null;
    boolean reconnected = false;
    boolean changed = false;
    for (Signal signal : batch) {
      ConnectionState state = signal.state();
      if (state == null) {
        changed = true;
      } else if (isLoss(state)) {
        loss = state;
      } else if (state.isConnected() && state != ConnectionState.CONNECTED) {
        // RECONNECTED (or READ_ONLY). CONNECTED is the client's first connection, which the cache
        // was opened on: acted on, late, it would only read ZooKeeper again for nothing.
        reconnected = true;
      }
    }
    if (loss != null && !failing) {
      fail(new IOException("ZooKeeper connection " + loss + " (" + description + ")"));
      if (isClosed()) {
        return; // by the listener told of it: the client may be closed already
      }
    }
    if (!client.getZookeeperClient().isConnected()) {
      if (!failing) {
        fail(new IOException("ZooKeeper is not connected (" + description + ")"));
      }
      return;
    }
    if (reconnected || failing) {
      List<ServiceInstance<T>> instances;
      try {
        instances = readFromZooKeeper(client);
      } catch (InterruptedException e) {
        throw e;
      } catch (Exception e) {
        fail(e);
        return;
      }
      report(instances);
      settleUntil = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(SETTLE_MILLIS);
    } else if (changed) {
      if (awaitQuiet()) {
        report(Objects.requireNonNull(cache).getInstances());
      }
    } else if (confirm) {
      report(Objects.requireNonNull(cache).getInstances());
    } else if (settleUntil != 0) {
      settle();
    }
  }

  /**
   * Waits until the cache has had no change for {@link #QUIET_MILLIS} (at most {@link
   * #MAX_QUIET_MILLIS}), so that a change that arrives in steps is reported whole. Returns false,
   * with the signal put back ahead of a change, when the connection's state changed meanwhile:
   * acted on first, by the next turn.
   */
  private boolean awaitQuiet() throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(MAX_QUIET_MILLIS);
    while (true) {
      long left = TimeUnit.NANOSECONDS.toMillis(end - System.nanoTime());
      if (left <= 0) {
        return true;
      }
      Signal next = signals.poll(Math.min(QUIET_MILLIS, left), TimeUnit.MILLISECONDS);
      if (next == null) {
        return true;
      }
      if (next.state() != null) {
        signals.offerFirst(Signal.CHANGED);
        signals.offerFirst(next);
        return false;
      }
    }
  }

  private static boolean isLoss(@Nullable ConnectionState state) {
    return state == ConnectionState.SUSPENDED || state == ConnectionState.LOST;
  }

  /**
   * After a read from ZooKeeper itself, checks once a second for {@link #SETTLE_MILLIS} that the
   * cache, which is rebuilding itself meanwhile, agrees with what was reported. The read is a
   * snapshot: a registering side that re-registers on its own reconnection (Curator deletes and
   * re-creates the node) may be caught half-way, and a cache that ends where it began sends no
   * change. Once settled, the cache's changes are the source's only reports.
   */
  private void settle() {
    if (System.nanoTime() - settleUntil > 0) {
      settleUntil = 0;
    }
    List<ServiceInstance<T>> instances = Objects.requireNonNull(cache).getInstances();
    if (!mapper.endpoints(instances).equals(lastReported)) {
      log.debug("{}: the settled cache differs from the read after reconnecting", description);
      report(instances);
    }
  }

  /**
   * Reads every instance from ZooKeeper itself; an instance that cannot be read is left out (its
   * data is logged by the serializer's exception), an instance gone meanwhile too.
   */
  private List<ServiceInstance<T>> readFromZooKeeper(CuratorFramework client) throws Exception {
    List<String> ids;
    try {
      ids = client.getChildren().forPath(servicePath);
    } catch (KeeperException.NoNodeException e) {
      return List.of();
    }
    List<ServiceInstance<T>> instances = new ArrayList<>(ids.size());
    for (String id : ids) {
      byte[] data;
      try {
        data = client.getData().forPath(ZKPaths.makePath(servicePath, id));
      } catch (KeeperException.NoNodeException e) {
        continue;
      }
      try {
        instances.add(serializer.deserialize(data));
      } catch (InterruptedException e) {
        throw e;
      } catch (Exception | Error e) {
        // The serializer may be the application's: an Error too leaves this instance out (it
        // reached the worker's loop and ended the watch for good).
        log.warn("{}: instance {} left out: it could not be read: {}", description, id, e);
      }
    }
    return instances;
  }

  private void report(List<ServiceInstance<T>> instances) {
    List<Endpoint> endpoints = mapper.endpoints(instances);
    Updates target = target();
    if (target == null) {
      return;
    }
    if (failing) {
      log.info(
          "{}: ZooKeeper answers again; {} endpoints from {} instances",
          description,
          endpoints.size(),
          instances.size());
    }
    failing = false;
    failuresInARow = 0;
    lastReported = List.copyOf(endpoints);
    try {
      target.endpoints(lastReported);
    } catch (RuntimeException | Error e) {
      // An Error too (a StackOverflowError from an application listener): escaping, it ended the
      // worker's loop, and the client never got another list.
      log.warn("{}: the client's endpoints() threw; ignored", description, e);
    }
  }

  private void fail(Throwable cause) {
    Updates target = target();
    if (target == null) {
      return;
    }
    failuresInARow++;
    if (!failing) {
      log.warn("{}: cannot read the service's instances: {}", description, cause.toString());
    } else {
      log.debug("{}: still failing ({} in a row): {}", description, failuresInARow, cause);
    }
    failing = true;
    try {
      target.failed(cause);
    } catch (RuntimeException | Error e) {
      // An Error too, as in report(): the watch goes on.
      log.warn("{}: the client's failed() threw; ignored", description, e);
    }
  }

  private @Nullable Updates target() {
    synchronized (lock) {
      return updates;
    }
  }

  private void closeCache() {
    ServiceCache<T> oldCache = cache;
    ServiceDiscoveryImpl<T> oldDiscovery = discovery;
    cache = null;
    discovery = null;
    cacheInitialized = null;
    if (oldCache != null) {
      try {
        oldCache.close();
      } catch (IOException | RuntimeException e) {
        log.debug("{}: closing the service cache failed", description, e);
      }
    }
    if (oldDiscovery != null) {
      try {
        oldDiscovery.close();
      } catch (IOException | RuntimeException e) {
        log.debug("{}: closing the service discovery failed", description, e);
      }
    }
  }

  /** Waits before the next try; close() interrupts it (none when closed by a listener). */
  private void pause() throws InterruptedException {
    if (!isClosed()) {
      Thread.sleep(RETRY_MILLIS);
    }
  }
}
