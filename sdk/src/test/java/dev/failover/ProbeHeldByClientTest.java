package dev.failover;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InterruptedIOException;
import java.net.SocketTimeoutException;
import java.util.concurrent.TimeUnit;
import okhttp3.Request;
import org.junit.jupiter.api.Test;

/**
 * Which timed-out health probes spent their time in the client: OkHttp's probe timeout starts when
 * the probe leaves the dispatcher's queue, so only the application's interceptors use it up before
 * the SDK's interceptor.
 */
class ProbeHeldByClientTest {
  private static final long TIMEOUT = TimeUnit.SECONDS.toNanos(1);
  private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);

  /** OkHttp's call timeout. */
  private static final InterruptedIOException CALL_TIMEOUT = new InterruptedIOException("timeout");

  private static Request probe() {
    return new Request.Builder()
        .url("http://127.0.0.1:1/health")
        .tag(ClientCore.Reach.KEY, new ClientCore.Reach())
        .build();
  }

  private static boolean held(
      Request probe, InterruptedIOException failure, long now, long timeoutNanos) {
    return HealthChecker.heldByClient(
        java.util.Objects.requireNonNull(probe.tag(ClientCore.Reach.KEY)),
        failure,
        now,
        timeoutNanos);
  }

  @Test
  void aProbeThatNeverReachedTheSdkWasHeldByTheClient() {
    assertThat(held(probe(), CALL_TIMEOUT, 5_000 * MS, TIMEOUT)).isTrue();
  }

  @Test
  void aProbeLeftLessThanHalfItsTimeoutAtTheEndpointWasHeldByTheClient() {
    Request p = probe();
    ReachedSdk.mark(p, 4_600 * MS); // 400 ms at the endpoint when it timed out at 5 s
    assertThat(held(p, CALL_TIMEOUT, 5_000 * MS, TIMEOUT)).isTrue();
    // A socket's own timeout (connect, read) ran at the endpoint, however soon.
    assertThat(held(p, new SocketTimeoutException("Read timed out"), 5_000 * MS, TIMEOUT))
        .isFalse();
  }

  @Test
  void aProbeThatHadHalfItsTimeoutOrMoreAtTheEndpointCounts() {
    Request p = probe();
    ReachedSdk.mark(p, 4_500 * MS); // 500 ms at the endpoint
    assertThat(held(p, CALL_TIMEOUT, 5_000 * MS, TIMEOUT)).isFalse();
    // However long it was queued before: the queue does not use up OkHttp's timeout.
    Request queued = probe();
    ReachedSdk.mark(queued, 60_000 * MS);
    assertThat(held(queued, CALL_TIMEOUT, 61_000 * MS, TIMEOUT)).isFalse();
  }
}
