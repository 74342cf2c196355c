package dev.failover.discovery.zookeeper;

import dev.failover.EndpointSource;
import dev.failover.Locality;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.x.discovery.ServiceInstance;
import org.apache.curator.x.discovery.details.InstanceSerializer;
import org.jspecify.annotations.Nullable;

/**
 * An {@link EndpointSource} that follows the instances of one service registered in ZooKeeper
 * through Apache Curator service discovery ({@code curator-x-discovery}).
 *
 * <p>It watches {@code basePath/serviceName} with a Curator {@code ServiceCache} and reports the
 * complete list of instances each time it changes; each instance becomes an endpoint: {@code
 * https://address:sslPort} when it has an SSL port, else {@code http://address:port}, in the
 * locality read from its metadata. When the connection to ZooKeeper is suspended or lost it reports
 * a failure at once, even when that happens just as the source reads its first list (the client
 * keeps serving from its last good list); when it is back, it reads the service's instances again
 * and reports them.
 *
 * <pre>{@code
 * ZooKeeperEndpointSource source = ZooKeeperEndpointSource.builder()
 *     .connectString("zk-1.internal:2181,zk-2.internal:2181,zk-3.internal:2181")
 *     .serviceName("directory")
 *     .build();
 * FailoverClient client = FailoverClient.builder()
 *     .service("directory")
 *     .home("us-east-1", "us-east-1a")
 *     .endpointSource(source) // closed by client.close()
 *     .build();
 * }</pre>
 *
 * <p><b>Metadata.</b> {@link #builder()} reads instances registered with Curator's {@code
 * JsonInstanceSerializer} and a {@code Map<String, String>} payload (or any JSON object payload,
 * such as Spring Cloud Zookeeper's, whose nested {@code metadata} object is read too). The zone is
 * the value of {@code zone}, else {@code topology.kubernetes.io/zone}; the region that of {@code
 * region}, else {@code topology.kubernetes.io/region}. An instance without a zone or a region takes
 * {@link Builder#defaultZone(String)} / {@link Builder#defaultRegion(String)} when they are set;
 * without them it is left out with a warning in the log (once per instance): routing an endpoint of
 * unknown zone as if it were in some zone would send home-zone traffic to another zone. Other
 * payload types: {@link #builder(InstanceSerializer)} with {@link Builder#locality(Function)} or
 * {@link Builder#metadata(Function)}. Disabled instances ({@code enabled: false}) and instances
 * without an address or port are left out too.
 *
 * <p><b>Threads.</b> {@link #start(Updates)} returns at once, even when ZooKeeper is down (that is
 * reported as a failure once {@link Builder#connectTimeout(Duration)} has passed); one thread of
 * the source's own connects, reads and reports; an update callback that throws there (an Error too)
 * is logged at WARN and ignored, and the watch goes on. {@link #close()} stops it, closes the
 * cache, and, when the source built its own Curator client from a connect string, closes that
 * client and waits for its threads (also when called on the source's own thread, from a listener,
 * which ends as the listener returns); a client given with {@link
 * Builder#curatorFramework(CuratorFramework)} stays open, for its owner to close.
 */
public final class ZooKeeperEndpointSource implements EndpointSource {

  /** The base path of a source built without one, as Spring Cloud Zookeeper uses it. */
  public static final String DEFAULT_BASE_PATH = "/services";

  /** The connect timeout of a source built without one. */
  public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(3);

  /**
   * How often a source that is connected and heard of no change reports its list again, by default:
   * as often as the polling sources ask their registry by default, so that a client's list age
   * means the same whatever its source.
   */
  public static final Duration DEFAULT_CONFIRM_INTERVAL = Duration.ofSeconds(30);

  private final Watcher<?> watcher;

  private ZooKeeperEndpointSource(Watcher<?> watcher) {
    this.watcher = watcher;
  }

  /**
   * Returns a builder for instances registered with a {@code Map<String, String>} payload
   * (Curator's {@code JsonInstanceSerializer}), the locality read from the metadata keys described
   * above.
   *
   * @return a new builder
   */
  public static Builder<Map<String, String>> builder() {
    Builder<Map<String, String>> builder = new Builder<>(MetadataInstanceSerializer.INSTANCE);
    builder.metadata = ServiceInstance::getPayload;
    return builder;
  }

