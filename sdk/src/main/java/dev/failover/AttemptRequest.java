package dev.failover;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReferenceArray;
import kotlin.reflect.KClass;
import okhttp3.Headers;
import okhttp3.HttpUrl;
import okhttp3.MediaType;
import okhttp3.Request;
import okhttp3.RequestBody;
import org.jspecify.annotations.Nullable;

/**
 * Makes attempts' OkHttp requests: the caller's, sent to an endpoint's URL, with the attempt's tags
 * added to the caller's ({@link #make}). One per client core.
 *
 * <p>OkHttp's public way there ({@code request.newBuilder().url(..).tag(..).build()}) copies the
 * caller's headers into a new 20-slot list and back into an array, about 300 bytes of objects per
 * attempt for a request with one header (docs/benchmarks.md). Here a few {@code Request.Builder}s
 * are kept and each is filled for one attempt at a time: its header list is kept (cleared, not made
 * again), so an attempt costs the {@code Request}, its header array and {@code Headers}, and one
 * link of tags per tag added, about 100 bytes. The builders sit in slots a cache line apart, and a
 * thread takes the one in its slot for the time it fills it (an atomic swap: no two threads ever
 * hold one builder); a thread that finds its slot empty makes a builder, and leaves it there after.
 * They belong to this object, not to the threads: {@link #close()} drops them, and nothing is kept
 * on an application's threads (a builder kept per thread would outlive the client on a container's
 * worker threads, and with it the class loader that loaded OkHttp).
 *
 * <p>Two of the builder's parts are reached only through members that OkHttp's Kotlin code declares
 * {@code internal} (compiled public, named {@code getHeaders$okhttp} and the like): the builder's
 * header list, and the tags a request carries and a builder starts from. They are looked up once;
 * where they are missing (another OkHttp), or where a start-up check finds requests made this way
 * differ from the public way's in any part, every attempt uses OkHttp's public way: the same
 * requests, at its cost.
 *
 * <p>A builder goes back to its slot only once it holds nothing of the request it made: its header
 * list cleared, its URL a placeholder, no body, cache URL or tags. If emptying it failed in any
 * way, or its header list grew long (a caller's request with many headers), it is dropped instead;
 * and its header list is cleared before it is filled as well.
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

  /** {@code Headers.Builder.getNamesAndValues$okhttp()}: its list, to fill and clear. */
  private static final @Nullable MethodHandle NAMES_AND_VALUES;

  /** The tags of a request that has none: what a kept builder starts from. */
  private static final @Nullable Object NO_TAGS;

  static {
    MethodHandle[] handles = lookUp();
    TAGS_OF = handles == null ? null : handles[0];
    SET_TAGS = handles == null ? null : handles[1];
    HEADERS_OF = handles == null ? null : handles[2];
    NAMES_AND_VALUES = handles == null ? null : handles[3];
    NO_TAGS = noTags();
  }

  /** The attempt's tag in the start-up check (before {@link #FAST}, which runs the check). */
  private static final ClientCore.AttemptTag CHECK_TAG = new ClientCore.AttemptTag(true);

  /** Whether attempts' requests are made with a kept builder: reached, and passed the check. */
  private static final boolean FAST = NO_TAGS != null && checked();

  /** How many slots of kept builders there are (a power of two). */
  private static final int SLOTS = 8;

  /** Slots between two builders: 16 references span 64 bytes, a cache line, or more. */
  private static final int SPACING = 16;

  /**
   * The most header names and values a builder's list may hold and go back to its slot: a longer
   * one (a request with more than 32 headers) is dropped rather than kept at that size.
   */
  private static final int MOST_KEPT = 64;

  /** The kept builders, {@link #SPACING} slots apart; null where taken or not made yet. */
  private final AtomicReferenceArray<Request.@Nullable Builder> kept =
      new AtomicReferenceArray<>(SLOTS * SPACING);

  private volatile boolean closed;

  /**
   * {@code caller} sent to {@code url}, with the caller's tags and {@code tag} under {@code key},
   * and {@code context} under {@link #CONTEXT_KEY} if not null.
   */
  <T> Request make(
      Request caller, HttpUrl url, KClass<T> key, T tag, @Nullable AttemptContext context) {
    if (FAST) {
      int slot = slotOf(Thread.currentThread());
      Request.Builder b = kept.get(slot) == null ? null : kept.getAndSet(slot, null);
      if (b == null) {
        b = new Request.Builder();
      }
      Request made;
      try {
        made = kept(b, caller, url, key, tag, context);
      } finally {
        if (empty(b) && !closed && kept.compareAndSet(slot, null, b) && closed) {
          kept.set(slot, null); // close() came between: it keeps none
        }
      }
      if (made != null) {
        return made;
      }
    }
    return publicWay(caller, url, key, tag, context);
  }

  /**
   * Drops the kept builders (the client core closes): an attempt made after makes a builder of its
   * own, which is not kept.
   */
  void close() {
    closed = true;
    for (int slot = 0; slot < SLOTS * SPACING; slot += SPACING) {
      kept.set(slot, null);
    }
  }

  /** The slot {@code thread} takes its builder from. */
  private static int slotOf(Thread thread) {
    int h = thread.hashCode();
    return ((h ^ (h >>> 16)) & (SLOTS - 1)) * SPACING;
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
   * The request made with {@code b}, whose header list is cleared first; null if any step failed
   * (then the public way makes it). {@code b} is left as filled: the caller empties it.
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
    if (tagsOf == null || setTags == null) {
      return null;
    }
    try {
      List<String> namesAndValues = namesAndValues(b);
      namesAndValues.clear();
      // As the public way copies them: name and value as they are (Headers.Builder.addAll would
      // trim each value again, which only headers made through OkHttp's internals need).
      Headers headers = caller.headers();
      for (int i = 0, n = headers.size(); i < n; i++) {
        namesAndValues.add(headers.name(i));
        namesAndValues.add(headers.value(i));
      }
      b.url(url);
      b.method(caller.method(), caller.body());
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
    }
  }

  /**
   * Leaves {@code b} holding nothing of the last request; returns whether it did, and whether its
   * header list is short enough to keep: only then may it be kept.
   */
  private static boolean empty(Request.Builder b) {
    MethodHandle setTags = SET_TAGS;
    Object noTags = NO_TAGS;
    if (setTags == null || noTags == null) {
      return false;
    }
    try {
      List<String> namesAndValues = namesAndValues(b);
      boolean keep = namesAndValues.size() <= MOST_KEPT;
      namesAndValues.clear();
      setTags.invokeExact(b, noTags);
      b.cacheUrlOverride(null);
      b.method("GET", null);
      b.url(PLACEHOLDER);
      return keep;
    } catch (VirtualMachineError e) {
      throw e; // and the builder is not kept
    } catch (Throwable e) {
      return false;
    }
  }

  /** The list of names and values of {@code b}'s {@code Headers.Builder}. */
  @SuppressWarnings("unchecked") // OkHttp's MutableList<String>
  private static List<String> namesAndValues(Request.Builder b) throws Throwable {
    MethodHandle headersOf = HEADERS_OF;
    MethodHandle namesAndValues = NAMES_AND_VALUES;
    if (headersOf == null || namesAndValues == null) {
      throw new IllegalStateException("OkHttp's header list is not reachable");
    }
    return (List<String>) namesAndValues.invokeExact((Headers.Builder) headersOf.invokeExact(b));
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
          if (!empty(b)
              || made == null
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

  /** How many builders are kept now (for tests). */
  int keptBuilders() {
    int n = 0;
    for (int slot = 0; slot < SLOTS * SPACING; slot += SPACING) {
      if (kept.get(slot) != null) {
        n++;
      }
    }
    return n;
  }

  /** Whether attempts' requests are made with a kept builder in this JVM (for tests). */
  static boolean fastWay() {
    return FAST;
  }
}
