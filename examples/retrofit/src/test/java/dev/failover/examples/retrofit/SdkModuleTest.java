package dev.failover.examples.retrofit;

import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.ok;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.InstanceOfAssertFactories.STRING;

import com.sun.source.util.JavacTask;
import dev.failover.FailoverClient;
import dev.failover.testkit.FakeZones;
import java.io.File;
import java.io.IOException;
import java.lang.module.FindException;
import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleDescriptor.Requires;
import java.lang.module.ModuleFinder;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import javax.lang.model.element.Element;
import javax.lang.model.element.ElementKind;
import javax.lang.model.element.ExecutableElement;
import javax.lang.model.element.Modifier;
import javax.lang.model.element.ModuleElement;
import javax.lang.model.element.PackageElement;
import javax.lang.model.element.TypeElement;
import javax.lang.model.element.TypeParameterElement;
import javax.lang.model.element.VariableElement;
import javax.lang.model.type.ArrayType;
import javax.lang.model.type.DeclaredType;
import javax.lang.model.type.IntersectionType;
import javax.lang.model.type.TypeKind;
import javax.lang.model.type.TypeMirror;
import javax.lang.model.type.TypeVariable;
import javax.lang.model.type.WildcardType;
import javax.lang.model.util.Elements;
import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.StandardLocation;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The SDK as a Java module, seen the way a modular application sees it. Everything is read from the
 * jar (or classes directory) that {@link FailoverClient} was loaded from, and its dependencies from
 * this test's class path, found by the module names the SDK's descriptor requires: no list of the
 * SDK's types or dependencies is kept here.
 */
class SdkModuleTest {

  private static final String SDK_MODULE = "dev.failover";
  private static final String SDK_PACKAGE = "dev.failover";
  private static final int MAX_PUBLIC_TOP_LEVEL_TYPES = 25;

  /** The consumer, compiled against the SDK on the module path. */
  private static final String APP_MODULE_INFO = "module app { requires dev.failover; }\n";

  private static final String APP_MAIN =
      """
      package app;

      import dev.failover.FailoverClient;
      import java.io.IOException;
      import java.time.Duration;
      import okhttp3.Request;
      import okhttp3.Response;

      /** Builds a client and makes one call through it; okhttp3 is read through dev.failover. */
      public final class Main {
        private Main() {}

        public static void main(String[] args) throws IOException {
          Module sdk = FailoverClient.class.getModule();
          System.out.println("module " + sdk.getName() + " automatic " + sdk.getDescriptor().isAutomatic());
          try (FailoverClient client =
              FailoverClient.builder()
                  .service("directory")
                  .home("us-east-1", "us-east-1a")
                  .endpoint(args[0], "us-east-1", "us-east-1a")
                  .deadline(Duration.ofSeconds(20))
                  .build()) {
            Request request = new Request.Builder().url("http://directory/users/42").build();
            try (Response response = client.newCall(request).execute()) {
              System.out.println("status " + response.code() + " body " + response.body().string());
            }
          }
        }
      }
      """;

  @RegisterExtension
  static FakeZones zones =
      FakeZones.builder().region("us-east-1", "us-east-1a").endpointsPerZone(1).seed(1).build();

  @TempDir static Path work;

  private static ModuleDescriptor sdk;

  /** The SDK and what it needs at compile and run time: its requires, followed transitively. */
  private static List<Path> modulePath;

  /** The SDK's optional (static) modules found on the class path, to read its whole API. */
  private static Map<String, Path> optionalModules;

  /** Public top-level types of the SDK, by package; and its other top-level types. */
  private static Map<String, Set<String>> publicTypes;

  private static Set<String> hiddenTypes;

  /** Each type named in the API (exported packages' public and protected members), by module. */
  private static Map<String, Set<String>> apiTypesByModule;

