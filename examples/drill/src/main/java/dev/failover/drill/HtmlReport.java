package dev.failover.drill;

import dev.failover.testkit.load.Lateness;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;

/**
 * A self-contained HTML report: inline SVG charts per second (latency percentiles on a log scale,
 * success rate, share of first attempts per zone), phases shaded and labelled, and the per-phase
 * table. No script, no external resource.
 */
final class HtmlReport {
  private static final int WIDTH = 1320;
  private static final int LEFT = 70;
  private static final int RIGHT = 180;
  private static final String[] CLIENT_COLORS = {"#1f5fbf", "#e0561b"};
  private static final String[] ZONE_COLORS = {
    "#1f3f8f", "#3f7fd0", "#8fbfef", "#e0761b", "#f5b97a", "#6a9f3a", "#b0d080", "#8f5fbf"
  };
  private static final String[] PHASE_FILLS = {"#f4f4f4", "#ffffff"};
  private static final String SATURATED_FILL = "#fbeedd";
  private static final String TAIL_FILL = "#e3f1e5";
  private static final String HOME_BACK_COLOR = "#1b6e2a";

  private HtmlReport() {}

  static String render(DrillResult r) {
    StringBuilder sb = new StringBuilder();
    double seconds = span(r);
    sb.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n");
    sb.append("<title>Failover SDK outage drill</title>\n<style>\n");
    sb.append(
        "body{font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;margin:24px;"
            + "color:#222;max-width:1360px}\n"
            + "h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:22px 0 4px}\n"
            + "p.meta{color:#555;font-size:13px;margin:2px 0}\n"
            + "svg{display:block}svg text{font-size:11px;fill:#333}\n"
            + "table{border-collapse:collapse;font-size:12px;margin-top:6px}\n"
            + "th,td{padding:3px 7px;text-align:right;border-bottom:1px solid #e4e4e4}\n"
            + "th{background:#f0f0f0;position:sticky;top:0}td.l,th.l{text-align:left}\n"
            + "tr.sdk td{background:#f3f7fd}tr.first td{border-top:2px solid #bbb}\n"
            + "td.bad{color:#b00020;font-weight:600}\n"
            + "p.warn{background:#fdecea;border:1px solid #d93025;color:#8a1c12;padding:8px 12px;"
            + "font-size:13px;margin:10px 0}\n"
            + "p.met{color:#1b6e2a;font-size:13px}p.unmet{color:#b00020;font-size:13px}\n"
            + "p.tail{font-size:13px;margin:4px 0}\n"
            + "li.warm{color:#777}\n"
            + "ul.events{font-size:12px;color:#444;columns:2}\n");
    sb.append("</style></head><body>\n");
    sb.append("<h1>Outage drill: Failover SDK vs. a hand-written baseline</h1>\n");
    Options o = r.options();
    sb.append("<p class=\"meta\">")
        .append(esc(r.description()))
        .append("; clients at home in ")
        .append(esc(r.homeZone()))
        .append(".</p>\n");
    sb.append("<p class=\"meta\">")
        .append(o.rate())
        .append(" calls/s per client, open loop (latency from the intended send time), ")
        .append(Options.format(o.duration()))
        .append(", deadline ")
        .append(Options.format(o.deadline()))
        .append(", seed ")
        .append(o.seed())
        .append(". sdk: FailoverClient with health checks, adaptive hedging (5%), stale-if-error. ")
        .append("baseline: OkHttp round robin over every endpoint + Resilience4j Retry ")
        .append("(3 attempts, exponential backoff, each retry in another zone).</p>\n");
    sb.append("<p class=\"meta\">Warm-up: ")
        .append(r.warmUp().toSeconds())
        .append(" s of the same load before 0 s, not recorded; the clock starts when the clients")
        .append(" are built and the warm-up has ended. Machine: ")
        .append(esc(r.loadAtStart().describe()))
        .append(" at start; ")
        .append(esc(r.loadAtEnd().describe()))
        .append(" at end.</p>\n");
    sb.append("<p class=\"meta\">Build and JVM: ")
        .append(esc(r.provenance().describe()))
        .append(".</p>\n");
    List<String> warning = TextReport.lagWarning(r);
    if (warning != null) {
      sb.append("<p class=\"warn\">").append(esc(String.join(" ", warning))).append("</p>\n");
    }
    for (Expectation e : r.expectations()) {
      sb.append("<p class=\"")
          .append(e.met() ? "met" : "unmet")
          .append("\">")
          .append(esc(TextReport.expectation(e)))
          .append("</p>\n");
    }

    FailBackTail tail = r.tail();
    if (tail != null) {
      sb.append("<p class=\"tail\"><b>Fail-back:</b> ")
          .append(esc(tail.verdict()))
          .append(tail.max().isZero() ? "" : "; the tail is shaded green after the phases")
          .append(".</p>\n");
    }
    sb.append("<h2>Latency per second (log scale): p50 solid, p99 dashed</h2>\n");
    latencyChart(sb, r, seconds);
    sb.append("<h2>Success rate per second</h2>\n");
    successChart(sb, r, seconds);
    for (int c = 0; c < r.clients().size(); c++) {
      Stats st = r.clients().get(c);
      sb.append("<h2>Share of first attempts per zone: ").append(esc(st.client)).append("</h2>\n");
      shareChart(sb, r, st, seconds);
    }
    sb.append("<h2>Per phase</h2>\n");
    table(sb, r);
    if (tail != null && !tail.max().isZero()) {
      sb.append("<h2>Fail-back tail (not in the phases)</h2>\n");
      tailTable(sb, r, tail);
    }
    sb.append("<h2>Load generator</h2>\n");
    generatorTable(sb, r);
    if (!r.events().isEmpty()) {
      sb.append("<h2>Events</h2>\n<ul class=\"events\">\n");
      for (EventLog.Entry e : r.events()) {
        sb.append(e.warmUp() ? "<li class=\"warm\">" : "<li>")
            .append(String.format(Locale.ROOT, "%.1f s", e.offsetSeconds()))
            .append(e.warmUp() ? " (warm-up) " : " ")
            .append(esc(e.client()))
            .append(": ")
            .append(esc(e.text()))
            .append("</li>\n");
      }
      sb.append("</ul>\n");
    }
    sb.append("</body></html>\n");
    return sb.toString();
  }

