package dev.failover.testkit.load;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Busy threads named after the saturator, ended at the end of the burst or at once on close; the
 * forced pause holds whoever asked and reports what it measured. Nothing here needs an idle
 * machine: only thread life and the order of events are checked, never a duration.
 */
class HostSaturatorTest {
  static List<Thread> threadsOf(String name) {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.getName().startsWith(name + "-"))
        .filter(Thread::isAlive)
        .toList();
  }

  @Test
  void closeEndsEveryNamedThread() {
    List<String> log = new CopyOnWriteArrayList<>();
    HostSaturator s = new HostSaturator("kit-close", 3);
    s.logTo(log::add);
    s.saturate(Duration.ofMinutes(10));

    assertThat(s.threads()).isEqualTo(3);
    assertThat(threadsOf("kit-close")).hasSize(4);

    s.close();

    assertThat(s.running()).isFalse();
    assertThat(threadsOf("kit-close")).isEmpty();
    assertThat(log).first().isEqualTo("host saturated: 3 busy threads (one per core) for 600.0 s");
  }

  @Test
  void theForcedPauseIsReportedWithoutAPauser() throws Exception {
    CompletableFuture<HostSaturator.ForcedPause> pause = new CompletableFuture<>();
    List<String> log = new CopyOnWriteArrayList<>();
    try (HostSaturator s = new HostSaturator("kit-pause", 1)) {
      s.logTo(log::add);
      s.onPause(pause::complete);
      s.saturate(Duration.ofMillis(100));

      HostSaturator.ForcedPause p = pause.get(60, TimeUnit.SECONDS);

      assertThat(p.objects()).isEqualTo(HostSaturator.ALLOCATED_OBJECTS);
      assertThat(p.describe()).startsWith("1048576 objects (48 MB) allocated in ");
      assertThat(log).contains("forced pause: " + p.describe());
    }
    assertThat(threadsOf("kit-pause")).isEmpty();
  }

  @Test
  void atLeastOneThread() {
    assertThatThrownBy(() -> new HostSaturator("x", 0))
        .hasMessage("threads must be at least 1 but was 0");
  }
}