  @BeforeAll
  static void readTheSdkModule() throws IOException {
    Path sdkLocation = codeSource(FailoverClient.class);
    sdk =
        ModuleFinder.of(sdkLocation)
            .find(SDK_MODULE)
            .orElseThrow(() -> new AssertionError("no module " + SDK_MODULE + " at " + sdkLocation))
            .descriptor();
    Map<String, Path> classPath = modulesOnTheClassPath();
    classPath.put(SDK_MODULE, sdkLocation);
    modulePath =
        closure(
            classPath,
            r ->
                !r.modifiers().contains(Requires.Modifier.STATIC)
                    || r.modifiers().contains(Requires.Modifier.TRANSITIVE));
    optionalModules = new LinkedHashMap<>();
    for (Requires r : sdk.requires()) {
      if (r.modifiers().contains(Requires.Modifier.STATIC) && classPath.containsKey(r.name())) {
        optionalModules.put(r.name(), classPath.get(r.name()));
      }
    }
    inspectWithJavac();
  }

  @Test
  void theJarIsANamedModuleThatExportsDevFailoverAlone() {
    assertThat(sdk.isAutomatic()).as("a module-info, not an Automatic-Module-Name").isFalse();
    assertThat(sdk.isOpen()).isFalse();
    assertThat(sdk.exports())
        .extracting(e -> e.isQualified() ? e.source() + " to " + e.targets() : e.source())
        .containsExactly(SDK_PACKAGE);
    assertThat(sdk.opens()).isEmpty();
  }

  @Test
  void atMost25PublicTopLevelTypesAllInDevFailover() {
    assertThat(publicTypes.keySet())
        .as("packages with public top-level types: %s", publicTypes)
        .containsExactly(SDK_PACKAGE);
    assertThat(publicTypes.get(SDK_PACKAGE))
        .as("public top-level types of %s", SDK_PACKAGE)
        .contains(FailoverClient.class.getName())
        .hasSizeLessThanOrEqualTo(MAX_PUBLIC_TOP_LEVEL_TYPES);
  }

  @Test
  void theApiNamesNoTypeOfAModuleItDoesNotPassOn() {
    // What the SDK requires neither transitively nor statically (Resilience4j, Caffeine, SLF4J)
    // is used inside only: a reader of dev.failover cannot be expected to read it.
    Set<String> inside =
        sdk.requires().stream()
            .filter(r -> r.modifiers().isEmpty())
            .map(Requires::name)
            .collect(Collectors.toCollection(TreeSet::new));
    assertThat(inside).isNotEmpty();
    assertThat(apiTypesByModule).containsKeys("java.base", "okhttp3", SDK_MODULE);
    Map<String, Set<String>> leaks = new LinkedHashMap<>(apiTypesByModule);
    leaks.keySet().retainAll(inside);
    assertThat(leaks).as("API types from modules used inside only").isEmpty();
  }

  @Test
  void aModularApplicationBuildsAClientAndCallsThroughIt() throws Exception {
    String printed = runTheApplication("plain", List.of());
    assertThat(printed)
        .contains("module " + SDK_MODULE + " automatic false")
        .contains("status 200 body jane");
    // Without the launch flags, OkHttp's packages are closed to the SDK: one INFO line (SLF4J's
    // simple logger is on the module path) says what that costs and which flags give them back.
    // Requests are still made with kept builders: what that reads, OkHttp compiles public.
    assertThat(printed)
        .containsOnlyOnce("Failover: without some of OkHttp's internals")
        .contains("--add-opens okhttp3/okhttp3=dev.failover")
        .contains("--add-exports okhttp3/okhttp3.internal.connection=dev.failover")
        .doesNotContain("Request.Builder");
  }

  @Test
  void withTheLaunchFlagsTheSdkReachesOkHttpsInternalsAndSaysNothing() throws Exception {
    String printed =
        runTheApplication(
            "flags",
            List.of(
                "--add-opens",
                "okhttp3/okhttp3=dev.failover",
                "--add-exports",
                "okhttp3/okhttp3.internal.connection=dev.failover"));
    assertThat(printed)
        .contains("status 200 body jane")
        .doesNotContain("without some of OkHttp's internals");
  }

