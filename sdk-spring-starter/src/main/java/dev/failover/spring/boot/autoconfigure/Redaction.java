package dev.failover.spring.boot.autoconfigure;

import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Masks credentials in text the starter shows: failure analyses, health reasons and log lines.
 *
 * <ul>
 *   <li>{@link #userInfo(String)}: the user info of every URL or authority in a text, with or
 *       without a scheme ({@code https://svc:p@ss@dir-b/x} and {@code svc:p@ss@dir-b:8443} become
 *       {@code https://***@dir-b/x} and {@code ***@dir-b:8443}), up to the last {@code @} of the
 *       authority, since a password may hold an {@code @};
 *   <li>{@link #value(String, String)}: a property's value, entirely ({@value #MASK}) when its key
 *       looks sensitive ({@link #sensitiveKey(String)}, after Spring Boot's {@code Sanitizer}), or
 *       the value is an {@code Authorization} header's value ({@code Bearer ...}, {@code Basic
 *       ...}); else its user info.
 * </ul>
 */
final class Redaction {
  /** What replaces a whole value. */
  static final String MASK = "******";

  /**
   * The user info of an authority: from the start of the authority (after {@code ://}, or at the
   * start of a word) up to the last {@code @} before a space or a comma (lists of URLs). A password
   * may hold {@code /}, {@code ?} or {@code #}, so this may mask more than the user info (up to an
   * {@code @} further in a path or query): safe.
   */
  private static final Pattern USER_INFO =
      Pattern.compile("(?:(?<=://)|(?<![^\\s,])(?![^\\s,]*://))[^\\s,]*@");

  /** Key segments, lower case without separators, whose values are masked where they appear. */
  private static final List<String> SENSITIVE_PARTS =
      List.of("password", "passwd", "secret", "token", "authorization", "cookie");

  /** Key segments masked when they end with one of these: api-key, private-key, db-pwd. */
  private static final List<String> SENSITIVE_ENDINGS = List.of("key", "pwd");

  /** Values of an Authorization header, whatever their key. */
  private static final Pattern AUTHORIZATION_VALUE =
      Pattern.compile("^\\s*(?:bearer|basic|digest|negotiate)\\s", Pattern.CASE_INSENSITIVE);

  private Redaction() {}

  /**
   * The text with the user info of every URL or authority in it replaced by {@code ***}.
   *
   * @param text any text, such as a URL or an exception's message
   * @return the text without user info
   */
  static String userInfo(String text) {
    return USER_INFO.matcher(text).replaceAll("***@");
  }

  /**
   * A property's value as it may be shown.
   *
   * @param key the property's key, or its last segment, such as {@code
   *     failover.clients.directory.default-header.Authorization}
   * @param value its value
   * @return {@value #MASK} for a sensitive key or an Authorization header's value, else the value
   *     without user info
   */
  static String value(String key, String value) {
    if (sensitiveKey(key) || AUTHORIZATION_VALUE.matcher(value).find()) {
      return MASK;
    }
    return userInfo(value);
  }

  /**
   * Whether a key names a credential: it contains credential anywhere, as Boot's Sanitizer judges,
   * or its last segment contains password, secret, token, authorization, cookie... or ends with
   * key; case and separators are ignored. A list index ({@code [0]}) is not a segment: {@code
   * tokens[0]} is judged by {@code tokens}; a map key in brackets is: {@code
   * default-header[Cookie]}.
   *
   * @param key a property's key, such as {@code failover.clients.directory.client-secret}
   * @return whether its value is masked whole
   */
  static boolean sensitiveKey(String key) {
    if (uniform(key).contains("credential")) {
      return true;
    }
    String last = key.replaceAll("(\\[[0-9]+\\])+$", "");
    int bracket = last.lastIndexOf('[');
    if (last.endsWith("]") && bracket >= 0) {
      last = last.substring(bracket + 1, last.length() - 1);
    } else {
      last = last.substring(last.lastIndexOf('.') + 1);
    }
    String segment = uniform(last);
    return SENSITIVE_PARTS.stream().anyMatch(segment::contains)
        || SENSITIVE_ENDINGS.stream().anyMatch(segment::endsWith);
  }

  /** Lower case, letters and digits only. */
  private static String uniform(String text) {
    return text.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]", "");
  }
}