  // ---- charts ----

  /** The seconds the charts span: the drill's, then the tail's. */
  private static double span(DrillResult r) {
    if (r.clients().isEmpty()) {
      return 1;
    }
    double seconds = r.clients().get(0).secondCount();
    FailBackTail t = r.tail();
    if (t != null && t.seconds() > 0) {
      seconds = Math.max(seconds, t.start().toMillis() / 1000.0 + t.seconds());
    }
    return seconds;
  }

  /** One second of a client's results, at {@code at} seconds from the start. */
  private record Point(double at, Stats.Summary s) {}

  /** A client's seconds in order: the drill's, then the tail's. */
  private static List<Point> points(DrillResult r, Stats st) {
    List<Point> out = new ArrayList<>();
    for (int i = 0; i < st.secondCount(); i++) {
      out.add(new Point(i, st.second(i)));
    }
    FailBackTail t = r.tail();
    if (t != null) {
      for (int k = 0; k < t.seconds(); k++) {
        out.add(new Point(t.start().toMillis() / 1000.0 + k, st.tailSecond(k)));
      }
    }
    return out;
  }

  private static final class Frame {
    final int height;
    final int top = 22;
    final int bottom = 26;
    final double seconds;

    Frame(int height, double seconds) {
      this.height = height;
      this.seconds = seconds;
    }

    double x(double second) {
      return LEFT + (WIDTH - LEFT - RIGHT) * second / seconds;
    }

    int plotBottom() {
      return height - bottom;
    }

    int plotHeight() {
      return height - top - bottom;
    }
  }

  private static void open(StringBuilder sb, Frame f, String label) {
    sb.append(
        String.format(
            Locale.ROOT,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" role=\"img\""
                + " aria-label=\"%s\">\n",
            WIDTH,
            f.height,
            esc(label)));
  }

  /** The tail shaded after the phases. */
  private static void tail(StringBuilder sb, Frame f, DrillResult r) {
    FailBackTail t = r.tail();
    if (t == null) {
      return;
    }
    if (t.seconds() > 0) {
      double x0 = f.x(t.start().toMillis() / 1000.0);
      double x1 = f.x(t.stop().toMillis() / 1000.0);
      sb.append(
          String.format(
              Locale.ROOT,
              // the plot's background, and the label band above it (stacked bars hide the former)
              "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"/>\n"
                  + "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#bbb\""
                  + " stroke-dasharray=\"2,3\"/>\n"
                  + "<text x=\"%.1f\" y=\"%d\" font-weight=\"600\">tail</text>\n",
              x0,
              f.top - 18,
              Math.max(0, x1 - x0),
              f.plotHeight() + 18,
              TAIL_FILL,
              x0,
              f.top - 14,
              x0,
              f.plotBottom(),
              x0 + 4,
              f.top - 5));
    }
  }

