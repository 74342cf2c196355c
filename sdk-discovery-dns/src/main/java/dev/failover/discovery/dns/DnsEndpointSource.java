package dev.failover.discovery.dns;

import dev.failover.EndpointSource;
import dev.failover.Locality;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.Name;
import org.xbill.DNS.ResolverConfig;
import org.xbill.DNS.TextParseException;

/**
 * An {@link EndpointSource} that follows DNS: the SRV records of one service name, or the A and
 * AAAA records of one name per zone, looked up again when the answer's TTL runs out.
 *
 * <pre>{@code
 * // _directory._tcp.example.internal. 30 IN SRV 10 50 8443 a1.us-east-1a.dir.internal.
 * DnsEndpointSource source = DnsEndpointSource.srv("_directory._tcp.example.internal")
 *     .scheme("https")
 *     .locality(SrvLocalities.zoneLabel(1)) // a1.us-east-1a.dir.internal -> us-east-1/us-east-1a
 *     .build();
 * FailoverClient client = FailoverClient.builder()
 *     .service("directory")
 *     .home("us-east-1", "us-east-1a")
 *     .endpointSource(source)
 *     .build();
 * }</pre>
 *
 * <p><b>SRV records.</b> Each record becomes the endpoint {@code scheme://target:port}; OkHttp
 * resolves the target name when it connects. Its weight is the record's weight, 0 read as 1 (RFC
 * 2782's "very small share") and capped at 10,000; its locality is what the {@linkplain
 * Builder#locality(java.util.function.Function) locality mapping} says. The priority is not used:
 * every record becomes an endpoint, whatever its priority, because choosing between zones and
 * regions is the client's job, and keeping only the lowest priority would hide exactly the backup
 * endpoints the client needs when the preferred ones fail. To take a target out, remove its record.
 * A target of {@code .} is skipped.
 *
 * <p><b>A and AAAA records.</b> With {@link #addresses(Map)}, each zone has its own name, and each
 * address of that name becomes the endpoint {@code scheme://address:port} in that zone, of default
 * weight.
 *
 * <p><b>When it looks.</b> The first lookup runs on the source's thread as soon as the client
 * starts it. After a lookup that worked, the next runs after the smallest TTL in the answers (for
 * an empty answer, the negative-caching TTL of the zone's SOA record if the server sent one),
 * clamped to [{@linkplain Builder#minRefresh(Duration) minRefresh}, {@linkplain
 * Builder#maxRefresh(Duration) maxRefresh}] (1 s to 5 min by default); with no TTL to go by, after
 * minRefresh. After a failure, the next runs after a backoff that starts at {@linkplain
 * Builder#initialBackoff(Duration) initialBackoff} (1 s) and doubles up to {@linkplain
 * Builder#maxBackoff(Duration) maxBackoff} (30 s), until a lookup works again.
 *
 * <p><b>What it reports.</b> Every lookup that worked reports its complete list to {@link
 * Updates#endpoints(List)}, sorted by region, zone and URL, even when it did not change (the client
 * reads that as confirmation). An NXDOMAIN or an empty answer is reported as an empty list: the
 * source says what DNS says, and the client holds its last good list, warns and reports the source
 * as stale. A lookup that failed (no server answered within the {@linkplain
 * Builder#timeout(Duration) timeout}, or only with malformed messages, every server answered
 * SERVFAIL or REFUSED, or a record could not be turned into an endpoint, such as a target the
 * locality mapping cannot place or throws for, an Error too) is reported to {@link
 * Updates#failed(Throwable)} as an {@link IOException} that names the query and each server's
 * outcome, each server as {@code host:port} with an IPv6 address in brackets ({@code
 * [0:0:0:0:0:0:0:1]:53}); {@link #start(Updates)} itself never throws for DNS trouble. Anything
 * else a lookup throws is reported there as it is (an Error is logged at ERROR too); either way the
 * next lookup follows after the backoff.
 *
 * <p><b>Threads and sockets.</b> One daemon thread per started source, named {@code failover-dns}
 * and the source's description, runs every lookup; each query opens a UDP socket (and a TCP one for
 * a truncated answer) and closes it before the next. {@link #close()} closes the socket in use,
 * stops the thread and waits for it to end, so nothing of the source outlives it; called on that
 * thread (from an update callback), it neither waits nor interrupts it, and the thread ends as soon
 * as the callback returns. dnsjava builds and parses the DNS messages; its resolvers, whose
 * selector thread is shared by the whole JVM, are not used.
 *
 * <p>Names are looked up as given, made absolute: the resolver's search list is not applied. Built
 * sources are thread-safe; each is started at most once.
 */
