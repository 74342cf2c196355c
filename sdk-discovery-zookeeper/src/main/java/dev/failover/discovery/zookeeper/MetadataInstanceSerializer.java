package dev.failover.discovery.zookeeper;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.apache.curator.x.discovery.ServiceInstance;
import org.apache.curator.x.discovery.ServiceType;
import org.apache.curator.x.discovery.details.InstanceSerializer;
import org.jspecify.annotations.Nullable;

/**
 * Reads the JSON that Curator's {@code JsonInstanceSerializer} writes, whatever the payload class,
 * into an instance whose payload is its metadata as a {@code Map<String, String>}.
 *
 * <p>Lenient where Curator's own reader is strict, so that one malformed or foreign registration
 * does not hide an instance: the payload's {@code @class} is ignored (the class need not be on this
 * class path), scalar values (strings, numbers, booleans) become strings, nested objects and arrays
 * are left out except a nested {@code metadata} object (Spring Cloud Zookeeper's {@code
 * ZookeeperInstance}), whose scalar entries are added where the payload itself has no such key.
 * Both of Jackson's type-id layouts are read: a property ({@code {"@class": ..., "zone": ...}}) and
 * a wrapper array ({@code ["java.util.HashMap", {...}]}).
 *
 * <p>Read only: the source never registers instances, so {@link #serialize} refuses.
 */
final class MetadataInstanceSerializer implements InstanceSerializer<Map<String, String>> {

  static final MetadataInstanceSerializer INSTANCE = new MetadataInstanceSerializer();

  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final String TYPE_ID = "@class";
  private static final String NESTED_METADATA = "metadata";

  private MetadataInstanceSerializer() {}

  @Override
  public byte[] serialize(ServiceInstance<Map<String, String>> instance) {
    throw new UnsupportedOperationException(
        "the ZooKeeper endpoint source only reads instances; register them with Curator's"
            + " JsonInstanceSerializer");
  }

  @Override
  public ServiceInstance<Map<String, String>> deserialize(byte[] bytes) throws IOException {
    JsonNode root = MAPPER.readTree(bytes);
    if (root == null || !root.isObject()) {
      throw new IOException("a service instance must be a JSON object but was " + kind(root));
    }
    String name = requiredText(root, "name");
    String id = requiredText(root, "id");
    return new ServiceInstance<>(
        name,
        id,
        text(root, "address"),
        port(root, "port"),
        port(root, "sslPort"),
        metadata(root.get("payload")),
        root.path("registrationTimeUTC").asLong(0),
        serviceType(root.get("serviceType")),
        null,
        root.path("enabled").asBoolean(true));
  }

  /** Returns the payload's scalar entries, then those of a nested {@code metadata} object. */
  static Map<String, String> metadata(@Nullable JsonNode payload) {
    Map<String, String> out = new LinkedHashMap<>();
    JsonNode object = payload;
    if (object != null && object.isArray() && object.size() == 2 && object.get(1).isObject()) {
      object = object.get(1); // WRAPPER_ARRAY type id: ["java.util.HashMap", {...}]
    }
    if (object == null || !object.isObject()) {
      return out;
    }
    addScalars(object, out);
    JsonNode nested = object.get(NESTED_METADATA);
    if (nested != null && nested.isObject()) {
      addScalars(nested, out);
    }
    return out;
  }

  private static void addScalars(JsonNode object, Map<String, String> out) {
    Iterator<Map.Entry<String, JsonNode>> fields = object.fields();
    while (fields.hasNext()) {
      Map.Entry<String, JsonNode> field = fields.next();
      JsonNode value = field.getValue();
      if (!field.getKey().equals(TYPE_ID) && value.isValueNode() && !value.isNull()) {
        out.putIfAbsent(field.getKey(), value.asText());
      }
    }
  }

  private static String requiredText(JsonNode root, String field) throws IOException {
    String value = text(root, field);
    if (value == null || value.isEmpty()) {
      throw new IOException("a service instance needs a '" + field + "' but it was missing");
    }
    return value;
  }

  private static @Nullable String text(JsonNode root, String field) {
    JsonNode node = root.get(field);
    return node == null || node.isNull() || !node.isValueNode() ? null : node.asText();
  }

  private static @Nullable Integer port(JsonNode root, String field) {
    JsonNode node = root.get(field);
    if (node == null || node.isNull()) {
      return null;
    }
    if (node.canConvertToInt() && node.isIntegralNumber()) {
      return node.intValue();
    }
    if (node.isTextual()) {
      try {
        return Integer.valueOf(node.asText().trim());
      } catch (NumberFormatException e) {
        return null;
      }
    }
    return null;
  }

  private static ServiceType serviceType(@Nullable JsonNode node) {
    if (node == null || !node.isTextual()) {
      return ServiceType.DYNAMIC;
    }
    try {
      return ServiceType.valueOf(node.asText().trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      return ServiceType.DYNAMIC;
    }
  }

  private static String kind(@Nullable JsonNode node) {
    return node == null ? "empty" : node.getNodeType().toString().toLowerCase(Locale.ROOT);
  }
}
