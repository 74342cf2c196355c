package dev.failover;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.Test;

/**
 * {@link FailoverClient#settings()}: every default of a client built with the required settings
 * alone, what the builder was given, immutable values, and a view that follows {@code reconfigure}
 * and {@code reset} while an old view keeps describing its own configuration.
 */
class FailoverSettingsTest {

  private static FailoverClient.Builder required() {
    return FailoverClient.builder()
        .service("directory")
        .home("us-east-1", "us-east-1a")
        .endpoint("http://127.0.0.1:1", "us-east-1", "us-east-1a")
        .endpoint("http://127.0.0.1:2", "us-west-2", "us-west-2a");
  }

  @Test
  void aClientWithTheRequiredSettingsAloneShowsEveryDefault() {
    try (FailoverClient client = required().build()) {
      FailoverSettings s = client.settings();
      assertThat(s.service()).isEqualTo("directory");
      assertThat(s.home()).isEqualTo(Locality.of("us-east-1", "us-east-1a"));
      assertThat(s.regionOrder()).isEmpty();
      assertThat(s.deadline()).isEqualTo(Duration.ofSeconds(10));
      assertThat(s.attemptTimeout()).isEmpty();
      assertThat(s.minAttemptTime()).isEqualTo(Duration.ofMillis(25));
      assertThat(s.maxAttempts()).isEqualTo(3);
      assertThat(s.backoffBase()).isEqualTo(Duration.ofMillis(25));
      assertThat(s.backoffCap()).isEqualTo(Duration.ofMillis(250));
      assertThat(s.maxRetryAfter()).isEqualTo(Duration.ofSeconds(30));
      assertThat(s.retryableStatuses()).containsExactlyInAnyOrder(429, 502, 503, 504);
      assertThat(s.budgetRatio()).isEqualTo(0.1);
      assertThat(s.budgetMinPerSecond()).isEqualTo(1);
      assertThat(s.budgetWindow()).isEqualTo(Duration.ofSeconds(10));
      assertThat(s.healthCheck()).isSameAs(HealthCheck.off());
      assertThat(s.ejection()).isSameAs(EjectionPolicy.defaults());
      assertThat(s.hedging()).isSameAs(HedgePolicy.off());
      assertThat(s.staleCache()).isSameAs(StaleCache.off());
      assertThat(s.zones()).isSameAs(ZonePolicy.defaults());
      assertThat(s.panicThresholdPercent()).isZero();
      assertThat(s.panicFailOpen()).isTrue();
      assertThat(s.maxRequests()).isEqualTo(256);
      assertThat(s.callerRunsFirstAttempt()).isEmpty();
      assertThat(s.discovery()).isSameAs(DiscoveryPolicy.defaults());
      assertThat(s.endpointSource()).isEmpty();
      assertThat(s.okHttpClient()).isEmpty();
      assertThat(s.toString())
          .startsWith("FailoverSettings{service=directory, home=us-east-1/us-east-1a,")
          .contains("deadline=PT10S", "attemptTimeout=deadline/maxAttempts", "maxAttempts=3");
    }
  }

