package dev.failover.drill;

import dev.failover.testkit.load.Lateness;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/** The console: one line per second and client while it runs, a table per phase at the end. */
final class TextReport {
  private TextReport() {}

  /** One second of one client, such as {@code 12s zone-refuse sdk calls 100 ok 100.0% ...}. */
  static String line(int second, String client, Stats.Summary s, String homeZone) {
    return line(
        String.format(Locale.ROOT, "%4ds %-12s", second, s.phase().name()), client, s, homeZone);
  }

  /**
   * One second of the fail-back tail, marked first, such as {@code tail 70.0s sdk calls 100 ...}:
   * not a second of the drill.
   */
  static String tailLine(double at, String client, Stats.Summary s, String homeZone) {
    return line(tailMark(at), client, s, homeZone);
  }

  private static String tailMark(double at) {
    return String.format(Locale.ROOT, "%-18s", String.format(Locale.ROOT, "tail %6.1fs", at));
  }

  private static String line(String when, String client, Stats.Summary s, String homeZone) {
    Stats.Percentiles p = s.latency();
    return String.format(
        Locale.ROOT,
        "%s %-8s calls %4d  ok %6s  p50 %8s  p99 %8s  att/call %5s  home %5s",
        when,
        client,
        s.calls(),
        percent(s.successPercent()),
        p == null ? "-" : millis(p.p50()),
        p == null ? "-" : millis(p.p99()),
        ratio(s.attemptsPerCall()),
        share(s.share(homeZone)));
  }

  /** A second in which the load generator sent calls late, after that second's client lines. */
  static String lagLine(int second, Phase phase, Lateness.Summary late) {
    return String.format(
        Locale.ROOT,
        "%4ds %-12s load generator: %d of %d calls sent late (> %d ms), max lag %s ms%s",
        second,
        phase.name(),
        late.late(),
        late.calls(),
        Lateness.LATE.toMillis(),
        millis(late.maxLagMillis()),
        phase.saturatesClient() ? " (host saturated on purpose)" : "");
  }

  /** A second of the tail in which the load generator sent calls late. */
  static String tailLagLine(double at, Lateness.Summary late) {
    return String.format(
        Locale.ROOT,
        "%s load generator: %d of %d calls sent late (> %d ms), max lag %s ms",
        tailMark(at),
        late.late(),
        late.calls(),
        Lateness.LATE.toMillis(),
        millis(late.maxLagMillis()));
  }

  /** What the tail is, for the plan: such as {@code fail-back tail: the same load goes on ...}. */
  static String tailPlan(FailBackTail t) {
    return String.format(
        Locale.ROOT,
        "fail-back tail, up to %d s: the same load goes on until at least %.0f%% of the sdk's first"
            + " attempts go to %s %d seconds in a row; reported apart from the phases",
        t.max().toSeconds(),
        FailBackTail.HOME_SHARE * 100,
        t.homeZone(),
        FailBackTail.IN_A_ROW);
  }

  /**
   * The fail-back tail at the end of the run: how long it ran and why it ended, each client's calls
   * and failures in it, the load generator's lag in it, and when the sdk was back home.
   */
  static String tail(DrillResult r, FailBackTail t) {
    StringBuilder sb = new StringBuilder();
    if (t.max().isZero()) {
      sb.append("Fail-back tail: none (--tail 0).\n");
    } else {
      sb.append(
          String.format(
              Locale.ROOT,
              "Fail-back tail (not in the table above): the same load after the last phase, up to"
                  + " %d s, until at least %.0f%% of the sdk's first attempts go to %s %d seconds in"
                  + " a row.%n",
              t.max().toSeconds(),
              FailBackTail.HOME_SHARE * 100,
              t.homeZone(),
              FailBackTail.IN_A_ROW));
      sb.append(tailRan(t)).append('\n');
      for (Stats st : r.clients()) {
        Stats.Summary s = st.tailTotal();
        Stats.Percentiles p = s.latency();
        sb.append(
            String.format(
                Locale.ROOT,
                "  %-8s %5d calls %5d failed (%s ok)  p50 %s ms  p99 %s ms  first attempts to %s"
                    + " %s%n",
                st.client,
                s.calls(),
                s.failed(),
                percent(s.successPercent()),
                p == null ? "-" : millis(p.p50()),
                p == null ? "-" : millis(p.p99()),
                t.homeZone(),
                share(s.share(t.homeZone()))));
      }
      Lateness.Summary late = r.generator().tailTotal();
      sb.append(
          String.format(
              Locale.ROOT,
              "  load generator: %d of %d calls sent late (> %d ms), max lag %s ms%n",
              late.late(),
              late.calls(),
              Lateness.LATE.toMillis(),
              millis(late.maxLagMillis())));
    }
    sb.append(t.verdict()).append('\n');
    return sb.toString();
  }

