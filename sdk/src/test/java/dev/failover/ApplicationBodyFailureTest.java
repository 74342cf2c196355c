package dev.failover;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.failover.testkit.FakeZones;
import dev.failover.testkit.ZoneFault;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ProtocolException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import okhttp3.MediaType;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okio.Buffer;
import okio.BufferedSink;
import okio.ForwardingSource;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * failover-semantics.md: "The application's own code is no evidence". A request body whose own
 * source breaks off as OkHttp writes it (a relayed upload whose client went away) failed its
 * attempt as a reset or protocol error of the endpoint: a PUT was sent to every zone (the body
 * written three times), and five such calls ejected every healthy endpoint and emptied the retry
 * budget. A duplex body, which OkHttp refuses on HTTP/1, evacuated the home zone the same way. Both
 * are the application's failure: one attempt, no evidence, the application's exception as the
 * cause. A connection that fails while the body is written is still the endpoint's (the control).
 */
class ApplicationBodyFailureTest {

  @RegisterExtension static final FakeZones zones = Zones3.zones();

  private static final MediaType JSON = MediaType.get("application/json");

  private final List<ServerSocket> servers = new ArrayList<>();
  private final List<Thread> threads = new ArrayList<>();

  @BeforeEach
  void stub() {
    Zones3.stub(zones);
  }

  @AfterEach
  void stop() throws Exception {
    for (ServerSocket s : servers) {
      s.close();
    }
    for (Thread t : threads) {
      t.join(TimeUnit.SECONDS.toMillis(30));
    }
  }

  @Test
  void aBodyWhoseOwnSourceBreaksOffIsTheApplicationsFailureAndNeverSentAgain() throws Exception {
    AtomicInteger writes = new AtomicInteger();
    try (FailoverClient client = Zones3.client(zones).build()) {
      for (int i = 0; i < 12; i++) {
        boolean relayed = i % 2 == 0;
        String method = i % 3 == 0 ? "POST" : "PUT";
        RequestBody body = relayed ? relayedBodyThatBreaksOff(writes) : bodyThatThrows(writes);
        Request request =
            new Request.Builder()
                .url("http://directory/api/v1/users/" + i)
                .method(method, body)
                .build();
        assertThatThrownBy(() -> client.newCall(request).execute())
            .isInstanceOfSatisfying(
                FailoverException.class,
                e -> {
                  assertThat(e.reason()).isEqualTo(FailoverException.Reason.RETRIES_EXHAUSTED);
                  assertThat(e.attempts()).hasSize(1);
                  assertThat(e.getCause())
                      .isInstanceOf(relayed ? EOFException.class : IOException.class)
                      .hasMessage(relayed ? "inbound client went away" : "the file vanished");
                });
      }
      // Written once per call, never sent to another endpoint.
      assertThat(writes.get()).isEqualTo(12);
      FailoverSnapshot snapshot = client.snapshot();
      assertThat(snapshot.counters().attempts()).isEqualTo(12);
      assertThat(snapshot.counters().retries()).isZero();
      assertNothingJudgedAndHomeServes(client);
    }
  }

  @Test
  void aDuplexBodyOnAnHttp1EndpointIsTheApplicationsFailure() throws Exception {
    try (FailoverClient client = Zones3.client(zones).build()) {
      for (int i = 0; i < 12; i++) {
        Request request =
            new Request.Builder()
                .url("http://directory/api/v1/stream/" + i)
                .post(new DuplexBody())
                .build();
        assertThatThrownBy(() -> client.newCall(request).execute())
            .isInstanceOfSatisfying(
                FailoverException.class,
                e -> {
                  assertThat(e.attempts()).hasSize(1);
                  // OkHttp's own refusal, as bare OkHttp throws it.
                  assertThat(e.getCause()).isInstanceOf(ProtocolException.class);
                });
      }
      assertNothingJudgedAndHomeServes(client);
    }
  }

  /**
   * A body that closes its sink when done (a JSON writer that closes its stream; Kotlin's {@code
   * use}) is sent as bare OkHttp sends it: the SDK's watch on the body's writes failed every such
   * request with "closed".
   */
  @Test
  void aBodyThatClosesItsSinkIsSent() throws Exception {
    try (FailoverClient client = Zones3.client(zones).build()) {
      RequestBody closing =
          json(
              -1,
              sink -> {
                sink.writeUtf8("{\"name\":\"carol\"}");
                sink.close();
              });
      Request put =
          new Request.Builder().url("http://directory/api/v1/users/7").put(closing).build();
      try (Response r = client.newCall(put).execute()) {
        assertThat(r.code()).isEqualTo(200);
      }
    }
  }

