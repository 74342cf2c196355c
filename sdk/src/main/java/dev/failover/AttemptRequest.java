package dev.failover;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.List;
import java.util.Objects;
import kotlin.reflect.KClass;
import okhttp3.Headers;
import okhttp3.HttpUrl;
import okhttp3.MediaType;
import okhttp3.Request;
import okhttp3.RequestBody;
import org.jspecify.annotations.Nullable;

/**
 * An attempt's OkHttp request: the caller's, sent to an endpoint's URL, with the attempt's tags
 * added to the caller's ({@link #make}).
 *
 * <p>OkHttp's public way there ({@code request.newBuilder().url(..).tag(..).build()}) copies the
 * caller's headers into a new 20-slot list and back into an array, about 300 bytes of objects per
 * attempt for a request with one header (docs/benchmarks.md). Here each thread keeps one {@code
 * Request.Builder} and fills it for every attempt it makes: its header list is kept (cleared, not
 * made again), so an attempt costs the {@code Request}, its header array and {@code Headers}, and
 * one link of tags per tag added, about 100 bytes. Two of the builder's parts are reached only
 * through members that OkHttp's Kotlin code declares {@code internal} (compiled public, named
 * {@code getHeaders$okhttp} and the like): the builder's header list, and the tags a request
 * carries and a builder starts from. They are looked up once; where they are missing (another
 * OkHttp), where a start-up check finds requests made this way differ from the builder's in any
 * part, or on a virtual thread (which usually lives for one call, so a builder kept for it would
 * cost more than it saves), every attempt uses OkHttp's public way: the same requests, at its cost.
 *
 * <p>The kept builder holds nothing of a request between two attempts: its header list is cleared,
 * its URL is a placeholder, its body and cache URL are cleared and its tags are OkHttp's empty ones
 * again, whatever happened while it was filled.
 */
final class AttemptRequest {
  /** The tag key of {@link AttemptContext}, made once (OkHttp 5 keys tags by {@code KClass}). */
  static final KClass<AttemptContext> CONTEXT_KEY =
      kotlin.jvm.JvmClassMappingKt.getKotlinClass(AttemptContext.class);

  /** What a kept builder points at between attempts. */
  private static final HttpUrl PLACEHOLDER = HttpUrl.get("http://placeholder.invalid/");

  /** {@code Request.getTags$okhttp()}, as {@code (Request)Object}; null where missing. */
  private static final @Nullable MethodHandle TAGS_OF;

  /** {@code Request.Builder.setTags$okhttp(Tags)}, as {@code (Request.Builder, Object)void}. */
  private static final @Nullable MethodHandle SET_TAGS;

  /** {@code Request.Builder.getHeaders$okhttp()}: the builder's {@code Headers.Builder}. */
  private static final @Nullable MethodHandle HEADERS_OF;

  /** {@code Headers.Builder.getNamesAndValues$okhttp()}: its list, to clear. */
  private static final @Nullable MethodHandle NAMES_AND_VALUES;

  /** {@code Thread.isVirtual()}: null before Java 21, where every thread is a platform thread. */
  private static final @Nullable MethodHandle IS_VIRTUAL;

  /** The tags of a request that has none: what a kept builder starts from. */
  private static final @Nullable Object NO_TAGS;

  static {
    MethodHandle[] handles = lookUp();
    TAGS_OF = handles == null ? null : handles[0];
    SET_TAGS = handles == null ? null : handles[1];
    HEADERS_OF = handles == null ? null : handles[2];
    NAMES_AND_VALUES = handles == null ? null : handles[3];
    NO_TAGS = noTags();
    IS_VIRTUAL = isVirtualHandle();
  }

  /** Each platform thread's builder, made on its first attempt. */
  private static final ThreadLocal<Request.Builder> KEPT =
      ThreadLocal.withInitial(Request.Builder::new);

  /** The attempt's tag in the start-up check (before {@link #FAST}, which runs the check). */
  private static final ClientCore.AttemptTag CHECK_TAG = new ClientCore.AttemptTag(true);

  /** Whether attempts' requests are made with a kept builder: reached, and passed the check. */
  private static final boolean FAST = NO_TAGS != null && checked();

  private AttemptRequest() {}