public final class DnsEndpointSource implements EndpointSource {

  /** The start of the name of every source's thread. */
  static final String THREAD_NAME_PREFIX = "failover-dns ";

  private static final Logger log = LoggerFactory.getLogger(DnsEndpointSource.class);
  private static final Duration CLOSE_WAIT = Duration.ofSeconds(10);

  private final Lookup lookup;
  private final DnsTransport transport;
  private final Duration minRefresh;
  private final Duration maxRefresh;
  private final Duration initialBackoff;
  private final Duration maxBackoff;
  private final String description;

  private final Object lock = new Object();
  // Guarded by lock.
  private @Nullable Updates updates;
  // Guarded by lock.
  private @Nullable ScheduledThreadPoolExecutor executor;
  // Guarded by lock.
  private @Nullable Future<?> next;
  // Guarded by lock.
  private boolean started;
  // Guarded by lock.
  private boolean closed;

  /** Set by the source's thread as it starts, read by close(). */
  private volatile @Nullable Thread thread;

  /** Only the source's thread. */
  private int failures;

  private DnsEndpointSource(Builder builder, Lookup lookup, List<InetSocketAddress> servers) {
    this.lookup = lookup;
    this.transport = new DnsTransport(servers, builder.timeout);
    this.minRefresh = builder.minRefresh;
    this.maxRefresh = builder.maxRefresh;
    this.initialBackoff = builder.initialBackoff;
    this.maxBackoff = builder.maxBackoff;
    this.description =
        lookup + (builder.servers.isEmpty() ? "" : " @" + describeServers(builder.servers));
  }

  /**
   * Returns a builder for a source that follows the SRV records of {@code serviceName}.
   *
   * @param serviceName for example {@code _directory._tcp.example.internal}; looked up as given,
   *     made absolute
   * @return a new builder; set its {@linkplain Builder#locality(java.util.function.Function)
   *     locality mapping} before {@code build()}
   * @throws IllegalArgumentException if the name is blank or not a valid DNS name
   */
  public static Builder srv(String serviceName) {
    return new Builder(name("serviceName", serviceName), Map.of());
  }

  /**
   * Returns a builder for a source that follows the A and AAAA records of one name per zone.
   *
   * <pre>{@code
   * DnsEndpointSource source = DnsEndpointSource.addresses(Map.of(
   *         Locality.of("us-east-1", "us-east-1a"), "directory.us-east-1a.internal",
   *         Locality.of("us-east-1", "us-east-1b"), "directory.us-east-1b.internal"))
   *     .scheme("https")
   *     .port(8443)
   *     .build();
   * }</pre>
   *
   * @param namesByZone the name of each zone's addresses; looked up as given, made absolute
   * @return a new builder
   * @throws IllegalArgumentException if the map is empty, or a name is blank or not a valid DNS
   *     name
   */
  public static Builder addresses(Map<Locality, String> namesByZone) {
    Objects.requireNonNull(namesByZone, "namesByZone");
    if (namesByZone.isEmpty()) {
      throw new IllegalArgumentException("dns namesByZone must name at least one zone");
    }
    Map<Locality, Name> names = new LinkedHashMap<>();
    namesByZone.entrySet().stream()
        .sorted(
            Comparator.comparing((Map.Entry<Locality, String> e) -> e.getKey().region())
                .thenComparing(e -> e.getKey().zone()))
        .forEach(e -> names.put(e.getKey(), name("name of zone " + e.getKey(), e.getValue())));
    return new Builder(null, names);
  }

  private static Name name(String setting, String text) {
    Objects.requireNonNull(text, setting);
    if (text.isBlank()) {
      throw new IllegalArgumentException("dns " + setting + " must not be blank");
    }
    try {
      return Name.fromString(text.trim(), Name.root);
    } catch (TextParseException e) {
      throw new IllegalArgumentException(
          "dns " + setting + " must be a valid DNS name but was '" + text + "': " + e.getMessage(),
          e);
    }
  }