  /** A line where the sdk was back home, over the chart. */
  private static void homeBack(StringBuilder sb, Frame f, DrillResult r) {
    FailBackTail t = r.tail();
    Double back = t == null ? null : t.homeBackAt();
    if (back != null) {
      double x = f.x(back);
      sb.append(
          String.format(
              Locale.ROOT,
              "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"%s\""
                  + " stroke-width=\"1.5\"/>\n<text x=\"%.1f\" y=\"%d\" fill=\"%s\""
                  + " text-anchor=\"end\">sdk home %.1f s</text>\n",
              x,
              f.top,
              x,
              f.plotBottom(),
              HOME_BACK_COLOR,
              x - 3,
              f.top + 12,
              HOME_BACK_COLOR,
              back));
    }
  }

  private static void phases(StringBuilder sb, Frame f, List<Phase> phases) {
    for (int i = 0; i < phases.size(); i++) {
      Phase p = phases.get(i);
      double x0 = f.x(p.start().toMillis() / 1000.0);
      double x1 = f.x(Math.min(f.seconds, p.end().toMillis() / 1000.0));
      sb.append(
          String.format(
              Locale.ROOT,
              "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"/>\n",
              x0,
              f.top,
              Math.max(0, x1 - x0),
              f.plotHeight(),
              p.saturatesClient() ? SATURATED_FILL : PHASE_FILLS[i % 2]));
      sb.append(
          String.format(
              Locale.ROOT,
              "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#bbb\""
                  + " stroke-dasharray=\"2,3\"/>\n",
              x0,
              f.top - 14,
              x0,
              f.plotBottom()));
      sb.append(
          String.format(
              Locale.ROOT,
              "<text x=\"%.1f\" y=\"%d\" font-weight=\"600\">%s</text>\n",
              x0 + 4,
              f.top - 5,
              esc(p.name())));
    }
  }

  private static void xAxis(StringBuilder sb, Frame f) {
    int step = f.seconds <= 20 ? 2 : f.seconds <= 80 ? 5 : f.seconds <= 200 ? 15 : 60;
    for (int s = 0; s <= f.seconds + 1e-9; s += step) {
      double x = f.x(s);
      sb.append(
          String.format(
              Locale.ROOT,
              "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#999\"/>"
                  + "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%ds</text>\n",
              x,
              f.plotBottom(),
              x,
              f.plotBottom() + 4,
              x,
              f.plotBottom() + 16,
              s));
    }
    sb.append(
        String.format(
            Locale.ROOT,
            "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"none\" stroke=\"#999\"/>\n",
            LEFT,
            f.top,
            f.x(f.seconds) - LEFT,
            f.plotHeight()));
  }

  private static void yTick(StringBuilder sb, Frame f, double y, String label) {
    sb.append(
        String.format(
            Locale.ROOT,
            "<line x1=\"%d\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                + "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
            LEFT,
            y,
            f.x(f.seconds),
            y,
            LEFT - 6,
            y + 4,
            esc(label)));
  }

  private static void legend(
      StringBuilder sb, Frame f, int row, String color, String dash, String text) {
    double x = f.x(f.seconds) + 14;
    double y = f.top + 10 + row * 18;
    sb.append(
        String.format(
            Locale.ROOT,
            "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\""
                + " stroke-width=\"2.5\"%s/><text x=\"%.1f\" y=\"%.1f\">%s</text>\n",
            x,
            y,
            x + 24,
            y,
            color,
            dash.isEmpty() ? "" : " stroke-dasharray=\"" + dash + "\"",
            x + 30,
            y + 4,
            esc(text)));
  }

  private static void swatch(StringBuilder sb, Frame f, int row, String color, String text) {
    double x = f.x(f.seconds) + 14;
    double y = f.top + 10 + row * 18;
    sb.append(
        String.format(
            Locale.ROOT,
            "<rect x=\"%.1f\" y=\"%.1f\" width=\"14\" height=\"12\" fill=\"%s\"/>"
                + "<text x=\"%.1f\" y=\"%.1f\">%s</text>\n",
            x,
            y - 6,
            color,
            x + 20,
            y + 4,
            esc(text)));
  }

