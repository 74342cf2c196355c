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
}
