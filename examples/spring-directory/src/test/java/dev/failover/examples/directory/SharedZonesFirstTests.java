package dev.failover.examples.directory;

/** One of two classes on the same zones base; see {@link SharedZonesBase}. */
class SharedZonesFirstTests extends SharedZonesBase {}
