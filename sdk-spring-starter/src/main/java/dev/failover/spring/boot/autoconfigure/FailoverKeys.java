package dev.failover.spring.boot.autoconfigure;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.BeanUtils;
import org.springframework.boot.context.properties.bind.DataObjectPropertyName;
import org.springframework.boot.context.properties.source.ConfigurationProperty;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.boot.context.properties.source.ConfigurationPropertySource;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.boot.context.properties.source.IterableConfigurationPropertySource;
import org.springframework.boot.convert.ApplicationConversionService;
import org.springframework.core.ResolvableType;
import org.springframework.core.env.Environment;
import org.springframework.core.env.SystemEnvironmentPropertySource;

/**
 * The keys under {@code failover.} that bind to a setting, read from the structure of {@link
 * FailoverProperties} as Spring Boot's binder walks it (getters, their types, maps and lists), and
 * the start-up check that reports every other key with the nearest valid one.
 *
 * <p>A map key (a client name, a zone of {@code zonal-shifts}) and a list index match any element.
 * The key of a map of values ({@code zonal-shifts}) is one element: Spring Boot's binder joins the
 * remaining elements of a name into one key only for maps of {@code java.lang} values and enums,
 * not for the instants of {@code zonal-shifts}, so {@code zonal-shifts.us.east.1b}, {@code
 * zonal-shifts.us-east-1b.until} and {@code FAILOVER_CLIENTS_DIRECTORY_ZONALSHIFTS_US_EAST_1B} bind
 * to nothing and are reported, saying how to write such a key ({@code zonal-shifts[us-east-1b]}).
 * Names match in Boot's relaxed forms ({@code max-attempts}, {@code maxAttempts}, {@code
 * max_attempts}) and, from the system environment, in both of Boot's forms ({@code
 * FAILOVER_DEFAULTS_RETRY_MAXATTEMPTS} and {@code FAILOVER_DEFAULTS_RETRY_MAX_ATTEMPTS}).
 */
final class FailoverKeys {
  private static final Logger LOG = LoggerFactory.getLogger(FailoverKeys.class);

  /** The root of every key. */
  static final String PREFIX = "failover";

  /** The property that turns a failed start into a warning for each unknown key. */
  static final String IGNORE_UNKNOWN_KEYS = "failover.ignore-unknown-keys";

  private static final ConfigurationPropertyName ROOT = ConfigurationPropertyName.of(PREFIX);

  /** The keys of {@link FailoverProperties}. */
  static final FailoverKeys MODEL = of(FailoverProperties.class);

  /** Deeper than any real structure: stops a self-referencing type. */
  private static final int MAX_DEPTH = 8;

  private final Node root;
  private final List<Leaf> leaves;

  private FailoverKeys(Node root) {
    this.root = root;
    List<Leaf> all = new ArrayList<>();
    collect(root, new ArrayList<>(), all);
    this.leaves = List.copyOf(all);
  }

  /**
   * Reads the keys of a properties class bound under {@code failover}.
   *
   * @param type the class, such as {@link FailoverProperties}
   * @return its keys
   */
  static FailoverKeys of(Class<?> type) {
    return new FailoverKeys(node(ResolvableType.forClass(type), 0));
  }

  /**
   * Every setting, each group's sorted by name: {@code *} for a map key, {@code [*]} for a list
   * index, such as {@code failover.clients.*.endpoints[*].url}. A list of values ({@code
   * region-order}) is one setting; a map of values ({@code zonal-shifts}) ends in {@code .*}.
   *
   * @return the settings
   */
  List<String> settings() {
    List<String> names = new ArrayList<>();
    for (Leaf leaf : leaves) {
      StringBuilder name = new StringBuilder(PREFIX);
      for (Step step : leaf.steps) {
        switch (step.kind) {
          case NAME -> name.append('.').append(step.dashed);
          case KEY -> name.append(".*");
          case INDEX -> name.append("[*]");
        }
      }
      if (leaf.kind == Kind.VALUE_MAP) {
        name.append(".*");
      }
      names.add(name.toString());
    }
    return names;
  }

  /**
   * Whether a name binds to a setting.
   *
   * @param name a name under {@code failover}
   * @param environment whether the name comes from the system environment, where Boot also binds
   *     {@code MAX_ATTEMPTS} to {@code max-attempts}
   * @param empty whether its value is empty, as YAML writes a group left empty ({@code health:})
   * @return true if the name binds to a setting
   */
  boolean accepts(ConfigurationPropertyName name, boolean environment, boolean empty) {
    return ROOT.isAncestorOf(name) && matches(root, name, 1, environment, empty);
  }

