package dev.failover.spring.boot.autoconfigure;

import dev.failover.FailoverClient;
import dev.failover.FailoverSnapshot;
import java.time.Duration;
import java.time.Instant;
import org.springframework.beans.factory.annotation.Qualifier;

/**
 * The example of docs/spring-boot.md ("Endpoints from a service registry"): reads where the
 * directory client's endpoints come from and how current they are. {@link EurekaDiscoveryTests}
 * runs it against a real Eureka server.
 */
// @start region="registry-status"
class RegistryStatus {
  private final FailoverClient directory;

  RegistryStatus(@Qualifier("directory") FailoverClient directory) {
    this.directory = directory;
  }

  /** Whether the client serves from the registry's latest list. */
  boolean current() {
    return directory.snapshot().discovery().status() == FailoverSnapshot.ListStatus.CURRENT;
  }

  /** One line for a log or a status page, such as "CURRENT, 3 endpoints, list 12 s old". */
  String describe() {
    FailoverSnapshot.Discovery d = directory.snapshot().discovery();
    long age = Duration.between(d.lastGoodList(), Instant.now()).toSeconds();
    String line = d.status() + ", " + d.endpoints() + " endpoints, list " + age + " s old";
    return d.reason() == null ? line : line + " (" + d.reason() + ")";
  }
}
// @end region="registry-status"
