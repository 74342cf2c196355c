package dev.failover;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The settings given to a {@link FailoverClient.Builder} are each acceptable but do not make a
 * client: a required one is missing, or two do not fit together. Thrown by {@link
 * FailoverClient.Builder#build()} and by {@link FailoverClient#reconfigure} (whose client then
 * keeps its configuration). It is an {@link IllegalStateException}, as these errors were before it
 * existed, so code that catches that keeps working, and the message is unchanged.
 *
 * <p>{@link #setting()} names the setting to change, as the builder and docs/configuration.md name
 * it, and {@link #value()} gives its value; {@link #conflictsWith()} names the other setting when
 * two do not fit together. A framework that maps its own configuration keys onto the builder (as
 * the Spring Boot starter does) maps the error back to its key through these names.
 *
 * <table>
 *   <caption>The errors</caption>
 *   <tr><th>{@code setting()}</th><th>{@code value()}</th><th>{@code conflictsWith()}</th>
 *       <th>when</th></tr>
 *   <tr><td>{@code service}</td><td>null</td><td>null</td><td>no service name was given</td></tr>
 *   <tr><td>{@code home}</td><td>null</td><td>null</td><td>no home locality was given</td></tr>
 *   <tr><td>{@code endpoint}</td><td>null</td><td>null</td>
 *       <td>neither an endpoint nor an endpoint source was given</td></tr>
 *   <tr><td>{@code endpoint}</td><td>the address</td><td>{@code endpoint}</td>
 *       <td>an endpoint is listed twice</td></tr>
 *   <tr><td>{@code regionOrder}</td><td>the region</td><td>{@code endpoint}</td>
 *       <td>a region without endpoints is ordered (without an endpoint source)</td></tr>
 *   <tr><td>{@code minAttemptTime}</td><td>its {@code Duration}</td><td>{@code deadline}</td>
 *       <td>it is not shorter than the deadline</td></tr>
 *   <tr><td>{@code attemptTimeout}</td><td>its {@code Duration}</td><td>{@code deadline}</td>
 *       <td>it exceeds the deadline</td></tr>
 * </table>
 *
 * <p>A value given to one setter that is out of its range is reported at once, by that setter, with
 * {@link InvalidSettingException}. An endpoint source that fails to start or to list endpoints in
 * time is not a configuration error: {@code build()} reports it with a plain {@link
 * IllegalStateException} whose cause is the source's failure.
 */
public final class InvalidConfigurationException extends IllegalStateException {
  private static final long serialVersionUID = 1L;

  /** The setting to change, such as {@code attemptTimeout}. */
  private final String setting;

  /**
   * Its value (null when it is missing); transient, since it need not be serializable: a
   * deserialized exception reports null.
   */
  private final transient @Nullable Object value;

  /** The setting it does not fit with, or null. */
  private final @Nullable String conflictsWith;

  InvalidConfigurationException(
      String setting, @Nullable Object value, @Nullable String conflictsWith, String message) {
    super(message);
    this.setting = Objects.requireNonNull(setting, "setting");
    this.value = value;
    this.conflictsWith = conflictsWith;
  }

  /**
   * Returns the name of the setting to change, as the builder and docs/configuration.md name it.
   *
   * @return for example {@code "attemptTimeout"}, {@code "regionOrder"} or {@code "service"}
   */
  public String setting() {
    return setting;
  }

  /**
   * Returns the setting's value.
   *
   * @return the value, such as {@code Duration.ofSeconds(3)} or the region {@code "eu-west-1"};
   *     null when the setting is missing (and after deserialization)
   */
  public @Nullable Object value() {
    return value;
  }

  /**
   * Returns the name of the setting that {@link #setting()} does not fit with.
   *
   * @return for example {@code "deadline"}; null when the setting is missing
   */
  public @Nullable String conflictsWith() {
    return conflictsWith;
  }
}
