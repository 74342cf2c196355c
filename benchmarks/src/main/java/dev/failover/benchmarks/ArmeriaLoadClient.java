package dev.failover.benchmarks;

import com.linecorp.armeria.client.ClientFactory;
import com.linecorp.armeria.client.Endpoint;
import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.client.endpoint.EndpointGroup;
import com.linecorp.armeria.client.endpoint.healthcheck.HealthCheckedEndpointGroup;
import com.linecorp.armeria.client.retry.RetryRule;
import com.linecorp.armeria.client.retry.RetryingClient;
import com.linecorp.armeria.common.SessionProtocol;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Armeria's {@link WebClient} set up as Armeria's client docs show for a replicated service: a
 * {@link HealthCheckedEndpointGroup} over every endpoint (HTTP GET {@code /health}, Armeria's
 * default interval of 3 s +/- 20%), Armeria's default selection strategy (weighted round robin:
 * Armeria core has no notion of zones), and a {@link RetryingClient} of 3 attempts in all on 5xx
 * and exceptions with Armeria's default backoff, each attempt at most a third of the 1 s response
 * timeout. HTTP/1.1 over cleartext ({@code H1C}), as the other clients.
 */
final class ArmeriaLoadClient extends LoadClient {
  private final ClientFactory factory = ClientFactory.builder().build();
  private final HealthCheckedEndpointGroup group;
  private final WebClient client;

  ArmeriaLoadClient(
      Recorder recorder,
      Map<Integer, Integer> endpointByPort,
      List<Integer> ports,
      Duration deadline)
      throws Exception {
    super("armeria", recorder, endpointByPort);
    EndpointGroup all =
        EndpointGroup.of(ports.stream().map(p -> Endpoint.of("127.0.0.1", p)).toList());
    this.group =
        HealthCheckedEndpointGroup.builder(all, "/health")
            .protocol(SessionProtocol.H1C)
            .clientFactory(factory)
            .build();
    group.whenReady().get(30, TimeUnit.SECONDS);
    // Endpoints the health checks take out count as ejected.
    int[] healthy = {group.endpoints().size()};
    group.addListener(
        list -> {
          int removed;
          synchronized (healthy) {
            removed = healthy[0] - list.size();
            healthy[0] = list.size();
          }
          if (removed > 0) {
            ejected(removed);
          }
        });
    this.client =
        WebClient.builder(SessionProtocol.H1C, group)
            .factory(factory)
            .responseTimeout(deadline)
            // Added first, so it runs inside the retrying decorator: it sees every attempt.
            .decorator(
                (delegate, ctx, req) -> {
                  Endpoint e = ctx.endpoint();
                  int seq = seqOf(ctx.path());
                  if (e != null && seq >= 0) {
                    recorder.attempt(seq, endpointOf(e.port()), System.nanoTime(), true);
                  }
                  return delegate.execute(ctx, req);
                })
            .decorator(
                RetryingClient.builder(
                        RetryRule.builder().onServerErrorStatus().onException().thenBackoff())
                    .maxTotalAttempts(3)
                    .responseTimeoutForEachAttempt(deadline.dividedBy(3))
                    .newDecorator())
            .build();
  }

  @Override
  void start(int seq, String path, Done done) {
    var unused =
        client
            .get(path)
            .aggregate()
            .whenComplete(
                (response, failure) ->
                    done.finish(failure == null && response.status().isSuccess()));
  }

  @Override
  public void close() {
    group.close();
    factory.close();
  }
}
