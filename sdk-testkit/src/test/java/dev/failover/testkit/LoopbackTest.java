package dev.failover.testkit;

import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.ok;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Endpoints are on 127.0.0.1, as their URLs say, whatever address family the JVM prefers. The
 * preference is read once, when the JVM starts, so the check runs in a JVM of its own.
 */
class LoopbackTest {

  @Test
  void endpointsAnswerOn127001InAJvmThatPrefersIpv6(@TempDir Path dir) throws Exception {
    Path output = dir.resolve("output.txt");
    Process jvm =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Djava.net.preferIPv6Addresses=true",
                "-cp",
                System.getProperty("java.class.path"),
                PreferringIpv6.class.getName())
            .redirectErrorStream(true)
            .redirectOutput(output.toFile())
            .start();
    try {
      assertThat(jvm.waitFor(60, TimeUnit.SECONDS)).as("the JVM ends within 60 s").isTrue();
    } finally {
      jvm.destroyForcibly();
    }
    String printed = Files.readString(output, StandardCharsets.UTF_8);
    assertThat(printed).as(printed).contains("answered 200 x");
    assertThat(jvm.exitValue()).as(printed).isZero();
  }

  /** Starts zones and calls an endpoint's URL; run with {@code preferIPv6Addresses=true}. */
  static final class PreferringIpv6 {
    private PreferringIpv6() {}

    public static void main(String[] args) throws IOException {
      System.out.println("loopback address " + InetAddress.getLoopbackAddress());
      try (FakeZones zones = FakeZones.builder().region("r", "a").build().start();
          Http http = new Http()) {
        zones.stubAll(get("/x").willReturn(ok("x")));
        Http.Outcome outcome = http.call(zones.zone("a").endpoint(0).url() + "/x");
        System.out.println("answered " + outcome.status() + " " + outcome.body());
        if (outcome.error() != null) {
          outcome.error().printStackTrace(System.out);
        }
      }
    }
  }
}
