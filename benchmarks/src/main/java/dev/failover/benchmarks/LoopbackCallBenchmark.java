package dev.failover.benchmarks;

import com.sun.net.httpserver.HttpServer;
import dev.failover.FailoverClient;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import okhttp3.Call;
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
import org.openjdk.jmh.annotations.Threads;

/**
 * A whole GET over loopback to a tiny local HTTP/1.1 server (the JDK's {@code HttpServer}, 4
 * threads, TCP_NODELAY, 2-byte body, keep-alive), through a bare {@link OkHttpClient} and through a
 * {@link FailoverClient} with one endpoint and default settings (each with its own connection
 * pool), and through the same client with {@code callerRunsFirstAttempt(true)} (first attempts on
 * the caller's thread), on 1 and on 4 threads, and bare OkHttp with a call timeout (as every SDK
 * attempt has one). Throughput mode gives calls per second; sample mode gives p50 and p99.
 *
 * <p>Run with:
 *
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar LoopbackCallBenchmark -bm thrpt,sample -tu us -prof gc -f 3 -wi 3 -i 5 -w 1s -r 1s
 * </pre>
 */
// A fixed heap, touched before the run: on a VM where first touches of memory are slow (page
// faults measured at 40 us per call in whole iterations), a growing heap is what gets measured.
@Fork(jvmArgsAppend = {"-Xms2g", "-Xmx2g", "-XX:+AlwaysPreTouch"})
@State(Scope.Benchmark)
@BenchmarkMode({Mode.Throughput, Mode.SampleTime})
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class LoopbackCallBenchmark {
  private static final byte[] BODY = "ok".getBytes(StandardCharsets.US_ASCII);

  static {
    // Without TCP_NODELAY the JDK server's separate header and body writes meet the client's
    // delayed ACK: every call would take ~40 ms.
    System.setProperty("sun.net.httpserver.nodelay", "true");
  }

  private @Nullable HttpServer server;
  private @Nullable ExecutorService serverThreads;
  private OkHttpClient bare = new OkHttpClient();
  private @Nullable FailoverClient failover;
  private @Nullable FailoverClient callerRuns;
  private Request bareRequest = new Request.Builder().url("http://127.0.0.1:1/").build();
  private Request failoverRequest = bareRequest;

  /**
   * Starts the server and both clients.
   *
   * @throws IOException if the server cannot start
   */
  @Setup
  public void setUp() throws IOException {
    HttpServer s =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 128);
    s.createContext(
        "/",
        exchange -> {
          exchange.getRequestBody().readAllBytes();
          exchange.sendResponseHeaders(200, BODY.length);
          try (OutputStream out = exchange.getResponseBody()) {
            out.write(BODY);
          }
        });
    java.util.concurrent.atomic.AtomicInteger named =
        new java.util.concurrent.atomic.AtomicInteger();
    ExecutorService threads =
        Executors.newFixedThreadPool(4, r -> new Thread(r, "server-" + named.incrementAndGet()));
    s.setExecutor(threads);
    s.start();
    server = s;
    serverThreads = threads;
    String base = "http://127.0.0.1:" + s.getAddress().getPort();
    bare = new OkHttpClient();
    failover =
        FailoverClient.builder()
            .service("directory")
            .home("us-east-1", "us-east-1a")
            .endpoint(base, "us-east-1", "us-east-1a")
            .build();
    callerRuns = failover.newBuilder().callerRunsFirstAttempt(true).build();
    bareRequest = new Request.Builder().url(base + "/users/42").build();
    failoverRequest = new Request.Builder().url("http://directory/users/42").build();
  }

  /** Stops the clients and the server. */
  @TearDown
  public void tearDown() {
    if (failover != null) {
      failover.close();
    }
    if (callerRuns != null) {
      callerRuns.close();
    }
    bare.dispatcher().executorService().shutdown();
    bare.connectionPool().evictAll();
    if (server != null) {
      server.stop(0);
    }
    if (serverThreads != null) {
      serverThreads.shutdownNow();
    }
  }

  private int bareCall() throws IOException {
    try (Response r = bare.newCall(bareRequest).execute()) {
      r.body().bytes();
      return r.code();
    }
  }

  /** A bare call with a call timeout, as every attempt of the SDK carries one. */
  private int bareTimedCall() throws IOException {
    Call call = bare.newCall(bareRequest);
    call.timeout().timeout(10, TimeUnit.SECONDS);
    try (Response r = call.execute()) {
      r.body().bytes();
      return r.code();
    }
  }

  private int failoverCall() throws IOException {
    return call(Objects.requireNonNull(failover, "not set up"));
  }

  private int call(FailoverClient f) throws IOException {
    try (Response r = f.newCall(failoverRequest).execute()) {
      r.body().bytes();
      return r.code();
    }
  }

  /**
   * Bare OkHttp, one thread.
   *
   * @return the status
   * @throws IOException if the call fails
   */
  @Benchmark
  @Threads(1)
  public int bare1() throws IOException {
    return bareCall();
  }

  /**
   * Failover client, one thread.
   *
   * @return the status
   * @throws IOException if the call fails
   */
  @Benchmark
  @Threads(1)
  public int failover1() throws IOException {
    return failoverCall();
  }

  /**
   * Bare OkHttp, four threads.
   *
   * @return the status
   * @throws IOException if the call fails
   */
  @Benchmark
  @Threads(4)
  public int bare4() throws IOException {
    return bareCall();
  }

  /**
   * Failover client, four threads.
   *
   * @return the status
   * @throws IOException if the call fails
   */
  @Benchmark
  @Threads(4)
  public int failover4() throws IOException {
    return failoverCall();
  }

  /**
   * Failover client with {@code callerRunsFirstAttempt(true)}, one thread.
   *
   * @return the status
   * @throws IOException if the call fails
   */
  @Benchmark
  @Threads(1)
  public int callerRuns1() throws IOException {
    return call(Objects.requireNonNull(callerRuns, "not set up"));
  }

  /**
   * Failover client with {@code callerRunsFirstAttempt(true)}, four threads.
   *
   * @return the status
   * @throws IOException if the call fails
   */
  @Benchmark
  @Threads(4)
  public int callerRuns4() throws IOException {
    return call(Objects.requireNonNull(callerRuns, "not set up"));
  }

  /**
   * Bare OkHttp with a 10 s call timeout (never reached), one thread: what OkHttp's timeout
   * watchdog, which every SDK attempt enters, costs over loopback.
   *
   * @return the status
   * @throws IOException if the call fails
   */
  @Benchmark
  @Threads(1)
  public int bareTimed1() throws IOException {
    return bareTimedCall();
  }

  /**
   * Bare OkHttp with a 10 s call timeout, four threads.
   *
   * @return the status
   * @throws IOException if the call fails
   */
  @Benchmark
  @Threads(4)
  public int bareTimed4() throws IOException {
    return bareTimedCall();
  }
}
