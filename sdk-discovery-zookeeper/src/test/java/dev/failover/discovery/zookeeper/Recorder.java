package dev.failover.discovery.zookeeper;

import static org.assertj.core.api.Assertions.fail;

import dev.failover.Endpoint;
import dev.failover.EndpointSource;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/** Records what a source reports, in order, and waits for it with a deadline. */
final class Recorder implements EndpointSource.Updates {

  /** How long a test waits for a report; generous, for a busy 2-core machine. */
  static final Duration WAIT = Duration.ofSeconds(15);

  /** One report: a list, or a failure. */
  record Report(long nanos, List<Endpoint> endpoints, Throwable failure) {
    boolean isList() {
      return failure == null;
    }

    List<String> urls() {
      return endpoints.stream().map(Endpoint::address).toList();
    }
  }

  private final List<Report> reports = new ArrayList<>();

  @Override
  public synchronized void endpoints(List<Endpoint> endpoints) {
    reports.add(new Report(System.nanoTime(), List.copyOf(endpoints), null));
    notifyAll();
  }

  @Override
  public synchronized void failed(Throwable cause) {
    reports.add(new Report(System.nanoTime(), List.of(), cause));
    notifyAll();
  }

  synchronized List<Report> reports() {
    return List.copyOf(reports);
  }

  synchronized int size() {
    return reports.size();
  }

  /** Waits for a list reported at or after index {@code from} that matches; returns it. */
  List<Endpoint> awaitList(int from, String what, Predicate<List<Endpoint>> matches) {
    return await(from, what, r -> r.isList() && matches.test(r.endpoints())).endpoints();
  }

  /** Waits for a list, reported at any time, that matches; returns it. */
  List<Endpoint> awaitList(String what, Predicate<List<Endpoint>> matches) {
    return awaitList(0, what, matches);
  }

  /** Waits for the latest report to be a list that matches (later reports may follow). */
  List<Endpoint> awaitLatest(String what, Predicate<List<Endpoint>> matches) {
    long deadline = System.nanoTime() + WAIT.toNanos();
    synchronized (this) {
      while (true) {
        if (!reports.isEmpty()) {
          Report last = reports.get(reports.size() - 1);
          if (last.isList() && matches.test(last.endpoints())) {
            return last.endpoints();
          }
        }
        waitUntil(deadline, what);
      }
    }
  }

  /** Waits for a failure reported at or after index {@code from}; returns it. */
  Throwable awaitFailure(int from) {
    return await(from, "a failure", r -> !r.isList()).failure();
  }

  private Report await(int from, String what, Predicate<Report> matches) {
    long deadline = System.nanoTime() + WAIT.toNanos();
    synchronized (this) {
      while (true) {
        for (int i = from; i < reports.size(); i++) {
          if (matches.test(reports.get(i))) {
            return reports.get(i);
          }
        }
        waitUntil(deadline, what);
      }
    }
  }

  private void waitUntil(long deadline, String what) {
    long remaining = deadline - System.nanoTime();
    if (remaining <= 0) {
      fail("no report of " + what + " within " + WAIT.toSeconds() + " s; reports: " + reports);
    }
    try {
      TimeUnit.NANOSECONDS.timedWait(this, remaining);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      fail("interrupted while waiting for " + what);
    }
  }

  static List<String> urls(List<Endpoint> endpoints) {
    return endpoints.stream().map(Endpoint::address).toList();
  }
}
