package dev.failover.spring.boot.autoconfigure;

import dev.failover.FailoverClient;
import java.lang.reflect.Field;
import java.lang.reflect.Method;

/**
 * Reads a built client's settings for assertions. The SDK keeps them private (no getters), so tests
 * read the record held by the client's current core (its state's current generation) by reflection,
 * by accessor name.
 */
final class SdkSettings {
  private final Object settings;

  private SdkSettings(Object settings) {
    this.settings = settings;
  }

  static SdkSettings of(FailoverClient client) {
    try {
      Field state = FailoverClient.class.getDeclaredField("state");
      state.setAccessible(true);
      Object s = state.get(client);
      Method current = s.getClass().getDeclaredMethod("current");
      current.setAccessible(true);
      Object generation = current.invoke(s);
      Field settings = generation.getClass().getDeclaredField("settings");
      settings.setAccessible(true);
      return new SdkSettings(settings.get(generation));
    } catch (ReflectiveOperationException e) {
      throw new AssertionError("cannot read the client's settings", e);
    }
  }

  /** The settings record itself: the same object as long as the client's core is the same. */
  Object raw() {
    return settings;
  }

  @SuppressWarnings("unchecked")
  <T> T get(String accessor) {
    try {
      Method method = settings.getClass().getMethod(accessor);
      method.setAccessible(true);
      return (T) method.invoke(settings);
    } catch (ReflectiveOperationException e) {
      throw new AssertionError("no setting " + accessor, e);
    }
  }
}
