package dev.failover;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import okhttp3.MediaType;
import okhttp3.Protocol;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.ResponseBody;
import org.junit.jupiter.api.Test;

/** The stale store's own life: what a closed client's store keeps. */
class StaleStoreTest {
  private final FakeClock clock = new FakeClock();
  private final Request request =
      new Request.Builder()
          .url("http://directory/api/v1/users/7")
          .header("Authorization", "Bearer carol")
          .build();
  private final StaleStore.Seen seen = new StaleStore.Seen(request, "");

  private Response fresh(String body) {
    return new Response.Builder()
        .request(request)
        .protocol(Protocol.HTTP_1_1)
        .code(200)
        .message("OK")
        .body(ResponseBody.create(body, MediaType.get("application/json")))
        .build();
  }

  /** Offers a response and reads it to its end, as a caller does: that keeps the copy. */
  private static void read(StaleStore store, Request request, StaleStore.Seen seen, Response r)
      throws IOException {
    try (Response offered = store.offer(request, seen, r)) {
      offered.body().string();
    }
  }

  @Test
  void aClosedStoreForgetsEveryCopyAndKeepsNoneReadAfter() throws IOException {
    StaleStore store =
        new StaleStore(StaleCache.of(100, 65_536, java.time.Duration.ofMinutes(5)), clock);
    read(store, request, seen, fresh("{\"me\":\"carol-private\"}"));
    try (Response stale = store.serve(request, seen)) {
      assertThat(stale).isNotNull();
      assertThat(stale.body().string()).isEqualTo("{\"me\":\"carol-private\"}");
    }
    // A response handed out before the close, read to its end after it.
    Response pending = store.offer(request, seen, fresh("{\"me\":\"carol-later\"}"));
    store.close();
    assertThat(store.serve(request, seen)).isNull();
    try (pending) {
      assertThat(pending.body().string()).isEqualTo("{\"me\":\"carol-later\"}");
    }
    assertThat(store.serve(request, seen)).isNull();
    read(store, request, seen, fresh("{\"me\":\"carol-again\"}"));
    assertThat(store.serve(request, seen)).isNull();
  }

  private Response fromNetwork(String body, okhttp3.Headers networkHeaders) {
    Response network =
        new Response.Builder()
            .request(request)
            .protocol(Protocol.HTTP_1_1)
            .code(200)
            .message("OK")
            .headers(networkHeaders)
            .build();
    return fresh(body).newBuilder().networkResponse(network).build();
  }

  /**
   * An HTTP/1 body that ends only where its connection closes (no length, no chunks) is not kept: a
   * connection that broke off ends it early without an error, and the shorter body was kept and
   * served as whole; so was one whose {@code Content-Length} OkHttp cannot read. One with a length
   * is.
   */
  @Test
  void aBodyThatEndsWithItsConnectionIsNotKept() throws IOException {
    StaleStore store =
        new StaleStore(StaleCache.of(100, 65_536, java.time.Duration.ofMinutes(5)), clock);
    read(store, request, seen, fromNetwork("{\"me\":\"car", okhttp3.Headers.of()));
    assertThat(store.serve(request, seen)).isNull();
    // A length OkHttp cannot read: it ignores it, and reads the body to the connection's close.
    read(
        store,
        request,
        seen,
        fromNetwork("{\"me\":\"car", okhttp3.Headers.of("Content-Length", "1,000")));
    assertThat(store.serve(request, seen)).isNull();
    read(
        store,
        request,
        seen,
        fromNetwork("{\"me\":\"carol\"}", okhttp3.Headers.of("Content-Length", "14")));
    try (Response stale = store.serve(request, seen)) {
      assertThat(stale).isNotNull();
    }
  }

  /**
   * A copy's age counts from when its response arrived, not from when the caller finished reading
   * its body: a body read over 4 minutes was served 9 minutes after the server made it, within a
   * 5-minute {@code maxAge}.
   */
  @Test
  void aCopysAgeCountsFromWhenItsResponseArrived() throws IOException {
    StaleStore store =
        new StaleStore(StaleCache.of(100, 65_536, java.time.Duration.ofMinutes(5)), clock);
    try (Response offered = store.offer(request, seen, fresh("{\"me\":\"carol\"}"))) {
      clock.advance(java.time.Duration.ofMinutes(4));
      offered.body().string();
    }
    try (Response stale = store.serve(request, seen)) {
      assertThat(stale).isNotNull();
      assertThat(stale.header("Age")).isEqualTo("240");
    }
    clock.advance(java.time.Duration.ofMinutes(1).plusSeconds(1));
    assertThat(store.serve(request, seen)).isNull();
  }
}
