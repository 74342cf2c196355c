package dev.failover.benchmarks;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/** Renders scenario results as Markdown and splices them into {@code docs/benchmarks.md}. */
final class Report {
  static final String SDK = "failover-sdk";
  static final String HAND = "okhttp+resilience4j";
  static final String ARMERIA = "armeria";
  static final String SPRING = "spring-cloud-lb";

  private Report() {}

  static String pct(double p) {
    if (Double.isNaN(p)) {
      return "-";
    }
    return String.format(Locale.ROOT, p >= 10 || p == 0 ? "%.0f%%" : "%.1f%%", p);
  }

  static String ms(double v) {
    return String.format(Locale.ROOT, v >= 100 ? "%.0f" : "%.1f", v);
  }

  static String line(Scenarios.Result r) {
    Recorder.Stats s = r.stats();
    return String.format(
        Locale.ROOT,
        "%-20s calls %5d ok %7.3f%% p50 %6s p99 %6s p99.9 %6s att/call %.3f shares %s shift %s %s",
        r.client(),
        s.calls(),
        s.successPercent(),
        ms(s.p50()),
        ms(s.p99()),
        ms(s.p999()),
        s.attemptsPerCall(),
        String.join("/", r.shares()),
        r.shift(),
        r.extra());
  }

  static String markdown(
      List<Scenarios.Scenario> scenarios,
      Map<String, Map<String, Scenarios.Result>> results,
      int rate,
      String started,
      String machine,
      List<String> peers,
      String loadBefore,
      String loadAfter,
      String command,
      String begin,
      String end) {
    StringBuilder md = new StringBuilder();
    md.append(begin).append("\n\n");
    md.append("Measured ")
        .append(started)
        .append(" on ")
        .append(machine)
        .append(", **shared with concurrent builds** (load average ")
        .append(loadBefore)
        .append(" at the start, ")
        .append(loadAfter)
        .append(
            " at the end; figures are noisy: compare clients within a table, not across runs). ")
        .append(rate)
        .append(" calls/s per client (")
        .append(peers.size() + 1)
        .append(
            " clients at once), 1 s deadline, 4 s warm-up not recorded. A call succeeds if it got a 2xx"
                + " within 1 s of its intended send time; latency is from that time, failures"
                + " included.\n\n");
    md.append("Command: `").append(command).append("`\n\n");
    md.append("### Targets for the SDK\n\n");
    md.append("| scenario | target | SDK | met? |");
    for (String peer : peers) {
      md.append(' ').append(peer).append(" |");
    }
    md.append("\n|---|---|---|---|").append("---|".repeat(peers.size())).append("\n");
    for (String[] row : targets(results, peers)) {
      if (!results.containsKey(row[0])) {
        continue; // a scenario left out with --only
      }
      md.append("| ").append(String.join(" | ", row)).append(" |\n");
    }
    md.append('\n');
    for (Scenarios.Scenario s : scenarios) {
      Map<String, Scenarios.Result> r = results.get(s.id());
      if (r == null) {
        continue;
      }
      md.append("### ").append(s.title()).append("\n\n");
      md.append("Fault: ").append(s.fault()).append(". ");
      md.append(
          String.format(
              Locale.ROOT,
              "Figures over calls intended from %.0f s to %.0f s of %d s recorded.",
              s.faultAt(),
              s.statsTo(),
              s.seconds()));
      if (s.extra() == Scenarios.Extra.CLIENT_BUSY) {
        md.append(
            " Share = first attempts in us-east-1a, the clients' home zone, by time since the"
                + " saturation began; the last column counts, from the saturation's start to the end"
                + " of the run, what each client took out of rotation (the SDK's own events; the"
                + " hand-rolled client's breakers opening; Armeria's health-checked group shrinking).");
      } else if (!s.id().equals("healthy") && !s.id().equals("stragglers")) {
        md.append(
            String.format(
                Locale.ROOT,
                " Share = first attempts on the faulty endpoints, by time since the fault began;"
                    + " time to shift = until that share stays under %.0f%% (250 ms slices).",
                s.shiftThreshold()));
      }
      md.append("\n\n");
      md.append(
          "| client | calls | success | p50 ms | p99 ms | p99.9 ms | attempts/call | share 0-1 s /"
              + " 1-2 s / 2-5 s / 5-10 s / 10 s+ | time to shift | other |\n");
      md.append("|---|---|---|---|---|---|---|---|---|---|\n");
      for (Scenarios.Result x : r.values()) {
        Recorder.Stats st = x.stats();
        md.append(
            String.format(
                Locale.ROOT,
                "| %s | %d | %.2f%% | %s | %s | %s | %.3f | %s | %s | %s |%n",
                x.client(),
                st.calls(),
                st.successPercent(),
                ms(st.p50()),
                ms(st.p99()),
                ms(st.p999()),
                st.attemptsPerCall(),
                String.join(" / ", x.shares()),
                x.shift(),
                x.extra()));
      }
      md.append('\n');
    }
    md.append(end).append('\n');
    return md.toString();
  }

