package dev.failover;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import okhttp3.Headers;
import okhttp3.HttpUrl;
import okhttp3.MediaType;
import okhttp3.Protocol;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.ResponseBody;
import okio.Buffer;
import okio.BufferedSource;
import okio.ForwardingSource;
import okio.Okio;
import okio.Source;
import org.jspecify.annotations.Nullable;

/**
 * Recent good GET responses, kept in a bounded Caffeine cache, served when everything failed.
 *
 * <p>Safety rules, each with a test: the key is built from what the server saw (the request after
 * the application's OkHttp interceptors, plus the cookie jar's cookies), so a response fetched with
 * one caller's credentials is never served to a caller with other ones; {@code Cache-Control:
 * no-store} (request or response) and {@code Vary: *} are never kept; {@code Cache-Control:
 * private}, and a response that sets a cookie, are kept only for a request that carried an
 * identity; {@code Set-Cookie} is never kept or served; {@code Vary} is honoured. The body is
 * copied while the caller reads it: the caller never waits for the cache, and only a body read to
 * its end within {@code maxBodyBytes} is kept.
 */
final class StaleStore {
  /**
   * Request headers that never identify a caller and are left out of the key: transport headers,
   * and trace context that tracing libraries set per attempt. Every other header is in it: {@code
   * baggage} too (it may carry a user or a tenant), and {@code Accept-Encoding} (a caller that sets
   * it gets the body still compressed).
   */
  static final Set<String> NOT_IN_KEY =
      Set.of(
          "user-agent",
          "connection",
          "content-length",
          "te",
          "traceparent",
          "tracestate",
          "b3",
          "x-b3-traceid",
          "x-b3-spanid",
          "x-b3-parentspanid",
          "x-b3-sampled",
          "x-b3-flags",
          "x-request-id",
          "x-correlation-id",
          "x-amzn-trace-id");

  /**
   * Request headers OkHttp sets below the application's interceptors (its bridge, its HTTP cache)
   * where the application set none: no identity of their own. A {@code Host} the application set is
   * in the key; the cookie jar's {@code Cookie} is checked apart ({@link Seen#sentOnNetwork}).
   */
  private static final Set<String> SET_BY_OKHTTP =
      Set.of(
          "host",
          "content-type",
          "transfer-encoding",
          "accept-encoding",
          "if-none-match",
          "if-modified-since");

  /** Response headers never kept: a stale copy must not set another caller's cookies. */
  private static final Set<String> NEVER_KEPT = Set.of("set-cookie", "set-cookie2");

  private final StaleCache config;
  private final Cache<String, Entry> cache;

  /**
   * When the server last answered a request of a key with something not kept: a copy of an older
   * response, whose body is read to its end only after that, is not kept.
   */
  private final Cache<String, Long> answeredAt;

  private final Ticker ticker;

  /**
   * Whether a call must have shown what the application's network interceptors add before it is
   * served a copy: they run only for an attempt that reached the network, so a call whose every
   * connection failed never showed whether they would add its caller's identity.
   */
  private final boolean networkLayerUnchecked;

  private volatile boolean closed;

  StaleStore(StaleCache config, Ticker ticker) {
    this(config, ticker, false);
  }

  /**
   * @param networkLayerUnchecked the application's {@code OkHttpClient} has network interceptors,
   *     and the setting does not declare that they add no identity
   */
  StaleStore(StaleCache config, Ticker ticker, boolean networkLayerUnchecked) {
    this.config = config;
    this.ticker = ticker;
    this.networkLayerUnchecked = networkLayerUnchecked;
    long maxAgeNanos = config.maxAge().toNanos();
    this.answeredAt =
        Caffeine.newBuilder()
            .maximumSize(config.maxEntries())
            .expireAfterWrite(config.maxAge())
            .ticker(ticker::nanos)
            .executor(Runnable::run)
            .build();
    this.cache =
        Caffeine.newBuilder()
            .maximumSize(config.maxEntries())
            // From when the response arrived, not from when its body was read to its end.
            .expireAfter(
                com.github.benmanes.caffeine.cache.Expiry.<String, Entry>writing(
                    (key, e) ->
                        Duration.ofNanos(Math.max(0, maxAgeNanos - (ticker.nanos() - e.storedAt)))))
            .ticker(ticker::nanos)
            .executor(Runnable::run)
            .build();
  }

