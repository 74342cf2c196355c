package dev.failover;

import io.micrometer.common.KeyValues;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationConvention;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.observation.transport.RequestReplySenderContext;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.UnknownHostException;
import java.util.Objects;
import okhttp3.Interceptor;
import okhttp3.Request;
import okhttp3.Response;
import org.jspecify.annotations.Nullable;

/**
 * Micrometer {@link Observation}s of calls and their attempts: one {@code failover.call}
 * observation per call, and one {@code failover.attempt} observation per attempt (first attempt,
 * retry, hedge or probe of an evacuated zone) as its child. With Micrometer Tracing these are spans
 * (the attempts are client spans under the call's span), and each attempt's request carries the
 * trace context headers of its own span to the endpoint; with a meter handler they are timers.
 *
 * <pre>{@code
 * ObservationRegistry registry = ...; // with Micrometer Tracing's handlers, a meter handler, ...
 * FailoverClient directory = FailoverClient.builder()
 *     .service("directory")
 *     .home("us-east-1", "us-east-1a")
 *     .endpoint("https://dir-a.internal:8443", "us-east-1", "us-east-1a")
 *     .endpoint("https://dir-b.internal:8443", "us-east-1", "us-east-1b")
 *     .listener(new FailoverObservations(registry))
 *     .build();
 * }</pre>
 *
 * <p>The call's observation starts on the thread that starts the call, so a call made while another
 * observation is current (a server request being handled) is its child; it stops before the caller
 * gets the result, with the call's outcome, or with the exception the caller gets as its error.
 * Each attempt's observation starts when the attempt's request enters OkHttp's interceptor chain
 * (after the application's own interceptors), is current while the request is sent, and stops when
 * the response's headers arrive or the attempt fails. Calls through Retrofit, a Spring {@code
 * RestClient} or {@code newCall} directly are all observed alike. The client's health checks are
 * not observed.
 *
 * <p>Names and key values come from a {@link CallConvention} and an {@link AttemptConvention}: the
 * defaults (the interfaces' default methods), one passed to the constructor, or a {@code
 * GlobalObservationConvention} registered with the registry. Observations the registry's predicates
 * disable are not made (for example Spring Boot's {@code management.observations.enable.failover=
 * false}); the attempts of a call that is not observed are not observed either.
 *
 * <p>A client uses the first listener that is a {@code FailoverObservations}. This class needs only
 * {@code micrometer-observation} on the class path; a client without it needs no Micrometer at all.
 */
// Its API takes Micrometer types on purpose: Micrometer is optional (the module requires it
// statically), so javac's -Xlint:exports warning, that readers of dev.failover do not read
// Micrometer, is expected here and nowhere else.
@SuppressWarnings("exports")
public final class FailoverObservations implements FailoverListener, CallObserver {
  private static final CallConvention DEFAULT_CALL = new CallConvention() {};
  private static final AttemptConvention DEFAULT_ATTEMPT = new AttemptConvention() {};

  private final ObservationRegistry registry;
  private final @Nullable CallConvention callConvention;
  private final @Nullable AttemptConvention attemptConvention;
  private final Interceptor interceptor = this::intercept;

  /**
   * Observes calls with the default conventions (or global ones registered with the registry).
   *
   * @param registry the registry
   */
  public FailoverObservations(ObservationRegistry registry) {
    this(registry, null, null);
  }

  /**
   * Observes calls with the given conventions.
   *
   * @param registry the registry
   * @param callConvention the convention of call observations, or null for the registry's global
   *     one or the default
   * @param attemptConvention the convention of attempt observations, or null for the registry's
   *     global one or the default
   */
  public FailoverObservations(
      ObservationRegistry registry,
      @Nullable CallConvention callConvention,
      @Nullable AttemptConvention attemptConvention) {
    this.registry = Objects.requireNonNull(registry, "registry");
    this.callConvention = callConvention;
    this.attemptConvention = attemptConvention;
  }

  /**
   * Starts the call's observation. Called by the client, not by applications.
   *
   * @param service the client's service name (the observations' {@code client.name})
   * @param request the caller's request
   * @return the observed call, or null when the observation is disabled
   */
  @Override
  public @Nullable Object callStarted(String service, Request request) {
    CallContext context = new CallContext(service, request);
    Observation observation =
        Observation.createNotStarted(callConvention, DEFAULT_CALL, () -> context, registry);
    if (observation.isNoop()) {
      return null;
    }
    return new ObservedCall(observation.start(), context);
  }

