package dev.failover.drill;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The machine's load at one moment: the load averages over 1, 5 and 15 minutes ({@code
 * /proc/loadavg}; elsewhere the JVM's 1-minute figure) and the processors available to the JVM. A
 * figure the platform does not give is NaN.
 */
record MachineLoad(int processors, double load1, double load5, double load15) {
  private static final Path LOADAVG = Path.of("/proc/loadavg");

  static MachineLoad now() {
    int processors = Runtime.getRuntime().availableProcessors();
    try {
      String[] f = Files.readString(LOADAVG, StandardCharsets.US_ASCII).trim().split("\\s+", -1);
      return new MachineLoad(
          processors, Double.parseDouble(f[0]), Double.parseDouble(f[1]), Double.parseDouble(f[2]));
    } catch (IOException | RuntimeException e) {
      double one = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
      return new MachineLoad(processors, one < 0 ? Double.NaN : one, Double.NaN, Double.NaN);
    }
  }

  /** Such as {@code load average 1.52 0.98 0.40 (1, 5, 15 min), 2 processors}. */
  String describe() {
    return String.format(
        Locale.ROOT,
        "load average %s (1, 5, 15 min), %d processor%s",
        averages(),
        processors,
        processors == 1 ? "" : "s");
  }

  /** Such as {@code 1.52 0.98 0.40}: over 1, 5 and 15 minutes. */
  String averages() {
    return figure(load1) + " " + figure(load5) + " " + figure(load15);
  }

  /** Whether more was runnable over the last minute than there are processors. */
  boolean busy() {
    return load1 > processors;
  }

  private static String figure(double d) {
    return Double.isNaN(d) ? "?" : String.format(Locale.ROOT, "%.2f", d);
  }
}
