package dev.failover.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

/**
 * Zones in a static field that two tests, or two classes, use at the same time (JUnit's parallel
 * execution): the reset before one test healed the other's faults, and one class's end closed the
 * other's client. The second user fails at once, saying why and what to do. Gates make the two
 * overlap for certain (each waits, with a bound, for the other to be under way).
 */
class ParallelUseTest {
  private static final Map<String, String> PARALLEL =
      Map.of(
          "junit.jupiter.execution.parallel.enabled", "true",
          "junit.jupiter.execution.parallel.mode.default", "concurrent",
          "junit.jupiter.execution.parallel.mode.classes.default", "concurrent",
          "junit.jupiter.execution.parallel.config.strategy", "fixed",
          "junit.jupiter.execution.parallel.config.fixed.parallelism", "4");

  /** How long a gate waits for the other test at most; far more than a busy machine needs. */
  private static final long WAIT_SECONDS = 30;

  private static void await(CountDownLatch latch) {
    try {
      boolean unused = latch.await(WAIT_SECONDS, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Test
  void twoTestsUsingTheZonesAtOnceFailTheSecond() {
    TestExecutionSummary summary = JUnitRuns.run(PARALLEL, selectClass(TwoTestsAtOnce.class));

    assertSecondRefused(
        summary, "while another test uses them", "@Execution(ExecutionMode.SAME_THREAD)");
    assertThat(TwoTestsAtOnce.zones.isRunning()).as("closed after the class").isFalse();
  }

  @Test
  void twoClassesSharingZonesAtOnceFailTheSecond() {
    try {
      TestExecutionSummary summary =
          JUnitRuns.run(
              PARALLEL, selectClass(FirstClassAtOnce.class), selectClass(SecondClassAtOnce.class));

      assertSecondRefused(summary, "which run at the same time", SecondClassAtOnce.class.getName());
      assertThat(Shared.CLOSED_WHILE_RUNNING.getCount())
          .as("the first class's hook, at its end")
          .isZero();
    } finally {
      Shared.ZONES.close();
    }
  }

  /** The first test passed; the second failed at once, its message saying {@code what}. */
  private static void assertSecondRefused(TestExecutionSummary summary, String... what) {
    assertThat(summary.getTestsSucceededCount()).as(JUnitRuns.failures(summary)).isEqualTo(1);
    assertThat(summary.getFailures())
        .singleElement()
        .satisfies(
            f ->
                assertThat(f.getException())
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContainingAll(what));
  }

  /** Lets the second test begin only once the first runs; tells the first when it is over. */
  static final class MethodGate implements BeforeEachCallback, AfterEachCallback {
    static final CountDownLatch FIRST_RUNNING = new CountDownLatch(1);
    static final CountDownLatch SECOND_DONE = new CountDownLatch(1);

    @Override
    public void beforeEach(ExtensionContext context) {
      if (context.getRequiredTestMethod().getName().equals("second")) {
        await(FIRST_RUNNING);
      }
    }

    @Override
    public void afterEach(ExtensionContext context) {
      if (context.getRequiredTestMethod().getName().equals("second")) {
        SECOND_DONE.countDown();
      }
    }
  }

  static class TwoTestsAtOnce {
    @RegisterExtension
    @Order(1)
    static MethodGate gate = new MethodGate();

    @RegisterExtension
    @Order(2)
    static FakeZones zones = FakeZones.builder().region("r", "a").build();

    @Test
    void first() {
      MethodGate.FIRST_RUNNING.countDown();
      await(MethodGate.SECOND_DONE);
    }

    @Test
    void second() {}
  }

  /** Zones started once for the two classes. */
  static final class Shared {
    static final FakeZones ZONES = FakeZones.builder().region("r", "a").build().start();
    static final CountDownLatch FIRST_RUNNING = new CountDownLatch(1);
    static final CountDownLatch SECOND_DONE = new CountDownLatch(1);
    static final CountDownLatch CLOSED_WHILE_RUNNING = new CountDownLatch(1);

    private Shared() {}
  }

  /** Lets the second class begin only once the first class's test runs. */
  static final class ClassGate implements BeforeAllCallback, AfterAllCallback {
    @Override
    public void beforeAll(ExtensionContext context) {
      await(Shared.FIRST_RUNNING);
    }

    @Override
    public void afterAll(ExtensionContext context) {
      Shared.SECOND_DONE.countDown();
    }
  }

  static class FirstClassAtOnce {
    @RegisterExtension static FakeZones zones = Shared.ZONES;

    @Test
    void usesTheZonesWhileTheSecondClassStarts() {
      // A hook of this class's, as a client built on the zones registers: it must not run while
      // this test does, at the second class's end.
      zones.onClose(Shared.CLOSED_WHILE_RUNNING::countDown);
      Shared.FIRST_RUNNING.countDown();
      await(Shared.SECOND_DONE);
      assertThat(Shared.CLOSED_WHILE_RUNNING.getCount()).isEqualTo(1);
    }
  }

  static class SecondClassAtOnce {
    @RegisterExtension
    @Order(1)
    static ClassGate gate = new ClassGate();

    @RegisterExtension
    @Order(2)
    static FakeZones zones = Shared.ZONES;

    @Test
    void usesTheZonesToo() {}
  }
}
