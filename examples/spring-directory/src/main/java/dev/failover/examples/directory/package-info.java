/** A Spring Boot app calling a directory service over zones through the failover starter. */
@NullMarked
package dev.failover.examples.directory;

import org.jspecify.annotations.NullMarked;
