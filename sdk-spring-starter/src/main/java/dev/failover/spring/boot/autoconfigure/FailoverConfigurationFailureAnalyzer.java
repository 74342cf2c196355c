package dev.failover.spring.boot.autoconfigure;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/**
 * Explains a {@link FailoverConfigurationException}: the property, its value and origin, what is
 * wrong and how to fix it. Registered in {@code META-INF/spring.factories}.
 */
final class FailoverConfigurationFailureAnalyzer
    extends AbstractFailureAnalyzer<FailoverConfigurationException> {

  @Override
  protected FailureAnalysis analyze(Throwable rootFailure, FailoverConfigurationException cause) {
    StringBuilder description = new StringBuilder();
    description.append("Invalid failover client configuration:\n\n");
    description.append("    Property: ").append(cause.property()).append('\n');
    description
        .append("    Value: ")
        .append(cause.value() == null ? "(none)" : "\"" + cause.value() + "\"")
        .append('\n');
    if (cause.origin() != null) {
      description.append("    Origin: ").append(cause.origin()).append('\n');
    }
    String message = cause.getMessage();
    String reason =
        message != null && message.startsWith(cause.property() + ": ")
            ? message.substring(cause.property().length() + 2)
            : String.valueOf(message);
    description.append("    Reason: ").append(reason).append('\n');
    return new FailureAnalysis(
        description.toString(),
        "Update your application's configuration: " + cause.action(),
        cause);
  }
}
