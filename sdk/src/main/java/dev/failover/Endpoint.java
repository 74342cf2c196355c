package dev.failover;

import java.util.List;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import okhttp3.HttpUrl;

/**
 * One replica of a service: a base URL, its locality and a weight.
 *
 * <p>Each attempt of a call is rewritten onto the base URL of the endpoint chosen for it: the
 * scheme, host and port are replaced and the base path is prepended to the request's path.
 *
 * <pre>{@code
 * Endpoint a = Endpoint.of("https://dir-a.internal:8443/api", "us-east-1", "us-east-1a");
 * Endpoint big = a.withWeight(200);
 * }</pre>
 *
 * <p>A base URL never carries credentials (user info), a query or a fragment; credentials travel in
 * the request's headers, and only to configured endpoints.
 *
 * @param url the base URL, {@code http} or {@code https}
 * @param locality where the endpoint runs
 * @param weight its relative share inside its zone, 1 to 10,000; 100 is the default
 */
public record Endpoint(HttpUrl url, Locality locality, int weight) {

  /** The weight of an endpoint created without one. */
  public static final int DEFAULT_WEIGHT = 100;

  /**
   * Checks the URL and the weight.
   *
   * @param url the base URL, {@code http} or {@code https}
   * @param locality where the endpoint runs
   * @param weight its relative share inside its zone, 1 to 10,000; 100 is the default
   * @throws InvalidSettingException if the URL has user info, a query, a fragment or an empty path
   *     segment ({@code http://host//}), or if the weight is outside 1 to 10,000
   */
  public Endpoint {
    Objects.requireNonNull(url, "url");
    Objects.requireNonNull(locality, "locality");
    if (!url.username().isEmpty() || !url.password().isEmpty()) {
      throw new InvalidSettingException(
          "endpoint.url",
          redactUserInfo(url.toString()),
          "endpoint URL must not carry credentials (user info) but "
              + redact(url)
              + " does; send credentials in request headers instead");
    }
    if (url.query() != null) {
      throw new InvalidSettingException(
          "endpoint.url", redact(url), "endpoint URL must not have a query but was " + redact(url));
    }
    if (url.fragment() != null) {
      throw new InvalidSettingException(
          "endpoint.url",
          redact(url),
          "endpoint URL must not have a fragment but was " + redact(url));
    }
    List<String> segments = url.pathSegments();
    for (int i = 0; i < segments.size() - 1; i++) {
      if (segments.get(i).isEmpty()) {
        // "http://h:1//" or "http://h:1/api//v1": every call's path would go under the empty
        // segment ("//users"), which servers route as another path or refuse.
        throw new InvalidSettingException(
            "endpoint.url",
            redact(url),
            "endpoint URL must not have an empty path segment (two slashes in a row) but was "
                + redact(url));
      }
    }
    if (weight < 1 || weight > 10_000) {
      throw new InvalidSettingException(
          "endpoint.weight",
          weight,
          "endpoint weight must be between 1 and 10000 but was " + weight + " for " + redact(url));
    }
  }

  /**
   * Returns an endpoint of default weight.
   *
   * @param url the base URL, for example {@code https://dir-a.internal:8443}
   * @param region the region, for example {@code us-east-1}
   * @param zone the availability zone, for example {@code us-east-1a}
   * @return the endpoint
   * @throws InvalidSettingException if the URL is not a valid {@code http} or {@code https} URL, or
   *     has user info, a query or a fragment
   */
  public static Endpoint of(String url, String region, String zone) {
    return new Endpoint(parse(url), Locality.of(region, zone), DEFAULT_WEIGHT);
  }

  /**
   * Returns an endpoint of default weight.
   *
   * @param url the base URL
   * @param locality where it runs
   * @return the endpoint
   * @throws InvalidSettingException if the URL is invalid as for {@link #of(String, String,
   *     String)}
   */
  public static Endpoint of(String url, Locality locality) {
    return new Endpoint(parse(url), locality, DEFAULT_WEIGHT);
  }

  /**
   * Returns a copy of this endpoint with another weight.
   *
   * @param weight the relative share inside its zone, 1 to 10,000
   * @return the copy
   * @throws InvalidSettingException if the weight is out of range
   */
  public Endpoint withWeight(int weight) {
    return new Endpoint(url, locality, weight);
  }

  /**
   * Returns the base URL as text, without a trailing slash.
   *
   * @return for example {@code https://dir-a.internal:8443/api}
   */
  public String address() {
    String s = url.toString();
    return s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
  }

  @Override
  public String toString() {
    return address() + " (" + locality + ")";
  }

  private static HttpUrl parse(String url) {
    Objects.requireNonNull(url, "url");
    HttpUrl parsed = HttpUrl.parse(url);
    if (parsed == null) {
      throw new InvalidSettingException(
          "endpoint.url",
          redactUserInfo(url),
          "endpoint URL must be an absolute http or https URL but was '"
              + redactUserInfo(url)
              + "'");
    }
    return parsed;
  }

  static String redact(HttpUrl url) {
    return url.newBuilder().username("").password("").query(null).fragment(null).build().toString();
  }

  /**
   * Hides user info in text that may be a malformed URL, for error messages. Everything up to the
   * last {@code @} (or its percent-encoding, {@code %40}) is replaced by {@code ***}, except a
   * leading scheme-like prefix ({@code http://}, {@code http//}, {@code http:/}, {@code http:},
   * {@code //}), so that a password shows whether or not the text has a well-formed scheme
   * separator. The text is not a URL that parsed, so an {@code @} in what would be its path is
   * hidden too: a message may say too little, never a password. Whatever follows the first {@code
   * ?} or {@code #} after that is hidden too ({@code ?***}): a query may carry a token.
   *
   * @param text any text, such as an unparseable URL
   * @return the text, with whatever could be user info, a query or a fragment replaced by {@code
   *     ***}
   */
  static String redactUserInfo(String text) {
    String shown = text;
    int at = Math.max(text.lastIndexOf('@'), text.lastIndexOf("%40"));
    if (at >= 0) {
      Matcher prefix = SCHEME_PREFIX.matcher(text);
      int keep = prefix.lookingAt() ? prefix.end() : 0;
      shown = text.substring(0, Math.min(keep, at)) + "***" + text.substring(at);
    }
    int query = indexOfQuery(shown);
    return query < 0 ? shown : shown.substring(0, query + 1) + "***";
  }

  private static int indexOfQuery(String text) {
    int q = text.indexOf('?');
    int f = text.indexOf('#');
    return q < 0 ? f : f < 0 ? q : Math.min(q, f);
  }

  /**
   * What {@link #redactUserInfo} keeps: a leading scheme, colon and slashes ({@code ftp://}, {@code
   * http:/}, {@code https:\\}); {@code http} or {@code https} with slashes but no colon ({@code
   * http//}) or with a colon but no slashes ({@code http:}); or leading slashes alone.
   */
  private static final Pattern SCHEME_PREFIX =
      Pattern.compile(
          "\\s*(?:[A-Za-z][A-Za-z0-9+.-]*:[/\\\\]+|(?i:https?)[/\\\\]+|(?i:https?):|[/\\\\]+)");
}
