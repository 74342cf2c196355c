package dev.failover.drill;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TopologyFileTest {

  @Test
  void readsEndpointsSkippingBlankLinesAndComments(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("topology.txt");
    Files.writeString(
        file,
        """
        # directory endpoints
        us-east-1, us-east-1a, http://10.0.1.7:8080   # rack 4

        us-east-1,us-east-1b,https://dir-b.internal:8443/api/
        """);
    assertThat(TopologyFile.read(file))
        .containsExactly(
            new DrillEndpoint("http://10.0.1.7:8080", "us-east-1", "us-east-1a"),
            new DrillEndpoint("https://dir-b.internal:8443/api", "us-east-1", "us-east-1b"));
  }

  @Test
  void aBadLineIsNamed() {
    assertThatThrownBy(
            () ->
                TopologyFile.parse(
                    "t.txt",
                    List.of("# ok", "us-east-1,us-east-1a,http://a:1", "us-east-1,http://b:2")))
        .isInstanceOf(UsageException.class)
        .hasMessage(
            "t.txt:3: expected 'region,zone,url' but found 2 fields in 'us-east-1,http://b:2'");
    assertThatThrownBy(() -> TopologyFile.parse("t.txt", List.of("us-east-1,us-east-1a,ftp://a")))
        .isInstanceOf(UsageException.class)
        .hasMessageStartingWith("t.txt:1: endpoint URL must be an absolute http or https URL");
    assertThatThrownBy(() -> TopologyFile.parse("t.txt", List.of(",us-east-1a,http://a:1")))
        .isInstanceOf(UsageException.class)
        .hasMessage("t.txt:1: the region is empty in ',us-east-1a,http://a:1'");
    assertThatThrownBy(
            () -> TopologyFile.parse("t.txt", List.of("r,z,http://a:1", "", "r,y,http://a:1/")))
        .isInstanceOf(UsageException.class)
        .hasMessage("t.txt:3: endpoint http://a:1 is already listed on line 1");
  }

  /** A line quoted in an error shows no credentials: a password with a comma splits it too. */
  @Test
  void aBadLineIsQuotedWithoutCredentials() {
    assertThatThrownBy(
            () -> TopologyFile.parse("t.txt", List.of("us-east-1,us-east-1a,http://svc:pa,ss@a:1")))
        .isInstanceOf(UsageException.class)
        .hasMessage(
            "t.txt:1: expected 'region,zone,url' but found 4 fields in"
                + " 'us-east-1,us-east-1a,http://***@a:1'");
    assertThatThrownBy(() -> TopologyFile.parse("t.txt", List.of("us-east-1,,https://u:s3@a:2")))
        .isInstanceOf(UsageException.class)
        .hasMessage("t.txt:1: the zone is empty in 'us-east-1,,https://***@a:2'");
    assertThatThrownBy(() -> TopologyFile.parse("t.txt", List.of(",z,u:s3cr3t@a:3")))
        .isInstanceOf(UsageException.class)
        .hasMessage("t.txt:1: the region is empty in ',z,***@a:3'");
    assertThatThrownBy(() -> TopologyFile.parse("t.txt", List.of("r,z,svc:pa,ss@a:5")))
        .isInstanceOf(UsageException.class)
        .hasMessageEndingWith("found 4 fields in 'r,z,***@a:5'");
    assertThatThrownBy(
            () -> TopologyFile.parse("t.txt", List.of("r,z,http://a:4/?access_token=abc,")))
        .isInstanceOf(UsageException.class)
        .hasMessageEndingWith("found 4 fields in 'r,z,http://a:4/?***'");
  }

  @Test
  void anEmptyFileSaysWhatALineLooksLike() {
    assertThatThrownBy(() -> TopologyFile.parse("t.txt", List.of("# nothing", " ")))
        .isInstanceOf(UsageException.class)
        .hasMessageContaining("t.txt: no endpoint")
        .hasMessageContaining("region,zone,url");
  }

  @Test
  void aMissingFileIsReported() {
    assertThatThrownBy(() -> TopologyFile.read(Path.of("does-not-exist.txt")))
        .isInstanceOf(UsageException.class)
        .hasMessageContaining("cannot read --topology file does-not-exist.txt");
  }
}
