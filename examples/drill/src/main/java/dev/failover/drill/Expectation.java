package dev.failover.drill;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What the drill expects of a client in a phase, what it saw, and whether that met it. Reported,
 * not enforced: the drill measures the clients, it does not judge its own run.
 *
 * @param phase the phase's name
 * @param client the client's name
 * @param expected what was expected, in words
 * @param seen what the client did, in words
 * @param met whether what it did met the expectation
 */
record Expectation(String phase, String client, String expected, String seen, boolean met) {
  /**
   * At least this share of the calls started while the drill's host is saturated must send their
   * first attempt home.
   */
  static final double HOME_SHARE = 0.95;

  /** At least this share of the phase's calls must be answered 2xx, fresh (not stale). */
  static final double FRESH_OK = 0.99;

  /**
   * In every phase that saturates the drill's own host, with every zone healthy, the SDK is
   * expected to keep serving from home: at least {@link #HOME_SHARE} of the calls started in the
   * phase send their first attempt to the home zone (a call that sends none counts against it), at
   * least {@link #FRESH_OK} of its calls are answered 2xx and not from the stale cache, and it
   * ejects no endpoint and evacuates no zone while the phase lasts: the client is the sick one. The
   * phase lasts from when its faults went on ({@code phase <name> begins}) to when the next phase's
   * did, or, without those events, from its planned start to its planned end.
   */
  static List<Expectation> check(
      List<Phase> phases, List<Stats> clients, List<EventLog.Entry> events, String homeZone) {
    List<Expectation> out = new ArrayList<>();
    for (int i = 0; i < phases.size(); i++) {
      Phase p = phases.get(i);
      if (!p.saturatesClient()) {
        continue;
      }
      Phase next = i + 1 < phases.size() ? phases.get(i + 1) : null;
      double from = begun(events, p, p.start().toMillis() / 1000.0);
      double to =
          next == null
              ? p.end().toMillis() / 1000.0
              : begun(events, next, next.start().toMillis() / 1000.0);
      for (Stats st : clients) {
        if (!st.client.equals("sdk")) {
          continue;
        }
        Stats.Summary s = st.phase(p.name());
        long evacuated = count(events, from, to, st.client, EventLog.Kind.ZONE_EVACUATED);
        long ejected = count(events, from, to, st.client, EventLog.Kind.ENDPOINT_EJECTED);
        double home = s.shareOfStarted(homeZone);
        double fresh = s.freshPercent();
        String seen =
            String.format(
                Locale.ROOT,
                "%s of the %d calls started sent their first attempt to %s, %s of calls ok and"
                    + " fresh (%d stale, %d failed), %d endpoint%s ejected, %d zone%s evacuated"
                    + " (%.1f s to %.1f s)",
                TextReport.share(home),
                s.started(),
                homeZone,
                TextReport.percent(fresh),
                s.stale(),
                s.failed(),
                ejected,
                ejected == 1 ? "" : "s",
                evacuated,
                evacuated == 1 ? "" : "s",
                from,
                to);
        String expected =
            String.format(
                Locale.ROOT,
                "keep serving from %s (at least %.0f%% of the calls started sending their first"
                    + " attempt there, at least %.0f%% of calls ok and fresh), eject no endpoint"
                    + " and evacuate no zone",
                homeZone,
                HOME_SHARE * 100,
                FRESH_OK * 100);
        boolean met =
            evacuated == 0 && ejected == 0 && home >= HOME_SHARE && fresh >= FRESH_OK * 100;
        out.add(new Expectation(p.name(), st.client, expected, seen, met));
      }
    }
    return out;
  }

  /** When the phase's faults went on, in seconds from the start; {@code planned} if not told. */
  private static double begun(List<EventLog.Entry> events, Phase p, double planned) {
    Double began = JsonReport.began(events, p);
    return began == null ? planned : began;
  }

  private static long count(
      List<EventLog.Entry> events, double from, double to, String client, EventLog.Kind kind) {
    return events.stream()
        .filter(e -> e.client().equals(client) && e.kind() == kind)
        .filter(e -> e.offsetSeconds() >= from && e.offsetSeconds() < to)
        .count();
  }
}
