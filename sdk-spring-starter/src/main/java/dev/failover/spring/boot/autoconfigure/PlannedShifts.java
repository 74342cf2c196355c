package dev.failover.spring.boot.autoconfigure;

import dev.failover.Endpoint;
import dev.failover.FailoverClient;
import dev.failover.FailoverEvent;
import dev.failover.FailoverListener;
import dev.failover.FailoverSnapshot;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The planned zonal shifts of one client the starter built, from {@code
 * failover.clients.<name>.zonal-shifts.<zone>}: each is applied as a shift requested by {@code
 * property <the property>}, so that the starter can tell it from an operator's.
 *
 * <ul>
 *   <li>At start every one is applied; a wrong one fails start-up, and one whose end has passed is
 *       ignored.
 *   <li>On a change at run time, those added or given another end are applied (a wrong one is
 *       logged and tried again at the next change); one an operator cancelled stays cancelled until
 *       its property changes. A property removed, or changed to an end that has passed, ends the
 *       zone's shift only if the shift in force is still the property's: an operator's newer shift
 *       stays.
 *   <li>For a client fed by a registry, a shift of a zone that has no endpoint in the list in use
 *       (its instances deregistered for the maintenance, or not listed yet) is held, not failed,
 *       and applied as soon as an endpoint list brings the zone's endpoints back (this object is
 *       the client's listener of {@link FailoverEvent.EndpointsChanged}); it is dropped once its
 *       end has passed.
 * </ul>
 *
 * <p>A new list is told on a thread of the SDK (the source's, or the client's dispatcher): the
 * listener never waits there. If a change at run time or another list holds this object's lock, it
 * marks the pending shifts to be looked at and returns, and the holder looks at them before it lets
 * go.
 */
final class PlannedShifts implements FailoverListener {
  private static final Logger LOG = LoggerFactory.getLogger(FailoverClientFactory.class);
  private static final Duration SHORTEST = Duration.ofSeconds(1);
  private static final Duration LONGEST = Duration.ofDays(3);
  private static final String SHIFTED_BY = "shifted away by ";

  /** Makes the error of a wrong property, with its origin and its value as written. */
  @FunctionalInterface
  interface Wrong {
    FailoverConfigurationException of(
        String property,
        @Nullable Object value,
        String problem,
        String action,
        @Nullable Throwable cause);
  }

  private final String clientPrefix;
  private final boolean fromRegistry;
  private final Wrong wrong;
  private volatile @Nullable FailoverClient client;

  private final ReentrantLock lock = new ReentrantLock();

  /** Set when the pending shifts are to be looked at again (the endpoint list changed). */
  private final AtomicBoolean listChanged = new AtomicBoolean();

  /** The property values taken: zone to end. Guarded by lock. */
  private final Map<String, Instant> taken = new HashMap<>();

  /** Zones whose shift the properties made since it was last ended here. Guarded by lock. */
  private final Set<String> applied = new HashSet<>();

  /**
   * Shifts taken but not applied, because their zone had no endpoint: zone to end. Changed under
   * lock; read without it by the listener.
   */
  private final Map<String, Instant> pending = new ConcurrentHashMap<>();

  /**
   * Creates the shifts of a client.
   *
   * @param clientPrefix {@code failover.clients.<name>}
   * @param fromRegistry whether the client's endpoints come from a registry (and so may change)
   * @param wrong makes the error of a wrong property
   */
  PlannedShifts(String clientPrefix, boolean fromRegistry, Wrong wrong) {
    this.clientPrefix = clientPrefix;
    this.fromRegistry = fromRegistry;
    this.wrong = wrong;
  }

  /** The client, once built: lists told while it is built wait for {@link #apply}. */
  void attach(FailoverClient client) {
    this.client = client;
  }

  /**
   * Applies the properties' shifts ({@code zone} to end): at start every one, on a change at run
   * time what changed.
   *
   * @throws FailoverConfigurationException at start, for a shift that cannot be applied
   */
  void apply(Map<String, Instant> wanted, boolean atStart) {
    FailoverClient c = Objects.requireNonNull(client);
    lock.lock();
    try {
      for (String zone : List.copyOf(taken.keySet())) {
        if (!wanted.containsKey(zone)) {
          taken.remove(zone);
          pending.remove(zone);
          end(c, zone, "removed");
        }
      }
      Instant now = Instant.now();
      for (Map.Entry<String, Instant> shift : wanted.entrySet()) {
        String zone = shift.getKey();
        Instant end = shift.getValue();
        if (!atStart && end.equals(taken.get(zone))) {
          continue;
        }
        pending.remove(zone);
        Duration left = Duration.between(now, end);
        if (left.compareTo(SHORTEST) < 0) {
          taken.put(zone, end);
          if (atStart) {
            LOG.info("{}: the zonal shift until {} has ended; ignored", property(zone), end);
          } else {
            end(c, zone, "changed to " + end + ", which has passed");
          }
          continue;
        }
        if (fromRegistry && left.compareTo(LONGEST) <= 0 && !listed(c, zone)) {
          taken.put(zone, end);
          pending.put(zone, end);
          LOG.warn(
              "{}: no endpoint of the client is in zone '{}' now; its zonal shift until {} is"
                  + " applied when the endpoint list has one (zones now: {})",
              property(zone),
              zone,
              end,
              zones(c));
          continue;
        }
        try {
          c.shiftAway(zone, left, requester(zone));
          taken.put(zone, end);
          applied.add(zone);
        } catch (IllegalArgumentException | IllegalStateException e) {
          FailoverConfigurationException error =
              wrong.of(
                  property(zone),
                  end,
                  String.valueOf(e.getMessage()),
                  "name a zone of one of the client's endpoints, with an end at most 3 days ahead",
                  e);
          if (atStart) {
            throw error;
          }
          // Not taken: the next change tries it again.
          LOG.error("configuration change not applied: {}", error.getMessage());
        }
      }
    } finally {
      lock.unlock();
    }
    if (!pending.isEmpty()) {
      // The list may have changed after a zone was found empty, before it was marked pending.
      listChanged.set(true);
      applyPending();
    }
  }

