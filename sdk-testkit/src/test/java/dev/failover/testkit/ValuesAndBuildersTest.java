package dev.failover.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Argument checks with messages naming the setting and value; distributions by sampling. */
class ValuesAndBuildersTest {

  @Test
  void builderRejectsBadSettings() {
    assertThatThrownBy(() -> FakeZones.builder().endpointsPerZone(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("endpointsPerZone must be >= 1 but was 0");
    assertThatThrownBy(() -> FakeZones.builder().endpointsPerZone(17))
        .hasMessage("endpointsPerZone must be <= 16 but was 17");
    assertThatThrownBy(() -> FakeZones.builder().region("r"))
        .hasMessage("region 'r' needs at least one zone but had none");
    assertThatThrownBy(() -> FakeZones.builder().region("r", "a").region("s", "a"))
        .hasMessage("zone 'a' is already declared");
    assertThatThrownBy(() -> FakeZones.builder().region("r", "a", "a"))
        .hasMessage("zone 'a' is already declared");
    assertThatThrownBy(() -> FakeZones.builder().region(""))
        .hasMessage("region name must not be blank but was ''");
    assertThatThrownBy(() -> FakeZones.builder().distance("r", Duration.ofMillis(1)))
        .hasMessage("distance needs a region or zone declared before, but 'r' is not one");
    assertThatThrownBy(
            () -> FakeZones.builder().region("r", "a").distance("a", Duration.ofMillis(-1)))
        .hasMessage("distance must be >= 0 but was PT-0.001S");
    assertThatThrownBy(() -> FakeZones.builder().build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("at least one region is required, declare it with region()");
    assertThatThrownBy(
            () ->
                FakeZones.builder()
                    .region("r", "a", "b", "c", "d", "e")
                    .endpointsPerZone(16)
                    .build())
        .hasMessage(
            "at most 64 endpoints are supported but there were 80 (5 zones x endpointsPerZone 16)");
  }

  @Test
  void faultsRejectBadArguments() {
    assertThatThrownBy(() -> ZoneFault.errors(200, 0.5))
        .hasMessage("errors status must be in [400, 599] but was 200");
    assertThatThrownBy(() -> ZoneFault.errors(503, 0))
        .hasMessage("errors rate must be in (0, 1] but was 0.0");
    assertThatThrownBy(() -> ZoneFault.garbage(1.5))
        .hasMessage("garbage rate must be in (0, 1] but was 1.5");
    assertThatThrownBy(() -> ZoneFault.refuse().sparing("/health"))
        .hasMessage(
            "sparing(...) needs an HTTP fault; socket faults hit every path, but was refuse");
    assertThatThrownBy(() -> ZoneFault.blackhole().sparing("/health"))
        .hasMessage(
            "sparing(...) needs an HTTP fault; socket faults hit every path, but was blackhole");
    assertThatThrownBy(() -> ZoneFault.blackhole().withLatency(Latency.fixed(Duration.ZERO)))
        .hasMessage("withLatency(...) needs an error or garbage fault but was blackhole");
    assertThatThrownBy(() -> ZoneFault.errors(503, 1).sparing("health"))
        .hasMessage("sparing path must start with / but was 'health'");
    ZoneFault flapping =
        ZoneFault.flapping(ZoneFault.hang(), Duration.ofMillis(5), Duration.ofMillis(5));
    assertThatThrownBy(
            () -> ZoneFault.flapping(flapping, Duration.ofMillis(5), Duration.ofMillis(5)))
        .hasMessageStartingWith("flapping fault must not itself be flapping");
    assertThatThrownBy(
            () -> ZoneFault.flapping(ZoneFault.hang(), Duration.ZERO, Duration.ofMillis(5)))
        .hasMessage("flapping down must be >= 1 ms but was PT0S");
    assertThatThrownBy(() -> flapping.sparing("/health"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Latency.uniform(Duration.ofMillis(5), Duration.ofMillis(1)))
        .hasMessage("uniform max must be >= min (PT0.005S) but was PT0.001S");
    assertThatThrownBy(() -> Latency.logNormal(Duration.ZERO, 1))
        .hasMessage("logNormal median must be >= 1 ms but was PT0S");
    // Delays are whole milliseconds: half of one is refused, naming it (it once read "> 0").
    assertThatThrownBy(() -> Latency.logNormal(Duration.ofNanos(500_000), 1))
        .hasMessage("logNormal median must be >= 1 ms but was PT0.0005S");
    assertThatThrownBy(() -> Latency.logNormal(Duration.ofMillis(1), 5))
        .hasMessage("logNormal sigma must be in (0, 4] but was 5.0");
    assertThatThrownBy(() -> Latency.tail(0, Duration.ofSeconds(1)))
        .hasMessage("tail fraction must be in (0, 1] but was 0.0");
  }

  @Test
  void faultsDescribeThemselves() {
    assertThat(ZoneFault.errors(503, 0.5, Duration.ofSeconds(2)).sparing("/health"))
        .hasToString("errors(503, rate 0.5, Retry-After PT2S) sparing [/health]");
    assertThat(
            ZoneFault.flapping(
                ZoneFault.latency(Latency.fixed(Duration.ofMillis(3))),
                Duration.ofSeconds(1),
                Duration.ofSeconds(2)))
        .hasToString("flapping(latency(fixed(3 ms)), down PT1S, up PT2S)");
    assertThat(
            ZoneFault.flapping(ZoneFault.blackhole(), Duration.ofSeconds(1), Duration.ofSeconds(2)))
        .hasToString("flapping(blackhole, down PT1S, up PT2S)");
  }

  @Test
  void tailLatencyMatchesItsFraction() {
    Latency tail = Latency.tail(0.001, Duration.ofSeconds(1));
    Random random = new Random(7);
    int slow = 0;
    for (int i = 0; i < 200_000; i++) {
      long sample = tail.sampleMillis(random);
      assertThat(sample == 0 || sample == 1_000).isTrue();
      if (sample == 1_000) {
        slow++;
      }
    }
    assertThat(slow / 200_000.0).isCloseTo(0.001, within(0.0003));
  }

  @Test
  void logNormalLatencyMatchesItsPercentiles() {
    Latency latency = Latency.logNormal(Duration.ofMillis(100), 0.5);
    Random random = new Random(7);
    long[] samples = new long[100_000];
    for (int i = 0; i < samples.length; i++) {
      samples[i] = latency.sampleMillis(random);
    }
    Arrays.sort(samples);
    assertThat(samples[50_000]).isBetween(97L, 103L);
    // p99 = 100 * exp(0.5 * 2.326) = 320 ms
    assertThat(samples[99_000]).isBetween(305L, 335L);
  }

  @Test
  void uniformLatencyCoversItsRange() {
    Latency latency = Latency.uniform(Duration.ofMillis(10), Duration.ofMillis(20));
    Random random = new Random(7);
    long[] counts = new long[21];
    for (int i = 0; i < 110_000; i++) {
      counts[(int) latency.sampleMillis(random)]++;
    }
    for (int ms = 10; ms <= 20; ms++) {
      assertThat(counts[ms]).isBetween(9_000L, 11_000L);
    }
    assertThat(counts[9]).isZero();
  }

  @Test
  void sameSeedSameOutcomes() {
    Latency latency = Latency.logNormal(Duration.ofMillis(10), 1);
    Random first = new Random(99);
    Random second = new Random(99);
    for (int i = 0; i < 100; i++) {
      assertThat(latency.sampleMillis(first)).isEqualTo(latency.sampleMillis(second));
    }
  }

  @Test
  void retryAfterIsInWholeSecondsRoundedUpFromTheNanosecond() {
    assertThat(ZoneFault.retryAfterSeconds(Duration.ZERO)).isZero();
    assertThat(ZoneFault.retryAfterSeconds(Duration.ofNanos(500_000))).as("0.5 ms").isEqualTo(1);
    assertThat(ZoneFault.retryAfterSeconds(Duration.ofNanos(1))).isEqualTo(1);
    assertThat(ZoneFault.retryAfterSeconds(Duration.ofSeconds(1))).isEqualTo(1);
    assertThat(ZoneFault.retryAfterSeconds(Duration.ofMillis(1001))).isEqualTo(2);
    assertThat(ZoneFault.retryAfterSeconds(Duration.ofMinutes(10))).isEqualTo(600);
  }

  @Test
  void aLatencysDurationsAreCutToWholeMilliseconds() {
    Random random = new Random(7);
    assertThat(Latency.fixed(Duration.ofNanos(1_900_000)).sampleMillis(random)).isEqualTo(1);
    assertThat(Latency.fixed(Duration.ofNanos(900_000)).sampleMillis(random)).isZero();
    assertThat(Latency.tail(1.0, Duration.ofNanos(2_999_999)).sampleMillis(random)).isEqualTo(2);
  }

  @Test
  void endpointDescriptorIsAValue() {
    EndpointDescriptor a = new EndpointDescriptor("http://127.0.0.1:1", "r", "z");
    assertThat(a).isEqualTo(new EndpointDescriptor("http://127.0.0.1:1", "r", "z"));
    assertThatThrownBy(() -> new EndpointDescriptor(null, "r", "z"))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("url");
  }
}
