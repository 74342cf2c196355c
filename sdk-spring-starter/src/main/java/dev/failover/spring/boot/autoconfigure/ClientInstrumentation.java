package dev.failover.spring.boot.autoconfigure;

import dev.failover.FailoverClient;
import dev.failover.FailoverListener;

/**
 * Observes every client the starter builds: a listener added to its builder before the customizers
 * run, and a hook once it is built (for gauges on its live state).
 */
interface ClientInstrumentation {

  /**
   * Returns the listener to add to the builder of the client called {@code clientName}.
   *
   * @param clientName the client's name
   * @return the listener
   */
  FailoverListener listener(String clientName);

  /**
   * Called once the client is built.
   *
   * @param clientName the client's name
   * @param client the client
   */
  void bind(String clientName, FailoverClient client);

  /**
   * Called before the starter closes a client it built (the context closes, or starting it failed
   * after {@link #bind}): nothing of the client may stay behind, such as meters in a registry that
   * outlives the context.
   *
   * @param clientName the client's name
   * @param client the client
   */
  void unbind(String clientName, FailoverClient client);
}
