package dev.failover;

import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.ok;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static org.assertj.core.api.Assertions.assertThat;

import dev.failover.testkit.FakeZones;
import java.io.IOException;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import okhttp3.Call;
import okhttp3.Callback;
import okhttp3.Request;
import okhttp3.Response;

/**
 * Helpers of the tests of {@link FailoverClient#reset()} and {@link FailoverClient#reconfigure}.
 */
final class SwapTests {
  private SwapTests() {}

  /** {@code /slow} answers in 700 ms: in flight while a test swaps, far inside every timeout. */
  static void stubSlow(FakeZones zones) {
    zones.stubAll(get(urlPathEqualTo("/slow")).willReturn(ok("slow").withFixedDelay(700)));
  }

  static Request request(String path) {
    return new Request.Builder().url("http://directory" + path).build();
  }

  static void ok200(FailoverClient client, String path) throws IOException {
    try (Response r = client.newCall(request(path)).execute()) {
      assertThat(r.code()).isEqualTo(200);
    }
  }

  static FailoverSnapshot.Zone zone(FailoverSnapshot s, String name) {
    return s.zones().stream()
        .filter(z -> z.locality().zone().equals(name))
        .findFirst()
        .orElseThrow();
  }

  static List<String> firstAttemptZones(Zones3.Recorder recorder) {
    return recorder.attempts().stream()
        .filter(a -> a.kind() == Attempt.Kind.FIRST)
        .map(a -> a.endpoint().locality().zone())
        .toList();
  }

  /** Live threads of the client "directory": its cores' and the one closing a replaced core. */
  static Set<Thread> clientThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(Thread::isAlive)
        .filter(t -> t.getName().startsWith("failover-directory-"))
        .collect(Collectors.toSet());
  }

  /**
   * The threads that tell a core of the client "directory" apart: its scheduler and timeouts
   * threads. Dispatcher threads come and go (and OkHttp renames one while it runs an attempt, so a
   * snapshot taken as a call returns may miss it).
   */
  static Set<Thread> coreThreads() {
    return clientThreads().stream()
        .filter(t -> t.getName().contains("-scheduler-") || t.getName().contains("-timeouts-"))
        .collect(Collectors.toSet());
  }

  /**
   * Joins each of {@code oldThreads} and the threads closing a replaced core (real asynchronous
   * ends, bounded); returns those still alive.
   */
  static Set<Thread> stillAliveAfterJoining(Set<Thread> oldThreads) throws InterruptedException {
    oldThreads.addAll(
        clientThreads().stream()
            .filter(t -> t.getName().equals("failover-directory-retire"))
            .collect(Collectors.toSet()));
    for (Thread t : oldThreads) {
      t.join(TimeUnit.SECONDS.toMillis(10));
    }
    return oldThreads.stream().filter(Thread::isAlive).collect(Collectors.toSet());
  }

  static CompletableFuture<Response> enqueue(Call call) {
    CompletableFuture<Response> result = new CompletableFuture<>();
    call.enqueue(
        new Callback() {
          @Override
          public void onResponse(Call c, Response response) {
            result.complete(response);
          }

          @Override
          public void onFailure(Call c, IOException e) {
            result.completeExceptionally(e);
          }
        });
    return result;
  }
}