  private static void series(
      StringBuilder sb,
      Frame f,
      List<Point> seconds,
      ToDoubleFunction<Stats.Summary> value,
      java.util.function.DoubleUnaryOperator toY,
      String color,
      String dash) {
    StringBuilder points = new StringBuilder();
    List<String> runs = new ArrayList<>();
    for (Point pt : seconds) {
      double v = value.applyAsDouble(pt.s());
      if (Double.isNaN(v)) {
        if (points.length() > 0) {
          runs.add(points.toString());
          points.setLength(0);
        }
        continue;
      }
      points.append(
          String.format(Locale.ROOT, "%.1f,%.1f ", f.x(pt.at() + 0.5), toY.applyAsDouble(v)));
    }
    if (points.length() > 0) {
      runs.add(points.toString());
    }
    for (String run : runs) {
      sb.append("<polyline fill=\"none\" stroke=\"")
          .append(color)
          .append("\" stroke-width=\"2\" stroke-linejoin=\"round\"")
          .append(dash.isEmpty() ? "" : " stroke-dasharray=\"" + dash + "\"")
          .append(" points=\"")
          .append(run.strip())
          .append("\"/>\n");
    }
  }

  private static void latencyChart(StringBuilder sb, DrillResult r, double seconds) {
    Frame f = new Frame(330, seconds);
    double max = r.options().deadline().toMillis() * 1.5;
    for (Stats st : r.clients()) {
      for (Point pt : points(r, st)) {
        Stats.Percentiles p = pt.s().latency();
        if (p != null) {
          max = Math.max(max, p.p99());
        }
      }
    }
    double lo = Math.log10(1);
    double hi = Math.log10(max * 1.1);
    java.util.function.DoubleUnaryOperator toY =
        v -> f.plotBottom() - f.plotHeight() * (Math.log10(Math.max(1, v)) - lo) / (hi - lo);
    begin(sb, f, "latency per second", r);
    for (double t : new double[] {1, 3, 10, 30, 100, 300, 1000, 3000, 10_000, 30_000}) {
      if (Math.log10(t) <= hi) {
        yTick(sb, f, toY.applyAsDouble(t), t >= 1000 ? (long) (t / 1000) + " s" : (long) t + " ms");
      }
    }
    for (int c = 0; c < r.clients().size(); c++) {
      Stats st = r.clients().get(c);
      String color = CLIENT_COLORS[c % CLIENT_COLORS.length];
      List<Point> pts = points(r, st);
      series(sb, f, pts, s -> s.latency() == null ? Double.NaN : s.latency().p50(), toY, color, "");
      series(
          sb, f, pts, s -> s.latency() == null ? Double.NaN : s.latency().p99(), toY, color, "6,4");
      legend(sb, f, c * 2, color, "", st.client + " p50");
      legend(sb, f, c * 2 + 1, color, "6,4", st.client + " p99");
    }
    end(sb, f, r);
  }

  private static void successChart(StringBuilder sb, DrillResult r, double seconds) {
    Frame f = new Frame(240, seconds);
    java.util.function.DoubleUnaryOperator toY = v -> f.plotBottom() - f.plotHeight() * v / 100;
    begin(sb, f, "success rate per second", r);
    for (int t = 0; t <= 100; t += 25) {
      yTick(sb, f, toY.applyAsDouble(t), t + "%");
    }
    for (int c = 0; c < r.clients().size(); c++) {
      Stats st = r.clients().get(c);
      String color = CLIENT_COLORS[c % CLIENT_COLORS.length];
      series(sb, f, points(r, st), Stats.Summary::successPercent, toY, color, "");
      legend(sb, f, c, color, "", st.client);
    }
    end(sb, f, r);
  }

