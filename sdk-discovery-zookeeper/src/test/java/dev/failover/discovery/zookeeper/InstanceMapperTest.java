package dev.failover.discovery.zookeeper;

import static org.assertj.core.api.Assertions.assertThat;

import dev.failover.Endpoint;
import dev.failover.Locality;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.curator.x.discovery.ServiceInstance;
import org.apache.curator.x.discovery.ServiceType;
import org.junit.jupiter.api.Test;

/** Instance to endpoint, without a ZooKeeper. */
class InstanceMapperTest {

  private final InstanceMapper<Map<String, String>> mapper =
      new InstanceMapper<>(
          "directory", InstanceMapper.fromMetadata(ServiceInstance::getPayload, null, null));

  private static ServiceInstance<Map<String, String>> instance(
      String id, String address, Integer port, Integer sslPort, boolean enabled) {
    return new ServiceInstance<>(
        "directory",
        id,
        address,
        port,
        sslPort,
        Map.of("region", "us-east-1", "zone", "us-east-1a"),
        0,
        ServiceType.DYNAMIC,
        null,
        enabled);
  }

  @Test
  void theSslPortWinsAndUsableInstancesComeInIdOrder() {
    List<Endpoint> endpoints =
        mapper.endpoints(
            List.of(
                instance("b", "10.0.0.2", 8080, null, true),
                instance("a", "10.0.0.1", 8080, 8443, true),
                instance("c", "::1", 8080, null, true)));

    assertThat(endpoints)
        .containsExactly(
            Endpoint.of("https://10.0.0.1:8443", "us-east-1", "us-east-1a"),
            Endpoint.of("http://10.0.0.2:8080", "us-east-1", "us-east-1a"),
            Endpoint.of("http://[::1]:8080", "us-east-1", "us-east-1a"));
  }

  /**
   * {@code instance} as a custom serializer might give it: with no id (Curator's checks skipped).
   */
  private static ServiceInstance<Map<String, String>> withoutId(
      ServiceInstance<Map<String, String>> instance) {
    return new ServiceInstance<>(
        instance.getName(),
        "unused",
        instance.getAddress(),
        instance.getPort(),
        instance.getSslPort(),
        instance.getPayload(),
        instance.getRegistrationTimeUTC(),
        instance.getServiceType(),
        instance.getUriSpec(),
        instance.isEnabled()) {
      @Override
      public String getId() {
        return null;
      }
    };
  }

  /**
   * An instance without an id (a custom serializer may give one none) is mapped like any other:
   * before, sorting by id threw a NullPointerException, which ended the source's watch for good.
   */
  @Test
  void anInstanceWithoutAnIdStillMapsAndTheOthersKeepTheirOrder() {
    List<Endpoint> endpoints =
        mapper.endpoints(
            List.of(
                instance("b", "10.0.0.2", 8080, null, true),
                withoutId(instance("x", "10.0.0.9", 8080, null, true)),
                instance("a", "10.0.0.1", 8080, null, true)));

    assertThat(endpoints)
        .containsExactly(
            Endpoint.of("http://10.0.0.1:8080", "us-east-1", "us-east-1a"),
            Endpoint.of("http://10.0.0.2:8080", "us-east-1", "us-east-1a"),
            Endpoint.of("http://10.0.0.9:8080", "us-east-1", "us-east-1a"));
  }

  @Test
  void unusableInstancesAreLeftOut() {
    List<Endpoint> endpoints =
        mapper.endpoints(
            List.of(
                instance("disabled", "10.0.0.1", 8080, null, false),
                instance("no-address", null, 8080, null, true),
                instance("blank-address", " ", 8080, null, true),
                instance("no-port", "10.0.0.3", null, null, true),
                instance("port-0", "10.0.0.4", 0, null, true),
                instance("port-too-big", "10.0.0.5", 70_000, null, true),
                instance("bad-host", "not a host", 8080, null, true),
                instance("good", "10.0.0.9", 8080, null, true)));

    assertThat(endpoints).extracting(Endpoint::address).containsExactly("http://10.0.0.9:8080");
  }

