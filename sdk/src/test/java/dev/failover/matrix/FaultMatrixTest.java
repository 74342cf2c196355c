package dev.failover.matrix;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.failover.Attempt;
import dev.failover.FailoverClient;
import dev.failover.FailoverEvent;
import dev.failover.FailoverException;
import dev.failover.FailoverListener;
import dev.failover.Outcome;
import dev.failover.matrix.RawServer.Fault;
import java.io.IOException;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import okhttp3.Call;
import okhttp3.Callback;
import okhttp3.ConnectionPool;
import okhttp3.EventListener;
import okhttp3.HttpUrl;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okio.BufferedSink;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The fault matrix: every fault of {@link RawServer} on the home-zone endpoint, crossed with the
 * request methods (and their idempotency and replayability) and with {@code execute()} and {@code
 * enqueue()}, against a client with a 3 s deadline over three endpoints in three zones of two
 * regions. Each cell checks the caller's outcome, the receipts of the request at every endpoint,
 * the elapsed time, the attempts the call made, and (for {@code enqueue()}) that the callback ran
 * exactly once. The table in docs/failover-semantics.md, "The fault matrix", states the same
 * expectations.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS) // a backstop: a cell takes well under 2 s
class FaultMatrixTest {

  /** The client's total deadline. */
  static final Duration DEADLINE = Duration.ofSeconds(3);

  /**
   * The most a call may take, from {@code execute()}/{@code enqueue()} to its return or callback:
   * the deadline plus 100 ms, plus however long this JVM's threads waited for a CPU during the cell
   * ({@link StallMonitor}): the SDK ends {@code execute()} with the caller's own timed wait and
   * {@code enqueue()} with a scheduler timer, so past the deadline only the time to wake a thread
   * remains, and a machine starved by other work (load averages of 13 and more were seen on CI
   * runs) must not fail the SDK for its own stalls. The deadline is 3 s (attempt timeout 1 s) so
   * that an instant answer always arrives within an attempt, however busy the machine.
   */
  static final Duration BOUND = DEADLINE.plusMillis(100);

  private static final MediaType JSON = MediaType.get("application/json");

  /** The endpoints: a in the home zone, b in the home region's other zone, w in another region. */
  private static final List<String> NAMES = List.of("a", "b", "w");

  /** What the home endpoint does, and how the docs classify the attempt that meets it. */
  enum HomeFault {
    OK(Fault.ok(), true, Outcome.SUCCESS),
    REFUSE(Fault.refuse(), false, Outcome.CONNECT_FAILED),
    RESET_AFTER_READ(Fault.resetAfterRead(), true, Outcome.RESET),
    HANG(Fault.hang(), true, Outcome.TIMEOUT),
    SILENT_ON_POOLED(Fault.silentOnPooled(), true, Outcome.TIMEOUT),
    SLOW(Fault.slow(DEADLINE.multipliedBy(2)), true, Outcome.TIMEOUT),
    GARBAGE(Fault.garbage(), true, Outcome.PROTOCOL_ERROR),
    /**
     * OkHttp resends an idempotent request once on its own after this answer (a second receipt at
     * a, one attempt); for a request that is not idempotent the SDK removes the header so that
     * OkHttp does not, and the caller gets the 503 without it.
     */
    STATUS_503_RETRY_AFTER_0(Fault.status(503, "Retry-After", "0"), true, Outcome.UNAVAILABLE),
    STATUS_503_RETRY_AFTER_1(Fault.status(503, "Retry-After", "1"), true, Outcome.UNAVAILABLE),
    STATUS_503_RETRY_AFTER_120(Fault.status(503, "Retry-After", "120"), true, Outcome.UNAVAILABLE),
    STATUS_503_RETRY_AFTER_YEAR_9999(
        Fault.status(503, "Retry-After", "Fri, 31 Dec 9999 23:59:59 GMT"),
        true,
        Outcome.UNAVAILABLE),
    STATUS_503_RETRY_AFTER_9999999999(
        Fault.status(503, "Retry-After", "9999999999"), true, Outcome.UNAVAILABLE),
    STATUS_429(Fault.status(429), true, Outcome.THROTTLED),
    STATUS_429_RETRY_AFTER_9999999999(
        Fault.status(429, "Retry-After", "9999999999"), true, Outcome.THROTTLED),
    STATUS_500(Fault.status(500), true, Outcome.SERVER_ERROR),
    /**
     * The first connection is reset before the server reads anything. Whether OkHttp notices the
     * reset before the SDK's network interceptor sees the request go out is a race on the wire, so
     * the attempt is CONNECT_FAILED (nothing went out) or RESET (writing began); the cell then
     * checks that the call follows the rule for the outcome the SDK recorded.
     */
    FLAPPING(Fault.flapping(), false, Outcome.RESET, Outcome.CONNECT_FAILED);

