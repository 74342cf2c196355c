package dev.failover;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import mockwebserver3.SocketEffect;
import okhttp3.Call;
import okhttp3.Callback;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Protocol;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Over real HTTP/2 (cleartext with prior knowledge, on OkHttp's own test server, which resets
 * streams on cue): a stream the server refused was not processed (RFC 9113 8.7), so a POST goes to
 * another endpoint; a stream reset once the server began to answer may have been processed, so a
 * POST is not sent again. A connection that dies under several streams is one failure of its
 * endpoint; streams the server resets on a connection that lives on count each.
 */
class Http2StreamResetTest {
  private static final int REFUSED_STREAM = 0x7;
  private static final int INTERNAL_ERROR = 0x2;

  private final MockWebServer home = new MockWebServer();
  private final MockWebServer other = new MockWebServer();
  private final Zones3.Recorder events = new Zones3.Recorder();

  @BeforeEach
  void start() throws IOException {
    for (MockWebServer s : List.of(home, other)) {
      s.setProtocols(List.of(Protocol.H2_PRIOR_KNOWLEDGE));
      s.start(0);
    }
  }

  @AfterEach
  void stop() {
    home.close();
    other.close();
  }

  /** One endpoint per zone: with its home zone healthy, a call's first attempt goes home. */
  private FailoverClient client() {
    return FailoverClient.builder()
        .service("directory")
        .home("us-east-1", "us-east-1a")
        .endpoint(home.url("/").toString(), "us-east-1", "us-east-1a")
        .endpoint(other.url("/").toString(), "us-east-1", "us-east-1b")
        .okHttpClient(
            new OkHttpClient.Builder().protocols(List.of(Protocol.H2_PRIOR_KNOWLEDGE)).build())
        .hedging(HedgePolicy.off())
        .deadline(Duration.ofSeconds(30))
        .attemptTimeout(Duration.ofSeconds(10))
        .listener(events)
        .build();
  }

  private static Request post() {
    return new Request.Builder()
        .url("http://directory/users")
        .post(RequestBody.create("{\"login\":\"ada\"}", MediaType.get("application/json")))
        .build();
  }

  /**
   * Answers at once until {@link #hold} is set; then holds every request, counting each as it
   * arrives, and answers it with {@code then} once released.
   */
  private static final class Held extends Dispatcher {
    volatile boolean hold;
    private final MockResponse then;
    final Semaphore arrived = new Semaphore(0);
    final CountDownLatch release = new CountDownLatch(1);
    final List<Integer> connections = new CopyOnWriteArrayList<>();

    Held(MockResponse then) {
      this.then = then;
    }

    @Override
    public MockResponse dispatch(RecordedRequest request) throws InterruptedException {
      if (!hold) {
        return new MockResponse.Builder().code(201).body("created").build();
      }
      connections.add(request.getConnectionIndex());
      arrived.release();
      release.await(30, TimeUnit.SECONDS);
      return then;
    }

    /** Over HTTP/2, MockWebServer takes a stream's socket effects from here, not the answer. */
    @Override
    public MockResponse peek() {
      return hold ? then : super.peek();
    }
  }

  /**
   * A TCP relay in front of a server, which can reset every connection it carries: a connection
   * that dies under its streams (the server's host restarted, a middlebox dropped it).
   */
  private static final class Relay implements AutoCloseable {
    private final ServerSocket listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    private final int target;
    private final List<Socket> accepted = new CopyOnWriteArrayList<>();
    private final ExecutorService threads = Executors.newCachedThreadPool();

    Relay(int target) throws IOException {
      this.target = target;
      threads.execute(this::accept);
    }

    String url() {
      return "http://127.0.0.1:" + listener.getLocalPort() + "/";
    }

    private void accept() {
      while (true) {
        try {
          Socket client = listener.accept();
          Socket server = new Socket(InetAddress.getLoopbackAddress(), target);
          accepted.add(client);
          threads.execute(() -> pump(client, server));
          threads.execute(() -> pump(server, client));
        } catch (IOException e) {
          return; // closed
        }
      }
    }

    private static void pump(Socket from, Socket to) {
      try (from;
          to) {
        from.getInputStream().transferTo(to.getOutputStream());
      } catch (IOException e) {
        // One side closed or was reset: both are closed.
      }
    }

    /** Closes every connection made so far cleanly (the client reads the end of the stream). */
    void closeAll() throws IOException {
      for (Socket s : accepted) {
        s.close();
      }
      accepted.clear();
    }

    /** Resets every connection made so far (SO_LINGER 0, then close: the client reads an RST). */
    void resetAll() throws IOException {
      for (Socket s : accepted) {
        s.setSoLinger(true, 0);
        s.close();
      }
      accepted.clear();
    }

