package dev.failover.testkit;

import com.github.tomakehurst.wiremock.extension.ResponseDefinitionTransformerV2;
import com.github.tomakehurst.wiremock.http.ResponseDefinition;
import com.github.tomakehurst.wiremock.stubbing.ServeEvent;

/** Applied by WireMock to every response of one endpoint: adds distance and HTTP faults. */
final class FaultTransformer implements ResponseDefinitionTransformerV2 {

  private final FakeEndpoint endpoint;

  FaultTransformer(FakeEndpoint endpoint) {
    this.endpoint = endpoint;
  }

  @Override
  public ResponseDefinition transform(ServeEvent serveEvent) {
    return endpoint.respond(serveEvent);
  }

  @Override
  public boolean applyGlobally() {
    return true;
  }

  @Override
  public String getName() {
    return "failover-testkit-faults";
  }
}
