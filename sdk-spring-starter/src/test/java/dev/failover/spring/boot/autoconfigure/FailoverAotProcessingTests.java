package dev.failover.spring.boot.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.aot.generate.ClassNameGenerator;
import org.springframework.aot.generate.DefaultGenerationContext;
import org.springframework.aot.generate.GeneratedFiles.Kind;
import org.springframework.aot.generate.InMemoryGeneratedFiles;
import org.springframework.aot.hint.TypeReference;
import org.springframework.aot.hint.predicate.RuntimeHintsPredicates;
import org.springframework.boot.test.util.TestPropertyValues;
import org.springframework.context.annotation.AnnotationConfigApplicationContext;
import org.springframework.context.aot.ApplicationContextAotGenerator;
import org.springframework.core.io.InputStreamSource;
import org.springframework.javapoet.ClassName;

/**
 * Spring AOT processing of the auto-configuration with two clients, as {@code
 * spring-boot:process-aot} does it at build time: it succeeds, and the generated bean definitions
 * build each client through its factory method with the client's name and qualifier. That the
 * generated code starts and calls is tested by the example app's {@code
 * DirectoryApplicationAotTests}.
 */
class FailoverAotProcessingTests {

  @Test
  void generatesCodeForEveryClientBean() {
    DefaultGenerationContext generation =
        new DefaultGenerationContext(
            new ClassNameGenerator(ClassName.get(FailoverAotProcessingTests.class)),
            new InMemoryGeneratedFiles());
    try (AnnotationConfigApplicationContext context = new AnnotationConfigApplicationContext()) {
      TestPropertyValues.of(FailoverAutoConfigurationTests.DIRECTORY)
          .and(FailoverAutoConfigurationTests.GROUPS)
          .applyTo(context);
      context.register(FailoverAutoConfiguration.class);

      new ApplicationContextAotGenerator().processAheadOfTime(context, generation);
    }
    generation.writeGeneratedContent();

    String sources =
        String.join("\n", sources((InMemoryGeneratedFiles) generation.getGeneratedFiles()));
    for (String name : List.of("directory", "groups")) {
      assertThat(sources)
          .contains("\"" + name + "FailoverClient\"")
          .contains("\"" + name + "RestClient\"")
          .contains("addIndexedArgumentValue(0, \"" + name + "\")")
          .contains(
              "new AutowireCandidateQualifier(\"org.springframework.beans.factory.annotation"
                  + ".Qualifier\", \""
                  + name
                  + "\")");
    }
    assertThat(sources).contains(".failoverClient(").contains(".restClient(");
    assertThat(
            RuntimeHintsPredicates.reflection()
                .onType(TypeReference.of(FailoverRuntimeHints.CAFFEINE_CACHE)))
        .accepts(generation.getRuntimeHints());
  }

  private static List<String> sources(InMemoryGeneratedFiles files) {
    List<String> sources = new ArrayList<>();
    for (InputStreamSource source : files.getGeneratedFiles(Kind.SOURCE).values()) {
      try (InputStream in = source.getInputStream()) {
        sources.add(new String(in.readAllBytes(), StandardCharsets.UTF_8));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return sources;
  }
}
