package dev.failover.statemachine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.failover.DiscoveryPolicy;
import dev.failover.Endpoint;
import dev.failover.EndpointSource;
import dev.failover.FailoverClient;
import dev.failover.FailoverSnapshot.ListStatus;
import dev.failover.InvalidConfigurationException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A source feeds one client: build() starts it and close() closes it, and a build that fails closes
 * what it started, but never a source it did not start.
 */
class SourceOwnershipTest {
  private static final Endpoint A1 = Endpoint.of("http://" + Harness.A1, "us-east-1", "us-east-1a");
  private static final Endpoint B1 = Endpoint.of("http://" + Harness.B1, "us-east-1", "us-east-1b");
  private static final Endpoint W1 = Endpoint.of("http://" + Harness.W1, "us-west-2", "us-west-2a");

  /** A second client of the same service and settings, built outside the harness. */
  private static FailoverClient.Builder another(EndpointSource source) {
    return FailoverClient.builder()
        .service("svc-2")
        .home("us-east-1", "us-east-1a")
        .endpointSource(source)
        .discovery(DiscoveryPolicy.defaults().withStartTimeout(Duration.ZERO));
  }

  private static List<String> addresses(List<Endpoint> endpoints) {
    return endpoints.stream().map(Endpoint::address).toList();
  }

  /**
   * Before, the second build's start() threw "already started" and build() closed the push source
   * that fed the first client: every later update was dropped, and the first client kept its list,
   * CURRENT, without a word. With a fallback, the second client built, and its close() did the
   * same.
   */
  @Test
  void aSourceThatFeedsAnotherClientIsRefusedAndThatClientKeepsFollowingIt() {
    EndpointSource.Push push = new EndpointSource.Push("shared-registry");
    try (Harness h = new Harness(b -> b.endpoints(List.of(A1)).endpointSource(push))) {
      push.update(List.of(A1, B1));

      assertThatThrownBy(() -> another(push).build())
          .isInstanceOfSatisfying(
              InvalidConfigurationException.class,
              e -> {
                assertThat(e.setting()).isEqualTo("endpointSource");
                assertThat(e.value()).isEqualTo("shared-registry");
              })
          .hasMessage(
              "endpoint source 'shared-registry' already feeds a client of service svc that is"
                  + " not closed; a source feeds one client: give the client of service svc-2 a"
                  + " source of its own");
      assertThatThrownBy(() -> another(push).endpoint(W1).build())
          .isInstanceOf(InvalidConfigurationException.class);

      push.update(List.of(A1, B1, W1));
      assertThat(addresses(h.client.endpoints()))
          .containsExactly(A1.address(), B1.address(), W1.address());
      assertThat(h.client.snapshot().discovery().status()).isEqualTo(ListStatus.CURRENT);
    }
  }

  /**
   * A push source whose client was closed cannot start again. Before, start() on a closed push
   * source did nothing: a new client with a fallback served it forever, one without failed after
   * its start timeout saying that the source "reported no endpoints".
   */
  @Test
  void aClosedPushSourceIsRefused() {
    EndpointSource.Push push = new EndpointSource.Push("closed-registry");
    new Harness(b -> b.endpoints(List.of(A1)).endpointSource(push)).close();

    assertThatThrownBy(() -> another(push).endpoint(W1).build())
        .isInstanceOfSatisfying(
            InvalidConfigurationException.class,
            e -> assertThat(e.setting()).isEqualTo("endpointSource"))
        .hasMessageContaining("push source 'closed-registry' is closed")
        .hasMessageContaining("a new EndpointSource.Push");
    assertThatThrownBy(() -> push.start(new DiscardingUpdates()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("is closed");
  }

  /** Once its client is closed, a source that can start again may feed another client. */
  @Test
  void aSourceIsFreeAgainOnceItsClientIsClosed() {
    AtomicInteger starts = new AtomicInteger();
    EndpointSource restartable =
        new EndpointSource() {
          @Override
          public void start(Updates updates) {
            starts.incrementAndGet();
            updates.endpoints(List.of(A1, B1));
          }

          @Override
          public void close() {}
        };
    new Harness(b -> b.endpoints(List.of()).endpointSource(restartable)).close();
    try (Harness h = new Harness(b -> b.endpoints(List.of()).endpointSource(restartable))) {
      assertThat(addresses(h.client.endpoints())).containsExactly(A1.address(), B1.address());
    }
    assertThat(starts).hasValue(2);
  }

  /**
   * An Error thrown by start() (a class missing from the registry client's jar) fails the build and
   * closes the source, which may have started threads before it threw. Before, only a
   * RuntimeException was caught: the source's threads outlived the failed build.
   */
  @Test
  void aSourceWhoseStartThrowsAnErrorIsClosed() {
    for (List<Endpoint> fallback : List.of(List.<Endpoint>of(), List.of(A1))) {
      AtomicInteger started = new AtomicInteger();
      AtomicInteger closed = new AtomicInteger();
      EndpointSource source =
          new EndpointSource() {
            @Override
            public void start(Updates updates) {
              started.incrementAndGet();
              throw new LinkageError("registry client class missing");
            }

            @Override
            public void close() {
              closed.incrementAndGet();
            }
          };

      assertThatThrownBy(() -> another(source).endpoints(fallback).build())
          .isInstanceOf(LinkageError.class)
          .hasMessage("registry client class missing");
      assertThat(started).as("with fallback %s", fallback).hasValue(1);
      assertThat(closed).as("with fallback %s", fallback).hasValue(1);
    }
  }

  private static final class DiscardingUpdates implements EndpointSource.Updates {
    @Override
    public void endpoints(List<Endpoint> endpoints) {}

    @Override
    public void failed(Throwable cause) {}
  }
}
