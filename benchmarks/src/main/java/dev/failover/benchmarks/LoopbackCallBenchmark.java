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
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;

/**
 * A whole GET over loopback to a tiny local HTTP/1.1 server (the JDK's {@code HttpServer}, 4
 * threads, TCP_NODELAY, 2-byte body, keep-alive), through a bare {@link OkHttpClient} and through a
 * {@link FailoverClient} with one endpoint and default settings (each with its own connection pool;
 * by default its first attempts run on the caller's thread over HTTP, and are handed to the
 * dispatcher over HTTPS, where its client offers HTTP/2), and through the same client with {@code
 * callerRunsFirstAttempt(true)} (first attempts on the caller's thread), on 1 and on 4 threads,
 * bare OkHttp with a call timeout (as every SDK attempt has one), and bare OkHttp without socket
 * read and write timeouts (as the SDK's attempts run where their own timeout is the shorter).
 * Throughput mode gives calls per second; sample mode gives p50 and p99.
 *
 * <p>Run with:
 *
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar LoopbackCallBenchmark -bm thrpt,sample -tu us -prof gc -f 3 -wi 3 -i 5 -w 1s -r 1s
 * java -jar benchmarks/target/benchmarks.jar LoopbackCallBenchmark -p scheme=https -bm sample -tu us -f 3
 * </pre>
 *
 * <p>{@link AlternatingForks} runs its clients as forks of one client each, one at a time, in the
 * orders of a Williams design.
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

  /**
   * What {@link #setUp} serves: {@code http} (cleartext HTTP/1.1, the default) or {@code https}
   * (HTTP/1.1 over TLS, with a self-signed certificate the clients trust); {@code -p scheme=https}
   * on JMH's command line.
   */
  @Param({"http"})
  public String scheme = "http";

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
    boolean https =
        switch (scheme) {
          case "http" -> false;
          case "https" -> true;
          default ->
              throw new IllegalArgumentException("scheme must be http or https, was: " + scheme);
        };
    InetSocketAddress local = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
    @Nullable Tls tls = https ? Tls.selfSigned() : null;
    HttpServer s;
    if (tls == null) {
      s = HttpServer.create(local, 128);
    } else {
      com.sun.net.httpserver.HttpsServer secure =
          com.sun.net.httpserver.HttpsServer.create(local, 128);
      secure.setHttpsConfigurator(new com.sun.net.httpserver.HttpsConfigurator(tls.server));
      s = secure;
    }
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
    String base = (tls == null ? "http" : "https") + "://127.0.0.1:" + s.getAddress().getPort();
    bare = tls == null ? new OkHttpClient() : tls.client();
    untimed =
        bare.newBuilder()
            .connectionPool(new okhttp3.ConnectionPool())
            .readTimeout(java.time.Duration.ZERO)
            .writeTimeout(java.time.Duration.ZERO)
            .build();
    FailoverClient.Builder f =
        FailoverClient.builder()
            .service("directory")
            .home("us-east-1", "us-east-1a")
            .endpoint(base, "us-east-1", "us-east-1a");
    if (tls != null) {
      // A client of its own (its own pool, as over HTTP), trusting the server's certificate.
      f.okHttpClient(tls.client());
    }
    failover = f.build();
    callerRuns = failover.newBuilder().callerRunsFirstAttempt(true).build();
    bareRequest = new Request.Builder().url(base + "/users/42").build();
    failoverRequest = new Request.Builder().url("http://directory/users/42").build();
  }

  /** Serves HTTPS from the next {@link #setUp}: for {@code LoopbackPairs --https}. */
  void https(boolean on) {
    this.scheme = on ? "https" : "http";
  }

  /**
   * A self-signed certificate for 127.0.0.1 made with the JDK's {@code keytool}: the server's TLS
   * context and clients that trust it (and nothing else).
   */
  private static final class Tls {
    final javax.net.ssl.SSLContext server;
    final javax.net.ssl.SSLContext trusting;
    final javax.net.ssl.X509TrustManager trustManager;

    private Tls(
        javax.net.ssl.SSLContext server,
        javax.net.ssl.SSLContext trusting,
        javax.net.ssl.X509TrustManager trustManager) {
      this.server = server;
      this.trusting = trusting;
      this.trustManager = trustManager;
    }

    static Tls selfSigned() throws IOException {
      java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("loopback-tls");
      java.nio.file.Path store = dir.resolve("loopback.p12");
      char[] password = "loopback".toCharArray();
      try {
        Process keytool =
            new ProcessBuilder(
                    java.nio.file.Path.of(System.getProperty("java.home"), "bin", "keytool")
                        .toString(),
                    "-genkeypair",
                    "-alias",
                    "loopback",
                    "-keyalg",
                    "EC",
                    "-groupname",
                    "secp256r1",
                    "-validity",
                    "2",
                    "-dname",
                    "CN=127.0.0.1",
                    "-ext",
                    "SAN=ip:127.0.0.1",
                    "-storetype",
                    "PKCS12",
                    "-keystore",
                    store.toString(),
                    "-storepass",
                    new String(password))
                .redirectErrorStream(true)
                .start();
        String out = new String(keytool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!keytool.waitFor(60, TimeUnit.SECONDS) || keytool.exitValue() != 0) {
          throw new IOException("keytool could not make the benchmark's certificate: " + out);
        }
        java.security.KeyStore keys = java.security.KeyStore.getInstance("PKCS12");
        try (java.io.InputStream in = java.nio.file.Files.newInputStream(store)) {
          keys.load(in, password);
        }
        javax.net.ssl.KeyManagerFactory km =
            javax.net.ssl.KeyManagerFactory.getInstance(
                javax.net.ssl.KeyManagerFactory.getDefaultAlgorithm());
        km.init(keys, password);
        javax.net.ssl.SSLContext server = javax.net.ssl.SSLContext.getInstance("TLS");
        server.init(km.getKeyManagers(), null, null);
        java.security.KeyStore trusted = java.security.KeyStore.getInstance("PKCS12");
        trusted.load(null, null);
        trusted.setCertificateEntry("loopback", keys.getCertificate("loopback"));
        javax.net.ssl.TrustManagerFactory tm =
            javax.net.ssl.TrustManagerFactory.getInstance(
                javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
        tm.init(trusted);
        javax.net.ssl.X509TrustManager trustManager =
            (javax.net.ssl.X509TrustManager) tm.getTrustManagers()[0];
        javax.net.ssl.SSLContext trusting = javax.net.ssl.SSLContext.getInstance("TLS");
        trusting.init(null, new javax.net.ssl.TrustManager[] {trustManager}, null);
        return new Tls(server, trusting, trustManager);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while keytool ran", e);
      } catch (java.security.GeneralSecurityException e) {
        throw new IOException("the benchmark's certificate could not be loaded", e);
      } finally {
        java.nio.file.Files.deleteIfExists(store);
        java.nio.file.Files.deleteIfExists(dir);
      }
    }

    OkHttpClient client() {
      return new OkHttpClient.Builder()
          .sslSocketFactory(trusting.getSocketFactory(), trustManager)
          .build();
    }
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
    OkHttpClient u = untimed;
    if (u != null) {
      u.connectionPool().evictAll();
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

  /**
   * Bare OkHttp without its sockets' read and write timeouts, on a pool of its own: what the SDK's
   * attempts run on (for {@code LoopbackPairs --untimed}).
   */
  int untimed1() throws IOException {
    try (Response r =
        Objects.requireNonNull(untimed, "not set up").newCall(bareRequest).execute()) {
      r.body().bytes();
      return r.code();
    }
  }

  private @Nullable OkHttpClient untimed;

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
   * Bare OkHttp without its sockets' read and write timeouts (its own pool), one thread: what the
   * SDK's attempts run on, so that the SDK's own cost can be told from what leaving out okio's
   * socket timeouts saves.
   *
   * @return the status
   * @throws IOException if the call fails
   */
  @Benchmark
  @Threads(1)
  public int bareUntimed1() throws IOException {
    return untimed1();
  }

  /**
   * Bare OkHttp without its sockets' read and write timeouts, four threads.
   *
   * @return the status
   * @throws IOException if the call fails
   */
  @Benchmark
  @Threads(4)
  public int bareUntimed4() throws IOException {
    return untimed1();
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
