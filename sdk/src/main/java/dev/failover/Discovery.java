package dev.failover;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * The client's side of its {@link EndpointSource}: decides which reported lists to apply (static
 * stability: failures, empty lists and lists that remove too much at once are held, and the client
 * serves from the last good list), applies them to the router and the health checker, and keeps
 * what the snapshot shows. Events are emitted after the lock is released.
 */
final class Discovery implements EndpointSource.Updates {

  /** Why the source's answers are not applied. */
  private enum HoldKind {
    FAILED,
    EMPTY,
    REMOVAL
  }

  private final String service;
  private final @Nullable EndpointSource source;
  private final String description;
  private final DiscoveryPolicy policy;
  private final Clock clock;
  private final Ticker ticker;

  /**
   * What {@link #inUse()} and {@link #snapshot()} return, published after every change: reading
   * them takes no lock, so a listener that reads the snapshot while another lock of the client is
   * held (zone events are emitted under the zones' lock) cannot deadlock with a list being applied.
   */
  private volatile List<Endpoint> inUseView = List.of();

  private volatile FailoverSnapshot.@Nullable Discovery view;

  // Guarded by this.
  private @Nullable ClientCore core;
  private boolean closed;
  private @Nullable List<Endpoint> early;
  private @Nullable Throwable lastFailure;

  /** Whether the last report taken was a failure (a list since then clears it), for attach. */
  private boolean failedLast;

  private List<Endpoint> inUse = List.of();
  private FailoverSnapshot.ListStatus status;
  private @Nullable String reason;
  private @Nullable HoldKind holdKind;
  private Instant lastGood;
  private final Instant lastGoodAtStart;

  /**
   * Whether the client still routes over its fallback list: no list from the source was applied
   * yet. The status says FALLBACK too, until a hold turns it STALE; this does not change with it.
   */
  private boolean onFallback = true;

  private @Nullable Instant heldSince;
  private long heldSinceNanos;
  private boolean staleReported;
  private long updates;
  private long held;
  private @Nullable List<Endpoint> pendingRemoval;
  private long pendingSince;

  /** The number of the last report of the client's relay taken ({@link #outOfOrder}). */
  private long lastReport;

  /** A client whose endpoints were given to the builder and never change. */
  static Discovery fixed(String service, List<Endpoint> endpoints, Clock clock, Ticker ticker) {
    Discovery d = new Discovery(service, null, "static", DiscoveryPolicy.defaults(), clock, ticker);
    d.inUse = List.copyOf(endpoints);
    d.status = FailoverSnapshot.ListStatus.STATIC;
    d.updates = 1;
    d.publish();
    return d;
  }

  /** A client fed by {@code source}; {@link EndpointSource#start} is the caller's to call. */
  public static Discovery of(
      String service, EndpointSource source, DiscoveryPolicy policy, Clock clock, Ticker ticker) {
    return new Discovery(service, source, source.description(), policy, clock, ticker);
  }

  private Discovery(
      String service,
      @Nullable EndpointSource source,
      String description,
      DiscoveryPolicy policy,
      Clock clock,
      Ticker ticker) {
    this.service = service;
    this.source = source;
    this.description = description;
    this.policy = policy;
    this.clock = clock;
    this.ticker = ticker;
    this.status = FailoverSnapshot.ListStatus.FALLBACK;
    this.lastGood = clock.instant();
    this.lastGoodAtStart = lastGood;
  }

  public @Nullable EndpointSource source() {
    return source;
  }

  public String description() {
    return description;
  }

  /**
   * Waits up to {@code timeout} for the source's first non-empty list, before the client exists.
   * Returns it, or null.
   */
  public synchronized @Nullable List<Endpoint> awaitFirst(Duration timeout)
      throws InterruptedException {
    long end = System.nanoTime() + timeout.toNanos();
    while (early == null || early.isEmpty()) {
      long left = end - System.nanoTime();
      if (left <= 0 || closed) {
        return null;
      }
      TimeUnit.NANOSECONDS.timedWait(this, left);
    }
    return early;
  }