  @Override
  public void start(Updates updates) {
    Objects.requireNonNull(updates, "updates");
    synchronized (lock) {
      if (started) {
        throw new IllegalStateException("DNS source '" + description + "' already started");
      }
      started = true;
      if (closed) {
        return;
      }
      this.updates = updates;
      ScheduledThreadPoolExecutor ex =
          new ScheduledThreadPoolExecutor(
              1,
              task -> {
                Thread t = new Thread(task, THREAD_NAME_PREFIX + description);
                t.setDaemon(true);
                thread = t;
                return t;
              });
      ex.setRemoveOnCancelPolicy(true);
      ex.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
      executor = ex;
      next = ex.submit(this::lookupAndReschedule);
    }
  }

  /** One lookup, its report, and the next lookup's scheduling; runs on the source's thread. */
  private void lookupAndReschedule() {
    Duration delay;
    try {
      Lookup.Result result = lookup.run(transport);
      failures = 0;
      report(u -> u.endpoints(result.endpoints()));
      delay = refreshAfter(result.ttlSeconds(), minRefresh, maxRefresh);
    } catch (IOException | RuntimeException | Error e) {
      // An Error too (one from dnsjava, say): escaping, FutureTask would keep it, nothing would be
      // reported and no lookup would follow, leaving the client on its last list for good.
      if (e instanceof Error) {
        log.error("DNS source '{}': the lookup threw; reported as failed", description, e);
      }
      failures++;
      report(u -> u.failed(e));
      delay = backoff(failures, initialBackoff, maxBackoff);
    }
    synchronized (lock) {
      ScheduledThreadPoolExecutor ex = executor;
      if (closed || ex == null) {
        return;
      }
      try {
        next = ex.schedule(this::lookupAndReschedule, delay.toNanos(), TimeUnit.NANOSECONDS);
      } catch (RejectedExecutionException e) {
        // shut down by close() since the check: nothing more to do
      }
    }
  }

  private void report(Consumer<Updates> call) {
    Updates target;
    synchronized (lock) {
      target = closed ? null : updates;
    }
    if (target == null) {
      return;
    }
    try {
      call.accept(target);
    } catch (RuntimeException | Error e) {
      log.warn("DNS source '{}': the client's update callback threw; ignored", description, e);
    }
  }

  /**
   * Returns how long to wait after a lookup that worked.
   *
   * @param ttlSeconds the smallest TTL of the answers, or a negative number if there was none
   */
  static Duration refreshAfter(long ttlSeconds, Duration min, Duration max) {
    if (ttlSeconds < 0) {
      return min;
    }
    Duration ttl = Duration.ofSeconds(ttlSeconds);
    if (ttl.compareTo(min) < 0) {
      return min;
    }
    return ttl.compareTo(max) > 0 ? max : ttl;
  }

  /**
   * Returns how long to wait after the {@code failures}-th failure in a row: {@code initial},
   * doubling each time, at most {@code max}.
   */
  static Duration backoff(int failures, Duration initial, Duration max) {
    int doublings = Math.max(0, Math.min(failures - 1, 30));
    Duration delay = initial.multipliedBy(1L << doublings);
    return delay.compareTo(max) > 0 ? max : delay;
  }