  private static boolean matches(
      Node node, ConfigurationPropertyName name, int i, boolean environment, boolean empty) {
    int size = name.getNumberOfElements();
    if (i == size) {
      return node.kind == Kind.VALUE || node.kind == Kind.VALUE_LIST || empty;
    }
    return switch (node.kind) {
      case VALUE -> false;
      case VALUE_LIST -> i == size - 1 && isIndex(name, i);
      // The key is one element (a bracketed key is one): Boot binds no value for a key of more
      // elements to a map of instants, where it would join them for a map of strings.
      case VALUE_MAP -> i == size - 1;
      case LIST -> isIndex(name, i) && matches(element(node), name, i + 1, environment, empty);
      case MAP -> matches(element(node), name, i + 1, environment, empty);
      case BEAN -> {
        for (Property property : node.properties) {
          // One element, or from the environment several that join to the name: MAX_ATTEMPTS.
          StringBuilder joined = new StringBuilder();
          for (int j = i; j < size && !isIndex(name, j); j++) {
            joined.append(name.getElement(j, ConfigurationPropertyName.Form.UNIFORM));
            if (joined.length() > property.uniform.length()) {
              break;
            }
            if (property.uniform.contentEquals(joined)
                && matches(property.node, name, j + 1, environment, empty)) {
              yield true;
            }
            if (!environment) {
              break;
            }
          }
        }
        yield false;
      }
    };
  }

  /**
   * A name that follows the settings to a map of values ({@code zonal-shifts}) and has more than
   * one element after it, which binds to nothing: its map, as a valid key, and those elements.
   *
   * @param map the map, such as {@code failover.clients.directory.zonal-shifts}
   * @param property the map's property, such as {@code zonal-shifts}
   * @param elements the elements after the map, as written, such as {@code [us, east, 1b]}
   */
  private record SplitKey(String map, String property, List<String> elements) {}

  private static @Nullable SplitKey splitKey(
      Node node,
      ConfigurationPropertyName name,
      int i,
      boolean environment,
      String display,
      String property) {
    int size = name.getNumberOfElements();
    if (i >= size) {
      return null;
    }
    return switch (node.kind) {
      case VALUE, VALUE_LIST -> null;
      case VALUE_MAP -> {
        if (i == size - 1) {
          yield null;
        }
        List<String> elements = new ArrayList<>();
        for (int j = i; j < size; j++) {
          elements.add(name.getElement(j, ConfigurationPropertyName.Form.ORIGINAL));
        }
        yield new SplitKey(display, property, List.copyOf(elements));
      }
      case LIST ->
          isIndex(name, i)
              ? splitKey(
                  element(node),
                  name,
                  i + 1,
                  environment,
                  display + "[" + name.getElement(i, ConfigurationPropertyName.Form.UNIFORM) + "]",
                  property)
              : null;
      case MAP ->
          splitKey(element(node), name, i + 1, environment, display + "." + key(name, i), property);
      case BEAN -> {
        for (Property p : node.properties) {
          StringBuilder joined = new StringBuilder();
          for (int j = i; j < size && !isIndex(name, j); j++) {
            joined.append(name.getElement(j, ConfigurationPropertyName.Form.UNIFORM));
            if (joined.length() > p.uniform.length()) {
              break;
            }
            if (p.uniform.contentEquals(joined)) {
              SplitKey split =
                  splitKey(p.node, name, j + 1, environment, display + "." + p.dashed, p.dashed);
              if (split != null) {
                yield split;
              }
            }
            if (!environment) {
              break;
            }
          }
        }
        yield null;
      }
    };
  }

