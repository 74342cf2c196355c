package dev.failover.benchmarks;

import dev.failover.Attempt;
import dev.failover.Endpoint;
import dev.failover.FailoverClient;
import dev.failover.FailoverEvent;
import dev.failover.FailoverListener;
import dev.failover.FailoverSnapshot;
import dev.failover.HealthCheck;
import dev.failover.HedgePolicy;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.jspecify.annotations.Nullable;

/**
 * The Failover SDK as its docs set it up for several zones: home zone us-east-1a, active health
 * checks on {@code /health}, adaptive hedging at 5% extra load, default zone policy, retry budget
 * and 3 attempts; the scenarios' 1 s deadline. Calls run with {@code execute()} on threads of the
 * benchmark's own, as a blocking application would.
 */
final class SdkLoadClient extends LoadClient {
  static final String SERVICE = "directory";

  private final OkHttpClient transport;
  private final FailoverClient client;
  private final ExecutorService callers = Scenarios.daemonPool("sdk-caller");
  final AtomicInteger zoneEvents = new AtomicInteger();
  private final String watchedZone;

  /** When any zone was evacuated, and when the client found itself stalled (ns from recording). */
  private final Queue<Long> evacuations = new ConcurrentLinkedQueue<>();

  private final Queue<Long> stalls = new ConcurrentLinkedQueue<>();
  private volatile @Nullable FailoverSnapshot last;

  SdkLoadClient(
      Recorder recorder,
      Map<Integer, Integer> endpointByPort,
      List<Endpoint> endpoints,
      Duration deadline,
      String watchedZone) {
    super("failover-sdk", recorder, endpointByPort);
    this.watchedZone = watchedZone;
    this.transport = new OkHttpClient.Builder().addInterceptor(new AttemptTap(this, false)).build();
    this.client =
        FailoverClient.builder()
            .service(SERVICE)
            .home("us-east-1", "us-east-1a")
            .endpoints(endpoints)
            .healthCheck(HealthCheck.http("/health"))
            .hedging(HedgePolicy.adaptive(0.05))
            .deadline(deadline)
            .okHttpClient(transport)
            .listener(new Listener())
            .build();
  }

  @Override
  void start(int seq, String path, Done done) {
    Request request = new Request.Builder().url("http://" + SERVICE + path).build();
    callers.execute(
        () -> {
          try (Response response = client.newCall(request).execute()) {
            response.body().bytes();
            done.finish(response.isSuccessful());
          } catch (IOException | RuntimeException e) {
            done.finish(false);
          }
        });
  }

  /** Zones evacuated in {@code [from, to)} (ns from the start of the recording). */
  long evacuations(long from, long to) {
    return evacuations.stream().filter(t -> t >= from && t < to).count();
  }

  /** Stalls of its own the client detected in {@code [from, to)}. */
  long stalls(long from, long to) {
    return stalls.stream().filter(t -> t >= from && t < to).count();
  }

  /** The client's snapshot just before it was closed, or null while it runs. */
  @Nullable FailoverSnapshot lastSnapshot() {
    return last;
  }

  @Override
  public void close() {
    last = client.snapshot();
    client.close();
    callers.shutdownNow();
    transport.dispatcher().executorService().shutdown();
    transport.connectionPool().evictAll();
  }

  /**
   * Takes first attempts from the SDK's own events, so that zone probes are not counted as such.
   */
  private final class Listener implements FailoverListener {
    @Override
    public void onAttempt(FailoverEvent.AttemptFinished event) {
      Attempt a = event.attempt();
      if (a.kind() == Attempt.Kind.FIRST) {
        int seq = seqOf(event.path());
        long start = System.nanoTime() - a.duration().toNanos();
        recorder.first(seq, endpointOf(a.endpoint().url().port()), start);
      }
    }

    @Override
    public void onEjected(FailoverEvent.EndpointEjected event) {
      ejected(1);
    }

    @Override
    public void onClientStalled(FailoverEvent.ClientStalled event) {
      stalls.add(recorder.offset(System.nanoTime()));
    }

    @Override
    public void onZoneEvacuated(FailoverEvent.ZoneEvacuated event) {
      evacuations.add(recorder.offset(System.nanoTime()));
      if (event.zone().zone().equals(watchedZone)) {
        zoneEvents.incrementAndGet();
      }
    }

    @Override
    public void onZoneRestored(FailoverEvent.ZoneRestored event) {
      if (event.zone().zone().equals(watchedZone)) {
        zoneEvents.incrementAndGet();
      }
    }
  }
}
