/** Client-side zone and region failover for OkHttp. */
@NullMarked
package dev.failover;

import org.jspecify.annotations.NullMarked;
