package dev.failover.spring.boot.autoconfigure;

import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.ok;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.failover.testkit.FakeZones;
import dev.failover.testkit.Mark;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.autoconfigure.task.TaskExecutionAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;
import org.springframework.scheduling.TaskScheduler;
import org.springframework.scheduling.annotation.Async;
import org.springframework.scheduling.annotation.EnableAsync;
import org.springframework.scheduling.concurrent.ThreadPoolTaskScheduler;
import org.springframework.web.client.RestClient;

/**
 * The starter closes the clients it built when the context closes, after their users: among them
 * the task executors and schedulers that run calls, which Spring Boot tells to wait for their tasks
 * ({@code spring.task.execution.shutdown.await-termination}). A call such a task has in flight when
 * the context closes completes, as it does with a plain RestClient. Real WireMock zones, real
 * contexts.
 */
class ShutdownOrderTests {

  @RegisterExtension
  static final FakeZones zones =
      FakeZones.builder().region("us-east-1", "us-east-1a", "us-east-1b").build();

  /** Long enough that the context is closing while the call waits for the response. */
  private static final int SLOW_MILLIS = 3000;

  @BeforeEach
  void stub() {
    zones.stubAll(
        get(urlPathEqualTo("/slow")).willReturn(ok("slow-ok").withFixedDelay(SLOW_MILLIS)));
  }

  private static String slow(RestClient rest) {
    try {
      return rest.get().uri("/slow").retrieve().body(String.class);
    } catch (RuntimeException e) {
      return "FAILED " + e;
    }
  }

  /** Calls the service through the starter's RestClient, on Boot's applicationTaskExecutor. */
  @Configuration(proxyBeanMethods = false)
  @EnableAsync
  @ImportAutoConfiguration({TaskExecutionAutoConfiguration.class, FailoverAutoConfiguration.class})
  static class AsyncApp {
    @Bean
    Worker worker(@Qualifier("directory") RestClient directory) {
      return new Worker(directory);
    }
  }

  static class Worker {
    private final RestClient rest;

    Worker(RestClient rest) {
      this.rest = rest;
    }

    @Async
    public Future<String> slow() {
      return CompletableFuture.completedFuture(ShutdownOrderTests.slow(rest));
    }
  }

  /** The same with a plain RestClient to the first endpoint: what Boot's await-termination does. */
  @Configuration(proxyBeanMethods = false)
  @EnableAsync
  @ImportAutoConfiguration({TaskExecutionAutoConfiguration.class, FailoverAutoConfiguration.class})
  static class PlainAsyncApp {
    @Bean
    Worker worker(Environment environment) {
      return new Worker(
          RestClient.create(
              environment.getRequiredProperty("failover.clients.directory.endpoints[0].url")));
    }
  }

  /** The application's own scheduler, which waits for its tasks when the context closes. */
  @Configuration(proxyBeanMethods = false)
  @ImportAutoConfiguration(FailoverAutoConfiguration.class)
  static class SchedulingApp {
    @Bean
    ThreadPoolTaskScheduler taskScheduler() {
      ThreadPoolTaskScheduler scheduler = new ThreadPoolTaskScheduler();
      scheduler.setWaitForTasksToCompleteOnShutdown(true);
      scheduler.setAwaitTerminationSeconds(30);
      return scheduler;
    }
  }

  private static SpringApplicationBuilder app(Class<?> type) {
    List<String> properties = new ArrayList<>();
    properties.add("failover.home.region=us-east-1");
    properties.add("failover.home.zone=us-east-1a");
    properties.add("failover.defaults.deadline=30s");
    properties.add("failover.defaults.retry.max-attempts=1");
    properties.add("spring.task.execution.shutdown.await-termination=true");
    properties.add("spring.task.execution.shutdown.await-termination-period=30s");
    zones.springProperties("directory").forEach((k, v) -> properties.add(k + "=" + v));
    return new SpringApplicationBuilder(type)
        .web(WebApplicationType.NONE)
        .properties(properties.toArray(String[]::new));
  }

  /** Waits until the zones have received the slow request since {@code mark}: it is in flight. */
  private static void awaitInFlight(Mark mark) {
    await()
        .atMost(Duration.ofSeconds(20))
        .pollInterval(Duration.ofMillis(10))
        .until(
            () ->
                zones.zones().stream()
                        .mapToInt(
                            z -> z.requestCount(mark, getRequestedFor(urlPathEqualTo("/slow"))))
                        .sum()
                    > 0);
  }

  /** Starts the task, closes the context once the call is in flight, returns the task's result. */
  private static String closeWhileInFlight(Class<?> type) throws Exception {
    ConfigurableApplicationContext context = app(type).run();
    Future<String> result;
    try {
      Mark mark = zones.mark();
      result = context.getBean(Worker.class).slow();
      awaitInFlight(mark);
    } finally {
      context.close(); // waits for the executor's tasks
    }
    assertThat(result.isDone()).as("the task ended before close() returned").isTrue();
    return result.get(1, TimeUnit.SECONDS);
  }

  @Test
  void aPlainRestClientCallInFlightOnBootsTaskExecutorCompletesWhenTheContextCloses()
      throws Exception {
    assertThat(closeWhileInFlight(PlainAsyncApp.class)).isEqualTo("slow-ok");
  }

  @Test
  void anAsyncCallInFlightCompletesWhenTheContextCloses() throws Exception {
    assertThat(closeWhileInFlight(AsyncApp.class)).isEqualTo("slow-ok");
  }

  @Test
  void aScheduledCallInFlightCompletesWhenTheContextCloses() throws Exception {
    ConfigurableApplicationContext context = app(SchedulingApp.class).run();
    CompletableFuture<String> result = new CompletableFuture<>();
    try {
      RestClient rest = context.getBean("directoryRestClient", RestClient.class);
      Mark mark = zones.mark();
      context
          .getBean(TaskScheduler.class)
          .schedule(() -> result.complete(slow(rest)), Instant.now());
      awaitInFlight(mark);
    } finally {
      context.close(); // waits for the scheduler's tasks
    }
    assertThat(result.isDone()).as("the task ended before close() returned").isTrue();
    assertThat(result.get(1, TimeUnit.SECONDS)).isEqualTo("slow-ok");
  }
}
