package dev.failover.benchmarks;

import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.cloud.client.DefaultServiceInstance;
import org.springframework.cloud.client.ServiceInstance;
import org.springframework.cloud.client.loadbalancer.LoadBalanced;
import org.springframework.cloud.loadbalancer.annotation.LoadBalancerClient;
import org.springframework.cloud.loadbalancer.config.BlockingLoadBalancerClientAutoConfiguration;
import org.springframework.cloud.loadbalancer.core.ServiceInstanceListSupplier;
import org.springframework.cloud.loadbalancer.support.ServiceInstanceListSuppliers;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.AnnotationConfigApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.MapPropertySource;
import org.springframework.http.HttpRequest;
import org.springframework.http.ResponseEntity;
import org.springframework.http.client.ClientHttpRequestExecution;
import org.springframework.http.client.ClientHttpRequestInterceptor;
import org.springframework.http.client.ClientHttpResponse;
import org.springframework.http.client.SimpleClientHttpRequestFactory;
import org.springframework.web.client.RestClient;

/**
 * Spring Cloud LoadBalancer set up as its reference docs show for several zones and retries,
 * without a Spring Boot application: a plain {@link AnnotationConfigApplicationContext} imports
 * Spring Cloud's own auto-configurations ({@code LoadBalancerAutoConfiguration} of
 * spring-cloud-loadbalancer, {@link BlockingLoadBalancerClientAutoConfiguration}, and
 * spring-cloud-commons' {@code LoadBalancerAutoConfiguration}), so the {@code @LoadBalanced} {@link
 * RestClient.Builder} gets the real {@code RetryLoadBalancerInterceptor} (spring-retry is on the
 * classpath) over a {@code BlockingLoadBalancerClient} and a {@code RoundRobinLoadBalancer}.
 *
 * <p>Instances: the 10 endpoints as {@link DefaultServiceInstance}s with metadata {@code zone}, a
 * fixed list ({@code withBase}) wrapped, in this order, by health checks ({@code
 * withBlockingHealthChecks}: GET {@code /health}, Spring's default interval of 25 s), zone
 * preference ({@code spring.cloud.loadbalancer.zone=us-east-1a}: the home zone's instances if any
 * is left, else all) and retry awareness (a retry avoids the instance just tried, what Spring adds
 * by default when retries are on). Retries ({@code spring.cloud.loadbalancer.retry.*}): none on the
 * same instance, 2 on the next one (3 attempts in all), on I/O errors and on 502, 503 and 504, no
 * backoff (Spring's default for blocking clients). Transport: the JDK {@link HttpClient} over
 * HTTP/1.1 with a 333 ms connect and read timeout per attempt, so 3 attempts take at most about the
 * 1 s deadline. Calls run blocking on threads of the benchmark's own.
 */
final class SpringCloudLoadBalancerLoadClient extends LoadClient {
  static final String SERVICE = "directory";

  private final AnnotationConfigApplicationContext context;
  private final RestClient client;
  private final ExecutorService callers = Scenarios.daemonPool("spring-caller");

  SpringCloudLoadBalancerLoadClient(
      Recorder recorder,
      Map<Integer, Integer> endpointByPort,
      List<ServiceInstance> instances,
      Duration deadline) {
    super("spring-cloud-lb", recorder, endpointByPort);
    Duration perAttempt = deadline.dividedBy(3);
    Map<String, Object> props = new HashMap<>();
    props.put("spring.cloud.loadbalancer.zone", "us-east-1a");
    props.put("spring.cloud.loadbalancer.retry.enabled", "true");
    props.put("spring.cloud.loadbalancer.retry.max-retries-on-same-service-instance", "0");
    props.put("spring.cloud.loadbalancer.retry.max-retries-on-next-service-instance", "2");
    props.put("spring.cloud.loadbalancer.retry.retryable-status-codes", "502,503,504");
    props.put("spring.cloud.loadbalancer.health-check.path.default", "/health");
    context = new AnnotationConfigApplicationContext();
    context
        .getEnvironment()
        .getPropertySources()
        .addFirst(new MapPropertySource("benchmark", props));
    context.registerBean(Instances.class, () -> new Instances(instances));
    context.registerBean(
        "transport", SimpleClientHttpRequestFactory.class, () -> transport(perAttempt));
    // The health checks' own client, not load balanced and not counted.
    context.registerBean(
        "healthCheckClient",
        RestClient.class,
        () -> RestClient.builder().requestFactory(transport(perAttempt)).build());
    context.register(ClientConfiguration.class);
    context.refresh();
    // Added after the load balancer's interceptor, so it runs inside the retry loop, once per
    // attempt, on the URI of the chosen instance.
    this.client =
        context
            .getBean("loadBalancedRestClientBuilder", RestClient.Builder.class)
            .requestInterceptor(new Tap())
            .build();
  }

