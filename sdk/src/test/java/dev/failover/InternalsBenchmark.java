package dev.failover;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The SDK's per-call building blocks, measured from inside their package (they are not public):
 * picking a first attempt's endpoint ({@link Router#pick}: tier split, power of two choices on
 * Peak-EWMA cost, over the drill's 10 endpoints in 5 zones), a retry budget deposit and withdrawal,
 * recording a latency into the adaptive hedger and reading its delay, building an attempt's URL and
 * request (the caller's request copied with the endpoint's URL and the attempt's tag), and
 * recording a success on an endpoint (its Resilience4j breaker and Peak-EWMA latency). The whole
 * in-memory call is {@code InMemoryCallBenchmark} (benchmarks module).
 *
 * <p>Run with:
 *
 * <pre>
 * ./mvnw -q -f sdk/pom.xml test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt -Dmdep.includeScope=test
 * java -cp "sdk/target/test-classes:sdk/target/classes:$(cat sdk/target/cp.txt)" org.openjdk.jmh.Main InternalsBenchmark -prof gc -f 3 -wi 3 -i 5 -w 1s -r 1s
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class InternalsBenchmark {
  private final Ticker ticker = Ticker.system();
  private @Nullable Router router;
  private RetryBudget budget = new RetryBudget(0.1, 1, TimeUnit.SECONDS.toNanos(10));
  private Hedger hedger = new Hedger(HedgePolicy.adaptive(0.05), System.nanoTime());

  /** The drill's endpoints: two in each of three zones of us-east-1 and two of us-west-2. */
  static List<Endpoint> drill() {
    List<Endpoint> endpoints = new ArrayList<>();
    int port = 10_000;
    String[][] zones = {
      {"us-east-1", "us-east-1a"},
      {"us-east-1", "us-east-1b"},
      {"us-east-1", "us-east-1c"},
      {"us-west-2", "us-west-2a"},
      {"us-west-2", "us-west-2b"}
    };
    for (String[] z : zones) {
      for (int i = 0; i < 2; i++) {
        endpoints.add(Endpoint.of("http://127.0.0.1:" + port++, z[0], z[1]));
      }
    }
    return endpoints;
  }

  /** Builds a router over the drill's topology. */
  @Setup
  public void setUp() {
    router =
        new Router(
            "directory",
            Locality.of("us-east-1", "us-east-1a"),
            drill(),
            List.of(),
            EjectionPolicy.defaults(),
            ZonePolicy.defaults(),
            0,
            true,
            Clock.systemUTC(),
            ticker,
            () -> ThreadLocalRandom.current().nextLong(),
            new Events(List.of()));
    budget = new RetryBudget(0.1, 1, TimeUnit.SECONDS.toNanos(10));
    hedger = new Hedger(HedgePolicy.adaptive(0.05), ticker.nanos());
  }

  /**
   * Picks a first attempt's endpoint.
   *
   * @return the endpoint
   */
  @Benchmark
  public @Nullable Object pick() {
    Router r = router;
    if (r == null) {
      throw new IllegalStateException("not set up");
    }
    Router.Pick p = r.pick(ticker.nanos(), List.<EndpointState>of(), List.<String>of());
    return p == null ? null : p.endpoint();
  }

  private final SmallSet<EndpointState> noneTried = new SmallSet<>();

  /**
   * Chooses a first attempt's endpoint and takes its breaker permission, as every call does ({@link
   * Router#next}, with the call's empty set of tried endpoints), then asks whether an evacuated
   * zone is due a probe ({@link Router#probeFor}), as every idempotent call does.
   *
   * @return the endpoint
   */
  @Benchmark
  public @Nullable Object next() {
    Router r = router;
    if (r == null) {
      throw new IllegalStateException("not set up");
    }
    long now = ticker.nanos();
    Router.Pick p = r.next(now, noneTried, List.<String>of());
    EndpointState probe = r.probeFor(now);
    return p == null ? probe : p.endpoint();
  }

  /**
   * A call's sets of tried endpoints and zones, as each call makes them, with its first attempt
   * added and looked up. The sets escape (into the blackhole) as they do into the call that holds
   * them, so that the JIT cannot leave them unallocated.
   *
   * @param blackhole takes the sets
   * @return whether the endpoint's zone was tried
   */
  @Benchmark
  public boolean triedSets(Blackhole blackhole) {
    Router r = router;
    if (r == null) {
      throw new IllegalStateException("not set up");
    }
    EndpointState ep = r.endpoints().get(0);
    SmallSet<EndpointState> tried = new SmallSet<>();
    SmallSet<String> triedZones = new SmallSet<>();
    tried.add(ep);
    triedZones.add(ep.zoneKey);
    blackhole.consume(tried);
    blackhole.consume(triedZones);
    return tried.contains(ep) && triedZones.contains(ep.zoneKey);
  }

  private final Classifier.RetryableStatuses retryable =
      Classifier.RetryableStatuses.of(Classifier.DEFAULT_RETRYABLE_STATUSES);

  /**
   * Classifies a 200 response, as every answered attempt is, with a client's retryable statuses.
   *
   * @return the outcome
   */
  @Benchmark
  public Outcome classify() {
    return Classifier.classify(200 + (int) (ticker.nanos() & 1), retryable);
  }

  /**
   * Classifies a 200 response against the statuses as a {@code Set<Integer>} (boxes the status).
   *
   * @return the outcome
   */
  @Benchmark
  public Outcome classifyWithSet() {
    return Classifier.classify(
        200 + (int) (ticker.nanos() & 1), Classifier.DEFAULT_RETRYABLE_STATUSES);
  }

  /**
   * A successful attempt's record on its zone's statistics ({@link ZoneState#record}).
   *
   * @return the zone's successes since its last failure
   */
  @Benchmark
  public int zoneRecordSuccess() {
    Router r = router;
    if (r == null) {
      throw new IllegalStateException("not set up");
    }
    ZoneState z = r.endpoints().get(0).zone;
    z.record(false, false, 1_000_000L, ticker.nanos());
    return z.successesSinceFailure();
  }

  /**
   * One call's deposit and one retry's withdrawal from the retry budget.
   *
   * @return whether the retry was allowed
   */
  @Benchmark
  public boolean budget() {
    long now = ticker.nanos();
    budget.deposit(now);
    return budget.tryWithdraw(now);
  }

  /**
   * Records an attempt's latency into the adaptive hedger and reads the hedge delay.
   *
   * @return the delay in nanoseconds
   */
  @Benchmark
  public long hedgeDelay() {
    long now = ticker.nanos();
    hedger.record(1_000_000L + (now & 0xFFFF), now);
    return hedger.delayNanos(now);
  }

  private final okhttp3.HttpUrl logicalUrl = okhttp3.HttpUrl.get("http://directory/users/42");
  private final EndpointUrl endpointUrl =
      new EndpointUrl(okhttp3.HttpUrl.get("http://127.0.0.1:10000"));
  private final AttemptRequest attemptRequests = new AttemptRequest();
  private final okhttp3.Request logicalRequest =
      new okhttp3.Request.Builder().url(logicalUrl).build();

  /**
   * The URL of an attempt: the endpoint's base URL with the logical request's path and query (an
   * OkHttp {@code HttpUrl}, made once per attempt from its parts: see {@link EndpointUrl}).
   *
   * @return the URL
   */
  @Benchmark
  public okhttp3.HttpUrl attemptUrl() {
    return endpointUrl.attemptUrl(logicalUrl);
  }

  /**
   * The request of an attempt: the caller's request with the attempt's URL and tag, as every
   * attempt is built (with a builder the client keeps: see {@link AttemptRequest}).
   *
   * @return the request
   */
  @Benchmark
  public okhttp3.Request attemptRequest() {
    return attemptRequests.make(
        logicalRequest,
        endpointUrl.attemptUrl(logicalUrl),
        ClientCore.AttemptTag.KEY,
        new ClientCore.AttemptTag(true),
        null);
  }

  /**
   * The same request made OkHttp's public way ({@code newBuilder().url(..).tag(..).build()}): the
   * reference for {@link #attemptRequest}.
   *
   * @return the request
   */
  @Benchmark
  public okhttp3.Request attemptRequestPublicWay() {
    return AttemptRequest.publicWay(
        logicalRequest,
        endpointUrl.attemptUrl(logicalUrl),
        ClientCore.AttemptTag.KEY,
        new ClientCore.AttemptTag(true),
        null);
  }

  /**
   * A successful attempt's record on its endpoint: breaker (Resilience4j), Peak-EWMA latency and
   * the success streak.
   *
   * @return whether it counted
   */
  @Benchmark
  public boolean recordSuccess() {
    Router r = router;
    if (r == null) {
      throw new IllegalStateException("not set up");
    }
    EndpointState ep = r.endpoints().get(0);
    long now = ticker.nanos();
    boolean permitted = ep.tryAcquire();
    return ep.record(Outcome.SUCCESS, 1_000_000L, now, false, false, permitted);
  }
}