    final Fault fault;

    /** Whether the home endpoint reads the request (a receipt). */
    final boolean received;

    /** How the attempt to the home endpoint may end. */
    final Set<Outcome> outcomes;

    HomeFault(Fault fault, boolean received, Outcome outcome, Outcome... alternatives) {
      this.fault = fault;
      this.received = received;
      this.outcomes = EnumSet.of(outcome, alternatives);
    }

    /** How many times the home endpoint reads a request sent to it once (one attempt). */
    int receipts(Method method) {
      if (!received) {
        return 0;
      }
      return this == STATUS_503_RETRY_AFTER_0 && method.idempotent ? 2 : 1;
    }

    /** The headers the caller sees on the home endpoint's answer; a null value: absent. */
    Map<String, String> headersSeen(Method method) {
      Map<String, String> seen = new LinkedHashMap<>(fault.headers());
      if (this == STATUS_503_RETRY_AFTER_0 && !method.idempotent) {
        seen.put("Retry-After", null);
      }
      return seen;
    }

    /** The status the home endpoint answers with, or 0 if it does not answer. */
    int status() {
      return switch (fault.kind()) {
        case OK -> 200;
        case STATUS -> fault.status();
        default -> 0;
      };
    }
  }

  /** What the other endpoints do. */
  enum Others {
    /** b and w answer 200. */
    HEALTHY,
    /**
     * b, the retry's first choice (an untried zone in the home region), answers 500; w answers 200.
     * Half of the endpoints a call can fall back to return 500 (the "half the endpoints
     * return 500", for three endpoints).
     */
    B_500
  }

  /** The request, and what the docs derive from it. */
  enum Method {
    GET(true, true),
    PUT(true, true),
    POST(false, true),
    POST_IDEMPOTENCY_KEY(true, true),
    POST_ONE_SHOT(false, false);

    final boolean idempotent;
    final boolean replayable;

    Method(boolean idempotent, boolean replayable) {
      this.idempotent = idempotent;
      this.replayable = replayable;
    }
  }

  enum Mode {
    EXECUTE,
    ENQUEUE
  }

  record Cell(HomeFault fault, Others others, Method method, Mode mode) {
    @Override
    public String toString() {
      return fault + " x " + method + " x " + mode + (others == Others.HEALTHY ? "" : " (b: 500)");
    }
  }

  /**
   * What a cell expects: an answer (status and the endpoint that wrote it) or a failure (reason and
   * the outcome of each attempt), the receipts at each endpoint, and the endpoint of each attempt
   * made, in order.
   */
  record Expected(
      int status,
      String servedBy,
      Map<String, String> headers,
      FailoverException.Reason reason,
      List<Outcome> outcomes,
      Map<String, Integer> receipts,
      List<String> route) {}

  static Stream<Cell> cells() {
    List<Cell> cells = new ArrayList<>();
    for (HomeFault fault : HomeFault.values()) {
      for (Others others : Others.values()) {
        for (Method method : Method.values()) {
          for (Mode mode : Mode.values()) {
            cells.add(new Cell(fault, others, method, mode));
          }
        }
      }
    }
    return cells.stream();
  }

