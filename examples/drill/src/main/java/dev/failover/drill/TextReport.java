package dev.failover.drill;

import java.util.List;
import java.util.Locale;

/** The console: one line per second and client while it runs, a table per phase at the end. */
final class TextReport {
  private TextReport() {}

  /** One second of one client, such as {@code 12s zone-refuse sdk calls 100 ok 100.0% ...}. */
  static String line(int second, String client, Stats.Summary s, String homeZone) {
    Stats.Percentiles p = s.latency();
    return String.format(
        Locale.ROOT,
        "%4ds %-12s %-8s calls %4d  ok %6s  p50 %8s  p99 %8s  att/call %5s  home %5s",
        second,
        s.phase().name(),
        client,
        s.calls(),
        percent(s.successPercent()),
        p == null ? "-" : millis(p.p50()),
        p == null ? "-" : millis(p.p99()),
        ratio(s.attemptsPerCall()),
        share(s.share(homeZone)));
  }

  /** The per-phase table, then a total per client. */
  static String table(List<Stats> clients, List<Phase> phases, List<String> zones) {
    StringBuilder sb = new StringBuilder();
    String head =
        String.format(
            Locale.ROOT,
            "%-12s %-8s %6s %6s %5s %7s %8s %8s %8s %8s %8s %8s %6s %7s",
            "phase",
            "client",
            "calls",
            "failed",
            "stale",
            "ok %",
            "p50 ms",
            "p90 ms",
            "p99 ms",
            "p99.9 ms",
            "max ms",
            "att/call",
            "hedges",
            "retries");
    sb.append(head);
    for (String z : zones) {
      sb.append(String.format(Locale.ROOT, " %10s", z));
    }
    sb.append('\n');
    for (Phase phase : phases) {
      for (Stats st : clients) {
        row(sb, st.phase(phase.name()), phase.name(), st.client, zones);
      }
    }
    if (phases.size() > 1) {
      for (Stats st : clients) {
        row(sb, st.total(), "all phases", st.client, zones);
      }
    }
    return sb.toString();
  }

  private static void row(
      StringBuilder sb, Stats.Summary s, String phase, String client, List<String> zones) {
    Stats.Percentiles p = s.latency();
    sb.append(
        String.format(
            Locale.ROOT,
            "%-12s %-8s %6d %6d %5d %7s %8s %8s %8s %8s %8s %8s %6d %7d",
            phase,
            client,
            s.calls(),
            s.failed(),
            s.stale(),
            percent2(s.successPercent()),
            p == null ? "-" : millis(p.p50()),
            p == null ? "-" : millis(p.p90()),
            p == null ? "-" : millis(p.p99()),
            p == null ? "-" : millis(p.p999()),
            p == null ? "-" : millis(p.max()),
            ratio(s.attemptsPerCall()),
            s.hedges(),
            s.retries()));
    for (String z : zones) {
      sb.append(String.format(Locale.ROOT, " %10s", share(s.share(z))));
    }
    sb.append('\n');
  }

  static String millis(double ms) {
    if (ms < 10) {
      return String.format(Locale.ROOT, "%.2f", ms);
    }
    if (ms < 100) {
      return String.format(Locale.ROOT, "%.1f", ms);
    }
    return String.format(Locale.ROOT, "%.0f", ms);
  }

  static String percent(double p) {
    return Double.isNaN(p) ? "-" : String.format(Locale.ROOT, "%.1f%%", p);
  }

  static String percent2(double p) {
    return Double.isNaN(p) ? "-" : String.format(Locale.ROOT, "%.2f", p);
  }

  static String ratio(double r) {
    return Double.isNaN(r) ? "-" : String.format(Locale.ROOT, "%.2f", r);
  }

  static String share(double s) {
    return Double.isNaN(s) ? "-" : String.format(Locale.ROOT, "%.1f%%", 100 * s);
  }
}