  private static String[] row(
      Map<String, Map<String, Scenarios.Result>> results,
      List<String> peers,
      String scenario,
      String target,
      java.util.function.Function<Scenarios.Result, @Nullable Double> value,
      java.util.function.DoublePredicate met,
      String format) {
    Map<String, Scenarios.Result> r = results.get(scenario);
    List<String> row = new ArrayList<>();
    row.add(scenario);
    row.add(target);
    List<String> clients = new ArrayList<>();
    clients.add(SDK);
    clients.addAll(peers);
    for (String client : clients) {
      Scenarios.Result x = r == null ? null : r.get(client);
      Double v = x == null ? null : value.apply(x);
      String text =
          v == null ? "-" : Double.isInfinite(v) ? "never" : String.format(Locale.ROOT, format, v);
      row.add(client.equals(SDK) ? "**" + text + "**" : text);
      if (client.equals(SDK)) {
        row.add(v == null ? "-" : met.test(v) ? "yes" : "**MISSED**");
      }
    }
    return row.toArray(new String[0]);
  }

  static List<String[]> targets(
      Map<String, Map<String, Scenarios.Result>> res, List<String> peers) {
    List<String[]> rows = new ArrayList<>();
    Map<String, Scenarios.Result> healthy = res.get("healthy");
    Double sdkP50 =
        healthy == null || healthy.get(SDK) == null ? null : healthy.get(SDK).stats().p50();
    Double sdkP99 =
        healthy == null || healthy.get(SDK) == null ? null : healthy.get(SDK).stats().p99();
    Map<String, Scenarios.Result> strag = res.get("stragglers");
    Double sdkStragP999 =
        strag == null || strag.get(SDK) == null ? null : strag.get(SDK).stats().p999();
    if (sdkP50 != null) {
      double p50 = sdkP50;
      rows.add(
          row(
              res,
              peers,
              "stragglers",
              String.format(Locale.ROOT, "p99.9 <= 3x SDK healthy p50 (%.1f ms), in x p50", p50),
              x -> x.stats().p999() / p50,
              v -> v <= 3,
              "%.1fx"));
    }
    Double handStragP999 =
        strag == null || strag.get(HAND) == null ? null : strag.get(HAND).stats().p999();
    if (sdkStragP999 != null && handStragP999 != null) {
      double hand = handStragP999;
      rows.add(
          row(
              res,
              peers,
              "stragglers",
              "p99.9 >= 10x better than hand-rolled (hand-rolled p99.9 / client's p99.9)",
              x -> hand / x.stats().p999(),
              v -> v >= 10,
              "%.1fx"));
    }
    rows.add(
        row(
            res,
            peers,
            "stragglers",
            "extra requests <= 5%",
            x -> 100 * (x.stats().attemptsPerCall() - 1),
            v -> v <= 5,
            "%.1f%%"));
    rows.add(
        row(
            res,
            peers,
            "pinned",
            "success (1 s deadline) >= 99.9%",
            x -> x.stats().successPercent(),
            v -> v >= 99.9,
            "%.2f%%"));
    rows.add(
        row(
            res,
            peers,
            "pinned",
            "share of first attempts < 1% within 10 s",
            Scenarios.Result::shiftSeconds,
            v -> v <= 10,
            "%.2f s"));
    for (String[] z : new String[][] {{"zone-refuses", "1"}, {"zone-hangs", "2"}}) {
      double limit = Double.parseDouble(z[1]);
      rows.add(
          row(
              res,
              peers,
              z[0],
              "zero failed calls",
              x -> (double) x.stats().failed(),
              v -> v == 0,
              "%.0f failed"));
      rows.add(
          row(
              res,
              peers,
              z[0],
              "first attempts off the zone within " + z[1] + " s",
              Scenarios.Result::shiftSeconds,
              v -> v <= limit,
              "%.2f s"));
      rows.add(
          row(
              res,
              peers,
              z[0],
              "extra load < 10% (during the fault)",
              x -> 100 * (x.stats().attemptsPerCall() - 1),
              v -> v < 10,
              "%.1f%%"));
    }
    if (sdkP99 != null) {
      double p99 = sdkP99;
      rows.add(
          row(
              res,
              peers,
              "gray-zone",
              String.format(Locale.ROOT, "p99 <= 1.5x SDK healthy p99 (%.1f ms), in x p99", p99),
              x -> x.stats().p99() / p99,
              v -> v <= 1.5,
              "%.1fx"));
    }
    rows.add(
        row(
            res,
            peers,
            "gray-zone",
            "extra requests <= 5%",
            x -> 100 * (x.stats().attemptsPerCall() - 1),
            v -> v <= 5,
            "%.1f%%"));
    rows.add(
        row(
            res,
            peers,
            "gray-zone",
            "share < 10% within 10 s",
            Scenarios.Result::shiftSeconds,
            v -> v <= 10,
            "%.2f s"));
    rows.add(
        row(
            res,
            peers,
            "total-outage",
            "attempts per call <= 1.1 (3-attempt retry: ~3)",
            x -> x.stats().attemptsPerCall(),
            v -> v <= 1.1,
            "%.2f"));
    rows.add(
        row(
            res,
            peers,
            "total-outage",
            "recovery within 2 s of the return",
            Scenarios.Result::extraValue,
            v -> v <= 2,
            "%.2f s"));
    rows.add(
        row(
            res,
            peers,
            "region-evacuation",
            "no failed calls",
            x -> (double) x.stats().failed(),
            v -> v == 0,
            "%.0f failed"));
    rows.add(
        row(
            res,
            peers,
            "region-evacuation",
            "fail-back only after 10 s clean (hysteresis)",
            Scenarios.Result::extraValue,
            v -> v >= 10 && !Double.isInfinite(v),
            "%.0f s"));
    rows.add(
        row(
            res,
            peers,
            "flapping",
            "at most 1 routing change per 30 s",
            Scenarios.Result::extraValue,
            v -> v <= 1,
            "%.1f / 30 s"));
    rows.add(
        row(
            res,
            peers,
            "client-busy",
            "first attempts in the home zone >= 95% (saturated and 8 s after)",
            Scenarios.Result::extraValue,
            v -> v >= 95,
            "%.1f%%"));
    rows.add(
        row(
            res,
            peers,
            "client-busy",
            "no zone evacuated and no endpoint ejected (count of both)",
            Scenarios.Result::judged,
            v -> v == 0,
            "%.0f"));
    rows.add(
        row(
            res,
            peers,
            "client-busy",
            "zero failed calls",
            x -> (double) x.stats().failed(),
            v -> v == 0,
            "%.0f failed"));
    return rows;
  }

  /** Replaces the section of {@code doc} between {@code begin} and {@code end}, or appends it. */
  static void write(Path doc, String section, String begin, String end) throws IOException {
    String text = Files.exists(doc) ? Files.readString(doc, StandardCharsets.UTF_8) : "";
    int b = text.indexOf(begin);
    int e = text.indexOf(end);
    String out;
    if (b >= 0 && e > b) {
      out = text.substring(0, b) + section + text.substring(e + end.length() + 1);
    } else {
      out = text + (text.isEmpty() || text.endsWith("\n") ? "" : "\n") + "\n" + section;
    }
    Files.writeString(doc, out, StandardCharsets.UTF_8);
  }
}
