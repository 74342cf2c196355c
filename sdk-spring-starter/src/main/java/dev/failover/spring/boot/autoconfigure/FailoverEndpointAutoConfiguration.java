package dev.failover.spring.boot.autoconfigure;

import dev.failover.FailoverClient;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.actuate.autoconfigure.endpoint.condition.ConditionalOnAvailableEndpoint;
import org.springframework.boot.actuate.endpoint.Access;
import org.springframework.boot.actuate.endpoint.EndpointAccessResolver;
import org.springframework.boot.actuate.endpoint.EndpointId;
import org.springframework.boot.actuate.endpoint.Operation;
import org.springframework.boot.actuate.endpoint.OperationFilter;
import org.springframework.boot.actuate.endpoint.OperationType;
import org.springframework.boot.actuate.endpoint.jmx.JmxOperation;
import org.springframework.boot.actuate.endpoint.web.WebOperation;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.core.env.Environment;

/**
 * Auto-configuration of the {@code failover} Actuator endpoint, when it is available.
 *
 * <p>Its write operation (a zonal shift) is mapped only when {@code
 * management.endpoint.failover.access=unrestricted} is set explicitly, and Boot's {@code
 * management.endpoints.access.max-permitted} allows it. Boot's own resolution would also allow it
 * with {@code management.endpoint.failover.enabled=true}, {@code
 * management.endpoints.access.default=unrestricted} or {@code
 * management.endpoints.enabled-by-default=true}: settings made for other endpoints, or for reading,
 * that should not let anyone move traffic. The read operations follow Boot's resolution.
 */
@AutoConfiguration(after = FailoverAutoConfiguration.class)
@ConditionalOnClass({FailoverClient.class, ConditionalOnAvailableEndpoint.class})
@ConditionalOnProperty(prefix = "failover", name = "enabled", matchIfMissing = true)
public final class FailoverEndpointAutoConfiguration {
  private static final Logger LOG =
      LoggerFactory.getLogger(FailoverEndpointAutoConfiguration.class);

  /** The property that alone allows the endpoint's write operation. */
  static final String ACCESS_PROPERTY = "management.endpoint.failover.access";

  private static final EndpointId ID = EndpointId.of("failover");

  /** Created by Spring. */
  public FailoverEndpointAutoConfiguration() {}

  @Bean
  @ConditionalOnMissingBean
  @ConditionalOnAvailableEndpoint(FailoverEndpoint.class)
  FailoverEndpoint failoverEndpoint(ListableBeanFactory beans) {
    return new FailoverEndpoint(beans);
  }

  @Bean
  OperationFilter<WebOperation> failoverEndpointWebWriteFilter(
      Environment environment, ObjectProvider<EndpointAccessResolver> resolver) {
    return new WriteAccess<>(environment, resolver);
  }

  @Bean
  OperationFilter<JmxOperation> failoverEndpointJmxWriteFilter(
      Environment environment, ObjectProvider<EndpointAccessResolver> resolver) {
    return new WriteAccess<>(environment, resolver);
  }

  /**
   * Leaves out the failover endpoint's write operation unless {@link #ACCESS_PROPERTY} is {@code
   * unrestricted}; every other operation is left to Boot's filters.
   */
  static final class WriteAccess<O extends Operation> implements OperationFilter<O> {
    /** Logged once per filter: the web and JMX discoverers each ask. */
    private final AtomicBoolean told = new AtomicBoolean();

    private final Environment environment;
    private final ObjectProvider<EndpointAccessResolver> resolver;

    WriteAccess(Environment environment, ObjectProvider<EndpointAccessResolver> resolver) {
      this.environment = environment;
      this.resolver = resolver;
    }

    @Override
    public boolean match(O operation, EndpointId endpointId, Access defaultAccess) {
      if (!ID.equals(endpointId) || operation.getType() == OperationType.READ) {
        return true;
      }
      if (environment.getProperty(ACCESS_PROPERTY, Access.class) == Access.UNRESTRICTED) {
        return true;
      }
      EndpointAccessResolver boot = resolver.getIfAvailable();
      @Nullable Access resolved = boot == null ? null : boot.accessFor(endpointId, defaultAccess);
      if (resolved == Access.UNRESTRICTED && told.compareAndSet(false, true)) {
        LOG.info(
            "The failover endpoint's write operation (a zonal shift) is not mapped: it needs {}"
                + "=unrestricted set explicitly; management.endpoint.failover.enabled,"
                + " management.endpoints.access.default and"
                + " management.endpoints.enabled-by-default do not allow it",
            ACCESS_PROPERTY);
      }
      return false;
    }
  }
}