  /** Applies the pending shifts whose zone the new list has. Never waits for the lock. */
  @Override
  public void onEndpointsChanged(FailoverEvent.EndpointsChanged event) {
    if (pending.isEmpty() || client == null) {
      return; // nothing waits, or the client is being built (apply() looks at its list)
    }
    listChanged.set(true);
    if (!lock.isHeldByCurrentThread()) {
      applyPending();
    }
  }

  /**
   * Looks at the pending shifts while the list changed and no other thread does; a thread that
   * finds the lock taken leaves the work to its holder, which looks again after letting go.
   */
  private void applyPending() {
    while (listChanged.get() && lock.tryLock()) {
      try {
        if (listChanged.getAndSet(false)) {
          applyPendingLocked(Objects.requireNonNull(client));
        }
      } finally {
        lock.unlock();
      }
    }
  }

  private void applyPendingLocked(FailoverClient c) {
    Instant now = Instant.now();
    for (Map.Entry<String, Instant> shift : List.copyOf(pending.entrySet())) {
      String zone = shift.getKey();
      Instant end = shift.getValue();
      Duration left = Duration.between(now, end);
      if (left.compareTo(SHORTEST) < 0) {
        pending.remove(zone);
        LOG.info(
            "{}: the zonal shift until {} ended before zone '{}' had endpoints; dropped",
            property(zone),
            end,
            zone);
      } else if (listed(c, zone)) {
        try {
          c.shiftAway(zone, left, requester(zone));
          pending.remove(zone);
          applied.add(zone);
          LOG.info(
              "{}: zone '{}' has endpoints again; its zonal shift until {} is applied",
              property(zone),
              zone,
              end);
        } catch (IllegalStateException e) {
          // The zone is the only one left to serve: tried again when the list changes.
          LOG.warn("{}: zonal shift not applied yet: {}", property(zone), e.getMessage());
        } catch (IllegalArgumentException e) {
          pending.remove(zone);
          LOG.error("{}: zonal shift not applied: {}", property(zone), e.getMessage());
        }
      }
    }
  }

  /**
   * Ends the shift of {@code zone} that its property made, if it is the one in force: not an
   * operator's shift that replaced it since.
   */
  private void end(FailoverClient c, String zone, String why) {
    String property = property(zone);
    if (!ours(c, zone)) {
      applied.remove(zone);
      LOG.info(
          "{} {}: no zonal shift of zone '{}' made by this property is in force; a shift in force"
              + " made by someone else stays",
          property,
          why,
          zone);
      return;
    }
    applied.remove(zone);
    try {
      c.cancelShift(zone, "property " + property + " " + why);
    } catch (IllegalArgumentException e) {
      LOG.info("{} {}: {}", property, why, e.getMessage()); // its zone is gone too
    }
  }

  /**
   * Whether the shift in force in {@code zone} is the one its property made: the zone's reason
   * names the property as who asked. A zone the list emptied is in the snapshot only while shifted:
   * when it is not there, whether the property's shift was applied and not ended here.
   */
  private boolean ours(FailoverClient c, String zone) {
    for (FailoverSnapshot.Zone z : c.snapshot().zones()) {
      if (names(z.locality(), zone)) {
        return z.status() == FailoverSnapshot.ZoneStatus.SHIFTED
            && z.reason().startsWith(SHIFTED_BY + requester(zone) + " until ");
      }
    }
    return applied.contains(zone);
  }

  private static boolean listed(FailoverClient c, String zone) {
    for (Endpoint e : c.endpoints()) {
      if (names(e.locality(), zone)) {
        return true;
      }
    }
    return false;
  }

  /** Whether {@code zone} names {@code l}: by its name, or as {@code region/zone}. */
  private static boolean names(dev.failover.Locality l, String zone) {
    return l.zone().equals(zone) || zone.equals(l.region() + "/" + l.zone());
  }

  private static Set<String> zones(FailoverClient c) {
    Set<String> zones = new TreeSet<>();
    for (Endpoint e : c.endpoints()) {
      zones.add(e.locality().zone());
    }
    return zones;
  }

  private String property(String zone) {
    return clientPrefix + ".zonal-shifts." + zone;
  }

  /** Who asks for a planned shift: its property, as the zone's reason and the events show. */
  private String requester(String zone) {
    return "property " + property(zone);
  }
}