  /**
   * A body that writes more or fewer bytes than its {@code contentLength()} said is refused by
   * OkHttp: the application's failure, as a body that broke off is, not the endpoint's.
   */
  @Test
  void aBodyWhoseLengthIsWrongIsTheApplicationsFailure() throws Exception {
    try (FailoverClient client = Zones3.client(zones).build()) {
      for (int i = 0; i < 12; i++) {
        long declared = i % 2 == 0 ? 10 : 100;
        RequestBody wrong =
            json(
                declared,
                sink -> {
                  sink.writeUtf8("x".repeat(20));
                });
        Request put =
            new Request.Builder().url("http://directory/api/v1/users/" + i).put(wrong).build();
        assertThatThrownBy(() -> client.newCall(put).execute())
            .isInstanceOfSatisfying(
                FailoverException.class, e -> assertThat(e.attempts()).hasSize(1));
      }
      assertThat(client.snapshot().counters().retries()).isZero();
      assertNothingJudgedAndHomeServes(client);
    }
  }

  /**
   * A body that breaks off as a hedge writes it ends the call's sending: the attempt it hedged,
   * timing out later, is not retried (its retry would write the broken body a third time), and the
   * call fails with the application's exception.
   */
  @Test
  void noAttemptIsSentAfterTheBodyBrokeOffInAHedge() throws Exception {
    AtomicInteger writes = new AtomicInteger();
    RequestBody secondWriteFails =
        json(
            -1,
            sink -> {
              sink.writeUtf8("{}");
              if (writes.incrementAndGet() >= 2) {
                throw new IOException("the file vanished");
              }
            });
    try (FailoverClient client =
        Zones3.client(zones)
            // The hedge (at 50 ms) surely goes before the original times out, on a busy machine
            // too: else the broken body would come from a retry, with nothing else in flight.
            .attemptTimeout(Duration.ofSeconds(2))
            .deadline(Duration.ofSeconds(10))
            .hedging(HedgePolicy.fixed(Duration.ofMillis(50)).withMaxExtraLoad(0.5))
            .build()) {
      Zones3.fillHedgeBucket(client, 100);
      zones.zone("us-east-1a").fail(ZoneFault.hang());
      Request put =
          new Request.Builder()
              .url("http://directory/api/v1/users/1")
              .put(secondWriteFails)
              .build();
      assertThatThrownBy(() -> client.newCall(put).execute())
          .isInstanceOfSatisfying(
              FailoverException.class,
              e -> {
                assertThat(e.getCause()).hasMessage("the file vanished");
                assertThat(e.attempts())
                    .extracting(Attempt::kind)
                    .containsExactly(Attempt.Kind.FIRST, Attempt.Kind.HEDGE);
              });
      assertThat(writes.get()).isEqualTo(2);
    }
  }

  /**
   * The control: an endpoint that resets its connection while the body is written fails the attempt
   * as the endpoint's, and the PUT goes to another zone, as before.
   */
  @Test
  void aConnectionThatFailsWhileTheBodyIsWrittenIsStillTheEndpointsFailure() throws Exception {
    int port = resettingWhileReading();
    List<Endpoint> endpoints = new ArrayList<>();
    endpoints.add(Endpoint.of("http://127.0.0.1:" + port, "us-east-1", "us-east-1a"));
    for (Endpoint e : Zones3.endpoints(zones)) {
      if (!e.locality().zone().equals("us-east-1a")) {
        endpoints.add(e);
      }
    }
    byte[] upload = new byte[8 * 1024 * 1024];
    try (FailoverClient client =
        FailoverClient.builder()
            .service("directory")
            .home("us-east-1", "us-east-1a")
            .endpoints(endpoints)
            .build()) {
      Request request =
          new Request.Builder()
              .url("http://directory/api/v1/users/1")
              .put(RequestBody.create(upload, JSON))
              .build();
      try (Response r = client.newCall(request).execute()) {
        assertThat(r.code()).isEqualTo(200);
      }
      // Retried: an application's failure would have ended the call after one attempt.
      FailoverSnapshot snapshot = client.snapshot();
      assertThat(snapshot.counters().attempts()).isEqualTo(2);
      assertThat(snapshot.counters().retries()).isEqualTo(1);
    }
  }