  /**
   * For a name with more than one element after {@code zonal-shifts}, which binds to nothing, the
   * key in brackets and how to write it; else null. From the system environment the elements are
   * joined with dashes ({@code ..._ZONALSHIFTS_US_EAST_1B} is most likely zone {@code us-east-1b}),
   * elsewhere with dots ({@code zonal-shifts.us.east.1b} is what Boot would have bound as key
   * {@code us.east.1b} in a map of strings).
   */
  private @Nullable SplitKeyAdvice splitKeyAdvice(
      ConfigurationPropertyName name, boolean environment) {
    if (!ROOT.isAncestorOf(name)) {
      return null;
    }
    SplitKey split = splitKey(root, name, 1, environment, PREFIX, "");
    if (split == null) {
      return null;
    }
    String key =
        environment
            ? String.join("-", split.elements).toLowerCase(Locale.ROOT)
            : String.join(".", split.elements);
    String suggestion = split.map + "[" + key + "]";
    boolean zone = split.property.equals("zonal-shifts");
    String what = zone ? "a zone" : "a key";
    String value = zone ? "<instant>" : "<value>";
    String reason =
        what
            + " under "
            + split.property
            + " is one element of the key, and this key has "
            + split.elements.size()
            + " after "
            + split.property
            + " ("
            + String.join(", ", split.elements)
            + "), so it binds to nothing";
    String action =
        "write "
            + what
            + " as one element, in brackets if it holds dots ("
            + suggestion
            + "="
            + value
            + "), with nothing after it; an environment variable cannot write "
            + what
            + " with dashes or dots (Spring Boot reads each '_' as a '.'), so set it in a"
            + " configuration file or with SPRING_APPLICATION_JSON={\""
            + suggestion
            + "\":\""
            + value
            + "\"}";
    return new SplitKeyAdvice(suggestion, reason, action);
  }

  /** The key in brackets a name means, why the name binds to nothing, and how to write it. */
  private record SplitKeyAdvice(String suggestion, String reason, String action) {}

  /**
   * The valid key nearest to a name that binds to none: the least edit distance between canonical
   * forms (lower case, no dashes), with the name's own client name, zone and index filled in. A
   * name whose last element is a setting in another group ({@code failover.defaults.max-attempts})
   * gets that setting ({@code failover.defaults.retry.max-attempts}).
   *
   * @param name a name under {@code failover}
   * @return the nearest valid key, such as {@code failover.clients.directory.deadline}
   */
  String nearest(ConfigurationPropertyName name) {
    String canonical = canonical(name);
    String last = name.getLastElement(ConfigurationPropertyName.Form.UNIFORM);
    String best = PREFIX;
    int bestScore = Integer.MAX_VALUE;
    int bestDistance = Integer.MAX_VALUE;
    for (Leaf leaf : leaves) {
      String[] candidate = render(leaf, name);
      int distance = distance(canonical, candidate[1]);
      int score = leaf.last().equals(last) ? Math.min(distance, 2) : distance;
      if (score < bestScore || (score == bestScore && distance < bestDistance)) {
        best = candidate[0];
        bestScore = score;
        bestDistance = distance;
      }
    }
    return best;
  }

  /**
   * Reports every key under {@code failover.} in the environment's enumerable property sources that
   * binds to no setting: start-up fails, or with {@code ignoreUnknownKeys} each is logged. From the
   * system environment, only names under a top-level key ({@code FAILOVER_CLIENTS_...}, {@code
   * FAILOVER_HOME_...}) are checked: other programs' variables may start with {@code FAILOVER_}.
   *
   * @param environment the application's environment
   * @param ignoreUnknownKeys whether to log a warning rather than fail
   * @throws FailoverConfigurationException naming the first unknown key, its origin and the nearest
   *     valid key, and listing the others
   */
  static void check(Environment environment, boolean ignoreUnknownKeys) {
    List<Unknown> unknown = MODEL.find(environment);
    if (unknown.isEmpty()) {
      return;
    }
    if (ignoreUnknownKeys) {
      for (Unknown u : unknown) {
        LOG.warn(
            "{}{} is not a failover setting and is ignored ({}=true){}; did you mean {}?",
            u.name,
            u.origin == null ? "" : " (" + u.origin + ")",
            IGNORE_UNKNOWN_KEYS,
            u.reason == null ? "" : ": " + u.reason,
            u.suggestion);
      }
      return;
    }
    Unknown first = unknown.get(0);
    StringBuilder problem =
        new StringBuilder("is not a failover setting")
            .append(first.reason == null ? "" : ": " + first.reason)
            .append("; did you mean ")
            .append(first.suggestion)
            .append('?');
    if (unknown.size() > 1) {
      problem.append("\n    Also not failover settings:");
      for (Unknown u : unknown.subList(1, unknown.size())) {
        problem.append("\n        ").append(u.name);
        if (u.origin != null) {
          problem.append(" (").append(u.origin).append(')');
        }
        problem.append(": did you mean ").append(u.suggestion).append('?');
      }
    }
    String action =
        (unknown.size() == 1
                ? "rename " + first.name + " to " + first.suggestion + ", or remove it"
                : "rename or remove each of these keys")
            + unknown.stream()
                .map(Unknown::advice)
                .filter(Objects::nonNull)
                .findFirst()
                .map(a -> "; " + a)
                .orElse("")
            + "; if a key belongs to a newer version of the failover starter, set "
            + IGNORE_UNKNOWN_KEYS
            + "=true to start anyway with a warning for each unknown key";
    throw new FailoverConfigurationException(
        first.name, first.value, first.origin, problem.toString(), action, null);
  }

