package dev.failover.examples.directory;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.web.service.registry.ImportHttpServices;

/**
 * A directory front end: {@code GET /api/users/{id}/profile} calls the directory service twice
 * through {@link DirectoryClient}, whose calls fail over between zones and regions.
 *
 * <p>Run it with {@code ../../mvnw -q spring-boot:run} (profile {@code demo}: three fake zones on
 * ports 18081-18083), then {@code curl localhost:8080/api/users/42/profile}, take the home zone
 * down with {@code curl -X POST localhost:8080/demo/zones/us-east-1a/down}, and call again: the
 * answer now comes from {@code us-east-1b}. {@code /actuator/health} and {@code /actuator/failover}
 * show the zone's state.
 */
@SpringBootApplication
@ImportHttpServices(group = "directory", types = DirectoryClient.class)
public class DirectoryApplication {

  /**
   * Starts the application.
   *
   * @param args Spring Boot arguments
   */
  public static void main(String[] args) {
    SpringApplication.run(DirectoryApplication.class, args);
  }
}
