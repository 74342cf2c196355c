package dev.failover;

import okhttp3.Request;
import org.jspecify.annotations.Nullable;

/**
 * A listener that is also a {@link CallObserver} whose {@code callStarted} runs {@code
 * whileStarting} (a test advances its fake clock there: a slow tracing handler on a cold JVM), for
 * tests outside this package.
 */
public final class SlowCallObserver implements FailoverListener, CallObserver {
  private final Runnable whileStarting;

  public SlowCallObserver(Runnable whileStarting) {
    this.whileStarting = whileStarting;
  }

  @Override
  public @Nullable Object callStarted(String service, Request request) {
    whileStarting.run();
    return null;
  }

  @Override
  public void callFinished(
      @Nullable Object context, FailoverEvent.CallFinished event, @Nullable Throwable failure) {}
}