  /**
   * Fails start-up when two names of clients (or of shared configurations) are one name to Spring
   * Boot's binder: written differently ({@code Directory} and {@code directory}, {@code
   * user_service} and {@code userservice}), one of them not in Boot's canonical form, and equal as
   * property names outside brackets, which compare ignoring case and separators. The binder then
   * gives each the other's keys too: two clients, both with the endpoints of one of them, and a
   * required key the other left out never reported. Names that bind apart are left alone: two in
   * the canonical form ({@code user-service} and {@code userservice}), and a name in brackets
   * ({@code failover.clients[Directory]}) next to {@code directory}.
   *
   * @param environment the application's environment
   * @throws FailoverConfigurationException naming both names and where each is set
   */
  static void checkDistinctNames(Environment environment) {
    for (String group : List.of("clients", "configs")) {
      ConfigurationPropertyName parent = ROOT.append(group);
      // Each name as written, with the property name it binds as, and where it was first seen.
      Map<String, ConfigurationPropertyName> bound = new LinkedHashMap<>();
      Map<String, @Nullable String> origins = new LinkedHashMap<>();
      forEachKey(
          environment,
          (source, name, fromEnvironment) -> {
            if (name.getNumberOfElements() < 4 || !parent.isAncestorOf(name)) {
              return;
            }
            String written = name.getElement(2, ConfigurationPropertyName.Form.ORIGINAL);
            if (bound.putIfAbsent(written, name.chop(3)) == null) {
              ConfigurationProperty property = source.getConfigurationProperty(name);
              origins.put(
                  written,
                  property == null || property.getOrigin() == null
                      ? null
                      : String.valueOf(property.getOrigin()));
            }
          });
      List<String> names = new ArrayList<>(bound.keySet());
      for (int i = 0; i < names.size(); i++) {
        for (int j = i + 1; j < names.size(); j++) {
          String first = names.get(i);
          String second = names.get(j);
          // Two names both written in the canonical form (lower case, letters, digits and '-')
          // bind apart: the binder looks each key up by that form first. Any other form is looked
          // up by its canonical form, then by the relaxed comparison, and finds the other's keys.
          if (Objects.equals(bound.get(first), bound.get(second))
              && !(canonical(first) && canonical(second))) {
            String what = group.equals("clients") ? "client" : "shared configuration";
            String firstOrigin = origins.get(first);
            throw new FailoverConfigurationException(
                PREFIX + "." + group + "." + second,
                null,
                origins.get(second),
                "names the same "
                    + what
                    + " as "
                    + PREFIX
                    + "."
                    + group
                    + "."
                    + first
                    + (firstOrigin == null ? "" : " (" + firstOrigin + ")")
                    + " to Spring Boot's binder, which compares names outside brackets ignoring"
                    + " case and separators such as '_': each would take the other's keys too",
                "write the name the same way everywhere; an environment variable (FAILOVER_"
                    + group.toUpperCase(Locale.ROOT)
                    + "_<NAME>_...) reaches a name in lower case only, so name such a "
                    + what
                    + " in lower case, or give the two names that differ in letters or digits",
                null);
          }
        }
      }
    }
  }

  /** Whether a name is written as Boot writes it: lower case letters, digits and dashes. */
  private static boolean canonical(String name) {
    return CANONICAL_NAME.matcher(name).matches();
  }

  private static final Pattern CANONICAL_NAME = Pattern.compile("[a-z0-9-]+");

