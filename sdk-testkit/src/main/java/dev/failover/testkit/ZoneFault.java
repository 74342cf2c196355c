package dev.failover.testkit;

import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * An outage to inject into an endpoint, a zone, a region or everything, with {@link
 * FakeTarget#fail(ZoneFault)}; {@link FakeTarget#heal()} removes it.
 *
 * <p>Two families, which differ in where they act and in what the request journal sees:
 *
 * <ul>
 *   <li><b>Socket faults</b> ({@link #refuse()}, {@link #blackhole()}, {@link #hang()}, {@link
 *       #reset()}) act in the endpoint's TCP proxy and hit every request and every open connection,
 *       health checks included. Requests refused, black-holed or hung never reach WireMock, so they
 *       are not counted.
 *   <li><b>HTTP faults</b> ({@link #latency(Latency)}, {@link #errors(int, double)}, {@link
 *       #garbage()}) act inside WireMock on the response of every stub, so user stubs stay as they
 *       are. These requests reach WireMock and are counted. {@link #sparing(String...)} exempts
 *       paths such as {@code /health}, to model a gray failure whose health checks still pass.
 * </ul>
 *
 * <p>{@link #flapping(ZoneFault, Duration, Duration)} switches another fault on and off. Values are
 * immutable and thread-safe.
 *
 * <pre>{@code
 * zones.zone("us-east-1a").fail(ZoneFault.refuse());
 * zones.zone("us-east-1b").fail(ZoneFault.errors(503, 0.5, Duration.ofSeconds(2)));
 * zones.region("us-west-2").fail(ZoneFault.latency(Latency.fixed(Duration.ofMillis(300)))
 *     .sparing("/health"));
 * }</pre>
 */
public final class ZoneFault {

  enum Kind {
    REFUSE,
    BLACKHOLE,
    HANG,
    RESET,
    LATENCY,
    ERRORS,
    GARBAGE,
    FLAPPING;

    boolean isSocketLevel() {
      return this == REFUSE || this == BLACKHOLE || this == HANG || this == RESET;
    }
  }

  private static final ZoneFault REFUSE = new Builder(Kind.REFUSE).build();
  private static final ZoneFault BLACKHOLE = new Builder(Kind.BLACKHOLE).build();
  private static final ZoneFault HANG = new Builder(Kind.HANG).build();
  private static final ZoneFault RESET = new Builder(Kind.RESET).build();

  private final Kind kind;
  private final @Nullable Latency latency;
  private final int status;
  private final double rate;
  private final @Nullable Duration retryAfter;
  private final @Nullable ZoneFault inner;
  private final Duration down;
  private final Duration up;
  private final Set<String> sparedPaths;

  private ZoneFault(Builder b) {
    this.kind = b.kind;
    this.latency = b.latency;
    this.status = b.status;
    this.rate = b.rate;
    this.retryAfter = b.retryAfter;
    this.inner = b.inner;
    this.down = b.down;
    this.up = b.up;
    this.sparedPaths = Set.copyOf(b.sparedPaths);
  }

  /**
   * Connection refused, as when the process or host is down: nothing listens on the endpoint's
   * port, so a connect attempt fails at once with {@link java.net.ConnectException}, and every
   * established connection is reset. {@link FakeTarget#heal()} listens on the same port again. The
   * port stays reserved meanwhile (a socket is bound to it that never listens), so that no other
   * server and no outgoing connection takes it; that needs SO_REUSEPORT (Linux, macOS). Where the
   * JDK has no SO_REUSEPORT (Windows) the port is free while refused, and {@code heal()} throws an
   * {@link java.io.UncheckedIOException} naming the port if something took it.
   *
   * @return the fault
   */
  public static ZoneFault refuse() {
    return REFUSE;
  }

  /**
   * A black hole, as when a zone's network partitions or its hosts vanish: new connections are
   * never accepted, so a client's connect attempt times out ({@link
   * java.net.SocketTimeoutException}, not a refusal), and connections already open hang as with
   * {@link #hang()}. {@link FakeTarget#heal()} accepts on the same port again; a connect attempt
   * still retrying its SYN then succeeds late, as after a real partition.
   *
   * <p>How: the endpoint's port is held by a listener whose accept queue is full (backlog 1, filled
   * by the proxy's own connections), and the kernel drops a SYN to such a listener rather than
   * answer it. That is Linux's behaviour (the testkit's own tests check it) and needs no root, no
   * firewall rule and no network namespace. It models a silent network, not one that answers with
   * ICMP "unreachable" (that would fail at once); a kernel that answers a full queue with a reset
   * (as Windows does) would show a refusal instead. A client that sneaks in while the fault is
   * being applied may be held as a hung connection instead of timing out.
   *
   * @return the fault
   */
  public static ZoneFault blackhole() {
    return BLACKHOLE;
  }

  /**
   * A hung server, or a partition that strikes after connect: connections are still accepted and
   * their requests read, but no byte is forwarded in either direction, on new and on already open
   * (keep-alive) connections, and the proxy closes nothing. Clients wait until their own (read)
   * timeout. Up to 16 KiB of what a client sends are held back, and delivered if the fault is
   * healed while the client still holds the connection; anything it sends beyond them is read and
   * discarded (so that its close is always seen), and such a connection is reset at heal instead of
   * resumed. A hang may outlast WireMock's idle timeout (30 s), which closes the proxy's idle
   * connection to it: the proxy connects again for what the client sends, so the client sees
   * nothing of it. A client that closes a hung connection lets the proxy drop it. {@link
   * FakeZones#reset()} (between tests) resets every connection this fault or {@link #blackhole()}
   * holds with a request in it (sent into the fault, or sent before it and not yet answered),
   * instead of resuming it, so that a request of one test never reaches the next; idle keep-alive
   * connections resume. For connect attempts that time out, use {@link #blackhole()}.
   *
   * @return the fault
   */
  public static ZoneFault hang() {
    return HANG;
  }

  /**
   * Connection reset mid-response: each request reaches the endpoint (and is counted), but as soon
   * as its response starts to come back the client's connection is reset (TCP RST), so the client
   * sees an {@link java.io.IOException} such as "Connection reset" without knowing whether the
   * request was processed.
   *
   * @return the fault
   */
  public static ZoneFault reset() {
    return RESET;
  }

  /**
   * Adds a delay from {@code latency} to every response, on top of the target's distance.
   *
   * @param latency the distribution of added delay
   * @return the fault
   */
  public static ZoneFault latency(Latency latency) {
    Builder b = new Builder(Kind.LATENCY);
    b.latency = Objects.requireNonNull(latency, "latency");
    return b.build();
  }

  /**
   * Answers a share of requests with an error status and an empty body instead of the stub's
   * response.
   *
   * @param status the HTTP status, in [400, 599]
   * @param rate the share of requests that fail, in (0, 1]
   * @return the fault
   * @throws IllegalArgumentException if {@code status} or {@code rate} is out of range
   */
  public static ZoneFault errors(int status, double rate) {
    Builder b = new Builder(Kind.ERRORS);
    if (status < 400 || status > 599) {
      throw new IllegalArgumentException("errors status must be in [400, 599] but was " + status);
    }
    Latency.checkRate("errors rate", rate);
    b.status = status;
    b.rate = rate;
    return b.build();
  }

  /**
   * Like {@link #errors(int, double)}, with a {@code Retry-After} header in whole seconds (rounded
   * up, so that any wait above zero, 1 ms say, is at least {@code 1}), as a throttling or
   * overloaded service sends with 429 or 503.
   *
   * @param status the HTTP status, in [400, 599]
   * @param rate the share of requests that fail, in (0, 1]
   * @param retryAfter the value of the {@code Retry-After} header, at least 0
   * @return the fault
   * @throws IllegalArgumentException if an argument is out of range
   */
  public static ZoneFault errors(int status, double rate, Duration retryAfter) {
    ZoneFault plain = errors(status, rate);
    Builder b = new Builder(plain);
    Latency.millis("retryAfter", retryAfter);
    b.retryAfter = retryAfter;
    return b.build();
  }

  /**
   * Answers every request with random bytes, then closes the connection: the client fails to parse
   * the response (a malformed status line).
   *
   * @return the fault
   */
  public static ZoneFault garbage() {
    return garbage(1.0);
  }

  /**
   * Answers a share of requests with random bytes, then closes the connection.
   *
   * @param rate the share of requests that get garbage, in (0, 1]
   * @return the fault
   * @throws IllegalArgumentException if {@code rate} is outside (0, 1]
   */
  public static ZoneFault garbage(double rate) {
    Latency.checkRate("garbage rate", rate);
    Builder b = new Builder(Kind.GARBAGE);
    b.rate = rate;
    return b.build();
  }

  /**
   * Switches {@code fault} on for {@code down}, off for {@code up}, and again, until healed or
   * replaced: a flapping endpoint, zone or link. The cycle starts with {@code fault} on, at the
   * moment the fault is applied; every endpoint of one {@code fail} call flaps in step.
   *
   * @param fault the fault to switch; not itself flapping
   * @param down how long {@code fault} stays on in each cycle, at least 1 ms
   * @param up how long it stays off in each cycle, at least 1 ms
   * @return the fault
   * @throws IllegalArgumentException if {@code fault} is flapping or a duration is below 1 ms
   */
  public static ZoneFault flapping(ZoneFault fault, Duration down, Duration up) {
    Objects.requireNonNull(fault, "fault");
    if (fault.kind == Kind.FLAPPING) {
      throw new IllegalArgumentException("flapping fault must not itself be flapping: " + fault);
    }
    if (Latency.millis("down", down) < 1) {
      throw new IllegalArgumentException("flapping down must be >= 1 ms but was " + down);
    }
    if (Latency.millis("up", up) < 1) {
      throw new IllegalArgumentException("flapping up must be >= 1 ms but was " + up);
    }
    Builder b = new Builder(Kind.FLAPPING);
    b.inner = fault;
    b.down = down;
    b.up = up;
    b.sparedPaths.addAll(fault.sparedPaths);
    return b.build();
  }

  /**
   * Returns this HTTP fault, except that requests whose URL path equals one of {@code paths} (the
   * query string is ignored) are served normally: a gray failure whose health checks still pass.
   * The target's distance still applies to them.
   *
   * @param paths exact URL paths such as {@code "/health"}, each starting with {@code /}
   * @return a copy of this fault that spares {@code paths}, in addition to those already spared
   * @throws IllegalArgumentException if this is a socket fault (refuse, blackhole, hang, reset, or
   *     a flapping one), which always hits every request, or if a path does not start with {@code
   *     /}
   */
  public ZoneFault sparing(String... paths) {
    if (socketKind() != null) {
      throw new IllegalArgumentException(
          "sparing(...) needs an HTTP fault; socket faults hit every path, but was " + this);
    }
    Builder b = new Builder(this);
    for (String path : paths) {
      Objects.requireNonNull(path, "path");
      if (!path.startsWith("/")) {
        throw new IllegalArgumentException("sparing path must start with / but was '" + path + "'");
      }
      b.sparedPaths.add(path);
    }
    if (b.inner != null) {
      b.inner = b.inner.sparing(paths);
    }
    return b.build();
  }

  /**
   * Returns this error or garbage fault with latency added to every response it touches (those it
   * fails and those it lets through): a gray zone that is both slow and failing.
   *
   * <pre>{@code
   * zones.zone("us-east-1b").fail(ZoneFault.errors(503, 0.2)
   *     .withLatency(Latency.tail(0.1, Duration.ofMillis(300)))
   *     .sparing("/health"));
   * }</pre>
   *
   * @param latency the latency to add
   * @return a copy of this fault with the latency
   * @throws IllegalArgumentException if this is not an error or garbage fault
   */
  public ZoneFault withLatency(Latency latency) {
    Objects.requireNonNull(latency, "latency");
    if (kind != Kind.ERRORS && kind != Kind.GARBAGE) {
      throw new IllegalArgumentException(
          "withLatency(...) needs an error or garbage fault but was " + this);
    }
    Builder b = new Builder(this);
    b.latency = latency;
    return b.build();
  }

  Kind kind() {
    return kind;
  }

  /** The socket-level kind this fault switches (itself, or the flapping fault's inner one). */
  @Nullable Kind socketKind() {
    ZoneFault base = inner != null ? inner : this;
    return base.kind.isSocketLevel() ? base.kind : null;
  }

  @Nullable Latency latencyDistribution() {
    return latency;
  }

  int status() {
    return status;
  }

  double rate() {
    return rate;
  }

  @Nullable Duration retryAfter() {
    return retryAfter;
  }

  /**
   * The {@code Retry-After} header's value for {@code retryAfter}: whole seconds, rounded up from
   * the nanosecond, so that any wait but none asks for at least a second.
   */
  static long retryAfterSeconds(Duration retryAfter) {
    long second = TimeUnit.SECONDS.toNanos(1);
    return (retryAfter.toNanos() + second - 1) / second; // at most 10 minutes: no overflow
  }

  @Nullable ZoneFault inner() {
    return inner;
  }

  Duration down() {
    return down;
  }

  Duration up() {
    return up;
  }

  boolean spares(String path) {
    return sparedPaths.contains(path);
  }

  @Override
  public String toString() {
    String text =
        switch (kind) {
          case REFUSE -> "refuse";
          case BLACKHOLE -> "blackhole";
          case HANG -> "hang";
          case RESET -> "reset";
          case LATENCY -> "latency(" + latency + ")";
          case ERRORS ->
              "errors("
                  + status
                  + ", rate "
                  + rate
                  + (retryAfter == null ? "" : ", Retry-After " + retryAfter)
                  + (latency == null ? "" : ", latency " + latency)
                  + ")";
          case GARBAGE ->
              "garbage(rate " + rate + (latency == null ? "" : ", latency " + latency) + ")";
          case FLAPPING -> "flapping(" + inner + ", down " + down + ", up " + up + ")";
        };
    return sparedPaths.isEmpty() || kind == Kind.FLAPPING
        ? text
        : text + " sparing " + new TreeSet<>(sparedPaths);
  }

  private static final class Builder {
    final Kind kind;
    @Nullable Latency latency;
    int status;
    double rate = 1.0;
    @Nullable Duration retryAfter;
    @Nullable ZoneFault inner;
    Duration down = Duration.ZERO;
    Duration up = Duration.ZERO;
    final Set<String> sparedPaths = new LinkedHashSet<>();

    Builder(Kind kind) {
      this.kind = kind;
    }

    Builder(ZoneFault f) {
      this.kind = f.kind;
      this.latency = f.latency;
      this.status = f.status;
      this.rate = f.rate;
      this.retryAfter = f.retryAfter;
      this.inner = f.inner;
      this.down = f.down;
      this.up = f.up;
      this.sparedPaths.addAll(f.sparedPaths);
    }

    ZoneFault build() {
      return new ZoneFault(this);
    }
  }
}
