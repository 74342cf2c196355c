package dev.failover;

import java.util.Locale;
import java.util.Set;

/**
 * Tag and key values shared by {@link FailoverMetrics} and {@link FailoverObservations}: lowercase,
 * as Spring Boot's own meters and Micrometer's conventions have them. No Micrometer type here, so
 * that either class works with only its own part of Micrometer on the class path.
 */
final class TagValues {
  /** The tag naming the client, as Spring Boot names HTTP clients. */
  static final String CLIENT_NAME = "client.name";

  /** The value of a key that does not apply, as in Spring Boot's {@code status="none"}. */
  static final String NONE = "none";

  private TagValues() {}

  /** The enum constant's name, lowercase: {@code CONNECT_FAILED} becomes {@code connect_failed}. */
  static String lower(Enum<?> value) {
    return value.name().toLowerCase(Locale.ROOT);
  }

  /**
   * The outcome of a call: the failure reason ({@code retries_exhausted}, {@code
   * deadline_exceeded}, ...) when it failed, else the class of the status it returned.
   */
  static String callOutcome(FailoverEvent.CallFinished event) {
    FailoverException.Reason failure = event.failure();
    return failure != null ? lower(failure) : series(event.status());
  }

  /**
   * The class of an HTTP status as Spring names HTTP client outcomes, lowercase: {@code success},
   * {@code redirection}, {@code client_error}, {@code server_error}, {@code informational}, or
   * {@code unknown}.
   */
  static String series(int status) {
    return switch (status / 100) {
      case 1 -> "informational";
      case 2 -> "success";
      case 3 -> "redirection";
      case 4 -> "client_error";
      case 5 -> "server_error";
      default -> "unknown";
    };
  }

  /** The value of {@code method} for a method not in {@link #METHODS}, as OpenTelemetry has it. */
  static final String OTHER_METHOD = "_OTHER";

  /**
   * The methods of RFC 9110 and PATCH (RFC 5789), as OpenTelemetry's HTTP conventions know them.
   */
  private static final Set<String> METHODS =
      Set.of("GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH");

  /**
   * The request's method as a tag value: as the request has it if it is a known method, else {@code
   * _OTHER}, so that a client sending made-up methods does not make a meter for each.
   */
  static String method(String method) {
    return METHODS.contains(method) ? method : OTHER_METHOD;
  }

  /**
   * The method in a span's name: a known method, lowercase ({@code get}), else {@code http}, as
   * OpenTelemetry names the span of an unknown method.
   */
  static String spanMethod(String method) {
    return METHODS.contains(method) ? method.toLowerCase(Locale.ROOT) : "http";
  }

  /** The status as a key value, {@code none} when there was no response. */
  static String status(int status) {
    return status > 0 ? Integer.toString(status) : NONE;
  }
}
