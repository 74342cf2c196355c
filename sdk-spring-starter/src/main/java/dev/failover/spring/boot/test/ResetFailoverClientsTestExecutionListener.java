package dev.failover.spring.boot.test;

import dev.failover.FailoverClient;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.Ordered;
import org.springframework.test.context.TestContext;
import org.springframework.test.context.TestContextAnnotationUtils;
import org.springframework.test.context.TestExecutionListener;

/**
 * Resets every {@link FailoverClient} bean of the test's application context after each test
 * method, so that each test starts with the routing state of a new client: endpoints healthy, no
 * zone evacuated, no zonal shift, a new retry budget ({@link FailoverClient#reset()}; calls in
 * flight finish on the old state). Spring caches a test context and shares it between the test
 * methods of a class and between classes of the same configuration, and with it the clients and
 * what they learned: without a reset, a test that takes a zone down leaves the next test a client
 * that routes away from it, though the zone is back.
 *
 * <p>On by default, as Spring Boot resets its Mockito mocks after each test: registered through
 * {@code META-INF/spring.factories}, for every Spring test of an application that has the starter
 * and {@code spring-test}. A test class annotated with {@link KeepFailoverClientState} keeps the
 * state. Only beans already created are reset (a lazy client nobody used has nothing to forget),
 * and a client the test closed is left alone.
 *
 * <p>Its order, 2990, puts it after {@code DirtiesContextTestExecutionListener} (3000) in {@code
 * afterTestMethod}, which Spring runs in reverse order: a context that {@code @DirtiesContext}
 * closes after the method is not reset first.
 */
public final class ResetFailoverClientsTestExecutionListener
    implements TestExecutionListener, Ordered {

  /** Creates the listener; Spring does, from {@code META-INF/spring.factories}. */
  public ResetFailoverClientsTestExecutionListener() {}

  /**
   * Returns 2990: after {@code @DirtiesContext}'s listener in {@code afterTestMethod}.
   *
   * @return 2990
   */
  @Override
  public int getOrder() {
    return 2990;
  }

  /**
   * Resets the context's failover clients, unless the test class keeps their state.
   *
   * @param testContext the test's context
   */
  @Override
  public void afterTestMethod(TestContext testContext) {
    if (!testContext.hasApplicationContext()
        || TestContextAnnotationUtils.hasAnnotation(
            testContext.getTestClass(), KeepFailoverClientState.class)) {
      return;
    }
    if (!(testContext.getApplicationContext() instanceof ConfigurableApplicationContext context)) {
      return;
    }
    ConfigurableListableBeanFactory beans = context.getBeanFactory();
    for (String name : beans.getBeanNamesForType(FailoverClient.class, false, false)) {
      // Only singletons already created: getBean would create a lazy one just to reset it.
      if (beans.containsSingleton(name) && beans.getSingleton(name) instanceof FailoverClient c) {
        try {
          c.reset();
        } catch (IllegalStateException closed) {
          // The test closed this client: it has no state left to forget.
        }
      }
    }
  }
}