  static boolean eligible(Request request) {
    return request.method().equals("GET");
  }

  /**
   * Whether the server was sent a GET, as the caller asked: an application interceptor that turns
   * it into a POST (a long query moved into a form body, with {@code X-HTTP-Method-Override: GET})
   * sends what the key does not hold, the body, and so gets no copy kept or served. (OkHttp's
   * {@code Request} refuses a GET with a body.)
   */
  private static boolean sentAsGet(Seen seen, Request keyed) {
    return eligible(seen.request) && eligible(keyed);
  }

  /**
   * Returns {@code response} with a body that keeps a copy as the caller reads it, if the response
   * may be kept; else {@code response} itself. Never reads anything on its own.
   *
   * @param logical the caller's request (names the service)
   * @param seen what the server saw of it, as captured after the application's interceptors
   */
  Response offer(Request logical, @Nullable Seen seen, Response response) {
    if (seen == null || seen.identityAddedBelow || !eligible(logical)) {
      return response;
    }
    Request keyed = seen.keyed();
    if (keyed == null || !sentAsGet(seen, keyed)) {
      return response;
    }
    Response keeping = keeping(logical, seen, keyed, response);
    if (keeping != null) {
      return keeping;
    }
    if (response.code() != 304 && !keyed.cacheControl().noStore()) {
      // The server answered this request anew, with something not kept (a 404 for a user deleted
      // since, a no-store, a private answer without identity): the older copy is no longer what
      // it says, and an outage must not bring it back. (Not a 304, which confirms a copy.)
      String key = key(logical, seen);
      if (key != null) {
        answeredAt.put(key, ticker.nanos()); // a copy read to its end after this is older
        cache.invalidate(key);
      }
    }
    return response;
  }

  /** {@code response} with a body that keeps a copy as it is read, or null if none may be kept. */
  private @Nullable Response keeping(Request logical, Seen seen, Request keyed, Response response) {
    if (response.code() < 200 || response.code() > 299 || keyed.cacheControl().noStore()) {
      return null;
    }
    long arrived = ticker.nanos();
    okhttp3.CacheControl cacheControl = response.cacheControl();
    if (cacheControl.noStore()
        || cacheControl.noCache()
        || cacheControl.mustRevalidate()
        || cacheControl.sMaxAgeSeconds() != -1
        // OkHttp's CacheControl has no proxy-revalidate: read here.
        || hasDirective(response.headers("Cache-Control"), "proxy-revalidate")) {
      // Must not be served stale without the origin's say (RFC 9111 4.2.4): this cache is shared
      // by the client's callers, so s-maxage and proxy-revalidate bind it too.
      return null;
    }
    if (closeDelimited(response, keyed)) {
      // Its end is the connection's: one that broke off reads as a whole, shorter body.
      return null;
    }
    if ((cacheControl.isPrivate() || setsCookie(response)) && !seen.hasIdentity(logical, keyed)) {
      // Meant for one user: kept only when the key binds it to that user's identity. A response
      // that sets a cookie for a caller without one starts that caller's session, and its body
      // may be bound to it (a CSRF token, a cart): served to the next anonymous caller, that
      // would be someone else's.
      return null;
    }
    List<String> vary = varyNames(response);
    if (vary.contains("*")) {
      return null;
    }
    ResponseBody body = response.body();
    long length = body.contentLength();
    if (length > config.maxBodyBytes()) {
      return null;
    }
    String key = key(logical, seen);
    if (key == null) {
      return null;
    }
    Headers kept = keptHeaders(response.headers());
    Map<String, List<String>> varyValues = varyValues(vary, keyed);
    MediaType type = body.contentType();
    int code = response.code();
    String message = response.message();
    Teeing teeing =
        new Teeing(
            body.source(),
            config.maxBodyBytes(),
            bytes ->
                keep(
                    key,
                    new Entry(
                        code,
                        message,
                        kept,
                        type == null ? null : type.toString(),
                        bytes,
                        varyValues,
                        arrived)));
    BufferedSource copying = Okio.buffer(teeing);
    return response.newBuilder().body(ResponseBody.create(copying, type, length)).build();
  }

