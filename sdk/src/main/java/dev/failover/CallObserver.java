package dev.failover;

import okhttp3.Interceptor;
import okhttp3.Request;
import org.jspecify.annotations.Nullable;

/**
 * Watches calls as they happen, for tracing: the SDK's Micrometer {@code Observation} support
 * implements it. A client uses the first listener passed to {@code FailoverClient.Builder.listener}
 * that also implements this interface.
 *
 * <p>Threads: {@link #callStarted} runs on the thread that starts the call (the caller's, for
 * {@code execute()} and {@code enqueue()}); {@link #callFinished} on the thread that ended the
 * call, or a dispatcher thread when a timer ended it, never on the scheduler's thread; neither ever
 * runs under an SDK lock. An exception thrown by either is logged and ignored.
 */
interface CallObserver {
  /**
   * A call starts: before its first attempt is sent.
   *
   * @param service the client's service name, as given to its builder
   * @param request the caller's request
   * @return the call's context, handed to {@link #callFinished} and carried by every attempt's
   *     {@link AttemptContext}; may be null
   */
  @Nullable Object callStarted(String service, Request request);

  /**
   * The call ended: once, after every event of the call was emitted and before the caller gets the
   * result ({@code execute()} returns, or the callback runs). Only an {@code execute()} whose
   * deadline passes while another thread is still in a listener of the call returns first.
   *
   * @param context what {@link #callStarted} returned
   * @param event the call's summary
   * @param failure the exception the caller gets, or null if it gets a response
   */
  void callFinished(
      @Nullable Object context, FailoverEvent.CallFinished event, @Nullable Throwable failure);

  /**
   * An application interceptor for every attempt, installed after the user's own interceptors; each
   * attempt's request carries an {@link AttemptContext} tag. It also sees the client's health
   * probes, whose requests carry no such tag: pass them through. It runs on the attempt's thread
   * (an OkHttp dispatcher thread), outside SDK locks.
   *
   * @return the interceptor, or null for none
   */
  default @Nullable Interceptor attemptInterceptor() {
    return null;
  }
}
