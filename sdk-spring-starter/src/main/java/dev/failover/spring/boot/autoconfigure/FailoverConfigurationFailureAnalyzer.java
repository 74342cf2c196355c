package dev.failover.spring.boot.autoconfigure;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.core.Ordered;

/**
 * Explains a {@link FailoverConfigurationException}: the property, its value and origin, what is
 * wrong and how to fix it. Registered in {@code META-INF/spring.factories}.
 *
 * <p>The exception is also Boot's {@code InvalidConfigurationPropertyValueException}, which Boot's
 * own analyzer would explain without the advice (and with the value of a URL property as written,
 * credentials and all). Boot tries the analyzers in the order {@code
 * AnnotationAwareOrderComparator} sorts them, and takes the first analysis: this one comes first
 * whatever the class path's order.
 */
final class FailoverConfigurationFailureAnalyzer
    extends AbstractFailureAnalyzer<FailoverConfigurationException> implements Ordered {

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
    description.append("    Reason: ").append(cause.getReason()).append('\n');
    return new FailureAnalysis(
        description.toString(),
        "Update your application's configuration: " + cause.action(),
        cause);
  }

  /** Before Boot's analyzers, which have no order (the lowest precedence). */
  @Override
  public int getOrder() {
    return Ordered.HIGHEST_PRECEDENCE;
  }
}
