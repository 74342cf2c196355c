package dev.failover.testkit;

import com.github.tomakehurst.wiremock.matching.RequestPattern;
import com.github.tomakehurst.wiremock.matching.RequestPatternBuilder;
import com.github.tomakehurst.wiremock.stubbing.ServeEvent;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.jspecify.annotations.Nullable;

/** Counting and searching the WireMock request journals of a set of endpoints. */
final class Journals {

  private Journals() {}

  static int count(
      List<FakeEndpoint> endpoints, @Nullable Mark since, @Nullable RequestPatternBuilder pattern) {
    RequestPattern built = pattern == null ? null : pattern.build();
    int count = 0;
    for (FakeEndpoint endpoint : endpoints) {
      for (ServeEvent event : endpoint.server().getAllServeEvents()) {
        if ((since == null || !since.saw(endpoint, event.getId()))
            && (built == null || built.match(event.getRequest()).isExactMatch())) {
          count++;
        }
      }
    }
    return count;
  }

  static List<LoggedRequest> findAll(List<FakeEndpoint> endpoints, RequestPatternBuilder pattern) {
    RequestPattern built = pattern.build();
    List<LoggedRequest> out = new ArrayList<>();
    for (FakeEndpoint endpoint : endpoints) {
      List<LoggedRequest> mine = new ArrayList<>();
      for (ServeEvent event : endpoint.server().getAllServeEvents()) {
        if (built.match(event.getRequest()).isExactMatch()) {
          mine.add(event.getRequest());
        }
      }
      Collections.reverse(mine); // the journal lists newest first
      out.addAll(mine);
    }
    return List.copyOf(out);
  }

  static Mark mark(List<FakeEndpoint> endpoints) {
    Map<FakeEndpoint, Set<UUID>> seen = new HashMap<>();
    for (FakeEndpoint endpoint : endpoints) {
      Set<UUID> ids = new HashSet<>();
      for (ServeEvent event : endpoint.server().getAllServeEvents()) {
        ids.add(event.getId());
      }
      seen.put(endpoint, Set.copyOf(ids));
    }
    return new Mark(seen);
  }
}
