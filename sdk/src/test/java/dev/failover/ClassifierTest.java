package dev.failover;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.EOFException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Set;
import okhttp3.MediaType;
import okhttp3.Request;
import okhttp3.RequestBody;
import okio.BufferedSink;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ClassifierTest {

  @Test
  void aConnectThatTimedOutIsNoRefusal() {
    assertThat(Classifier.refused(Outcome.CONNECT_FAILED, new ConnectException("refused")))
        .isTrue();
    assertThat(Classifier.refused(Outcome.CONNECT_FAILED, new java.net.NoRouteToHostException()))
        .isTrue();
    // "Network is unreachable" is as a rule the client's own routing (ClientNetworkTest): no
    // corroboration by itself; wrapped in OkHttp's ConnectException too.
    java.net.SocketException noRoute = new java.net.SocketException("Network is unreachable");
    assertThat(Classifier.refused(Outcome.CONNECT_FAILED, noRoute)).isFalse();
    assertThat(Classifier.networkUnreachable(noRoute)).isTrue();
    ConnectException wrapped = new ConnectException("Failed to connect to /10.0.0.1:443");
    wrapped.initCause(noRoute);
    assertThat(Classifier.networkUnreachable(wrapped)).isTrue();
    assertThat(Classifier.networkUnreachable(new ConnectException("Connection refused"))).isFalse();
    // OkHttp throws the first route's failure with the others suppressed: a name with an IPv6
    // address on a host without IPv6, whose IPv4 address refused, is a refusal.
    java.net.SocketException firstRoute = new java.net.SocketException("Network is unreachable");
    firstRoute.addSuppressed(new ConnectException("Failed to connect to /127.0.0.1:1"));
    assertThat(Classifier.networkUnreachable(firstRoute)).isFalse();
    assertThat(Classifier.refused(Outcome.CONNECT_FAILED, firstRoute)).isTrue();
    java.net.SocketException everyRoute = new java.net.SocketException("Network is unreachable");
    everyRoute.addSuppressed(new java.net.SocketException("Network is unreachable"));
    assertThat(Classifier.networkUnreachable(everyRoute)).isTrue();
    // A name that did not resolve may be the client's own resolver failing for every endpoint:
    // evidence against the endpoint, but no corroboration of a zone's outage (which would lift
    // the cap on evacuations). Nor is a failed TLS handshake, nor the client's own exhaustion.
    assertThat(Classifier.refused(Outcome.CONNECT_FAILED, new UnknownHostException("x"))).isFalse();
    assertThat(
            Classifier.refused(
                Outcome.CONNECT_FAILED, new javax.net.ssl.SSLHandshakeException("handshake")))
        .isFalse();
    java.net.BindException noPort = new java.net.BindException("Cannot assign requested address");
    assertThat(Classifier.refused(Outcome.CONNECT_FAILED, noPort)).isFalse();
    assertThat(Classifier.clientResourcesExhausted(noPort)).isTrue();
    assertThat(
            Classifier.clientResourcesExhausted(
                new java.net.SocketException("Too many open files")))
        .isTrue();
    assertThat(Classifier.clientResourcesExhausted(new ConnectException("Connection refused")))
        .isFalse();
    assertThat(Classifier.refused(Outcome.CONNECT_FAILED, new SocketTimeoutException("connect")))
        .isFalse();
    assertThat(Classifier.refused(Outcome.CONNECT_FAILED, new InterruptedIOException("timeout")))
        .isFalse();
    assertThat(Classifier.refused(Outcome.RESET, new ConnectException("refused"))).isFalse();
    assertThat(
            Classifier.connectTimedOut(
                Outcome.CONNECT_FAILED, new SocketTimeoutException("connect timed out")))
        .isTrue();
    assertThat(Classifier.connectTimedOut(Outcome.CONNECT_FAILED, new ConnectException("x")))
        .isFalse();
    assertThat(Classifier.connectTimedOut(Outcome.TIMEOUT, new SocketTimeoutException("read")))
        .isFalse();
  }

  @ParameterizedTest
  @CsvSource({
    "200, SUCCESS",
    "204, SUCCESS",
    "301, SUCCESS",
    "404, SUCCESS",
    "409, SUCCESS",
    "429, THROTTLED",
    "500, SERVER_ERROR",
    "501, SERVER_ERROR",
    "502, UNAVAILABLE",
    "503, UNAVAILABLE",
    "504, UNAVAILABLE",
    "599, SERVER_ERROR"
  })
  void statuses(int status, Outcome outcome) {
    assertThat(Classifier.classify(status)).isEqualTo(outcome);
  }

  @Test
  void failures() {
    assertThat(Classifier.classify(new ConnectException("refused"), false, false))
        .isEqualTo(Outcome.CONNECT_FAILED);
    assertThat(Classifier.classify(new UnknownHostException("x"), false, false))
        .isEqualTo(Outcome.CONNECT_FAILED);
    // Nothing was written: whatever the failure, the request never left the client.
    assertThat(Classifier.classify(new SocketTimeoutException("connect timed out"), false, false))
        .isEqualTo(Outcome.CONNECT_FAILED);
    assertThat(Classifier.classify(new IOException("handshake"), false, false))
        .isEqualTo(Outcome.CONNECT_FAILED);
    // OkHttp silently retried after a reset and the retry's connect failed: the first try was on
    // the network, so the request may have reached a server.
    assertThat(Classifier.classify(new ConnectException("refused"), true, false))
        .isEqualTo(Outcome.RESET);
    assertThat(Classifier.classify(new SocketTimeoutException("timeout"), true, false))
        .isEqualTo(Outcome.TIMEOUT);
    assertThat(Classifier.classify(new InterruptedIOException("timeout"), true, false))
        .isEqualTo(Outcome.TIMEOUT);
    assertThat(Classifier.classify(new SocketException("Connection reset"), true, false))
        .isEqualTo(Outcome.RESET);
    assertThat(Classifier.classify(new EOFException(), true, false)).isEqualTo(Outcome.RESET);
    assertThat(Classifier.classify(new IOException("unexpected end of stream on x"), true, false))
        .isEqualTo(Outcome.RESET);
    assertThat(Classifier.classify(new java.net.ProtocolException("bad"), true, false))
        .isEqualTo(Outcome.PROTOCOL_ERROR);
    assertThat(Classifier.classify(new IOException("Canceled"), true, true))
        .isEqualTo(Outcome.CANCELLED);
  }

  /**
   * HTTP/2 says when a server did not process a request that went out: a stream refused
   * (REFUSED_STREAM, RFC 9113 8.7, also what OkHttp fails the streams above a GOAWAY's last id
   * with), or a stream OkHttp could not open on a connection shutting down. Such a request may be
   * sent again, a POST too.
   */
  @Test
  void anHttp2RequestTheServerDidNotProcessNeverLeft() {
    assertThat(Classifier.classify(streamReset("REFUSED_STREAM"), true, false))
        .isEqualTo(Outcome.CONNECT_FAILED);
    assertThat(
            Classifier.classify(
                new okhttp3.internal.http2.ConnectionShutdownException(), true, false))
        .isEqualTo(Outcome.CONNECT_FAILED);
    // Any other reset of a stream may have been processed.
    assertThat(Classifier.classify(streamReset("CANCEL"), true, false)).isEqualTo(Outcome.RESET);
    assertThat(Classifier.classify(streamReset("INTERNAL_ERROR"), true, false))
        .isEqualTo(Outcome.RESET);
    // Neither is a refused connection, which corroborates an outage by itself.
    assertThat(Classifier.refused(Outcome.CONNECT_FAILED, streamReset("REFUSED_STREAM"))).isFalse();
  }

  /** A body closed by its reader (on another thread) fails the read: not the server's doing. */
  @Test
  void aReadFailedByTheReadersOwnCloseIsToldApart() {
    assertThat(Classifier.closedByReader(new IOException("stream closed"))).isTrue();
    // A connection the server ended: OkHttp fails its streams with CANCEL.
    assertThat(Classifier.closedByReader(streamReset("CANCEL"))).isFalse();
    assertThat(Classifier.closedByReader(streamReset("INTERNAL_ERROR"))).isFalse();
    assertThat(Classifier.closedByReader(new java.net.SocketException("Connection reset")))
        .isFalse();
    assertThat(Classifier.closedByReader(new java.io.EOFException())).isFalse();
    assertThat(
            Classifier.closedByReader(new java.net.ProtocolException("unexpected end of stream")))
        .isFalse();
  }

  private static IOException streamReset(String errorCode) {
    return new okhttp3.internal.http2.StreamResetException(
        okhttp3.internal.http2.ErrorCode.valueOf(errorCode));
  }

  @Test
  void onlyConnectFailuresProveTheRequestNeverLeft() {
    for (Outcome o : Outcome.values()) {
      assertThat(o.neverSent()).isEqualTo(o == Outcome.CONNECT_FAILED);
    }
  }

  @Test
  void onlyTimeoutsOfTheClientsOwnMakingAreNoEvidence() {
    IOException timeout = new InterruptedIOException("timeout");
    IOException connectTimeout = new SocketTimeoutException("connect timed out");
    IOException refused = new ConnectException("Connection refused");
    Outcome failed = Outcome.CONNECT_FAILED;
    // Arguments: outcome, failure, reachedSdk, reachedLate, byAttemptTimeout, stallExplains.
    // Waited for a free slot of maxRequests (or in the application's interceptors) and timed out.
    assertThat(Classifier.clientsOwnTimeout(failed, timeout, false, false, true, false)).isTrue();
    // Timed out connecting while a stall of the client explains it: no evidence. With no stall,
    // evidence (a blackholed zone answers nothing), whether OkHttp's connect timeout or the
    // attempt's own ended it.
    assertThat(Classifier.clientsOwnTimeout(failed, timeout, true, false, true, true)).isTrue();
    assertThat(Classifier.clientsOwnTimeout(failed, connectTimeout, true, false, false, true))
        .isTrue();
    assertThat(Classifier.clientsOwnTimeout(failed, timeout, true, false, true, false)).isFalse();
    assertThat(Classifier.clientsOwnTimeout(failed, connectTimeout, true, false, false, false))
        .isFalse();
    // Reached the SDK with less than half its time left (it waited for a slot), then its own
    // timeout ended it, connecting or waiting for the answer: no evidence.
    assertThat(Classifier.clientsOwnTimeout(failed, timeout, true, true, true, false)).isTrue();
    assertThat(Classifier.clientsOwnTimeout(Outcome.TIMEOUT, timeout, true, true, true, false))
        .isTrue();
    // ...but OkHttp's own connect or read timeout after a late start is the endpoint's silence.
    assertThat(Classifier.clientsOwnTimeout(failed, connectTimeout, true, true, false, false))
        .isFalse();
    assertThat(
            Classifier.clientsOwnTimeout(
                Outcome.TIMEOUT,
                new SocketTimeoutException("Read timed out"),
                true,
                true,
                false,
                false))
        .isFalse();
    // A timeout with most of its time on the network is judged as slowness elsewhere.
    assertThat(Classifier.clientsOwnTimeout(Outcome.TIMEOUT, timeout, true, false, true, true))
        .isFalse();
    // A refusal is the endpoint's answer, stall or not, late or not.
    assertThat(Classifier.clientsOwnTimeout(failed, refused, true, true, false, true)).isFalse();
    assertThat(Classifier.clientsOwnTimeout(failed, refused, false, false, false, true)).isFalse();
    assertThat(Classifier.clientsOwnTimeout(Outcome.CANCELLED, timeout, false, false, true, false))
        .isFalse();
  }

  @ParameterizedTest
  @CsvSource({
    "GET, true",
    "HEAD, true",
    "OPTIONS, true",
    "PUT, true",
    "DELETE, true",
    "POST, false",
    "PATCH, false"
  })
  void idempotencyByMethod(String method, boolean idempotent) {
    RequestBody body =
        method.equals("GET") || method.equals("HEAD") || method.equals("OPTIONS")
            ? null
            : RequestBody.create(new byte[0], MediaType.get("application/json"));
    Request r = new Request.Builder().url("http://directory/x").method(method, body).build();
    assertThat(Classifier.idempotent(r)).isEqualTo(idempotent);
  }

  @Test
  void idempotencyByHeaderOrMark() {
    RequestBody body = RequestBody.create(new byte[0], MediaType.get("application/json"));
    Request keyed =
        new Request.Builder()
            .url("http://directory/x")
            .post(body)
            .header("Idempotency-Key", "k-1")
            .build();
    assertThat(Classifier.idempotent(keyed)).isTrue();
    Request marked =
        new Request.Builder()
            .url("http://directory/x")
            .post(body)
            .tag(RequestOptions.class, RequestOptions.markIdempotent())
            .build();
    assertThat(Classifier.idempotent(marked)).isTrue();
    Request unmarked =
        new Request.Builder()
            .url("http://directory/x")
            .tag(RequestOptions.class, RequestOptions.markNotIdempotent())
            .build();
    assertThat(Classifier.idempotent(unmarked)).isFalse();
    // Attached as the untyped tag (tag(Object), keyed by Object): read all the same. It was once
    // ignored, and this GET was retried and hedged.
    Request untyped =
        new Request.Builder()
            .url("http://directory/x")
            .tag(RequestOptions.markNotIdempotent())
            .build();
    assertThat(Classifier.idempotent(untyped)).isFalse();
    assertThat(RequestOptions.of(untyped)).isSameAs(RequestOptions.markNotIdempotent());
    // The class-keyed tag wins over the untyped one; an untyped tag of another type is no option.
    Request both =
        new Request.Builder()
            .url("http://directory/x")
            .tag(RequestOptions.markNotIdempotent())
            .tag(RequestOptions.class, RequestOptions.markIdempotent())
            .post(body)
            .build();
    assertThat(Classifier.idempotent(both)).isTrue();
    Request other = new Request.Builder().url("http://directory/x").tag("trace-7").build();
    assertThat(RequestOptions.of(other)).isNull();
    assertThat(Classifier.idempotent(other)).isTrue();
  }

  @Test
  void oneShotBodiesAreNotReplayable() {
    RequestBody oneShot =
        new RequestBody() {
          @Override
          public MediaType contentType() {
            return MediaType.get("text/plain");
          }

          @Override
          public void writeTo(BufferedSink sink) throws IOException {
            sink.writeUtf8("x");
          }

          @Override
          public boolean isOneShot() {
            return true;
          }
        };
    Request r = new Request.Builder().url("http://directory/x").put(oneShot).build();
    assertThat(Classifier.replayable(r)).isFalse();
    assertThat(Classifier.replayable(new Request.Builder().url("http://directory/x").build()))
        .isTrue();
  }

  /** The caller's URL {@code logical} sent to {@code base}, as an endpoint there sends it. */
  private static okhttp3.HttpUrl rewrite(okhttp3.HttpUrl logical, okhttp3.HttpUrl base) {
    return new EndpointUrl(base).attemptUrl(logical);
  }

  @Test
  void rewriteKeepsPathAndQueryUnderTheBasePath() {
    okhttp3.HttpUrl logical = okhttp3.HttpUrl.get("http://directory/users/42?expand=groups");
    assertThat(rewrite(logical, okhttp3.HttpUrl.get("https://dir-a.internal:8443/api/")).toString())
        .isEqualTo("https://dir-a.internal:8443/api/users/42?expand=groups");
    assertThat(rewrite(logical, okhttp3.HttpUrl.get("http://127.0.0.1:8080")).toString())
        .isEqualTo("http://127.0.0.1:8080/users/42?expand=groups");
    assertThat(rewrite(logical, okhttp3.HttpUrl.get("http://10.0.0.7/api")).toString())
        .isEqualTo("http://10.0.0.7/api/users/42?expand=groups");
    assertThat(
            rewrite(okhttp3.HttpUrl.get("http://directory/"), okhttp3.HttpUrl.get("http://h/"))
                .toString())
        .isEqualTo("http://h/");
    // What an endpoint keeps of its URL, so that no attempt computes it again.
    assertThat(new EndpointUrl(okhttp3.HttpUrl.get("http://h/")).basePath).isEmpty();
    assertThat(new EndpointUrl(okhttp3.HttpUrl.get("http://h/api/")).basePath).isEqualTo("/api");
    assertThat(new EndpointUrl(okhttp3.HttpUrl.get("http://h/api")).basePath).isEqualTo("/api");
  }

  /**
   * The unboxed lookup the call path uses classifies every status as the set does: the default
   * statuses, a custom set, and an empty one.
   */
  @Test
  void retryableStatusesClassifyAsTheirSet() {
    List<Set<Integer>> sets =
        List.of(Classifier.DEFAULT_RETRYABLE_STATUSES, Set.of(408, 500, 503, 599), Set.of());
    for (Set<Integer> set : sets) {
      Classifier.RetryableStatuses statuses = Classifier.RetryableStatuses.of(set);
      for (int status = 100; status < 1000; status++) {
        assertThat(Classifier.classify(status, statuses))
            .as("status %d with %s", status, set)
            .isEqualTo(Classifier.classify(status, set));
      }
    }
    assertThat(Classifier.classify(500, Classifier.RetryableStatuses.of(Set.of(500))))
        .isEqualTo(Outcome.UNAVAILABLE);
    assertThat(Classifier.classify(429, Classifier.RetryableStatuses.of(Set.of())))
        .isEqualTo(Outcome.SUCCESS);
  }
}
