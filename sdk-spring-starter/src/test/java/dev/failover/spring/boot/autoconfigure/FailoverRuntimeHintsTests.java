package dev.failover.spring.boot.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.lang.reflect.Field;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.springframework.aot.hint.MemberCategory;
import org.springframework.aot.hint.RuntimeHints;
import org.springframework.aot.hint.RuntimeHintsRegistrar;
import org.springframework.aot.hint.TypeReference;
import org.springframework.aot.hint.predicate.RuntimeHintsPredicates;
import org.springframework.beans.factory.aot.AotServices;
import org.springframework.util.ReflectionUtils;

class FailoverRuntimeHintsTests {

  private final RuntimeHints hints = new RuntimeHints();

  FailoverRuntimeHintsTests() {
    new FailoverRuntimeHints().registerHints(hints, getClass().getClassLoader());
  }

  @Test
  void isRegisteredInAotFactories() {
    assertThat(AotServices.factories().load(RuntimeHintsRegistrar.class))
        .hasAtLeastOneElementOfType(FailoverRuntimeHints.class);
  }

  /**
   * The hinted names are the classes Caffeine loads by name for a cache built like the SDK's
   * stale-if-error cache ({@code StaleStore}: maximum size, expire after write, a ticker), so that
   * an upgrade of Caffeine that renames them fails here.
   */
  @Test
  void caffeineClassesAreTheOnesOfTheStaleCache() throws IllegalAccessException {
    Cache<String, String> stale =
        Caffeine.newBuilder()
            .maximumSize(100)
            .expireAfterWrite(1, TimeUnit.SECONDS)
            .ticker(System::nanoTime)
            .executor(Runnable::run)
            .build();
    Object cache = read(stale, "cache");
    Object nodeFactory = read(cache, "nodeFactory");

    assertThat(cache.getClass().getName()).isEqualTo(FailoverRuntimeHints.CAFFEINE_CACHE);
    assertThat(nodeFactory.getClass().getName()).isEqualTo(FailoverRuntimeHints.CAFFEINE_NODE);
    for (String type :
        new String[] {FailoverRuntimeHints.CAFFEINE_CACHE, FailoverRuntimeHints.CAFFEINE_NODE}) {
      assertThat(
              RuntimeHintsPredicates.reflection()
                  .onType(TypeReference.of(type))
                  .withMemberCategories(
                      MemberCategory.INVOKE_DECLARED_CONSTRUCTORS,
                      MemberCategory.ACCESS_DECLARED_FIELDS))
          .accepts(hints);
    }
  }

  @Test
  void actuatorDescriptorsAreBound() {
    for (Class<?> type :
        new Class<?>[] {
          FailoverEndpoint.ClientsDescriptor.class,
          FailoverEndpoint.ClientDescriptor.class,
          FailoverEndpoint.DiscoveryDescriptor.class,
          FailoverEndpoint.ZoneDescriptor.class,
          FailoverEndpoint.EndpointDescriptor.class
        }) {
      assertThat(RuntimeHintsPredicates.reflection().onType(type)).accepts(hints);
    }
  }

  private static Object read(Object target, String fieldName) throws IllegalAccessException {
    Field field = ReflectionUtils.findField(target.getClass(), fieldName);
    assertThat(field).as(fieldName).isNotNull();
    field.setAccessible(true);
    return field.get(target);
  }
}
