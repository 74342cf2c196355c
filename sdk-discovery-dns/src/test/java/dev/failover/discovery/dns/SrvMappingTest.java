package dev.failover.discovery.dns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.failover.Locality;
import java.time.Duration;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** Localities from target names, weights from SRV weights, and when the next lookup runs. */
class SrvMappingTest {

  private static SrvTarget target(String host) {
    return new SrvTarget(host, 8080, 10, 5);
  }

  @Test
  void theZoneLabelGivesTheZoneAndTheZoneWithoutItsLetterTheRegion() {
    Function<SrvTarget, Locality> byLabel = SrvLocalities.zoneLabel(1);

    assertThat(byLabel.apply(target("a1.us-east-1a.dir.internal")))
        .isEqualTo(Locality.of("us-east-1", "us-east-1a"));
    assertThat(byLabel.apply(target("A1.EU-WEST-3C.dir.internal")))
        .isEqualTo(Locality.of("eu-west-3", "eu-west-3c"));
    assertThat(SrvLocalities.zoneLabel(0).apply(target("us-west-2b.dir.internal")))
        .isEqualTo(Locality.of("us-west-2", "us-west-2b"));
  }

  @Test
  void aTargetTheLabelMappingCannotPlaceIsAnError() {
    Function<SrvTarget, Locality> byLabel = SrvLocalities.zoneLabel(3);

    assertThatThrownBy(() -> byLabel.apply(target("a1.us-east-1a.internal")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "target a1.us-east-1a.internal has no label 3 to take the zone from"
                + " (labels count from 0 on the left)");
    assertThatThrownBy(() -> SrvLocalities.zoneLabel(1).apply(target("a1.zone7.internal")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith(
            "zone 'zone7' of target a1.zone7.internal does not end with a letter");
    assertThatThrownBy(() -> SrvLocalities.zoneLabel(-1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("dns zone label position must be between 0 and 126 but was -1");
  }

  @Test
  void aRegionMapPlacesZonesByName() {
    Function<SrvTarget, Locality> byMap =
        SrvLocalities.zoneLabel(1, Map.of("use1-az1", "us-east-1", "room-B", "dc-paris"));

    assertThat(byMap.apply(target("a1.use1-az1.dir.internal")))
        .isEqualTo(Locality.of("us-east-1", "use1-az1"));
    assertThat(byMap.apply(target("a1.ROOM-b.dir.internal")))
        .isEqualTo(Locality.of("dc-paris", "room-b"));
    assertThatThrownBy(() -> byMap.apply(target("a1.use1-az9.dir.internal")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "zone 'use1-az9' of target a1.use1-az9.dir.internal is not in the region map;"
                + " zones there are [room-b, use1-az1]");
    assertThatThrownBy(() -> SrvLocalities.zoneLabel(1, Map.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("dns regionByZone must not be empty");
  }

  @Test
  void aFixedMappingPlacesEveryTargetInOneLocality() {
    Locality home = Locality.of("us-east-1", "us-east-1a");
    assertThat(SrvLocalities.fixed(home).apply(target("anything.example"))).isEqualTo(home);
  }

  @Test
  void srvWeightsBecomeEndpointWeights() {
    assertThat(Lookup.weight(0)).isEqualTo(1);
    assertThat(Lookup.weight(1)).isEqualTo(1);
    assertThat(Lookup.weight(100)).isEqualTo(100);
    assertThat(Lookup.weight(10_000)).isEqualTo(10_000);
    assertThat(Lookup.weight(65_535)).isEqualTo(10_000);
  }

  @Test
  void theNextLookupRunsAfterTheTtlClampedToTheRefreshBounds() {
    Duration min = Duration.ofSeconds(1);
    Duration max = Duration.ofMinutes(5);

    assertThat(DnsEndpointSource.refreshAfter(0, min, max)).isEqualTo(min);
    assertThat(DnsEndpointSource.refreshAfter(30, min, max)).isEqualTo(Duration.ofSeconds(30));
    assertThat(DnsEndpointSource.refreshAfter(86_400, min, max)).isEqualTo(max);
    assertThat(DnsEndpointSource.refreshAfter(Integer.MAX_VALUE * 2L, min, max)).isEqualTo(max);
    assertThat(DnsEndpointSource.refreshAfter(-1, min, max)).isEqualTo(min);
  }

  @Test
  void failuresBackOffDoublingUpToTheMaximum() {
    Duration initial = Duration.ofSeconds(1);
    Duration max = Duration.ofSeconds(30);

    assertThat(DnsEndpointSource.backoff(1, initial, max)).isEqualTo(Duration.ofSeconds(1));
    assertThat(DnsEndpointSource.backoff(2, initial, max)).isEqualTo(Duration.ofSeconds(2));
    assertThat(DnsEndpointSource.backoff(5, initial, max)).isEqualTo(Duration.ofSeconds(16));
    assertThat(DnsEndpointSource.backoff(6, initial, max)).isEqualTo(max);
    assertThat(DnsEndpointSource.backoff(1_000_000, initial, max)).isEqualTo(max);
  }
}
