package dev.failover.drill;

/** A bad command line or topology file; the message says what and where. */
final class UsageException extends Exception {
  private static final long serialVersionUID = 1L;

  UsageException(String message) {
    super(message);
  }
}
