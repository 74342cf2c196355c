package dev.failover;

import static com.github.tomakehurst.wiremock.client.WireMock.any;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.ok;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;

import dev.failover.testkit.EndpointDescriptor;
import dev.failover.testkit.FakeZones;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import okhttp3.Request;
import okhttp3.Response;

/** Shared set-up of the integration tests: three zones in two regions, helpers to build clients. */
final class Zones3 {
  private Zones3() {}

  static FakeZones zones() {
    return FakeZones.builder()
        .region("us-east-1", "us-east-1a", "us-east-1b")
        .region("us-west-2", "us-west-2a")
        .endpointsPerZone(2)
        .seed(11)
        .build();
  }

  static void stub(FakeZones zones) {
    zones.stubAll(any(anyUrl()).willReturn(okJson("{\"id\":\"00u1\",\"status\":\"ACTIVE\"}")));
    zones.stubAll(get(urlPathEqualTo("/health")).willReturn(ok("up")));
  }

  static List<Endpoint> endpoints(FakeZones zones) {
    List<Endpoint> list = new ArrayList<>();
    for (EndpointDescriptor d : zones.endpoints()) {
      list.add(Endpoint.of(d.url(), d.region(), d.zone()));
    }
    return list;
  }

  /** {@code GET http://directory/api/v1/users/<id>}. */
  static Request user(int id) {
    return new Request.Builder().url("http://directory/api/v1/users/" + id).build();
  }

  /**
   * {@code r} built anew, as an application interceptor that copies URL, method, headers and body
   * does: without its tags.
   */
  static Request withoutTags(Request r) {
    return new Request.Builder()
        .url(r.url())
        .headers(r.headers())
        .method(r.method(), r.body())
        .build();
  }

  /**
   * Makes the 60 calls (users {@code firstId} on) that fill a client's hedge bucket: hedges are
   * paid for by calls, 5% of a token each.
   */
  static void fillHedgeBucket(FailoverClient client, int firstId) throws java.io.IOException {
    for (int i = 0; i < 60; i++) {
      try (Response r = client.newCall(user(firstId + i)).execute()) {
        org.assertj.core.api.Assertions.assertThat(r.code()).isEqualTo(200);
      }
    }
  }

  static FailoverClient.Builder client(FakeZones zones) {
    return FailoverClient.builder()
        .service("directory")
        .home("us-east-1", "us-east-1a")
        .endpoints(endpoints(zones));
  }

  /** Collects every event. */
  static final class Recorder implements FailoverListener {
    final List<FailoverEvent> events = new CopyOnWriteArrayList<>();

    @Override
    public void onAttempt(FailoverEvent.AttemptFinished event) {
      events.add(event);
    }

    @Override
    public void onRetry(FailoverEvent.RetryScheduled event) {
      events.add(event);
    }

    @Override
    public void onBudgetExhausted(FailoverEvent.BudgetExhausted event) {
      events.add(event);
    }

    @Override
    public void onEjected(FailoverEvent.EndpointEjected event) {
      events.add(event);
    }

    @Override
    public void onRestored(FailoverEvent.EndpointRestored event) {
      events.add(event);
    }

    @Override
    public void onCallFinished(FailoverEvent.CallFinished event) {
      events.add(event);
    }

    @Override
    public void onHedge(FailoverEvent.Hedge event) {
      events.add(event);
    }

    @Override
    public void onZoneEvacuated(FailoverEvent.ZoneEvacuated event) {
      events.add(event);
    }

    @Override
    public void onZoneRestored(FailoverEvent.ZoneRestored event) {
      events.add(event);
    }

    @Override
    public void onZoneShifted(FailoverEvent.ZoneShifted event) {
      events.add(event);
    }

    @Override
    public void onZoneShiftEnded(FailoverEvent.ZoneShiftEnded event) {
      events.add(event);
    }

    @Override
    public void onStaleServed(FailoverEvent.StaleServed event) {
      events.add(event);
    }

    <T extends FailoverEvent> List<T> of(Class<T> type) {
      List<T> out = new ArrayList<>();
      for (FailoverEvent e : events) {
        if (type.isInstance(e)) {
          out.add(type.cast(e));
        }
      }
      return out;
    }

    List<Attempt> attempts() {
      return of(FailoverEvent.AttemptFinished.class).stream()
          .map(FailoverEvent.AttemptFinished::attempt)
          .toList();
    }
  }
}
