package dev.failover.discovery.zookeeper;

import dev.failover.FailoverException;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import okhttp3.Call;
import okhttp3.Callback;
import okhttp3.Request;
import okhttp3.Response;

/**
 * Continuous, fixed-rate load: {@code callsPerTick} asynchronous calls every tick, bounded in count
 * and in time; records every outcome and latency.
 */
final class Load {

  /** One failed call: what happened. */
  record Failure(long atNanos, String what) {}

  private final Call.Factory client;
  private final Request request;
  private final int maxCalls;
  private final long endNanos;
  private final ScheduledExecutorService ticker =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "load-ticker");
            t.setDaemon(true);
            return t;
          });
  private final AtomicInteger sent = new AtomicInteger();
  private final AtomicInteger succeeded = new AtomicInteger();
  private final AtomicLong inFlight = new AtomicLong();

  /** Per finished call: when it was sent (nanos since start) and how long it took. */
  private final ConcurrentLinkedQueue<long[]> latencies = new ConcurrentLinkedQueue<>();

  private final ConcurrentLinkedQueue<Failure> failures = new ConcurrentLinkedQueue<>();
  private final long startNanos = System.nanoTime();
  private volatile ScheduledFuture<?> task;

  /**
   * Starts sending {@code perSecond} calls a second (in ticks of 10 ms) for at most {@code
   * maxDuration}; never more than {@code perSecond * maxDuration} calls.
   */
  Load(Call.Factory client, Request request, int perSecond, Duration maxDuration) {
    this.client = client;
    this.request = request;
    this.maxCalls = (int) (perSecond * maxDuration.toSeconds());
    this.endNanos = startNanos + maxDuration.toNanos();
    int perTick = Math.max(1, perSecond / 100);
    task = ticker.scheduleAtFixedRate(() -> tick(perTick), 0, 10, TimeUnit.MILLISECONDS);
  }

  private void tick(int perTick) {
    if (System.nanoTime() >= endNanos || sent.get() >= maxCalls) {
      task.cancel(false);
      return;
    }
    for (int i = 0; i < perTick && sent.get() < maxCalls; i++) {
      sent.incrementAndGet();
      inFlight.incrementAndGet();
      long start = System.nanoTime();
      client
          .newCall(request)
          .enqueue(
              new Callback() {
                @Override
                public void onResponse(Call call, Response response) {
                  try (response) {
                    response.body().string();
                    if (response.isSuccessful()) {
                      succeeded.incrementAndGet();
                    } else {
                      failures.add(new Failure(System.nanoTime(), "HTTP " + response.code()));
                    }
                  } catch (IOException e) {
                    failures.add(new Failure(System.nanoTime(), e.toString()));
                  } finally {
                    finish(start);
                  }
                }

                @Override
                public void onFailure(Call call, IOException e) {
                  String what = e.toString();
                  if (e instanceof FailoverException f) {
                    what += " " + f.attempts();
                  }
                  failures.add(new Failure(System.nanoTime(), what));
                  finish(start);
                }
              });
    }
  }

  private void finish(long start) {
    latencies.add(new long[] {start - startNanos, System.nanoTime() - start});
    inFlight.decrementAndGet();
  }

  /** Stops sending, and waits (at most 10 s) for the calls in flight. */
  void stop() throws InterruptedException {
    task.cancel(false);
    ticker.shutdown();
    ticker.awaitTermination(5, TimeUnit.SECONDS);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (inFlight.get() > 0 && System.nanoTime() < deadline) {
      Thread.sleep(10); // draining the calls in flight, not waiting for a result to pass
    }
  }

  int sent() {
    return sent.get();
  }

  int succeeded() {
    return succeeded.get();
  }

  long inFlight() {
    return inFlight.get();
  }

  List<Failure> failures() {
    return new ArrayList<>(failures);
  }

  /** Calls per second actually sent so far. */
  double rate() {
    double seconds = (System.nanoTime() - startNanos) / 1e9;
    return sent.get() / Math.max(seconds, 1e-3);
  }

  /** The given percentile of the finished calls' latency, in milliseconds. */
  double percentileMillis(double percentile) {
    return percentileMillis(percentile, Duration.ZERO);
  }

  /** The same, of the calls sent after {@code skip} from the start (the JVM warmed up). */
  double percentileMillis(double percentile, Duration skip) {
    long[] sorted =
        latencies.stream().filter(l -> l[0] >= skip.toNanos()).mapToLong(l -> l[1]).toArray();
    if (sorted.length == 0) {
      return 0;
    }
    Arrays.sort(sorted);
    int index = (int) Math.ceil(percentile / 100.0 * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(index, sorted.length - 1))] / 1e6;
  }

  String summary() {
    return String.format(
        "calls %d, ok %d, failures %d, p50 %.1f ms, p99 %.1f ms, max %.1f ms, rate %.0f/s;"
            + " after the first 2 s: p99 %.1f ms, max %.1f ms",
        sent(),
        succeeded(),
        failures.size(),
        percentileMillis(50),
        percentileMillis(99),
        percentileMillis(100),
        rate(),
        percentileMillis(99, Duration.ofSeconds(2)),
        percentileMillis(100, Duration.ofSeconds(2)));
  }
}
