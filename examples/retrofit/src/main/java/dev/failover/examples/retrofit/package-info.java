/** Retrofit over the Failover SDK. */
@NullMarked
package dev.failover.examples.retrofit;

import org.jspecify.annotations.NullMarked;
