package dev.failover.testkit;

import com.github.tomakehurst.wiremock.common.Notifier;

/**
 * WireMock's notifier for fake endpoints: drops information and the "Request was not matched"
 * reports (404s are ordinary in fault tests), and prints other errors to standard error.
 */
final class QuietNotifier implements Notifier {

  private final String endpoint;

  QuietNotifier(String endpoint) {
    this.endpoint = endpoint;
  }

  @Override
  public void info(String message) {
    // Dropped: one line per request or stub is noise in test output.
  }

  @Override
  public void error(String message) {
    if (!message.contains("Request was not matched") && !message.contains("no stub mappings")) {
      System.err.println("[failover-testkit " + endpoint + "] " + message);
    }
  }

  @Override
  public void error(String message, Throwable t) {
    System.err.println("[failover-testkit " + endpoint + "] " + message + ": " + t);
  }
}
