/**
 * Benchmarks of the Failover SDK: JMH overhead benchmarks and outage scenarios against peers. See
 * {@code docs/benchmarks.md}.
 */
@NullMarked
package dev.failover.benchmarks;

import org.jspecify.annotations.NullMarked;
