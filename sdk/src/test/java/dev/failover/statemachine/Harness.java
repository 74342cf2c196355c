package dev.failover.statemachine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.failover.FailoverClient;
import dev.failover.FakeClock;
import dev.failover.HedgePolicy;
import dev.failover.ZonePolicy;
import java.time.Duration;
import java.util.function.UnaryOperator;
import okhttp3.Call;
import okhttp3.Callback;
import okhttp3.MediaType;
import okhttp3.Request;
import okhttp3.RequestBody;

/**
 * One client on fake time and a fake transport. Three endpoints in three zones, one each, so that
 * routing is fixed: the first attempt goes to {@link #A1} (home zone), the next to {@link #B1}
 * (same region), the one after to {@link #W1} (other region).
 *
 * <p>No attempt starts with less than {@link #MIN_ATTEMPT} of its 60 s deadline left, so OkHttp's
 * per-attempt call timeout, which runs in real time, can never fire while a test holds an attempt.
 */
final class Harness implements AutoCloseable {
  static final String SERVICE = "svc";
  static final String A1 = "a1.sm.test";
  static final String B1 = "b1.sm.test";
  static final String W1 = "w1.sm.test";
  static final Duration DEADLINE = Duration.ofSeconds(60);
  static final Duration MIN_ATTEMPT = Duration.ofSeconds(10);
  static final Duration HEDGE_DELAY = Duration.ofMillis(100);

  /**
   * A fixed hedge delay with the largest extra load allowed, so that the hedge bucket holds a whole
   * token after two calls (see {@link #hedging()}).
   */
  static final HedgePolicy HEDGING = HedgePolicy.fixed(HEDGE_DELAY).withMaxExtraLoad(0.5);

  final FakeClock clock = new FakeClock();
  final FakeScheduler scheduler = new FakeScheduler(clock);
  final SeededRandom random = new SeededRandom(20_240_601L);
  final FakeTransport transport = new FakeTransport(clock);
  final EventRecorder events = new EventRecorder();
  final FailoverClient client;

  Harness() {
    this(UnaryOperator.identity());
  }

  Harness(UnaryOperator<FailoverClient.Builder> customize) {
    FailoverClient.Builder b =
        FailoverClient.builder()
            .service(SERVICE)
            .home("us-east-1", "us-east-1a")
            .endpoint("http://" + A1, "us-east-1", "us-east-1a")
            .endpoint("http://" + B1, "us-east-1", "us-east-1b")
            .endpoint("http://" + W1, "us-west-2", "us-west-2a")
            .okHttpClient(transport.okHttpClient())
            .clock(clock)
            .scheduler(scheduler)
            .random(random)
            .zones(ZonePolicy.off())
            .deadline(DEADLINE)
            .minAttemptTime(MIN_ATTEMPT)
            .listener(events);
    this.client = customize.apply(b).build();
  }

  /**
   * A client that hedges with {@link #HEDGING} (and whatever {@code more} sets), warmed up so that
   * its next call can afford a hedge.
   */
  static Harness hedging(UnaryOperator<FailoverClient.Builder> more) {
    Harness h = new Harness(b -> more.apply(b.hedging(HEDGING)));
    try {
      h.warmUpHedging();
    } catch (RuntimeException | Error e) {
      h.client.close();
      throw e;
    }
    return h;
  }

  static Harness hedging() {
    return hedging(UnaryOperator.identity());
  }

  static Request get(String path) {
    return new Request.Builder().url("http://" + SERVICE + path).build();
  }

  static Request post(String path) {
    return new Request.Builder()
        .url("http://" + SERVICE + path)
        .post(RequestBody.create("{\"n\":1}", MediaType.get("application/json")))
        .build();
  }

  /** Starts a call; returns it. */
  Call enqueue(Request request, Callback callback) {
    Call call = client.newCall(request);
    call.enqueue(callback);
    return call;
  }

  /**
   * Runs one quick successful call, so that with {@link #HEDGING} the next call finds a whole token
   * in the hedge bucket (each call adds half of one).
   */
  private void warmUpHedging() {
    RecordingCallback cb = new RecordingCallback();
    enqueue(get("/warm-up"), cb);
    transport.next().respond(200);
    assertThat(cb.awaitStatus()).isEqualTo(200);
    events.awaitCallFinished("/warm-up");
  }

  /**
   * Makes {@code n} calls ({@code pathPrefix} + 0, 1, ...), one after the other, whose first
   * attempt goes to {@link #A1} and ends as {@code failA1} answers it, and whose retry {@link #B1}
   * answers with 200.
   */
  void failOnA1ThenServeOnB1(
      String pathPrefix, int n, java.util.function.Consumer<FakeTransport.Exchange> failA1) {
    for (int i = 0; i < n; i++) {
      String path = pathPrefix + i;
      RecordingCallback cb = new RecordingCallback();
      enqueue(get(path), cb);
      FakeTransport.Exchange first = transport.next();
      assertThat(first.host()).isEqualTo(A1);
      failA1.accept(first);
      scheduler.advance(awaitRetryTimer(path, 1));
      FakeTransport.Exchange retry = transport.next();
      assertThat(retry.host()).isEqualTo(B1);
      retry.respond(200);
      assertThat(cb.awaitStatus()).isEqualTo(200);
      events.awaitCallFinished(path);
    }
  }

  /**
   * Waits until the {@code n}-th retry of {@code path} is scheduled and its timer armed (the event
   * comes just before the timer); returns its backoff. Call it before the fake time moves on from
   * the failure that led to the retry.
   */
  Duration awaitRetryTimer(String path, int n) {
    long failedAt = scheduler.now();
    Duration backoff = events.awaitRetry(path, n).backoff();
    scheduler.awaitOneShotAt(failedAt + backoff.toNanos());
    return backoff;
  }

  /**
   * The backoff the client will draw for a first retry whose bound is {@code ceiling}, provided
   * nothing else draws a random number first (routing draws only when it picks an endpoint).
   */
  long predictFirstBackoff(Duration ceiling) {
    return random.copy().nextLong(ceiling.toNanos() + 1);
  }

  /** The client's snapshot of the zone named {@code zone}, such as {@code us-east-1a}. */
  dev.failover.FailoverSnapshot.Zone zone(String zone) {
    return client.snapshot().zones().stream()
        .filter(z -> z.locality().zone().equals(zone))
        .findFirst()
        .orElseThrow();
  }

  /** The client's snapshot of the endpoint on {@code host}. */
  dev.failover.FailoverSnapshot.EndpointState endpoint(String host) {
    return client.snapshot().zones().stream()
        .flatMap(z -> z.endpoints().stream())
        .filter(e -> e.endpoint().url().host().equals(host))
        .findFirst()
        .orElseThrow();
  }

  /**
   * Closes the client, after which nothing is left running: every thread it started has ended, so
   * every callback, event and attempt there will ever be has happened. Checks that no timer task
   * threw.
   */
  void quiesce() {
    client.close();
    assertThat(scheduler.failures()).as("exceptions thrown by timer tasks").isEmpty();
  }

  @Override
  public void close() {
    quiesce();
  }
}
