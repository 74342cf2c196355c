package dev.failover.testkit;

import com.github.tomakehurst.wiremock.core.Options;
import com.github.tomakehurst.wiremock.http.AdminRequestHandler;
import com.github.tomakehurst.wiremock.http.HttpServer;
import com.github.tomakehurst.wiremock.http.StubRequestHandler;
import com.github.tomakehurst.wiremock.jetty11.Jetty11HttpServer;
import com.github.tomakehurst.wiremock.servlet.WireMockHandlerDispatchingServlet;
import java.io.IOException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Delayed;
import java.util.concurrent.Executor;
import java.util.concurrent.FutureTask;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import wiremock.jakarta.servlet.AsyncContext;
import wiremock.jakarta.servlet.DispatcherType;
import wiremock.jakarta.servlet.Filter;
import wiremock.jakarta.servlet.FilterChain;
import wiremock.jakarta.servlet.ServletException;
import wiremock.jakarta.servlet.ServletRequest;
import wiremock.jakarta.servlet.ServletResponse;
import wiremock.jakarta.servlet.http.HttpServletRequest;
import wiremock.jakarta.servlet.http.HttpServletResponse;
import wiremock.jakarta.servlet.http.HttpServletResponseWrapper;
import wiremock.org.eclipse.jetty.io.EndPoint;
import wiremock.org.eclipse.jetty.server.HttpConnection;
import wiremock.org.eclipse.jetty.servlet.FilterHolder;
import wiremock.org.eclipse.jetty.servlet.ServletContextHandler;
import wiremock.org.eclipse.jetty.util.thread.Scheduler;

/**
 * Delays one endpoint's responses without holding a thread while they wait.
 *
 * <p>WireMock's servlet answers a response with a delay asynchronously when its context holds a
 * {@link ScheduledExecutorService} (WireMock's asynchronous response option): it starts the
 * request's asynchronous cycle, returns the Jetty thread to the pool, and schedules the response.
 * WireMock's own option would make a pool of threads that are not daemons and that outlive the
 * server's stop while a delay is pending; this class takes its place in the server's context
 * instead. A delay is a task on the Jetty pool's scheduler (no thread waits for it); when it is
 * due, the response is written on the endpoint's Jetty pool, as an undelayed response is. So any
 * number of requests wait out their delays at once, each its own, and the pool stays free for the
 * requests that are not delayed.
 *
 * <p>It also delays WireMock's 404 for a request that no stub matched, which WireMock itself sends
 * without any delay: {@link FakeEndpoint} asks for that delay with {@link #delayUnmatched(long)}
 * while WireMock handles the request, and a servlet filter holds the 404 back for it.
 *
 * <p>{@link #drop()} ends every response still waiting: its connection is closed, so that it is
 * never answered (the zones' reset, between tests).
 */
final class DelayedResponses extends AbstractExecutorService implements ScheduledExecutorService {

  /** The delay asked for the unmatched request being handled on this thread, if any. */
  private static final ThreadLocal<long @Nullable []> UNMATCHED_DELAY = new ThreadLocal<>();

  private final Scheduler timer;
  private final Executor writers;
  private final Set<Pending> waiting = ConcurrentHashMap.newKeySet();
  private volatile boolean shutdown;

  /**
   * @param timer the Jetty pool's scheduler: a delay is a task on it
   * @param writers the Jetty pool: responses are written on it when due
   */
  DelayedResponses(Scheduler timer, Executor writers) {
    this.timer = timer;
    this.writers = writers;
  }

  /**
   * A WireMock server factory whose servers delay their responses here: WireMock's Jetty server,
   * with this executor and the filter for unmatched requests in its stub context.
   */
  HttpServer server(
      Options options, AdminRequestHandler adminRequestHandler, StubRequestHandler stubs) {
    return new Jetty11HttpServer(options, adminRequestHandler, stubs) {
      @Override
      protected void decorateMockServiceContextAfterConfig(ServletContextHandler context) {
        // Called from the super constructor; javac sets an inner class's outer instance before.
        context.setAttribute(
            WireMockHandlerDispatchingServlet.ASYNCHRONOUS_RESPONSE_EXECUTOR,
            DelayedResponses.this);
        FilterHolder filter = new FilterHolder(new UnmatchedFilter());
        filter.setAsyncSupported(true);
        context.addFilter(filter, "/*", EnumSet.of(DispatcherType.REQUEST));
      }
    };
  }

  /**
   * Asks that WireMock's 404 for the request being handled on this thread, which no stub matched,
   * come {@code millis} late. Called by {@link FakeEndpoint} while WireMock handles the request.
   */
  static void delayUnmatched(long millis) {
    long[] delay = UNMATCHED_DELAY.get();
    if (delay != null) {
      delay[0] = millis;
    }
  }

  /** How many responses wait for their delay now. */
  int waiting() {
    return waiting.size();
  }

  /**
   * Ends every response still waiting for its delay: closes its connection first, so that nothing
   * of it is ever sent, then lets WireMock finish it (its write fails on the closed connection).
   */
  void drop() {
    for (Pending pending : List.copyOf(waiting)) {
      pending.drop();
    }
  }

  // ---- what WireMock's servlet calls ----