  /**
   * Stops the call's observation. Called by the client, not by applications.
   *
   * @param context what {@link #callStarted} returned
   * @param event the call's summary
   * @param failure the exception the caller gets, or null
   */
  @Override
  public void callFinished(
      @Nullable Object context, FailoverEvent.CallFinished event, @Nullable Throwable failure) {
    if (context instanceof ObservedCall call) {
      call.context.result = event;
      if (failure != null) {
        call.observation.error(failure);
      }
      call.observation.stop();
    }
  }

  /**
   * Returns the interceptor that observes each attempt. Called by the client, not by applications.
   *
   * @return the interceptor
   */
  @Override
  public Interceptor attemptInterceptor() {
    return interceptor;
  }

  private static final org.slf4j.Logger log =
      org.slf4j.LoggerFactory.getLogger(FailoverObservations.class);

  private Response intercept(Interceptor.Chain chain) throws IOException {
    Request request = chain.request();
    Request tagged = request;
    dev.failover.AttemptContext attempt = request.tag(dev.failover.AttemptContext.class);
    if (attempt == null && ClientCore.sameOrigin(request.url(), chain.call().request().url())) {
      // Rebuilt without its tags by an application interceptor: the attempt's own request has them
      // (a health probe's has none; a request of the application's to another origin is not the
      // attempt).
      tagged = chain.call().request();
      attempt = tagged.tag(dev.failover.AttemptContext.class);
    }
    if (attempt == null
        || !(attempt.callContext() instanceof ObservedCall call)
        // A request of the application's own to another origin (an interceptor that fetches a
        // token through the chain, with the attempt's tags) is not the attempt: no span, and no
        // trace headers for a host that is not the endpoint.
        || !ClientCore.sameOrigin(request.url(), attempt.endpoint().url())) {
      return chain.proceed(request); // a health check, or a call that is not observed
    }
    AttemptContext context = new AttemptContext(call.context, attempt, request);
    Observation observation =
        Observation.createNotStarted(attemptConvention, DEFAULT_ATTEMPT, () -> context, registry)
            .parentObservation(call.observation);
    try {
      observation.start(); // the tracing handler adds the span's headers to the carrier here
    } catch (RuntimeException | Error e) {
      // A handler of the application's threw: the attempt goes out unobserved rather than fail
      // (OkHttp would cancel it, and a cancelled attempt is never retried). The handlers that
      // started are stopped.
      handlerThrew("starting", e);
      try {
        observation.stop();
      } catch (RuntimeException | Error stopFailed) {
        handlerThrew("stopping", stopFailed);
      }
      return chain.proceed(request);
    }
    Observation.Scope scope = null;
    try {
      Request.Builder carrier = context.getCarrier();
      Request traced = carrier == null ? request : carrier.build();
      try {
        scope = observation.openScope(); // current while the request is sent
      } catch (RuntimeException | Error e) {
        handlerThrew("opening the scope of", e); // sent all the same, outside its scope
      }
      Response response = chain.proceed(traced);
      context.setResponse(response);
      return response;
    } catch (IOException | RuntimeException | Error e) {
      // The SDK ends an attempt at its timeout by cancelling its call: that is a timeout.
      ClientCore.AttemptTag tag = tagged.tag(ClientCore.AttemptTag.KEY);
      context.timedOut = tag != null && tag.timedOut;
      context.cancelled = !context.timedOut && chain.call().isCanceled();
      observation.error(e);
      throw e;
    } finally {
      // Each guarded: the observation is stopped whatever its scope or handlers throw, and a
      // handler that throws on stop loses no response (its connection would leak).
      try {
        if (scope != null) {
          scope.close();
        }
      } catch (RuntimeException | Error e) {
        handlerThrew("closing the scope of", e);
      }
      try {
        observation.stop();
      } catch (RuntimeException | Error e) {
        handlerThrew("stopping", e);
      }
    }
  }

  /** A handler's failure is said at WARN at most once a minute (every attempt may throw). */
  private final OnceAMinute warnings = new OnceAMinute();

  /**
   * Says that an observation handler threw while the SDK was {@code doing} an attempt's
   * observation: the attempt goes on. At WARN at most once a minute (a handler that throws does so
   * for every attempt), at DEBUG the other times.
   */
  private void handlerThrew(String doing, Throwable e) {
    if (warnings.due()) {
      log.warn(
          "Failover: {} an attempt's observation threw; the attempt goes on (said at most once a"
              + " minute)",
          doing,
          e);
    } else {
      log.debug("Failover: {} an attempt's observation threw; the attempt goes on", doing, e);
    }
  }

