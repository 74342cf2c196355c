package dev.failover.discovery.zookeeper;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.failover.Locality;
import java.time.Duration;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.x.discovery.details.JsonInstanceSerializer;
import org.junit.jupiter.api.Test;

/** Every setting's check, and the messages that name the setting and the value. */
class ZooKeeperEndpointSourceBuilderTest {

  @Test
  void settersRejectBadValuesNamingTheSettingAndTheValue() {
    var builder = ZooKeeperEndpointSource.builder();
    assertThatThrownBy(() -> builder.serviceName(" "))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("zookeeper serviceName must be a non-blank name without '/' but was ' '");
    assertThatThrownBy(() -> builder.serviceName("a/b"))
        .hasMessage("zookeeper serviceName must be a non-blank name without '/' but was 'a/b'");
    assertThatThrownBy(() -> builder.basePath("services"))
        .hasMessage(
            "zookeeper basePath must be an absolute path such as /services but was 'services'");
    assertThatThrownBy(() -> builder.basePath("/services/"))
        .hasMessageContaining("but was '/services/'");
    assertThatThrownBy(() -> builder.basePath("/a//b")).hasMessageContaining("but was '/a//b'");
    assertThatThrownBy(() -> builder.connectString(""))
        .hasMessage("zookeeper connectString must not be blank but was ''");
    assertThatThrownBy(() -> builder.connectTimeout(Duration.ofMillis(99)))
        .hasMessage("zookeeper connectTimeout must be between 100 ms and 600000 ms but was 99 ms");
    assertThatThrownBy(() -> builder.connectTimeout(Duration.ofMinutes(11)))
        .hasMessageContaining("but was 660000 ms");
    assertThatThrownBy(() -> builder.confirmInterval(Duration.ofMillis(99)))
        .hasMessage(
            "zookeeper confirmInterval must be between 100 ms and 86400000 ms but was 99 ms");
    assertThatThrownBy(() -> builder.confirmInterval(Duration.ofHours(25)))
        .hasMessageContaining("but was 90000000 ms");
    assertThatThrownBy(() -> builder.defaultZone(""))
        .hasMessage("zookeeper defaultZone must not be blank but was ''");
    assertThatThrownBy(() -> builder.defaultRegion("\t"))
        .hasMessage("zookeeper defaultRegion must not be blank but was '\t'");
    assertThatThrownBy(() -> builder.serviceName(null)).isInstanceOf(NullPointerException.class);
  }

  @Test
  void aConnectStringAndAClientExcludeEachOther() {
    CuratorFramework client = CuratorFrameworkFactory.newClient("127.0.0.1:1", new RetryOneTime(1));
    assertThatThrownBy(
            () ->
                ZooKeeperEndpointSource.builder()
                    .connectString("127.0.0.1:2181")
                    .curatorFramework(client))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "zookeeper curatorFramework cannot be set: connectString was set already to"
                + " '127.0.0.1:2181'; set one of them");
    assertThatThrownBy(
            () -> ZooKeeperEndpointSource.builder().curatorFramework(client).connectString("h:1"))
        .hasMessage(
            "zookeeper connectString 'h:1' cannot be set: a curatorFramework was set already;"
                + " set one of them");
  }

  @Test
  void buildNamesWhatIsMissing() {
    assertThatThrownBy(() -> ZooKeeperEndpointSource.builder().connectString("h:1").build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("zookeeper serviceName is required, set serviceName()");
    assertThatThrownBy(() -> ZooKeeperEndpointSource.builder().serviceName("s").build())
        .hasMessage("zookeeper connectString or curatorFramework is required, set one of them");
    assertThatThrownBy(
            () ->
                ZooKeeperEndpointSource.builder(new JsonInstanceSerializer<>(String.class))
                    .serviceName("s")
                    .connectString("h:1")
                    .build())
        .hasMessageContaining("zookeeper locality or metadata is required for a custom serializer");
    assertThat(
            ZooKeeperEndpointSource.builder(new JsonInstanceSerializer<>(String.class))
                .serviceName("s")
                .connectString("h:1")
                .locality(i -> Locality.of("r", String.valueOf(i.getPayload())))
                .build()
                .description())
        .isEqualTo("zookeeper /services/s at h:1");
  }

  @Test
  void startTwiceOrAfterCloseFails() {
    ZooKeeperEndpointSource source =
        ZooKeeperEndpointSource.builder()
            .connectString("127.0.0.1:1")
            .serviceName("s")
            .basePath("/")
            .build();
    assertThat(source.description()).isEqualTo("zookeeper /s at 127.0.0.1:1");
    Recorder recorder = new Recorder();
    source.start(recorder);
    try {
      assertThatThrownBy(() -> source.start(recorder))
          .isInstanceOf(IllegalStateException.class)
          .hasMessage("zookeeper /s at 127.0.0.1:1 was started already");
    } finally {
      source.close();
    }
    assertThatThrownBy(() -> source.start(recorder))
        .hasMessage("zookeeper /s at 127.0.0.1:1 is closed");
  }

  @Test
  void aGivenClientMustBeStarted() {
    CuratorFramework client = CuratorFrameworkFactory.newClient("127.0.0.1:1", new RetryOneTime(1));
    ZooKeeperEndpointSource source =
        ZooKeeperEndpointSource.builder().curatorFramework(client).serviceName("s").build();
    assertThatThrownBy(() -> source.start(new Recorder()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage(
            "the curatorFramework of zookeeper /services/s via a given Curator client must be"
                + " started before the source starts but was LATENT");
  }
}
