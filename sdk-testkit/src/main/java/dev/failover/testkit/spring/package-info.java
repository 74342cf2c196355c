/**
 * Spring TestContext support for fake zones: used only where the tests run Spring ({@code
 * spring-test} on their class path), registered through {@code META-INF/spring.factories}.
 */
@NullMarked
package dev.failover.testkit.spring;

import org.jspecify.annotations.NullMarked;