  /** What {@link #callStarted} hands the client, and the client hands back with each attempt. */
  private record ObservedCall(Observation observation, CallContext context) {}

  /**
   * The context of a call's observation.
   *
   * <p>Not thread-safe on its own: the SDK sets its result before the observation stops.
   */
  public static final class CallContext extends Observation.Context {
    private final String clientName;
    private final Request request;
    private volatile FailoverEvent.@Nullable CallFinished result;

    CallContext(String service, Request request) {
      this.request = request;
      this.clientName = service;
    }

    /**
     * Returns the client's name: its service name, as given to its builder (the {@code client.name}
     * of its meters).
     *
     * @return for example {@code directory}
     */
    public String getClientName() {
      return clientName;
    }

    /**
     * Returns the caller's request, before any attempt rewrote it onto an endpoint.
     *
     * @return the request, such as {@code GET http://directory/users/42}
     */
    public Request getRequest() {
      return request;
    }

    /**
     * Returns how the call ended, once it has.
     *
     * @return the call's summary, or null while it runs
     */
    public FailoverEvent.@Nullable CallFinished getResult() {
      return result;
    }
  }

  /**
   * The context of an attempt's observation: a sender context whose carrier is the attempt's {@link
   * Request.Builder}, so that a tracing handler adds its headers to the request sent.
   */
  public static final class AttemptContext
      extends RequestReplySenderContext<Request.Builder, Response> {
    private final CallContext call;
    private final Attempt.Kind kind;
    private final int number;
    private final Endpoint endpoint;
    private final Request request;
    private volatile boolean cancelled;
    private volatile boolean timedOut;

    AttemptContext(CallContext call, dev.failover.AttemptContext attempt, Request request) {
      super(
          (carrier, key, value) -> {
            if (carrier != null) {
              try {
                carrier.header(key, value);
              } catch (IllegalArgumentException e) {
                // A value OkHttp refuses in a header (not ASCII: a baggage field copied from an
                // inbound request): that header is not sent, and the attempt goes on.
                log.debug("Failover: trace header {} not sent: {}", key, e.getMessage());
              }
            }
          });
      this.call = call;
      this.kind = attempt.kind();
      this.number = attempt.number();
      this.endpoint = attempt.endpoint();
      this.request = request;
      setCarrier(request.newBuilder());
      setRemoteServiceName(call.getClientName());
      setRemoteServiceAddress(endpoint.address());
    }

    /**
     * Returns the context of the attempt's call.
     *
     * @return the call's context
     */
    public CallContext getCall() {
      return call;
    }

    /**
     * Returns why the attempt was sent.
     *
     * @return first attempt, retry, hedge or probe
     */
    public Attempt.Kind getAttemptKind() {
      return kind;
    }

    /**
     * Returns the attempt's number in its call.
     *
     * @return from 1
     */
    public int getAttemptNumber() {
      return number;
    }

    /**
     * Returns the endpoint the attempt goes to.
     *
     * @return the endpoint
     */
    public Endpoint getEndpoint() {
      return endpoint;
    }

    /**
     * Returns the attempt's request, rewritten onto the endpoint, as it entered the observation
     * (without the trace headers).
     *
     * @return the request
     */
    public Request getRequest() {
      return request;
    }

    /**
     * Whether the attempt failed because it was cancelled: by the caller, by the deadline, or
     * because another attempt of its call won.
     *
     * @return true if cancelled
     */
    public boolean isCancelled() {
      return cancelled;
    }
  }

  /**
   * Names and key values of call observations. The default methods are the default convention;
   * override some to change them, calling the default for the rest:
   *
   * <pre>{@code
   * CallConvention withTenant = new CallConvention() {
   *   @Override
   *   public KeyValues getLowCardinalityKeyValues(CallContext context) {
   *     return CallConvention.super.getLowCardinalityKeyValues(context)
   *         .and("tenant", tenantOf(context.getRequest()));
   *   }
   * };
   * }</pre>
   *
   * <p>Name {@code failover.call}; contextual (span) name {@code failover <method>}, lowercase
   * ({@code failover http} for a method other than the nine of RFC 9110 and PATCH). Low-cardinality
   * keys: {@code client.name}, {@code method} (as the request has it, or {@code _OTHER} for a
   * method other than those nine, as OpenTelemetry has it), {@code outcome} (the class of the
   * returned status, {@code success}, {@code client_error}, ..., or the failure reason, {@code
   * retries_exhausted}, {@code deadline_exceeded}, ...), {@code status} (or {@code none}).
   * High-cardinality keys: {@code uri} (the request's path, without query), {@code attempts},
   * {@code retries}, {@code hedges}, {@code stale}.
   */
  public interface CallConvention extends ObservationConvention<CallContext> {
    @Override
    default boolean supportsContext(Observation.Context context) {
      return context instanceof CallContext;
    }

