package dev.failover.drill;

import java.io.IOException;
import java.io.InputStream;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import org.jspecify.annotations.Nullable;

/**
 * What produced a drill's figures, which depend on it: the drill's build (its version and the
 * commit it was built from) and the JVM that ran it (its version, its garbage collectors, whose
 * pauses the {@code client-busy} phase's forced collection shows, and its largest heap).
 *
 * @param version the drill's (and the SDK's) version
 * @param commit the commit the jar was built from ({@code git describe --always --dirty}, as {@code
 *     ./drill} passes it to the build), or {@code unknown}
 * @param javaVersion {@code java.version}
 * @param javaVendor {@code java.vendor}
 * @param gc the JVM's garbage collectors, by name
 * @param maxHeapBytes {@link Runtime#maxMemory()}
 */
record Provenance(
    String version,
    String commit,
    String javaVersion,
    String javaVendor,
    List<String> gc,
    long maxHeapBytes) {

  static final String UNKNOWN = "unknown";

  /** This JVM's, with the build's version and commit from {@code drill-build.properties}. */
  static Provenance current() {
    Properties build = new Properties();
    try (InputStream in = Provenance.class.getResourceAsStream("/drill-build.properties")) {
      if (in != null) {
        build.load(in);
      }
    } catch (IOException e) {
      // reported as unknown
    }
    return new Provenance(
        known(build.getProperty("version")),
        known(build.getProperty("commit")),
        known(System.getProperty("java.version")),
        known(System.getProperty("java.vendor")),
        ManagementFactory.getGarbageCollectorMXBeans().stream()
            .map(GarbageCollectorMXBean::getName)
            .toList(),
        Runtime.getRuntime().maxMemory());
  }

  /** A value, or {@code unknown} if missing, blank or never filled in by the build. */
  static String known(@Nullable String value) {
    return value == null || value.isBlank() || value.contains("${") ? UNKNOWN : value.strip();
  }

  /**
   * Such as {@code drill 0.1.0-SNAPSHOT, commit 1a2b3c4d5e6f; Java 17.0.9 (Eclipse Adoptium), GC G1
   * Young Generation + G1 Old Generation, max heap 1984 MB}.
   */
  String describe() {
    return String.format(
        Locale.ROOT,
        "drill %s, commit %s; Java %s (%s), GC %s, max heap %d MB",
        version,
        commit,
        javaVersion,
        javaVendor,
        gc.isEmpty() ? UNKNOWN : String.join(" + ", gc),
        maxHeapBytes >> 20);
  }
}