  /**
   * Returns a builder for instances of another payload type, read with {@code serializer}; set
   * {@link Builder#locality(Function)} or {@link Builder#metadata(Function)} too.
   *
   * <pre>{@code
   * ZooKeeperEndpointSource source = ZooKeeperEndpointSource
   *     .builder(new JsonInstanceSerializer<>(NodeInfo.class))
   *     .locality(instance -> Locality.of("us-east-1", instance.getPayload().az()))
   *     .connectString("zk-1.internal:2181")
   *     .serviceName("directory")
   *     .build();
   * }</pre>
   *
   * @param serializer reads the instances' payloads as the registering side wrote them
   * @param <T> the payload type
   * @return a new builder
   */
  public static <T> Builder<T> builder(InstanceSerializer<T> serializer) {
    return new Builder<>(Objects.requireNonNull(serializer, "serializer"));
  }

  /**
   * Starts watching the service from the source's own thread and returns at once; the first list
   * follows as soon as ZooKeeper has answered.
   *
   * @param updates where to report lists and failures
   * @throws IllegalStateException if the source was started before or is closed, or if a Curator
   *     client given to the builder has not been started
   */
  @Override
  public void start(Updates updates) {
    watcher.start(Objects.requireNonNull(updates, "updates"));
  }

  /**
   * Stops reporting, closes the service cache and, if the source built its own Curator client, that
   * client, and returns once the source's threads have ended (at most about 10 s). Called on the
   * source's own thread (by a listener of the client, told there of a list or a failure), it closes
   * all of it too, and its threads but that one have ended when it returns; that one ends as soon
   * as the listener returns. A client given to the builder stays open. Calling it again does
   * nothing.
   */
  @Override
  public void close() {
    watcher.close();
  }

  /**
   * Returns {@code zookeeper PATH at CONNECT} (or {@code via a given Curator client}).
   *
   * @return for example {@code zookeeper /services/directory at 10.0.0.5:2181}
   */
  @Override
  public String description() {
    return watcher.description();
  }

  @Override
  public String toString() {
    return "ZooKeeperEndpointSource[" + description() + "]";
  }

  /** The worker, for tests in this package. */
  Watcher<?> watcher() {
    return watcher;
  }

  /**
   * Settings of a {@link ZooKeeperEndpointSource}; each setter checks its argument at once. Set
   * {@link #serviceName(String)} and one of {@link #connectString(String)} or {@link
   * #curatorFramework(CuratorFramework)}.
   *
   * @param <T> the payload type of the registered instances
   */
  public static final class Builder<T> {

    private final InstanceSerializer<T> serializer;
    private @Nullable String connectString;
    private @Nullable CuratorFramework curatorFramework;
    private String basePath = DEFAULT_BASE_PATH;
    private @Nullable String serviceName;
    private @Nullable Function<? super ServiceInstance<T>, ? extends @Nullable Locality> locality;
    private @Nullable Function<? super ServiceInstance<T>, ? extends @Nullable Map<String, String>>
        metadata;
    private @Nullable String defaultRegion;
    private @Nullable String defaultZone;
    private Duration connectTimeout = DEFAULT_CONNECT_TIMEOUT;
    private Duration confirmInterval = DEFAULT_CONFIRM_INTERVAL;

    private Builder(InstanceSerializer<T> serializer) {
      this.serializer = serializer;
    }

    /**
     * Connects through a Curator client the source builds, starts and closes itself.
     *
     * @param connectString ZooKeeper's {@code host:port} list, optionally with a chroot, for
     *     example {@code zk-1:2181,zk-2:2181/prod}
     * @return this builder
     * @throws IllegalArgumentException if blank, or if a Curator client was given already
     */
    public Builder<T> connectString(String connectString) {
      Objects.requireNonNull(connectString, "connectString");
      if (connectString.isBlank()) {
        throw new IllegalArgumentException(
            "zookeeper connectString must not be blank but was '" + connectString + "'");
      }
      if (curatorFramework != null) {
        throw new IllegalArgumentException(
            "zookeeper connectString '"
                + connectString
                + "' cannot be set: a curatorFramework was set already; set one of them");
      }
      this.connectString = connectString.trim();
      return this;
    }