  private static SimpleClientHttpRequestFactory transport(Duration perAttempt) {
    SimpleClientHttpRequestFactory factory = new SimpleClientHttpRequestFactory();
    factory.setConnectTimeout(perAttempt);
    factory.setReadTimeout(perAttempt);
    return factory;
  }

  @Override
  void start(int seq, String path, Done done) {
    callers.execute(
        () -> {
          try {
            ResponseEntity<String> response =
                client.get().uri("http://" + SERVICE + path).retrieve().toEntity(String.class);
            done.finish(response.getStatusCode().is2xxSuccessful());
          } catch (RuntimeException e) {
            done.finish(false);
          }
        });
  }

  /** Its health checks drop instances inside Spring; nothing here sees it. */
  @Override
  long ejections(long from, long to) {
    return -1;
  }

  @Override
  public void close() {
    callers.shutdownNow();
    context.close();
  }

  /** Counts every attempt where it goes to the transport, and takes the first as the first. */
  private final class Tap implements ClientHttpRequestInterceptor {
    @Override
    public ClientHttpResponse intercept(
        HttpRequest request, byte[] body, ClientHttpRequestExecution execution) throws IOException {
      URI uri = request.getURI();
      int seq = seqOf(uri.getPath());
      int endpoint = endpointOf(uri.getPort());
      if (seq >= 0 && endpoint >= 0) {
        recorder.attempt(seq, endpoint, System.nanoTime(), true);
      }
      return execution.execute(request, body);
    }
  }

  /** The fixed list of instances, handed from the application context to the client's one. */
  record Instances(List<ServiceInstance> list) {}

  /** The application: Spring Cloud's auto-configurations and a load-balanced client builder. */
  @Configuration(proxyBeanMethods = false)
  @ImportAutoConfiguration({
    org.springframework.cloud.loadbalancer.config.LoadBalancerAutoConfiguration.class,
    BlockingLoadBalancerClientAutoConfiguration.class,
    org.springframework.cloud.client.loadbalancer.LoadBalancerAutoConfiguration.class
  })
  @LoadBalancerClient(name = SERVICE, configuration = DirectoryLoadBalancerConfiguration.class)
  public static class ClientConfiguration {
    @Bean
    @LoadBalanced
    RestClient.Builder loadBalancedRestClientBuilder(SimpleClientHttpRequestFactory transport) {
      return RestClient.builder().requestFactory(transport);
    }
  }

  /**
   * The {@code directory} client's configuration (in Spring Cloud's child context for it): the
   * suppliers as the docs build them; the default {@code RoundRobinLoadBalancer} picks.
   */
  public static class DirectoryLoadBalancerConfiguration {
    @Bean
    ServiceInstanceListSupplier directoryInstances(
        ConfigurableApplicationContext context, Instances instances, RestClient healthCheckClient) {
      return ServiceInstanceListSupplier.builder()
          .withBase(
              ServiceInstanceListSuppliers.from(
                  SERVICE, instances.list().toArray(new ServiceInstance[0])))
          .withBlockingHealthChecks(healthCheckClient)
          .withZonePreference()
          .withRetryAwareness()
          .build(context);
    }
  }

  /** One testkit endpoint as a Spring Cloud service instance in its zone. */
  static ServiceInstance instance(int index, String host, int port, String zone) {
    DefaultServiceInstance i =
        new DefaultServiceInstance(SERVICE + "-" + index, SERVICE, host, port, false);
    i.getMetadata().put("zone", zone);
    return i;
  }
}
