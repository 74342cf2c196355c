package dev.failover.drill;

import dev.failover.testkit.load.LoadClock;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Notable events (phases, the host saturation, zones evacuated and restored, endpoints ejected and
 * restored), printed and kept for the report with their time from the drill's start. Until the
 * start is fixed (the warm-up) events are held, then printed at once with their negative times and
 * marked as warm-up; later ones are printed as they happen.
 */
final class EventLog {
  /** What an event is about, for the reports' checks. */
  enum Kind {
    DRILL,
    ZONE_EVACUATED,
    ZONE_RESTORED,
    ENDPOINT_EJECTED,
    ENDPOINT_RESTORED
  }

  /** One event, at {@code offsetSeconds} from the drill's start (negative in the warm-up). */
  record Entry(double offsetSeconds, String client, Kind kind, String text) {
    boolean warmUp() {
      return offsetSeconds < 0;
    }
  }

  private record Held(long nanoTime, String client, Kind kind, String text) {}

  private final PrintStream out;
  private final LoadClock clock;
  private final List<Held> held = new ArrayList<>();
  private final List<Entry> entries = new ArrayList<>();
  private boolean begun;
  private long startNanos;

  EventLog(PrintStream out, LoadClock clock) {
    this.out = out;
    this.clock = clock;
  }

  void add(String client, String text) {
    add(client, Kind.DRILL, text);
  }

  void add(String client, Kind kind, String text) {
    long now = clock.now();
    synchronized (this) {
      if (begun) {
        record(now, client, kind, text);
      } else {
        held.add(new Held(now, client, kind, text));
      }
    }
  }

  /** The drill's start is fixed: prints the events held so far, then prints as they come. */
  synchronized void begin(long start) {
    if (begun) {
      return;
    }
    begun = true;
    startNanos = start;
    for (Held h : held) {
      record(h.nanoTime(), h.client(), h.kind(), h.text());
    }
    held.clear();
  }

  private void record(long nanoTime, String client, Kind kind, String text) {
    Entry e = new Entry((nanoTime - startNanos) / 1e9, client, kind, text);
    entries.add(e);
    out.println(format(e));
  }

  /** Such as {@code " 12.3s sdk zone us-east-1a evacuated: ..."}; warm-up ones marked. */
  static String format(Entry e) {
    return String.format(
        Locale.ROOT,
        "%6.1fs  %-8s  %s%s",
        e.offsetSeconds(),
        e.client(),
        e.warmUp() ? "(warm-up) " : "",
        e.text());
  }

  synchronized List<Entry> entries() {
    return List.copyOf(entries);
  }
}
