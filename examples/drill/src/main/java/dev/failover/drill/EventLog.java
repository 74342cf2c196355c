package dev.failover.drill;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Notable client events (zones evacuated and restored, endpoints ejected and restored), printed at
 * once and kept for the report.
 */
final class EventLog {
  /** One event, at {@code offsetSeconds} from the drill's start. */
  record Entry(double offsetSeconds, String client, String text) {}

  private final PrintStream out;
  private final long startNanos;
  private final List<Entry> entries = new ArrayList<>();

  EventLog(PrintStream out, long startNanos) {
    this.out = out;
    this.startNanos = startNanos;
  }

  void add(String client, String text) {
    double offset = (System.nanoTime() - startNanos) / 1e9;
    if (offset < 0) {
      return; // warm-up
    }
    Entry e = new Entry(offset, client, text);
    synchronized (this) {
      entries.add(e);
    }
    out.printf(Locale.ROOT, "%6.1fs  %-8s  %s%n", offset, client, text);
  }

  synchronized List<Entry> entries() {
    return List.copyOf(entries);
  }
}
