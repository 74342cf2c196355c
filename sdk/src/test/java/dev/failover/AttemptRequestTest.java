package dev.failover;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import okhttp3.Headers;
import okhttp3.HttpUrl;
import okhttp3.MediaType;
import okhttp3.Request;
import okhttp3.RequestBody;
import org.junit.jupiter.api.Test;

/**
 * An attempt's request made with the thread's kept builder is the request OkHttp's public way
 * makes, in every part; the kept builder carries nothing of one request into the next; and requests
 * made on several threads at once are each their caller's.
 */
class AttemptRequestTest {

  private final AttemptRequest requests = new AttemptRequest();

  private static final HttpUrl TO = HttpUrl.get("https://10.0.0.7:8443/api/users/42?fields=name");

  private static final RequestBody JSON =
      RequestBody.create("{\"name\":\"Ada\"}", MediaType.get("application/json"));

  private static List<Request> callers() {
    return List.of(
        new Request.Builder().url("http://directory/users/42").build(),
        new Request.Builder()
            .url("http://directory/users")
            .header("Authorization", "Bearer secret-of-user-a")
            .addHeader("Accept", "application/json")
            .addHeader("Accept", "text/plain")
            .post(JSON)
            .tag(String.class, "user-a")
            .build(),
        new Request.Builder().url("http://directory/users/7").put(JSON).tag("untyped").build(),
        new Request.Builder()
            .url("http://directory/users/42")
            .cacheUrlOverride(HttpUrl.get("http://directory/cache-key"))
            .header("Cookie", "session=user-b")
            .build(),
        new Request.Builder().url("http://directory/users/42").method("DELETE", null).build(),
        new Request.Builder().url("http://directory/users/42").delete(JSON).build(),
        new Request.Builder().url("http://directory/users/42").head().build(),
        new Request.Builder().url("http://directory/users/42").patch(JSON).build(),
        new Request.Builder()
            .url("http://directory/users/42")
            .method("QUERY", JSON)
            .tag(Integer.class, 42)
            .build(),
        // Headers made through OkHttp's internals keep what its public builders trim: copied as
        // they are, as the public way copies them.
        new Request.Builder()
            .url("http://directory/users/42")
            .headers(new Headers(new String[] {"X-Raw", " raw\t", "Accept", "a"}))
            .build());
  }

  @Test
  void requestsMadeWithTheKeptBuilderAreWhatOkHttpsPublicWayMakesInEveryPart() {
    // On the class path, where the tests run, OkHttp's members are there and pass the check: the
    // kept builder is the way under test here.
    assertThat(AttemptRequest.fastWay()).isTrue();
    AttemptContext context =
        new AttemptContext(
            "call", Attempt.Kind.RETRY, 3, Endpoint.of("http://127.0.0.1:1", "r", "z"));
    // Every caller after every other, with and without a context: one builder, reused throughout.
    for (Request before : callers()) {
      for (Request caller : callers()) {
        for (AttemptContext c : new AttemptContext[] {null, context}) {
          ClientCore.AttemptTag tag = new ClientCore.AttemptTag(true);
          requests.make(before, TO, ClientCore.AttemptTag.KEY, tag, context);
          Request made = requests.make(caller, TO, ClientCore.AttemptTag.KEY, tag, c);
          Request reference =
              AttemptRequest.publicWay(caller, TO, ClientCore.AttemptTag.KEY, tag, c);
          assertThat(AttemptRequest.sameInEveryPart(made, reference, caller))
              .as("%s after %s: made %s, public way %s", caller, before, made, reference)
              .isTrue();
          assertThat(made.tag(ClientCore.AttemptTag.KEY)).isSameAs(tag);
          assertThat(made.tag(AttemptRequest.CONTEXT_KEY)).isSameAs(c);
          assertThat(made.tag(Object.class)).isEqualTo(caller.tag(Object.class));
          assertThat(made.tag(Integer.class)).isEqualTo(caller.tag(Integer.class));
        }
      }
    }
  }

  @Test
  void nothingOfOneRequestReachesTheNextMadeOnTheSameThread() {
    Request userA = callers().get(1);
    Request plain = callers().get(0);
    ClientCore.AttemptTag tagA = new ClientCore.AttemptTag(false);
    Request madeA = requests.make(userA, TO, ClientCore.AttemptTag.KEY, tagA, null);

    ClientCore.AttemptTag tagB = new ClientCore.AttemptTag(true);
    Request madeB = requests.make(plain, TO, ClientCore.AttemptTag.KEY, tagB, null);

    assertThat(madeB.method()).isEqualTo("GET");
    assertThat(madeB.body()).isNull();
    assertThat(madeB.headers().size()).isZero();
    assertThat(madeB.cacheUrlOverride()).isNull();
    assertThat(madeB.tag(String.class)).isNull();
    assertThat(madeB.tag(ClientCore.AttemptTag.KEY)).isSameAs(tagB);
    // And the first request is whole still: its headers are its own, not the builder's.
    assertThat(madeA.header("Authorization")).isEqualTo("Bearer secret-of-user-a");
    assertThat(madeA.headers("Accept")).containsExactly("application/json", "text/plain");
    assertThat(madeA.body()).isSameAs(JSON);
    assertThat(madeA.tag(String.class)).isEqualTo("user-a");
    assertThat(madeA.tag(ClientCore.AttemptTag.KEY)).isSameAs(tagA);
  }

