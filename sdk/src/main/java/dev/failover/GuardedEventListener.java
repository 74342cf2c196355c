package dev.failover;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Proxy;
import java.util.List;
import okhttp3.Call;
import okhttp3.Connection;
import okhttp3.Dispatcher;
import okhttp3.EventListener;
import okhttp3.Handshake;
import okhttp3.HttpUrl;
import okhttp3.Protocol;
import okhttp3.Request;
import okhttp3.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The application's {@code EventListener} on an attempt's or a probe's call, with what it throws
 * from {@code dispatcherQueueStart} and {@code dispatcherQueueEnd} logged and skipped. OkHttp's
 * dispatcher tells {@code dispatcherQueueEnd} of queued calls, other clients' and other calls'
 * included, as it promotes them, in a loop that runs them after: one listener that throws there
 * ended the loop, and the calls promoted after it stayed counted as running, never run (each one a
 * slot of {@code maxRequests} lost for good, every call at last waiting for its deadline). Every
 * other method passes straight on, exceptions included, as OkHttp handles those itself.
 */
final class GuardedEventListener extends EventListener {
  private static final Logger log = LoggerFactory.getLogger(GuardedEventListener.class);

  private final EventListener delegate;

  private GuardedEventListener(EventListener delegate) {
    this.delegate = delegate;
  }

  /** {@code listener}, guarded; {@link EventListener#NONE} as it is. */
  static EventListener of(EventListener listener) {
    return listener == EventListener.NONE || listener instanceof GuardedEventListener
        ? listener
        : new GuardedEventListener(listener);
  }

  /** A factory whose listeners are guarded. */
  static EventListener.Factory of(EventListener.Factory factory) {
    return call -> of(factory.create(call));
  }

  /** Failures are said at WARN at most once a minute (every call may throw), DEBUG between. */
  private static final OnceAMinute warnings = new OnceAMinute();

  private void thrown(String method, Throwable e) {
    if (e instanceof VirtualMachineError vm) {
      throw vm;
    }
    if (warnings.due()) {
      log.warn(
          "Failover: the application's EventListener {} threw from {}; skipped (OkHttp's"
              + " dispatcher would stop running the calls it promotes; said at most once a minute)",
          delegate.getClass().getName(),
          method,
          e);
    } else {
      log.debug("Failover: an EventListener threw from {}; skipped", method, e);
    }
  }

  @Override
  public void callStart(Call call) {
    delegate.callStart(call);
  }

  @Override
  public void dispatcherQueueStart(Call call, Dispatcher dispatcher) {
    try {
      delegate.dispatcherQueueStart(call, dispatcher);
    } catch (RuntimeException | Error e) {
      thrown("dispatcherQueueStart", e);
    }
  }

  @Override
  public void dispatcherQueueEnd(Call call, Dispatcher dispatcher) {
    try {
      delegate.dispatcherQueueEnd(call, dispatcher);
    } catch (RuntimeException | Error e) {
      thrown("dispatcherQueueEnd", e);
    }
  }

  @Override
  public void proxySelectStart(Call call, HttpUrl url) {
    delegate.proxySelectStart(call, url);
  }

  @Override
  public void proxySelectEnd(Call call, HttpUrl url, List<Proxy> proxies) {
    delegate.proxySelectEnd(call, url, proxies);
  }

  @Override
  public void dnsStart(Call call, java.lang.String a1) {
    delegate.dnsStart(call, a1);
  }

  @Override
  public void dnsEnd(Call call, java.lang.String a1, List<InetAddress> inetAddressList) {
    delegate.dnsEnd(call, a1, inetAddressList);
  }

  @Override
  public void connectStart(Call call, InetSocketAddress inetSocketAddress, Proxy proxy) {
    delegate.connectStart(call, inetSocketAddress, proxy);
  }

  @Override
  public void secureConnectStart(Call call) {
    delegate.secureConnectStart(call);
  }

  @Override
  public void secureConnectEnd(Call call, Handshake handshake) {
    delegate.secureConnectEnd(call, handshake);
  }

  @Override
  public void connectEnd(
      Call call, InetSocketAddress inetSocketAddress, Proxy proxy, Protocol protocol) {
    delegate.connectEnd(call, inetSocketAddress, proxy, protocol);
  }

  @Override
  public void connectFailed(
      Call call,
      InetSocketAddress inetSocketAddress,
      Proxy proxy,
      Protocol protocol,
      IOException ioe) {
    delegate.connectFailed(call, inetSocketAddress, proxy, protocol, ioe);
  }

  @Override
  public void connectionAcquired(Call call, Connection connection) {
    delegate.connectionAcquired(call, connection);
  }

  @Override
  public void connectionReleased(Call call, Connection connection) {
    delegate.connectionReleased(call, connection);
  }

  @Override
  public void requestHeadersStart(Call call) {
    delegate.requestHeadersStart(call);
  }

  @Override
  public void requestHeadersEnd(Call call, Request request) {
    delegate.requestHeadersEnd(call, request);
  }

  @Override
  public void requestBodyStart(Call call) {
    delegate.requestBodyStart(call);
  }

  @Override
  public void requestBodyEnd(Call call, long byteCount) {
    delegate.requestBodyEnd(call, byteCount);
  }

  @Override
  public void requestFailed(Call call, IOException ioe) {
    delegate.requestFailed(call, ioe);
  }

  @Override
  public void responseHeadersStart(Call call) {
    delegate.responseHeadersStart(call);
  }

  @Override
  public void responseHeadersEnd(Call call, Response response) {
    delegate.responseHeadersEnd(call, response);
  }

  @Override
  public void responseBodyStart(Call call) {
    delegate.responseBodyStart(call);
  }

  @Override
  public void responseBodyEnd(Call call, long byteCount) {
    delegate.responseBodyEnd(call, byteCount);
  }

  @Override
  public void responseFailed(Call call, IOException ioe) {
    delegate.responseFailed(call, ioe);
  }

  @Override
  public void callEnd(Call call) {
    delegate.callEnd(call);
  }

  @Override
  public void callFailed(Call call, IOException ioe) {
    delegate.callFailed(call, ioe);
  }

  @Override
  public void canceled(Call call) {
    delegate.canceled(call);
  }

  @Override
  public void satisfactionFailure(Call call, Response response) {
    delegate.satisfactionFailure(call, response);
  }

  @Override
  public void cacheHit(Call call, Response response) {
    delegate.cacheHit(call, response);
  }

  @Override
  public void cacheMiss(Call call) {
    delegate.cacheMiss(call);
  }

  @Override
  public void cacheConditionalHit(Call call, Response response) {
    delegate.cacheConditionalHit(call, response);
  }

  @Override
  public void retryDecision(Call call, IOException ioe, boolean retry) {
    delegate.retryDecision(call, ioe, retry);
  }

  @Override
  public void followUpDecision(Call call, Response response, Request request) {
    delegate.followUpDecision(call, response, request);
  }
}
