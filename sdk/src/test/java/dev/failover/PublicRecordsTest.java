package dev.failover;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.reflect.Modifier;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Records are for plain values only: a record's canonical constructor and shape change when a
 * component is added, which breaks code compiled against it. Settings that will grow (the policies)
 * are final classes with builders; only values whose shape is the data itself may be public
 * records.
 */
class PublicRecordsTest {

  /** Public records allowed at the top level; nested ones are allowed in these two types too. */
  private static final Set<Class<?>> VALUES =
      Set.of(Attempt.class, Endpoint.class, Locality.class, FailoverSnapshot.class);

  private static final Set<Class<?>> VALUE_HOLDERS =
      Set.of(FailoverSnapshot.class, FailoverEvent.class);

  private static final List<Class<?>> POLICIES =
      List.of(
          HedgePolicy.class,
          EjectionPolicy.class,
          ZonePolicy.class,
          HealthCheck.class,
          StaleCache.class,
          RequestOptions.class,
          DiscoveryPolicy.class);

  @Test
  void noPublicTypeIsARecordExceptPlainValues() throws Exception {
    List<Class<?>> publicTypes = publicTypes();
    assertThat(publicTypes).as("public types found").contains(FailoverClient.class, Attempt.class);
    List<String> records = new ArrayList<>();
    for (Class<?> type : publicTypes) {
      if (type.isRecord() && !allowed(type)) {
        records.add(type.getName());
      }
    }
    assertThat(records).as("public records that are not plain values").isEmpty();
  }

  @Test
  void everyPolicyIsAFinalClassWithABuilderAndNoPublicConstructor() throws Exception {
    for (Class<?> policy : POLICIES) {
      assertThat(policy.isRecord()).as("%s is a record", policy.getSimpleName()).isFalse();
      assertThat(Modifier.isFinal(policy.getModifiers())).as(policy.getSimpleName()).isTrue();
      assertThat(policy.getConstructors()).as("public constructors of %s", policy).isEmpty();
      Class<?> builder = policy.getMethod("builder").getReturnType();
      assertThat(builder.getSimpleName()).isEqualTo("Builder");
      assertThat(builder.getEnclosingClass()).isEqualTo(policy);
      assertThat(Modifier.isFinal(builder.getModifiers())).isTrue();
      assertThat(builder.getConstructors()).as("public constructors of %s", builder).isEmpty();
      assertThat(policy.getMethod("toBuilder").getReturnType()).isEqualTo(builder);
      assertThat(builder.getMethod("build").getReturnType()).isEqualTo(policy);
    }
  }

  private static boolean allowed(Class<?> type) {
    Class<?> enclosing = type.getEnclosingClass();
    return enclosing == null ? VALUES.contains(type) : VALUE_HOLDERS.contains(outermost(type));
  }

  private static Class<?> outermost(Class<?> type) {
    Class<?> c = type;
    while (c.getEnclosingClass() != null) {
      c = c.getEnclosingClass();
    }
    return c;
  }

  /** Every type of the package, top-level or nested, that code outside it can name. */
  private static List<Class<?>> publicTypes()
      throws IOException, URISyntaxException, ClassNotFoundException {
    Path classes =
        Path.of(FailoverClient.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    Path dir = classes.resolve("dev/failover");
    List<Class<?>> types = new ArrayList<>();
    try (Stream<Path> files = Files.list(dir)) {
      for (Path file : files.filter(f -> f.toString().endsWith(".class")).sorted().toList()) {
        String simple = file.getFileName().toString().replace(".class", "");
        if (simple.equals("package-info") || simple.matches(".*\\$\\d.*")) {
          continue; // anonymous and local classes
        }
        Class<?> type =
            Class.forName(
                "dev.failover." + simple, false, PublicRecordsTest.class.getClassLoader());
        if (reachable(type)) {
          types.add(type);
        }
      }
    }
    return types;
  }

  private static boolean reachable(Class<?> type) {
    for (Class<?> c = type; c != null; c = c.getEnclosingClass()) {
      if (!Modifier.isPublic(c.getModifiers())) {
        return false;
      }
    }
    return true;
  }
}
