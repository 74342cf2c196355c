package dev.failover.drill;

import static dev.failover.drill.MiniJson.obj;
import static org.assertj.core.api.Assertions.assertThat;

import dev.failover.testkit.load.MachineLoad;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The reports say what produced their figures: the drill's build and the JVM that ran it. */
class ProvenanceTest {

  @Test
  void theCurrentProvenanceIsThisJvmsAndTheBuildsFromItsFilteredResource() {
    Provenance p = Provenance.current();

    assertThat(p.javaVersion()).isEqualTo(System.getProperty("java.version"));
    assertThat(p.javaVendor()).isEqualTo(System.getProperty("java.vendor"));
    assertThat(p.gc())
        .isNotEmpty()
        .containsExactlyElementsOf(
            ManagementFactory.getGarbageCollectorMXBeans().stream()
                .map(GarbageCollectorMXBean::getName)
                .toList());
    assertThat(p.maxHeapBytes()).isEqualTo(Runtime.getRuntime().maxMemory());
    // Filled in by the build from the pom: the project's version; the commit only from ./drill.
    assertThat(p.version()).matches("\\d+\\.\\d+\\.\\d+.*");
    assertThat(p.commit()).isNotBlank().doesNotContain("${");
  }

  @Test
  void whatTheBuildDidNotFillInIsUnknown() {
    assertThat(Provenance.known("${drill.commit}")).isEqualTo("unknown");
    assertThat(Provenance.known(null)).isEqualTo("unknown");
    assertThat(Provenance.known(" ")).isEqualTo("unknown");
    assertThat(Provenance.known("cf4f4b7-dirty\n")).isEqualTo("cf4f4b7-dirty");
  }

  @Test
  void itIsInTheConsoleLineTheJsonAndTheHtml() throws Exception {
    Provenance p =
        new Provenance(
            "0.1.0-SNAPSHOT",
            "1a2b3c4d5e6f",
            "17.0.9",
            "Eclipse Adoptium",
            List.of("G1 Young Generation", "G1 Old Generation"),
            2080374784L);
    assertThat(p.describe())
        .isEqualTo(
            "drill 0.1.0-SNAPSHOT, commit 1a2b3c4d5e6f; Java 17.0.9 (Eclipse Adoptium), GC G1"
                + " Young Generation + G1 Old Generation, max heap 1984 MB");

    List<Phase> phases = List.of(new Phase("all", Duration.ZERO, Duration.ofSeconds(1), ""));
    DrillResult r =
        new DrillResult(
            Options.parse(),
            p,
            "embedded",
            "test",
            "r",
            "z",
            List.of("z"),
            phases,
            List.of(new Stats("sdk", phases, List.of("z"), Duration.ofSeconds(1))),
            List.of(),
            Duration.ofSeconds(3),
            MachineLoad.now(),
            MachineLoad.now(),
            new GeneratorLag(phases, Duration.ofSeconds(1)),
            0,
            List.of(),
            null);
    Map<String, Object> json =
        obj(obj(obj(MiniJson.parse(JsonReport.render(r))).get("drill")).get("provenance"));
    assertThat(json)
        .containsEntry("version", "0.1.0-SNAPSHOT")
        .containsEntry("commit", "1a2b3c4d5e6f")
        .containsEntry("java_version", "17.0.9")
        .containsEntry("java_vendor", "Eclipse Adoptium")
        .containsEntry("gc", List.of("G1 Young Generation", "G1 Old Generation"))
        .containsEntry("max_heap_mb", 1984.0);
    assertThat(HtmlReport.render(r)).contains("Build and JVM: " + p.describe());
  }
}
