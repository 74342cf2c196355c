package dev.failover;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.failover.testkit.FakeZones;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Micrometer is an optional dependency of the SDK: a client builds and calls with no Micrometer
 * class on the class path. The test class path without Micrometer's jars goes to a class loader of
 * its own, which runs {@link PlainCall}.
 */
class WithoutMicrometerTest {

  @RegisterExtension static FakeZones zones = Zones3.zones();

  @BeforeEach
  void stub() {
    Zones3.stub(zones);
  }

  @Test
  void aClientBuildsAndCallsWithNoMicrometerOnTheClassPath() throws Exception {
    // Surefire puts the test class path in this property (java.class.path may be its booter jar).
    String classPath =
        System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    List<URL> urls = new ArrayList<>();
    List<String> left = new ArrayList<>();
    for (String entry : classPath.split(File.pathSeparator)) {
      if (entry.contains("micrometer") || entry.contains("brave") || entry.contains("zipkin")) {
        left.add(entry);
      } else if (!entry.isBlank()) {
        urls.add(url(entry));
      }
    }
    assertThat(left).as("Micrometer jars on the test class path").isNotEmpty();
    try (URLClassLoader loader =
        new URLClassLoader(urls.toArray(URL[]::new), ClassLoader.getPlatformClassLoader())) {
      assertThatThrownBy(() -> Class.forName("io.micrometer.core.instrument.Meter", false, loader))
          .isInstanceOf(ClassNotFoundException.class);
      assertThatThrownBy(
              () -> Class.forName("io.micrometer.observation.Observation", false, loader))
          .isInstanceOf(ClassNotFoundException.class);
      Class<?> plain = loader.loadClass(PlainCall.class.getName());
      assertThat(plain.getClassLoader()).isSameAs(loader);
      @SuppressWarnings("unchecked")
      Function<String, String> call =
          (Function<String, String>) plain.getDeclaredConstructor().newInstance();

      assertThat(call.apply(zones.zone("us-east-1a").endpoint(0).url()))
          .isEqualTo("200 {\"id\":\"00u1\",\"status\":\"ACTIVE\"}");
    }
  }

  private static URL url(String entry) {
    try {
      return Path.of(entry).toUri().toURL();
    } catch (MalformedURLException e) {
      throw new IllegalArgumentException(entry, e);
    }
  }

  /** Builds a client over one endpoint and calls it once; loaded without Micrometer. */
  public static final class PlainCall implements Function<String, String> {
    /** Created by reflection in the other class loader. */
    public PlainCall() {}

    @Override
    public String apply(String url) {
      try (FailoverClient client =
          FailoverClient.builder()
              .service("directory")
              .home("us-east-1", "us-east-1a")
              .endpoint(url, "us-east-1", "us-east-1a")
              .listener(new FailoverListener() {})
              .build()) {
        Request request = new Request.Builder().url("http://directory/users/42").build();
        try (Response response = client.newCall(request).execute()) {
          return response.code() + " " + response.body().string();
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }
}