  /**
   * Keeps a copy, unless the store was closed (a body read to its end after the client closed), or
   * the server answered the same request not to be kept after this copy's response arrived (its
   * body was still being read).
   */
  private void keep(String key, Entry entry) {
    if (closed) {
      return;
    }
    Long newer = answeredAt.getIfPresent(key);
    if (newer != null && newer - entry.storedAt > 0) {
      return;
    }
    cache.put(key, entry);
    if (closed) {
      cache.invalidate(key); // close() ran meanwhile and may have missed it
    }
  }

  /**
   * Forgets every copy, for good: the client closed. A closed client may stay reachable (the
   * application or a meter registry holds it), and its users' responses must not stay with it.
   */
  void close() {
    closed = true;
    cache.invalidateAll();
    cache.cleanUp();
    answeredAt.invalidateAll();
  }

  /** As {@link #serve(Request, Seen, boolean)} for a call one of whose attempts went out. */
  @Nullable Response serve(Request logical, @Nullable Seen seen) {
    return serve(logical, seen, true);
  }

  /**
   * A stale copy of the response to {@code logical}, marked as such, or null.
   *
   * @param checkedOnNetwork whether one of the call's attempts reached the network layer, where
   *     what the application's network interceptors add was checked
   */
  @Nullable Response serve(Request logical, @Nullable Seen seen, boolean checkedOnNetwork) {
    if (seen == null
        || seen.identityAddedBelow
        || !eligible(logical)
        || (networkLayerUnchecked && !checkedOnNetwork)) {
      return null;
    }
    Request keyed = seen.keyed();
    if (keyed == null || !sentAsGet(seen, keyed)) {
      return null;
    }
    okhttp3.CacheControl asked = keyed.cacheControl();
    if (asked.noStore() || asked.noCache() || asked.maxAgeSeconds() == 0) {
      // The caller asked for a fresh response (OkHttp's CacheControl.FORCE_NETWORK, say).
      return null;
    }
    String key = key(logical, seen);
    Entry e = key == null ? null : cache.getIfPresent(key);
    if (e == null) {
      return null;
    }
    for (Map.Entry<String, List<String>> v : e.vary.entrySet()) {
      if (!v.getValue().equals(keyed.headers(v.getKey()))) {
        return null;
      }
    }
    long ageSeconds = TimeUnit.NANOSECONDS.toSeconds(Math.max(0, ticker.nanos() - e.storedAt));
    MediaType type = e.contentType == null ? null : MediaType.parse(e.contentType);
    return new Response.Builder()
        .request(logical)
        .protocol(Protocol.HTTP_1_1)
        .code(e.code)
        .message(e.message)
        .headers(e.headers)
        .header("Age", Long.toString(ageSeconds))
        .addHeader("Warning", "110 - \"Response is Stale\"")
        .body(ResponseBody.create(e.body, type))
        .build();
  }

  Duration age(Response stale) {
    String age = stale.header("Age");
    return Duration.ofSeconds(age == null ? 0 : Long.parseLong(age));
  }

  /**
   * The logical URL's scheme, host and port with the path (less the endpoint's base path) and query
   * the server saw, the server when an interceptor sent it elsewhere, and a SHA-256 digest of every
   * request header the server saw (but {@link #NOT_IN_KEY}), of the cookie jar's cookies and of the
   * URL's user info: never another caller's data, never a secret in clear.
   */
  static @Nullable String key(Request logical, Seen seen) {
    Request keyed = seen.keyed();
    if (keyed == null) {
      return null; // the attempt never left the SDK's interceptors: what it sent is not known
    }
    HttpUrl url = logical.url();
    HttpUrl sent = seen.request.url();
    String path = url.encodedPath();
    String madePath = seen.made.encodedPath();
    String sentPath = sent.encodedPath();
    if (!sentPath.equals(madePath)) {
      // An application interceptor changed the path (per tenant, say): the key holds the path it
      // sent, less the endpoint's base path, so that every endpoint's copy shares it.
      String base =
          madePath.endsWith(path) ? madePath.substring(0, madePath.length() - path.length()) : "";
      path = sentPath.startsWith(base) ? sentPath.substring(base.length()) : sentPath;
    }
    StringBuilder sb = new StringBuilder(url.scheme()).append("://").append(url.host()).append(':');
    sb.append(url.port()).append(path);
    String query = sent.encodedQuery();
    if (query != null) {
      sb.append('?').append(query);
    }
    if (!sent.host().equals(seen.made.host()) || sent.port() != seen.made.port()) {
      // Sent to another server than the endpoint: the copy is that server's.
      sb.append('\n').append(sent.scheme()).append("://").append(sent.host()).append(':');
      sb.append(sent.port());
    }
    String identity = seen.identity(keyed);
    if (!url.encodedUsername().isEmpty() || !url.encodedPassword().isEmpty()) {
      identity += "userinfo:" + url.encodedUsername() + ':' + url.encodedPassword() + '\n';
    }
    if (!identity.isEmpty()) {
      sb.append('\n').append(sha256(identity));
    }
    return sb.toString();
  }