  @Test
  void aRequestWithManyHeadersLeavesNoBuilderKeptNorDoesAClosedOne() {
    Request.Builder many = new Request.Builder().url("http://directory/users/42");
    for (int i = 0; i < 40; i++) {
      many.addHeader("X-Header-" + i, "value-" + i);
    }
    Request caller = many.build();
    ClientCore.AttemptTag tag = new ClientCore.AttemptTag(true);
    AttemptRequest fresh = new AttemptRequest();
    Request made = fresh.make(caller, TO, ClientCore.AttemptTag.KEY, tag, null);
    assertThat(made.headers()).isEqualTo(caller.headers());
    assertThat(fresh.keptBuilders()).isZero();

    Request plain = callers().get(0);
    fresh.make(plain, TO, ClientCore.AttemptTag.KEY, tag, null);
    assertThat(fresh.keptBuilders()).isOne();
    fresh.close();
    assertThat(fresh.keptBuilders()).isZero();
    // Closed, it still makes requests (with builders it does not keep).
    Request after = fresh.make(callers().get(1), TO, ClientCore.AttemptTag.KEY, tag, null);
    assertThat(after.header("Authorization")).isEqualTo("Bearer secret-of-user-a");
    assertThat(fresh.keptBuilders()).isZero();
  }

  @Test
  void requestsMadeOnSeveralThreadsAtOnceAreEachTheirCallers() throws Exception {
    // More threads than slots: threads share slots, and find them taken.
    int threads = 16;
    int each = 5_000;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<Integer>> done = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        String user = "user-" + t;
        done.add(
            pool.submit(
                () -> {
                  int checked = 0;
                  for (int i = 0; i < each; i++) {
                    Request caller =
                        new Request.Builder()
                            .url("http://directory/users/" + i)
                            .header("Authorization", "Bearer " + user)
                            .tag(String.class, user)
                            .build();
                    ClientCore.AttemptTag tag = new ClientCore.AttemptTag(true);
                    Request made = requests.make(caller, TO, ClientCore.AttemptTag.KEY, tag, null);
                    if (!made.header("Authorization").equals("Bearer " + user)
                        || made.headers().size() != 1
                        || !user.equals(made.tag(String.class))
                        || made.tag(ClientCore.AttemptTag.KEY) != tag) {
                      throw new AssertionError(user + " got " + made + " " + made.headers());
                    }
                    checked++;
                  }
                  return checked;
                }));
      }
      for (Future<Integer> f : done) {
        assertThat(f.get(60, TimeUnit.SECONDS)).isEqualTo(each);
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void aCloseWhileThreadsMakeRequestsLeavesNoBuilderKept() throws Exception {
    // close() may come between a thread's emptying of its builder and the builder's return to its
    // slot: then the thread takes it out again. One thread makes requests while another makes a
    // few (a different number each round) and closes; no round may end with a builder kept.
    // (Bounded: 2,000 rounds, at most 5,063 requests each.)
    Request caller = callers().get(1);
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      for (int round = 0; round < 2_000; round++) {
        AttemptRequest fresh = new AttemptRequest();
        AtomicBoolean closed = new AtomicBoolean();
        CountDownLatch making = new CountDownLatch(1);
        int before = round % 64;
        Future<?> maker =
            pool.submit(
                () -> {
                  try {
                    for (int made = 0; !closed.get() && made < 5_000; made++) {
                      make(fresh, caller);
                      making.countDown();
                    }
                  } finally {
                    making.countDown(); // a make() that threw does not hold the closer back
                  }
                });
        Future<?> closer =
            pool.submit(
                () -> {
                  making.await(60, TimeUnit.SECONDS);
                  for (int made = 0; made < before; made++) {
                    make(fresh, caller);
                  }
                  fresh.close();
                  closed.set(true);
                  return null;
                });
        closer.get(60, TimeUnit.SECONDS);
        maker.get(60, TimeUnit.SECONDS);
        assertThat(fresh.keptBuilders())
            .as("builders kept after close(), round %d", round)
            .isZero();
      }
    } finally {
      pool.shutdownNow();
    }
  }

  private static void make(AttemptRequest requests, Request caller) {
    ClientCore.AttemptTag tag = new ClientCore.AttemptTag(true);
    Request made = requests.make(caller, TO, ClientCore.AttemptTag.KEY, tag, null);
    if (made.tag(ClientCore.AttemptTag.KEY) != tag) {
      throw new AssertionError("another attempt's request: " + made);
    }
  }

  @Test
  void theStartUpCheckPassesForThisOkHttp() {
    assertThat(AttemptRequest.checked()).isTrue();
  }
}
