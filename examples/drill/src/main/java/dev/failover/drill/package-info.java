/**
 * The outage drill: the SDK and a hand-written baseline client side by side through a scripted zone
 * and region outage on embedded fake zones. Run it with {@code ./drill}; see {@code docs/drill.md}.
 */
@NullMarked
package dev.failover.drill;

import org.jspecify.annotations.NullMarked;