  @Test
  void theViewShowsWhatTheBuilderWasGiven() {
    OkHttpClient okHttp = new OkHttpClient();
    HedgePolicy hedging = HedgePolicy.adaptive(0.02).withMaxHedges(2);
    HealthCheck check = HealthCheck.http("/ready").withInterval(Duration.ofSeconds(5));
    try (FailoverClient client =
        required()
            .regionOrder(List.of("us-west-2"))
            .deadline(Duration.ofSeconds(2))
            .attemptTimeout(Duration.ofMillis(700))
            .minAttemptTime(Duration.ofMillis(5))
            .maxAttempts(2)
            .backoff(Duration.ofMillis(10), Duration.ofMillis(100))
            .maxRetryAfter(Duration.ofSeconds(3))
            .retryableStatuses(Set.of(500, 503))
            .retryBudget(0.2, 5, Duration.ofSeconds(20))
            .healthCheck(check)
            .hedging(hedging)
            .staleIfError(StaleCache.of(10, 1024, Duration.ofMinutes(1)))
            .zones(ZonePolicy.off())
            .ejection(EjectionPolicy.defaults().withConsecutiveFailures(7))
            .panic(30, false)
            .maxRequests(64)
            .callerRunsFirstAttempt(true)
            .okHttpClient(okHttp)
            .build()) {
      FailoverSettings s = client.settings();
      assertThat(s.regionOrder()).containsExactly("us-west-2");
      assertThat(s.deadline()).isEqualTo(Duration.ofSeconds(2));
      assertThat(s.attemptTimeout()).contains(Duration.ofMillis(700));
      assertThat(s.minAttemptTime()).isEqualTo(Duration.ofMillis(5));
      assertThat(s.maxAttempts()).isEqualTo(2);
      assertThat(s.backoffBase()).isEqualTo(Duration.ofMillis(10));
      assertThat(s.backoffCap()).isEqualTo(Duration.ofMillis(100));
      assertThat(s.maxRetryAfter()).isEqualTo(Duration.ofSeconds(3));
      assertThat(s.retryableStatuses()).containsExactlyInAnyOrder(500, 503);
      assertThat(s.budgetRatio()).isEqualTo(0.2);
      assertThat(s.budgetMinPerSecond()).isEqualTo(5);
      assertThat(s.budgetWindow()).isEqualTo(Duration.ofSeconds(20));
      assertThat(s.healthCheck()).isEqualTo(check);
      assertThat(s.hedging()).isEqualTo(hedging);
      assertThat(s.staleCache()).isEqualTo(StaleCache.of(10, 1024, Duration.ofMinutes(1)));
      assertThat(s.zones().enabled()).isFalse();
      assertThat(s.ejection().consecutiveFailures()).isEqualTo(7);
      assertThat(s.panicThresholdPercent()).isEqualTo(30);
      assertThat(s.panicFailOpen()).isFalse();
      assertThat(s.maxRequests()).isEqualTo(64);
      assertThat(s.callerRunsFirstAttempt()).contains(true);
      assertThat(s.okHttpClient()).containsSame(okHttp);
      assertThatThrownBy(() -> s.retryableStatuses().add(404))
          .isInstanceOf(UnsupportedOperationException.class);
      assertThatThrownBy(() -> s.regionOrder().add("eu-west-1"))
          .isInstanceOf(UnsupportedOperationException.class);
    }
  }

  @Test
  void theViewFollowsReconfigureAndResetAndAnOldViewKeepsItsConfiguration() {
    try (FailoverClient client = required().build()) {
      FailoverSettings before = client.settings();
      assertThat(client.settings()).isSameAs(before);

      client.reconfigure(b -> b.deadline(Duration.ofSeconds(10))); // the same settings
      assertThat(client.settings()).isSameAs(before);

      client.reconfigure(b -> b.deadline(Duration.ofSeconds(3)).maxAttempts(1));
      FailoverSettings after = client.settings();
      assertThat(after).isNotSameAs(before);
      assertThat(after.deadline()).isEqualTo(Duration.ofSeconds(3));
      assertThat(after.maxAttempts()).isEqualTo(1);
      assertThat(before.deadline()).isEqualTo(Duration.ofSeconds(10));
      assertThat(before.maxAttempts()).isEqualTo(3);

      client.reset();
      assertThat(client.settings()).isNotSameAs(after);
      assertThat(client.settings().deadline()).isEqualTo(Duration.ofSeconds(3));
    }
  }

  @Test
  void aRejectedReconfigurationLeavesTheView() {
    try (FailoverClient client = required().build()) {
      FailoverSettings before = client.settings();
      assertThatThrownBy(() -> client.reconfigure(b -> b.maxAttempts(11)))
          .isInstanceOf(InvalidSettingException.class);
      assertThat(client.settings()).isSameAs(before);
    }
  }
}
