/**
 * The implementation of the Failover SDK. Not an API: everything here may change in any release.
 */
@NullMarked
package dev.failover.internal;

import org.jspecify.annotations.NullMarked;
