package dev.failover.drill;

import dev.failover.Attempt;
import dev.failover.Endpoint;
import dev.failover.FailoverClient;
import dev.failover.FailoverEvent;
import dev.failover.FailoverListener;
import dev.failover.HealthCheck;
import dev.failover.HedgePolicy;
import dev.failover.StaleCache;
import dev.failover.testkit.load.LoadClock;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import okhttp3.Call;
import okhttp3.Callback;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.ResponseBody;
import org.jspecify.annotations.Nullable;

/**
 * The Failover SDK as a user would set it up for the directory: home zone, active health checks,
 * adaptive hedging, stale-if-error and the drill's deadline; everything else at its defaults.
 */
final class SdkDriver extends ClientDriver {
  static final String SERVICE = "directory";

  /**
   * Whether calls use {@code enqueue()} (the default) or, with the system property {@code
   * drill.sdk.enqueue=false}, {@code execute()} on the drill's threads.
   */
  static final boolean ENQUEUE =
      Boolean.parseBoolean(System.getProperty("drill.sdk.enqueue", "true"));

  /** The {@code CallFinished} of the call whose callback this thread runs next (enqueue only). */
  private static final ThreadLocal<FailoverEvent.@Nullable CallFinished> FINISHED =
      new ThreadLocal<>();

  private final FailoverClient client;
  private final EventLog log;
  private final Duration deadline;
  private final Shutdown.Named callerThreads = new Shutdown.Named("drill-sdk-caller");
  private final Shutdown.Named guardThreads = new Shutdown.Named("drill-sdk-guard");
  private final ExecutorService callers = Executors.newCachedThreadPool(callerThreads);
  private final ScheduledThreadPoolExecutor guards =
      new ScheduledThreadPoolExecutor(1, guardThreads);
  private final AtomicLong lostCallbacks = new AtomicLong();

  SdkDriver(
      Scenario scenario,
      Stats stats,
      LoadClock clock,
      int maxInFlight,
      Duration deadline,
      EventLog log) {
    super("sdk", stats, clock, maxInFlight);
    this.log = log;
    this.deadline = deadline;
    guards.setRemoveOnCancelPolicy(true);
    FailoverClient.Builder builder =
        FailoverClient.builder()
            .service(SERVICE)
            .home(scenario.homeRegion(), scenario.homeZone())
            .healthCheck(HealthCheck.http(scenario.healthPath()))
            .hedging(HedgePolicy.adaptive(0.05))
            .staleIfError(StaleCache.of(10_000, 64 * 1024, Duration.ofMinutes(5)))
            .deadline(deadline)
            .listener(new Listener());
    for (DrillEndpoint e : scenario.endpoints()) {
      builder.endpoint(Endpoint.of(e.url(), e.region(), e.zone()));
    }
    this.client = builder.build();
  }

  @Override
  void start(String path, long offsetNanos, Consumer<Stats.Result> done) {
    Request request = new Request.Builder().url("http://" + SERVICE + path).build();
    Call call = client.newCall(request);
    if (!ENQUEUE) {
      // Workaround: FailoverCall.enqueue() never calls Callback.onFailure (see docs/drill.md), so
      // the call runs on a thread of the drill's own, as execute(); the load thread never waits.
      callers.execute(
          () -> {
            try (Response response = call.execute()) {
              done.accept(classify(response));
            } catch (IOException | RuntimeException e) {
              done.accept(Stats.Result.FAILED);
            }
          });
      return;
    }
    // A call whose callback never comes ends here, as failed, a second after its deadline.
    Future<?> guard =
        guards.schedule(
            () -> {
              lostCallbacks.incrementAndGet();
              done.accept(Stats.Result.FAILED);
            },
            deadline.toNanos() + TimeUnit.SECONDS.toNanos(1),
            TimeUnit.NANOSECONDS);
    call.enqueue(
        new Callback() {
          @Override
          public void onResponse(Call call, Response response) {
            guard.cancel(false);
            countAttempts(offsetNanos);
            try (response) {
              done.accept(classify(response));
            } catch (IOException | RuntimeException e) {
              done.accept(Stats.Result.FAILED);
            }
          }

          @Override
          public void onFailure(Call call, IOException e) {
            guard.cancel(false);
            countAttempts(offsetNanos);
            done.accept(Stats.Result.FAILED);
          }
        });
  }

