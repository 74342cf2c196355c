package dev.failover.testkit.load;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The machine's load at one moment: the load averages over 1, 5 and 15 minutes ({@code
 * /proc/loadavg}; elsewhere the JVM's 1-minute figure) and the processors available to the JVM. A
 * figure the platform does not give is NaN. Sample it before and after a measurement: a busy
 * machine makes a latency figure say little about the client.
 *
 * <pre>{@code
 * MachineLoad before = MachineLoad.now();
 * System.out.println(before.describe()); // load average 1.52 0.98 0.40 (1, 5, 15 min), 2 processors
 * }</pre>
 *
 * @param processors processors available to the JVM
 * @param load1 load average over 1 minute
 * @param load5 load average over 5 minutes
 * @param load15 load average over 15 minutes
 */
public record MachineLoad(int processors, double load1, double load5, double load15) {
  private static final Path LOADAVG = Path.of("/proc/loadavg");

  /**
   * Samples the load now.
   *
   * @return the load averages and processors
   */
  public static MachineLoad now() {
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

  /**
   * Such as {@code load average 1.52 0.98 0.40 (1, 5, 15 min), 2 processors}.
   *
   * @return the load in words
   */
  public String describe() {
    return String.format(
        Locale.ROOT,
        "load average %s (1, 5, 15 min), %d processor%s",
        averages(),
        processors,
        processors == 1 ? "" : "s");
  }

  /**
   * Such as {@code 1.52 0.98 0.40}: over 1, 5 and 15 minutes; {@code ?} for a figure not known.
   *
   * @return the three averages
   */
  public String averages() {
    return figure(load1) + " " + figure(load5) + " " + figure(load15);
  }

  /**
   * Whether more was runnable over the last minute than there are processors.
   *
   * @return whether the 1-minute load average exceeds the processors
   */
  public boolean busy() {
    return load1 > processors;
  }

  private static String figure(double d) {
    return Double.isNaN(d) ? "?" : String.format(Locale.ROOT, "%.2f", d);
  }
}
