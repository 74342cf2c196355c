package dev.failover;

import okhttp3.Request;

/**
 * For fake transports that answer as an application interceptor, and so run before the SDK's own
 * interceptor: marks a request (an attempt or a health probe) as having reached the SDK, as the
 * SDK's interceptor does when a real transport follows it. Without it every attempt would look held
 * in the client, which the SDK does not judge its endpoint by.
 */
public final class ReachedSdk {
  private ReachedSdk() {}

  /** Marks {@code request} as having reached the SDK's interceptor at {@code nanos}. */
  public static void mark(Request request, long nanos) {
    ClientCore.Reach reach = request.tag(ClientCore.AttemptTag.KEY);
    if (reach == null) {
      reach = request.tag(ClientCore.Reach.KEY);
    }
    if (reach != null) {
      reach.reachedSdkAt = nanos;
      reach.reachedSdk = true;
      reach.passedSdk = true;
    }
  }

  /** Whether {@code request} is an attempt of a call (else a health probe, or another request). */
  public static boolean isAttempt(Request request) {
    return request.tag(ClientCore.AttemptTag.KEY) != null;
  }

  /**
   * For a fake server that answers {@code request} with a response: marks an attempt that reached
   * the SDK as put on the network when it reached it (no time spent on a connection), unless it was
   * marked so before, as the SDK's network interceptor does for every response from the network.
   * Without it the response would look made in the client (OkHttp's cache, an interceptor's own),
   * which is no evidence about its endpoint and is never retried.
   */
  public static void answeredOnNetwork(Request request) throws java.io.IOException {
    ClientCore.AttemptTag tag = request.tag(ClientCore.AttemptTag.KEY);
    if (tag == null || tag.sent() || !tag.reachedSdk) {
      return;
    }
    long at = tag.reachedSdkAt;
    tag.transmissionStarted(() -> at);
  }

  /**
   * Marks {@code request}, an attempt, as put on the network at {@code nanos}, its connection
   * ready, as the SDK's network interceptor does.
   */
  public static void sentOnNetwork(Request request, long nanos) throws java.io.IOException {
    ClientCore.AttemptTag tag = request.tag(ClientCore.AttemptTag.KEY);
    if (tag == null) {
      throw new AssertionError("not an attempt: " + request);
    }
    tag.transmissionStarted(() -> nanos);
  }
}