  /** The last failure reported before the client existed, for the error message of build(). */
  public synchronized @Nullable Throwable lastFailure() {
    return lastFailure;
  }

  /**
   * Connects the client. {@code initial} is what the router was built with: the source's first list
   * when {@code fromSource}, else the fallback endpoints.
   */
  void attach(ClientCore core, List<Endpoint> initial, boolean fromSource) {
    List<FailoverEvent> out = new ArrayList<>();
    synchronized (this) {
      this.core = core;
      inUse = List.copyOf(initial);
      lastGood = clock.instant();
      List<Endpoint> later = early;
      early = null;
      // What the source reported before the client existed counts as it would have after: its
      // last list (a non-empty one replaces the fallback, an empty one is held), then a failure
      // reported after that list.
      if (fromSource) {
        onFallback = false;
        status = FailoverSnapshot.ListStatus.CURRENT;
        updates = 1;
        if (later != null && !later.equals(initial)) {
          offer(later, out);
        }
      } else {
        status = FailoverSnapshot.ListStatus.FALLBACK;
        if (later != null) {
          offer(later, out);
        }
      }
      Throwable failure = lastFailure;
      if (failedLast && failure != null) {
        pendingRemoval = null;
        hold(HoldKind.FAILED, "the source failed: " + describe(failure), out);
      }
      publish();
    }
    emit(out);
  }

  /** The list in use, and whether the source gave it (the fallback no longer serves). */
  record InUse(List<Endpoint> endpoints, boolean fromSource) {}

  /** The list in use and where it came from, read together (a list may land between two reads). */
  synchronized InUse inUseAndOrigin() {
    return new InUse(inUse, !onFallback);
  }

  @Override
  public void endpoints(List<Endpoint> endpoints) {
    endpoints(endpoints, 0);
  }

  /**
   * A list the client's relay numbered {@code report} (from 1 on; 0 for none): a report older than
   * the last one taken is dropped. Two threads of a source may report at once, and each hands its
   * report on outside the relay's lock: the older one must not land last.
   */
  void endpoints(List<Endpoint> endpoints, long report) {
    List<Endpoint> list = dedupe(Objects.requireNonNull(endpoints, "endpoints"));
    List<FailoverEvent> out = new ArrayList<>();
    synchronized (this) {
      if (closed || outOfOrder(report)) {
        return;
      }
      failedLast = false;
      if (core == null) {
        early = list;
        notifyAll();
        return;
      }
      offer(list, out);
      publish();
    }
    emit(out);
  }

  @Override
  public void failed(Throwable cause) {
    failed(cause, 0);
  }

  /** A failure the client's relay numbered {@code report}; see {@link #endpoints(List, long)}. */
  void failed(Throwable cause, long report) {
    List<FailoverEvent> out = new ArrayList<>();
    synchronized (this) {
      if (closed || outOfOrder(report)) {
        return;
      }
      lastFailure = cause;
      failedLast = true;
      if (core == null) {
        return;
      }
      pendingRemoval = null;
      hold(HoldKind.FAILED, "the source failed: " + describe(cause), out);
      publish();
    }
    emit(out);
  }