  /**
   * {@code caller} sent to {@code url}, with the caller's tags and {@code tag} under {@code key},
   * and {@code context} under {@link #CONTEXT_KEY} if not null.
   */
  static <T> Request make(
      Request caller, HttpUrl url, KClass<T> key, T tag, @Nullable AttemptContext context) {
    if (FAST && !onVirtualThread()) {
      Request made = kept(KEPT.get(), caller, url, key, tag, context);
      if (made != null) {
        return made;
      }
    }
    return publicWay(caller, url, key, tag, context);
  }

  /** OkHttp's public way: the reference for the kept builder's. */
  static <T> Request publicWay(
      Request caller, HttpUrl url, KClass<T> key, T tag, @Nullable AttemptContext context) {
    Request.Builder b = caller.newBuilder().url(url).tag(key, tag);
    if (context != null) {
      b.tag(CONTEXT_KEY, context);
    }
    return b.build();
  }

  /**
   * The request made with {@code b}, left empty again after; null if any step failed (then the
   * public way makes it).
   */
  private static <T> @Nullable Request kept(
      Request.Builder b,
      Request caller,
      HttpUrl url,
      KClass<T> key,
      T tag,
      @Nullable AttemptContext context) {
    MethodHandle tagsOf = TAGS_OF;
    MethodHandle setTags = SET_TAGS;
    MethodHandle headersOf = HEADERS_OF;
    Object noTags = NO_TAGS;
    if (tagsOf == null || setTags == null || headersOf == null || noTags == null) {
      return null;
    }
    try {
      b.url(url);
      b.method(caller.method(), caller.body());
      ((Headers.Builder) headersOf.invokeExact(b)).addAll(caller.headers());
      b.cacheUrlOverride(caller.cacheUrlOverride());
      setTags.invokeExact(b, (Object) tagsOf.invokeExact(caller));
      b.tag(key, tag);
      if (context != null) {
        b.tag(CONTEXT_KEY, context);
      }
      return b.build();
    } catch (VirtualMachineError e) {
      throw e;
    } catch (Throwable e) {
      // Not expected: the caller's request passed the same checks when it was built.
      return null;
    } finally {
      empty(b, noTags);
    }
  }

  /** Leaves {@code b} holding nothing of the last request. */
  private static void empty(Request.Builder b, Object noTags) {
    MethodHandle headersOf = HEADERS_OF;
    MethodHandle namesAndValues = NAMES_AND_VALUES;
    MethodHandle setTags = SET_TAGS;
    try {
      if (headersOf != null && namesAndValues != null && setTags != null) {
        ((List<?>) namesAndValues.invokeExact((Headers.Builder) headersOf.invokeExact(b))).clear();
        setTags.invokeExact(b, noTags);
      }
      b.cacheUrlOverride(null);
      b.method("GET", null);
      b.url(PLACEHOLDER);
    } catch (VirtualMachineError e) {
      throw e;
    } catch (Throwable e) {
      // Members that resolved at start-up and ran on every attempt since: not expected to fail.
      // Should they, this thread's next builder is a new one.
      KEPT.remove();
    }
  }

  private static boolean onVirtualThread() {
    MethodHandle isVirtual = IS_VIRTUAL;
    if (isVirtual == null) {
      return false;
    }
    try {
      return (boolean) isVirtual.invokeExact(Thread.currentThread());
    } catch (Throwable e) {
      return true;
    }
  }