  /**
   * Counts the attempts, retries and hedges of the call whose callback this thread runs, in the
   * second the call was due: its {@code CallFinished}, told just before on this thread.
   */
  private void countAttempts(long offsetNanos) {
    FailoverEvent.CallFinished event = FINISHED.get();
    FINISHED.remove();
    if (event != null) {
      recordAttempts(offsetNanos, event.attempts(), event.retries(), event.hedges());
    }
  }

  /** Reads the body, as the application would, and classifies the answer. */
  private static Stats.Result classify(Response response) throws IOException {
    ResponseBody body = response.body();
    body.bytes();
    if (!response.isSuccessful()) {
      return Stats.Result.FAILED;
    }
    return isStale(response) ? Stats.Result.STALE : Stats.Result.OK;
  }

  /** Calls that ended only by the drill's guard because their callback never came. */
  long lostCallbacks() {
    return lostCallbacks.get();
  }

  private static boolean isStale(Response response) {
    for (String warning : response.headers("Warning")) {
      if (warning.startsWith("110")) {
        return true;
      }
    }
    return false;
  }

  /**
   * Closes the client, which waits (bounded) for its own threads, and waits (bounded) for the
   * drill's threads of this client, even if the drill was interrupted (the interrupt is kept).
   */
  @Override
  public void close() {
    boolean interrupted = Thread.interrupted(); // the client's close() waits only if not
    try {
      client.close();
      Shutdown.stop(callers, callerThreads, true, Duration.ofSeconds(5));
      Shutdown.stop(guards, guardThreads, true, Duration.ofSeconds(5));
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** Counts attempts per call and first attempts per zone; logs zone moves. */
  private final class Listener implements FailoverListener {
    @Override
    public void onAttempt(FailoverEvent.AttemptFinished event) {
      Attempt a = event.attempt();
      if (a.kind() == Attempt.Kind.FIRST) {
        long callStart = clock.now() - a.startedAfter().toNanos() - a.duration().toNanos();
        recordFirst(clock.offset(callStart), a.endpoint().locality().zone());
      }
    }

    @Override
    public void onCallFinished(FailoverEvent.CallFinished event) {
      if (ENQUEUE) {
        // Told on the thread that runs this call's callback next (the SDK tells CallFinished
        // before the callback, in the same drain): the callback knows when its call was due and
        // counts the attempts there. Estimating it here from the event's elapsed time put a late
        // call's attempts in the next phase on a busy machine (the generator lagged 200 ms).
        FINISHED.set(event);
        return;
      }
      long callStart = clock.now() - event.elapsed().toNanos();
      recordAttempts(clock.offset(callStart), event.attempts(), event.retries(), event.hedges());
    }

    @Override
    public void onZoneEvacuated(FailoverEvent.ZoneEvacuated event) {
      log.add(
          name,
          EventLog.Kind.ZONE_EVACUATED,
          "zone " + event.zone().zone() + " evacuated: " + event.reason());
    }

    @Override
    public void onZoneRestored(FailoverEvent.ZoneRestored event) {
      log.add(
          name,
          EventLog.Kind.ZONE_RESTORED,
          "zone "
              + event.zone().zone()
              + " restored after "
              + event.evacuatedFor().toMillis()
              + " ms");
    }

    @Override
    public void onClientStalled(FailoverEvent.ClientStalled event) {
      log.add(name, EventLog.Kind.CLIENT_STALLED, "client stalled: " + event.cause());
    }

    @Override
    public void onClientRecovered(FailoverEvent.ClientRecovered event) {
      log.add(
          name,
          EventLog.Kind.CLIENT_RECOVERED,
          "client recovered after "
              + event.stalledFor().toMillis()
              + " ms (worst lateness "
              + event.worstLateness().toMillis()
              + " ms)");
    }

    @Override
    public void onEjected(FailoverEvent.EndpointEjected event) {
      Duration d = event.duration();
      log.add(
          name,
          EventLog.Kind.ENDPOINT_EJECTED,
          "endpoint "
              + event.endpoint().url().port()
              + " in "
              + event.endpoint().locality().zone()
              + " ejected by "
              + event.cause()
              + (d == null ? "" : " for " + d.toMillis() + " ms"));
    }

    @Override
    public void onRestored(FailoverEvent.EndpointRestored event) {
      log.add(
          name,
          EventLog.Kind.ENDPOINT_RESTORED,
          "endpoint "
              + event.endpoint().url().port()
              + " in "
              + event.endpoint().locality().zone()
              + " restored ("
              + event.cause()
              + ")");
    }
  }
}
