package dev.failover.drill;

import dev.failover.testkit.load.LoadClock;
import io.github.resilience4j.core.IntervalFunction;
import io.github.resilience4j.retry.Retry;
import io.github.resilience4j.retry.RetryConfig;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Supplier;
import okhttp3.Call;
import okhttp3.Callback;
import okhttp3.Dispatcher;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.jspecify.annotations.Nullable;

/**
 * What a user writes by hand today: one OkHttpClient, round robin over every endpoint of every zone
 * and region, and a Resilience4j Retry of 3 attempts with exponential backoff (50 ms, then 100 ms)
 * on I/O errors and 5xx answers. Each attempt has a third of the deadline (OkHttp {@code
 * callTimeout}); the call as a whole has the deadline.
 *
 * <p>The endpoints are taken one of each zone in turn ({@link #interleave}: the zones in the order
 * their first endpoints are listed, then each zone's second endpoint, and so on), so that the round
 * robin's next endpoint is in another zone; a retry goes to the next endpoint after the previous
 * attempt's in that order that is in another zone ({@link #nextInAnotherZone}), as a sensible
 * hand-written retry does, rather than to the same zone's other endpoint.
 */
final class BaselineDriver extends ClientDriver {
  private final List<DrillEndpoint> endpoints;
  private final OkHttpClient http;
  private final Retry retry;
  private final ScheduledExecutorService scheduler;
  private final Shutdown.Named retryThreads = new Shutdown.Named("drill-baseline-retry");
  private final Shutdown.Named httpThreads = new Shutdown.Named("drill-baseline-http");
  private final ExecutorService httpExecutor =
      new ThreadPoolExecutor(
          0, Integer.MAX_VALUE, 60, TimeUnit.SECONDS, new SynchronousQueue<>(), httpThreads);
  private final Duration deadline;
  private final AtomicInteger next = new AtomicInteger();

  /** What one attempt got: the status, its body read. */
  private record Answer(int status) {}

  BaselineDriver(
      Scenario scenario, Stats stats, LoadClock clock, int maxInFlight, Duration deadline) {
    super("baseline", stats, clock, maxInFlight);
    this.endpoints = interleave(scenario.endpoints());
    this.deadline = deadline;
    // OkHttp allows 5 calls per host by default, and every endpoint here is on one host; a user
    // who load-tests raises the limits. Same limits as the SDK's default.
    // OkHttp's own executor, with threads of the drill's name, so that close() can wait for them.
    Dispatcher dispatcher = new Dispatcher(httpExecutor);
    dispatcher.setMaxRequests(256);
    dispatcher.setMaxRequestsPerHost(256);
    this.http =
        new OkHttpClient.Builder()
            .dispatcher(dispatcher)
            .callTimeout(deadline.dividedBy(3))
            .build();
    this.retry =
        Retry.of(
            "directory",
            RetryConfig.<Answer>custom()
                .maxAttempts(3)
                .intervalFunction(IntervalFunction.ofExponentialBackoff(Duration.ofMillis(50), 2))
                .retryExceptions(IOException.class)
                .retryOnResult(answer -> answer.status() >= 500)
                .build());
    ScheduledThreadPoolExecutor s = new ScheduledThreadPoolExecutor(1, retryThreads);
    s.setRemoveOnCancelPolicy(true);
    this.scheduler = s;
  }

  /**
   * The endpoints one of each zone in turn: the first endpoint of every zone (zones in the order
   * their first endpoints are listed), then the second of every zone that has one, and so on. A
   * zone is its region and its name.
   */
  static List<DrillEndpoint> interleave(List<DrillEndpoint> endpoints) {
    Map<List<String>, List<DrillEndpoint>> byZone = new LinkedHashMap<>();
    for (DrillEndpoint e : endpoints) {
      byZone.computeIfAbsent(List.of(e.region(), e.zone()), z -> new ArrayList<>()).add(e);
    }
    List<DrillEndpoint> out = new ArrayList<>(endpoints.size());
    for (int k = 0; out.size() < endpoints.size(); k++) {
      for (List<DrillEndpoint> zone : byZone.values()) {
        if (k < zone.size()) {
          out.add(zone.get(k));
        }
      }
    }
    return List.copyOf(out);
  }

