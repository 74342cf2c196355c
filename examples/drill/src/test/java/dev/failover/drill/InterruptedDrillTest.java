package dev.failover.drill;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A drill that ends early, here interrupted, leaves no timeline applying faults behind it. */
class InterruptedDrillTest {

  @Test
  void anInterruptedDrillStopsItsTimeline(@TempDir Path dir) throws Exception {
    CountDownLatch firstPhase = new CountDownLatch(1);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream console =
        new PrintStream(out, true, StandardCharsets.UTF_8) {
          @Override
          public void println(String line) {
            super.println(line);
            if (line.contains("phase healthy begins")) {
              firstPhase.countDown();
            }
          }
        };
    AtomicInteger code = new AtomicInteger(-1);
    // 70 s of phases: a timeline left running would go on for a minute after the drill returned.
    Thread drill =
        new Thread(
            () ->
                code.set(
                    Drill.run(
                        console,
                        new PrintStream(err, true, StandardCharsets.UTF_8),
                        "--duration",
                        "70s",
                        "--rate",
                        "50",
                        "--client",
                        "sdk",
                        "--tail",
                        "0",
                        "--report",
                        dir.resolve("r.html").toString())),
            "drill-under-test");
    drill.start();
    try {
      assertThat(firstPhase.await(2, TimeUnit.MINUTES)).as("the first phase began").isTrue();
    } finally {
      drill.interrupt();
      drill.join(TimeUnit.MINUTES.toMillis(1));
    }
    assertThat(drill.isAlive()).as("the drill returned").isFalse();
    assertThat(code.get()).isEqualTo(1);
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("drill: interrupted");
    // Stopped before the drill returned; a bounded wait all the same, for a thread's last breath.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
    List<String> alive = drillThreads();
    while (!alive.isEmpty() && System.nanoTime() - deadline < 0) {
      Thread.sleep(10); // polls; passes as soon as they are gone
      alive = drillThreads();
    }
    assertThat(alive).as("threads of the drill still alive").isEmpty();
  }

  /**
   * The threads a drill starts, alive: its own ({@code drill-load}, {@code drill-ticks}, {@code
   * drill-events}, {@code drill-busy-*}, {@code drill-saturator}, {@code drill-sdk-*}, {@code
   * drill-baseline-*}, {@code drill-warm-up-http-*}), the SDK's ({@code failover-directory-*}), the
   * testkit's ({@code failover-testkit-*}: the timeline, the zones' proxies) and the zones' Jetty
   * servers ({@code qtp*}); not the thread that runs a drill in a test ({@code drill-under-test}).
   */
  static List<String> drillThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(Thread::isAlive)
        .map(Thread::getName)
        .filter(
            n ->
                (n.startsWith("drill-") && !n.equals("drill-under-test"))
                    || n.startsWith("failover-")
                    || n.startsWith("qtp"))
        .sorted()
        .toList();
  }
}
