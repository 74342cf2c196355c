package dev.failover.internal;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.failover.StaleCache;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;
import okhttp3.Headers;
import okhttp3.MediaType;
import okhttp3.Protocol;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.ResponseBody;
import org.jspecify.annotations.Nullable;

/** Recent good GET responses, kept in a bounded Caffeine cache, served when everything failed. */
final class StaleStore {
  private final StaleCache config;
  private final Cache<String, Entry> cache;
  private final Ticker ticker;

  StaleStore(StaleCache config, Ticker ticker) {
    this.config = config;
    this.ticker = ticker;
    this.cache =
        Caffeine.newBuilder()
            .maximumSize(config.maxEntries())
            .expireAfterWrite(config.maxAge().toNanos(), TimeUnit.NANOSECONDS)
            .ticker(ticker::nanos)
            .executor(Runnable::run)
            .build();
  }

  static boolean eligible(Request request) {
    return request.method().equals("GET");
  }

  /** Keeps a copy of {@code response} if it qualifies; never consumes the caller's body. */
  void offer(Request logical, Response response) {
    if (!eligible(logical) || response.code() < 200 || response.code() > 299) {
      return;
    }
    String cacheControl = response.header("Cache-Control");
    if (cacheControl != null
        && cacheControl.toLowerCase(java.util.Locale.ROOT).contains("no-store")) {
      return;
    }
    ResponseBody body = response.body();
    long length = body.contentLength();
    if (length > config.maxBodyBytes()) {
      return;
    }
    byte[] bytes;
    try {
      bytes = response.peekBody(config.maxBodyBytes() + 1).bytes();
    } catch (IOException e) {
      return;
    }
    if (bytes.length > config.maxBodyBytes()) {
      return;
    }
    MediaType type = body.contentType();
    cache.put(
        key(logical),
        new Entry(
            response.code(),
            response.message(),
            response.headers(),
            type == null ? null : type.toString(),
            bytes,
            ticker.nanos()));
  }

  /** A stale copy of the response to {@code logical}, marked as such, or null. */
  @Nullable Response serve(Request logical) {
    if (!eligible(logical)) {
      return null;
    }
    Entry e = cache.getIfPresent(key(logical));
    if (e == null) {
      return null;
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

  /** URL, Accept, and a digest of the credentials: never another caller's data, never a secret. */
  static String key(Request request) {
    StringBuilder sb = new StringBuilder(request.url().toString());
    sb.append('\n').append(nullToEmpty(request.header("Accept")));
    StringBuilder identity = new StringBuilder();
    for (String name : new java.util.TreeSet<>(request.headers().names())) {
      if (isCredential(name)) {
        for (String value : request.headers(name)) {
          identity
              .append(name.toLowerCase(java.util.Locale.ROOT))
              .append(':')
              .append(value)
              .append('\n');
        }
      }
    }
    if (identity.length() > 0) {
      sb.append('\n').append(sha256(identity.toString()));
    }
    return sb.toString();
  }

  /** Headers that identify a caller: Authorization, Cookie, and any *key*, *token*, *auth*... */
  static boolean isCredential(String name) {
    String n = name.toLowerCase(java.util.Locale.ROOT);
    return n.equals("authorization")
        || n.equals("cookie")
        || n.contains("auth")
        || n.contains("token")
        || n.contains("key")
        || n.contains("session")
        || n.contains("secret")
        || n.contains("password")
        || n.contains("credential");
  }

  private static String nullToEmpty(@Nullable String s) {
    return s == null ? "" : s;
  }

  private static String sha256(String s) {
    try {
      MessageDigest d = MessageDigest.getInstance("SHA-256");
      return HexFormat.of().formatHex(d.digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every JVM", e);
    }
  }

  private static final class Entry {
    final int code;
    final String message;
    final Headers headers;
    final @Nullable String contentType;
    final okio.ByteString body;
    final long storedAt;

    Entry(
        int code,
        String message,
        Headers headers,
        @Nullable String contentType,
        byte[] body,
        long storedAt) {
      this.code = code;
      this.message = message;
      this.headers = headers;
      this.contentType = contentType;
      this.body = okio.ByteString.of(body);
      this.storedAt = storedAt;
    }
  }
}
