/**
 * One load harness for drills, benchmarks and tests: an open-loop {@link
 * dev.failover.testkit.load.OpenLoopGenerator} that sends each call at its due time and measures
 * from that time (no coordinated omission), the {@link dev.failover.testkit.load.Lateness} of the
 * generator itself, a {@link dev.failover.testkit.load.LatencyRecorder}, {@link
 * dev.failover.testkit.load.MachineLoad} and a {@link dev.failover.testkit.load.HostSaturator}.
 *
 * <p>Time comes from a {@link dev.failover.testkit.load.Ticker}, so that a test drives the
 * generator on fake time instead of sleeping.
 */
@NullMarked
package dev.failover.testkit.load;

import org.jspecify.annotations.NullMarked;
