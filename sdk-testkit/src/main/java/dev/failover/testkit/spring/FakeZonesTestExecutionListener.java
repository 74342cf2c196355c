package dev.failover.testkit.spring;

import dev.failover.testkit.FakeZones;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.springframework.core.Ordered;
import org.springframework.test.annotation.DirtiesContext.HierarchyMode;
import org.springframework.test.context.TestContext;
import org.springframework.test.context.TestExecutionListener;

/**
 * Closes a test class's Spring application context when the class's {@link FakeZones} close, as
 * {@code @DirtiesContext} would. Registered for every Spring test through {@code
 * META-INF/spring.factories}: there is nothing to declare.
 *
 * <p>A context built for a test class gets the zones' URLs through {@code @DynamicPropertySource}
 * (see {@link FakeZones#springProperties(String)}). When the class ends, its zones close, and their
 * ports are gone. Spring keeps the context in its cache all the same: the clients in it would probe
 * the closed ports and judge the zones (ejecting endpoints, evacuating zones) while later test
 * classes run, filling their logs; and a later test class with the same configuration (a subclass
 * of a common base class that holds the zones) would get that context, whose endpoints are the
 * closed ports, instead of one built on the zones it started. So after a test class, this listener
 * closes the context if a {@code static} {@link FakeZones} field of the class (or of a superclass
 * or an enclosing class) is no longer running; closing the context closes its clients. Zones that
 * keep running (started once for the whole run) leave the context cached.
 *
 * <p>It runs after every other listener's {@code afterTestClass} (its order is 0, and Spring runs
 * {@code afterTestClass} in reverse order), so that those still see the context. It relies on the
 * zones closing before Spring's {@code afterTestClass}: a {@code static} {@code @RegisterExtension}
 * field does (JUnit calls its {@code afterAll} before that of {@code SpringExtension}, which a
 * class-level annotation such as {@code @SpringBootTest} registers first).
 */
public final class FakeZonesTestExecutionListener implements TestExecutionListener, Ordered {

  private static final Log log = LogFactory.getLog(FakeZonesTestExecutionListener.class);

  /** Creates the listener; Spring does, from {@code META-INF/spring.factories}. */
  public FakeZonesTestExecutionListener() {}

  /**
   * Returns 0: after every listener of Spring and Spring Boot in {@code afterTestClass}.
   *
   * @return 0
   */
  @Override
  public int getOrder() {
    return 0;
  }

  /**
   * Closes the test class's context if its fake zones are closed.
   *
   * @param testContext the test class's context
   */
  @Override
  public void afterTestClass(TestContext testContext) {
    if (!testContext.hasApplicationContext()) {
      return;
    }
    List<String> closed = closedZones(testContext.getTestClass());
    if (!closed.isEmpty()) {
      if (log.isDebugEnabled()) {
        log.debug(
            "Closing the application context of "
                + testContext.getTestClass().getName()
                + ": its fake zones closed ("
                + String.join(", ", closed)
                + ")");
      }
      testContext.markApplicationContextDirty(HierarchyMode.EXHAUSTIVE);
    }
  }

  /**
   * The {@code static} {@link FakeZones} fields of the class, its superclasses and enclosing
   * classes, that are not running.
   */
  static List<String> closedZones(Class<?> testClass) {
    List<String> closed = new ArrayList<>();
    for (Class<?> outer = testClass; outer != null; outer = outer.getEnclosingClass()) {
      for (Class<?> c = outer; c != null && c != Object.class; c = c.getSuperclass()) {
        for (Field field : c.getDeclaredFields()) {
          if (Modifier.isStatic(field.getModifiers())
              && FakeZones.class.isAssignableFrom(field.getType())
              && field.trySetAccessible()) {
            Object zones = get(field);
            if (zones instanceof FakeZones z && !z.isRunning()) {
              closed.add(c.getSimpleName() + "." + field.getName());
            }
          }
        }
      }
    }
    return closed;
  }

  private static @org.jspecify.annotations.Nullable Object get(Field field) {
    try {
      return field.get(null);
    } catch (IllegalAccessException e) {
      return null;
    }
  }
}
