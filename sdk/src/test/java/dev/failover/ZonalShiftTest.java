package dev.failover;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.failover.testkit.FakeZones;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** An operator's zonal shift: at once, visible, bounded, never away from the last zone. */
class ZonalShiftTest {

  @RegisterExtension static FakeZones zones = Zones3.zones();

  private final Zones3.Recorder recorder = new Zones3.Recorder();

  @BeforeEach
  void stub() {
    Zones3.stub(zones);
  }

  private static void firstZone(FailoverClient client, int id) throws IOException {
    Request request = new Request.Builder().url("http://directory/api/v1/users/" + id).build();
    try (Response r = client.newCall(request).execute()) {
      assertThat(r.code()).isEqualTo(200);
    }
  }

  private List<String> firstAttemptZones() {
    return recorder.attempts().stream()
        .filter(a -> a.kind() == Attempt.Kind.FIRST)
        .map(a -> a.endpoint().locality().zone())
        .toList();
  }

  @Test
  void aShiftMovesFirstAttemptsAwayAtOnceAndACancelBringsThemBack() throws IOException {
    try (FailoverClient client =
        Zones3.client(zones)
            .listener(recorder)
            .zones(ZonePolicy.defaults().withReturn(Duration.ofSeconds(10), Duration.ZERO))
            .build()) {
      for (int i = 0; i < 20; i++) {
        firstZone(client, i);
      }
      assertThat(firstAttemptZones()).containsOnly("us-east-1a");

      Instant until = client.shiftAway("us-east-1a", Duration.ofMinutes(30), "test:alice");
      assertThat(until).isAfter(Instant.now().plus(Duration.ofMinutes(29)));
      recorder.events.clear();
      for (int i = 0; i < 50; i++) {
        firstZone(client, i);
      }
      assertThat(firstAttemptZones()).doesNotContain("us-east-1a").contains("us-east-1b");
      FailoverSnapshot.Zone home = client.snapshot().zones().get(0);
      assertThat(home.status()).isEqualTo(FailoverSnapshot.ZoneStatus.SHIFTED);
      assertThat(home.reason()).startsWith("shifted away by test:alice until ");
      assertThat(recorder.events)
          .noneMatch(e -> e instanceof FailoverEvent.ZoneEvacuated); // a shift is not a fault

      assertThat(client.cancelShift("us-east-1a", "test:alice")).isTrue();
      assertThat(client.cancelShift("us-east-1a", "test:alice")).isFalse();
      recorder.events.clear();
      for (int i = 0; i < 20; i++) {
        firstZone(client, i);
      }
      assertThat(firstAttemptZones()).containsOnly("us-east-1a");
      assertThat(client.snapshot().zones().get(0).status())
          .isEqualTo(FailoverSnapshot.ZoneStatus.ACTIVE);
    }
  }

  @Test
  void theLastZoneInRotationCannotBeShiftedAwayAndBadInputIsNamed() {
    try (FailoverClient client = Zones3.client(zones).listener(recorder).build()) {
      client.shiftAway("us-east-1a", Duration.ofMinutes(5), "test");
      client.shiftAway("us-east-1b", Duration.ofMinutes(5), "test");
      assertThatThrownBy(() -> client.shiftAway("us-west-2a", Duration.ofMinutes(5), "test"))
          .isInstanceOf(IllegalStateException.class)
          .hasMessage(
              "cannot shift traffic away from zone 'us-west-2a': no other zone in rotation has an"
                  + " endpoint that takes traffic");
      assertThatThrownBy(() -> client.shiftAway("us-east-9z", Duration.ofMinutes(5), "test"))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith("no zone 'us-east-9z'; zones are ");
      assertThatThrownBy(() -> client.shiftAway("us-east-1a", Duration.ofDays(4), "test"))
          .hasMessage("zonal shift duration must be between 1 s and 3 days but was PT96H");
      assertThatThrownBy(() -> client.shiftAway("us-east-1a", Duration.ofMinutes(1), " "))
          .hasMessageStartingWith("zonal shift requestedBy must name who or what asks");
      assertThat(recorder.events)
          .filteredOn(e -> e instanceof FailoverEvent.ZoneShifted)
          .hasSize(2);
    }
  }

