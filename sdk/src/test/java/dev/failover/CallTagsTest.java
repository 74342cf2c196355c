package dev.failover;

import static com.github.tomakehurst.wiremock.client.WireMock.any;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.ok;
import static org.assertj.core.api.Assertions.assertThat;

import dev.failover.testkit.FakeZones;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import okhttp3.Call;
import okhttp3.EventListener;
import okhttp3.OkHttpClient;
import okhttp3.Response;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Tags set on a call ({@code call.tag(type, computeIfAbsent)}) reach the application's interceptors
 * and event listeners through each attempt's OkHttp call, as on a bare OkHttp call. Before, they
 * saw none.
 */
class CallTagsTest {

  @RegisterExtension
  static final FakeZones zones =
      FakeZones.builder().region("us-east-1", "us-east-1a").endpointsPerZone(1).seed(3).build();

  /** A tag of the application's: a tenant, say. */
  record Tenant(String name) {}

  @Test
  void theCallsTagsReachTheApplicationsInterceptorsAndListeners() throws IOException {
    zones.stubAll(any(anyUrl()).willReturn(ok("up")));
    List<String> seen = new CopyOnWriteArrayList<>();
    OkHttpClient okHttp =
        new OkHttpClient.Builder()
            .addInterceptor(
                chain -> {
                  Tenant t = chain.call().tag(Tenant.class);
                  seen.add("interceptor " + (t == null ? null : t.name()));
                  return chain.proceed(chain.request());
                })
            .eventListener(
                new EventListener() {
                  @Override
                  public void callStart(Call call) {
                    Tenant t = call.tag(Tenant.class);
                    seen.add("callStart " + (t == null ? null : t.name()));
                  }
                })
            .build();
    try (FailoverClient client =
        Zones3.client(zones).home("us-east-1", "us-east-1a").okHttpClient(okHttp).build()) {
      Call call = client.newCall(Zones3.user(1));
      assertThat(call.tag(Tenant.class, () -> new Tenant("acme"))).isEqualTo(new Tenant("acme"));

      try (Response response = call.execute()) {
        assertThat(response.code()).isEqualTo(200);
      }

      assertThat(seen).containsExactly("callStart acme", "interceptor acme");
      // A call without the tag: none.
      seen.clear();
      try (Response response = client.newCall(Zones3.user(2)).execute()) {
        assertThat(response.code()).isEqualTo(200);
      }
      assertThat(seen).containsExactly("callStart null", "interceptor null");
    }
  }
}
