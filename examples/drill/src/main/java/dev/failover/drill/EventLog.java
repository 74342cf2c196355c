package dev.failover.drill;

import dev.failover.testkit.load.LoadClock;
import java.io.PrintStream;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * Notable events (phases, the host saturation, zones evacuated and restored, endpoints ejected and
 * restored), printed and kept for the report with their time from the drill's start. Until the
 * start is fixed (the warm-up) events are held, then printed at once with their negative times and
 * marked as warm-up; later ones are printed as they happen.
 *
 * <p>An event's time is taken when it is added, and it is printed, in order, by a thread of its
 * own: whoever tells an event (the timeline's thread, the SDK's, the host saturator's) never waits
 * for the console, so a slow console cannot hold up the next fault. {@link #close()} prints what is
 * left and stops that thread; later events are printed by the thread that adds them.
 */
final class EventLog implements AutoCloseable {
  /** What an event is about, for the reports' checks. */
  enum Kind {
    DRILL,
    ZONE_EVACUATED,
    ZONE_RESTORED,
    ENDPOINT_EJECTED,
    ENDPOINT_RESTORED,
    CLIENT_STALLED,
    CLIENT_RECOVERED
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
  private final ArrayDeque<String> toPrint = new ArrayDeque<>();
  private boolean begun;
  private boolean closed;
  private long startNanos;
  private @Nullable Thread printer;

  EventLog(PrintStream out, LoadClock clock) {
    this.out = out;
    this.clock = clock;
  }

  void add(String client, String text) {
    add(client, Kind.DRILL, text);
  }

  void add(String client, Kind kind, String text) {
    long now = clock.now();
    String line = null;
    synchronized (this) {
      if (begun) {
        line = record(now, client, kind, text);
      } else {
        held.add(new Held(now, client, kind, text));
      }
    }
    if (line != null) {
      out.println(line); // closed: no printer any more
    }
  }

  /**
   * The drill's start is fixed: the events held so far are printed, then the others as they come.
   * Returns at once; the printing is done by the log's own thread.
   */
  synchronized void begin(long start) {
    if (begun) {
      return;
    }
    begun = true;
    startNanos = start;
    if (!closed) {
      Thread t = new Thread(this::print, "drill-events");
      t.setDaemon(true);
      printer = t;
      t.start();
    }
    for (Held h : held) {
      String line = record(h.nanoTime(), h.client(), h.kind(), h.text());
      if (line != null) {
        out.println(line); // closed before it began
      }
    }
    held.clear();
  }

  /** Keeps the entry; returns its line if the caller must print it (no printer thread). */
  private @Nullable String record(long nanoTime, String client, Kind kind, String text) {
    Entry e = new Entry((nanoTime - startNanos) / 1e9, client, kind, text);
    entries.add(e);
    if (printer == null || closed) {
      return format(e);
    }
    toPrint.add(format(e));
    notifyAll();
    return null;
  }

  /** The printer thread: prints the lines in order until closed and every line is printed. */
  private void print() {
    while (true) {
      String line;
      synchronized (this) {
        while (toPrint.isEmpty() && !closed) {
          try {
            wait();
          } catch (InterruptedException e) {
            closed = true; // print what is left, then stop
          }
        }
        line = toPrint.poll();
        if (line == null) {
          return;
        }
      }
      out.println(line);
    }
  }

  /**
   * Prints the events not printed yet and stops the printer thread; events added later are printed
   * at once by the thread that adds them. Waits for the console however slow it is, unless
   * interrupted (then the thread finishes printing on its own and the interrupt is kept).
   */
  @Override
  public void close() {
    Thread t;
    synchronized (this) {
      closed = true;
      notifyAll();
      t = printer;
    }
    if (t != null && t != Thread.currentThread()) {
      try {
        t.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** The drill's event once a phase's faults are in place, such as {@code phase healthy begins}. */
  static String phaseBegins(String phase) {
    return "phase " + phase + " begins";
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