    @Override
    default String getName() {
      return "failover.call";
    }

    @Override
    default String getContextualName(CallContext context) {
      return "failover " + TagValues.spanMethod(context.getRequest().method());
    }

    @Override
    default KeyValues getLowCardinalityKeyValues(CallContext context) {
      FailoverEvent.CallFinished result = context.getResult();
      return KeyValues.of(
          TagValues.CLIENT_NAME,
          context.getClientName(),
          "method",
          TagValues.method(context.getRequest().method()),
          "outcome",
          result == null ? "unknown" : TagValues.callOutcome(result),
          "status",
          result == null ? TagValues.NONE : TagValues.status(result.status()));
    }

    @Override
    default KeyValues getHighCardinalityKeyValues(CallContext context) {
      KeyValues values = KeyValues.of("uri", context.getRequest().url().encodedPath());
      FailoverEvent.CallFinished result = context.getResult();
      if (result == null) {
        return values;
      }
      return values.and(
          "attempts",
          Integer.toString(result.attempts()),
          "retries",
          Integer.toString(result.retries()),
          "hedges",
          Integer.toString(result.hedges()),
          "stale",
          Boolean.toString(result.stale()));
    }
  }

  /**
   * Names and key values of attempt observations. The default methods are the default convention;
   * override some to change them, calling the default for the rest (see {@link CallConvention}).
   *
   * <p>Name {@code failover.attempt}; contextual (span) name {@code failover <method> <kind>},
   * lowercase, for example {@code failover get retry}. Low-cardinality keys: {@code client.name},
   * {@code method}, {@code attempt.kind} ({@code first}, {@code retry}, {@code hedge}, {@code
   * probe}), {@code outcome} (the class of the response's status, {@code success}, {@code
   * server_error}, ..., or when no response came {@code timeout}, {@code connect_failed}, {@code
   * cancelled}, {@code io_error}), {@code status} (or {@code none}), {@code region}, {@code zone}.
   * High-cardinality keys: {@code endpoint} (its base URL), {@code uri} (the path sent, without
   * query), {@code attempt.number}.
   */
  public interface AttemptConvention extends ObservationConvention<AttemptContext> {
    @Override
    default boolean supportsContext(Observation.Context context) {
      return context instanceof AttemptContext;
    }

    @Override
    default String getName() {
      return "failover.attempt";
    }

    @Override
    default String getContextualName(AttemptContext context) {
      return "failover "
          + TagValues.spanMethod(context.getRequest().method())
          + " "
          + TagValues.lower(context.getAttemptKind());
    }

    @Override
    default KeyValues getLowCardinalityKeyValues(AttemptContext context) {
      Response response = context.getResponse();
      Locality locality = context.getEndpoint().locality();
      return KeyValues.of(
          TagValues.CLIENT_NAME,
          context.getCall().getClientName(),
          "method",
          TagValues.method(context.getRequest().method()),
          "attempt.kind",
          TagValues.lower(context.getAttemptKind()),
          "outcome",
          outcome(context),
          "status",
          response == null ? TagValues.NONE : TagValues.status(response.code()),
          "region",
          locality.region(),
          "zone",
          locality.zone());
    }

    @Override
    default KeyValues getHighCardinalityKeyValues(AttemptContext context) {
      return KeyValues.of(
          "endpoint",
          context.getEndpoint().address(),
          "uri",
          context.getRequest().url().encodedPath(),
          "attempt.number",
          Integer.toString(context.getAttemptNumber()));
    }

    /**
     * Returns the default {@code outcome} of an attempt.
     *
     * @param context the attempt's context
     * @return the class of the response's status, or what kept a response from coming
     */
    static String outcome(AttemptContext context) {
      Response response = context.getResponse();
      if (response != null) {
        return TagValues.series(response.code());
      }
      if (context.timedOut) {
        return "timeout";
      }
      if (context.isCancelled()) {
        return "cancelled";
      }
      Throwable error = context.getError();
      if (error == null) {
        return "unknown";
      }
      if (error instanceof InterruptedIOException) {
        return "timeout";
      }
      if (error instanceof ConnectException
          || error instanceof NoRouteToHostException
          || error instanceof UnknownHostException) {
        return "connect_failed";
      }
      return "io_error";
    }
  }
}