  /**
   * What no figure counts, in sentences, one a line; none when everything was counted: per client,
   * calls handed to it that had not ended when the drill stopped waiting for them (the deadline
   * plus 5 s after the load), by phase and in the tail; and calls the load never sent because it
   * was stopped before its end.
   */
  static List<String> unaccounted(DrillResult r) {
    List<String> lines = new ArrayList<>();
    for (Stats st : r.clients()) {
      List<String> where = new ArrayList<>();
      long all = 0;
      for (Phase p : r.phases()) {
        long n = st.phase(p.name()).unfinished();
        if (n > 0) {
          where.add(p.name() + " " + n);
          all += n;
        }
      }
      long inTail = st.tailSecondCapacity() == 0 ? 0 : st.tailTotal().unfinished();
      if (inTail > 0) {
        where.add(Stats.TAIL + " " + inTail);
        all += inTail;
      }
      if (all > 0) {
        lines.add(
            String.format(
                Locale.ROOT,
                "%s: %d call%s never ended (still in flight when the drill stopped waiting; in no"
                    + " figure above): %s",
                st.client,
                all,
                all == 1 ? "" : "s",
                String.join(", ", where)));
      }
    }
    long sent = r.generator().total().calls();
    if (sent < r.plannedCalls()) {
      lines.add(
          String.format(
              Locale.ROOT,
              "The load was stopped before its end: %d of its %d calls were never sent (in no"
                  + " figure above).",
              r.plannedCalls() - sent,
              r.plannedCalls()));
    }
    return lines;
  }

  /** How long the tail ran and why it ended, such as {@code ran 70.0 s to 80.0 s (10 s): ...}. */
  static String tailRan(FailBackTail t) {
    String why =
        switch (t.ended()) {
          case HOME -> {
            if (t.seconds() == 0) {
              yield "the sdk was already back home when the last phase ended";
            }
            yield t.homeSeenAtTheEnd()
                ? "its time was up as the sdk came back home (seen once its last calls ended)"
                : "ended as the sdk was back home";
          }
          case TIME -> "its time was up before the sdk was back home";
          case OFF -> "off";
        };
    return String.format(
        Locale.ROOT,
        "  ran %.1f s to %.1f s (%d s): %s",
        t.start().toMillis() / 1000.0,
        t.stop().toMillis() / 1000.0,
        t.seconds(),
        why);
  }

  /**
   * The load generator's lag per phase, then a warning if it lagged outside the phases that
   * saturate the host on purpose, or a line saying it kept time.
   */
  static String generator(DrillResult r) {
    GeneratorLag lag = r.generator();
    StringBuilder sb = new StringBuilder();
    sb.append(
        String.format(
            Locale.ROOT,
            "Load generator (calls sent more than %d ms after their due time are late):%n",
            Lateness.LATE.toMillis()));
    sb.append(
        String.format(Locale.ROOT, "%-12s %6s %6s %10s%n", "phase", "calls", "late", "max lag ms"));
    for (Phase p : r.phases()) {
      lagRow(sb, p.name(), lag.phase(p.name()), p.saturatesClient() ? "  (on purpose)" : "");
    }
    if (r.phases().size() > 1) {
      lagRow(sb, "all phases", lag.total(), "");
    }
    List<String> warning = lagWarning(r);
    if (warning != null) {
      sb.append(String.join("\n         ", warning)).append('\n');
    } else {
      String outside = r.saturatedPhases().isEmpty() ? "" : " outside " + r.saturatedPhases();
      sb.append(
          String.format(
              Locale.ROOT,
              "The load generator kept time%s: no call more than %d ms late.%n",
              outside,
              Lateness.LATE.toMillis()));
    }
    return sb.toString();
  }

  /**
   * The warning that the load generator itself lagged outside the phases that saturate the host on
   * purpose, in sentences (one a line on the console), or null if it kept time.
   */
  static @Nullable List<String> lagWarning(DrillResult r) {
    GeneratorLag lag = r.generator();
    if (!lag.lagged()) {
      return null;
    }
    Lateness.Summary u = lag.unexpected();
    String outside = r.saturatedPhases().isEmpty() ? "" : " outside " + r.saturatedPhases();
    return List.of(
        String.format(
            Locale.ROOT,
            "WARNING: the load generator itself lagged%s: %d of %d calls (%s) were sent more than"
                + " %d ms after their due time (max lag %s ms).",
            outside,
            u.late(),
            u.calls(),
            u.calls() == 0 ? "-" : percent2(100.0 * u.late() / u.calls()) + "%",
            Lateness.LATE.toMillis(),
            millis(u.maxLagMillis())),
        "Their latency counts from the due time, so it includes the drill's own delay: the"
            + " machine, not only the clients, was slow",
        String.format(
            Locale.ROOT,
            "(load average %s at start, %s at end, %d processors).",
            r.loadAtStart().averages(),
            r.loadAtEnd().averages(),
            r.loadAtEnd().processors()),
        "Compare the clients with each other rather than with absolute figures, or rerun on an"
            + " idle machine.");
  }

  private static void lagRow(StringBuilder sb, String phase, Lateness.Summary s, String note) {
    sb.append(
        String.format(
            Locale.ROOT,
            "%-12s %6d %6d %10s%s%n",
            phase,
            s.calls(),
            s.late(),
            millis(s.maxLagMillis()),
            note));
  }

  /** Such as {@code client-busy: expected the sdk to ...; seen: ...: met}. */
  static String expectation(Expectation e) {
    return String.format(
        Locale.ROOT,
        "%s: expected the %s to %s; seen: %s: %s",
        e.phase(),
        e.client(),
        e.expected(),
        e.seen(),
        e.met() ? "met" : "NOT MET");
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