  private static void shareChart(StringBuilder sb, DrillResult r, Stats st, double seconds) {
    Frame f = new Frame(200, seconds);
    begin(sb, f, "share of first attempts per zone, " + st.client, r);
    for (int t = 0; t <= 100; t += 50) {
      yTick(sb, f, f.plotBottom() - f.plotHeight() * t / 100.0, t + "%");
    }
    List<String> zones = st.zones;
    for (Point pt : points(r, st)) {
      Stats.Summary s = pt.s();
      double y = f.plotBottom();
      double x0 = f.x(pt.at());
      double w = f.x(pt.at() + 1) - x0;
      for (int z = 0; z < zones.size(); z++) {
        double share = s.share(zones.get(z));
        if (Double.isNaN(share) || share <= 0) {
          continue;
        }
        double h = f.plotHeight() * share;
        y -= h;
        sb.append(
            String.format(
                Locale.ROOT,
                "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>\n",
                x0,
                y,
                w + 0.3,
                h + 0.3,
                ZONE_COLORS[z % ZONE_COLORS.length]));
      }
    }
    for (int z = 0; z < zones.size(); z++) {
      swatch(sb, f, z, ZONE_COLORS[z % ZONE_COLORS.length], zones.get(z));
    }
    end(sb, f, r);
  }

  private static void begin(StringBuilder sb, Frame f, String label, DrillResult r) {
    open(sb, f, label);
    phases(sb, f, r.phases());
    tail(sb, f, r);
    xAxis(sb, f);
  }

  private static void end(StringBuilder sb, Frame f, DrillResult r) {
    homeBack(sb, f, r);
    sb.append("</svg>\n");
  }

  // ---- table ----

  private static void table(StringBuilder sb, DrillResult r) {
    sb.append("<table>\n<tr><th class=\"l\">phase</th><th class=\"l\">client</th><th>calls</th>")
        .append("<th>failed</th><th>stale</th><th>success</th><th>p50 ms</th><th>p90 ms</th>")
        .append("<th>p99 ms</th><th>p99.9 ms</th><th>max ms</th><th>attempts/call</th>")
        .append("<th>hedges</th><th>retries</th>");
    for (String z : r.zones()) {
      sb.append("<th>").append(esc(z)).append("</th>");
    }
    sb.append("</tr>\n");
    List<Phase> rows = rowsWithTotal(r);
    for (Phase p : rows) {
      boolean firstRow = true;
      for (Stats st : r.clients()) {
        Stats.Summary s = p.name().equals("all phases") ? st.total() : st.phase(p.name());
        Stats.Percentiles l = s.latency();
        sb.append("<tr class=\"")
            .append(st.client.equals("sdk") ? "sdk" : "")
            .append(firstRow ? " first" : "")
            .append("\"><td class=\"l\">")
            .append(firstRow ? esc(p.name()) : "")
            .append("</td><td class=\"l\">")
            .append(esc(st.client))
            .append("</td>");
        cell(sb, Long.toString(s.calls()), false);
        cell(sb, Long.toString(s.failed()), s.failed() > 0);
        cell(sb, Long.toString(s.stale()), false);
        cell(sb, TextReport.percent(s.successPercent()), s.successPercent() < 99.9);
        cell(sb, l == null ? "-" : TextReport.millis(l.p50()), false);
        cell(sb, l == null ? "-" : TextReport.millis(l.p90()), false);
        cell(sb, l == null ? "-" : TextReport.millis(l.p99()), false);
        cell(sb, l == null ? "-" : TextReport.millis(l.p999()), false);
        cell(sb, l == null ? "-" : TextReport.millis(l.max()), false);
        cell(sb, TextReport.ratio(s.attemptsPerCall()), false);
        cell(sb, Long.toString(s.hedges()), false);
        cell(sb, Long.toString(s.retries()), false);
        for (String z : r.zones()) {
          cell(sb, TextReport.share(s.share(z)), false);
        }
        sb.append("</tr>\n");
        firstRow = false;
      }
    }
    sb.append("</table>\n");
    sb.append(
        "<p class=\"meta\">success = calls answered 2xx (stale copies included) / calls; "
            + "latency from the intended send time, over every call sent; attempts/call counts "
            + "first attempts, retries, hedges and probes; zone columns = share of first "
            + "attempts.</p>\n");
    for (String line : TextReport.unaccounted(r)) {
      sb.append("<p class=\"warn\">").append(esc(line)).append("</p>\n");
    }
  }

  /** The phases, then {@code all phases} if there is more than one. */
  private static List<Phase> rowsWithTotal(DrillResult r) {
    List<Phase> rows = new ArrayList<>(r.phases());
    if (r.phases().size() > 1) {
      rows.add(new Phase("all phases", rows.get(0).start(), rows.get(rows.size() - 1).end(), ""));
    }
    return rows;
  }

