package dev.failover;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.ArrayList;
import java.util.List;
import okhttp3.HttpUrl;
import org.jspecify.annotations.Nullable;

/**
 * An endpoint's URL and what every attempt to it needs of it: the caller's URL sent to the
 * endpoint, its path under the endpoint's base path, and its query ({@link #attemptUrl}).
 *
 * <p>OkHttp's public way there ({@code base.newBuilder().encodedPath(..).encodedQuery(..).build()})
 * parses and checks the path again character by character, and makes about 680 bytes of objects per
 * attempt for a short URL (docs/benchmarks.md). Both halves are canonical already, the endpoint's
 * URL and the caller's, so an attempt's URL is the endpoint's origin followed by the caller's path
 * and query, and its decoded path segments and query parameters are the caller's (after the base
 * path's): here it is made from those parts directly, with {@code HttpUrl}'s own constructor, and
 * costs two short strings and the {@code HttpUrl} (and a list of segments under a base path). That
 * constructor is private: it is reached by a private lookup, which works where OkHttp's package is
 * open to the SDK (on the class path, both there and with no security manager refusing it; on the
 * module path only with {@code --add-opens okhttp3/okhttp3=dev.failover}), and only after a check
 * at start-up that URLs made this way equal, part by part, the ones OkHttp's builder makes (another
 * OkHttp whose constructor differs fails it). Otherwise every attempt uses the builder: the same
 * URLs, at the builder's cost.
 *
 * <p>The attempt's URL shares the caller's lists of decoded path segments (without a base path) and
 * query parameters: {@code HttpUrl} never changes them, nor does the SDK; {@code pathSegments()}
 * hands the first out as Kotlin's read-only {@code List} (which Java code could still change,
 * against that contract), and the second not at all.
 */
final class EndpointUrl {
  /** Makes an attempt's URL from its parts: {@code HttpUrl}'s constructor, or a test's stand-in. */
  @FunctionalInterface
  interface Maker {
    /**
     * The URL whose text is {@code text}: {@code endpoint}'s scheme, user info, host and port,
     * {@code pathSegments} decoded, and {@code logical}'s query, decoded.
     */
    HttpUrl make(HttpUrl endpoint, HttpUrl logical, List<String> pathSegments, String text)
        throws Throwable;
  }

  /**
   * The type of {@code HttpUrl}'s constructor: scheme, user name, password, host, port, decoded
   * path segments, decoded query names and values, fragment, and the whole URL's text.
   */
  static final MethodType HTTP_URL_CONSTRUCTOR =
      MethodType.methodType(
          void.class,
          String.class,
          String.class,
          String.class,
          String.class,
          int.class,
          List.class,
          List.class,
          String.class,
          String.class);

  /** {@code HttpUrl}'s constructor; null where OkHttp does not open it to the SDK. */
  private static final @Nullable MethodHandle NEW_URL;

  /** The parsed query of a URL ({@code HttpUrl.queryNamesAndValues}); null with the above. */
  private static final @Nullable MethodHandle QUERY;

  static {
    MethodHandle[] handles = lookUp();
    NEW_URL = handles == null ? null : handles[0];
    QUERY = handles == null ? null : handles[1];
  }

  /**
   * {@code HttpUrl}'s constructor as a {@link Maker}. It reads the handles from the static finals
   * above, which the JIT takes for constants: their calls compile to the constructor's and the
   * field's own code, where a handle held anywhere else goes through the generic invoker.
   */
  private static final Maker CONSTRUCTOR =
      (endpoint, logical, segments, text) -> {
        MethodHandle newUrl = NEW_URL;
        MethodHandle query = QUERY;
        if (newUrl == null || query == null) {
          throw new IllegalStateException("HttpUrl's constructor is not open to the SDK");
        }
        return (HttpUrl)
            newUrl.invokeExact(
                endpoint.scheme(),
                endpoint.username(),
                endpoint.password(),
                endpoint.host(),
                endpoint.port(),
                segments,
                (List<?>) query.invokeExact(logical),
                (String) null,
                text);
      };

