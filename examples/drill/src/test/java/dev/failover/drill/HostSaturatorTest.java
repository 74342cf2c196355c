package dev.failover.drill;

import static org.assertj.core.api.Assertions.assertThat;

import dev.failover.testkit.load.HostSaturator;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The busy threads of the client-busy phase end at the end of the burst, or at once on stop. */
class HostSaturatorTest {

  static List<Thread> saturatorThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.getName().startsWith("drill-busy-") || t.getName().equals("drill-saturator"))
        .filter(Thread::isAlive)
        .toList();
  }

  @Test
  void stopEndsEveryThreadAtOnce() {
    List<String> log = new CopyOnWriteArrayList<>();
    try (HostSaturator s = new HostSaturator("drill", 2)) {
      s.logTo(log::add);
      s.saturate(Duration.ofMinutes(10));
      assertThat(s.running()).isTrue();
      assertThat(saturatorThreads()).hasSize(3);

      s.stop();

      assertThat(s.running()).isFalse();
      assertThat(saturatorThreads()).isEmpty();
    }
    assertThat(log.get(0)).isEqualTo("host saturated: 2 busy threads (one per core) for 600.0 s");
    assertThat(log.get(log.size() - 1)).startsWith("host saturation stopped: busy threads ended");
  }

  @Test
  void theBurstEndsByItselfAfterItsForcedPause() throws InterruptedException {
    List<String> log = new CopyOnWriteArrayList<>();
    List<Duration> pauses = new CopyOnWriteArrayList<>();
    CountDownLatch over = new CountDownLatch(1);
    try (HostSaturator s = new HostSaturator("drill", 1)) {
      s.pauseWith(pauses::add);
      s.logTo(
          text -> {
            log.add(text);
            if (text.startsWith("host saturation over")) {
              over.countDown();
            }
          });
      s.saturate(Duration.ofMillis(200));

      assertThat(over.await(60, TimeUnit.SECONDS)).isTrue();
      assertThat(pauses).containsExactly(HostSaturator.PAUSE);
      assertThat(log).anyMatch(l -> l.startsWith("forced pause: load generator held for 300 ms"));
    }
    assertThat(saturatorThreads()).isEmpty();
  }

  @Test
  void aNewBurstEndsTheOneBefore() {
    try (HostSaturator s = new HostSaturator("drill", 1)) {
      s.saturate(Duration.ofMinutes(10));
      s.saturate(Duration.ofMinutes(10));
      assertThat(saturatorThreads()).hasSize(2);
    }
    assertThat(saturatorThreads()).isEmpty();
  }
}
