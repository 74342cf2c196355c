package dev.failover.spring.boot.autoconfigure;

import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Masks credentials in text the starter shows: failure analyses, health reasons and log lines.
 *
 * <ul>
 *   <li>{@link #userInfo(String)}: the user info of every URL or authority in a text, with or
 *       without a scheme ({@code https://svc:p@ss@dir-b/x} and {@code svc:p@ss@dir-b:8443} become
 *       {@code https://***@dir-b/x} and {@code ***@dir-b:8443}), up to the last {@code @} of the
 *       authority, since a password may hold an {@code @};
 *   <li>{@link #queryValues(String)}: the value of every query or fragment parameter in a text
 *       ({@code health?access_token=abc&x=1} becomes {@code health?access_token=***&x=***}),
 *       whatever its name: tokens, signatures and keys travel under many names ({@code sig}, {@code
 *       X-Amz-Credential}, {@code code}, {@code jsessionid}...), and a parameter's value is seldom
 *       what a diagnosis needs, while its name stays;
 *   <li>{@link #text(String)}: both, for free text such as an exception's message;
 *   <li>{@link #value(String, String)}: a property's value, entirely ({@value #MASK}) when its key
 *       looks sensitive ({@link #sensitiveKey(String)}, after Spring Boot's {@code Sanitizer}), or
 *       the value is an {@code Authorization} header's value ({@code Bearer ...}, {@code Basic
 *       ...}); a path's whole query ({@code health?s3cr3t} becomes {@code health?***}, as the SDK
 *       shows a health check path); else as {@link #text(String)} shows it.
 * </ul>
 */
final class Redaction {
  /** What replaces a whole value. */
  static final String MASK = "******";

  /**
   * A query or fragment parameter's name with its {@code =} (group 1) and its value: after {@code
   * ?}, {@code &}, {@code #} or {@code ;} (matrix parameters, {@code ;jsessionid=}), up to the next
   * parameter, a space, a comma (lists of URLs) or a quote or bracket that closes the text quoting
   * it.
   */
  private static final Pattern QUERY_VALUE =
      Pattern.compile("([?&#;][^\\s=&#?;,'\"]*=)[^\\s&#;,'\"()\\[\\]<>]+");

  /** Key segments, lower case without separators, whose values are masked where they appear. */
  private static final List<String> SENSITIVE_PARTS =
      List.of("password", "passwd", "secret", "token", "authorization", "cookie");

  /** Key segments masked when they end with one of these: api-key, private-key, db-pwd. */
  private static final List<String> SENSITIVE_ENDINGS = List.of("key", "pwd");

  /** Values of an Authorization header, whatever their key. */
  private static final Pattern AUTHORIZATION_VALUE =
      Pattern.compile("^\\s*(?:bearer|basic|digest|negotiate)\\s", Pattern.CASE_INSENSITIVE);

  /**
   * A word after an HTTP authentication scheme (in any case), at least 8 characters of a token68
   * (RFC 9110 11.2), group 2; group 1 is what is kept. It is masked only if it looks like a
   * credential ({@link #looksLikeACredential}): prose ("basic authentication", "using bearer
   * tokens") stays as it is. No nested quantifier: the match is linear in the text.
   */
  private static final Pattern SCHEME_CREDENTIAL =
      Pattern.compile("\\b((?i:bearer|basic|digest|negotiate|token)\\s{1,4})([\\w.~+/=-]{8,})");

  /** Name parts whose {@code name=value} or {@code name: value} holds a secret. */
  private static final List<String> CREDENTIAL_NAMES =
      List.of(
          "token",
          "secret",
          "password",
          "passwd",
          "pwd",
          "apikey",
          "accesskey",
          "privatekey",
          "credential",
          "signature",
          "sessionid",
          "cookie",
          "authorization");

  private Redaction() {}

  /**
   * The text with the user info of every URL or authority in it replaced by {@code ***}: in each
   * word (text between white space and commas, as in lists of URLs), from the start of its
   * authority (after its first {@code ://}, else the word's start) up to its last {@code @},
   * written as such or percent-encoded ({@code %40}). A password may hold {@code /}, {@code ?} or
   * {@code #}, so this may mask more than the user info (up to an {@code @} further in a path or
   * query): safe. One pass: linear in the text.
   *
   * @param text any text, such as a URL or an exception's message
   * @return the text without user info
   */
  static String userInfo(String text) {
    int length = text.length();
    StringBuilder out = null;
    int copied = 0;
    int i = 0;
    while (i < length) {
      while (i < length && endsWord(text.charAt(i))) {
        i++;
      }
      int start = i;
      int scheme = -1;
      int lastAt = -1;
      while (i < length && !endsWord(text.charAt(i))) {
        char c = text.charAt(i);
        if (c == '@' || (c == '%' && text.startsWith("40", i + 1))) {
          lastAt = i;
        } else if (c == ':' && scheme < 0 && text.startsWith("//", i + 1)) {
          scheme = i;
        }
        i++;
      }
      // From the authority's start (after "://", else the word's), up to the word's last '@'.
      int from = scheme >= 0 ? scheme + 3 : start;
      if (lastAt >= from) {
        if (out == null) {
          out = new StringBuilder(length);
        }
        out.append(text, copied, from).append("***");
        copied = lastAt;
      }
    }
    return out == null ? text : out.append(text, copied, length).toString();
  }

  /** Whether {@code c} ends a word that may hold a URL: white space or a comma (lists of URLs). */
  private static boolean endsWord(char c) {
    return Character.isWhitespace(c) || c == ',';
  }

  /**
   * The text with the value of every query or fragment parameter in it replaced by {@code ***}.
   *
   * @param text any text, such as a path or an exception's message
   * @return the text with parameter names but no parameter values
   */
  static String queryValues(String text) {
    return QUERY_VALUE.matcher(text).replaceAll("$1***");
  }

  /**
   * The text without user info ({@link #userInfo}), query parameter values ({@link #queryValues})
   * or credentials written out in it (after {@code Bearer}, the value of {@code X-Consul-Token:} or
   * {@code password=}): for free text that may quote URLs, such as an exception's message.
   *
   * @param text any text
   * @return the text as it may be shown
   */
  static String text(String text) {
    // Named values first: a value that holds an '@' ("password=Summer@2024") is masked whole
    // before the user info's scan would take the word for an authority; then user info (before the
    // query's values, which would swallow an authority's "@host" after a '?' in a password).
    String shown =
        SCHEME_CREDENTIAL
            .matcher(text)
            .replaceAll(
                m ->
                    java.util.regex.Matcher.quoteReplacement(
                        looksLikeACredential(m.group(2)) ? m.group(1) + "***" : m.group()));
    return queryValues(userInfo(namedValues(shown)));
  }

  /**
   * Whether a word after an authentication scheme, or right after a colon, is a credential rather
   * than prose ("basic authentication", "token validation"): 16 characters or more, or it holds a
   * digit, one of {@code = + /}, or a capital letter past its first character.
   */
  private static boolean looksLikeACredential(String word) {
    if (word.length() >= 16) {
      return true;
    }
    for (int i = 0; i < word.length(); i++) {
      char c = word.charAt(i);
      if (Character.isDigit(c) || "=+/".indexOf(c) >= 0 || (i > 0 && Character.isUpperCase(c))) {
        return true;
      }
    }
    return false;
  }

  /**
   * The text with the value of every {@code name=value}, {@code name: value} or {@code "name":
   * "value"} whose name holds one of {@link #CREDENTIAL_NAMES} (ignoring case, {@code -} and {@code
   * _}) replaced by {@code ***}: a header a registry client quotes ({@code X-Consul-Token: ...}), a
   * setting ({@code password=...}), a JSON field. An {@code Authorization} value is masked to the
   * end of its line, a quoted value to its closing quote, any other to the next space, comma,
   * {@code &} or closing bracket. A URL's parameters are left to {@link #queryValues}. After a
   * colon with nothing between, a value only if it looks like a credential ({@link
   * #looksLikeACredential}), and after a host-like name (with a {@code .} or {@code -}) never a
   * port ({@link #isPort}: {@code token-service:8080/x}). One pass, each name read back and each
   * skipped value judged on at most 64 characters: linear.
   */
  static String namedValues(String text) {
    int length = text.length();
    StringBuilder out = null;
    int copied = 0;
    for (int i = 0; i < length; i++) {
      char c = text.charAt(i);
      if (c != '=' && c != ':') {
        continue;
      }
      boolean tight =
          c == ':'
              && i + 1 < length
              && !isSpace(text.charAt(i + 1))
              && !isQuote(text.charAt(i + 1));
      int end = i;
      while (end > 0 && i - end < 4 && isSpace(text.charAt(end - 1))) {
        end--;
      }
      if (end > 0 && isQuote(text.charAt(end - 1))) {
        end--;
      }
      int start = end;
      while (start > 0 && end - start < 64 && isNameChar(text.charAt(start - 1))) {
        start--;
      }
      if (c == '=' && start > 0 && "?&#;".indexOf(text.charAt(start - 1)) >= 0) {
        continue; // a URL's parameter: queryValues masks its value to the parameter's end
      }
      String raw = text.substring(start, end);
      String name = uniform(raw);
      if (name.isEmpty() || !holdsCredentialName(name)) {
        continue;
      }
      if (c == ':' && (raw.indexOf('.') >= 0 || raw.indexOf('-') >= 0) && isPort(text, i + 1)) {
        continue; // a host's port (token-service:8080), not a value
      }
      int from = i + 1;
      while (from < length && from - i <= 4 && isSpace(text.charAt(from))) {
        from++;
      }
      char quote = 0;
      if (from < length && isQuote(text.charAt(from))) {
        quote = text.charAt(from);
        from++;
      }
      if (text.startsWith("***", from)) {
        continue;
      }
      // Quoted, to its closing quote; an Authorization value to the end of its line.
      boolean wholeLine = name.endsWith("authorization");
      if (tight && !looksLikeACredential(tightWord(text, from).replace("/", ""))) {
        // name:value with nothing between: a value only if it looks like one (not a word, such as
        // an exception's "TokenFetchException:timeout"). Judged on a bounded prefix, so that
        // skipping costs no scan of the rest: linear.
        continue;
      }
      int to = from;
      while (to < length && !endsValue(text.charAt(to), quote, wholeLine)) {
        to++;
      }
      if (to == from) {
        continue;
      }
      if (out == null) {
        out = new StringBuilder(length);
      }
      out.append(text, copied, from).append("***");
      copied = to;
      i = to - 1;
    }
    return out == null ? text : out.append(text, copied, length).toString();
  }

  /**
   * The word at {@code from} after a colon with nothing between, 64 characters at most; judged
   * without its {@code /}s, so that a path ({@code host:http/x}) is no credential.
   */
  private static String tightWord(String text, int from) {
    int to = from;
    int max = Math.min(text.length(), from + 64);
    while (to < max && !endsValue(text.charAt(to), (char) 0, false)) {
      to++;
    }
    return text.substring(from, to);
  }

  private static boolean holdsCredentialName(String uniformName) {
    if (uniformName.equals("session")) {
      return true; // Spring Session's cookie; not sessionTimeout
    }
    for (String part : CREDENTIAL_NAMES) {
      if (uniformName.contains(part)) {
        return true;
      }
    }
    return false;
  }

  private static boolean isNameChar(char c) {
    return Character.isLetterOrDigit(c) || c == '_' || c == '-' || c == '.';
  }

  private static boolean isSpace(char c) {
    return c == ' ' || c == '\t';
  }

  private static boolean isQuote(char c) {
    return c == '"' || c == '\'';
  }

  /** Whether {@code c} ends a value opened by {@code quote} (0: none). */
  private static boolean endsValue(char c, char quote, boolean wholeLine) {
    if (c == '\r' || c == '\n') {
      return true;
    }
    if (quote != 0) {
      return c == quote;
    }
    if (isQuote(c)) {
      return true;
    }
    return !wholeLine
        && (Character.isWhitespace(c)
            || c == '&'
            || c == ','
            || c == ')'
            || c == ']'
            || c == '>'
            || c == '}');
  }

  /**
   * Whether {@code text} at {@code from} holds a port: 1 to 5 digits, then its end, white space or
   * one of {@code / , ) ] } > ? #} or a quote ({@code host:8080/x}, {@code (host:8080)}). Longer
   * runs of digits are values ({@code password:123456}), and so are digits followed by anything
   * else ({@code password:1234!x}).
   */
  private static boolean isPort(String text, int from) {
    int to = from;
    while (to < text.length() && to - from <= 5 && Character.isDigit(text.charAt(to))) {
      to++;
    }
    if (to == from || to - from > 5) {
      return false;
    }
    if (to == text.length()) {
      return true;
    }
    char next = text.charAt(to);
    return "/,)]}>?#\"'".indexOf(next) >= 0 || Character.isWhitespace(next);
  }

  /**
   * A property's value as it may be shown.
   *
   * @param key the property's key, or its last segment, such as {@code
   *     failover.clients.directory.default-header.Authorization}
   * @param value its value
   * @return {@value #MASK} for a sensitive key or an Authorization header's value; for a path
   *     ({@code health.path}), the value with everything after its first {@code ?} replaced by
   *     {@code ***}; else the value without user info or query parameter values
   */
  static String value(String key, String value) {
    if (sensitiveKey(key) || AUTHORIZATION_VALUE.matcher(value).find()) {
      return MASK;
    }
    String shown = text(value);
    if (pathKey(key)) {
      // A query may be a bare token (health?s3cr3t), with no name=value for queryValues to mask:
      // hide it all, as the SDK's HealthCheck shows a path in its messages.
      int query = shown.indexOf('?');
      return query < 0 ? shown : shown.substring(0, query) + "?***";
    }
    return shown;
  }

  /** Whether the key's last segment is {@code path}, such as {@code health.path}. */
  private static boolean pathKey(String key) {
    return uniform(key.substring(key.lastIndexOf('.') + 1)).equals("path");
  }

  /**
   * A text that may quote a property's value, such as the reason it is wrong, as it may be shown:
   * each occurrence of the value as written replaced by {@code shown}, its form in {@link
   * #value(String, String)}, then as {@link #text(String)}.
   *
   * @param text the text
   * @param value the value as written, or null
   * @param shown how the value is shown
   * @return the text as it may be shown
   */
  static String quoting(String text, @Nullable String value, String shown) {
    String t = text;
    if (value != null && !value.isBlank() && !value.equals(shown)) {
      // Whole occurrences only: a short value ("10") inside a longer word or number ("100") is
      // not the value, and a blank one would mask every space.
      // (A boundary is asked for only where the value's own edge is a word character: a value
      // that begins or ends with '/', '?' or a space is matched wherever it occurs.)
      String before = wordChar(value.charAt(0)) ? "(?<!\\w)" : "";
      String after = wordChar(value.charAt(value.length() - 1)) ? "(?!\\w)" : "";
      t =
          Pattern.compile(before + Pattern.quote(value) + after)
              .matcher(t)
              .replaceAll(java.util.regex.Matcher.quoteReplacement(shown));
    }
    return text(t);
  }

  private static boolean wordChar(char c) {
    return Character.isLetterOrDigit(c) || c == '_';
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