  /** The unknown keys of an environment, each once, as its highest-priority source has it. */
  List<Unknown> find(Environment environment) {
    Map<ConfigurationPropertyName, Unknown> found = new LinkedHashMap<>();
    forEachKey(
        environment,
        (source, name, fromEnvironment) -> {
          if (found.containsKey(name)) {
            return;
          }
          if (fromEnvironment && !underGroup(name)) {
            // Not meant for the starter: FAILOVER_DASHBOARD_PORT, which Kubernetes gives every pod
            // of a namespace with a Service called failover-dashboard.
            LOG.debug("{} is not under a failover group and is not checked", name);
            return;
          }
          ConfigurationProperty property = source.getConfigurationProperty(name);
          Object value = property == null ? null : property.getValue();
          if (fromEnvironment && serviceLink(name, value)) {
            // FAILOVER_HOME_SERVICE_HOST, of a Service called failover-home.
            LOG.debug("{} is a Kubernetes service link and is not checked", name);
            return;
          }
          boolean empty = value == null || String.valueOf(value).isEmpty();
          if (!accepts(name, fromEnvironment, empty)) {
            String origin =
                property == null || property.getOrigin() == null
                    ? null
                    : String.valueOf(property.getOrigin());
            SplitKeyAdvice split = splitKeyAdvice(name, fromEnvironment);
            found.put(
                name,
                new Unknown(
                    written(name),
                    value == null ? null : Redaction.value(name.toString(), String.valueOf(value)),
                    origin,
                    split == null ? nearest(name) : split.suggestion(),
                    split == null ? null : split.reason(),
                    split == null ? null : split.action()));
          }
        });
    return List.copyOf(found.values());
  }

  /** Something done with each name under {@code failover} of a source. */
  private interface KeyVisitor {
    void visit(
        ConfigurationPropertySource source,
        ConfigurationPropertyName name,
        boolean fromEnvironment);
  }

  /**
   * Visits every name under {@code failover} of the environment's enumerable property sources,
   * highest priority first; a name in several sources is visited for each.
   */
  private static void forEachKey(Environment environment, KeyVisitor visitor) {
    for (ConfigurationPropertySource source : ConfigurationPropertySources.get(environment)) {
      if (!(source instanceof IterableConfigurationPropertySource iterable)) {
        continue;
      }
      boolean fromEnvironment =
          source.getUnderlyingSource() instanceof SystemEnvironmentPropertySource;
      List<ConfigurationPropertyName> names = iterable.stream().filter(ROOT::isAncestorOf).toList();
      for (ConfigurationPropertyName name : names) {
        visitor.visit(source, name, fromEnvironment);
      }
    }
  }

  /**
   * Whether a name from the system environment starts with a top-level key ({@code clients}, {@code
   * defaults}, {@code home}, {@code ignore-unknown-keys} ...), its elements joined as Boot joins
   * them ({@code FAILOVER_IGNORE_UNKNOWN_KEYS}). Only these are checked there: any program or
   * platform may set a variable that starts with {@code FAILOVER_}, such as the service links
   * {@code FAILOVER_DASHBOARD_SERVICE_HOST} and {@code FAILOVER_DASHBOARD_PORT} that Kubernetes
   * gives every pod of a namespace with a Service called {@code failover-dashboard}.
   */
  private boolean underGroup(ConfigurationPropertyName name) {
    int size = name.getNumberOfElements();
    for (Property property : root.properties) {
      StringBuilder joined = new StringBuilder();
      for (int j = 1; j < size && joined.length() < property.uniform.length(); j++) {
        joined.append(name.getElement(j, ConfigurationPropertyName.Form.UNIFORM));
        if (property.uniform.contentEquals(joined)) {
          return true;
        }
      }
    }
    return false;
  }

  private static final Pattern IP_ADDRESS =
      Pattern.compile("[0-9]{1,3}(\\.[0-9]{1,3}){3}|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*");
  private static final Pattern PORT = Pattern.compile("[0-9]{1,5}");
  private static final Pattern PORT_URL =
      Pattern.compile("(tcp|udp|sctp)://([0-9.]+|\\[[0-9A-Fa-f:.]+\\]):[0-9]{1,5}");
  private static final Pattern PROTOCOL = Pattern.compile("TCP|UDP|SCTP");