  /**
   * Called about once a second from the client's scheduler: applies a confirmed removal, reports a
   * stale list. Its events reach listeners on the dispatcher's threads.
   */
  void tick() {
    List<FailoverEvent> out = new ArrayList<>();
    synchronized (this) {
      if (closed || core == null) {
        return;
      }
      long now = ticker.nanos();
      List<Endpoint> pending = pendingRemoval;
      if (pending != null && now - pendingSince >= policy.removalConfirmation().toNanos()) {
        apply(pending, out);
      }
      Instant since = heldSince;
      if (since != null
          && !staleReported
          && now - heldSinceNanos >= policy.maxStaleness().toNanos()) {
        staleReported = true;
        status = FailoverSnapshot.ListStatus.STALE;
        out.add(
            new FailoverEvent.EndpointListStale(
                service,
                description,
                Duration.ofNanos(now - heldSinceNanos),
                Objects.requireNonNullElse(reason, "")));
      }
      publish();
    }
    if (out.isEmpty()) {
      return;
    }
    // tick() runs on the client's scheduler thread, where no listener may run: hand the events to
    // the dispatcher's threads, as calls' callbacks are.
    ClientCore c = Objects.requireNonNull(core);
    try {
      c.callbackExecutor().execute(() -> emit(out));
    } catch (java.util.concurrent.RejectedExecutionException e) {
      emit(out); // the client is closing
    }
  }

  /**
   * Stops taking reports and judging the list: when the client closes, or when a core replaces the
   * one this intake belongs to. The list in use and the snapshot stay as they are.
   */
  void close() {
    synchronized (this) {
      closed = true;
      notifyAll();
    }
  }

  List<Endpoint> inUse() {
    return inUseView;
  }

  FailoverSnapshot.Discovery snapshot() {
    FailoverSnapshot.Discovery v = view;
    return v != null
        ? v
        : new FailoverSnapshot.Discovery(
            description,
            FailoverSnapshot.ListStatus.FALLBACK,
            null,
            lastGoodAtStart,
            null,
            0,
            0,
            0);
  }

  /** Publishes the state for lock-free readers; called at the end of every change, locked. */
  private void publish() {
    inUseView = inUse;
    view =
        new FailoverSnapshot.Discovery(
            description, status, reason, lastGood, heldSince, inUse.size(), updates, held);
  }

  // ---- under the lock ----

  /** Whether report number {@code report} is older than one already taken; takes it if not. */
  private boolean outOfOrder(long report) {
    if (report <= 0) {
      return false;
    }
    if (report <= lastReport) {
      return true;
    }
    lastReport = report;
    return false;
  }

  private void offer(List<Endpoint> list, List<FailoverEvent> out) {
    if (list.isEmpty()) {
      pendingRemoval = null;
      hold(HoldKind.EMPTY, "the source reported no endpoints", out);
      return;
    }
    if (onFallback) {
      // The source's first list replaces the fallback, whatever it removes, also once a source
      // that failed from the start has been held long enough to be reported STALE.
      apply(list, out);
      return;
    }
    Set<String> next = new HashSet<>();
    for (Endpoint e : list) {
      next.add(e.address());
    }
    int removed = 0;
    for (Endpoint e : inUse) {
      if (!next.contains(e.address())) {
        removed++;
      }
    }
    int added = list.size() - (inUse.size() - removed);
    // What is held is a list that shrinks: a registry that lost its data, a partitioned registry
    // node or one half-way through a restore answers with fewer members, not with as many others.
    // So the net loss counts, not the members replaced: a single replica replaced by its successor,
    // or most members replaced in one answer (a rolling restart faster than the poll, DNS answers
    // that rotate), is applied at once, since the old members are most likely gone.
    int shrinkage = inUse.size() - list.size();
    // A list that leaves the home zone without an endpoint moves every call out of it: held as a
    // large shrinkage is, whatever its share (a lagging DNS server's NXDOMAIN for the home zone's
    // name, a registry that lost one zone's instances); not with maxRemovalPercent 100, which
    // applies every non-empty list at once.
    Locality home = Objects.requireNonNull(core).settings.home();
    boolean homeEmptied =
        policy.maxRemovalPercent() < 100 && hasZone(inUse, home) && !hasZone(list, home);
    if (homeEmptied || shrinkage * 100L > (long) policy.maxRemovalPercent() * inUse.size()) {
      long now = ticker.nanos();
      List<Endpoint> pending = pendingRemoval;
      if (pending == null || !sameAddresses(pending, list)) {
        pendingRemoval = list;
        pendingSince = now;
      } else {
        pendingRemoval = list; // same members; take its latest weights and zones
      }
      if (now - pendingSince >= policy.removalConfirmation().toNanos()) {
        apply(list, out);
        return;
      }
      hold(
          HoldKind.REMOVAL,
          "the source's list would remove "
              + removed
              + " of "
              + inUse.size()
              + " endpoints at once"
              + (added > 0 ? " and add " + added : "")
              + " ("
              + (homeEmptied
                  ? "every endpoint of the home zone " + home.zone()
                  : inUse.size()
                      + " to "
                      + list.size()
                      + " endpoints: fewer by more than "
                      + policy.maxRemovalPercent()
                      + "%")
              + "); applied if the source keeps reporting it for "
              + policy.removalConfirmation().toSeconds()
              + " s",
          out);
      return;
    }
    apply(list, out);
  }

