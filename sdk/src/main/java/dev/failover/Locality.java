package dev.failover;

import java.util.Objects;

/**
 * Where an endpoint, or the client itself, runs: a cloud region and an availability zone in it.
 *
 * <pre>{@code
 * Locality home = Locality.of("us-east-1", "us-east-1a");
 * }</pre>
 *
 * <p>Names are compared exactly (case included), so each must be written the same way wherever it
 * appears; a name with whitespace at its start or end is rejected, since it would quietly make a
 * zone or region of its own.
 *
 * @param region the region, for example {@code us-east-1}; never blank, no whitespace at its ends
 * @param zone the availability zone, for example {@code us-east-1a}; never blank, no whitespace at
 *     its ends
 */
public record Locality(String region, String zone) {

  /**
   * Checks both names.
   *
   * @param region the region, for example {@code us-east-1}; never blank, no whitespace at its ends
   * @param zone the availability zone, for example {@code us-east-1a}; never blank, no whitespace
   *     at its ends
   * @throws InvalidSettingException if a name is blank, starts or ends with whitespace (no-break
   *     spaces included), or holds a control, format or line-separator character; or if the region
   *     holds a {@code /}
   * @throws NullPointerException if a name is null
   */
  public Locality {
    Objects.requireNonNull(region, "region");
    Objects.requireNonNull(zone, "zone");
    check("locality.region", "region", region, "");
    check("locality.zone", "zone", zone, " (region " + region + ")");
  }

  /**
   * Checks one name. White space is Java's and Unicode's both: a no-break space (U+00A0, U+2007,
   * U+202F) is white space too, though {@code String.isBlank} and {@code strip} leave it.
   */
  private static void check(String setting, String what, String name, String where) {
    String shown = printable(name);
    if (name.codePoints().allMatch(Locality::space)) {
      throw new InvalidSettingException(setting, shown, what + " must not be blank" + where);
    }
    if (space(name.codePointAt(0)) || space(name.codePointBefore(name.length()))) {
      // Names are compared exactly: "us-east-1a " next to "us-east-1a" would split one zone into
      // two, each judged, evacuated and returned on its own.
      throw new InvalidSettingException(
          setting,
          shown,
          what + " must not start or end with whitespace but was '" + shown + "'" + where);
    }
    for (int i = 0; i < name.length(); ) {
      int c = name.codePointAt(i);
      if (breaksLines(c)) {
        // Names reach log lines and events: a line break or a direction override would forge them.
        throw new InvalidSettingException(
            setting,
            shown,
            what
                + " must not hold control, format or line-separator characters but held "
                + String.format("U+%04X", c)
                + " at index "
                + i
                + where);
      }
      if (what.equals("region") && c == '/') {
        // "region/zone" names a zone where zone names repeat across regions: with a '/' in the
        // region, "eu/west/1" could be region "eu" with zone "west/1" or region "eu/west" with
        // zone "1".
        throw new InvalidSettingException(
            setting,
            shown,
            "region must not hold '/' (it separates region and zone in region/zone names) but was '"
                + shown
                + "'");
      }
      i += Character.charCount(c);
    }
  }

  /**
   * Whether {@code c} may forge a log line: a control character (a tab aside), a format character
   * (a direction override) or a line or paragraph separator.
   */
  private static boolean breaksLines(int c) {
    int type = Character.getType(c);
    return (Character.isISOControl(c) && c != '\t')
        || type == Character.FORMAT
        || type == Character.LINE_SEPARATOR
        || type == Character.PARAGRAPH_SEPARATOR;
  }

  /** {@code name} as messages and errors show it: what could forge a log line as '?'. */
  private static String printable(String name) {
    StringBuilder sb = new StringBuilder(name.length());
    name.codePoints().forEach(c -> sb.appendCodePoint(breaksLines(c) ? '?' : c));
    return sb.toString();
  }

  private static boolean space(int c) {
    return Character.isWhitespace(c) || Character.isSpaceChar(c);
  }

  /**
   * Returns the locality of {@code zone} in {@code region}.
   *
   * @param region the region, for example {@code us-east-1}
   * @param zone the availability zone, for example {@code us-east-1a}
   * @return the locality
   * @throws InvalidSettingException if a name is invalid, as for the constructor
   */
  public static Locality of(String region, String zone) {
    return new Locality(region, zone);
  }

  @Override
  public String toString() {
    return region + "/" + zone;
  }
}