    /**
     * Connects through a Curator client the application owns: it must be started before the source
     * starts, and the source never closes it.
     *
     * @param curatorFramework a started Curator client, for example the application's own
     * @return this builder
     * @throws IllegalArgumentException if a connect string was given already
     */
    public Builder<T> curatorFramework(CuratorFramework curatorFramework) {
      Objects.requireNonNull(curatorFramework, "curatorFramework");
      if (connectString != null) {
        throw new IllegalArgumentException(
            "zookeeper curatorFramework cannot be set: connectString was set already to '"
                + connectString
                + "'; set one of them");
      }
      this.curatorFramework = curatorFramework;
      return this;
    }

    /**
     * Sets the ZooKeeper path under which services are registered ({@value
     * ZooKeeperEndpointSource#DEFAULT_BASE_PATH} by default, the path of Spring Cloud Zookeeper; it
     * must match the registering side's {@code ServiceDiscoveryBuilder.basePath}).
     *
     * @param basePath an absolute ZooKeeper path, such as {@code /services}
     * @return this builder
     * @throws IllegalArgumentException if it does not start with {@code /}, ends with {@code /}
     *     (other than the root) or has an empty segment
     */
    public Builder<T> basePath(String basePath) {
      Objects.requireNonNull(basePath, "basePath");
      boolean valid =
          basePath.startsWith("/")
              && !basePath.contains("//")
              && (basePath.equals("/") || !basePath.endsWith("/"))
              && basePath.chars().noneMatch(Character::isWhitespace);
      if (!valid) {
        throw new IllegalArgumentException(
            "zookeeper basePath must be an absolute path such as /services but was '"
                + basePath
                + "'");
      }
      this.basePath = basePath;
      return this;
    }

    /**
     * Sets the name the instances are registered under (required).
     *
     * @param serviceName the service name, such as {@code directory}; no {@code /}
     * @return this builder
     * @throws IllegalArgumentException if blank or containing {@code /}
     */
    public Builder<T> serviceName(String serviceName) {
      Objects.requireNonNull(serviceName, "serviceName");
      if (serviceName.isBlank() || serviceName.contains("/")) {
        throw new IllegalArgumentException(
            "zookeeper serviceName must be a non-blank name without '/' but was '"
                + serviceName
                + "'");
      }
      this.serviceName = serviceName;
      return this;
    }

    /**
     * Replaces the metadata mapping with a function that returns each instance's locality; an
     * instance for which it returns null or throws (an Error too) is left out with a warning, and
     * the source goes on watching. The defaults ({@link #defaultZone(String)}, {@link
     * #defaultRegion(String)}) are not applied to it.
     *
     * @param locality returns the instance's locality, or null if unknown
     * @return this builder
     */
    public Builder<T> locality(
        Function<? super ServiceInstance<T>, ? extends @Nullable Locality> locality) {
      this.locality = Objects.requireNonNull(locality, "locality");
      return this;
    }

    /**
     * Sets where an instance's metadata is, for the key mapping ({@code zone}, {@code
     * topology.kubernetes.io/zone}, {@code region}, {@code topology.kubernetes.io/region}); by
     * default, with {@link ZooKeeperEndpointSource#builder()}, the payload itself.
     *
     * @param metadata returns the instance's metadata, or null if it has none
     * @return this builder
     */
    public Builder<T> metadata(
        Function<? super ServiceInstance<T>, ? extends @Nullable Map<String, String>> metadata) {
      this.metadata = Objects.requireNonNull(metadata, "metadata");
      return this;
    }

    /**
     * Sets the region of instances whose metadata names none (unset by default: such instances are
     * left out). Typical where every instance runs in one region and registers its zone only.
     *
     * @param defaultRegion a region name, such as {@code us-east-1}
     * @return this builder
     * @throws IllegalArgumentException if blank
     */
    public Builder<T> defaultRegion(String defaultRegion) {
      this.defaultRegion = name("defaultRegion", defaultRegion);
      return this;
    }