  /**
   * Compiles the application (the first time) and runs it on the module path, with SLF4J's simple
   * logger, launched with {@code flags}; returns what it printed, after checking that it exited
   * with 0.
   */
  private static String runTheApplication(String name, List<String> flags) throws Exception {
    zones.stubAll(get(urlEqualTo("/users/42")).willReturn(ok("jane")));
    Path classes = work.resolve("app-classes");
    if (!Files.isDirectory(classes)) {
      List<String> errors = compile("app", Map.of("app/Main.java", APP_MAIN), classes);
      assertThat(errors).as("javac -Xlint:all -Werror on the module path").isEmpty();
    }
    Path simpleLogger = modulesOnTheClassPath().get("org.slf4j.simple");
    assertThat(simpleLogger).as("slf4j-simple on the test class path").isNotNull();

    List<String> command = new ArrayList<>();
    command.add(ProcessHandle.current().info().command().orElseThrow());
    command.addAll(flags);
    command.add("--module-path");
    List<Path> runPath = new ArrayList<>(modulePath);
    runPath.add(simpleLogger);
    command.add(pathString(classes, runPath));
    command.add("--module");
    command.add("app/app.Main");
    command.add(zones.zone("us-east-1a").endpoint(0).url());
    Path output = work.resolve("app-output-" + name + ".txt");
    Process app =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(output.toFile())
            .start();
    // A generous bound for a JVM start and one local call on a busy machine; it normally takes
    // well under a second.
    boolean exited = app.waitFor(120, TimeUnit.SECONDS);
    if (!exited) {
      app.destroyForcibly();
    }
    String printed = Files.readString(output, UTF_8);
    assertThat(exited).as("the application exited; it printed:%n%s", printed).isTrue();
    assertThat(app.exitValue()).as("exit status; it printed:%n%s", printed).isZero();
    return printed;
  }

  @Test
  void aModularApplicationCannotReachAPackagePrivateType() throws IOException {
    assertThat(hiddenTypes).isNotEmpty();
    String hidden = hiddenTypes.iterator().next();
    String peek =
        "package app;\n\nfinal class Peek {\n  Class<?> type = " + hidden + ".class;\n}\n";
    List<String> errors = compile("peek", Map.of("app/Peek.java", peek), work.resolve("peek"));
    assertThat(errors)
        .singleElement(STRING)
        .contains(
            hidden.substring(hidden.lastIndexOf('.') + 1) + " is not public in " + SDK_PACKAGE);
  }

  /** Compiles the module {@code app} with the given sources; returns javac's errors. */
  private static List<String> compile(String name, Map<String, String> sources, Path out)
      throws IOException {
    Path src = work.resolve(name + "-src");
    List<Path> files = new ArrayList<>();
    files.add(write(src.resolve("module-info.java"), APP_MODULE_INFO));
    for (Map.Entry<String, String> source : sources.entrySet()) {
      files.add(write(src.resolve(source.getKey()), source.getValue()));
    }
    Files.createDirectories(out);
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
    try (StandardJavaFileManager fileManager =
        javac.getStandardFileManager(diagnostics, Locale.ROOT, UTF_8)) {
      fileManager.setLocationFromPaths(StandardLocation.MODULE_PATH, modulePath);
      fileManager.setLocationFromPaths(StandardLocation.CLASS_OUTPUT, List.of(out));
      javac
          .getTask(
              null,
              fileManager,
              diagnostics,
              List.of("--release", "17", "-Xlint:all", "-Werror"),
              null,
              fileManager.getJavaFileObjectsFromPaths(files))
          .call();
    }
    return diagnostics.getDiagnostics().stream()
        .filter(
            d ->
                d.getKind() == Diagnostic.Kind.ERROR
                    || d.getKind() == Diagnostic.Kind.WARNING
                    || d.getKind() == Diagnostic.Kind.MANDATORY_WARNING)
        .map(d -> d.getMessage(Locale.ROOT))
        .collect(Collectors.toList());
  }