  private static FailoverSnapshot.ZoneStatus status(FailoverClient client, String zone) {
    return client.snapshot().zones().stream()
        .filter(z -> z.locality().zone().equals(zone))
        .findFirst()
        .orElseThrow()
        .status();
  }

  /**
   * A shift cancelled by the zone's other name (region/zone, or its name alone) stays cancelled
   * through a reconfigure(): the client kept shifts by the name they were made with, and the next
   * configuration brought back the one cancelled by the other name, up to 3 days.
   */
  @Test
  void aShiftCancelledByTheZonesOtherNameStaysCancelledThroughAReconfigure() {
    try (FailoverClient client = Zones3.client(zones).listener(recorder).build()) {
      client.shiftAway("us-east-1a", Duration.ofHours(1), "test:alice");
      assertThat(client.cancelShift("us-east-1/us-east-1a", "test:bob")).isTrue();
      client.reconfigure(b -> b.deadline(Duration.ofSeconds(3)));
      assertThat(status(client, "us-east-1a")).isNotEqualTo(FailoverSnapshot.ZoneStatus.SHIFTED);

      // Shifted again by its other name, then cancelled by the first: the later shift is the one.
      client.shiftAway("us-east-1a", Duration.ofHours(1), "test:alice");
      client.shiftAway("us-east-1/us-east-1a", Duration.ofHours(2), "test:carol");
      assertThat(client.cancelShift("us-east-1a", "test:bob")).isTrue();
      client.reconfigure(b -> b.deadline(Duration.ofSeconds(4)));
      assertThat(status(client, "us-east-1a")).isNotEqualTo(FailoverSnapshot.ZoneStatus.SHIFTED);
    }
  }

  /**
   * Zone names may hold '/' (a region may not): zone "eu/west/1" of region "x" and zone "west/1" of
   * region "eu" are both named "eu/west/1", plainly and as region/zone. Such a name is refused as
   * ambiguous, as a zone name in two regions is; one of the two zones was shifted.
   */
  @Test
  void aNameThatFitsOneZonePlainlyAndAnotherAsRegionSlashZoneIsRefused() {
    try (FailoverClient client =
        FailoverClient.builder()
            .service("directory")
            .home("eu", "west/1")
            .endpoint("http://127.0.0.1:1", "eu", "west/1")
            .endpoint("http://127.0.0.1:2", "x", "eu/west/1")
            .endpoint("http://127.0.0.1:3", "eu", "y")
            .build()) {
      assertThatThrownBy(() -> client.shiftAway("eu/west/1", Duration.ofMinutes(5), "test"))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage(
              "zone 'eu/west/1' names two zones: zone 'eu/west/1' of region 'x', and zone"
                  + " 'west/1' of region 'eu' as region/zone; rename one of them");
      assertThat(client.snapshot().zones())
          .allSatisfy(z -> assertThat(z.status()).isEqualTo(FailoverSnapshot.ZoneStatus.ACTIVE));
      // Named by their other names, each is found.
      client.shiftAway("x/eu/west/1", Duration.ofMinutes(5), "test");
      assertThat(client.cancelShift("x/eu/west/1", "test")).isTrue();
    }
  }

  @Test
  void cancellingAShiftThatHasExpiredSaysNoneWasInForce() throws Exception {
    try (FailoverClient client = Zones3.client(zones).listener(recorder).build()) {
      client.shiftAway("us-east-1a", Duration.ofSeconds(1), "test:alice");
      // The zone judgement (once a second) ends it once its second is over.
      long until = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(20);
      while (recorder.of(FailoverEvent.ZoneShiftEnded.class).isEmpty()
          && System.nanoTime() < until) {
        Thread.sleep(20);
      }
      assertThat(recorder.of(FailoverEvent.ZoneShiftEnded.class))
          .singleElement()
          .satisfies(e -> assertThat(e.reason()).isEqualTo("expired"));
      assertThat(client.cancelShift("us-east-1a", "test:bob")).isFalse();
      assertThat(recorder.of(FailoverEvent.ZoneShiftEnded.class)).hasSize(1);
    }
  }
}
