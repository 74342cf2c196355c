package dev.failover.testkit;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okhttp3.ResponseBody;

/** A plain OkHttp client for the testkit's own tests; no retries, so faults surface as they are. */
final class Http implements AutoCloseable {

  /** The outcome of one call: a status, or the exception the client threw. */
  record Outcome(int status, String body, String retryAfter, IOException error, long millis) {
    boolean ok() {
      return status == 200;
    }
  }

  final OkHttpClient client;

  Http(Duration readTimeout) {
    this(Duration.ofSeconds(2), readTimeout);
  }

  Http(Duration connectTimeout, Duration readTimeout) {
    client =
        new OkHttpClient.Builder()
            .connectTimeout(connectTimeout)
            .readTimeout(readTimeout)
            .writeTimeout(Duration.ofSeconds(2))
            .retryOnConnectionFailure(false)
            .build();
  }

  Http() {
    this(Duration.ofSeconds(5));
  }

  private Http(OkHttpClient client) {
    this.client = client;
  }

  Response get(String url) throws IOException {
    return client.newCall(new Request.Builder().url(url).build()).execute();
  }

  /** GETs {@code url} and reads the whole body; never throws. */
  Outcome call(String url) {
    return call(new Request.Builder().url(url).build());
  }

  /**
   * GETs {@code url} with another read timeout, on this client's connection pool: a patient call
   * that leaves a keep-alive connection for an impatient one.
   */
  Outcome call(String url, Duration readTimeout) {
    Http other = new Http(client.newBuilder().readTimeout(readTimeout).build());
    return other.call(url);
  }

  /** GETs {@code url} on a new connection, which the server closes after the response. */
  Outcome callFresh(String url) {
    return call(new Request.Builder().url(url).header("Connection", "close").build());
  }

  Outcome post(String url, String json, String idempotencyKey) {
    return call(
        new Request.Builder()
            .url(url)
            .header("Idempotency-Key", idempotencyKey)
            .post(RequestBody.create(json, MediaType.get("application/json")))
            .build());
  }

  Outcome call(Request request) {
    long start = System.nanoTime();
    try (Response response = client.newCall(request).execute()) {
      ResponseBody body = response.body();
      String text = body.string();
      String retryAfter = response.header("Retry-After", "");
      return new Outcome(response.code(), text, retryAfter, null, elapsed(start));
    } catch (IOException e) {
      return new Outcome(-1, "", "", e, elapsed(start));
    }
  }

  private static long elapsed(long start) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
  }

  @Override
  public void close() {
    client.dispatcher().executorService().shutdown();
    client.connectionPool().evictAll();
  }
}
