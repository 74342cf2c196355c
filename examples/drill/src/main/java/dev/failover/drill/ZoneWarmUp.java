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
 * drill's own request mix to every endpoint, paced at the load of both clients but at least {@link
 * #MIN_RATE} a second, until three whole rounds in a row answer every request with a p99 of at most
 * {@link #WARM_P99_MILLIS}, or {@link #LONGEST} passes (looked at before every request: a round cut
 * short by it is not judged).
 */
final class ZoneWarmUp {
  /** The longest warm-up of the zones; the drill goes on (and says so) if they are still cold. */
  static final Duration LONGEST = Duration.ofSeconds(30);

  /** A warm round's p99: the farthest zone's 35 ms plus the zones' own latency, with room. */
  static final long WARM_P99_MILLIS = 100;

  /**
   * The slowest pace, requests a second: a round takes at most a second, so that three warm rounds
   * fit in {@link #LONGEST} at any {@code --rate} (at 2 a second, a round took 50 s).
   */
  static final int MIN_RATE = 100;

  private static final int ROUND = 100;
  private static final int WARM_ROUNDS = 3;

  /**
   * What the warm-up did: for the console.
   *
   * @param requests requests sent, a round cut short included
   * @param took from the first request until the last round's answers were in
   * @param rounds whole rounds judged
   * @param lastP99Millis the last whole round's p99 (answers not in within their 2 s call timeout
   *     count as the slowest: -1 when more than 1% of them), -1 with no whole round
   * @param lastFailed the last whole round's requests not answered 2xx in time
   * @param warmInARow warm whole rounds in a row at the end
   * @param longest the longest the warm-up may take
   */
  record Result(
      int requests,
      Duration took,
      int rounds,
      long lastP99Millis,
      int lastFailed,
      int warmInARow,
      Duration longest) {

    /** Whether the zones were warm: {@value #WARM_ROUNDS} warm whole rounds in a row. */
    boolean warm() {
      return warmInARow >= WARM_ROUNDS;
    }

    String describe() {
      String why;
      if (warm()) {
        why = "";
      } else if (rounds > 0 && warmInARow == 0) {
        // The last whole round was slow or failed: that is the zones, on this machine.
        why =
            " (still not warm after "
                + seconds(longest)
                + ": the zones are slow on this machine; the healthy phase may show it)";
      } else {
        // Time was up before three rounds were judged, though none of the last failed.
        why =
            String.format(
                Locale.ROOT,
                " (time up after %s with %d of %d warm rounds in a row; the healthy phase may"
                    + " show it)",
                seconds(longest),
                warmInARow,
                WARM_ROUNDS);
      }
      return String.format(
          Locale.ROOT,
          "Fake zones warmed up: %d requests in %.1f s; last round p99 %d ms, %d failed%s",
          requests,
          took.toMillis() / 1000.0,
          lastP99Millis,
          lastFailed,
          why);
    }
  }

  /** Such as {@code 30 s} or {@code 0.5 s}. */
  private static String seconds(Duration d) {
    return d.toMillis() % 1000 == 0
        ? d.toSeconds() + " s"
        : String.format(Locale.ROOT, "%.1f s", d.toMillis() / 1000.0);
  }

  private ZoneWarmUp() {}

  /**
   * Sends rounds of {@value #ROUND} requests, one every {@code 1 / max(ratePerSecond, MIN_RATE)},
   * round robin over {@code endpoints}, until the zones are warm or {@code longest} passes.
   */
  static Result run(List<DrillEndpoint> endpoints, long seed, int ratePerSecond, Duration longest) {
    // The same users and groups as the zones' stubs, in another order than the clients' mix.
    DirectoryApi.Mix mix = new DirectoryApi.Mix(new DirectoryApi(seed), ~seed);
    return run(endpoints, mix::next, ratePerSecond, longest);
  }

  /**
   * Sends rounds of {@value #ROUND} requests to the paths {@code paths} gives (appended to each
   * endpoint's URL), one every {@code 1 / max(ratePerSecond, MIN_RATE)}, round robin over {@code
   * endpoints}, until the zones are warm or {@code longest} passes. Every path must be answered
   * 2xx. A request's time counts from when it was sent: the zones' answer, not the warm-up's own
   * pace.
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
    long gap = TimeUnit.SECONDS.toNanos(1) / Math.max(MIN_RATE, ratePerSecond);
    long start = System.nanoTime();
    long end = start + longest.toNanos();
    int requests = 0;
    int rounds = 0;
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
        int sent = 0;
        for (int i = 0; i < ROUND; i++) {
          long wait = due - System.nanoTime();
          if (wait > 0) {
            LockSupport.parkNanos(wait);
          }
          if (System.nanoTime() - end >= 0) {
            break; // time is up: this round is cut short, and not judged
          }
          due += gap;
          DrillEndpoint e = endpoints.get((requests + i) % endpoints.size());
          Request request = new Request.Builder().url(e.url() + paths.get()).build();
          int slot = i;
          long sentAt = System.nanoTime();
          sent++;
          http.newCall(request)
              .enqueue(
                  new Callback() {
                    @Override
                    public void onResponse(Call call, Response response) {
                      try (response) {
                        if (response.isSuccessful()) {
                          took[slot] = System.nanoTime() - sentAt;
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
        requests += sent;
        for (int unsent = sent; unsent < ROUND; unsent++) {
          done.countDown();
        }
        // Every call ends within its 2 s call timeout; a round whose calls are still out after 5 s
        // is judged by what is in, without reading took[] while their callbacks may still write.
        boolean allIn = done.await(5, TimeUnit.SECONDS);
        if (sent < ROUND) {
          break; // cut short at the end of the warm-up's time: not judged
        }
        rounds++;
        if (!allIn) {
          p99 = -1; // those still out count as the slowest
          failed = failures.get() + (int) done.getCount();
          warmRounds = 0;
          continue;
        }
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
        rounds,
        p99,
        failed,
        warmRounds,
        longest);
  }
}
