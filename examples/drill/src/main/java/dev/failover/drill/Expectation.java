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
  /** At least this share of first attempts must stay home while the drill's host is saturated. */
  static final double HOME_SHARE = 0.95;

  /**
   * In every phase that saturates the drill's own host, with every zone healthy, the SDK is
   * expected to keep serving from home and to evacuate no zone: the client is the sick one.
   */
  static List<Expectation> check(
      List<Phase> phases, List<Stats> clients, List<EventLog.Entry> events, String homeZone) {
    List<Expectation> out = new ArrayList<>();
    for (Phase p : phases) {
      if (!p.saturatesClient()) {
        continue;
      }
      for (Stats st : clients) {
        if (!st.client.equals("sdk")) {
          continue;
        }
        Stats.Summary s = st.phase(p.name());
        long evacuated = count(events, p, st.client, EventLog.Kind.ZONE_EVACUATED);
        long ejected = count(events, p, st.client, EventLog.Kind.ENDPOINT_EJECTED);
        double home = s.share(homeZone);
        String seen =
            String.format(
                Locale.ROOT,
                "%s of first attempts to %s, %d zone%s evacuated, %d endpoint%s ejected,"
                    + " %s of calls ok",
                TextReport.share(home),
                homeZone,
                evacuated,
                evacuated == 1 ? "" : "s",
                ejected,
                ejected == 1 ? "" : "s",
                TextReport.percent(s.successPercent()));
        String expected =
            String.format(
                Locale.ROOT,
                "keep serving from %s (at least %.0f%% of first attempts there) and evacuate no zone",
                homeZone,
                HOME_SHARE * 100);
        boolean met = evacuated == 0 && home >= HOME_SHARE;
        out.add(new Expectation(p.name(), st.client, expected, seen, met));
      }
    }
    return out;
  }

  private static long count(
      List<EventLog.Entry> events, Phase p, String client, EventLog.Kind kind) {
    double from = p.start().toMillis() / 1000.0;
    double to = p.end().toMillis() / 1000.0;
    return events.stream()
        .filter(e -> e.client().equals(client) && e.kind() == kind)
        .filter(e -> e.offsetSeconds() >= from && e.offsetSeconds() < to)
        .count();
  }
}
