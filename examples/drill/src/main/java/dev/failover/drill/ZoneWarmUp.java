package dev.failover.drill;

import java.io.IOException;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import okhttp3.Call;
import okhttp3.Callback;
import okhttp3.Dispatcher;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;

/**
 * Warms the embedded fake zones before the clients exist. The zones run in the drill's own JVM, and
 * a cold JVM serves their first requests slowly (interpreted code, first touches of memory): on a
 * 2-core VM where touching new memory costs ~10 us a page, the zones answered nothing within the 1
 * s deadline for the drill's first 3 to 5 s, and both clients then met an outage that the drill
 * never staged. So a plain OkHttp client, which is neither of the clients compared, sends the
 * drill's own request mix to every endpoint, paced at the load of both clients, until three rounds
 * in a row answer every request with a p99 of at most {@link #WARM_P99_MILLIS}, or {@link #LONGEST}
 * passes.
 */
final class ZoneWarmUp {
  /** The longest warm-up of the zones; the drill goes on (and says so) if they are still cold. */
  static final Duration LONGEST = Duration.ofSeconds(30);

  /** A warm round's p99: the farthest zone's 35 ms plus the zones' own latency, with room. */
  static final long WARM_P99_MILLIS = 100;

  private static final int ROUND = 100;
  private static final int WARM_ROUNDS = 3;

  /** What the warm-up did: for the console. */
  record Result(
      int requests,
      Duration took,
      long lastP99Millis,
      int lastFailed,
      boolean warm,
      Duration longest) {
    String describe() {
      return String.format(
          Locale.ROOT,
          "Fake zones warmed up: %d requests in %.1f s; last round p99 %d ms, %d failed%s",
          requests,
          took.toMillis() / 1000.0,
          lastP99Millis,
          lastFailed,
          warm
              ? ""
              : " (still not warm after "
                  + longest.toSeconds()
                  + " s: the zones are slow on this machine; the healthy phase may show it)");
    }
  }

  private ZoneWarmUp() {}

  /**
   * Sends rounds of {@value #ROUND} requests, one every {@code 1 / ratePerSecond}, round robin over
   * {@code endpoints}, until the zones are warm or {@code longest} passes.
   */
  static Result run(List<DrillEndpoint> endpoints, long seed, int ratePerSecond, Duration longest) {
    // The same users and groups as the zones' stubs, in another order than the clients' mix.
    DirectoryApi.Mix mix = new DirectoryApi.Mix(new DirectoryApi(seed), ~seed);
    return run(endpoints, mix::next, ratePerSecond, longest);
  }

  /**
   * Sends rounds of {@value #ROUND} requests to the paths {@code paths} gives (appended to each
   * endpoint's URL), one every {@code 1 / ratePerSecond}, round robin over {@code endpoints}, until
   * the zones are warm or {@code longest} passes. Every path must be answered 2xx.
   */
  static Result run(
      List<DrillEndpoint> endpoints, Supplier<String> paths, int ratePerSecond, Duration longest) {
    Shutdown.Named threads = new Shutdown.Named("drill-warm-up-http");
    ExecutorService executor =
        new ThreadPoolExecutor(
            0, Integer.MAX_VALUE, 60, TimeUnit.SECONDS, new SynchronousQueue<>(), threads);
    Dispatcher dispatcher = new Dispatcher(executor);
    dispatcher.setMaxRequests(256);
    dispatcher.setMaxRequestsPerHost(64);
    OkHttpClient http =
        new OkHttpClient.Builder()
            .dispatcher(dispatcher)
            .callTimeout(Duration.ofSeconds(2))
            .retryOnConnectionFailure(false)
            .build();
    long gap = TimeUnit.SECONDS.toNanos(1) / Math.max(1, ratePerSecond);
    long start = System.nanoTime();
    long end = start + longest.toNanos();
    int requests = 0;
    int warmRounds = 0;
    long p99 = -1;
    int failed = 0;
    try {
      while (System.nanoTime() - end < 0 && warmRounds < WARM_ROUNDS) {
        long[] took = new long[ROUND];
        Arrays.fill(took, Long.MAX_VALUE); // not answered in time counts as the slowest
        AtomicInteger failures = new AtomicInteger();
        CountDownLatch done = new CountDownLatch(ROUND);
        long due = System.nanoTime();
        for (int i = 0; i < ROUND; i++) {
          long wait = due - System.nanoTime();
          if (wait > 0) {
            LockSupport.parkNanos(wait);
          }
          due += gap;
          DrillEndpoint e = endpoints.get((requests + i) % endpoints.size());
          Request request = new Request.Builder().url(e.url() + paths.get()).build();
          int slot = i;
          long sent = System.nanoTime();
          http.newCall(request)
              .enqueue(
                  new Callback() {
                    @Override
                    public void onResponse(Call call, Response response) {
                      try (response) {
                        if (response.isSuccessful()) {
                          took[slot] = System.nanoTime() - sent;
                        } else {
                          failures.incrementAndGet();
                        }
                      } finally {
                        done.countDown();
                      }
                    }

                    @Override
                    public void onFailure(Call call, IOException ex) {
                      failures.incrementAndGet();
                      done.countDown();
                    }
                  });
        }
        // Every call ends within its 2 s call timeout.
        done.await(5, TimeUnit.SECONDS);
        requests += ROUND;
        long[] sorted = took.clone();
        Arrays.sort(sorted);
        long slowest = sorted[(int) Math.ceil(ROUND * 0.99) - 1];
        p99 = slowest == Long.MAX_VALUE ? -1 : TimeUnit.NANOSECONDS.toMillis(slowest);
        failed = failures.get();
        boolean warm = failed == 0 && p99 >= 0 && p99 <= WARM_P99_MILLIS;
        warmRounds = warm ? warmRounds + 1 : 0;
      }
    } catch (InterruptedException ex) {
      Thread.currentThread().interrupt();
    } finally {
      dispatcher.cancelAll();
      Shutdown.stop(executor, threads, false, Duration.ofSeconds(5));
      http.connectionPool().evictAll();
    }
    return new Result(
        requests,
        Duration.ofNanos(System.nanoTime() - start),
        p99,
        failed,
        warmRounds >= WARM_ROUNDS,
        longest);
  }
}
