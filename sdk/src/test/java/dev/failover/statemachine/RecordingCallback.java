package dev.failover.statemachine;

import dev.failover.FailoverException;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import okhttp3.Call;
import okhttp3.Callback;
import okhttp3.Response;

/**
 * A {@link Callback} that counts its invocations, remembers the threads they ran on, closes every
 * response it gets (after noting its status), and lets the test wait (bounded) for the first.
 */
class RecordingCallback implements Callback {
  private final CompletableFuture<Object> first = new CompletableFuture<>();
  private final List<Object> results = new CopyOnWriteArrayList<>();
  private final List<String> threads = new CopyOnWriteArrayList<>();

  @Override
  public void onResponse(Call call, Response response) throws IOException {
    try (response) {
      record(response.code());
    }
  }

  @Override
  public void onFailure(Call call, IOException e) {
    record(e);
  }

  private void record(Object result) {
    threads.add(Thread.currentThread().getName());
    results.add(result);
    first.complete(result);
  }

  /** How many times either method was called. */
  int invocations() {
    return results.size();
  }

  /** Names of the threads the callback ran on. */
  List<String> threads() {
    return List.copyOf(threads);
  }

  /** Waits for the first result: an Integer status or an IOException. */
  Object awaitResult() {
    try {
      return first.get(BoundedWait.WAIT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw new AssertionError("the callback was not called within " + BoundedWait.WAIT, e);
    } catch (ExecutionException e) {
      throw new AssertionError(e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }

  /** Waits for a response; returns its status. */
  int awaitStatus() {
    Object r = awaitResult();
    if (r instanceof Integer code) {
      return code;
    }
    throw new AssertionError("expected a response but the call failed", (Throwable) r);
  }

  /** Waits for a failure; returns it as the FailoverException it must be. */
  FailoverException awaitFailure() {
    Object r = awaitResult();
    if (r instanceof FailoverException e) {
      return e;
    }
    throw new AssertionError("expected a FailoverException but got " + r);
  }

  /** Whether the callback has been called yet (does not wait). */
  boolean called() {
    return first.isDone();
  }
}
