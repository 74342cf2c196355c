package dev.failover;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.util.List;
import okhttp3.HttpUrl;
import org.junit.jupiter.api.Test;

/**
 * An attempt's URL made from its parts (the endpoint's origin and base path, the caller's path and
 * query) is the URL OkHttp's builder makes, in every part; and the check at start-up that decides
 * whether to make them that way turns down a constructor that makes anything else.
 */
class EndpointUrlTest {

  private static final String[] BASES = {
    "http://127.0.0.1:10000",
    "http://127.0.0.1:10000/",
    "https://dir-a.internal:8443/api/",
    "http://10.0.0.7/api",
    "https://[2001:db8::7]/v1/users-svc/",
    "http://h.internal:80/a%20b/c",
    "https://h.internal:443/",
    "http://xn--bcher-kva.example/%E2%82%AC/",
  };

  private static final String[] LOGICALS = {
    "http://directory/users/42",
    "http://directory/",
    "http://directory",
    "http://directory/users/42?fields=name,email",
    "http://directory/users/42?",
    "http://directory/users/42?a=1&a=2&flag&=empty&b=",
    "http://directory/a%20b/c%2Fd/?x=%20y+z&q=%E2%82%AC#fragment",
    "http://directory/users/42#only-a-fragment",
    "https://user:p%40ss@directory:8443/p/?x=1",
    "http://directory//double//slashes//",
    "http://directory/%3F/%23?%23=%3F",
    "http://directory/caf%C3%A9/bücher?name=jürgen",
    "http://directory/a/./b/../c?",
  };

  @Test
  void attemptUrlsAreWhatOkHttpsBuilderMakesInEveryPart() {
    // On the class path, where the tests run, OkHttp's package is open: the fast way is the one
    // under test here.
    assertThat(EndpointUrl.fastWay()).isTrue();
    for (String b : BASES) {
      EndpointUrl endpoint = new EndpointUrl(HttpUrl.get(b));
      for (String l : LOGICALS) {
        HttpUrl logical = HttpUrl.get(l);
        HttpUrl made = endpoint.attemptUrl(logical);
        HttpUrl reference = endpoint.builder(logical);
        assertThat(EndpointUrl.sameInEveryPart(made, reference))
            .as("%s sent to %s: made %s, builder %s", l, b, made, reference)
            .isTrue();
        // And read back the way OkHttp reads a request's URL.
        assertThat(made.newBuilder().build()).isEqualTo(reference);
        assertThat(made.resolve("x")).isEqualTo(reference.resolve("x"));
      }
    }
  }

  @Test
  void anAttemptUrlKeepsTheCallersPathAndQueryUnderTheBasePath() {
    EndpointUrl endpoint = new EndpointUrl(HttpUrl.get("https://[2001:db8::7]:8443/v1/"));
    HttpUrl made =
        endpoint.attemptUrl(HttpUrl.get("http://directory/a%20b/c?x=%20y&flag#fragment"));
    assertThat(made.toString()).isEqualTo("https://[2001:db8::7]:8443/v1/a%20b/c?x=%20y&flag");
    assertThat(made.pathSegments()).containsExactly("v1", "a b", "c");
    assertThat(made.queryParameter("x")).isEqualTo(" y");
    assertThat(made.queryParameterNames()).containsExactly("x", "flag");
    assertThat(made.fragment()).isNull();
    assertThat(made.host()).isEqualTo("2001:db8::7");
    assertThat(made.port()).isEqualTo(8443);
  }

  @Test
  void theCheckTakesAConstructorThatMakesTheSameUrls() {
    assertThat(EndpointUrl.checked((endpoint, logical, segments, text) -> HttpUrl.get(text)))
        .isTrue();
  }

  @Test
  void theCheckTurnsDownAConstructorThatMakesAnythingElse() {
    // Each differs from the builder in one part only, or throws.
    EndpointUrl.Maker extraSegment =
        (endpoint, logical, segments, text) ->
            HttpUrl.get(text).newBuilder().addPathSegment("x").build();
    EndpointUrl.Maker noQuery =
        (endpoint, logical, segments, text) -> HttpUrl.get(text).newBuilder().query(null).build();
    EndpointUrl.Maker otherPort =
        (endpoint, logical, segments, text) ->
            HttpUrl.get(text).newBuilder().port(endpoint.port() + 1).build();
    EndpointUrl.Maker fails =
        (endpoint, logical, segments, text) -> {
          throw new IllegalStateException("a constructor that fails");
        };
    assertThat(EndpointUrl.checked(extraSegment)).as("extra segment").isFalse();
    assertThat(EndpointUrl.checked(noQuery)).as("no query").isFalse();
    assertThat(EndpointUrl.checked(otherPort)).as("other port").isFalse();
    assertThat(EndpointUrl.checked(fails)).as("fails").isFalse();
  }

  /**
   * The way another OkHttp's constructor would differ: the same text, its parts taken otherwise
   * (here the path segments still encoded). Only the check's part-by-part comparison sees it.
   */
  @Test
  void theCheckTurnsDownAConstructorWhosePartsDifferUnderTheSameText() throws Exception {
    MethodHandles.Lookup lookup =
        MethodHandles.privateLookupIn(HttpUrl.class, MethodHandles.lookup());
    MethodHandle constructor =
        lookup.findConstructor(HttpUrl.class, EndpointUrl.HTTP_URL_CONSTRUCTOR);
    MethodHandle query = lookup.findGetter(HttpUrl.class, "queryNamesAndValues", List.class);
    EndpointUrl.Maker encodedSegments =
        (endpoint, logical, segments, text) ->
            (HttpUrl)
                constructor.invoke(
                    endpoint.scheme(),
                    endpoint.username(),
                    endpoint.password(),
                    endpoint.host(),
                    endpoint.port(),
                    HttpUrl.get(text).encodedPathSegments(),
                    query.invoke(logical),
                    null,
                    text);
    HttpUrl madeThatWay =
        new EndpointUrl(HttpUrl.get("http://127.0.0.1:10000"))
            .made(encodedSegments, HttpUrl.get("http://directory/a%20b"));
    assertThat(madeThatWay).hasToString("http://127.0.0.1:10000/a%20b");
    assertThat(EndpointUrl.checked(encodedSegments)).isFalse();
  }

  /**
   * A caller's URL that OkHttp's parser never makes: a dot segment, which its builder leaves in
   * when the refusal to set one is caught. The builder resolves it for the attempt, as before.
   */
  @Test
  void aDotSegmentLeftInTheCallersUrlIsResolvedAsTheBuilderDoes() {
    HttpUrl.Builder b = HttpUrl.get("http://directory/users/42").newBuilder();
    try {
      b.setEncodedPathSegment(1, "..");
    } catch (IllegalArgumentException expected) {
      // OkHttp refuses it after it has set it.
    }
    HttpUrl logical = b.build();
    EndpointUrl endpoint = new EndpointUrl(HttpUrl.get("https://dir-a.internal:8443/api/"));
    assertThat(endpoint.made((e, l, segments, text) -> HttpUrl.get(text), logical)).isNull();
    assertThat(endpoint.attemptUrl(logical)).isEqualTo(endpoint.builder(logical));
  }
}
