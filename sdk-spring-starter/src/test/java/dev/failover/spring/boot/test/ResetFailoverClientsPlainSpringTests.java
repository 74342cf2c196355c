package dev.failover.spring.boot.test;

import static org.assertj.core.api.Assertions.assertThat;

import dev.failover.FailoverClient;
import dev.failover.FailoverSnapshot;
import java.time.Duration;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Lazy;
import org.springframework.test.context.junit.jupiter.SpringJUnitConfig;

/**
 * The reset after each test method in a plain Spring test context (no Boot, no auto-configuration):
 * a client bean is reset, and a lazy one that no test used is not created for it.
 */
@SpringJUnitConfig(ResetFailoverClientsPlainSpringTests.Clients.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ResetFailoverClientsPlainSpringTests {

  @Autowired FailoverClient used;

  @Test
  @Order(1)
  void aTestShiftsAZoneAway() {
    used.shiftAway("us-east-1a", Duration.ofMinutes(10), "test");
    assertThat(used.snapshot().zones().get(0).status())
        .isEqualTo(FailoverSnapshot.ZoneStatus.SHIFTED);
  }

  @Test
  @Order(2)
  void theNextTestFindsItResetAndTheLazyClientNeverCreated() {
    assertThat(used.snapshot().zones().get(0).status())
        .isEqualTo(FailoverSnapshot.ZoneStatus.ACTIVE);
    assertThat(Clients.lazyCreated).isFalse();
  }

  @Configuration(proxyBeanMethods = false)
  static class Clients {
    static volatile boolean lazyCreated;

    @Bean
    FailoverClient used() {
      return client("used");
    }

    @Bean
    @Lazy
    FailoverClient lazy() {
      lazyCreated = true;
      return client("lazy");
    }

    private static FailoverClient client(String service) {
      return FailoverClient.builder()
          .service(service)
          .home("us-east-1", "us-east-1a")
          .endpoint("http://127.0.0.1:9", "us-east-1", "us-east-1a")
          .endpoint("http://127.0.0.2:9", "us-east-1", "us-east-1b")
          .build();
    }
  }
}
