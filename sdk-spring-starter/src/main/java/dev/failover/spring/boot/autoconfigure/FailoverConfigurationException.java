package dev.failover.spring.boot.autoconfigure;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A {@code failover.*} property is missing or wrong, so a failover client cannot be built. Start-up
 * stops, and the failure analyzer prints the property, its value, its origin and how to fix it.
 */
public final class FailoverConfigurationException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** The property at fault, such as {@code failover.clients.directory.deadline}. */
  private final String property;

  /** The value as configured, or null when the property is missing. */
  private final @Nullable String value;

  /** Where the value comes from, such as a line of application.yml, or null when unknown. */
  private final @Nullable String origin;

  /** What to do about it. */
  private final String action;

  /**
   * Creates the exception.
   *
   * @param property the property at fault
   * @param value its value, or null when it is missing
   * @param origin where the value comes from, or null
   * @param problem what is wrong
   * @param action how to fix it
   * @param cause the SDK's exception, or null
   */
  public FailoverConfigurationException(
      String property,
      @Nullable Object value,
      @Nullable String origin,
      String problem,
      String action,
      @Nullable Throwable cause) {
    super(property + ": " + problem, cause);
    this.property = Objects.requireNonNull(property, "property");
    this.value = value == null ? null : String.valueOf(value);
    this.origin = origin;
    this.action = Objects.requireNonNull(action, "action");
  }

  /**
   * Returns the property at fault.
   *
   * @return for example {@code failover.clients.directory.endpoints[1].url}
   */
  public String property() {
    return property;
  }

  /**
   * Returns the value as configured.
   *
   * @return the value, or null when the property is missing
   */
  public @Nullable String value() {
    return value;
  }

  /**
   * Returns where the value comes from.
   *
   * @return for example {@code class path resource [application.yml] - 7:17}, or null
   */
  public @Nullable String origin() {
    return origin;
  }

  /**
   * Returns how to fix the configuration.
   *
   * @return the advice
   */
  public String action() {
    return action;
  }
}
