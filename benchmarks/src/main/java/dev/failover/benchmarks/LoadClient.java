package dev.failover.benchmarks;

import java.io.Closeable;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * One client under open-loop load: {@link #send} starts a call at once without waiting for it; the
 * calls in flight are bounded, and a call that finds no room fails at once (counted, never silently
 * dropped).
 */
abstract class LoadClient implements Closeable {
  static final int MAX_IN_FLIGHT = 500;

  final String name;
  final Recorder recorder;
  final Map<Integer, Integer> endpointByPort;
  private final Semaphore inFlight = new Semaphore(MAX_IN_FLIGHT);

  /** When the client took an endpoint out of rotation (ns from the start of the recording). */
  private final Queue<Long> ejections = new ConcurrentLinkedQueue<>();

  LoadClient(String name, Recorder recorder, Map<Integer, Integer> endpointByPort) {
    this.name = name;
    this.recorder = recorder;
    this.endpointByPort = endpointByPort;
  }

  /**
   * Sends call {@code seq}, intended at {@code intendedNanoTime}, {@code offsetNanos} from the
   * load's start (negative in the warm-up).
   */
  final void send(int seq, long intendedNanoTime, long offsetNanos) {
    recorder.scheduled(seq, offsetNanos);
    if (!inFlight.tryAcquire()) {
      recorder.done(seq, false, intendedNanoTime);
      return;
    }
    Done done =
        ok -> {
          recorder.done(seq, ok, intendedNanoTime);
          inFlight.release();
        };
    try {
      start(seq, "/api/" + seq, done);
    } catch (RuntimeException e) {
      done.finish(false);
    }
  }

  /** Starts one call; calls {@code done} exactly once when it ends. */
  abstract void start(int seq, String path, Done done);

  /** Waits until no call is in flight, at most {@code millis}. */
  final boolean awaitIdle(long millis) throws InterruptedException {
    if (inFlight.tryAcquire(MAX_IN_FLIGHT, millis, TimeUnit.MILLISECONDS)) {
      inFlight.release(MAX_IN_FLIGHT);
      return true;
    }
    return false;
  }

  /** Notes that the client took {@code count} endpoints out of rotation now. */
  final void ejected(int count) {
    long t = recorder.offset(System.nanoTime());
    for (int i = 0; i < count; i++) {
      ejections.add(t);
    }
  }

  /** Endpoints taken out of rotation in {@code [from, to)}, or -1 if the client cannot tell. */
  long ejections(long from, long to) {
    return ejections.stream().filter(t -> t >= from && t < to).count();
  }

  int endpointOf(int port) {
    Integer i = endpointByPort.get(port);
    return i == null ? -1 : i;
  }

  /** Parses the call number out of {@code /api/<seq>}, or -1. */
  static int seqOf(String path) {
    if (!path.startsWith("/api/")) {
      return -1;
    }
    try {
      return Integer.parseInt(path.substring(5));
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /** The end of one call. */
  @FunctionalInterface
  interface Done {
    void finish(boolean ok);
  }

  @Override
  public abstract void close();
}