  /** The four members, or null where OkHttp has not all of them. */
  private static MethodHandle @Nullable [] lookUp() {
    try {
      MethodHandles.Lookup lookup = MethodHandles.publicLookup();
      MethodHandle tagsOf =
          lookup
              .unreflect(Request.class.getMethod("getTags$okhttp"))
              .asType(MethodType.methodType(Object.class, Request.class));
      java.lang.reflect.Method setter = null;
      for (java.lang.reflect.Method m : Request.Builder.class.getMethods()) {
        if (m.getName().equals("setTags$okhttp") && m.getParameterCount() == 1) {
          setter = m;
        }
      }
      if (setter == null) {
        return null;
      }
      MethodHandle setTags =
          lookup
              .unreflect(setter)
              .asType(MethodType.methodType(void.class, Request.Builder.class, Object.class));
      MethodHandle headersOf =
          lookup.findVirtual(
              Request.Builder.class,
              "getHeaders$okhttp",
              MethodType.methodType(Headers.Builder.class));
      MethodHandle namesAndValues =
          lookup.findVirtual(
              Headers.Builder.class, "getNamesAndValues$okhttp", MethodType.methodType(List.class));
      return new MethodHandle[] {tagsOf, setTags, headersOf, namesAndValues};
    } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
      return null;
    }
  }

  /** The tags of a request built with none, or null where they cannot be read. */
  private static @Nullable Object noTags() {
    MethodHandle tagsOf = TAGS_OF;
    if (tagsOf == null) {
      return null;
    }
    try {
      return (Object) tagsOf.invokeExact(new Request.Builder().url(PLACEHOLDER).build());
    } catch (VirtualMachineError e) {
      throw e;
    } catch (Throwable e) {
      return null;
    }
  }

  private static @Nullable MethodHandle isVirtualHandle() {
    try {
      return MethodHandles.publicLookup()
          .findVirtual(Thread.class, "isVirtual", MethodType.methodType(boolean.class));
    } catch (ReflectiveOperationException | RuntimeException e) {
      return null;
    }
  }

  /**
   * Whether requests made with one kept builder, one after another, equal the ones OkHttp's public
   * way makes in every part ({@link #sameInEveryPart}): methods with and without bodies, headers
   * repeated and not, the caller's own tags, a cache URL, and the attempt's context.
   */
  static boolean checked() {
    try {
      Request.Builder b = new Request.Builder();
      HttpUrl to = HttpUrl.get("http://127.0.0.1:10000/users/42?x=1");
      RequestBody body = RequestBody.create("{}", MediaType.get("application/json"));
      Request[] callers = {
        new Request.Builder().url("http://directory/users/42").build(),
        new Request.Builder()
            .url("http://directory/users")
            .header("Authorization", "Bearer t")
            .addHeader("Accept", "a")
            .addHeader("Accept", "b")
            .post(body)
            .tag(String.class, "caller's")
            .tag(Integer.class, 7)
            .build(),
        new Request.Builder()
            .url("http://directory/a")
            .cacheUrlOverride(HttpUrl.get("http://directory/cache"))
            .tag("untyped")
            .build(),
        new Request.Builder().url("http://directory/a").method("DELETE", null).build(),
        new Request.Builder().url("http://directory/a").head().header("X", " v ").build(),
      };
      AttemptContext context =
          new AttemptContext(
              "call", Attempt.Kind.HEDGE, 2, Endpoint.of("http://127.0.0.1:1", "r", "z"));
      for (int round = 0; round < 2; round++) {
        for (Request caller : callers) {
          AttemptContext c = round == 0 ? null : context;
          Request made = kept(b, caller, to, ClientCore.AttemptTag.KEY, CHECK_TAG, c);
          if (made == null
              || !sameInEveryPart(
                  made, publicWay(caller, to, ClientCore.AttemptTag.KEY, CHECK_TAG, c), caller)) {
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
   * Whether {@code a} and {@code b} are the same request in every part: URL, method, headers, body,
   * cache URL, the text OkHttp shows, and every tag {@code caller} and the SDK put on.
   */
  static boolean sameInEveryPart(Request a, Request b, Request caller) {
    return a.url().equals(b.url())
        && a.method().equals(b.method())
        && a.headers().equals(b.headers())
        && a.body() == b.body()
        && Objects.equals(a.cacheUrlOverride(), b.cacheUrlOverride())
        && a.toString().equals(b.toString())
        && a.tag() == b.tag()
        && Objects.equals(a.tag(ClientCore.AttemptTag.KEY), b.tag(ClientCore.AttemptTag.KEY))
        && Objects.equals(a.tag(CONTEXT_KEY), b.tag(CONTEXT_KEY))
        && Objects.equals(a.tag(String.class), b.tag(String.class))
        && Objects.equals(a.tag(Integer.class), b.tag(Integer.class))
        && Objects.equals(a.tag(String.class), caller.tag(String.class))
        && a.isHttps() == b.isHttps();
  }

  /** Whether attempts' requests are made with a kept builder in this JVM (for tests). */
  static boolean fastWay() {
    return FAST;
  }
}
