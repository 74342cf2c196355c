package dev.failover.spring.boot.test;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Keeps the routing state of the context's {@link dev.failover.FailoverClient} beans from one test
 * method of the annotated class to the next: they are not reset after each test method.
 *
 * <p>By default every {@code FailoverClient} bean of a Spring test context is reset after each test
 * method (see {@link ResetFailoverClientsTestExecutionListener}), so that one test's outage does
 * not decide the next test's routing. Annotate a class whose test methods build on each other's
 * state, such as an ordered walk through an outage and its recovery:
 *
 * <pre>{@code
 * @SpringBootTest
 * @KeepFailoverClientState
 * @TestMethodOrder(MethodOrderer.OrderAnnotation.class)
 * class OutageAndRecoveryTests { ... }
 * }</pre>
 *
 * <p>Inherited by subclasses, and by {@code @Nested} classes as Spring's {@code
 * NestedTestConfiguration} says for its own annotations.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
public @interface KeepFailoverClientState {}