  /** Whether attempts' URLs are made from their parts: reached, and passed the check. */
  private static final boolean FAST = NEW_URL != null && QUERY != null && checked(CONSTRUCTOR);

  final HttpUrl url;

  /**
   * The path that every call's path goes under, without its trailing slash: empty for {@code
   * http://host/}, {@code /api} for {@code http://host/api/} and {@code http://host/api}.
   */
  final String basePath;

  /** The URL's text up to its path: {@code http://127.0.0.1:8080}. */
  private final String origin;

  /** The base path's decoded segments: none for an empty base path. */
  private final List<String> baseSegments;

  /**
   * Whether the fast way applies: a URL of an endpoint has no user info, query or fragment ({@link
   * Endpoint} refuses them), so its text is its origin and then its path.
   */
  private final boolean plain;

  EndpointUrl(HttpUrl url) {
    this.url = url;
    String path = url.encodedPath();
    this.basePath = path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
    String text = url.toString();
    this.plain =
        url.username().isEmpty()
            && url.password().isEmpty()
            && url.query() == null
            && url.fragment() == null
            && text.endsWith(path);
    this.origin = plain ? text.substring(0, text.length() - path.length()) : "";
    List<String> segments = url.pathSegments();
    if (basePath.isEmpty()) {
      this.baseSegments = List.of();
    } else {
      // "/api/" has the segments "api" and "": the empty last one is the trailing slash.
      int n = segments.size();
      this.baseSegments =
          List.copyOf(
              n > 0 && segments.get(n - 1).isEmpty() ? segments.subList(0, n - 1) : segments);
    }
  }

  /** The caller's URL {@code logical} sent to this endpoint: its path and query, no fragment. */
  HttpUrl attemptUrl(HttpUrl logical) {
    if (FAST) {
      HttpUrl made = made(CONSTRUCTOR, logical);
      if (made != null) {
        return made;
      }
    }
    return builder(logical);
  }

  /** What OkHttp's builder makes of it: the reference for the fast way. */
  HttpUrl builder(HttpUrl logical) {
    String path = logical.encodedPath();
    if (!basePath.isEmpty()) {
      path = basePath + path;
    }
    return url.newBuilder().encodedPath(path).encodedQuery(logical.encodedQuery()).build();
  }

  /**
   * {@code logical} sent to this endpoint, made by {@code maker} from its parts; null if this
   * endpoint's URL is not plain, if {@code logical} is not as OkHttp parses URLs (a dot segment,
   * which only a builder whose refusal was caught leaves in), or if the maker failed: then the
   * builder makes it.
   */
  @Nullable HttpUrl made(Maker maker, HttpUrl logical) {
    if (!plain) {
      return null;
    }
    String text = logical.toString();
    // The path starts at the first '/' after "scheme://" (user info and host have theirs encoded)
    // and the fragment, if any, at the '#' (encoded everywhere else).
    int pathStart = text.indexOf('/', logical.scheme().length() + 3);
    if (pathStart < 0) {
      return null;
    }
    int end = text.indexOf('#', pathStart);
    String pathAndQuery = end < 0 ? text.substring(pathStart) : text.substring(pathStart, end);
    List<String> segments = logical.pathSegments();
    for (int i = 0; i < segments.size(); i++) {
      String segment = segments.get(i);
      if (segment.equals(".") || segment.equals("..")) {
        return null;
      }
    }
    String made;
    if (basePath.isEmpty()) {
      made = origin.concat(pathAndQuery);
    } else {
      made = origin + basePath + pathAndQuery;
      List<String> joined = new ArrayList<>(baseSegments.size() + segments.size());
      joined.addAll(baseSegments);
      joined.addAll(segments);
      segments = joined;
    }
    try {
      return maker.make(url, logical, segments, made);
    } catch (VirtualMachineError e) {
      throw e;
    } catch (Throwable e) {
      // Not expected of a constructor that only assigns its fields (an AssertionError too, such as
      // another OkHttp's under -ea): the builder makes it.
      return null;
    }
  }

