package dev.failover.benchmarks;

import dev.failover.FailoverClient;
import java.io.IOException;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import okhttp3.Call;
import okhttp3.Callback;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.jspecify.annotations.Nullable;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The SDK's own work per call, without network: an {@link OkHttpClient} whose sockets answer in
 * memory ({@link InMemorySockets}: every request is answered at once with a canned 200, on the
 * caller's thread, with no server and no kernel), called bare and through a {@link FailoverClient}
 * built on it (3 zones, 6 endpoints, default settings: routing, retry budget, deadline, the
 * judgement of every outcome). The answer comes through OkHttp's whole network path, so the SDK
 * takes it for its endpoint's and does all it does for a real one. The difference between {@code
 * failover} and {@code bareExecute} is what the SDK adds to a call; {@code bareEnqueue} shows what
 * a hand over to a dispatcher thread costs.
 *
 * <p>Until 2026-12-07 the canned answer came from an application interceptor; since the SDK takes
 * such an answer for the application's own (no outcome recorded), that measured less than the SDK's
 * work: docs/benchmarks.md, "Not comparable since 2026-12-07".
 *
 * <p>Run with:
 *
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar InMemoryCallBenchmark -prof gc -f 3 -wi 3 -i 5 -w 1s -r 1s
 * </pre>
 */
// A fixed heap, touched before the run: on a VM where first touches of memory are slow (page
// faults measured at 40 us per call in whole iterations), a growing heap is what gets measured.
@Fork(jvmArgsAppend = {"-Xms2g", "-Xmx2g", "-XX:+AlwaysPreTouch"})
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class InMemoryCallBenchmark {
  private OkHttpClient bare = new OkHttpClient();
  private @Nullable FailoverClient failover;
  private @Nullable FailoverClient callerRuns;
  private Request bareRequest = new Request.Builder().url("http://127.0.0.1:1/").build();
  private Request failoverRequest = bareRequest;
  private Request[] homeRequests = {bareRequest, bareRequest};
  private int next;

  /** Builds both clients on the same OkHttp client, whose sockets answer in memory. */
  @Setup
  public void setUp() {
    bare = new OkHttpClient.Builder().socketFactory(new InMemorySockets()).build();
    FailoverClient.Builder b =
        FailoverClient.builder().service("directory").home("us-east-1", "us-east-1a");
    String[] zones = {"us-east-1a", "us-east-1b", "us-east-1c"};
    int port = 10_000;
    for (String zone : zones) {
      for (int i = 0; i < 2; i++) {
        b.endpoint("http://127.0.0.1:" + port++, "us-east-1", zone);
      }
    }
    failover = b.okHttpClient(bare).build();
    callerRuns = b.callerRunsFirstAttempt(true).build();
    bareRequest = new Request.Builder().url("http://127.0.0.1:10000/users/42").build();
    homeRequests =
        new Request[] {
          bareRequest, new Request.Builder().url("http://127.0.0.1:10001/users/42").build()
        };
    failoverRequest = new Request.Builder().url("http://directory/users/42").build();
  }

  /** Closes both clients. */
  @TearDown
  public void tearDown() {
    if (failover != null) {
      failover.close();
    }
    if (callerRuns != null) {
      callerRuns.close();
    }
    bare.dispatcher().executorService().shutdown();
  }

  /**
   * A bare OkHttp call on the caller's thread.
   *
   * @return the status
   * @throws IOException never: the socket answers
   */
  @Benchmark
  public int bareExecute() throws IOException {
    try (Response r = bare.newCall(bareRequest).execute()) {
      return r.code();
    }
  }

  /**
   * A bare OkHttp call on the caller's thread to each of the home zone's two endpoints in turn, as
   * the failover client spreads its calls: OkHttp's pool then holds a connection to each, and
   * finding a call's connection compares its address with the other's first half the time (its
   * lists' iterators: about 100 bytes), which {@code bareExecute}, with one connection, never does.
   *
   * @return the status
   * @throws IOException never: the socket answers
   */
  @Benchmark
  public int bareExecuteTwoHosts() throws IOException {
    Request request = homeRequests[next++ & 1];
    try (Response r = bare.newCall(request).execute()) {
      return r.code();
    }
  }

  /**
   * A bare OkHttp call on the caller's thread with a call timeout (10 s, never reached), as every
   * attempt of the SDK has one: OkHttp then registers the call with okio's timeout watchdog.
   *
   * @return the status
   * @throws IOException never: the socket answers
   */
  @Benchmark
  public int bareExecuteTimed() throws IOException {
    Call call = bare.newCall(bareRequest);
    call.timeout().timeout(10, TimeUnit.SECONDS);
    try (Response r = call.execute()) {
      return r.code();
    }
  }

  /**
   * A bare OkHttp call handed to OkHttp's dispatcher and awaited, as the SDK does with attempts.
   *
   * @return the status
   * @throws Exception never: the socket answers
   */
  @Benchmark
  public int bareEnqueue() throws Exception {
    CompletableFuture<Response> f = new CompletableFuture<>();
    bare.newCall(bareRequest)
        .enqueue(
            new Callback() {
              @Override
              public void onResponse(Call call, Response response) {
                f.complete(response);
              }

              @Override
              public void onFailure(Call call, IOException e) {
                f.completeExceptionally(e);
              }
            });
    try (Response r = f.get()) {
      return r.code();
    } catch (ExecutionException e) {
      throw new IOException(e);
    }
  }

  /**
   * The same call through the failover client.
   *
   * @return the status
   * @throws IOException never: the socket answers
   */
  @Benchmark
  public int failover() throws IOException {
    FailoverClient f = Objects.requireNonNull(failover, "not set up");
    try (Response r = f.newCall(failoverRequest).execute()) {
      return r.code();
    }
  }

  /**
   * The same call through a failover client with {@code callerRunsFirstAttempt(true)}: no thread
   * hand-off when the first attempt succeeds.
   *
   * @return the status
   * @throws IOException never: the socket answers
   */
  @Benchmark
  public int failoverCallerRuns() throws IOException {
    FailoverClient f = Objects.requireNonNull(callerRuns, "not set up");
    try (Response r = f.newCall(failoverRequest).execute()) {
      return r.code();
    }
  }

  /**
   * Only the call objects of a failover call, created and never run: what {@code newCall} allocates
   * before any attempt (the call handed out, its state machine, their lists, sets and result).
   *
   * @return the call
   */
  @Benchmark
  public Call failoverNewCall() {
    FailoverClient f = Objects.requireNonNull(callerRuns, "not set up");
    return f.newCall(failoverRequest);
  }
}
