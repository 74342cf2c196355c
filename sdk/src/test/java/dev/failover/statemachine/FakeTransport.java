package dev.failover.statemachine;

import dev.failover.ReachedSdk;
import dev.failover.Ticker;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import okhttp3.Call;
import okhttp3.EventListener;
import okhttp3.Headers;
import okhttp3.Interceptor;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Protocol;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.ResponseBody;
import okio.Buffer;
import okio.BufferedSource;
import okio.ForwardingSource;
import okio.Okio;

/**
 * A transport the test answers by hand. Its {@link #okHttpClient()} has an application interceptor
 * that never touches the network: every attempt the client sends becomes an {@link Exchange},
 * queued for the test ({@link #next()}), and holds its OkHttp thread until the test answers it with
 * a status, an {@code IOException}, or until OkHttp cancels it (the client cancels an attempt when
 * its call ends). Every wait is bounded, so a defect fails a test instead of hanging it.
 */
final class FakeTransport {
  private final Ticker ticker;
  private volatile Predicate<Request> heldInClient = r -> false;
  private final BlockingQueue<Exchange> arrivals = new LinkedBlockingQueue<>();
  private final List<Exchange> all = new CopyOnWriteArrayList<>();
  private final Map<Call, Exchange> byCall = new ConcurrentHashMap<>();
  private final AtomicInteger numbers = new AtomicInteger();

  /**
   * A transport that marks each attempt as having reached the SDK's interceptor at {@code ticker}'s
   * time when it arrives, as if it ran after it, on the network: an attempt is judged by its
   * endpoint from then on. An attempt OkHttp cancelled before it got here is not marked.
   */
  FakeTransport(Ticker ticker) {
    this.ticker = ticker;
  }

  /**
   * Makes the attempts that {@code which} matches look held in the client: they arrive here as
   * usual but are not marked as having reached the SDK, as if they still ran the application's
   * interceptors or waited for a slot of the dispatcher.
   */
  void holdInClient(Predicate<Request> which) {
    this.heldInClient = which;
  }

  /** The client to pass to {@code FailoverClient.Builder.okHttpClient}. */
  OkHttpClient okHttpClient() {
    return new OkHttpClient.Builder()
        .addInterceptor(this::intercept)
        .eventListenerFactory(call -> new Hooks())
        .build();
  }