  /**
   * Schedules WireMock's response; called on the Jetty thread that handles the request, which
   * returns to the pool at once.
   */
  @Override
  public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
    if (shutdown) {
      throw new RejectedExecutionException("the endpoint is stopping");
    }
    HttpConnection connection = HttpConnection.getCurrentConnection();
    Pending pending =
        new Pending(
            command,
            connection == null ? null : connection.getEndPoint(),
            System.nanoTime() + unit.toNanos(delay));
    waiting.add(pending);
    pending.timerTask = timer.schedule(pending::due, delay, unit);
    return pending;
  }

  @Override
  public void execute(Runnable command) {
    writers.execute(command);
  }

  @Override
  public <V> ScheduledFuture<V> schedule(Callable<V> callable, long delay, TimeUnit unit) {
    throw new UnsupportedOperationException("only delayed responses are scheduled here");
  }

  @Override
  public ScheduledFuture<?> scheduleAtFixedRate(
      Runnable command, long initialDelay, long period, TimeUnit unit) {
    throw new UnsupportedOperationException("only delayed responses are scheduled here");
  }

  @Override
  public ScheduledFuture<?> scheduleWithFixedDelay(
      Runnable command, long initialDelay, long delay, TimeUnit unit) {
    throw new UnsupportedOperationException("only delayed responses are scheduled here");
  }

  /** Takes no more responses; those waiting go with the Jetty pool, which stops them. */
  @Override
  public void shutdown() {
    shutdown = true;
  }

  @Override
  public List<Runnable> shutdownNow() {
    shutdown = true;
    return new ArrayList<>();
  }

  @Override
  public boolean isShutdown() {
    return shutdown;
  }

  @Override
  public boolean isTerminated() {
    return shutdown && waiting.isEmpty();
  }

  @Override
  public boolean awaitTermination(long timeout, TimeUnit unit) {
    return isTerminated();
  }

  /** One response waiting for its delay; runs WireMock's task (which completes the request). */
  private final class Pending extends FutureTask<@Nullable Void> implements ScheduledFuture<Void> {
    private final @Nullable EndPoint endPoint;
    private final long dueNanos;
    private volatile Scheduler.@Nullable Task timerTask;

    Pending(Runnable command, @Nullable EndPoint endPoint, long dueNanos) {
      super(command, null);
      this.endPoint = endPoint;
      this.dueNanos = dueNanos;
    }

    /** On the timer: hands the response to the pool, unless it was dropped. */
    void due() {
      if (waiting.remove(this)) {
        write();
      }
    }

    void drop() {
      if (endPoint == null || !waiting.remove(this)) {
        return; // due already, or its connection is unknown: it is answered
      }
      Scheduler.Task task = timerTask;
      if (task != null) {
        task.cancel();
      }
      endPoint.close();
      write(); // ends the request's asynchronous cycle; nothing reaches the closed connection
    }

    private void write() {
      try {
        writers.execute(this);
      } catch (RejectedExecutionException e) {
        run(); // the pool is stopping, and its connections are closed
      }
    }

    @Override
    public long getDelay(TimeUnit unit) {
      return unit.convert(dueNanos - System.nanoTime(), TimeUnit.NANOSECONDS);
    }

    @Override
    public int compareTo(Delayed other) {
      return Long.compare(getDelay(TimeUnit.NANOSECONDS), other.getDelay(TimeUnit.NANOSECONDS));
    }
  }

  /**
   * Holds back WireMock's 404 for an unmatched request for the delay {@link FakeEndpoint} asked
   * for: the request goes asynchronous, and the 404 (WireMock's report, as without a delay) is sent
   * when due.
   */
  private final class UnmatchedFilter implements Filter {
    @Override
    public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
        throws IOException, ServletException {
      if (!(request instanceof HttpServletRequest http)
          || !(response instanceof HttpServletResponse httpResponse)) {
        chain.doFilter(request, response);
        return;
      }
      long[] delay = {0};
      UNMATCHED_DELAY.set(delay);
      try {
        chain.doFilter(request, new DelayedNotFound(http, httpResponse, delay));
      } finally {
        UNMATCHED_DELAY.remove();
      }
    }
  }

  /** A response whose {@code sendError} waits for the delay asked for the request, if any. */
  private final class DelayedNotFound extends HttpServletResponseWrapper {
    private final HttpServletRequest request;
    private final long[] delay;
    private boolean held; // on the request's thread

    DelayedNotFound(HttpServletRequest request, HttpServletResponse response, long[] delay) {
      super(response);
      this.request = request;
      this.delay = delay;
    }

    @Override
    public void sendError(int status) throws IOException {
      sendError(status, null);
    }

    @Override
    public void sendError(int status, @Nullable String message) throws IOException {
      if (held) {
        return; // sent when due; Jetty's file servlet, which WireMock forwards a GET to, asks twice
      }
      long millis = delay[0];
      if (millis <= 0 || shutdown) {
        super.sendError(status, message);
        return;
      }
      held = true;
      AsyncContext async = request.startAsync();
      HttpServletResponse response = (HttpServletResponse) getResponse();
      Runnable send =
          () -> {
            try {
              response.sendError(status, message);
            } catch (IOException e) {
              // The client has gone.
            } finally {
              async.complete();
            }
          };
      ScheduledFuture<?> unused = schedule(send, millis, TimeUnit.MILLISECONDS);
    }
  }
}