  /** The tail's calls per client, apart from the phases, and how it ended. */
  private static void tailTable(StringBuilder sb, DrillResult r, FailBackTail t) {
    sb.append("<table>\n<tr><th class=\"l\">client</th><th>calls</th><th>failed</th>")
        .append("<th>success</th><th>p50 ms</th><th>p99 ms</th><th>max ms</th>")
        .append("<th>attempts/call</th>");
    for (String z : r.zones()) {
      sb.append("<th>").append(esc(z)).append("</th>");
    }
    sb.append("</tr>\n");
    for (Stats st : r.clients()) {
      Stats.Summary s = st.tailTotal();
      Stats.Percentiles l = s.latency();
      sb.append("<tr class=\"")
          .append(st.client.equals("sdk") ? "sdk" : "")
          .append("\"><td class=\"l\">")
          .append(esc(st.client))
          .append("</td>");
      cell(sb, Long.toString(s.calls()), false);
      cell(sb, Long.toString(s.failed()), s.failed() > 0);
      cell(sb, TextReport.percent(s.successPercent()), s.successPercent() < 99.9);
      cell(sb, l == null ? "-" : TextReport.millis(l.p50()), false);
      cell(sb, l == null ? "-" : TextReport.millis(l.p99()), false);
      cell(sb, l == null ? "-" : TextReport.millis(l.max()), false);
      cell(sb, TextReport.ratio(s.attemptsPerCall()), false);
      for (String z : r.zones()) {
        cell(sb, TextReport.share(s.share(z)), false);
      }
      sb.append("</tr>\n");
    }
    sb.append("</table>\n");
    Lateness.Summary late = r.generator().tailTotal();
    sb.append("<p class=\"meta\">")
        .append(
            esc(
                String.format(
                    Locale.ROOT,
                    "The tail ran %.1f s to %.1f s (%d s of at most %d s): %s. Fail-back is"
                        + " deliberately not instant: the sdk waits out a bounded hysteresis"
                        + " before it sends first attempts home again, so the load goes on after"
                        + " the last phase until at least %.0f%% of its first attempts go to %s %d"
                        + " seconds in a row. Load generator in the tail: %d of %d calls sent"
                        + " late.",
                    t.start().toMillis() / 1000.0,
                    t.stop().toMillis() / 1000.0,
                    t.seconds(),
                    t.max().toSeconds(),
                    t.ended() != FailBackTail.Ended.HOME
                        ? "its time was up before the sdk was back home"
                        : t.homeSeenAtTheEnd()
                            ? "its time was up as the sdk came back home (seen once its last calls"
                                + " ended)"
                            : "it ended as the sdk was back home",
                    FailBackTail.HOME_SHARE * 100,
                    t.homeZone(),
                    FailBackTail.IN_A_ROW,
                    late.late(),
                    late.calls())))
        .append("</p>\n");
  }

  private static void generatorTable(StringBuilder sb, DrillResult r) {
    GeneratorLag lag = r.generator();
    sb.append("<table>\n<tr><th class=\"l\">phase</th><th>calls</th>")
        .append("<th>sent late</th><th>max lag ms</th><th class=\"l\"></th></tr>\n");
    List<Phase> rows = rowsWithTotal(r);
    for (Phase p : rows) {
      Lateness.Summary s = p.name().equals("all phases") ? lag.total() : lag.phase(p.name());
      sb.append("<tr><td class=\"l\">").append(esc(p.name())).append("</td>");
      cell(sb, Long.toString(s.calls()), false);
      cell(sb, Long.toString(s.late()), s.late() > 0 && !p.saturatesClient());
      cell(sb, TextReport.millis(s.maxLagMillis()), false);
      sb.append("<td class=\"l\">")
          .append(p.saturatesClient() ? "host saturated on purpose" : "")
          .append("</td></tr>\n");
    }
    sb.append("</table>\n");
    sb.append(
        "<p class=\"meta\">late = sent more than "
            + Lateness.LATE.toMillis()
            + " ms after the due time by the drill's own load generator; such a call's latency"
            + " includes that lag.</p>\n");
  }

  private static void cell(StringBuilder sb, String text, boolean bad) {
    sb.append(bad ? "<td class=\"bad\">" : "<td>").append(esc(text)).append("</td>");
  }

  static String esc(String s) {
    return s.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\"", "&quot;");
  }
}