  /**
   * Whether a variable of the system environment is one of the service links Kubernetes gives every
   * pod of a namespace for each Service in it, by both its name and its value: for a Service called
   * {@code failover-home}, {@code FAILOVER_HOME_SERVICE_HOST} (an address), {@code
   * FAILOVER_HOME_SERVICE_PORT} and {@code FAILOVER_HOME_SERVICE_PORT_<port name>} (a port), {@code
   * FAILOVER_HOME_PORT} and {@code FAILOVER_HOME_PORT_80_TCP} ({@code tcp://10.0.0.7:80}), {@code
   * FAILOVER_HOME_PORT_80_TCP_PROTO} ({@code tcp}), {@code ..._PORT} (a port) and {@code ..._ADDR}
   * (an address). Such a variable looks like a key under a top-level group when the Service's name
   * begins with one ({@code failover-home}, {@code failover-clients-directory}), but it is not
   * meant for the starter, and its value tells it from a misspelt key. The Service's name takes at
   * least one element after {@code failover}.
   */
  static boolean serviceLink(ConfigurationPropertyName name, @Nullable Object value) {
    if (value == null) {
      return false;
    }
    String v = String.valueOf(value);
    int n = name.getNumberOfElements();
    String[] e = new String[n];
    for (int i = 0; i < n; i++) {
      e[i] = name.getElement(i, ConfigurationPropertyName.Form.UNIFORM);
    }
    // ..._SERVICE_HOST and ..._SERVICE_PORT[_<port name>]
    for (int i = 2; i + 1 < n; i++) {
      if (e[i].equals("service")) {
        if (i + 2 == n && e[i + 1].equals("host")) {
          return IP_ADDRESS.matcher(v).matches();
        }
        if (e[i + 1].equals("port")) {
          return PORT.matcher(v).matches();
        }
      }
    }
    // ..._PORT_<n>_<PROTOCOL>[_PROTO|_PORT|_ADDR], then ..._PORT
    for (int i = 2; i + 2 < n; i++) {
      if (e[i].equals("port")
          && PORT.matcher(e[i + 1]).matches()
          && PROTOCOL.matcher(e[i + 2].toUpperCase(Locale.ROOT)).matches()) {
        if (i + 3 == n) {
          return PORT_URL.matcher(v).matches();
        }
        if (i + 4 == n) {
          return switch (e[i + 3]) {
            case "proto" -> PROTOCOL.matcher(v.toUpperCase(Locale.ROOT)).matches();
            case "port" -> PORT.matcher(v).matches();
            case "addr" -> IP_ADDRESS.matcher(v).matches();
            default -> false;
          };
        }
      }
    }
    return n >= 3 && e[n - 1].equals("port") && PORT_URL.matcher(v).matches();
  }

  /**
   * The value of every key under {@code failover} in the environment's enumerable property sources,
   * as its highest-priority source has it, placeholders resolved ({@code ${directory.deadline:2s}}
   * gives {@code directory.deadline}'s value). A key is written as {@link
   * FailoverClientFactory#affected} reads it: from the system environment in its form ({@code
   * FAILOVER_CLIENTS_MY_CLIENT_DEADLINE}), since which client it names is not certain; from any
   * other source as a property name.
   *
   * @param environment the application's environment
   * @return the values by key
   */
  static Map<String, String> values(Environment environment) {
    Set<ConfigurationPropertyName> seen = new HashSet<>();
    Map<String, String> values = new LinkedHashMap<>();
    forEachKey(
        environment,
        (source, name, fromEnvironment) -> {
          if (!seen.add(name)) {
            return;
          }
          ConfigurationProperty property = source.getConfigurationProperty(name);
          Object value = property == null ? null : property.getValue();
          String key =
              fromEnvironment
                  ? name.toString().toUpperCase(Locale.ROOT).replace('.', '_')
                  : name.toString();
          values.put(
              key, value == null ? "" : environment.resolvePlaceholders(String.valueOf(value)));
        });
    return values;
  }

  /**
   * A key that binds to no setting.
   *
   * @param reason why it binds to nothing, when more can be said than that it is no setting
   * @param advice how to write what it means, when more can be said than to rename or remove it
   */
  record Unknown(
      String name,
      @Nullable String value,
      @Nullable String origin,
      String suggestion,
      @Nullable String reason,
      @Nullable String advice) {}

  // ---- the model ----

  private enum Kind {
    /** A group of settings: a bean with getters. */
    BEAN,
    /** A map whose values are groups: {@code clients}. */
    MAP,
    /** A list whose elements are groups: {@code endpoints}. */
    LIST,
    /** One value. */
    VALUE,
    /** A list of values: {@code region-order}, also written as one comma-separated value. */
    VALUE_LIST,
    /** A map of values: {@code zonal-shifts}. */
    VALUE_MAP
  }

  private record Node(Kind kind, List<Property> properties, @Nullable Node element) {}

  private record Property(String dashed, String uniform, Node node) {}

  private enum StepKind {
    NAME,
    KEY,
    INDEX
  }

  private record Step(StepKind kind, String dashed, String uniform) {}

  /** A setting: the steps from the root to it and what it binds. */
  private record Leaf(List<Step> steps, Kind kind) {
    String last() {
      for (int i = steps.size() - 1; i >= 0; i--) {
        if (steps.get(i).kind == StepKind.NAME) {
          return steps.get(i).uniform;
        }
      }
      return "";
    }
  }

  private static Node element(Node node) {
    Node element = node.element;
    if (element == null) {
      throw new IllegalStateException("a " + node.kind + " without element");
    }
    return element;
  }

