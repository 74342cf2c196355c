package dev.failover;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Set;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * A client whose construction fails after it has started threads stops them before the failure
 * reaches the caller: no thread outlives a client that was never built.
 */
class FailedBuildTest {

  @Test
  void aBuildThatFailsAfterStartingThreadsLeavesNoThreadBehind() throws Exception {
    ScheduledThreadPoolExecutor dead = new ScheduledThreadPoolExecutor(1);
    dead.shutdown();
    assertThat(dead.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    FailoverClient.Builder builder =
        FailoverClient.builder()
            .service("failed-build")
            .home("us-east-1", "us-east-1a")
            .endpoint("http://127.0.0.1:1", "us-east-1", "us-east-1a")
            .scheduler(dead); // rejects the client's first timer, after its timeouts thread started

    assertThatThrownBy(builder::build).isInstanceOf(RejectedExecutionException.class);

    // The failed build joined what it started (bounded): nothing is left to wait for.
    assertThat(threadsOf("failed-build")).isEmpty();
  }

  private static Set<String> threadsOf(String service) {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(Thread::isAlive)
        .map(Thread::getName)
        .filter(n -> n.startsWith("failover-" + service + "-"))
        .collect(Collectors.toSet());
  }
}
