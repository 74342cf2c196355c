package dev.failover.spring.boot.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import com.jayway.jsonpath.JsonPath;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Keeps docs/spring-boot.md and the generated configuration metadata in step: every property in the
 * metadata is documented, and every {@code failover.*} property the page names exists.
 */
class DocumentationTests {
  private static final Path METADATA =
      Path.of("target/classes/META-INF/spring-configuration-metadata.json");
  private static final Path DOC = Path.of("../docs/spring-boot.md");

  @Test
  void everyPropertyInTheMetadataIsDocumented() throws IOException {
    List<String> names = JsonPath.parse(Files.readString(METADATA)).read("$.properties[*].name");
    assertThat(names).contains("failover.defaults.deadline", "failover.home.zone");
    String doc = Files.readString(DOC);
    assertThat(names)
        .as("properties in %s missing from %s", METADATA, DOC)
        .allSatisfy(name -> assertThat(doc).contains("`" + name + "`"));
  }

  @Test
  void everyDocumentedPropertyExists() throws IOException {
    List<String> names = JsonPath.parse(Files.readString(METADATA)).read("$.properties[*].name");
    Set<String> known = new TreeSet<>(names);
    for (String name : names) {
      if (name.startsWith("failover.defaults.")) {
        String key = name.substring("failover.defaults.".length());
        known.add("failover.clients.<name>." + key);
        known.add("failover.configs.<config>." + key);
        known.add("failover.configs.default." + key);
      }
    }
    for (String key : List.of("url", "region", "zone", "weight")) {
      known.add("failover.clients.<name>.endpoints[i]." + key);
    }
    known.add("failover.clients.<name>.endpoints");
    known.add("failover.clients.<name>.discovery.service-id");
    known.add("failover.clients.<name>.zonal-shifts");
    known.add("failover.clients.<name>.zonal-shifts.<zone>");
    known.add("failover.clients.<name>");
    known.add("failover.clients.<name>.base-config");
    known.add("failover.configs.<config>");
    known.add("failover.configs.default");
    known.add("failover.configs.<config>.<key>");
    known.add("failover.configs.default.<key>");
    List<String> groups = JsonPath.parse(Files.readString(METADATA)).read("$.groups[*].name");
    known.addAll(groups);
    known.add("failover.clients.<name>.<key>");
    known.add("failover.defaults.<key>");
    Matcher m =
        Pattern.compile(
                "`((?:failover\\.|management\\.(?:health|endpoint)\\.failover)[a-z0-9.<>\\[\\]-]*)`")
            .matcher(Files.readString(DOC));
    Set<String> documented = new TreeSet<>();
    while (m.find()) {
      documented.add(m.group(1));
    }
    documented.removeIf(d -> d.equals("failover") || d.startsWith("failover.calls") || isMeter(d));
    assertThat(documented).isNotEmpty();
    assertThat(documented).as("properties in %s that do not exist", DOC).isSubsetOf(known);
  }

  /**
   * The default column of the page's property table says what the metadata says (which
   * ConfigurationMetadataTests holds to the SDK's own defaults): {@code `10s`}, or a list such as
   * {@code `429`, `502`}; a row whose property has a metadata default must show it.
   */
  @Test
  void everyDocumentedDefaultIsTheMetadataDefault() throws IOException {
    List<Map<String, Object>> properties =
        JsonPath.parse(Files.readString(METADATA)).read("$.properties[*]");
    Map<String, String> metadataDefaults = new TreeMap<>();
    for (Map<String, Object> property : properties) {
      Object value = property.get("defaultValue");
      if (value != null && ((String) property.get("name")).startsWith("failover.")) {
        metadataDefaults.put(
            (String) property.get("name"),
            value instanceof List<?> list
                ? list.stream().map(String::valueOf).collect(Collectors.joining(","))
                : String.valueOf(value));
      }
    }
    Matcher row =
        Pattern.compile("(?m)^\\| `(failover\\.[a-z0-9.-]+)` \\| ([^|]*) \\|")
            .matcher(Files.readString(DOC));
    Map<String, String> documented = new TreeMap<>();
    while (row.find()) {
      Matcher value = Pattern.compile("`([^`]*)`").matcher(row.group(2));
      List<String> values = new ArrayList<>();
      while (value.find()) {
        values.add(value.group(1));
      }
      documented.put(row.group(1), String.join(",", values));
    }
    assertThat(documented).containsKey("failover.defaults.deadline");
    for (Map.Entry<String, String> d : metadataDefaults.entrySet()) {
      assertThat(documented)
          .as("%s's default in %s", d.getKey(), DOC)
          .containsEntry(d.getKey(), d.getValue());
    }
  }

  private static boolean isMeter(String name) {
    return name.startsWith("failover.attempts")
        || name.equals("failover.call")
        || name.equals("failover.attempt")
        || name.startsWith("failover.retries")
        || name.startsWith("failover.budget.exhausted")
        || name.startsWith("failover.budget.tokens")
        || name.equals("failover.panic")
        || name.startsWith("failover.client.")
        || name.startsWith("failover.endpoint.")
        || name.startsWith("failover.hedges")
        || name.startsWith("failover.hedge.")
        || name.startsWith("failover.stale.")
        || name.startsWith("failover.zone.")
        || name.startsWith("failover.discovery.");
  }

  @Test
  void theRegistryExampleIsTheOneTheEurekaTestRuns() throws IOException {
    String doc = Files.readString(DOC);
    String yaml = Files.readString(Path.of("src/test/resources/discovery-example.yml"));
    assertThat(doc).contains(yaml);
    String java =
        Files.readString(
            Path.of("src/test/java/dev/failover/spring/boot/autoconfigure/RegistryStatus.java"));
    String region =
        java.substring(
            java.indexOf('\n', java.indexOf("@start region=\"registry-status\"")) + 1,
            java.indexOf("// @end region=\"registry-status\""));
    assertThat(doc).contains(region);
  }
}
