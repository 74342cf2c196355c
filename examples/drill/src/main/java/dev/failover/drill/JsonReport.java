package dev.failover.drill;

import dev.failover.testkit.load.Lateness;
import dev.failover.testkit.load.MachineLoad;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/** The results as JSON, written by hand; the schema is in docs/drill.md. */
final class JsonReport {
  private JsonReport() {}

  static String render(DrillResult r) {
    StringBuilder sb = new StringBuilder();
    sb.append("{\n  \"drill\": {");
    sb.append("\"mode\": ").append(str(r.mode()));
    sb.append(", \"target\": ").append(str(r.description()));
    sb.append(", \"duration_s\": ").append(num(r.options().duration().toMillis() / 1000.0));
    sb.append(", \"rate\": ").append(r.options().rate());
    sb.append(", \"seed\": ").append(r.options().seed());
    sb.append(", \"deadline_ms\": ").append(r.options().deadline().toMillis());
    sb.append(", \"warm_up_s\": ").append(num(r.warmUp().toMillis() / 1000.0));
    sb.append(", \"home\": {\"region\": ").append(str(r.homeRegion()));
    sb.append(", \"zone\": ").append(str(r.homeZone())).append('}');
    sb.append(", \"zones\": [");
    for (int i = 0; i < r.zones().size(); i++) {
      sb.append(i == 0 ? "" : ", ").append(str(r.zones().get(i)));
    }
    sb.append("],\n    \"machine\": {\"processors\": ").append(r.loadAtStart().processors());
    sb.append(", \"load_start\": ");
    load(sb, r.loadAtStart());
    sb.append(", \"load_end\": ");
    load(sb, r.loadAtEnd());
    sb.append("},\n    \"provenance\": ");
    provenance(sb, r.provenance());
    sb.append(",\n    \"phases\": [");
    List<Phase> phases = r.phases();
    for (int i = 0; i < phases.size(); i++) {
      Phase p = phases.get(i);
      sb.append(i == 0 ? "\n      " : ",\n      ");
      sb.append("{\"name\": ").append(str(p.name()));
      sb.append(", \"start_s\": ").append(num(p.start().toMillis() / 1000.0));
      sb.append(", \"end_s\": ").append(num(p.end().toMillis() / 1000.0));
      Double began = began(r.events(), p);
      sb.append(", \"began_s\": ").append(began == null ? "null" : num(began));
      sb.append(", \"description\": ").append(str(p.description()));
      sb.append(", \"saturates_client\": ").append(p.saturatesClient()).append('}');
    }
    sb.append("]},\n  \"generator\": ");
    generator(sb, r);
    sb.append(",\n  \"clients\": {");
    List<Stats> clients = r.clients();
    for (int c = 0; c < clients.size(); c++) {
      Stats st = clients.get(c);
      sb.append(c == 0 ? "\n" : ",\n");
      sb.append("    ").append(str(st.client)).append(": {\n      \"phases\": [");
      for (int i = 0; i < phases.size(); i++) {
        Phase p = phases.get(i);
        sb.append(i == 0 ? "\n        " : ",\n        ");
        bucket(sb, st.phase(p.name()), "\"phase\": " + str(p.name()), st.zones);
      }
      sb.append("\n      ],\n      \"seconds\": [");
      for (int i = 0; i < st.secondCount(); i++) {
        Stats.Summary s = st.second(i);
        sb.append(i == 0 ? "\n        " : ",\n        ");
        bucket(sb, s, "\"second\": " + i + ", \"phase\": " + str(s.phase().name()), st.zones);
      }
      sb.append("\n      ],\n      \"total\": ");
      bucket(sb, st.total(), "\"phase\": \"total\"", st.zones);
      sb.append("\n    }");
    }
    sb.append("\n  },\n  \"tail\": ");
    tail(sb, r);
    sb.append(",\n  \"events\": [");
    List<EventLog.Entry> events = r.events();
    for (int i = 0; i < events.size(); i++) {
      EventLog.Entry e = events.get(i);
      sb.append(i == 0 ? "\n    " : ",\n    ");
      sb.append("{\"t_s\": ").append(num(e.offsetSeconds()));
      sb.append(", \"client\": ").append(str(e.client()));
      sb.append(", \"text\": ").append(str(e.text()));
      sb.append(", \"warm_up\": ").append(e.warmUp()).append('}');
    }
    sb.append("\n  ],\n  \"expectations\": [");
    List<Expectation> expectations = r.expectations();
    for (int i = 0; i < expectations.size(); i++) {
      Expectation e = expectations.get(i);
      sb.append(i == 0 ? "\n    " : ",\n    ");
      sb.append("{\"phase\": ").append(str(e.phase()));
      sb.append(", \"client\": ").append(str(e.client()));
      sb.append(", \"expected\": ").append(str(e.expected()));
      sb.append(", \"seen\": ").append(str(e.seen()));
      sb.append(", \"met\": ").append(e.met()).append('}');
    }
    sb.append(expectations.isEmpty() ? "]\n}\n" : "\n  ]\n}\n");
    return sb.toString();
  }