  /**
   * The rules of docs/failover-semantics.md applied to one cell, given how the attempt to the home
   * endpoint ended ({@code home}, one of {@link HomeFault#outcomes}). The first attempt goes to a
   * (the home tier is fully healthy). A non-retryable outcome is the caller's answer. A retryable
   * one is retried when the request is safe to repeat ("What is safe to repeat": replayable, and
   * idempotent or never sent), to b (an untried zone, nearest tier first); b's answer is then the
   * caller's. Otherwise the call gives up: a retryable response (503, 429) is returned as it is
   * ("What the caller gets"), an exception becomes a FailoverException with RETRIES_EXHAUSTED.
   */
  static Expected expected(Cell cell, Outcome home) {
    HomeFault f = cell.fault();
    Method m = cell.method();
    int atHome = f.receipts(m);
    if (!home.isRetryable()) {
      return answer(f.status(), "a", f.headersSeen(m), receipts(atHome, 0), List.of("a"));
    }
    // Repeatable: the body can be sent again (replayable, or a one-shot body never written because
    // nothing reached the network), and the request is idempotent or provably never left.
    if ((m.replayable || home.neverSent()) && (m.idempotent || home.neverSent())) {
      int status = cell.others() == Others.B_500 ? 500 : 200;
      return answer(status, "b", Map.of(), receipts(atHome, 1), List.of("a", "b"));
    }
    if (f.status() > 0) {
      return answer(f.status(), "a", f.headersSeen(m), receipts(atHome, 0), List.of("a"));
    }
    return new Expected(
        0,
        "",
        Map.of(),
        FailoverException.Reason.RETRIES_EXHAUSTED,
        List.of(home),
        receipts(atHome, 0),
        List.of("a"));
  }

  private static Expected answer(
      int status,
      String servedBy,
      Map<String, String> headers,
      Map<String, Integer> receipts,
      List<String> route) {
    return new Expected(status, servedBy, headers, null, List.of(), receipts, route);
  }

  private static Map<String, Integer> receipts(int a, int b) {
    Map<String, Integer> m = new LinkedHashMap<>();
    m.put("a", a);
    m.put("b", b);
    m.put("w", 0);
    return m;
  }