  /**
   * An address with user info, as {@code user:password@host} or as a URL, its {@code @} written as
   * such or percent-encoded ({@code %40}), is not a host: the instance is left out, and its warning
   * names the address without the password (it was logged twice, as the address and in the reason).
   */
  @Test
  void anAddressWithUserInfoIsLeftOutAndItsPasswordIsNotLogged() {
    List<Endpoint> endpoints;
    String log;
    try (StderrCapture err = new StderrCapture()) {
      endpoints =
          mapper.endpoints(
              List.of(
                  instance("with-password", "svc:s3cret@10.0.1.7", 8080, null, true),
                  instance("url", "http://svc:s3cret@10.0.1.8:8080/", 8080, null, true),
                  // Percent-encoded, its @ as %40: the user info is masked all the same.
                  instance("encoded", "svc:s3cret%4010.0.1.9", 8080, null, true),
                  instance("all-encoded", "svc%3As3cret%4010.0.1.10", 8080, null, true),
                  instance("good", "10.0.0.9", 8080, null, true)));
      log = err.text();
    }

    assertThat(endpoints).extracting(Endpoint::address).containsExactly("http://10.0.0.9:8080");
    assertThat(log)
        .contains("ZooKeeper instance with-password of service directory (address ***@10.0.1.7,")
        .contains("left out: its address '***@10.0.1.7' is not a host name or IP")
        .contains("ZooKeeper instance url of service directory (address ***@10.0.1.8:8080/,")
        .contains("ZooKeeper instance encoded of service directory (address ***%4010.0.1.9,")
        .contains("ZooKeeper instance all-encoded of service directory (address ***%4010.0.1.10,")
        .doesNotContain("s3cret");
  }

  @Test
  void aLocalityFunctionThatThrowsOrReturnsNullLeavesTheInstanceOut() {
    InstanceMapper<Map<String, String>> custom =
        new InstanceMapper<>(
            "directory",
            i -> {
              if (i.getId().equals("throws")) {
                throw new IllegalStateException("boom");
              }
              return i.getId().equals("null") ? null : Locality.of("r", "z");
            });
    List<Endpoint> endpoints =
        custom.endpoints(
            List.of(
                instance("throws", "10.0.0.1", 8080, null, true),
                instance("null", "10.0.0.2", 8080, null, true),
                instance("ok", "10.0.0.3", 8080, null, true)));

    assertThat(endpoints).containsExactly(Endpoint.of("http://10.0.0.3:8080", "r", "z"));
  }

  /**
   * A locality function that throws an Error (a class that failed to initialise, an assertion)
   * leaves the instance out like an exception, and the next call maps it: before, the Error escaped
   * and ended the source's watch for good.
   */
  @Test
  void aLocalityFunctionThatThrowsAnErrorLeavesTheInstanceOutForThatCallOnly() {
    AtomicBoolean thrown = new AtomicBoolean();
    InstanceMapper<Map<String, String>> custom =
        new InstanceMapper<>(
            "directory",
            i -> {
              if (i.getId().equals("throws") && thrown.compareAndSet(false, true)) {
                throw new ExceptionInInitializerError("zone table");
              }
              return Locality.of("r", "z");
            });
    List<ServiceInstance<Map<String, String>>> instances =
        List.of(
            instance("throws", "10.0.0.1", 8080, null, true),
            instance("ok", "10.0.0.3", 8080, null, true));

    String log;
    List<Endpoint> first;
    try (StderrCapture err = new StderrCapture()) {
      first = custom.endpoints(instances);
      log = err.text();
    }
    List<Endpoint> second = custom.endpoints(instances);

    assertThat(first).containsExactly(Endpoint.of("http://10.0.0.3:8080", "r", "z"));
    assertThat(log)
        .contains("ZooKeeper instance throws of service directory")
        .contains(
            "left out: the locality mapping failed: java.lang.ExceptionInInitializerError: zone"
                + " table");
    assertThat(second) // in id order: "ok", then "throws"
        .containsExactly(
            Endpoint.of("http://10.0.0.3:8080", "r", "z"),
            Endpoint.of("http://10.0.0.1:8080", "r", "z"));
  }

  @Test
  void metadataValuesAreTrimmedAndTheFirstKeyPresentWins() {
    InstanceMapper<Map<String, String>> withDefaults =
        new InstanceMapper<>(
            "directory",
            InstanceMapper.fromMetadata(ServiceInstance::getPayload, "default-region", null));
    ServiceInstance<Map<String, String>> instance =
        new ServiceInstance<>(
            "directory",
            "a",
            "10.0.0.1",
            8080,
            null,
            Map.of("zone", " z1 ", "topology.kubernetes.io/zone", "z2", "region", " "),
            0,
            ServiceType.DYNAMIC,
            null,
            true);

    assertThat(withDefaults.endpoints(List.of(instance)))
        .extracting(Endpoint::locality)
        .containsExactly(Locality.of("default-region", "z1"));
  }
}
