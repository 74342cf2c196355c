package dev.failover.spring.boot.autoconfigure;

import java.util.Objects;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;

/**
 * A {@code failover.*} property is missing or wrong, so a failover client cannot be built. Start-up
 * stops, and the failure analyzer prints the property, its value, its origin and how to fix it.
 *
 * <p>It is Boot's {@link InvalidConfigurationPropertyValueException}: {@link #getName()} is {@link
 * #property()}, {@link #getValue()} is {@link #value()} and {@link #getReason()} says what is
 * wrong, so code that catches Boot's exception catches it too. The message reads as Boot's does,
 * {@code Property failover.defaults.deadline with value '-2s' is invalid: must be a positive
 * duration but was PT-2S}, without the value when the property is missing.
 */
public final class FailoverConfigurationException
    extends InvalidConfigurationPropertyValueException {
  private static final long serialVersionUID = 1L;

  /** Where the value comes from, such as a line of application.yml, or null when unknown. */
  private final @Nullable String origin;

  /** What to do about it. */
  private final String action;

  /**
   * The SDK's exception, or null; kept here since Boot's public constructor takes no cause and sets
   * none that {@link #initCause} could replace.
   */
  private final @Nullable Throwable cause;

  /**
   * Creates the exception.
   *
   * @param property the property at fault, such as {@code failover.clients.directory.deadline}
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
    super(
        Objects.requireNonNull(property, "property"),
        value == null ? null : String.valueOf(value),
        Objects.requireNonNull(problem, "problem"));
    this.origin = origin;
    this.action = Objects.requireNonNull(action, "action");
    this.cause = cause;
  }

  /**
   * Returns the property at fault; the same as {@link #getName()}.
   *
   * @return for example {@code failover.clients.directory.endpoints[1].url}
   */
  public String property() {
    return getName();
  }

  /**
   * Returns the value as configured (as written, such as {@code 2s}); the same as {@link
   * #getValue()}.
   *
   * @return the value, or null when the property is missing
   */
  public @Nullable String value() {
    return (String) getValue();
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

  /**
   * Returns the property, its value (unless it is missing) and what is wrong, in Boot's words.
   *
   * @return for example {@code Property failover.home.zone is invalid: is required but is not set}
   */
  @Override
  public String getMessage() {
    String value = value();
    return "Property "
        + getName()
        + (value == null ? "" : " with value '" + value + "'")
        + " is invalid: "
        + getReason();
  }

  /**
   * Returns the SDK's exception that the value failed, if any.
   *
   * @return the cause, or null
   */
  @Override
  public synchronized @Nullable Throwable getCause() {
    return cause;
  }
}