  /** The next attempt to arrive, waiting up to {@link BoundedWait#WAIT}; fails if none does. */
  Exchange next() {
    try {
      Exchange e = arrivals.poll(BoundedWait.WAIT.toMillis(), TimeUnit.MILLISECONDS);
      if (e == null) {
        throw new AssertionError(
            "no attempt arrived within "
                + BoundedWait.WAIT
                + "; "
                + all.size()
                + " arrived in all");
      }
      return e;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }

  /** Every attempt that arrived so far, in order of arrival. */
  List<Exchange> exchanges() {
    return List.copyOf(all);
  }

  /** Attempts that arrived but were not yet taken with {@link #next()}. */
  int untaken() {
    return arrivals.size();
  }

  private Response intercept(Interceptor.Chain chain) throws IOException {
    if (!chain.call().isCanceled() && !heldInClient.test(chain.request())) {
      ReachedSdk.mark(chain.request(), ticker.nanos());
    }
    Exchange e = new Exchange(numbers.incrementAndGet(), chain.request(), chain.call());
    byCall.put(chain.call(), e);
    all.add(e);
    arrivals.add(e);
    if (chain.call().isCanceled()) {
      e.onCancelled(); // cancelled before it got here: the hook below may have fired already
    }
    Reply reply;
    try {
      reply = e.reply.get(BoundedWait.WAIT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException t) {
      throw new InterruptedIOException("the test never answered attempt " + e);
    } catch (InterruptedException t) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while holding attempt " + e);
    } catch (ExecutionException t) {
      throw new IOException(t.getCause());
    }
    if (reply.failure != null) {
      throw reply.failure;
    }
    ReachedSdk.answeredOnNetwork(chain.request()); // a response of the (fake) network
    TrackedBody body = new TrackedBody(e + " " + reply.code, e.closing, e.closeResume);
    e.body = body;
    Response.Builder response =
        new Response.Builder()
            .request(chain.request())
            .protocol(Protocol.HTTP_1_1)
            .code(reply.code)
            .message("scripted " + reply.code)
            .headers(reply.headers);
    if (!ReachedSdk.isAttempt(chain.request())) {
      // A health probe: the answer of the (fake) network, not one the client made up, which a
      // probe's judgement leaves out.
      response.networkResponse(
          new Response.Builder()
              .request(chain.request())
              .protocol(Protocol.HTTP_1_1)
              .code(reply.code)
              .message("scripted " + reply.code)
              .headers(reply.headers)
              .build());
    }
    return response.body(body).build();
  }

  /** OkHttp's own signals about an attempt: its cancellation, and the end before the callback. */
  private final class Hooks extends EventListener {
    @Override
    public void canceled(Call call) {
      Exchange e = byCall.get(call);
      if (e != null) {
        e.onCancelled();
      }
    }

    @Override
    public void callEnd(Call call) {
      Exchange e = byCall.get(call);
      if (e != null) {
        e.pauseIfAsked();
      }
    }
  }

  /** What an attempt is answered with. */
  private record Reply(int code, Headers headers, IOException failure) {}

  /** One attempt, as the fake server sees it. */
  static final class Exchange {
    final int number;
    final Request request;
    final Call call;
    private final CompletableFuture<Reply> reply = new CompletableFuture<>();
    private final AtomicBoolean cancelled = new AtomicBoolean();
    private volatile TrackedBody body;
    private volatile CountDownLatch paused;
    private volatile CountDownLatch resume;
    private volatile CountDownLatch closing;
    private volatile CountDownLatch closeResume;

    Exchange(int number, Request request, Call call) {
      this.number = number;
      this.request = request;
      this.call = call;
    }

    /** The endpoint's host, such as {@code a1.sm.test}. */
    String host() {
      return request.url().host();
    }

    String method() {
      return request.method();
    }

    String path() {
      return request.url().encodedPath();
    }

    /**
     * Marks an attempt that arrived {@linkplain #holdInClient held in the client} as having reached
     * the SDK's interceptor now, as when the client lets it go at last.
     */
    void reachSdk(Ticker ticker) {
      ReachedSdk.mark(request, ticker.nanos());
    }

    /**
     * Marks the attempt as put on the network now, as when OkHttp has its connection ready: the
     * time since it reached the SDK went to finding or opening one.
     */
    void sendOnNetwork(Ticker ticker) {
      try {
        ReachedSdk.sentOnNetwork(request, ticker.nanos());
      } catch (IOException e) {
        throw new AssertionError("the attempt was abandoned before it was sent: " + this, e);
      }
    }

    /** Answers with a response of this status. */
    void respond(int code, String... headerNamesAndValues) {
      answer(new Reply(code, Headers.of(headerNamesAndValues), null));
    }

    /** Answers with this failure, thrown from the interceptor. */
    void fail(IOException failure) {
      answer(new Reply(0, Headers.of(), failure));
    }

    /**
     * Answers with a response of this status, but holds OkHttp's thread after OkHttp has accepted
     * the response (its last check for cancellation) and before it hands the response to the
     * client, until {@link #resume()}: so that the call can end in between.
     */
    void respondAndHoldDelivery(int code) {
      paused = new CountDownLatch(1);
      resume = new CountDownLatch(1);
      respond(code);
    }

    /**
     * Answers with a response of this status whose body's {@code close()} holds the thread that
     * closes it until {@link #resumeClose()}: the client closes a retried response on the thread
     * that decided the retry, before it sends the retry, so the call can end in between.
     */
    void respondAndHoldClose(int code) {
      closing = new CountDownLatch(1);
      closeResume = new CountDownLatch(1);
      respond(code);
    }

    /** Waits until a thread is held closing the body made by {@link #respondAndHoldClose}. */
    void awaitCloseHeld() {
      await(closing, "the client to close the body of attempt " + this);
    }

    /** Lets the close held by {@link #respondAndHoldClose} go on. */
    void resumeClose() {
      closeResume.countDown();
    }

    /** Waits until OkHttp holds the response made by {@link #respondAndHoldDelivery}. */
    void awaitDeliveryHeld() {
      await(paused, "OkHttp to reach the end of attempt " + this);
    }

    /** Lets OkHttp deliver the response held by {@link #respondAndHoldDelivery}. */
    void resume() {
      resume.countDown();
    }

    private void answer(Reply r) {
      if (!reply.complete(r)) {
        throw new AssertionError("attempt " + this + " was already answered or cancelled");
      }
    }

    void onCancelled() {
      cancelled.set(true);
      reply.complete(new Reply(0, Headers.of(), new IOException("Canceled")));
    }

    private void pauseIfAsked() {
      CountDownLatch p = paused;
      if (p != null) {
        p.countDown();
        await(resume, "the test to resume attempt " + this);
      }
    }

    /** Whether OkHttp cancelled this attempt (the client cancelled it). */
    boolean cancelled() {
      return cancelled.get();
    }

    /** The body of the response it was answered with, or null. */
    TrackedBody body() {
      return body;
    }

    @Override
    public String toString() {
      return "#" + number + " " + request.method() + " " + request.url();
    }

    private static void await(CountDownLatch latch, String what) {
      try {
        if (!latch.await(BoundedWait.WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
          throw new AssertionError("waited " + BoundedWait.WAIT + " for " + what);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted waiting for " + what, e);
      }
    }
  }

  /** A small response body that remembers whether it was closed. */
  static final class TrackedBody extends ResponseBody {
    private final AtomicBoolean closed = new AtomicBoolean();
    private final long length;
    private final BufferedSource source;

    /** A body whose close counts {@code closing} down, then waits for {@code resume}, if given. */
    TrackedBody(String text, CountDownLatch closing, CountDownLatch resume) {
      Buffer buffer = new Buffer().writeUtf8(text);
      this.length = buffer.size();
      this.source =
          Okio.buffer(
              new ForwardingSource(buffer) {
                @Override
                public void close() throws IOException {
                  if (closing != null && !closed.get()) {
                    closing.countDown();
                    Exchange.await(resume, "the test to resume closing " + text);
                  }
                  closed.set(true);
                  super.close();
                }
              });
    }

    boolean closed() {
      return closed.get();
    }

    @Override
    public MediaType contentType() {
      return MediaType.get("text/plain");
    }

    @Override
    public long contentLength() {
      return length;
    }

    @Override
    public BufferedSource source() {
      return source;
    }
  }
}
