package dev.failover.benchmarks;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.core.IntervalFunction;
import io.github.resilience4j.retry.Retry;
import io.github.resilience4j.retry.RetryConfig;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import okhttp3.Call;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;

/**
 * What a team writes by hand today: one {@link OkHttpClient} (defaults), round robin over every
 * endpoint of every zone and region, skipping endpoints whose Resilience4j {@link CircuitBreaker}
 * is open, and a Resilience4j {@link Retry} of 3 attempts with exponential backoff (50 ms, then 100
 * ms) on I/O errors, open breakers and 5xx answers; each attempt goes to the next endpoint. Each
 * attempt may take a third of the 1 s deadline (OkHttp's call timeout), never more than what is
 * left of it.
 *
 * <p>Breakers (one per endpoint): count-based window of 20 calls, at least 10, open at 50% failures
 * (I/O errors and 5xx), 10 s open, 3 trial calls half-open. Resilience4j's defaults (100 calls, 60
 * s open) would react later still; these are sized to this load (20 calls/s per endpoint).
 */
final class HandRolledLoadClient extends LoadClient {
  private final List<String> urls;
  private final List<CircuitBreaker> breakers = new ArrayList<>();
  private final OkHttpClient http;
  private final Retry retry;
  private final Duration deadline;
  private final AtomicInteger next = new AtomicInteger();
  private final ExecutorService callers = Scenarios.daemonPool("handrolled-caller");

  HandRolledLoadClient(
      Recorder recorder,
      Map<Integer, Integer> endpointByPort,
      List<String> urls,
      Duration deadline) {
    super("okhttp+resilience4j", recorder, endpointByPort);
    this.urls = List.copyOf(urls);
    this.deadline = deadline;
    CircuitBreakerConfig cb =
        CircuitBreakerConfig.custom()
            .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
            .slidingWindowSize(20)
            .minimumNumberOfCalls(10)
            .failureRateThreshold(50)
            .waitDurationInOpenState(Duration.ofSeconds(10))
            .permittedNumberOfCallsInHalfOpenState(3)
            .build();
    for (int i = 0; i < urls.size(); i++) {
      CircuitBreaker breaker = CircuitBreaker.of("endpoint-" + i, cb);
      breaker
          .getEventPublisher()
          .onStateTransition(
              e -> {
                if (e.getStateTransition().getToState() == CircuitBreaker.State.OPEN) {
                  ejected(1);
                }
              });
      breakers.add(breaker);
    }
    this.http = new OkHttpClient.Builder().addInterceptor(new AttemptTap(this, true)).build();
    this.retry =
        Retry.of(
            "directory",
            RetryConfig.<Integer>custom()
                .maxAttempts(3)
                .intervalFunction(IntervalFunction.ofExponentialBackoff(Duration.ofMillis(50), 2))
                .retryExceptions(IOException.class)
                .retryOnResult(status -> status >= 500)
                .build());
  }

  @Override
  void start(int seq, String path, Done done) {
    callers.execute(
        () -> {
          long end = System.nanoTime() + deadline.toNanos();
          try {
            int status = Retry.decorateCheckedSupplier(retry, () -> attempt(path, end)).get();
            done.finish(status >= 200 && status < 300);
          } catch (Throwable e) {
            done.finish(false);
          }
        });
  }

  /** One attempt to the next endpoint whose breaker lets it through; returns the status. */
  private int attempt(String path, long end) throws IOException {
    long left = end - System.nanoTime();
    if (left < TimeUnit.MILLISECONDS.toNanos(5)) {
      throw new DeadlineExceeded();
    }
    int n = urls.size();
    for (int k = 0; k < n; k++) {
      int i = Math.floorMod(next.getAndIncrement(), n);
      CircuitBreaker breaker = breakers.get(i);
      if (!breaker.tryAcquirePermission()) {
        continue;
      }
      long started = System.nanoTime();
      Call call = http.newCall(new Request.Builder().url(urls.get(i) + path).build());
      call.timeout().timeout(Math.min(left, deadline.toNanos() / 3), TimeUnit.NANOSECONDS);
      try (Response response = call.execute()) {
        response.body().bytes();
        int status = response.code();
        long took = System.nanoTime() - started;
        if (status >= 500) {
          breaker.onError(took, TimeUnit.NANOSECONDS, new IOException("HTTP " + status));
        } else {
          breaker.onSuccess(took, TimeUnit.NANOSECONDS);
        }
        return status;
      } catch (IOException e) {
        breaker.onError(System.nanoTime() - started, TimeUnit.NANOSECONDS, e);
        throw e;
      }
    }
    throw new IOException("every endpoint's circuit breaker is open");
  }

  /** The call's deadline passed: not retried. */
  private static final class DeadlineExceeded extends RuntimeException {
    private static final long serialVersionUID = 1L;

    DeadlineExceeded() {
      super("deadline exceeded", null, false, false);
    }
  }

  @Override
  public void close() {
    callers.shutdownNow();
    http.dispatcher().executorService().shutdown();
    http.connectionPool().evictAll();
  }
}
