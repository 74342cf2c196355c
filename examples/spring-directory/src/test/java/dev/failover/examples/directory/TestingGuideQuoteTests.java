package dev.failover.examples.directory;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * docs/testing.md shows the Spring Boot example as {@link TestingGuideSpringExampleTests} has it:
 * each {@code // region NAME} of the test's source stands in the guide, line for line.
 */
class TestingGuideQuoteTests {

  private static final Path GUIDE = Path.of("../../docs/testing.md");
  private static final Path EXAMPLE =
      Path.of("src/test/java/dev/failover/examples/directory/TestingGuideSpringExampleTests.java");

  @Test
  void theGuideQuotesEveryRegionOfTheExample() throws IOException {
    String guide = Files.readString(GUIDE);
    Matcher region =
        Pattern.compile("(?ms)^\\s*// region ([a-z-]+)\\n(.*?)^\\s*// endregion\\n")
            .matcher(Files.readString(EXAMPLE));
    int regions = 0;
    while (region.find()) {
      regions++;
      assertThat(guide)
          .as("docs/testing.md quotes region '%s' of %s", region.group(1), EXAMPLE)
          .contains("```java\n" + region.group(2) + "```\n");
    }
    assertThat(regions).isPositive();
  }
}