  /** The constructor and the query's getter, or null where OkHttp does not open them to the SDK. */
  private static MethodHandle @Nullable [] lookUp() {
    try {
      MethodHandles.Lookup lookup =
          MethodHandles.privateLookupIn(HttpUrl.class, MethodHandles.lookup());
      MethodHandle constructor = lookup.findConstructor(HttpUrl.class, HTTP_URL_CONSTRUCTOR);
      MethodHandle query = lookup.findGetter(HttpUrl.class, "queryNamesAndValues", List.class);
      return new MethodHandle[] {constructor, query};
    } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
      return null;
    }
  }

  /**
   * Whether URLs that {@code maker} makes equal the ones OkHttp's builder makes, in every part the
   * others derive from ({@link #sameInEveryPart}): for endpoints with and without base paths, and
   * callers' URLs with and without queries, fragments, escapes, user info, and IPv6 hosts.
   */
  static boolean checked(Maker maker) {
    String[] bases = {
      "http://127.0.0.1:10000", "https://[::1]:8443/api/", "http://h.internal/a%20b"
    };
    String[] logicals = {
      "http://directory/users/42",
      "http://directory/",
      "http://directory/a%20b/c%2Fd/?x=1&y=%20z&flag&=v&x=2#frag",
      "https://user:p%40ss@directory:8443/p/?",
      "http://directory/users/42?fields=name,email",
      "http://directory//double//",
    };
    try {
      for (String b : bases) {
        EndpointUrl endpoint = new EndpointUrl(HttpUrl.get(b));
        for (String l : logicals) {
          HttpUrl logical = HttpUrl.get(l);
          HttpUrl made = endpoint.made(maker, logical);
          if (made == null || !sameInEveryPart(made, endpoint.builder(logical))) {
            return false;
          }
        }
      }
      return true;
    } catch (RuntimeException | LinkageError e) {
      return false;
    }
  }

  /**
   * Whether {@code a} and {@code b} are the same URL in every part that the rest of what {@code
   * HttpUrl} exposes derives from: text, equality and hash, scheme, user info, host, port, path
   * (decoded and encoded segments), query (text, names, values), fragment, URI, and a rebuild.
   */
  static boolean sameInEveryPart(HttpUrl a, HttpUrl b) {
    if (!(a.equals(b)
        && a.hashCode() == b.hashCode()
        && a.toString().equals(b.toString())
        && a.scheme().equals(b.scheme())
        && a.username().equals(b.username())
        && a.password().equals(b.password())
        && a.host().equals(b.host())
        && a.port() == b.port()
        && a.pathSegments().equals(b.pathSegments())
        && a.encodedPathSegments().equals(b.encodedPathSegments())
        && a.encodedPath().equals(b.encodedPath())
        && java.util.Objects.equals(a.query(), b.query())
        && java.util.Objects.equals(a.encodedQuery(), b.encodedQuery())
        && a.querySize() == b.querySize()
        && a.queryParameterNames().equals(b.queryParameterNames())
        && java.util.Objects.equals(a.fragment(), b.fragment())
        && a.uri().equals(b.uri())
        && a.newBuilder().build().toString().equals(b.toString()))) {
      return false;
    }
    for (int i = 0; i < a.querySize(); i++) {
      if (!a.queryParameterName(i).equals(b.queryParameterName(i))
          || !java.util.Objects.equals(a.queryParameterValue(i), b.queryParameterValue(i))) {
        return false;
      }
    }
    return true;
  }

  /** Whether attempts make their URLs from their parts in this JVM (for tests). */
  static boolean fastWay() {
    return FAST;
  }
}
