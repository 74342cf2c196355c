package dev.failover.spring.boot.autoconfigure;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.equalToJson;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static org.assertj.core.api.Assertions.assertThat;

import com.github.tomakehurst.wiremock.WireMockServer;
import dev.failover.FailoverClient;
import dev.failover.RequestOptions;
import java.time.Duration;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.http.client.autoconfigure.HttpClientAutoConfiguration;
import org.springframework.boot.http.client.autoconfigure.imperative.ImperativeHttpClientAutoConfiguration;
import org.springframework.boot.http.client.autoconfigure.service.HttpServiceClientPropertiesAutoConfiguration;
import org.springframework.boot.restclient.autoconfigure.RestClientAutoConfiguration;
import org.springframework.boot.restclient.autoconfigure.service.HttpServiceClientAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.client.RestClient;
import org.springframework.web.service.annotation.GetExchange;
import org.springframework.web.service.annotation.HttpExchange;
import org.springframework.web.service.registry.ImportHttpServices;

/** RestClient and HTTP service calls through the failover client, against WireMock servers. */
class RestClientIntegrationTests {

  private static final WireMockServer up = new WireMockServer(wireMockConfig().dynamicPort());
  private static final WireMockServer failing = new WireMockServer(wireMockConfig().dynamicPort());

  private final ApplicationContextRunner runner =
      new ApplicationContextRunner()
          .withConfiguration(
              AutoConfigurations.of(
                  FailoverAutoConfiguration.class,
                  HttpClientAutoConfiguration.class,
                  ImperativeHttpClientAutoConfiguration.class,
                  RestClientAutoConfiguration.class,
                  HttpServiceClientPropertiesAutoConfiguration.class,
                  HttpServiceClientAutoConfiguration.class));

  @BeforeAll
  static void start() {
    up.start();
    failing.start();
  }

  @AfterAll
  static void stop() {
    up.stop();
    failing.stop();
  }

  @BeforeEach
  void stubs() {
    up.resetAll();
    failing.resetAll();
    up.stubFor(get("/users/42").willReturn(okJson("{\"id\":42,\"name\":\"Ada\"}")));
    up.stubFor(post("/users").willReturn(aResponse().withStatus(201)));
    failing.stubFor(get("/users/42").willReturn(aResponse().withStatus(503)));
  }

  private String[] twoZones() {
    return new String[] {
      "failover.home.region=us-east-1",
      "failover.home.zone=us-east-1a",
      "failover.clients.directory.endpoints[0].url=" + failing.baseUrl(),
      "failover.clients.directory.endpoints[0].region=us-east-1",
      "failover.clients.directory.endpoints[0].zone=us-east-1a",
      "failover.clients.directory.endpoints[1].url=" + up.baseUrl(),
      "failover.clients.directory.endpoints[1].region=us-east-1",
      "failover.clients.directory.endpoints[1].zone=us-east-1b",
      "failover.defaults.retry.backoff-base=0ms",
      "failover.defaults.retry.backoff-cap=0ms",
    };
  }

  @Test
  void restClientCallFailsOverToTheOtherZone() {
    runner
        .withPropertyValues(twoZones())
        .run(
            context -> {
              RestClient directory = context.getBean("directoryRestClient", RestClient.class);
              User user = directory.get().uri("/users/{id}", 42).retrieve().body(User.class);
              assertThat(user).isEqualTo(new User(42, "Ada"));
              assertThat(failing.findAll(getRequestedFor(urlEqualTo("/users/42")))).hasSize(1);
              assertThat(up.findAll(getRequestedFor(urlEqualTo("/users/42")))).hasSize(1);
            });
  }

  @Test
  void httpServiceGroupNamedLikeAClientGoesThroughIt() {
    runner
        .withPropertyValues(twoZones())
        .withUserConfiguration(DirectoryServices.class)
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              DirectoryApi api = context.getBean(DirectoryApi.class);
              assertThat(api.user(42)).isEqualTo(new User(42, "Ada"));
              assertThat(failing.findAll(getRequestedFor(urlEqualTo("/users/42")))).hasSize(1);
            });
  }

  @Test
  void serviceClientBaseUrlPropertyKeepsItsPath() {
    up.stubFor(get("/v2/users/42").willReturn(okJson("{\"id\":42,\"name\":\"Grace\"}")));
    failing.stubFor(get("/v2/users/42").willReturn(aResponse().withStatus(503)));
    runner
        .withPropertyValues(twoZones())
        .withPropertyValues("spring.http.serviceclient.directory.base-url=http://directory/v2")
        .withUserConfiguration(DirectoryServices.class)
        .run(
            context ->
                assertThat(context.getBean(DirectoryApi.class).user(42))
                    .isEqualTo(new User(42, "Grace")));
  }

  @Test
  void requestFactorySendsHeadersAndBodyAndRequestOptions() {
    OkHttpClient okHttp = new OkHttpClient();
    try (FailoverClient client =
        FailoverClient.builder()
            .service("directory")
            .home("us-east-1", "us-east-1a")
            .endpoint(up.baseUrl(), "us-east-1", "us-east-1a")
            .okHttpClient(okHttp)
            .build()) {
      RestClient restClient =
          RestClient.builder()
              .baseUrl("http://directory")
              .requestFactory(new CallFactoryClientHttpRequestFactory(client))
              .build();
      ResponseEntity<Void> response =
          restClient
              .post()
              .uri("/users")
              .header("X-Trace", "abc")
              .contentType(MediaType.APPLICATION_JSON)
              .attribute(
                  CallFactoryClientHttpRequestFactory.REQUEST_OPTIONS_ATTRIBUTE,
                  RequestOptions.markIdempotent().withDeadline(Duration.ofSeconds(1)))
              .body(new User(7, "Lin"))
              .retrieve()
              .toBodilessEntity();
      assertThat(response.getStatusCode()).isEqualTo(HttpStatus.CREATED);
      up.verify(
          postRequestedFor(urlEqualTo("/users"))
              .withHeader("X-Trace", equalTo("abc"))
              .withHeader("Content-Type", equalTo("application/json"))
              .withRequestBody(equalToJson("{\"id\":7,\"name\":\"Lin\"}")));
    } finally {
      okHttp.dispatcher().executorService().shutdown();
      okHttp.connectionPool().evictAll();
    }
  }

  record User(int id, String name) {}

  @HttpExchange
  interface DirectoryApi {
    @GetExchange("/users/{id}")
    User user(@PathVariable int id);
  }

  @Configuration(proxyBeanMethods = false)
  @ImportHttpServices(group = "directory", types = DirectoryApi.class)
  static class DirectoryServices {}
}