  /**
   * Stops looking up: closes the socket in use, stops the source's thread and waits up to 10
   * seconds for it to end. Called from that thread itself (from an update callback), it neither
   * waits nor interrupts it: the thread ends as soon as the callback returns. Reports after this
   * are not made. Idempotent.
   */
  @Override
  public void close() {
    ScheduledThreadPoolExecutor ex;
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      updates = null;
      ex = executor;
      executor = null;
      Future<?> pending = next;
      next = null;
      if (pending != null) {
        pending.cancel(false);
      }
    }
    transport.abort();
    if (ex == null) {
      return;
    }
    if (Thread.currentThread() == thread) {
      // Closed from an update callback, on the source's thread: the next lookup is cancelled
      // already and the thread ends when this task returns. shutdownNow() would interrupt the
      // caller itself, and what it does after this (the client's own bounded waits) would return
      // at once.
      ex.shutdown();
      return;
    }
    ex.shutdownNow();
    // The executor terminates just before its thread ends: join the thread itself too.
    Thread worker = thread;
    long deadline = System.nanoTime() + CLOSE_WAIT.toNanos();
    boolean interrupted = false;
    try {
      if (ex.awaitTermination(CLOSE_WAIT.toNanos(), TimeUnit.NANOSECONDS) && worker != null) {
        worker.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
      }
    } catch (InterruptedException e) {
      interrupted = true;
    }
    if (!ex.isTerminated() || (worker != null && worker.isAlive())) {
      log.warn("DNS source '{}': its thread did not end within {}", description, CLOSE_WAIT);
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Returns what this source follows, for events, logs and the snapshot.
   *
   * @return for example {@code dns-srv _directory._tcp.example.internal @127.0.0.1:5353} (the
   *     servers are named only when set with {@link Builder#server(String, int)}, an IPv6 address
   *     in brackets: {@code @[0:0:0:0:0:0:0:1]:5353})
   */
  @Override
  public String description() {
    return description;
  }

  @Override
  public String toString() {
    return description;
  }

  /** Returns how many queries were asked again over TCP after a truncated answer. */
  long tcpQueries() {
    return transport.tcpQueries();
  }

  private static String describeServers(List<InetSocketAddress> servers) {
    List<String> out = new ArrayList<>();
    for (InetSocketAddress s : servers) {
      out.add(DnsTransport.describe(s));
    }
    return String.join(",", out);
  }

  /**
   * Builds a {@link DnsEndpointSource}; from {@link DnsEndpointSource#srv(String)} or {@link
   * DnsEndpointSource#addresses(Map)}. Every setter checks its argument at once.
   *
   * <p>Defaults and why:
   *
   * <ul>
   *   <li>{@code scheme} {@code http}: endpoints are {@code http://host:port}; set {@code https}
   *       for TLS (the certificate must name the SRV target, or the address for A/AAAA records).
   *   <li>{@code port} (A/AAAA only) 80 for {@code http}, 443 for {@code https}.
   *   <li>{@code server}: the system's resolvers ({@code /etc/resolv.conf} on Linux), read once by
   *       {@code build()}.
   *   <li>{@code timeout} 5 s for one query, shared among the servers: as long as a stub resolver
   *       waits, and far below the default backoff cap, so a dead server costs one slow query, not
   *       a stuck source.
   *   <li>{@code minRefresh} 1 s: records with a TTL of 0 or 1 s (common for local data) cost at
   *       most one lookup a second.
   *   <li>{@code maxRefresh} 5 min: a long TTL still lets a changed record in within 5 minutes.
   *   <li>{@code initialBackoff} 1 s, {@code maxBackoff} 30 s: a DNS blip is retried at once; an
   *       outage costs the server one query per 30 s per client.
   *   <li>{@code ipv4} and {@code ipv6} (A/AAAA only) both on: turn {@code ipv6} off where hosts
   *       have no IPv6 route.
   * </ul>
   */
  public static final class Builder {
    private static final Duration MIN_TIMEOUT = Duration.ofMillis(10);
    private static final Duration MAX_TIMEOUT = Duration.ofMinutes(1);
    private static final Duration MIN_REFRESH_FLOOR = Duration.ofMillis(100);
    private static final Duration MAX_REFRESH_CEILING = Duration.ofHours(24);
    private static final Duration MIN_BACKOFF = Duration.ofMillis(10);
    private static final Duration MAX_BACKOFF = Duration.ofHours(1);

    private final @Nullable Name serviceName;
    private final Map<Locality, Name> namesByZone;
    private String scheme = "http";
    private int port = -1;
    private @Nullable Function<SrvTarget, Locality> locality;
    private final List<InetSocketAddress> servers = new ArrayList<>();
    private Duration timeout = Duration.ofSeconds(5);
    private Duration minRefresh = Duration.ofSeconds(1);
    private Duration maxRefresh = Duration.ofMinutes(5);
    private Duration initialBackoff = Duration.ofSeconds(1);
    private Duration maxBackoff = Duration.ofSeconds(30);
    private boolean ipv4 = true;
    private boolean ipv6 = true;

    private Builder(@Nullable Name serviceName, Map<Locality, Name> namesByZone) {
      this.serviceName = serviceName;
      this.namesByZone = namesByZone;
    }

    /**
     * Sets the scheme of the endpoints' URLs.
     *
     * @param scheme {@code http} (the default) or {@code https}, in any case
     * @return this builder
     * @throws IllegalArgumentException if it is neither
     */
    public Builder scheme(String scheme) {
      Objects.requireNonNull(scheme, "scheme");
      String lower = scheme.toLowerCase(Locale.ROOT);
      if (!lower.equals("http") && !lower.equals("https")) {
        throw new IllegalArgumentException(
            "dns scheme must be http or https but was '" + scheme + "'");
      }
      this.scheme = lower;
      return this;
    }

    /**
     * Sets the port of the endpoints found in A and AAAA records; SRV records carry their own.
     *
     * @param port 1 to 65535; 80 for {@code http} and 443 for {@code https} by default
     * @return this builder
     * @throws IllegalArgumentException if out of range
     * @throws IllegalStateException if this builder is for SRV records
     */
    public Builder port(int port) {
      if (serviceName != null) {
        throw new IllegalStateException(
            "dns port applies to A/AAAA records only; SRV records of "
                + serviceName.toString(true)
                + " carry their own ports");
      }
      if (port < 1 || port > 65_535) {
        throw new IllegalArgumentException("dns port must be between 1 and 65535 but was " + port);
      }
      this.port = port;
      return this;
    }

    /**
     * Sets how the locality of each SRV target is found; required for SRV records. See {@link
     * SrvLocalities} for ready-made mappings.
     *
     * <pre>{@code
     * .locality(SrvLocalities.zoneLabel(1))                       // a1.us-east-1a.dir.internal
     * .locality(t -> t.port() == 8443 ? west : east)             // anything else
     * }</pre>
     *
     * <p>The function runs on the source's thread for each record of each lookup; if it throws (an
     * Error too) or returns null for a record, the lookup is reported as failed, naming the record,
     * and the next lookup follows after the backoff.
     *
     * @param locality gives the locality of a target
     * @return this builder
     * @throws IllegalStateException if this builder is for A/AAAA records, whose localities are the
     *     keys of the map they were built from
     */
    public Builder locality(Function<SrvTarget, Locality> locality) {
      Objects.requireNonNull(locality, "locality");
      if (serviceName == null) {
        throw new IllegalStateException(
            "dns locality mapping applies to SRV records only; A/AAAA names are given per zone");
      }
      this.locality = locality;
      return this;
    }

    /**
     * Adds a DNS server to ask, instead of the system's resolvers; call it again to add more, asked
     * in order when one fails.
     *
     * @param host the server's address, such as {@code 127.0.0.1} or {@code ::1} (a name is
     *     resolved once, here)
     * @param port 1 to 65535; DNS servers listen on 53
     * @return this builder
     * @throws IllegalArgumentException if the port is out of range or the host cannot be resolved
     */
    public Builder server(String host, int port) {
      Objects.requireNonNull(host, "host");
      if (port < 1 || port > 65_535) {
        throw new IllegalArgumentException(
            "dns server port must be between 1 and 65535 but was " + port + " for " + host);
      }
      if (host.isBlank()) {
        throw new IllegalArgumentException("dns server host must not be blank");
      }
      InetSocketAddress address = new InetSocketAddress(host.trim(), port);
      if (address.isUnresolved()) {
        throw new IllegalArgumentException(
            "dns server host '" + host + "' could not be resolved; give an IP address");
      }
      servers.add(address);
      return this;
    }

    /**
     * Sets how long one query may take, shared among the servers in order. An SRV lookup is one
     * query; an A/AAAA lookup is one query per zone and record type, and its first failed query
     * ends it.
     *
     * @param timeout 10 ms to 1 minute; 5 s by default
     * @return this builder
     * @throws IllegalArgumentException if out of range
     */
    public Builder timeout(Duration timeout) {
      this.timeout = check("timeout", timeout, MIN_TIMEOUT, MAX_TIMEOUT);
      return this;
    }

    /**
     * Sets the shortest wait between lookups that worked, whatever the TTL.
     *
     * @param minRefresh 100 ms to 24 hours, at most the {@linkplain #maxRefresh(Duration) maximum};
     *     1 s by default
     * @return this builder
     * @throws IllegalArgumentException if out of range
     */
    public Builder minRefresh(Duration minRefresh) {
      this.minRefresh = check("minRefresh", minRefresh, MIN_REFRESH_FLOOR, MAX_REFRESH_CEILING);
      return this;
    }

    /**
     * Sets the longest wait between lookups that worked, whatever the TTL.
     *
     * @param maxRefresh 100 ms to 24 hours, at least the {@linkplain #minRefresh(Duration)
     *     minimum}; 5 minutes by default
     * @return this builder
     * @throws IllegalArgumentException if out of range
     */
    public Builder maxRefresh(Duration maxRefresh) {
      this.maxRefresh = check("maxRefresh", maxRefresh, MIN_REFRESH_FLOOR, MAX_REFRESH_CEILING);
      return this;
    }

    /**
     * Sets the wait after the first failed lookup; it doubles with each failure in a row.
     *
     * @param initialBackoff 10 ms to 1 hour, at most the {@linkplain #maxBackoff(Duration)
     *     maximum}; 1 s by default
     * @return this builder
     * @throws IllegalArgumentException if out of range
     */
    public Builder initialBackoff(Duration initialBackoff) {
      this.initialBackoff = check("initialBackoff", initialBackoff, MIN_BACKOFF, MAX_BACKOFF);
      return this;
    }

    /**
     * Sets the longest wait after failed lookups.
     *
     * @param maxBackoff 10 ms to 1 hour, at least the {@linkplain #initialBackoff(Duration) initial
     *     backoff}; 30 s by default
     * @return this builder
     * @throws IllegalArgumentException if out of range
     */
    public Builder maxBackoff(Duration maxBackoff) {
      this.maxBackoff = check("maxBackoff", maxBackoff, MIN_BACKOFF, MAX_BACKOFF);
      return this;
    }

    /**
     * Sets whether A records (IPv4 addresses) are looked up; A/AAAA sources only.
     *
     * @param ipv4 true by default
     * @return this builder
     * @throws IllegalStateException if this builder is for SRV records
     */
    public Builder ipv4(boolean ipv4) {
      requireAddresses("ipv4");
      this.ipv4 = ipv4;
      return this;
    }

    /**
     * Sets whether AAAA records (IPv6 addresses) are looked up; A/AAAA sources only.
     *
     * @param ipv6 true by default
     * @return this builder
     * @throws IllegalStateException if this builder is for SRV records
     */
    public Builder ipv6(boolean ipv6) {
      requireAddresses("ipv6");
      this.ipv6 = ipv6;
      return this;
    }

    /**
     * Builds the source; nothing is looked up until the client {@linkplain
     * EndpointSource#start(Updates) starts} it.
     *
     * @return the source
     * @throws IllegalArgumentException if {@code minRefresh} exceeds {@code maxRefresh}, {@code
     *     initialBackoff} exceeds {@code maxBackoff}, or both {@code ipv4} and {@code ipv6} are off
     * @throws IllegalStateException if an SRV source has no locality mapping
     */
    public DnsEndpointSource build() {
      if (minRefresh.compareTo(maxRefresh) > 0) {
        throw new IllegalArgumentException(
            "dns minRefresh ("
                + minRefresh.toMillis()
                + " ms) must not exceed maxRefresh ("
                + maxRefresh.toMillis()
                + " ms)");
      }
      if (initialBackoff.compareTo(maxBackoff) > 0) {
        throw new IllegalArgumentException(
            "dns initialBackoff ("
                + initialBackoff.toMillis()
                + " ms) must not exceed maxBackoff ("
                + maxBackoff.toMillis()
                + " ms)");
      }
      Lookup lookup;
      Name service = serviceName;
      if (service != null) {
        Function<SrvTarget, Locality> mapping = locality;
        if (mapping == null) {
          throw new IllegalStateException(
              "dns locality mapping required for SRV records of "
                  + service.toString(true)
                  + ": call locality(SrvLocalities.zoneLabel(position)) or give a function");
        }
        lookup = new Lookup.Srv(service, scheme, mapping);
      } else {
        if (!ipv4 && !ipv6) {
          throw new IllegalArgumentException(
              "dns ipv4 and ipv6 must not both be false: nothing would be looked up");
        }
        int defaultPort = scheme.equals("https") ? 443 : 80;
        lookup =
            new Lookup.Addresses(namesByZone, scheme, port > 0 ? port : defaultPort, ipv4, ipv6);
      }
      List<InetSocketAddress> resolvers =
          servers.isEmpty() ? ResolverConfig.getCurrentConfig().servers() : servers;
      return new DnsEndpointSource(this, lookup, resolvers);
    }

    private void requireAddresses(String setting) {
      if (serviceName != null) {
        throw new IllegalStateException(
            "dns " + setting + " applies to A/AAAA records only, not to SRV records");
      }
    }

    private static Duration check(String name, Duration value, Duration min, Duration max) {
      Objects.requireNonNull(value, name);
      if (value.compareTo(min) < 0 || value.compareTo(max) > 0) {
        throw new IllegalArgumentException(
            "dns "
                + name
                + " must be between "
                + min.toMillis()
                + " ms and "
                + max.toMillis()
                + " ms but was "
                + value.toMillis()
                + " ms");
      }
      return value;
    }
  }
}