  /**
   * Where the attempt after one on {@code order.get(from)} goes: the next endpoint after it, round
   * the list, in another zone (region and name); the next one if every endpoint is in its zone.
   */
  static int nextInAnotherZone(List<DrillEndpoint> order, int from) {
    DrillEndpoint previous = order.get(from);
    for (int j = 1; j < order.size(); j++) {
      int i = (from + j) % order.size();
      DrillEndpoint e = order.get(i);
      if (!e.zone().equals(previous.zone()) || !e.region().equals(previous.region())) {
        return i;
      }
    }
    return (from + 1) % order.size();
  }

  /** The endpoints in the order the baseline goes round them ({@link #interleave}). */
  List<DrillEndpoint> order() {
    return endpoints;
  }

  @Override
  void start(String path, long offsetNanos, Consumer<Stats.Result> done) {
    int first = Math.floorMod(next.getAndIncrement(), endpoints.size());
    OneCall call = new OneCall(path, offsetNanos, first);
    CompletableFuture<Stats.Result> outcome = new CompletableFuture<>();
    Future<?> timer =
        scheduler.schedule(
            () -> {
              call.expire();
              outcome.complete(Stats.Result.FAILED);
            },
            deadline.toNanos(),
            TimeUnit.NANOSECONDS);
    Supplier<CompletionStage<Answer>> retrying =
        Retry.decorateCompletionStage(retry, scheduler, call::attempt);
    retrying
        .get()
        .whenComplete(
            (answer, failure) ->
                outcome.complete(
                    answer != null && answer.status() >= 200 && answer.status() < 300
                        ? Stats.Result.OK
                        : Stats.Result.FAILED));
    var unused =
        outcome.whenComplete(
            (result, failure) -> {
              timer.cancel(false);
              int sent = call.sent.get();
              recordAttempts(offsetNanos, sent, Math.max(0, sent - 1), 0);
              done.accept(result == null ? Stats.Result.FAILED : result);
            });
  }

  /**
   * One logical call: its first attempt goes to the round robin's endpoint, each retry to the next
   * endpoint in another zone than the attempt before.
   */
  private final class OneCall {
    final String path;
    final long offsetNanos;
    final int first;
    final AtomicInteger sent = new AtomicInteger();

    /** The endpoint of the attempt before, by index; the attempts run one after the other. */
    private volatile int previous;

    private volatile boolean expired;
    private volatile @Nullable Call current;

    OneCall(String path, long offsetNanos, int first) {
      this.path = path;
      this.offsetNanos = offsetNanos;
      this.first = first;
    }

    void expire() {
      expired = true;
      Call c = current;
      if (c != null) {
        c.cancel();
      }
    }

    CompletionStage<Answer> attempt() {
      CompletableFuture<Answer> answer = new CompletableFuture<>();
      if (expired) {
        answer.completeExceptionally(new IOException("deadline passed"));
        return answer;
      }
      int k = sent.getAndIncrement();
      int index = k == 0 ? first : nextInAnotherZone(endpoints, previous);
      previous = index;
      DrillEndpoint endpoint = endpoints.get(index);
      if (k == 0) {
        recordFirst(offsetNanos, endpoint.zone());
      }
      Call c = http.newCall(new Request.Builder().url(endpoint.url() + path).build());
      current = c;
      try {
        c.enqueue(
            new Callback() {
              @Override
              public void onResponse(Call call, Response response) {
                try (response) {
                  response.body().bytes();
                  answer.complete(new Answer(response.code()));
                } catch (IOException e) {
                  answer.completeExceptionally(e);
                }
              }

              @Override
              public void onFailure(Call call, IOException e) {
                answer.completeExceptionally(e);
              }
            });
      } catch (RejectedExecutionException e) {
        answer.completeExceptionally(new IOException(e));
      }
      if (expired) {
        c.cancel();
      }
      return answer;
    }
  }

  /** Cancels what is in flight and waits (bounded) until every thread of the baseline's ended. */
  @Override
  public void close() {
    scheduler.shutdownNow();
    http.dispatcher().cancelAll();
    Shutdown.stop(scheduler, retryThreads, true, Duration.ofSeconds(5));
    Shutdown.stop(httpExecutor, httpThreads, false, Duration.ofSeconds(5));
    http.connectionPool().evictAll();
  }
}
