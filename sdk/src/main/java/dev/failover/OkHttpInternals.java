package dev.failover;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells, once per JVM, which of OkHttp's internals the SDK could not reach and what that costs:
 * without a word, an application on the module path that did not open OkHttp's packages to the SDK
 * (or one running another OkHttp) would pay more per attempt, or tell a dying HTTP/2 connection's
 * streams apart less well, and never know. Each way still works without them (the same requests,
 * the same judgement of outcomes otherwise): this is an INFO line, not a warning.
 */
final class OkHttpInternals {
  private static final Logger log = LoggerFactory.getLogger(OkHttpInternals.class);

  /** Whether the line was considered already in this JVM (it is logged at most once). */
  private static final AtomicBoolean TOLD = new AtomicBoolean();

  private OkHttpInternals() {}

  /** Logs the line, the first time a client is built in this JVM, if anything is out of reach. */
  static void tellOnce() {
    if (TOLD.compareAndSet(false, true)) {
      String missing =
          missing(EndpointUrl.fastWay(), AttemptRequest.fastWay(), Classifier.canAskHealth());
      if (missing != null) {
        log.info("Failover: {}", missing);
      }
    }
  }

  /**
   * What the SDK does without the internals it could not reach, and how to give them to it; null if
   * it reached all three.
   *
   * @param urls whether attempts' URLs are made from their parts ({@link EndpointUrl})
   * @param requests whether attempts' requests are made with kept builders ({@link AttemptRequest})
   * @param health whether OkHttp's own health test of a connection can be asked ({@link
   *     Classifier#connectionGivenUp})
   */
  static @Nullable String missing(boolean urls, boolean requests, boolean health) {
    List<String> parts = new ArrayList<>(3);
    if (!urls) {
      parts.add(
          "attempts' URLs are made with OkHttp's HttpUrl.Builder, about 500 bytes and 0.3 us more"
              + " an attempt (on the module path, launch with --add-opens"
              + " okhttp3/okhttp3=dev.failover; elsewhere this OkHttp's HttpUrl is not the one the"
              + " SDK was built for)");
    }
    if (!requests) {
      parts.add(
          "attempts' requests are made with OkHttp's Request.Builder, which copies the caller's"
              + " headers twice (this OkHttp's Request.Builder is not the one the SDK was built"
              + " for)");
    }
    if (!health) {
      parts.add(
          "a dying HTTP/2 connection's streams are told apart by its closed socket alone (on the"
              + " module path, launch with --add-exports"
              + " okhttp3/okhttp3.internal.connection=dev.failover)");
    }
    if (parts.isEmpty()) {
      return null;
    }
    return "without some of OkHttp's internals, the SDK makes the same requests another way: "
        + String.join("; ", parts)
        + ". See README.md, \"Maven\".";
  }
}