  /**
   * When the phase's faults actually went on: the time of its {@code phase <name> begins} event,
   * told once its timeline step has run; null if there is none (no scripted fault, or the drill
   * ended first).
   */
  static @Nullable Double began(List<EventLog.Entry> events, Phase p) {
    String text = EventLog.phaseBegins(p.name());
    for (EventLog.Entry e : events) {
      if (e.client().equals("drill") && e.text().equals(text)) {
        return e.offsetSeconds();
      }
    }
    return null;
  }

  /** The fail-back tail, apart from the phases; null when there is none to watch. */
  private static void tail(StringBuilder sb, DrillResult r) {
    FailBackTail t = r.tail();
    if (t == null) {
      sb.append("null");
      return;
    }
    Double back = t.homeBackAt();
    Double began = t.healBegan();
    sb.append("{\"max_s\": ").append(t.max().toSeconds());
    sb.append(", \"start_s\": ").append(num(t.start().toMillis() / 1000.0));
    sb.append(", \"end_s\": ").append(num(t.stop().toMillis() / 1000.0));
    sb.append(", \"healed_s\": ").append(num(t.healedAt().toMillis() / 1000.0));
    sb.append(", \"heal_began_s\": ").append(began == null ? "null" : num(began));
    sb.append(",\n    \"rule\": {\"zone\": ").append(str(t.homeZone()));
    sb.append(", \"share\": ").append(num(FailBackTail.HOME_SHARE));
    sb.append(", \"seconds_in_a_row\": ").append(FailBackTail.IN_A_ROW).append('}');
    sb.append(", \"ended\": ").append(str(t.ended().name().toLowerCase(Locale.ROOT)));
    sb.append(", \"home_back_at_s\": ").append(back == null ? "null" : num(back));
    sb.append(", \"back_after_s\": ").append(back == null ? "null" : num(back - t.healedSeconds()));
    sb.append(",\n    \"verdict\": ").append(str(t.verdict()));
    sb.append(",\n    \"generator\": {");
    lag(sb, r.generator().tailTotal());
    sb.append("},\n    \"total\": {");
    List<Stats> clients = r.clients();
    for (int c = 0; c < clients.size(); c++) {
      Stats st = clients.get(c);
      sb.append(c == 0 ? "\n      " : ",\n      ").append(str(st.client)).append(": ");
      bucket(sb, st.tailTotal(), "\"phase\": " + str(Stats.TAIL), st.zones);
    }
    sb.append("},\n    \"seconds\": [");
    for (int i = 0; i < t.seconds(); i++) {
      double at = t.start().toMillis() / 1000.0 + i;
      sb.append(i == 0 ? "\n      " : ",\n      ");
      sb.append("{\"t_s\": ").append(num(at)).append(", \"generator\": {");
      lag(sb, r.generator().tailSecond(i));
      sb.append('}');
      for (Stats st : clients) {
        sb.append(",\n       ").append(str(st.client)).append(": ");
        bucket(sb, st.tailSecond(i), "\"phase\": " + str(Stats.TAIL), st.zones);
      }
      sb.append('}');
    }
    sb.append("]}");
  }

  private static void provenance(StringBuilder sb, Provenance p) {
    sb.append("{\"version\": ").append(str(p.version()));
    sb.append(", \"commit\": ").append(str(p.commit()));
    sb.append(", \"java_version\": ").append(str(p.javaVersion()));
    sb.append(", \"java_vendor\": ").append(str(p.javaVendor()));
    sb.append(", \"gc\": [");
    for (int i = 0; i < p.gc().size(); i++) {
      sb.append(i == 0 ? "" : ", ").append(str(p.gc().get(i)));
    }
    sb.append("], \"max_heap_mb\": ").append(p.maxHeapBytes() >> 20).append('}');
  }