    /**
     * Sets the zone of instances whose metadata names none (unset by default: such instances are
     * left out with a warning, since an endpoint of unknown zone routed as if it were in this zone
     * takes that zone's traffic).
     *
     * @param defaultZone a zone name, such as {@code us-east-1a}
     * @return this builder
     * @throws IllegalArgumentException if blank
     */
    public Builder<T> defaultZone(String defaultZone) {
      this.defaultZone = name("defaultZone", defaultZone);
      return this;
    }

    /**
     * Sets how long the source waits for a connection, or for ZooKeeper's first answer, before it
     * reports a failure (3 s by default: well inside the client's default 5 s start timeout, so the
     * client hears of a dead registry before it gives up, yet longer than a connect to a live
     * ensemble takes). It is also the own client's connection timeout.
     *
     * @param connectTimeout from 100 ms to 10 minutes
     * @return this builder
     * @throws IllegalArgumentException if out of range
     */
    public Builder<T> connectTimeout(Duration connectTimeout) {
      this.connectTimeout = between("connectTimeout", connectTimeout, Duration.ofMinutes(10));
      return this;
    }

    /**
     * Sets how often the source, while it is connected to ZooKeeper and heard of no change, reports
     * the list its watch holds again (30 s by default). The watch reports every change at once;
     * this confirmation keeps the client's list age ({@code FailoverSnapshot.Discovery
     * lastGoodList}, the {@code failover.discovery.list.age} gauge) meaning "since the source last
     * vouched for the list", as with sources that poll, instead of growing for as long as the
     * registry does not change.
     *
     * @param confirmInterval from 100 ms to 24 hours
     * @return this builder
     * @throws IllegalArgumentException if out of range
     */
    public Builder<T> confirmInterval(Duration confirmInterval) {
      this.confirmInterval = between("confirmInterval", confirmInterval, Duration.ofHours(24));
      return this;
    }

    /**
     * {@code value}, checked to lie from 100 ms to {@code max}; else an error naming the setting.
     */
    private static Duration between(String setting, Duration value, Duration max) {
      Objects.requireNonNull(value, setting);
      if (value.compareTo(Duration.ofMillis(100)) < 0 || value.compareTo(max) > 0) {
        throw new IllegalArgumentException(
            "zookeeper "
                + setting
                + " must be between 100 ms and "
                + max.toMillis()
                + " ms but was "
                + value.toMillis()
                + " ms");
      }
      return value;
    }

    /**
     * Builds the source, not yet started.
     *
     * @return the source
     * @throws IllegalStateException if the service name, the connection (connect string or Curator
     *     client), or for a custom payload type the locality mapping is missing
     */
    public ZooKeeperEndpointSource build() {
      String service = serviceName;
      if (service == null) {
        throw new IllegalStateException("zookeeper serviceName is required, set serviceName()");
      }
      if (connectString == null && curatorFramework == null) {
        throw new IllegalStateException(
            "zookeeper connectString or curatorFramework is required, set one of them");
      }
      Function<? super ServiceInstance<T>, ? extends @Nullable Locality> mapping = locality;
      if (mapping == null) {
        Function<? super ServiceInstance<T>, ? extends @Nullable Map<String, String>> meta =
            metadata;
        if (meta == null) {
          throw new IllegalStateException(
              "zookeeper locality or metadata is required for a custom serializer ("
                  + serializer.getClass().getName()
                  + "), set one of them");
        }
        mapping = InstanceMapper.fromMetadata(meta, defaultRegion, defaultZone);
      }
      return new ZooKeeperEndpointSource(
          new Watcher<>(
              connectString,
              curatorFramework,
              basePath,
              service,
              serializer,
              new InstanceMapper<>(service, mapping),
              connectTimeout,
              confirmInterval));
    }

    private static String name(String setting, String value) {
      Objects.requireNonNull(value, setting);
      if (value.isBlank()) {
        throw new IllegalArgumentException(
            "zookeeper " + setting + " must not be blank but was '" + value + "'");
      }
      return value.trim();
    }
  }
}
