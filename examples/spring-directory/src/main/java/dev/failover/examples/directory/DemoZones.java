package dev.failover.examples.directory;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.context.annotation.Profile;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * For the {@code demo} profile only: three fake zones of the directory service on 127.0.0.1
 * (us-east-1a on 18081, us-east-1b on 18082, us-west-2a on 18083), each a JDK HTTP server, and
 * {@code POST /demo/zones/{zone}/down} and {@code /up} to stop and restart one.
 */
@RestController
@Profile("demo")
class DemoZones implements DisposableBean {
  private static final Map<String, Integer> PORTS =
      Map.of("us-east-1a", 18081, "us-east-1b", 18082, "us-west-2a", 18083);

  private final Map<String, HttpServer> servers = new LinkedHashMap<>();
  private final ExecutorService executor = Executors.newCachedThreadPool();

  DemoZones() {
    PORTS.keySet().forEach(this::start);
  }

  @PostMapping("/demo/zones/{zone}/down")
  synchronized ResponseEntity<String> down(@PathVariable String zone) {
    HttpServer server = servers.remove(zone);
    if (server == null) {
      return ResponseEntity.badRequest().body("no running zone " + zone + "\n");
    }
    server.stop(0);
    return ResponseEntity.ok(zone + " is down\n");
  }

  @PostMapping("/demo/zones/{zone}/up")
  synchronized ResponseEntity<String> up(@PathVariable String zone) {
    if (!PORTS.containsKey(zone) || servers.containsKey(zone)) {
      return ResponseEntity.badRequest().body("no stopped zone " + zone + "\n");
    }
    start(zone);
    return ResponseEntity.ok(zone + " is up\n");
  }

  private synchronized void start(String zone) {
    try {
      HttpServer server =
          HttpServer.create(
              new InetSocketAddress(InetAddress.getLoopbackAddress(), PORTS.getOrDefault(zone, 0)),
              0);
      server.createContext("/", exchange -> serve(zone, exchange));
      server.setExecutor(executor);
      server.start();
      servers.put(zone, server);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start demo zone " + zone, e);
    }
  }

  private static void serve(String zone, HttpExchange exchange) throws IOException {
    String path = exchange.getRequestURI().getPath();
    String[] parts = path.split("/", -1);
    String body;
    int status = 200;
    if (path.equals("/health")) {
      body = "{\"status\":\"UP\"}";
    } else if (parts.length == 3 && parts[1].equals("users")) {
      body =
          "{\"id\":\"%s\",\"name\":\"User %s\",\"email\":\"user%s@example.com\"}"
              .formatted(parts[2], parts[2], parts[2]);
    } else if (parts.length == 4 && parts[1].equals("users") && parts[3].equals("groups")) {
      body = "[{\"id\":\"eng\",\"name\":\"Engineering\"},{\"id\":\"all\",\"name\":\"Everyone\"}]";
    } else if (parts.length == 3 && parts[1].equals("groups")) {
      body = "{\"id\":\"%s\",\"name\":\"Group %s\"}".formatted(parts[2], parts[2]);
    } else {
      status = 404;
      body = "{\"error\":\"not found\"}";
    }
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().add("Content-Type", "application/json");
    exchange.getResponseHeaders().add("X-Zone", zone);
    exchange.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  @Override
  public synchronized void destroy() {
    servers.values().forEach(server -> server.stop(0));
    servers.clear();
    executor.shutdownNow();
  }
}
