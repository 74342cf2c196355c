package dev.failover.spring.boot.autoconfigure;

import org.jspecify.annotations.Nullable;
import org.springframework.aot.hint.BindingReflectionHintsRegistrar;
import org.springframework.aot.hint.MemberCategory;
import org.springframework.aot.hint.RuntimeHints;
import org.springframework.aot.hint.RuntimeHintsRegistrar;
import org.springframework.util.ClassUtils;

/**
 * Reflection a native image needs beyond what Spring's and Boot's own AOT processing records:
 *
 * <ul>
 *   <li>the two classes Caffeine loads by name for the SDK's stale-if-error cache (a bounded cache
 *       that expires after write): {@value #CAFFEINE_CACHE} and {@value #CAFFEINE_NODE};
 *   <li>the Actuator descriptors that the failover health contributor puts in its details (Jackson
 *       writes them; Boot records them only for the endpoint's operations, and only when the
 *       endpoint is a bean).
 * </ul>
 *
 * <p>{@code failover.*} binding, the auto-configurations and the failure analyzer are covered by
 * Boot and Spring Framework; OkHttp ships its own native-image metadata.
 */
final class FailoverRuntimeHints implements RuntimeHintsRegistrar {

  /** Caffeine's cache class for strong keys and values, a maximum size and expire-after-write. */
  static final String CAFFEINE_CACHE = "com.github.benmanes.caffeine.cache.SSMSW";

  /** Caffeine's node class for the same settings. */
  static final String CAFFEINE_NODE = "com.github.benmanes.caffeine.cache.PSWMS";

  private static final String ACTUATOR =
      "org.springframework.boot.actuate.endpoint.OperationResponseBody";

  @Override
  public void registerHints(RuntimeHints hints, @Nullable ClassLoader classLoader) {
    for (String type : new String[] {CAFFEINE_CACHE, CAFFEINE_NODE}) {
      hints
          .reflection()
          .registerTypeIfPresent(
              classLoader,
              type,
              MemberCategory.INVOKE_DECLARED_CONSTRUCTORS,
              MemberCategory.ACCESS_DECLARED_FIELDS);
    }
    if (ClassUtils.isPresent(ACTUATOR, classLoader)) {
      new BindingReflectionHintsRegistrar()
          .registerReflectionHints(hints.reflection(), FailoverEndpoint.ClientsDescriptor.class);
    }
  }
}