  private static boolean setsCookie(Response response) {
    Headers headers = response.headers();
    for (String name : NEVER_KEPT) {
      if (headers.get(name) != null) {
        return true;
      }
    }
    return false;
  }

  private static Headers keptHeaders(Headers headers) {
    Headers.Builder b = headers.newBuilder();
    for (String name : NEVER_KEPT) {
      b.removeAll(name);
    }
    return b.build();
  }

  private static List<String> varyNames(Response response) {
    List<String> names = new ArrayList<>();
    for (String v : response.headers("Vary")) {
      for (String part : v.split(",", -1)) {
        String name = part.trim().toLowerCase(Locale.ROOT);
        if (!name.isEmpty()) {
          names.add(name);
        }
      }
    }
    return names;
  }

  /** The values (none when absent) of the request headers a {@code Vary} response names. */
  private static Map<String, List<String>> varyValues(List<String> names, Request seen) {
    Map<String, List<String>> values = new HashMap<>();
    for (String name : names) {
      values.put(name, seen.headers(name));
    }
    return Map.copyOf(values);
  }

  /**
   * Whether the response's body ends only where its HTTP/1 connection closes: neither a length nor
   * chunks, nor a compression whose end OkHttp checks. A connection that broke off would end it
   * early without an error. A response from OkHttp's own cache ({@code networkResponse} null) was
   * framed when it was stored.
   */
  private static boolean closeDelimited(Response response, Request keyed) {
    Response network = response.networkResponse();
    if (network == null
        || (network.protocol() != Protocol.HTTP_1_0 && network.protocol() != Protocol.HTTP_1_1)) {
      return false;
    }
    int code = network.code();
    if (code == 204 || code == 205 || code == 304) {
      return false; // no body
    }
    // A gzip body's end is checked only where OkHttp decompresses it: not when the caller asked
    // for it compressed (its own Accept-Encoding) or for a range, which OkHttp hands over as it
    // came.
    boolean checkedGzip =
        "gzip".equalsIgnoreCase(network.header("Content-Encoding"))
            && keyed.header("Accept-Encoding") == null
            && keyed.header("Range") == null;
    return !framedByLength(network.header("Content-Length"))
        && !"chunked".equalsIgnoreCase(network.header("Transfer-Encoding"))
        && !checkedGzip;
  }

  /**
   * Whether OkHttp frames a body by this {@code Content-Length}: a number it reads. One it cannot
   * read ({@code 1,000}) it ignores, and reads the body to the connection's close.
   */
  static boolean framedByLength(@Nullable String contentLength) {
    if (contentLength == null || contentLength.isEmpty()) {
      return false;
    }
    try {
      return Long.parseLong(contentLength) >= 0;
    } catch (NumberFormatException e) {
      return false;
    }
  }

  static boolean hasDirective(List<String> cacheControl, String directive) {
    for (String v : cacheControl) {
      for (String part : v.split(",", -1)) {
        String d = part.trim().toLowerCase(Locale.ROOT);
        int eq = d.indexOf('=');
        if ((eq < 0 ? d : d.substring(0, eq).trim()).equals(directive)) {
          return true;
        }
      }
    }
    return false;
  }

