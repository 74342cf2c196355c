/** Fake zones and regions for tests: WireMock servers with socket-level outages. */
@NullMarked
package dev.failover.testkit;

import org.jspecify.annotations.NullMarked;