  private static void load(StringBuilder sb, MachineLoad m) {
    sb.append("{\"1m\": ").append(num(m.load1()));
    sb.append(", \"5m\": ").append(num(m.load5()));
    sb.append(", \"15m\": ").append(num(m.load15())).append('}');
  }

  private static void generator(StringBuilder sb, DrillResult r) {
    GeneratorLag lag = r.generator();
    sb.append("{\"late_threshold_ms\": ").append(Lateness.LATE.toMillis());
    sb.append(", \"planned\": ").append(r.plannedCalls());
    sb.append(", \"lagged\": ").append(lag.lagged());
    sb.append(", ");
    lag(sb, lag.total());
    sb.append(",\n    \"outside_saturated\": {");
    lag(sb, lag.unexpected());
    sb.append("},\n    \"phases\": [");
    for (int i = 0; i < r.phases().size(); i++) {
      String name = r.phases().get(i).name();
      sb.append(i == 0 ? "\n      " : ",\n      ");
      sb.append("{\"phase\": ").append(str(name)).append(", ");
      lag(sb, lag.phase(name));
      sb.append('}');
    }
    sb.append("],\n    \"seconds\": [");
    for (int i = 0; i < lag.secondCount(); i++) {
      sb.append(i == 0 ? "\n      " : ",\n      ");
      sb.append("{\"second\": ").append(i).append(", ");
      lag(sb, lag.second(i));
      sb.append('}');
    }
    sb.append("]}");
  }

  private static void lag(StringBuilder sb, Lateness.Summary s) {
    sb.append("\"calls\": ").append(s.calls());
    sb.append(", \"late\": ").append(s.late());
    sb.append(", \"max_lag_ms\": ").append(num(s.maxLagMillis()));
  }

  static void bucket(StringBuilder sb, Stats.Summary s, String key, List<String> zones) {
    Stats.Percentiles p = s.latency();
    sb.append('{').append(key);
    sb.append(", \"calls\": ").append(s.calls());
    sb.append(", \"ok\": ").append(s.ok());
    sb.append(", \"failed\": ").append(s.failed());
    sb.append(", \"unfinished\": ").append(s.unfinished());
    sb.append(", \"stale\": ").append(s.stale());
    sb.append(", \"not_sent\": ").append(s.notSent());
    sb.append(", \"attempts\": ").append(s.attempts());
    sb.append(", \"hedges\": ").append(s.hedges());
    sb.append(", \"retries\": ").append(s.retries());
    sb.append(", \"p50_ms\": ").append(p == null ? "null" : num(p.p50()));
    sb.append(", \"p90_ms\": ").append(p == null ? "null" : num(p.p90()));
    sb.append(", \"p99_ms\": ").append(p == null ? "null" : num(p.p99()));
    sb.append(", \"p999_ms\": ").append(p == null ? "null" : num(p.p999()));
    sb.append(", \"max_ms\": ").append(p == null ? "null" : num(p.max()));
    sb.append(", \"share_by_zone\": {");
    Map<String, Double> share = s.shareByZone();
    boolean first = true;
    for (String z : zones) {
      Double v = share.get(z);
      if (v == null) {
        continue;
      }
      sb.append(first ? "" : ", ").append(str(z)).append(": ").append(num(v));
      first = false;
    }
    sb.append("}}");
  }

  static String num(double d) {
    if (Double.isNaN(d) || Double.isInfinite(d)) {
      return "null";
    }
    String text =
        BigDecimal.valueOf(d)
            .setScale(4, RoundingMode.HALF_UP)
            .stripTrailingZeros()
            .toPlainString();
    return text.equals("-0") ? "0" : text;
  }

  static String str(String s) {
    StringBuilder sb = new StringBuilder("\"");
    for (int i = 0; i < s.length(); i++) {
      char ch = s.charAt(i);
      switch (ch) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          if (ch < 0x20) {
            sb.append(String.format(Locale.ROOT, "\\u%04x", (int) ch));
          } else {
            sb.append(ch);
          }
        }
      }
    }
    return sb.append('"').toString();
  }
}
