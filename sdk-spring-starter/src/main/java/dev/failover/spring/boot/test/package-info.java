/**
 * Test support for applications that use the starter: every {@link dev.failover.FailoverClient}
 * bean of a Spring test context is reset after each test method, unless the test class is annotated
 * with {@link dev.failover.spring.boot.test.KeepFailoverClientState}. Active only where {@code
 * spring-test} is on the class path (the application's tests), through {@code
 * META-INF/spring.factories}.
 */
@NullMarked
package dev.failover.spring.boot.test;

import org.jspecify.annotations.NullMarked;
