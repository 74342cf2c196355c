package dev.failover.benchmarks;

import java.io.IOException;
import okhttp3.Interceptor;
import okhttp3.Response;

/**
 * An OkHttp application interceptor on a client's transport that counts every attempt of a call
 * (retries, hedges and probes included; health checks left out) and, unless the client reports
 * first attempts itself, takes the first attempt seen for a call as its first attempt.
 */
final class AttemptTap implements Interceptor {
  private final LoadClient client;
  private final boolean marksFirst;

  AttemptTap(LoadClient client, boolean marksFirst) {
    this.client = client;
    this.marksFirst = marksFirst;
  }

  @Override
  public Response intercept(Chain chain) throws IOException {
    int seq = LoadClient.seqOf(chain.request().url().encodedPath());
    if (seq >= 0) {
      client.recorder.attempt(
          seq, client.endpointOf(chain.request().url().port()), System.nanoTime(), marksFirst);
    }
    return chain.proceed(chain.request());
  }
}
