package dev.failover.discovery.dns;

import dev.failover.Endpoint;
import dev.failover.EndpointSource;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * Records what a source reports, in order, and lets a test wait for a report with a deadline (woken
 * by each report, never sleeping to pass).
 */
final class RecordingUpdates implements EndpointSource.Updates {

  /** One report: a list, or a failure. */
  record Report(List<Endpoint> endpoints, Throwable failure) {
    boolean isList() {
      return failure == null;
    }
  }

  static final Duration WAIT = Duration.ofSeconds(10);

  private final List<Report> reports = new ArrayList<>();

  @Override
  public synchronized void endpoints(List<Endpoint> endpoints) {
    reports.add(new Report(List.copyOf(endpoints), null));
    notifyAll();
  }

  @Override
  public synchronized void failed(Throwable cause) {
    reports.add(new Report(null, cause));
    notifyAll();
  }

  synchronized List<Report> reports() {
    return List.copyOf(reports);
  }

  synchronized int size() {
    return reports.size();
  }

  /** Waits for a list matching {@code accept}, reported after the first {@code from} reports. */
  List<Endpoint> awaitList(int from, Predicate<List<Endpoint>> accept, String what)
      throws InterruptedException {
    return await(from, r -> r.isList() && accept.test(r.endpoints()), what).endpoints();
  }

  /** Waits for the first list reported after the first {@code from} reports. */
  List<Endpoint> awaitList(int from) throws InterruptedException {
    return awaitList(from, l -> true, "a list");
  }

  /** Waits for a failure reported after the first {@code from} reports. */
  Throwable awaitFailure(int from) throws InterruptedException {
    return await(from, r -> !r.isList(), "a failure").failure();
  }

  synchronized Report await(int from, Predicate<Report> accept, String what)
      throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    int seen = from;
    while (true) {
      for (; seen < reports.size(); seen++) {
        if (accept.test(reports.get(seen))) {
          return reports.get(seen);
        }
      }
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw new AssertionError(
            "no report of " + what + " within " + WAIT + "; reports were: " + reports);
      }
      wait(Math.max(1, left / 1_000_000));
    }
  }
}
