package dev.failover.discovery.zookeeper;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.apache.curator.x.discovery.ServiceInstance;
import org.apache.curator.x.discovery.ServiceType;
import org.apache.curator.x.discovery.details.JsonInstanceSerializer;
import org.junit.jupiter.api.Test;

/** Reading what registering sides write, without a ZooKeeper. */
class MetadataInstanceSerializerTest {

  private static ServiceInstance<Map<String, String>> read(String json) throws IOException {
    return MetadataInstanceSerializer.INSTANCE.deserialize(json.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  @SuppressWarnings({"rawtypes", "unchecked"})
  void readsWhatCuratorsJsonSerializerWritesForAMapPayload() throws Exception {
    ServiceInstance<Map> written =
        ServiceInstance.<Map>builder()
            .name("directory")
            .id("a1")
            .address("10.0.0.7")
            .port(8080)
            .sslPort(8443)
            .payload(Map.of("zone", "us-east-1a", "region", "us-east-1"))
            .build();
    for (boolean compatible : new boolean[] {true, false}) {
      byte[] bytes = new JsonInstanceSerializer<>(Map.class, compatible).serialize(written);

      ServiceInstance<Map<String, String>> read =
          MetadataInstanceSerializer.INSTANCE.deserialize(bytes);

      assertThat(read.getName()).isEqualTo("directory");
      assertThat(read.getId()).isEqualTo("a1");
      assertThat(read.getAddress()).isEqualTo("10.0.0.7");
      assertThat(read.getPort()).isEqualTo(8080);
      assertThat(read.getSslPort()).isEqualTo(8443);
      assertThat(read.isEnabled()).isTrue();
      assertThat(read.getServiceType()).isEqualTo(ServiceType.DYNAMIC);
      assertThat(read.getPayload())
          .containsExactlyInAnyOrderEntriesOf(Map.of("zone", "us-east-1a", "region", "us-east-1"));
    }
  }

  @Test
  void readsSpringCloudZookeeperRegistrationsWithoutTheirClasses() throws Exception {
    ServiceInstance<Map<String, String>> read =
        read(
            "{\"name\":\"directory\",\"id\":\"9f1\",\"address\":\"10.0.0.8\",\"port\":8080,"
                + "\"sslPort\":null,\"payload\":{\"@class\":"
                + "\"org.springframework.cloud.zookeeper.discovery.ZookeeperInstance\","
                + "\"id\":\"directory-1\",\"name\":\"directory\",\"metadata\":{\"zone\":"
                + "\"eu-west-1b\",\"topology.kubernetes.io/region\":\"eu-west-1\","
                + "\"instance_status\":\"UP\"}},\"registrationTimeUTC\":1700000000000,"
                + "\"serviceType\":\"DYNAMIC\",\"uriSpec\":{\"parts\":[]}}");

    assertThat(read.getPort()).isEqualTo(8080);
    assertThat(read.getSslPort()).isNull();
    assertThat(read.getPayload())
        .containsEntry("zone", "eu-west-1b")
        .containsEntry("topology.kubernetes.io/region", "eu-west-1")
        .containsEntry("id", "directory-1")
        .doesNotContainKey("@class");
  }

  @Test
  void readsScalarsAsTextAndAWrapperArrayTypeId() throws Exception {
    ServiceInstance<Map<String, String>> read =
        read(
            "{\"name\":\"s\",\"id\":\"i\",\"address\":\"h\",\"port\":\"8081\","
                + "\"payload\":[\"java.util.HashMap\",{\"zone\":7,\"canary\":true,"
                + "\"tags\":[\"x\"]}],\"enabled\":false,\"serviceType\":\"static\"}");

    assertThat(read.getPort()).isEqualTo(8081);
    assertThat(read.isEnabled()).isFalse();
    assertThat(read.getServiceType()).isEqualTo(ServiceType.STATIC);
    assertThat(read.getPayload()).isEqualTo(Map.of("zone", "7", "canary", "true"));
  }

  @Test
  void aMissingPayloadIsEmptyMetadata() throws Exception {
    assertThat(read("{\"name\":\"s\",\"id\":\"i\"}").getPayload()).isEmpty();
  }

  @Test
  void rejectsWhatIsNotAnInstance() {
    assertThatThrownBy(() -> read("[1,2]"))
        .isInstanceOf(IOException.class)
        .hasMessage("a service instance must be a JSON object but was array");
    assertThatThrownBy(() -> read("{\"name\":\"s\"}"))
        .isInstanceOf(IOException.class)
        .hasMessage("a service instance needs a 'id' but it was missing");
    assertThatThrownBy(() -> read("{\"name\":")).isInstanceOf(IOException.class);
  }

  @Test
  void neverWrites() {
    assertThatThrownBy(() -> MetadataInstanceSerializer.INSTANCE.serialize(null))
        .isInstanceOf(UnsupportedOperationException.class);
  }
}
