package dev.failover.testkit;

import org.junit.jupiter.api.ClassOrderer;
import org.junit.platform.engine.DiscoverySelector;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

/** Runs test classes through the JUnit launcher, as a build would, for tests of the extension. */
public final class JUnitRuns {

  private JUnitRuns() {}

  /**
   * Runs the selected classes in the order of their {@code @Order}.
   *
   * @param classes the classes, e.g. {@code selectClass(First.class)}
   * @return what ran, passed and failed
   */
  public static TestExecutionSummary run(DiscoverySelector... classes) {
    return run(java.util.Map.of(), classes);
  }

  /**
   * Runs the selected classes with JUnit configuration parameters, such as those of parallel
   * execution.
   *
   * @param parameters configuration parameters, e.g. {@code
   *     junit.jupiter.execution.parallel.enabled=true}
   * @param classes the classes
   * @return what ran, passed and failed
   */
  public static TestExecutionSummary run(
      java.util.Map<String, String> parameters, DiscoverySelector... classes) {
    SummaryGeneratingListener listener = new SummaryGeneratingListener();
    LauncherFactory.create()
        .execute(
            LauncherDiscoveryRequestBuilder.request()
                .selectors(classes)
                .configurationParameter(
                    ClassOrderer.DEFAULT_ORDER_PROPERTY_NAME,
                    ClassOrderer.OrderAnnotation.class.getName())
                .configurationParameters(parameters)
                .build(),
            listener);
    return listener.getSummary();
  }

  /**
   * Lists what failed, one exception a line, for an assertion's description.
   *
   * @param summary a run's summary
   * @return the failures' exceptions
   */
  public static String failures(TestExecutionSummary summary) {
    StringBuilder out = new StringBuilder();
    summary.getFailures().forEach(f -> out.append(f.getException()).append('\n'));
    return out.toString();
  }
}
