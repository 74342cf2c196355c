package dev.failover.testkit;

import com.github.tomakehurst.wiremock.client.MappingBuilder;
import com.github.tomakehurst.wiremock.matching.RequestPatternBuilder;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A set of fake endpoints that can be failed, healed, stubbed and counted together: everything
 * ({@link FakeZones}), a {@link FakeRegion}, a {@link FakeZone} or one {@link FakeEndpoint}.
 *
 * <p><b>What counts as a received request.</b> Counts and {@link #findAll(RequestPatternBuilder)}
 * read the WireMock request journals: a request counts once WireMock has read it, whatever the
 * response (a stub, a 404 for no stub, an injected error, garbage, or a response cut off by {@link
 * ZoneFault#reset()}). A request refused ({@link ZoneFault#refuse()}) or held ({@link
 * ZoneFault#hang()}) at the proxy never reaches WireMock and does not count. The journals are
 * cleared between tests and by {@link FakeZones#resetCounts()}.
 *
 * <pre>{@code
 * zones.zone("us-east-1a").fail(ZoneFault.refuse());
 * Mark mark = zones.mark();
 * // ... drive traffic ...
 * assertThat(zones.zone("us-east-1a").requestCount(mark)).isZero();
 * assertThat(zones.region("us-east-1").findAll(postRequestedFor(urlEqualTo("/users"))))
 *     .hasSize(1);
 * }</pre>
 */
public sealed interface FakeTarget permits FakeZones, FakeRegion, FakeZone, FakeEndpoint {

  /**
   * Returns the endpoints of this target, in declaration order (region, zone, index).
   *
   * @return the endpoint handles
   */
  List<FakeEndpoint> fakeEndpoints();

  /**
   * Returns the endpoints of this target as plain descriptors, in declaration order.
   *
   * @return one descriptor per endpoint
   * @throws IllegalStateException if the fake zones are not running
   */
  default List<EndpointDescriptor> endpoints() {
    List<EndpointDescriptor> out = new ArrayList<>();
    for (FakeEndpoint endpoint : fakeEndpoints()) {
      out.add(endpoint.descriptor());
    }
    return List.copyOf(out);
  }

  /**
   * Injects {@code fault} into every endpoint of this target, replacing the fault each one had. It
   * takes effect at once, on requests and connections already in flight where the real outage would
   * (see {@link ZoneFault}). Endpoints of one call that flap do so in step.
   *
   * @param fault the fault
   * @throws IllegalStateException if the fake zones are not running
   */
  default void fail(ZoneFault fault) {
    Objects.requireNonNull(fault, "fault");
    long start = System.nanoTime();
    for (FakeEndpoint endpoint : fakeEndpoints()) {
      endpoint.apply(fault, start);
    }
  }

  /**
   * Removes the fault of every endpoint of this target: refused ports listen again, hung
   * connections resume (but one whose client sent more than 16 KiB while held is reset, see {@link
   * ZoneFault#hang()}). Distance is kept. {@link FakeZones#reset()} heals too, but resets the
   * connections held with a request in them instead of resuming them.
   *
   * @throws IllegalStateException if the fake zones are not running
   */
  default void heal() {
    for (FakeEndpoint endpoint : fakeEndpoints()) {
      endpoint.apply(null, System.nanoTime());
    }
  }

  /**
   * Registers a WireMock stub on every endpoint of this target.
   *
   * @param mapping the stub, such as {@code get("/users/42").willReturn(okJson("{}"))}
   * @throws IllegalStateException if the fake zones are not running
   */
  default void stubFor(MappingBuilder mapping) {
    Objects.requireNonNull(mapping, "mapping");
    for (FakeEndpoint endpoint : fakeEndpoints()) {
      endpoint.server().stubFor(mapping);
    }
  }

  /**
   * Returns how many requests the endpoints of this target received.
   *
   * @return the number of requests in the journals
   */
  default int requestCount() {
    return Journals.count(fakeEndpoints(), null, null);
  }

  /**
   * Returns how many requests the endpoints of this target received after {@code since}.
   *
   * @param since a mark from {@link FakeZones#mark()}
   * @return the number of requests received after the mark
   */
  default int requestCount(Mark since) {
    return Journals.count(fakeEndpoints(), Objects.requireNonNull(since, "since"), null);
  }

  /**
   * Returns how many requests matching {@code pattern} the endpoints of this target received; for
   * example {@code requestCount(getRequestedFor(urlPathMatching("/users/.*")))} leaves out health
   * probes.
   *
   * @param pattern a WireMock request pattern
   * @return the number of matching requests
   */
  default int requestCount(RequestPatternBuilder pattern) {
    return Journals.count(fakeEndpoints(), null, Objects.requireNonNull(pattern, "pattern"));
  }

  /**
   * Returns how many requests matching {@code pattern} the endpoints of this target received after
   * {@code since}.
   *
   * @param since a mark from {@link FakeZones#mark()}
   * @param pattern a WireMock request pattern
   * @return the number of matching requests received after the mark
   */
  default int requestCount(Mark since, RequestPatternBuilder pattern) {
    return Journals.count(
        fakeEndpoints(),
        Objects.requireNonNull(since, "since"),
        Objects.requireNonNull(pattern, "pattern"));
  }

  /**
   * Returns the recorded requests matching {@code pattern}, headers and body included, oldest first
   * within each endpoint, endpoints in declaration order.
   *
   * @param pattern a WireMock request pattern, such as {@code postRequestedFor(urlEqualTo("/x"))}
   * @return the matching requests
   */
  default List<LoggedRequest> findAll(RequestPatternBuilder pattern) {
    return Journals.findAll(fakeEndpoints(), Objects.requireNonNull(pattern, "pattern"));
  }
}
