package dev.failover.internal;

import dev.failover.FailoverEvent;
import dev.failover.HealthCheck;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.random.RandomGenerator;
import okhttp3.Call;
import okhttp3.Callback;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Active health: a jittered HTTP probe per endpoint; faster while the endpoint is down. One probe
 * per endpoint is in flight at a time, so an endpoint's streak counters need no lock.
 */
final class HealthChecker {
  private static final Logger log = LoggerFactory.getLogger(HealthChecker.class);

  private final String service;
  private final HealthCheck check;
  private final OkHttpClient http;
  private final ScheduledExecutorService scheduler;
  private final RandomGenerator random;
  private final Events events;
  private volatile boolean stopped;

  /** Whether a probe that timed out at a given time is the client's fault; set by the client. */
  private volatile java.util.function.LongPredicate timeoutsExcused = now -> false;

  private final java.util.Map<EndpointState, java.util.concurrent.Future<?>> pending =
      new java.util.concurrent.ConcurrentHashMap<>();

  HealthChecker(
      String service,
      HealthCheck check,
      OkHttpClient http,
      ScheduledExecutorService scheduler,
      RandomGenerator random,
      Events events) {
    this.service = service;
    this.check = check;
    this.http = http.newBuilder().callTimeout(check.timeout()).build();
    this.scheduler = scheduler;
    this.random = random;
    this.events = events;
  }

  /**
   * Sets when a probe's timeout is charged to nobody: while the client itself is stalled (and for
   * the grace after), a probe that timed out says nothing about its endpoint. Refusals and bad
   * statuses still count.
   */
  void excuseTimeoutsWhen(java.util.function.LongPredicate excused) {
    this.timeoutsExcused = excused;
  }

  void start(List<EndpointState> endpoints) {
    for (EndpointState ep : endpoints) {
      long first = (long) (check.interval().toNanos() * random.nextDouble());
      schedule(ep, first);
    }
  }

  /** Starts checking endpoints new to a running client: the first probe goes out at once. */
  void added(List<EndpointState> endpoints) {
    for (EndpointState ep : endpoints) {
      schedule(ep, 0);
    }
  }

  /** Stops checking endpoints that left the list (a probe in flight is ignored when it ends). */
  void removed(List<EndpointState> endpoints) {
    for (EndpointState ep : endpoints) {
      java.util.concurrent.Future<?> f = pending.remove(ep);
      if (f != null) {
        f.cancel(false);
      }
    }
  }

  void stop() {
    stopped = true;
    pending.values().forEach(f -> f.cancel(false));
    pending.clear();
  }

  private void schedule(EndpointState ep, long delayNanos) {
    if (stopped || ep.removed) {
      return;
    }
    try {
      pending.put(ep, scheduler.schedule(() -> probe(ep), delayNanos, TimeUnit.NANOSECONDS));
      if (stopped || ep.removed) {
        java.util.concurrent.Future<?> f = pending.remove(ep);
        if (f != null) {
          f.cancel(false);
        }
      }
    } catch (RejectedExecutionException e) {
      // The client is closing.
    }
  }

  private void probe(EndpointState ep) {
    if (stopped || ep.removed) {
      pending.remove(ep);
      return;
    }
    HttpUrl url = probeUrl(ep.endpoint.url(), check.path());
    Call call = http.newCall(new Request.Builder().url(url).get().build());
    call.enqueue(
        new Callback() {
          @Override
          public void onResponse(Call c, Response response) {
            boolean ok;
            try (response) {
              ok = response.code() >= 200 && response.code() < 400;
            }
            result(ep, ok);
          }

          @Override
          public void onFailure(Call c, IOException e) {
            if (e instanceof java.io.InterruptedIOException
                && timeoutsExcused.test(ep.ticker().nanos())) {
              skipped(ep);
            } else {
              result(ep, false);
            }
          }
        });
  }

  static HttpUrl probeUrl(HttpUrl base, String path) {
    String basePath = base.encodedPath();
    if (basePath.endsWith("/")) {
      basePath = basePath.substring(0, basePath.length() - 1);
    }
    return base.newBuilder().encodedPath(basePath + path).build();
  }

  /** A probe that counts for nothing (the client was stalled): the next one as usual. */
  void skipped(EndpointState ep) {
    if (stopped || ep.removed) {
      pending.remove(ep);
      return;
    }
    log.debug(
        "[{}] probe of {} timed out while the client was stalled: not counted",
        service,
        ep.endpoint);
    long base = (ep.isDown() ? check.downInterval() : check.interval()).toNanos();
    schedule(ep, (long) (base * (0.8 + 0.4 * random.nextDouble())));
  }

  /** Applies one probe result and schedules the next probe. */
  void result(EndpointState ep, boolean ok) {
    if (stopped || ep.removed) {
      pending.remove(ep);
      return;
    }
    if (ok) {
      ep.probeFailures = 0;
      ep.probeSuccesses++;
      if (ep.isDown() && ep.probeSuccesses >= check.healthyThreshold()) {
        ep.setDown(false);
        ep.probeRecovered();
        events.emit(
            new FailoverEvent.EndpointRestored(
                service, ep.endpoint, FailoverEvent.Cause.HEALTH_CHECK));
      } else if (ep.probeSuccesses >= check.healthyThreshold()
          && ep.ejectedLongerThan(ep.baseEjectionNanos, ep.ticker().nanos())) {
        // Ejected by its breaker, and its checks pass: back after the base ejection time at most,
        // however long its breaker's ejection grew (with slow start).
        ep.restoreNow();
      }
    } else {
      ep.probeSuccesses = 0;
      ep.probeFailures++;
      if (!ep.isDown() && ep.probeFailures >= check.unhealthyThreshold()) {
        ep.setDown(true);
        events.emit(
            new FailoverEvent.EndpointEjected(
                service, ep.endpoint, FailoverEvent.Cause.HEALTH_CHECK, null));
      }
    }
    long base = (ep.isDown() ? check.downInterval() : check.interval()).toNanos();
    long next = (long) (base * (0.8 + 0.4 * random.nextDouble()));
    if (log.isTraceEnabled()) {
      log.trace("[{}] probe of {}: {}", service, ep.endpoint, ok ? "ok" : "failed");
    }
    schedule(ep, next);
  }
}