  /**
   * Loads and links the client, OkHttp and the server once, outside any timed cell, so that the
   * first cell does not measure class loading.
   */
  @BeforeAll
  static void warmUp() throws IOException {
    try (RawServer server = RawServer.start(NAMES.toArray(String[]::new));
        FailoverClient client = client(server, new OkHttpClient()).build()) {
      for (Method method : Method.values()) {
        try (Response response = client.newCall(request(method, "warm-up", null)).execute()) {
          assertThat(response.code()).isEqualTo(200);
          response.body().string();
        }
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cells")
  void cell(Cell cell) throws Exception {
    String id = "matrix-" + cell.fault() + "-" + cell.method() + "-" + System.nanoTime();
    OneShotBody oneShot = new OneShotBody();
    AttemptCounter counter = new AttemptCounter();
    EventLog events = new EventLog();
    long gcBefore = gcMillis();
    Observed observed;
    Map<String, Integer> receipts;
    Map<Integer, String> names = new LinkedHashMap<>();
    int homeConnections;
    Outcome home;
    long stallMillis;
    try (RawServer server = RawServer.start(NAMES.toArray(String[]::new))) {
      for (String name : NAMES) {
        names.put(HttpUrl.get(server.url(name)).port(), name);
      }
      server.fault("a", cell.fault().fault);
      if (cell.others() == Others.B_500) {
        server.fault("b", Fault.status(500));
      }
      ConnectionPool pool = new ConnectionPool();
      OkHttpClient okHttp =
          new OkHttpClient.Builder().connectionPool(pool).eventListener(counter).build();
      Request request = request(cell.method(), id, oneShot);
      try (FailoverClient client = client(server, okHttp).listener(events).build()) {
        if (cell.fault() == HomeFault.SILENT_ON_POOLED) {
          // Leaves one idle keep-alive connection to a in the pool: the cell's request reuses it.
          try (Response first = client.newCall(request(Method.GET, "pool-" + id, null)).execute()) {
            assertThat(first.header(RawServer.SERVED_BY)).isEqualTo("a");
            first.body().string();
          }
          counter.clear();
          events.clear();
        }
        try (StallMonitor stalls = new StallMonitor()) {
          observed =
              cell.mode() == Mode.EXECUTE ? execute(client, request) : enqueue(client, request);
          stallMillis = stalls.worstMillis();
        }
      } finally {
        pool.evictAll();
      }
      // The client is closed: every thread it started has ended, so a late second callback or a
      // late attempt would already be counted, and its connections are closed. On a busy machine
      // the server may read a request after the client gave up on it (a HANG endpoint whose
      // connection is accepted late): wait for the expected receipts, then for every accepted
      // connection to be read to its end, so that the receipts are complete.
      home = events.firstOutcome();
      if (home != null && cell.fault().outcomes.contains(home)) {
        server.awaitReceipts(id, expected(cell, home).receipts(), Duration.ofSeconds(5));
      }
      server.awaitQuiet(Duration.ofSeconds(5));
      receipts = server.receipts(id);
      homeConnections = server.connections("a");
    }

    String what =
        cell + ": " + observed + "; events " + events + "; GC " + (gcMillis() - gcBefore) + " ms";
    assertThat(home).as("outcome of the first attempt (to a), " + what).isIn(cell.fault().outcomes);
    Expected expected = expected(cell, home);
    if (cell.mode() == Mode.ENQUEUE) {
      assertThat(observed.callbacks().get()).as("callbacks of " + what).isEqualTo(1);
    }
    assertThat(observed.elapsedMillis())
        .as("elapsed ms of " + what + " (machine stalled " + stallMillis + " ms)")
        .isLessThanOrEqualTo(BOUND.toMillis() + stallMillis);

    int total = receipts.values().stream().mapToInt(Integer::intValue).sum();
    if (!cell.method().idempotent) {
      assertThat(total)
          .as("a non-idempotent request is received at most once, " + what)
          .isLessThanOrEqualTo(1);
    }
    if (!cell.method().replayable) {
      assertThat(oneShot.writes.get()).as("one-shot body writes, " + what).isLessThanOrEqualTo(1);
      assertThat(total).as("one-shot body receipts, " + what).isLessThanOrEqualTo(1);
    }
    // Where the call went next depends on the healthy endpoints answering within an attempt
    // timeout (1 s). If this run's machine starved one of them so long that it timed out, the
    // routing expectations below do not apply to this run (the safety checks above still did).
    org.junit.jupiter.api.Assumptions.assumeFalse(
        events.healthyEndpointTimedOut(), () -> "a healthy endpoint timed out: " + what);
    if (expected.reason() == null) {
      assertThat(observed.failure()).as("failure of " + what).isNull();
      assertThat(observed.status()).as("status of " + what).isEqualTo(expected.status());
      assertThat(observed.servedBy()).as("served by, " + what).isEqualTo(expected.servedBy());
      for (Map.Entry<String, String> h : expected.headers().entrySet()) {
        if (h.getValue() == null) {
          assertThat(observed.headers()).as("headers of " + what).doesNotContainKey(h.getKey());
        } else {
          assertThat(observed.headers().get(h.getKey()))
              .as(h.getKey() + " of " + what)
              .isEqualTo(h.getValue());
        }
      }
    } else {
      assertThat(observed.failure()).as("failure of " + what).isInstanceOf(FailoverException.class);
      FailoverException e = (FailoverException) observed.failure();
      assertThat(e.reason()).as("reason of " + what).isEqualTo(expected.reason());
      assertThat(e.elapsed())
          .as("elapsed() of " + what)
          .isLessThanOrEqualTo(BOUND.plusMillis(stallMillis));
      assertThat(e.attempts())
          .as("attempts of " + what)
          .extracting(Attempt::outcome)
          .containsExactlyElementsOf(expected.outcomes());
      // One entry per attempt made: as many as OkHttp calls the client started, at the same
      // endpoints, numbered from 1.
      assertThat(e.attempts()).as("attempts of " + what).hasSize(counter.total());
      List<String> where = new ArrayList<>();
      for (Attempt a : e.attempts()) {
        where.add(names.get(a.endpoint().url().port()));
      }
      assertThat(where).as("attempt endpoints of " + what).isEqualTo(counter.endpoints(names));
      assertThat(e.attempts())
          .extracting(Attempt::number)
          .as("attempt numbers of " + what)
          .isEqualTo(IntStream.rangeClosed(1, e.attempts().size()).boxed().toList());
    }
    // The attempts made, seen from OkHttp: one call per attempt, to these endpoints in this order.
    assertThat(counter.endpoints(names)).as("attempts made, " + what).isEqualTo(expected.route());
    assertThat(receipts).as("receipts of " + what).isEqualTo(expected.receipts());

    if (cell.fault() == HomeFault.SILENT_ON_POOLED) {
      assertThat(homeConnections)
          .as("a's connections: the request went on the pooled one")
          .isEqualTo(1);
    }
  }

  private static long gcMillis() {
    long total = 0;
    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      total += Math.max(0, gc.getCollectionTime());
    }
    return total;
  }

  private static FailoverClient.Builder client(RawServer server, OkHttpClient okHttp) {
    return FailoverClient.builder()
        .service("directory")
        .home("us-east-1", "us-east-1a")
        .endpoint(server.url("a"), "us-east-1", "us-east-1a")
        .endpoint(server.url("b"), "us-east-1", "us-east-1b")
        .endpoint(server.url("w"), "us-west-2", "us-west-2a")
        .okHttpClient(okHttp)
        .deadline(DEADLINE);
  }

  private static Request request(Method method, String id, OneShotBody oneShot) {
    Request.Builder b =
        new Request.Builder().url("http://directory/matrix/" + id).header(RawServer.REQUEST_ID, id);
    RequestBody json = RequestBody.create("{\"n\":1}", JSON);
    switch (method) {
      case GET -> b.get();
      case PUT -> b.put(json);
      case POST -> b.post(json);
      case POST_IDEMPOTENCY_KEY -> b.post(json).header("Idempotency-Key", id);
      case POST_ONE_SHOT -> b.post(oneShot == null ? new OneShotBody() : oneShot);
    }
    return b.build();
  }

  /** What the caller got. */
  record Observed(
      long elapsedMillis,
      AtomicInteger callbacks,
      int status,
      String servedBy,
      Map<String, String> headers,
      IOException failure) {
    @Override
    public String toString() {
      String got =
          failure == null
              ? "HTTP " + status + " from " + servedBy + " " + headers
              : failure.getClass().getSimpleName() + ": " + failure.getMessage();
      return got + " after " + elapsedMillis + " ms";
    }
  }

  private static Observed execute(FailoverClient client, Request request) {
    long start = System.nanoTime();
    try (Response response = client.newCall(request).execute()) {
      long elapsed = millisSince(start);
      return seen(response, elapsed, new AtomicInteger());
    } catch (IOException e) {
      return new Observed(millisSince(start), new AtomicInteger(), 0, "", Map.of(), e);
    }
  }

  private static Observed enqueue(FailoverClient client, Request request)
      throws InterruptedException {
    AtomicInteger callbacks = new AtomicInteger();
    AtomicReference<Observed> first = new AtomicReference<>();
    CountDownLatch called = new CountDownLatch(1);
    long start = System.nanoTime();
    client
        .newCall(request)
        .enqueue(
            new Callback() {
              @Override
              public void onResponse(Call call, Response response) throws IOException {
                long elapsed = millisSince(start);
                callbacks.incrementAndGet();
                try (response) {
                  first.compareAndSet(null, seen(response, elapsed, callbacks));
                }
                called.countDown();
              }

              @Override
              public void onFailure(Call call, IOException e) {
                long elapsed = millisSince(start);
                callbacks.incrementAndGet();
                first.compareAndSet(null, new Observed(elapsed, callbacks, 0, "", Map.of(), e));
                called.countDown();
              }
            });
    // A bounded wait for the callback, well past the bound that is checked afterwards.
    if (!called.await(BOUND.toMillis() + 10_000, TimeUnit.MILLISECONDS)) {
      fail("the callback was not called within " + (BOUND.toMillis() + 10_000) + " ms");
    }
    return first.get();
  }

  private static Observed seen(Response response, long elapsed, AtomicInteger callbacks)
      throws IOException {
    Map<String, String> headers = new LinkedHashMap<>();
    for (String name : response.headers().names()) {
      headers.put(name, response.header(name));
    }
    response.body().string();
    String servedBy = response.header(RawServer.SERVED_BY);
    return new Observed(
        elapsed, callbacks, response.code(), servedBy == null ? "?" : servedBy, headers, null);
  }

  private static long millisSince(long start) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
  }

  /** The attempts and retries of a call, from the client's listener, for checks and messages. */
  static final class EventLog implements FailoverListener {
    private final List<Object> events = new CopyOnWriteArrayList<>();

    @Override
    public void onAttempt(FailoverEvent.AttemptFinished event) {
      events.add(event.attempt());
    }

    @Override
    public void onRetry(FailoverEvent.RetryScheduled event) {
      events.add("retry after " + event.backoff().toMillis() + " ms");
    }

    void clear() {
      events.clear();
    }

    /** Whether an attempt to a healthy endpoint (not the first, to a) timed out. */
    boolean healthyEndpointTimedOut() {
      return events.stream()
          .filter(Attempt.class::isInstance)
          .map(Attempt.class::cast)
          .anyMatch(a -> a.number() > 1 && a.outcome() == Outcome.TIMEOUT);
    }

    /** How the call's first attempt (the one to a) ended, or null if it has not ended. */
    Outcome firstOutcome() {
      return events.stream()
          .filter(Attempt.class::isInstance)
          .map(Attempt.class::cast)
          .filter(a -> a.number() == 1)
          .map(Attempt::outcome)
          .findFirst()
          .orElse(null);
    }

    @Override
    public String toString() {
      return events.toString();
    }
  }

  /**
   * Counts the attempts the client makes, independently of the SDK: one OkHttp call per attempt
   * (OkHttp's own silent resends happen inside its call and are not separate attempts).
   */
  static final class AttemptCounter extends EventListener {
    private final List<Integer> ports = new CopyOnWriteArrayList<>();

    @Override
    public void callStart(Call call) {
      ports.add(call.request().url().port());
    }

    void clear() {
      ports.clear();
    }

    int total() {
      return ports.size();
    }

    List<String> endpoints(Map<Integer, String> names) {
      return ports.stream().map(names::get).toList();
    }
  }

  /** A one-shot body that counts how often it is written. */
  static final class OneShotBody extends RequestBody {
    final AtomicInteger writes = new AtomicInteger();

    @Override
    public MediaType contentType() {
      return JSON;
    }

    @Override
    public long contentLength() {
      return -1;
    }

    @Override
    public boolean isOneShot() {
      return true;
    }

    @Override
    public void writeTo(BufferedSink sink) throws IOException {
      writes.incrementAndGet();
      sink.writeUtf8("{\"once\":true}");
    }
  }
}
