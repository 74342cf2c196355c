package dev.failover.spring.boot.autoconfigure;

import dev.failover.FailoverClient;
import java.lang.reflect.Field;
import java.lang.reflect.Method;

/**
 * Reads a built client's settings for assertions. The SDK keeps them private (immutable client, no
 * getters), so tests read the record it holds by reflection, by accessor name.
 */
final class SdkSettings {
  private final Object settings;

  private SdkSettings(Object settings) {
    this.settings = settings;
  }

  static SdkSettings of(FailoverClient client) {
    try {
      Field field = FailoverClient.class.getDeclaredField("settings");
      field.setAccessible(true);
      return new SdkSettings(field.get(client));
    } catch (ReflectiveOperationException e) {
      throw new AssertionError("cannot read the client's settings", e);
    }
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