  private static Node node(ResolvableType type, int depth) {
    Class<?> raw = type.toClass();
    if (Map.class.isAssignableFrom(raw)) {
      ResolvableType value = type.asMap().getGeneric(1);
      return isValue(value.toClass())
          ? new Node(Kind.VALUE_MAP, List.of(), null)
          : new Node(Kind.MAP, List.of(), node(value, depth + 1));
    }
    if (Collection.class.isAssignableFrom(raw) || raw.isArray()) {
      ResolvableType element =
          raw.isArray() ? type.getComponentType() : type.asCollection().getGeneric(0);
      return isValue(element.toClass())
          ? new Node(Kind.VALUE_LIST, List.of(), null)
          : new Node(Kind.LIST, List.of(), node(element, depth + 1));
    }
    if (isValue(raw) || depth > MAX_DEPTH) {
      return new Node(Kind.VALUE, List.of(), null);
    }
    List<Property> properties = new ArrayList<>();
    for (Method getter : raw.getMethods()) {
      String property = propertyName(getter);
      if (property == null) {
        continue;
      }
      // With covariant overrides (Client.getDiscovery), the most specific return type.
      Method specific;
      try {
        specific = raw.getMethod(getter.getName());
      } catch (NoSuchMethodException e) {
        continue;
      }
      if (!specific.equals(getter)) {
        continue;
      }
      ResolvableType propertyType = ResolvableType.forMethodReturnType(specific, raw);
      Node child = node(propertyType, depth + 1);
      if (child.kind == Kind.VALUE && !hasSetter(raw, property, specific.getReturnType())) {
        continue; // read-only value: the binder cannot set it
      }
      String dashed = DataObjectPropertyName.toDashedForm(property);
      properties.add(new Property(dashed, uniform(dashed), child));
    }
    if (properties.isEmpty()) {
      return new Node(Kind.VALUE, List.of(), null); // nothing to bind into: a value
    }
    properties.sort((a, b) -> a.dashed.compareTo(b.dashed));
    return new Node(Kind.BEAN, List.copyOf(properties), null);
  }

  private static @Nullable String propertyName(Method method) {
    if (method.getParameterCount() != 0
        || Modifier.isStatic(method.getModifiers())
        || method.getDeclaringClass() == Object.class
        || method.isBridge()) {
      return null;
    }
    String name = method.getName();
    if (name.startsWith("get") && name.length() > 3) {
      return decapitalize(name.substring(3));
    }
    if (name.startsWith("is")
        && name.length() > 2
        && (method.getReturnType() == boolean.class || method.getReturnType() == Boolean.class)) {
      return decapitalize(name.substring(2));
    }
    return null;
  }

  private static String decapitalize(String name) {
    return Character.toLowerCase(name.charAt(0)) + name.substring(1);
  }

  private static boolean hasSetter(Class<?> type, String property, Class<?> valueType) {
    String setter = "set" + Character.toUpperCase(property.charAt(0)) + property.substring(1);
    for (Method method : type.getMethods()) {
      if (method.getName().equals(setter)
          && method.getParameterCount() == 1
          && method.getParameterTypes()[0].isAssignableFrom(valueType)) {
        return true;
      }
    }
    return false;
  }

  /** A value Boot converts from text (Duration, DataSize, Percentage, enums, ...), not a group. */
  private static boolean isValue(Class<?> type) {
    return type == Object.class
        || BeanUtils.isSimpleValueType(type)
        || ApplicationConversionService.getSharedInstance().canConvert(String.class, type);
  }

  private static void collect(Node node, List<Step> path, List<Leaf> leaves) {
    switch (node.kind) {
      case VALUE, VALUE_LIST, VALUE_MAP -> leaves.add(new Leaf(List.copyOf(path), node.kind));
      case MAP -> {
        path.add(new Step(StepKind.KEY, "*", "*"));
        collect(element(node), path, leaves);
        path.remove(path.size() - 1);
      }
      case LIST -> {
        path.add(new Step(StepKind.INDEX, "[*]", "[*]"));
        collect(element(node), path, leaves);
        path.remove(path.size() - 1);
      }
      case BEAN -> {
        for (Property property : node.properties) {
          path.add(new Step(StepKind.NAME, property.dashed, property.uniform));
          collect(property.node, path, leaves);
          path.remove(path.size() - 1);
        }
      }
    }
  }

  // ---- names ----

