package dev.failover.drill;

import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;

import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
import dev.failover.testkit.FakeZones;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * An Okta-style directory: users, groups and group memberships, with JSON bodies shaped like Okta's
 * {@code /api/v1} answers, served by every fake endpoint; and the drill's request mix.
 */
final class DirectoryApi {
  static final int USERS = 200;
  static final int GROUPS = 20;

  /** Median of the natural latency of every answer, before distance (milliseconds). */
  static final double MEDIAN_MILLIS = 3;

  /** Spread of the natural latency: about 5% of answers take more than twice the median. */
  static final double SIGMA = 0.45;

  private static final String[] FIRST = {
    "Ada", "Alan", "Barbara", "Edsger", "Grace", "John", "Ken", "Leslie", "Margaret", "Niklaus",
    "Radia", "Sophie", "Tim", "Whitfield", "Frances", "Donald", "Lynn", "Dennis", "Anita", "Robin"
  };
  private static final String[] LAST = {
    "Lovelace", "Turing", "Liskov", "Dijkstra", "Hopper", "Backus", "Thompson", "Lamport",
    "Hamilton", "Wirth", "Perlman", "Wilson", "Berners-Lee", "Diffie", "Allen", "Knuth",
    "Conway", "Ritchie", "Borg", "Milner"
  };
  private static final String[] TEAMS = {
    "Engineering",
    "Sales",
    "Support",
    "Finance",
    "Legal",
    "Marketing",
    "Design",
    "Security",
    "Operations",
    "Research"
  };

  private final long seed;
  private final List<String> userIds = new ArrayList<>();
  private final List<String> groupIds = new ArrayList<>();

  DirectoryApi(long seed) {
    this.seed = seed;
    for (int i = 0; i < USERS; i++) {
      userIds.add(oktaId("00u", i));
    }
    for (int i = 0; i < GROUPS; i++) {
      groupIds.add(oktaId("00g", i));
    }
  }

  /** Okta ids are 20 characters: a 3-character type prefix and 17 of base-62-ish noise. */
  private String oktaId(String prefix, int index) {
    Random r = new Random(seed * 31 + prefix.hashCode() * 1_000_003L + index);
    String alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    StringBuilder sb = new StringBuilder(prefix);
    while (sb.length() < 20) {
      sb.append(alphabet.charAt(r.nextInt(alphabet.length())));
    }
    return sb.toString();
  }

  /** Registers every stub, and a {@code /health} answer, on every endpoint. */
  void stub(FakeZones zones) {
    zones.stubAll(get(urlEqualTo("/health")).willReturn(okJson("{\"status\":\"UP\"}")));
    for (int i = 0; i < USERS; i++) {
      String id = userIds.get(i);
      zones.stubAll(get(urlEqualTo("/api/v1/users/" + id)).willReturn(natural(userJson(i))));
      zones.stubAll(
          get(urlEqualTo("/api/v1/users/" + id + "/groups"))
              .willReturn(natural(userGroupsJson(i))));
    }
    for (int i = 0; i < GROUPS; i++) {
      zones.stubAll(
          get(urlEqualTo("/api/v1/groups/" + groupIds.get(i))).willReturn(natural(groupJson(i))));
    }
  }

  private static ResponseDefinitionBuilder natural(String json) {
    return okJson(json).withLogNormalRandomDelay(MEDIAN_MILLIS, SIGMA);
  }

  /**
   * Returns the path of request {@code i} of the mix: 80% GET a user, 10% a user's groups, 10% a
   * group. The same generator gives both clients the same sequence.
   */
  static final class Mix {
    private final DirectoryApi api;
    private final Random random;

    Mix(DirectoryApi api, long seed) {
      this.api = api;
      this.random = new Random(seed);
    }

    String next() {
      int kind = random.nextInt(10);
      if (kind < 8) {
        return "/api/v1/users/" + api.userIds.get(random.nextInt(USERS));
      }
      if (kind == 8) {
        return "/api/v1/users/" + api.userIds.get(random.nextInt(USERS)) + "/groups";
      }
      return "/api/v1/groups/" + api.groupIds.get(random.nextInt(GROUPS));
    }
  }

  private String userJson(int i) {
    Random r = new Random(seed * 7919 + i);
    String first = FIRST[r.nextInt(FIRST.length)];
    String last = LAST[r.nextInt(LAST.length)];
    String login = (first + "." + last).toLowerCase(java.util.Locale.ROOT) + i + "@example.com";
    Instant created = Instant.parse("2019-03-01T09:00:00Z").plusSeconds(r.nextInt(150_000_000));
    Instant lastLogin = created.plusSeconds(r.nextInt(40_000_000));
    String id = userIds.get(i);
    return "{\"id\":\""
        + id
        + "\",\"status\":\""
        + (r.nextInt(20) == 0 ? "SUSPENDED" : "ACTIVE")
        + "\",\"created\":\""
        + created
        + "\",\"activated\":\""
        + created.plusSeconds(600)
        + "\",\"lastLogin\":\""
        + lastLogin
        + "\",\"lastUpdated\":\""
        + lastLogin
        + "\",\"profile\":{\"firstName\":\""
        + first
        + "\",\"lastName\":\""
        + last
        + "\",\"email\":\""
        + login
        + "\",\"login\":\""
        + login
        + "\",\"department\":\""
        + TEAMS[r.nextInt(TEAMS.length)]
        + "\",\"mobilePhone\":null},\"credentials\":{\"provider\":{\"type\":\"OKTA\","
        + "\"name\":\"OKTA\"}},\"_links\":{\"self\":{\"href\":\"https://example.okta.com/api/v1/users/"
        + id
        + "\"}}}";
  }

  private String groupJson(int g) {
    String id = groupIds.get(g);
    String team = TEAMS[g % TEAMS.length];
    String name = g < TEAMS.length ? team : team + " Contractors";
    return "{\"id\":\""
        + id
        + "\",\"created\":\"2019-02-11T16:30:00.000Z\",\"lastUpdated\":\"2024-05-02T08:12:44.000Z\","
        + "\"lastMembershipUpdated\":\"2025-01-20T10:01:05.000Z\",\"objectClass\":[\"okta:user_group\"],"
        + "\"type\":\"OKTA_GROUP\",\"profile\":{\"name\":\""
        + name
        + "\",\"description\":\"Everyone in "
        + name
        + "\"},\"_links\":{\"users\":{\"href\":\"https://example.okta.com/api/v1/groups/"
        + id
        + "/users\"}}}";
  }

  private String userGroupsJson(int i) {
    Random r = new Random(seed * 104_729 + i);
    int count = 1 + r.nextInt(3);
    StringBuilder sb = new StringBuilder("[");
    for (int k = 0; k < count; k++) {
      if (k > 0) {
        sb.append(',');
      }
      sb.append(groupJson((i + k * 7) % GROUPS));
    }
    return sb.append(']').toString();
  }
}