  private static String sha256(String s) {
    try {
      MessageDigest d = MessageDigest.getInstance("SHA-256");
      return HexFormat.of().formatHex(d.digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every JVM", e);
    }
  }

  /**
   * What the server saw of one attempt: the request after the application's interceptors, and the
   * cookies the client's cookie jar adds to it. Captured by an interceptor that runs after the
   * application's own.
   */
  static final class Seen {
    final Request request;
    final String cookies;

    /** The attempt's URL as the SDK made it, before the application's interceptors. */
    final HttpUrl made;

    /**
     * Set when the request gained a header that may identify the caller below the application's
     * interceptors (a network interceptor, an {@code Authenticator}'s follow-up): the key, built
     * from what the application's interceptors sent, cannot tell its callers apart, so its response
     * is never kept, and no copy is served to it.
     */
    volatile boolean identityAddedBelow;

    /**
     * The request as it left the SDK's own interceptors (with the headers the observations'
     * handlers add: trace context, and baggage that may name a user or a tenant): what the key is
     * built from and what the network request is compared with. The request above when the SDK adds
     * nothing; null until the SDK's last interceptor recorded it, when it does.
     */
    volatile @Nullable Request leftSdk;

    /** Set once the attempt reached the network layer and was checked there. */
    volatile boolean checkedOnNetwork;

    Seen(Request request, String cookies) {
      this(request, cookies, request.url(), false);
    }

    /**
     * @param leftSdkFollows the SDK's own interceptors (its observations) run after this capture,
     *     and its last one records the request as it left them
     */
    Seen(Request request, String cookies, HttpUrl made, boolean leftSdkFollows) {
      this.request = request;
      this.cookies = cookies;
      this.made = made;
      this.leftSdk = leftSdkFollows ? null : request;
    }

    /** What the key is built from: the request as it left the SDK, or null if not yet known. */
    @Nullable Request keyed() {
      return leftSdk;
    }

    /**
     * Marks this attempt if the request as it goes on the network carries a header that may
     * identify the caller and that the application's interceptors did not send with that value, or
     * a URL whose user info, path or query they did not send (a network interceptor that adds an
     * access token or a tenant to the URL). The headers OkHttp's bridge sets (and the cookie jar's
     * cookies, already in the key) are not such headers.
     */
    void sentOnNetwork(Request network) {
      if (identityAddedBelow) {
        return;
      }
      Request above = leftSdk;
      if (above == null) {
        identityAddedBelow = true; // cannot be: the SDK's last interceptor runs before the network
        return;
      }
      HttpUrl sent = network.url();
      HttpUrl keyed = above.url();
      if (!network.method().equals(above.method())
          || !sent.encodedPath().equals(keyed.encodedPath())
          || !java.util.Objects.equals(sent.encodedQuery(), keyed.encodedQuery())
          || !sent.encodedUsername().equals(keyed.encodedUsername())
          || !sent.encodedPassword().equals(keyed.encodedPassword())) {
        identityAddedBelow = true;
        return;
      }
      Headers h = network.headers();
      for (String name : h.names()) {
        String n = name.toLowerCase(Locale.ROOT);
        List<String> values = h.values(name);
        if (NOT_IN_KEY.contains(n)
            || (SET_BY_OKHTTP.contains(n)
                && above.header(name) == null
                && (!n.equals("host") || values.equals(List.of(hostHeader(sent)))))) {
          // OkHttp's own, where the application set none (the key holds the one it set); a Host
          // other than the one OkHttp's bridge writes for the URL was a network interceptor's (a
          // virtual host per tenant).
          continue;
        }
        if (values.equals(above.headers(name))) {
          continue;
        }
        if (n.equals("cookie") && values.equals(List.of(jarCookieHeader()))) {
          continue; // the cookie jar's, as OkHttp's bridge writes them: already in the key
        }
        identityAddedBelow = true;
        return;
      }
      checkedOnNetwork = true;
    }

    /** The {@code Host} header OkHttp's bridge writes for {@code url}. */
    static String hostHeader(HttpUrl url) {
      String host = url.host().indexOf(':') >= 0 ? "[" + url.host() + "]" : url.host();
      return url.port() == HttpUrl.defaultPort(url.scheme()) ? host : host + ":" + url.port();
    }

    /** The cookie jar's cookies as OkHttp's bridge writes them in a {@code Cookie} header. */
    private String jarCookieHeader() {
      StringBuilder sb = new StringBuilder();
      for (String c : cookies.split(";", -1)) {
        if (!c.isEmpty()) {
          if (sb.length() > 0) {
            sb.append("; ");
          }
          sb.append(c);
        }
      }
      return sb.toString();
    }

    /**
     * Every header that may identify the caller, sorted, plus cookies; empty when there is none.
     */
    String identity(Request keyed) {
      TreeMap<String, List<String>> sorted = new TreeMap<>();
      Headers h = keyed.headers();
      for (int i = 0; i < h.size(); i++) {
        String name = h.name(i).toLowerCase(Locale.ROOT);
        if (!NOT_IN_KEY.contains(name)) {
          sorted.computeIfAbsent(name, n -> new ArrayList<>()).add(h.value(i));
        }
      }
      StringBuilder sb = new StringBuilder();
      sorted.forEach(
          (name, values) -> {
            for (String v : values) {
              sb.append(name).append(':').append(v).append('\n');
            }
          });
      if (!cookies.isEmpty()) {
        sb.append("cookie-jar:").append(cookies).append('\n');
      }
      return sb.toString();
    }

    /**
     * Whether the request carried credentials in what the key holds: an identity header, a cookie,
     * or URL user info. A header left out of the key ({@code User-Agent}) binds no copy to anyone.
     */
    boolean hasIdentity(Request logical, Request keyed) {
      // The user info of the caller's URL, which the key holds: the SDK's rewrite to an endpoint
      // drops it from the request the interceptors see.
      if (!cookies.isEmpty()
          || !logical.url().encodedUsername().isEmpty()
          || !logical.url().encodedPassword().isEmpty()) {
        return true;
      }
      for (String name : keyed.headers().names()) {
        if (!NOT_IN_KEY.contains(name.toLowerCase(Locale.ROOT)) && isCredential(name)) {
          return true;
        }
      }
      return false;
    }
  }

  /** Headers that identify a caller: Authorization, Cookie, and any *key*, *token*, *auth*... */
  static boolean isCredential(String name) {
    String n = name.toLowerCase(Locale.ROOT);
    return n.equals("authorization")
        || n.equals("cookie")
        || n.contains("auth")
        || n.contains("token")
        || n.contains("key")
        || n.contains("session")
        || n.contains("secret")
        || n.contains("password")
        || n.contains("credential")
        || n.contains("user")
        || n.contains("tenant");
  }

  /** Copies what the caller reads, up to a limit; hands the copy over when the body ends. */
  private static final class Teeing extends ForwardingSource {
    private final long limit;
    private final java.util.function.Consumer<okio.ByteString> onComplete;
    private @Nullable Buffer copy = new Buffer();

    Teeing(Source delegate, long limit, java.util.function.Consumer<okio.ByteString> onComplete) {
      super(delegate);
      this.limit = limit;
      this.onComplete = onComplete;
    }

    @Override
    public long read(Buffer sink, long byteCount) throws IOException {
      long before = sink.size();
      long n;
      try {
        n = super.read(sink, byteCount);
      } catch (IOException | RuntimeException e) {
        copy = null; // a body that broke off is never kept
        throw e;
      }
      Buffer c = copy;
      if (c == null) {
        return n;
      }
      if (n == -1) {
        copy = null;
        onComplete.accept(c.readByteString());
      } else if (c.size() + n > limit) {
        copy = null; // too large to keep
      } else {
        sink.copyTo(c, before, n);
      }
      return n;
    }
  }

  private static final class Entry {
    final int code;
    final String message;
    final Headers headers;
    final @Nullable String contentType;
    final okio.ByteString body;
    final Map<String, List<String>> vary;
    final long storedAt;

    Entry(
        int code,
        String message,
        Headers headers,
        @Nullable String contentType,
        okio.ByteString body,
        Map<String, List<String>> vary,
        long storedAt) {
      this.code = code;
      this.message = message;
      this.headers = headers;
      this.contentType = contentType;
      this.body = body;
      this.vary = vary;
      this.storedAt = storedAt;
    }
  }
}