  /** No endpoint was ejected, no zone evacuated, and the home zone serves the next call. */
  private static void assertNothingJudgedAndHomeServes(FailoverClient client) throws IOException {
    assertThat(client.snapshot().zones())
        .allSatisfy(
            z -> {
              assertThat(z.status()).isEqualTo(FailoverSnapshot.ZoneStatus.ACTIVE);
              assertThat(z.endpoints()).allSatisfy(ep -> assertThat(ep.ejections()).isZero());
            });

    int before = zones.zone("us-east-1a").requestCount();
    try (Response r = client.newCall(Zones3.user(1)).execute()) {
      assertThat(r.code()).isEqualTo(200);
    }
    assertThat(zones.zone("us-east-1a").requestCount()).isEqualTo(before + 1);
  }

  /** Writes a request body; may throw as the application's body does. */
  @FunctionalInterface
  private interface BodyWriter {
    void writeTo(BufferedSink sink) throws IOException;
  }

  /** A JSON request body of {@code length} bytes (-1: unknown) that {@code writer} writes. */
  private static RequestBody json(long length, BodyWriter writer) {
    return new RequestBody() {
      @Override
      public MediaType contentType() {
        return JSON;
      }

      @Override
      public long contentLength() {
        return length;
      }

      @Override
      public void writeTo(BufferedSink sink) throws IOException {
        writer.writeTo(sink);
      }
    };
  }

  /** A body that writes 1 KB and then fails: its file vanished as it was read. */
  private static RequestBody bodyThatThrows(AtomicInteger writes) {
    return json(
        -1,
        sink -> {
          writes.incrementAndGet();
          sink.writeUtf8("x".repeat(1024));
          sink.flush();
          throw new IOException("the file vanished");
        });
  }

  /**
   * A body relayed from an inbound request whose client went away: its source ends early with an
   * {@link EOFException}, inside {@code writeAll}.
   */
  private static RequestBody relayedBodyThatBreaksOff(AtomicInteger writes) {
    return json(
        -1,
        sink -> {
          writes.incrementAndGet();
          Buffer first = new Buffer().writeUtf8("y".repeat(2048));
          sink.writeAll(
              new ForwardingSource(first) {
                @Override
                public long read(Buffer into, long byteCount) throws IOException {
                  long n = super.read(into, byteCount);
                  if (n == -1) {
                    throw new EOFException("inbound client went away");
                  }
                  return n;
                }
              });
        });
  }

  /** A duplex body: OkHttp sends one only over HTTP/2. */
  private static final class DuplexBody extends RequestBody {
    @Override
    public @Nullable MediaType contentType() {
      return JSON;
    }

    @Override
    public boolean isDuplex() {
      return true;
    }

    @Override
    public void writeTo(BufferedSink sink) throws IOException {
      sink.writeUtf8("{}");
      sink.close();
    }
  }

  /**
   * A server that reads each request's headers and 64 KB of its body, then resets the connection:
   * the client's write of the rest fails.
   */
  private int resettingWhileReading() throws IOException {
    ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    servers.add(server);
    Thread t =
        new Thread(
            () -> {
              while (!server.isClosed()) {
                try (Socket s = server.accept()) {
                  s.setSoTimeout((int) TimeUnit.SECONDS.toMillis(30));
                  InputStream in = s.getInputStream();
                  readHeaders(in);
                  in.readNBytes(64 * 1024);
                  s.setSoLinger(true, 0); // a reset, not a FIN
                } catch (IOException e) {
                  // closed by stop(), or the client went away
                }
              }
            },
            "resetting-server");
    t.setDaemon(true);
    t.start();
    threads.add(t);
    return server.getLocalPort();
  }

  private static void readHeaders(InputStream in) throws IOException {
    StringBuilder sb = new StringBuilder();
    int c;
    while ((c = in.read()) != -1) {
      sb.append((char) c);
      if (sb.length() >= 4 && sb.substring(sb.length() - 4).equals("\r\n\r\n")) {
        return;
      }
    }
    throw new EOFException(new String(sb.toString().getBytes(StandardCharsets.ISO_8859_1)));
  }
}