    @Override
    public void close() throws IOException {
      listener.close();
      resetAll();
      threads.shutdownNow();
      try {
        assertThat(threads.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }

  private FailoverClient client(String homeUrl) {
    return FailoverClient.builder()
        .service("directory")
        .home("us-east-1", "us-east-1a")
        .endpoint(homeUrl, "us-east-1", "us-east-1a")
        .endpoint(other.url("/").toString(), "us-east-1", "us-east-1b")
        .okHttpClient(
            new OkHttpClient.Builder().protocols(List.of(Protocol.H2_PRIOR_KNOWLEDGE)).build())
        .hedging(HedgePolicy.off())
        .ejection(EjectionPolicy.builder().consecutiveFailures(3).build())
        .deadline(Duration.ofSeconds(30))
        .attemptTimeout(Duration.ofSeconds(25))
        .listener(events)
        .build();
  }

  /**
   * Four POSTs in flight on one HTTP/2 connection when it is reset: four resets, one loss, which
   * counts once against the endpoint (three in a row eject it here). Each later connection that
   * dies counts again: two more, and it is ejected.
   */
  @Test
  void theStreamsOfOneConnectionThatDiesAreOneFailure() throws Exception {
    Held held = new Held(new MockResponse.Builder().code(201).body("created").build());
    throughARelay(
        held,
        (relay, client) -> {
          failAtOnce(client, held, 4, relay::resetAll);
          assertThat(held.connections).hasSize(4).containsOnly(held.connections.get(0));
          assertThat(homeAttempts())
              .extracting(Attempt::outcome)
              .containsExactly(
                  Outcome.SUCCESS, Outcome.RESET, Outcome.RESET, Outcome.RESET, Outcome.RESET);
          assertThat(homeState(client).health()).isEqualTo(FailoverSnapshot.Health.HEALTHY);

          // Two more connections die, one at a time: three losses in a row.
          failAtOnce(client, held, 1, relay::resetAll);
          assertThat(homeState(client).health()).isEqualTo(FailoverSnapshot.Health.HEALTHY);
          failAtOnce(client, held, 1, relay::resetAll);
          assertThat(held.connections).hasSize(6);
          assertThat(held.connections.subList(3, 6)).doesNotHaveDuplicates();
          assertThat(homeState(client).health()).isEqualTo(FailoverSnapshot.Health.EJECTED);
        });
    assertThat(other.getRequestCount()).isZero();
  }

  /**
   * Three answers whose bodies are still coming on one HTTP/2 connection when it is reset: each
   * caller's read fails, and the three broken bodies count once against the endpoint (three
   * failures in a row would eject it here).
   */
  @Test
  void theBodiesOfOneConnectionThatDiesAreOneFailure() throws Exception {
    // 1 KiB a second of a 1 MiB body: still coming when the connection is reset.
    Held held =
        new Held(
            new MockResponse.Builder()
                .body(new okio.Buffer().write(new byte[1 << 20]))
                .throttleBody(1024, 1, TimeUnit.SECONDS)
                .build());
    held.release.countDown();
    throughARelay(
        held,
        (relay, client) -> {
          List<Response> answers = new java.util.ArrayList<>();
          try {
            for (int i = 0; i < 3; i++) {
              Response r = client.newCall(get()).execute();
              answers.add(r);
              assertThat(r.code()).isEqualTo(200);
              r.body().source().require(1); // its body has begun
            }
            assertThat(held.connections).hasSize(3).containsOnly(held.connections.get(0));
            relay.resetAll();
            for (Response r : answers) {
              assertThatThrownBy(() -> r.body().string()).isInstanceOf(IOException.class);
            }
          } finally {
            answers.forEach(Response::close);
          }
          assertThat(homeState(client).health()).isEqualTo(FailoverSnapshot.Health.HEALTHY);
        });
  }

  /**
   * A connection closed cleanly (no GOAWAY) under four POSTs: OkHttp fails each stream with a
   * CANCEL reset of its own, having given the connection up; one loss, not four failures (three in
   * a row eject it here).
   */
  @Test
  void aConnectionClosedUnderItsStreamsIsOneFailure() throws Exception {
    Held held = new Held(new MockResponse.Builder().code(201).body("created").build());
    throughARelay(
        held,
        (relay, client) -> {
          failAtOnce(client, held, 4, relay::closeAll);
          assertThat(homeAttempts()).hasSize(5);
          assertThat(homeState(client).health()).isEqualTo(FailoverSnapshot.Health.HEALTHY);
        });
  }

  /**
   * A server that resets three streams of one connection (RST_STREAM), the connection alive: three
   * failures, not one loss (three in a row eject the endpoint here).
   */
  @Test
  void streamsResetOnALiveConnectionEachCount() throws Exception {
    Held held =
        new Held(
            new MockResponse.Builder()
                .onResponseStart(new SocketEffect.CloseStream(INTERNAL_ERROR))
                .build());
    home.setDispatcher(held);
    try (FailoverClient client = client(home.url("/").toString())) {
      try (Response r = client.newCall(post()).execute()) {
        assertThat(r.code()).isEqualTo(201);
      }
      held.hold = true;
      failAtOnce(client, held, 3, held.release::countDown);
      assertThat(held.connections).hasSize(3).containsOnly(held.connections.get(0));
      assertThat(homeAttempts())
          .extracting(Attempt::outcome)
          .containsExactly(Outcome.SUCCESS, Outcome.RESET, Outcome.RESET, Outcome.RESET);
      assertThat(homeState(client).health()).isEqualTo(FailoverSnapshot.Health.EJECTED);
    } finally {
      held.release.countDown();
    }
    assertThat(other.getRequestCount()).isZero();
  }

  /**
   * Runs {@code scenario} with a client whose home endpoint is a relay in front of the home server,
   * served by {@code held}: after one POST has opened the client's one connection (pooled: the
   * calls that follow are its streams), with {@code held} set to hold every request (answered at
   * once with its {@code then} where it was released before); then releases what it still holds.
   */
  private void throughARelay(Held held, RelayScenario scenario) throws Exception {
    home.setDispatcher(held);
    try (Relay relay = new Relay(home.getPort());
        FailoverClient client = client(relay.url())) {
      try {
        try (Response r = client.newCall(post()).execute()) {
          assertThat(r.code()).isEqualTo(201);
        }
        held.hold = true;
        scenario.run(relay, client);
      } finally {
        held.release.countDown();
      }
    }
  }

  private interface RelayScenario {
    void run(Relay relay, FailoverClient client) throws Exception;
  }

  /** Sends {@code n} POSTs at once; see {@link #atOnce}. */
  private static void failAtOnce(FailoverClient client, Held held, int n, IoAction fault)
      throws Exception {
    atOnce(client, held, post(), n, fault);
  }

  /**
   * Sends {@code n} calls of {@code request} at once, runs {@code fault} once the server holds all
   * of them, and waits until every one has ended (failed, or answered by another zone).
   */
  private static void atOnce(
      FailoverClient client, Held held, Request request, int n, IoAction fault) throws Exception {
    CountDownLatch ended = new CountDownLatch(n);
    for (int i = 0; i < n; i++) {
      client
          .newCall(request)
          .enqueue(
              new Callback() {
                @Override
                public void onFailure(Call call, IOException e) {
                  ended.countDown();
                }

                @Override
                public void onResponse(Call call, Response response) {
                  response.close();
                  ended.countDown();
                }
              });
    }
    assertThat(held.arrived.tryAcquire(n, 20, TimeUnit.SECONDS)).isTrue();
    fault.run();
    assertThat(ended.await(20, TimeUnit.SECONDS)).isTrue();
  }

  private interface IoAction {
    void run() throws IOException;
  }

  private FailoverSnapshot.EndpointState homeState(FailoverClient client) {
    return client.snapshot().zones().stream()
        .flatMap(z -> z.endpoints().stream())
        .filter(e -> e.endpoint().locality().zone().equals("us-east-1a"))
        .findFirst()
        .orElseThrow();
  }

  private static Request get() {
    return new Request.Builder().url("http://directory/users/42").build();
  }

  private List<Attempt> homeAttempts() {
    return events.attempts().stream()
        .filter(a -> a.endpoint().locality().zone().equals("us-east-1a"))
        .toList();
  }

  @Test
  void aPostWhoseStreamTheServerRefusedGoesToAnotherEndpoint() throws Exception {
    home.enqueue(
        new MockResponse.Builder()
            .onRequestStart(new SocketEffect.CloseStream(REFUSED_STREAM))
            .build());
    other.enqueue(new MockResponse.Builder().add100Continue().code(201).body("created").build());
    // The POST asks to continue before it sends its body: MockWebServer answers DATA that reaches a
    // stream it has just refused with a second reset (PROTOCOL_ERROR), which can go out before the
    // refusal (a real server ignores frames on a stream it reset, RFC 9113 section 5.1). So nothing
    // is sent to the refusing server after the headers; the other one invites the body.
    Request post = post().newBuilder().header("Expect", "100-continue").build();
    try (FailoverClient client = client();
        Response r = client.newCall(post).execute()) {
      assertThat(r.code()).isEqualTo(201);
      assertThat(r.body().string()).isEqualTo("created");
    }
    assertThat(homeAttempts())
        .singleElement()
        .extracting(Attempt::outcome)
        .isEqualTo(Outcome.CONNECT_FAILED);
    assertThat(home.getRequestCount()).isEqualTo(1);
    assertThat(other.getRequestCount()).isEqualTo(1);
    RecordedRequest sentAgain = other.takeRequest();
    assertThat(sentAgain.getMethod()).isEqualTo("POST");
    assertThat(sentAgain.getBody().utf8()).isEqualTo("{\"login\":\"ada\"}");
  }

  @Test
  void aPostWhoseStreamWasResetAsTheServerAnsweredIsNotSentAgain() {
    home.enqueue(
        new MockResponse.Builder()
            .onResponseStart(new SocketEffect.CloseStream(INTERNAL_ERROR))
            .build());
    try (FailoverClient client = client()) {
      assertThatThrownBy(() -> client.newCall(post()).execute().close())
          .isInstanceOf(FailoverException.class);
    }
    assertThat(homeAttempts())
        .singleElement()
        .extracting(Attempt::outcome)
        .isEqualTo(Outcome.RESET);
    assertThat(home.getRequestCount()).isEqualTo(1);
    assertThat(other.getRequestCount()).isZero();
  }
}
