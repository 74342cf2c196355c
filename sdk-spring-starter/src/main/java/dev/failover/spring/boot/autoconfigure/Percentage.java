package dev.failover.spring.boot.autoconfigure;

import java.math.BigDecimal;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A share written either as a percentage ({@code 5%}) or as a fraction ({@code 0.05}); both are the
 * same value. Used by properties such as {@code failover.defaults.hedge.max-extra-load} and {@code
 * failover.defaults.budget.ratio}:
 *
 * <pre>{@code
 * failover:
 *   defaults:
 *     hedge: { mode: adaptive, max-extra-load: 5% }
 *     budget: { ratio: 0.1 }
 * }</pre>
 *
 * <p>Spring converts property values with the static {@code valueOf} methods: {@link
 * #valueOf(String)} for text (properties files, environment variables, {@code 5%} in YAML), and the
 * numeric ones for numbers in YAML ({@code 0.05}, {@code 1}). Parsing accepts any decimal number;
 * the range is checked where the value is used, naming the property.
 */
public final class Percentage {
  private static final BigDecimal HUNDRED = BigDecimal.valueOf(100);

  /** The share as a fraction: 0.05 for 5%. */
  private final BigDecimal fraction;

  private Percentage(BigDecimal fraction) {
    this.fraction = fraction;
  }

  /**
   * Parses a percentage ({@code 5%}, {@code 12.5 %}) or a fraction ({@code 0.05}).
   *
   * @param text the value as written
   * @return the share
   * @throws IllegalArgumentException if the text is not a decimal number, optionally followed by
   *     {@code %}
   */
  public static Percentage valueOf(String text) {
    Objects.requireNonNull(text, "text");
    String s = text.strip();
    boolean percent = s.endsWith("%");
    if (percent) {
      s = s.substring(0, s.length() - 1).strip();
    }
    BigDecimal number;
    try {
      number = new BigDecimal(s);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "'" + text + "' is not a percentage such as 5% or a fraction such as 0.05", e);
    }
    return new Percentage(percent ? number.movePointLeft(2) : number);
  }

  /**
   * Returns a fraction, as a YAML number such as {@code 0.05} binds.
   *
   * @param fraction for example 0.05 for 5%
   * @return the share
   * @throws IllegalArgumentException if the number is not finite
   */
  public static Percentage valueOf(Double fraction) {
    return ofFraction(fraction);
  }

  /**
   * Returns a whole fraction, as a YAML number such as {@code 1} binds (1 is 100%, not 1%).
   *
   * @param fraction for example 1 for 100%
   * @return the share
   */
  public static Percentage valueOf(Integer fraction) {
    return new Percentage(BigDecimal.valueOf(fraction.longValue()));
  }

  /**
   * Returns a whole fraction, as a large YAML number binds.
   *
   * @param fraction for example 1 for 100%
   * @return the share
   */
  public static Percentage valueOf(Long fraction) {
    return new Percentage(BigDecimal.valueOf(fraction.longValue()));
  }

  /**
   * Returns a fraction.
   *
   * @param fraction for example 0.05 for 5%
   * @return the share
   * @throws IllegalArgumentException if the number is not finite
   */
  public static Percentage ofFraction(double fraction) {
    if (!Double.isFinite(fraction)) {
      throw new IllegalArgumentException(
          "a percentage must be a finite number but was " + fraction);
    }
    return new Percentage(BigDecimal.valueOf(fraction));
  }

  /**
   * Returns a percentage.
   *
   * @param percent for example 5 for 5%
   * @return the share
   * @throws IllegalArgumentException if the number is not finite
   */
  public static Percentage ofPercent(double percent) {
    if (!Double.isFinite(percent)) {
      throw new IllegalArgumentException("a percentage must be a finite number but was " + percent);
    }
    return new Percentage(BigDecimal.valueOf(percent).movePointLeft(2));
  }

  /**
   * Returns the share as a fraction.
   *
   * @return 0.05 for 5%
   */
  public double fraction() {
    return fraction.doubleValue();
  }

  /**
   * Returns the share in percent.
   *
   * @return 5 for 5%
   */
  public double percent() {
    return fraction.multiply(HUNDRED).doubleValue();
  }

  @Override
  public boolean equals(@Nullable Object other) {
    return other instanceof Percentage p && fraction.compareTo(p.fraction) == 0;
  }

  @Override
  public int hashCode() {
    return fraction.stripTrailingZeros().hashCode();
  }

  /**
   * Returns the share in percent, such as {@code 5%} or {@code 12.5%}.
   *
   * @return the share with a percent sign
   */
  @Override
  public String toString() {
    BigDecimal p = fraction.movePointRight(2).stripTrailingZeros();
    return (p.scale() < 0 ? p.setScale(0) : p).toPlainString() + "%";
  }
}
