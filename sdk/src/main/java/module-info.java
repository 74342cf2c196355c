/**
 * Client-side zone and region failover for OkHttp: {@link dev.failover.FailoverClient} and its
 * settings, events and snapshots, all in the one exported package, {@code dev.failover}.
 *
 * <p>A modular application reads it with {@code requires dev.failover;}, which also gives it
 * OkHttp's {@code okhttp3} (the API speaks in OkHttp's {@code Request}, {@code Call} and {@code
 * OkHttpClient}) and JSpecify's nullness annotations. Resilience4j, Caffeine and SLF4J are used
 * inside and are not part of the API. Micrometer is optional: only {@code FailoverMetrics} and
 * {@code FailoverObservations} use it, so an application that uses them {@code requires
 * micrometer.core} or {@code micrometer.observation} itself.
 */
// Resilience4j and Micrometer ship no module-info, only an Automatic-Module-Name in their
// manifests (stable names, not derived from file names). javac's -Xlint:requires-automatic warns on
// every `requires` of such a module and -Werror would make that an error: suppressed here, on this
// declaration only.
@SuppressWarnings("requires-automatic")
module dev.failover {
  exports dev.failover;

  // The API: FailoverClient is an okhttp3.Call.Factory. okhttp3 itself requires transitive okio
  // and kotlin.stdlib, which the SDK also uses (StaleStore, the Call adapter).
  requires transitive okhttp3;
  // The API's @NullMarked/@Nullable: needed at compile time by readers (so that their nullness
  // checkers see them), not at run time. A compile dependency in the pom, so always at hand.
  requires static transitive org.jspecify;

  // Used inside only; none of their types is in the API.
  requires io.github.resilience4j.circuitbreaker;
  requires io.github.resilience4j.core;
  requires com.github.benmanes.caffeine;
  requires org.slf4j;

  // @GuardedBy: checked by Error Prone at compile time, not needed at run time.
  requires static com.google.errorprone.annotations;
  // Optional: loaded only by FailoverMetrics and FailoverObservations. Not transitive: that would
  // make every modular reader compile against Micrometer.
  requires static micrometer.core;
  requires static micrometer.observation;
  requires static micrometer.commons;
}
