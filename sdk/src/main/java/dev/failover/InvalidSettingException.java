package dev.failover;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A setting of the client or of one of its policies was given a value it does not accept. Thrown at
 * once by the {@link FailoverClient.Builder} setters, by the builder setters, factories and {@code
 * with...} methods of {@link HealthCheck}, {@link EjectionPolicy}, {@link HedgePolicy}, {@link
 * StaleCache}, {@link ZonePolicy}, {@link DiscoveryPolicy} and {@link RequestOptions}, and by the
 * factories and constructors of {@link Endpoint} and {@link Locality}. It is an {@link
 * IllegalArgumentException}, so code that catches that keeps working; the message still says what
 * is wrong, with the value and the range allowed.
 *
 * <p>{@link #setting()} names the setting as the builder and docs/configuration.md name it: the
 * builder method for a plain setting ({@code "deadline"}, {@code "maxAttempts"}), the builder
 * method and the policy setting, separated by a dot, for a setting inside a policy or a setter that
 * takes several values ({@code "hedging.maxExtraLoad"}, {@code "healthCheck.interval"}, {@code
 * "backoff.cap"}, {@code "retryBudget.window"}, {@code "endpoint.weight"}). A framework that maps
 * its own configuration keys onto the builder (as the Spring Boot starter does) can map the error
 * back to its key through this name, without reading the message.
 *
 * <pre>{@code
 * try {
 *   builder.hedging(HedgePolicy.adaptive(0.6));
 * } catch (InvalidSettingException e) {
 *   e.setting(); // "hedging.maxExtraLoad"
 *   e.value();   // 0.6
 * }
 * }</pre>
 *
 * <p>{@link #value()} is the value as given ({@code Duration}, {@code Integer}, {@code Double},
 * {@code Long}, {@code String}, {@code Set<Integer>}, {@code List<String>}), with one exception: a
 * value that may hold a credential is never echoed. An endpoint URL or a service name with user
 * info ({@code https://user:password@host}) is given with the user info replaced by {@code ***} (in
 * {@link #value()} as in the message), and the URL of an endpoint rejected for its query or
 * fragment without them. {@code null} arguments are not reported with this exception but with a
 * {@link NullPointerException} naming the parameter; a null element of a list setting is ({@code
 * endpoints[1] is null}, with a null {@link #value()}).
 *
 * <p>Settings that are each acceptable but do not fit together (an attempt timeout longer than the
 * deadline, an endpoint listed twice, a region order naming a region without endpoints) are found
 * by {@link FailoverClient.Builder#build()}, which throws {@link InvalidConfigurationException} (an
 * {@link IllegalStateException}, as before). Two checks inside one policy are reported here, on the
 * setting that must change: {@code "ejection.minimumCalls"} (above the window size), {@code
 * "ejection.maxEjectionTime"} (below the base) and {@code "backoff.cap"} (below the base).
 */
public final class InvalidSettingException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  /** The setting's name, such as {@code hedging.maxExtraLoad}. */
  private final String setting;

  /**
   * The value as given (redacted where it may hold a credential); transient, since it need not be
   * serializable: a deserialized exception reports null.
   */
  private final transient @Nullable Object value;

  InvalidSettingException(String setting, @Nullable Object value, String message) {
    super(message);
    this.setting = Objects.requireNonNull(setting, "setting");
    this.value = value;
  }

  /**
   * Returns the name of the setting at fault, as the builder and docs/configuration.md name it.
   *
   * @return for example {@code "maxAttempts"}, {@code "hedging.maxExtraLoad"} or {@code
   *     "healthCheck.interval"}
   */
  public String setting() {
    return setting;
  }

  /**
   * Returns the value that was rejected, as given; a URL or name that may carry a credential has
   * its user info replaced by {@code ***}.
   *
   * @return the value, such as {@code Duration.ofSeconds(-2)} or {@code 11}; null only after
   *     deserialization
   */
  public @Nullable Object value() {
    return value;
  }
}