  private static boolean isIndex(ConfigurationPropertyName name, int i) {
    if (name.isNumericIndex(i)) {
      return true;
    }
    String element = name.getElement(i, ConfigurationPropertyName.Form.UNIFORM);
    return !element.isEmpty() && element.chars().allMatch(Character::isDigit);
  }

  private static String uniform(String dashed) {
    StringBuilder result = new StringBuilder(dashed.length());
    for (char c : dashed.toLowerCase(Locale.ROOT).toCharArray()) {
      if (Character.isLetterOrDigit(c)) {
        result.append(c);
      }
    }
    return result.toString();
  }

  /** A name as written (maxAttempts stays maxAttempts), indexes in brackets. */
  private static String written(ConfigurationPropertyName name) {
    StringBuilder result = new StringBuilder(PREFIX);
    for (int i = 1; i < name.getNumberOfElements(); i++) {
      if (name.isNumericIndex(i)) {
        result.append('[').append(name.getElement(i, ConfigurationPropertyName.Form.ORIGINAL));
        result.append(']');
      } else {
        result.append('.').append(key(name, i));
      }
    }
    return result.toString();
  }

  /** A name as compared: lower case, no dashes, indexes in brackets. */
  private static String canonical(ConfigurationPropertyName name) {
    StringBuilder result = new StringBuilder(PREFIX);
    for (int i = 1; i < name.getNumberOfElements(); i++) {
      if (isIndex(name, i)) {
        result.append('[').append(name.getElement(i, ConfigurationPropertyName.Form.UNIFORM));
        result.append(']');
      } else {
        result.append('.').append(name.getElement(i, ConfigurationPropertyName.Form.UNIFORM));
      }
    }
    return result.toString();
  }

  /**
   * A setting written with the name's own map keys and indexes where the name has them: {display
   * form, canonical form}.
   */
  private static String[] render(Leaf leaf, ConfigurationPropertyName name) {
    int size = name.getNumberOfElements();
    StringBuilder display = new StringBuilder(PREFIX);
    StringBuilder canonical = new StringBuilder(PREFIX);
    int p = 1;
    // Whether the name follows the setting so far: only then are its keys and indexes the
    // setting's.
    boolean aligned = true;
    for (Step step : leaf.steps) {
      switch (step.kind) {
        case NAME -> {
          display.append('.').append(step.dashed);
          canonical.append('.').append(step.uniform);
          aligned =
              aligned
                  && p < size
                  && distance(
                          step.uniform, name.getElement(p, ConfigurationPropertyName.Form.UNIFORM))
                      <= 2;
        }
        case KEY -> {
          display.append('.').append(aligned && p < size ? key(name, p) : "<name>");
          canonical
              .append('.')
              .append(
                  aligned && p < size
                      ? name.getElement(p, ConfigurationPropertyName.Form.UNIFORM)
                      : "name");
        }
        case INDEX -> {
          String index =
              aligned && p < size && isIndex(name, p)
                  ? name.getElement(p, ConfigurationPropertyName.Form.UNIFORM)
                  : "0";
          display.append('[').append(index).append(']');
          canonical.append('[').append(index).append(']');
        }
      }
      p++;
    }
    if (leaf.kind == Kind.VALUE_LIST && aligned && p < size && isIndex(name, p)) {
      String index = name.getElement(p, ConfigurationPropertyName.Form.UNIFORM);
      display.append('[').append(index).append(']');
      canonical.append('[').append(index).append(']');
    } else if (leaf.kind == Kind.VALUE_MAP) {
      boolean keyed = aligned && p < size;
      display.append('.').append(keyed ? key(name, p) : "<key>");
      canonical
          .append('.')
          .append(keyed ? name.getElement(p, ConfigurationPropertyName.Form.UNIFORM) : "key");
    }
    return new String[] {display.toString(), canonical.toString()};
  }

  /** A map key as written, in brackets if it holds a dot. */
  private static String key(ConfigurationPropertyName name, int i) {
    String key = name.getElement(i, ConfigurationPropertyName.Form.ORIGINAL);
    return key.indexOf('.') >= 0 ? "[" + key + "]" : key;
  }

  /**
   * Levenshtein distance: the fewest insertions, deletions and substitutions from a to b. (The
   * SDK's own, used for its home-zone warning, is package-private in {@code dev.failover}.)
   */
  static int distance(String a, String b) {
    int[] previous = new int[b.length() + 1];
    int[] current = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      previous[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      current[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
        current[j] = Math.min(substitution, Math.min(previous[j], current[j - 1]) + 1);
      }
      int[] swap = previous;
      previous = current;
      current = swap;
    }
    return previous[b.length()];
  }
}