  private static boolean hasZone(List<Endpoint> endpoints, Locality zone) {
    for (Endpoint e : endpoints) {
      if (e.locality().equals(zone)) {
        return true;
      }
    }
    return false;
  }

  private void apply(List<Endpoint> list, List<FailoverEvent> out) {
    ClientCore c = Objects.requireNonNull(core);
    // The source's first list, replacing the fallback, is applied as a client built on it starts:
    // without slow start. Its endpoints and zones are new to the client but not to the service, and
    // ramping them (a home zone the fallback did not have at a tenth of its weight) would send the
    // home zone's calls to other zones and regions for the ramp.
    Router.Change change = c.applyEndpoints(list, !onFallback);
    inUse = list;
    onFallback = false;
    status = FailoverSnapshot.ListStatus.CURRENT;
    reason = null;
    holdKind = null;
    heldSince = null;
    staleReported = false;
    pendingRemoval = null;
    lastGood = clock.instant();
    updates++;
    if (!change.isEmpty()) {
      out.add(
          new FailoverEvent.EndpointsChanged(
              service,
              description,
              change.added().stream().map(s -> s.endpoint).toList(),
              change.removed().stream().map(s -> s.endpoint).toList(),
              list.size()));
    }
  }

  private void hold(HoldKind kind, String why, List<FailoverEvent> out) {
    held++;
    reason = why;
    if (heldSince == null) {
      heldSince = clock.instant();
      heldSinceNanos = ticker.nanos();
    }
    if (status == FailoverSnapshot.ListStatus.CURRENT) {
      status = FailoverSnapshot.ListStatus.HELD;
    }
    if (holdKind != kind) {
      holdKind = kind;
      out.add(new FailoverEvent.EndpointListHeld(service, description, why, inUse.size()));
    }
  }

  private void emit(List<FailoverEvent> out) {
    ClientCore c;
    synchronized (this) {
      c = core;
    }
    if (c != null) {
      for (FailoverEvent e : out) {
        c.events.emit(e);
      }
    }
  }

  private static boolean sameAddresses(List<Endpoint> a, List<Endpoint> b) {
    if (a.size() != b.size()) {
      return false;
    }
    Set<String> s = new HashSet<>();
    for (Endpoint e : a) {
      s.add(e.address());
    }
    for (Endpoint e : b) {
      if (!s.contains(e.address())) {
        return false;
      }
    }
    return true;
  }

  /** Keeps the first entry of an address given twice. */
  private static List<Endpoint> dedupe(List<Endpoint> endpoints) {
    Map<String, Endpoint> byAddress = new LinkedHashMap<>();
    for (Endpoint e : endpoints) {
      byAddress.putIfAbsent(Objects.requireNonNull(e, "endpoint").address(), e);
    }
    return byAddress.size() == endpoints.size()
        ? List.copyOf(endpoints)
        : List.copyOf(byAddress.values());
  }

  /** A failure's type and message, without a stack trace; sources keep credentials out of it. */
  public static String describe(Throwable t) {
    String m = t.getMessage();
    return t.getClass().getSimpleName() + (m == null || m.isBlank() ? "" : ": " + m);
  }
}