  /**
   * Reads the SDK's packages with javac, as class files on the module path (with its optional
   * Micrometer modules added, so that every type of the API resolves).
   */
  private static void inspectWithJavac() throws IOException {
    Path src = work.resolve("probe-src");
    Path file = write(src.resolve("module-info.java"), "module probe { requires dev.failover; }\n");
    List<Path> path = new ArrayList<>(modulePath);
    path.addAll(optionalModules.values());
    List<String> options = new ArrayList<>(List.of("--release", "17", "-proc:none"));
    if (!optionalModules.isEmpty()) {
      options.add("--add-modules");
      options.add(String.join(",", optionalModules.keySet()));
    }
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
    try (StandardJavaFileManager fileManager =
        javac.getStandardFileManager(diagnostics, Locale.ROOT, UTF_8)) {
      fileManager.setLocationFromPaths(StandardLocation.MODULE_PATH, path);
      JavacTask task =
          (JavacTask)
              javac.getTask(
                  null,
                  fileManager,
                  diagnostics,
                  options,
                  null,
                  fileManager.getJavaFileObjectsFromPaths(List.of(file)));
      task.analyze();
      assertThat(diagnostics.getDiagnostics()).as("javac reading the SDK").isEmpty();
      Elements elements = task.getElements();
      ModuleElement module = elements.getModuleElement(SDK_MODULE);
      assertThat(module).as(SDK_MODULE + " as javac sees it").isNotNull();
      publicTypes = new LinkedHashMap<>();
      hiddenTypes = new TreeSet<>();
      apiTypesByModule = new LinkedHashMap<>();
      for (String packageName : new TreeSet<>(sdk.packages())) {
        PackageElement pkg = elements.getPackageElement(module, packageName);
        assertThat(pkg).as(packageName).isNotNull();
        for (Element type : pkg.getEnclosedElements()) {
          String name = ((TypeElement) type).getQualifiedName().toString();
          if (type.getModifiers().contains(Modifier.PUBLIC)) {
            publicTypes.computeIfAbsent(packageName, p -> new TreeSet<>()).add(name);
            if (sdk.exports().stream().anyMatch(e -> e.source().equals(packageName))) {
              collectApi((TypeElement) type, elements);
            }
          } else {
            hiddenTypes.add(name);
          }
        }
      }
    }
  }

  /** Adds every type that {@code type}'s public and protected signatures name. */
  private static void collectApi(TypeElement type, Elements elements) {
    Set<TypeMirror> named = new LinkedHashSet<>();
    named.add(type.getSuperclass());
    named.addAll(type.getInterfaces());
    for (TypeParameterElement parameter : type.getTypeParameters()) {
      named.addAll(parameter.getBounds());
    }
    for (Element member : type.getEnclosedElements()) {
      Set<Modifier> modifiers = member.getModifiers();
      if (!modifiers.contains(Modifier.PUBLIC) && !modifiers.contains(Modifier.PROTECTED)) {
        continue;
      }
      if (member.getKind().isClass() || member.getKind().isInterface()) {
        collectApi((TypeElement) member, elements);
      } else if (member.getKind() == ElementKind.FIELD
          || member.getKind() == ElementKind.ENUM_CONSTANT) {
        named.add(((VariableElement) member).asType());
      } else if (member instanceof ExecutableElement executable) {
        named.add(executable.getReturnType());
        executable.getParameters().forEach(p -> named.add(p.asType()));
        named.addAll(executable.getThrownTypes());
        for (TypeParameterElement parameter : executable.getTypeParameters()) {
          named.addAll(parameter.getBounds());
        }
      }
    }
    Set<TypeElement> types = new LinkedHashSet<>();
    Set<Element> typeVariables = new HashSet<>();
    for (TypeMirror mirror : named) {
      collectTypes(mirror, types, typeVariables);
    }
    for (TypeElement apiType : types) {
      String moduleName = elements.getModuleOf(apiType).getQualifiedName().toString();
      apiTypesByModule
          .computeIfAbsent(moduleName, m -> new TreeSet<>())
          .add(apiType.getQualifiedName() + " (in " + type.getQualifiedName() + ")");
    }
  }

