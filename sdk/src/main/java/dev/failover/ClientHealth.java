package dev.failover;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Whether the client itself is the slow party: its scheduler runs late (a JVM pause, a saturated
 * host, a cold JVM), or it started moments ago. While it is, and for a grace period after, the
 * slowness its attempts see (timeouts, races lost to hedges, high latency) is not charged to
 * endpoints or zones; refusals and error statuses still are.
 *
 * <p>The detector is a jHiccup-style tick: a task on the client's scheduler that expects to run
 * every {@link #TICK_NANOS} and measures how late it runs. A stop-the-world pause, a starved CPU or
 * a stalled scheduler all show up as lateness, and they are exactly what would make every attempt
 * look slow. Lateness above {@link #STALL_THRESHOLD_NANOS} marks a stall that lasts until the tick
 * runs on time again plus {@link #GRACE_NANOS}. Slowness reported from two regions at once ({@link
 * #slowIn}) marks a stall too, which measured no lateness: it stops latency from judging zones but
 * explains no timeout ({@link #explains}). A tick overdue by more than the threshold counts as a
 * stall as it is (the tick marks it once it runs). In the first {@link #STARTUP_GRACE_NANOS} after
 * the client was built, latency is not used to judge zones ({@link #latencyUntrusted}).
 */
final class ClientHealth {
  static final long TICK_NANOS = TimeUnit.MILLISECONDS.toNanos(20);
  static final long STALL_THRESHOLD_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
  static final long GRACE_NANOS = TimeUnit.SECONDS.toNanos(2);
  static final long SLICE_NANOS = TimeUnit.MILLISECONDS.toNanos(500);
  static final long STARTUP_GRACE_NANOS = TimeUnit.SECONDS.toNanos(5);

  /**
   * The longest an overdue tick counts as a stall before it runs: a tick later than this is taken
   * for one that no longer runs (a scheduler stuck, or shut down with {@code shutdownNow}, which
   * does not cancel periodic tasks), which must not excuse timeouts for good. A pause that long is
   * still measured by the tick once it runs.
   */
  static final long MAX_OVERDUE_NANOS = TimeUnit.SECONDS.toNanos(10);

  private static final org.slf4j.Logger NETWORK_LOG =
      org.slf4j.LoggerFactory.getLogger("dev.failover.FailoverClient");

  private final String service;
  private final Events events;
  private final long startupUntil;
  private final AtomicLong stalledUntil;
  private final AtomicLong stallsSeen = new AtomicLong();

  // Guarded by this: the lateness the tick measured, for {@link #explains}. The worst in the last
  // GRACE_NANOS (a long pause explains timeouts for as long as it keeps the client stalled, not for
  // as long as shorter pauses after it do), and the latest, which takes over when the worst is
  // older.
  private long worstRecent;
  private long worstRecentAt = Long.MIN_VALUE;
  private long latest;
  private long latestAt = Long.MIN_VALUE;

  // Guarded by this; also published in tickDue for reads without the lock.
  private long expected;

  /**
   * The tick's recent lateness, for {@link #explains}: when each late tick ran, and how late, the
   * last {@link #LATE_TICKS} of at least {@link #MIN_LATE_NANOS} (lateness below that is a
   * scheduler's jitter). A host starved for good (far more runnable threads than cores) makes every
   * tick late by less than half an attempt, yet their lateness together takes up most of the
   * attempt's time: the client, not the endpoint, was absent for it. Guarded by this.
   */
  private final long[] lateAt = new long[LATE_TICKS];

  private final long[] lateBy = new long[LATE_TICKS];
  private int lateNext;
  private int lateCount;

  static final int LATE_TICKS = 128;
  static final long MIN_LATE_NANOS = TimeUnit.MILLISECONDS.toNanos(5);

  /**
   * When the next tick is due ({@link #expected}), for {@link #overdue}: results handled after a
   * pause and before the tick runs again see the stall the tick has yet to measure.
   */
  private volatile long tickDue;

  /** False once the tick is stopped ({@link #stopTicking}): an overdue tick then means nothing. */
  private volatile boolean ticking = true;

  /**
   * The tick's scheduled task, once scheduled: a task that ended (its scheduler was shut down, or
   * it threw) is not overdue but gone, and judgement goes on without it.
   */
  private volatile java.util.concurrent.@org.jspecify.annotations.Nullable Future<?> tickTask;

  /** The scheduler that runs the tick, once scheduled: shut down, it runs no more ticks. */
  private volatile java.util.concurrent.@org.jspecify.annotations.Nullable ExecutorService
      tickScheduler;

  private long stallStartedAt = Long.MIN_VALUE;
  private long worstLateness;
  private long slowSlice = Long.MIN_VALUE;
  private String slowRegion = "";
  private long unreachableSlice = Long.MIN_VALUE;
  private @org.jspecify.annotations.Nullable Locality unreachableZone;

  /** The zones found unreachable since the network was marked down (its episode). */
  private final java.util.Set<Locality> downZones = new java.util.HashSet<>();

  /**
   * When the episode began: it excuses nothing past {@link #MAX_DOWN_NANOS}. A mark that lapses and
   * comes back within that time (calls seconds apart, bursts) is the same episode.
   */
  private long downSince;

  /**
   * Zones found unreachable while another zone answered, and until when: the client's network
   * works, those are unreachable from it; a pair with one of them marks nothing meanwhile.
   */
  private final Map<Locality, Long> partialUntil = new java.util.HashMap<>();

  /** How long a zone unreachable while another answered is taken to be so. */
  static final long PARTIAL_NANOS = TimeUnit.SECONDS.toNanos(60);

  /**
   * The longest the network is taken to be down without news: past it, such failures count again
   * (never corroborating an outage, so passive evidence's cap bounds what they do): a pair that
   * never let a third zone be tried (calls with two attempts, no health checks elsewhere) or a real
   * outage answered by routers' ICMP would otherwise be excused for good.
   */
  static final long MAX_DOWN_NANOS = TimeUnit.SECONDS.toNanos(30);

  /** How long the zones of an episode that reached {@link #MAX_DOWN_NANOS} count as their own. */
  static final long CAPPED_NANOS = TimeUnit.MINUTES.toNanos(10);

  /** Until when the client's own network is taken to be down ({@link #unreachableIn}). */
  private volatile long networkDownUntil;

  /**
   * Until when the episode is open: {@link #MAX_DOWN_NANOS} after the mark last ran out, unless a
   * success the network answered closed it before ({@link #answered}). Successes read it.
   */
  private volatile long episodeUntil;

  ClientHealth(String service, Events events, long now, long startupGraceNanos) {
    this.service = service;
    this.events = events;
    this.startupUntil = now + startupGraceNanos;
    this.stalledUntil = new AtomicLong(now);
    this.networkDownUntil = now;
    this.episodeUntil = now;
    this.expected = now + TICK_NANOS;
    this.tickDue = expected;
  }

  /**
   * Whether slowness seen at {@code now} is the client's own: a stall or its grace period, or a
   * tick overdue by more than {@link #STALL_THRESHOLD_NANOS} (the client is paused, or the results
   * of a pause arrive before the tick has run to measure it).
   */
  boolean stalled(long now) {
    return now - stalledUntil.get() < 0 || overdue(now) > STALL_THRESHOLD_NANOS;
  }

  /** How late the tick is at {@code now} (negative when it is not yet due, or not running). */
  private long overdue(long now) {
    if (!ticking) {
      return Long.MIN_VALUE;
    }
    long late = now - tickDue;
    if (late > STALL_THRESHOLD_NANOS) {
      java.util.concurrent.Future<?> task = tickTask;
      java.util.concurrent.ExecutorService runner = tickScheduler;
      if (late > MAX_OVERDUE_NANOS
          || (task != null && task.isDone())
          || (runner != null && runner.isShutdown())) {
        return Long.MIN_VALUE;
      }
    }
    return late;
  }

  /** The tick is stopped (the configuration was replaced, or the client closes). */
  void stopTicking() {
    ticking = false;
  }

  /** The tick's first run is due {@link #TICK_NANOS} after {@code now}: it is being scheduled. */
  synchronized void restartTick(long now) {
    expected = now + TICK_NANOS;
    tickDue = expected;
  }

  /**
   * The tick's scheduled task and its scheduler: once the task ended or the scheduler was shut
   * down, the tick is no longer overdue but gone.
   */
  void watchTick(java.util.concurrent.Future<?> task, java.util.concurrent.ExecutorService runner) {
    this.tickTask = task;
    this.tickScheduler = runner;
  }

  /**
   * Whether the client's own stall explains an attempt that took {@code durationNanos}: a stall is
   * in force and the tick measured, in the last {@link #GRACE_NANOS}, lateness at least half that
   * long, or the lateness of the ticks within the attempt's time adds up to half of it (a host
   * starved for good, every tick late by less). A client 60 ms late once does not explain a 333 ms
   * timeout; it is charged to the endpoint as usual. Slowness in two regions at once ({@link
   * #slowIn}) explains none: it is evidence that the client is slow, not of how slow, and a region
   * that fails outright next to one with the odd timeout would otherwise pass for it.
   */
  boolean explains(long durationNanos, long now) {
    if (!stalled(now)) {
      return false;
    }
    long lateness;
    long from = now - durationNanos;
    long within = 0;
    synchronized (this) {
      lateness = recent(worstRecentAt, now) ? worstRecent : recent(latestAt, now) ? latest : 0;
      // The lateness of every tick within the attempt's time, added up: a host starved for good.
      for (int i = 1; i <= lateCount; i++) {
        int k = Math.floorMod(lateNext - i, LATE_TICKS);
        if (lateAt[k] - from <= 0) {
          break; // this one, and those before it, ended before the attempt began
        }
        within += overlap(lateAt[k] - lateBy[k], lateAt[k], from, now);
      }
    }
    long overdue = overdue(now);
    if (overdue > STALL_THRESHOLD_NANOS) {
      // A pause still going on, or whose results come before the tick that measures it.
      lateness = Math.max(lateness, overdue);
      within += overlap(tickDue, now, from, now);
    }
    return (lateness > 0 && 2 * lateness >= durationNanos)
        || (within > 0 && 2 * within >= durationNanos);
  }

  /**
   * How much of a pause of the client (a recent lateness of the tick, or the tick overdue now) fell
   * between {@code from} and {@code to}: an attempt that started at {@code from} went through that
   * much of it, which one started at {@code to} never saw. 0 if none did.
   */
  long pauseWithin(long from, long to, long now) {
    long within = 0;
    long overdue = overdue(now);
    if (overdue > STALL_THRESHOLD_NANOS) {
      within = overlap(tickDue, now, from, to); // a pause still going on, begun when it was due
    }
    synchronized (this) {
      // The worst and the latest pauses the tick measured: distinct ones add up (the tick's
      // measurements never overlap), the same one counts once.
      long worst =
          recent(worstRecentAt, now) && worstRecent > 0
              ? overlap(worstRecentAt - worstRecent, worstRecentAt, from, to)
              : 0;
      long last =
          recent(latestAt, now) && latest > 0 ? overlap(latestAt - latest, latestAt, from, to) : 0;
      within += latestAt == worstRecentAt ? Math.max(worst, last) : worst + last;
    }
    return Math.min(within, Math.max(0, to - from));
  }

  /**
   * The length of [{@code a}, {@code b}] within [{@code from}, {@code to}], on nanoTime's scale.
   */
  private static long overlap(long a, long b, long from, long to) {
    long start = a - from > 0 ? a : from;
    long end = b - to < 0 ? b : to;
    return Math.max(0, end - start);
  }

  /**
   * Whether latency says nothing about zones at {@code now}: the client stalls, or it started less
   * than {@link #STARTUP_GRACE_NANOS} ago (a cold JVM loads classes and compiles code on the
   * threads that run attempts, which the tick does not see; connections are new).
   */
  boolean latencyUntrusted(long now) {
    return now - startupUntil < 0 || stalled(now);
  }

  /** Whether {@code t} falls in the first {@link #STARTUP_GRACE_NANOS} after the client started. */
  boolean startingUp(long t) {
    return t - startupUntil < 0;
  }

  /** Counts stalls detected since the client was built. */
  long stalls() {
    return stallsSeen.get();
  }

  /**
   * The configuration was replaced during a stall: the stall's end as this detector tells it
   * ({@code ClientRecovered}, the newer core's detector telling of the same stall if it goes on),
   * or null if none was in progress. What explains its calls' timeouts is kept.
   */
  synchronized FailoverEvent.@org.jspecify.annotations.Nullable ClientRecovered endStall(long now) {
    if (stallStartedAt == Long.MIN_VALUE) {
      return null;
    }
    Duration stalledFor = Duration.ofNanos(now - stallStartedAt);
    long worst = worstLateness;
    stallStartedAt = Long.MIN_VALUE;
    worstLateness = 0;
    return new FailoverEvent.ClientRecovered(service, stalledFor, Duration.ofNanos(worst));
  }

  /** One tick of the detector, run by the scheduler every {@link #TICK_NANOS}. */
  void tick(long now) {
    FailoverEvent event = null;
    synchronized (this) {
      long lateness = now - expected;
      expected = now + TICK_NANOS;
      tickDue = expected;
      if (lateness >= MIN_LATE_NANOS) {
        lateAt[lateNext] = now;
        lateBy[lateNext] = lateness;
        lateNext = (lateNext + 1) % LATE_TICKS;
        lateCount = Math.min(lateCount + 1, LATE_TICKS);
      }
      if (lateness > STALL_THRESHOLD_NANOS) {
        event =
            markLocked(
                now,
                lateness,
                lateness,
                "scheduler ran " + TimeUnit.NANOSECONDS.toMillis(lateness) + " ms late");
      } else if (stallStartedAt != Long.MIN_VALUE && now - stalledUntil.get() >= 0) {
        Duration stalledFor = Duration.ofNanos(now - stallStartedAt);
        stallStartedAt = Long.MIN_VALUE;
        long worst = worstLateness;
        worstLateness = 0;
        worstRecentAt = Long.MIN_VALUE;
        latestAt = Long.MIN_VALUE;
        event = new FailoverEvent.ClientRecovered(service, stalledFor, Duration.ofNanos(worst));
      }
    }
    if (event != null) {
      events.emit(event);
    }
  }

  /**
   * Notes slowness (a timeout, or an attempt overtaken by its hedge) seen in {@code region}.
   * Slowness in two regions within one {@link #SLICE_NANOS} is everything slower at once: the
   * client, not the regions, is the slow party.
   */
  void slowIn(String region, long durationNanos, long now) {
    FailoverEvent event = null;
    synchronized (this) {
      long slice = Math.floorDiv(now, SLICE_NANOS);
      if (slice - slowSlice <= 1 && !slowRegion.isEmpty() && !slowRegion.equals(region)) {
        // No lateness was measured: latency is not trusted meanwhile, but no timeout is excused.
        event =
            markLocked(now, 0, 0, "attempts slow in " + slowRegion + " and " + region + " at once");
      }
      slowSlice = slice;
      slowRegion = region;
    }
    if (event != null) {
      events.emit(event);
    }
  }

  /**
   * Notes a connection to an endpoint of {@code zone} that failed with "Network is unreachable"
   * ({@link Classifier#networkUnreachable}). In two zones within one {@link #SLICE_NANOS} it is the
   * client's own network that is gone (a route withdrawn, an interface that flapped): until {@link
   * #GRACE_NANOS} after the last such pair, such failures are no evidence ({@link #networkDown});
   * said at WARN when an episode begins, and when it reaches its cap (not a stall: nothing else is
   * excused, latency still judges). A mark that runs out and comes back with no success in between
   * is the same episode. An attempt or probe that succeeds in a zone not found unreachable ends the
   * mark ({@link #answered}): the client's network works, and the zones found unreachable are so
   * from it (IPv6 addresses only on a host without IPv6, routes to their networks withdrawn); for
   * {@link #PARTIAL_NANOS} no pair with one of them marks anything, and their failures count
   * against them. So does a mark that lasted {@link #MAX_DOWN_NANOS}.
   */
  void unreachableIn(Locality zone, long now) {
    String said = null;
    Locality before;
    synchronized (this) {
      long slice = Math.floorDiv(now, SLICE_NANOS);
      before = unreachableZone;
      if (slice - unreachableSlice <= 1
          && before != null
          && !before.equals(zone)
          && !partial(before, now)
          && !partial(zone, now)) {
        if (!networkDown(now) && (downZones.isEmpty() || now - episodeUntil >= 0)) {
          // A new episode; else the lapsed mark's goes on (no news since), and its 30 s with it.
          downZones.clear();
          downSince = now;
          said =
              "the network is unreachable from the client to "
                  + before
                  + " and "
                  + zone
                  + " at once: such failures count against no endpoint or zone until an attempt"
                  + " or probe to another zone succeeds, or for "
                  + TimeUnit.NANOSECONDS.toSeconds(MAX_DOWN_NANOS)
                  + " s at most";
        }
        downZones.add(before);
        downZones.add(zone);
        if (now - downSince > MAX_DOWN_NANOS) {
          // Down that long with no news: taken as those zones' own, and counted again.
          said =
              "the network has been unreachable from the client to "
                  + downZones
                  + " for "
                  + TimeUnit.NANOSECONDS.toSeconds(MAX_DOWN_NANOS)
                  + " s with no other zone answering: such failures count against their zones"
                  + " again, for "
                  + TimeUnit.NANOSECONDS.toMinutes(CAPPED_NANOS)
                  + " minutes";
          endEpisodeLocked(now, CAPPED_NANOS);
        } else {
          long until = now + GRACE_NANOS;
          if (until - networkDownUntil > 0) {
            networkDownUntil = until;
            episodeUntil = until + MAX_DOWN_NANOS;
          }
        }
      }
      unreachableSlice = slice;
      unreachableZone = zone;
    }
    if (said != null) {
      NETWORK_LOG.warn("[{}] {}", service, said);
    }
  }

  /** Whether {@code zone} was found unreachable while another zone answered, lately. */
  @GuardedBy("this")
  private boolean partial(Locality zone, long now) {
    Long until = partialUntil.get(zone);
    if (until == null) {
      return false;
    }
    if (now - until >= 0) {
      partialUntil.remove(zone);
      return false;
    }
    return true;
  }

  /**
   * Ends the network's mark: the zones of its episode are unreachable from a working network, for
   * {@code forNanos}.
   */
  @GuardedBy("this")
  private void endEpisodeLocked(long now, long forNanos) {
    networkDownUntil = now;
    episodeUntil = now;
    partialUntil.values().removeIf(until -> now - until >= 0); // zones the list dropped, say
    for (Locality z : downZones) {
      partialUntil.put(z, now + forNanos);
    }
    downZones.clear();
  }

  /**
   * Notes an attempt or a health probe to {@code zone}, begun at {@code startedAt}, that the
   * network answered at {@code now} (not OkHttp's cache). While the network is marked down
   * (otherwise nothing: one volatile read), a success in a zone not found unreachable, begun since
   * the episode began, ends the mark: the client's network works, and the zones found unreachable
   * are so from it. One begun before (its answer was on its way as the route went) proves nothing.
   */
  void answered(Locality zone, long startedAt, long now) {
    if (now - episodeUntil >= 0) {
      return;
    }
    synchronized (this) {
      if (startedAt - downSince < 0) {
        return; // its answer may have been on its way as the route went
      }
      if (!downZones.contains(zone)) {
        // A zone not found unreachable answers: the client's network works, and those found
        // unreachable are so from it (whether the mark still runs or ran out meanwhile).
        endEpisodeLocked(now, PARTIAL_NANOS);
      } else if (!networkDown(now)) {
        // The mark ran out and a zone it found unreachable answers: the episode is over, and the
        // next pair of unreachable zones begins another (with its own 30 s).
        downZones.clear();
        episodeUntil = now;
      }
    }
  }

  /**
   * Whether the client's own network is taken to be down at {@code now} ({@link #unreachableIn}).
   */
  boolean networkDown(long now) {
    return now - networkDownUntil < 0;
  }

  /** Whether a lateness measured {@code at} is from the last {@link #GRACE_NANOS}. */
  private static boolean recent(long at, long now) {
    return at != Long.MIN_VALUE && now - at <= GRACE_NANOS;
  }

  /**
   * Marks a stall observed at {@code now}, {@code lateness} late, that explains attempts up to
   * twice {@code explainsNanos} long; returns {@code ClientStalled} when one begins.
   */
  private FailoverEvent.@org.jspecify.annotations.Nullable ClientStalled markLocked(
      long now, long lateness, long explainsNanos, String cause) {
    long until = now + GRACE_NANOS;
    stalledUntil.accumulateAndGet(until, (a, b) -> b - a > 0 ? b : a);
    worstLateness = Math.max(worstLateness, lateness);
    if (explainsNanos > 0) {
      latest = explainsNanos;
      latestAt = now;
      if (explainsNanos >= worstRecent || !recent(worstRecentAt, now)) {
        worstRecent = explainsNanos;
        worstRecentAt = now;
      }
    }
    if (stallStartedAt != Long.MIN_VALUE) {
      return null;
    }
    stallStartedAt = now - Math.max(0, lateness);
    stallsSeen.incrementAndGet();
    return new FailoverEvent.ClientStalled(service, Duration.ofNanos(lateness), cause);
  }
}