  private static void collectTypes(
      TypeMirror mirror, Set<TypeElement> types, Set<Element> typeVariables) {
    if (mirror.getKind() == TypeKind.DECLARED) {
      DeclaredType declared = (DeclaredType) mirror;
      types.add((TypeElement) declared.asElement());
      declared.getTypeArguments().forEach(a -> collectTypes(a, types, typeVariables));
    } else if (mirror.getKind() == TypeKind.ARRAY) {
      collectTypes(((ArrayType) mirror).getComponentType(), types, typeVariables);
    } else if (mirror.getKind() == TypeKind.WILDCARD) {
      WildcardType wildcard = (WildcardType) mirror;
      if (wildcard.getExtendsBound() != null) {
        collectTypes(wildcard.getExtendsBound(), types, typeVariables);
      }
      if (wildcard.getSuperBound() != null) {
        collectTypes(wildcard.getSuperBound(), types, typeVariables);
      }
    } else if (mirror.getKind() == TypeKind.TYPEVAR) {
      TypeVariable variable = (TypeVariable) mirror;
      if (typeVariables.add(variable.asElement())) {
        collectTypes(variable.getUpperBound(), types, typeVariables);
      }
    } else if (mirror.getKind() == TypeKind.INTERSECTION) {
      ((IntersectionType) mirror).getBounds().forEach(b -> collectTypes(b, types, typeVariables));
    } else if (mirror.getKind() == TypeKind.ERROR) {
      throw new AssertionError("javac could not resolve " + mirror + " in the SDK's API");
    }
  }

  /**
   * The modules that {@code roots} need, followed through the requires that {@code follow} accepts,
   * each found on the class path by its module name. System modules come from the JDK.
   */
  private static List<Path> closure(Map<String, Path> available, Predicate<Requires> follow) {
    ModuleFinder system = ModuleFinder.ofSystem();
    Map<String, Path> needed = new LinkedHashMap<>();
    Deque<String> todo = new ArrayDeque<>(List.of(SDK_MODULE));
    while (!todo.isEmpty()) {
      String name = todo.remove();
      if (needed.containsKey(name) || system.find(name).isPresent()) {
        continue;
      }
      Path location = available.get(name);
      assertThat(location).as("module %s on the test class path", name).isNotNull();
      needed.put(name, location);
      ModuleDescriptor descriptor = ModuleFinder.of(location).find(name).orElseThrow().descriptor();
      for (Requires r : descriptor.requires()) {
        if (follow.test(r)) {
          todo.add(r.name());
        }
      }
    }
    return new ArrayList<>(needed.values());
  }

  /** Each entry of the class path by the name it has as a module (declared or automatic). */
  private static Map<String, Path> modulesOnTheClassPath() {
    Map<String, Path> modules = new LinkedHashMap<>();
    for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
      Path path = Path.of(entry);
      if (!Files.isRegularFile(path)) {
        continue; // class directories of this module and its tests; the SDK's is added by name
      }
      try {
        ModuleFinder.of(path)
            .findAll()
            .forEach(m -> modules.putIfAbsent(m.descriptor().name(), path));
      } catch (FindException e) {
        // Not usable as a module (no name can be derived from it): not one the SDK requires.
      }
    }
    return modules;
  }

  private static Path codeSource(Class<?> type) {
    try {
      return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI());
    } catch (URISyntaxException e) {
      throw new AssertionError(e);
    }
  }

  private static Path write(Path file, String text) throws IOException {
    Files.createDirectories(file.getParent());
    return Files.writeString(file, text, UTF_8);
  }

  private static String pathString(Path first, List<Path> rest) {
    List<String> entries = new ArrayList<>();
    entries.add(first.toString());
    rest.forEach(p -> entries.add(p.toString()));
    return String.join(File.pathSeparator, entries);
  }
}
