package dev.failover.drill;

import dev.failover.Endpoint;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a topology file: one endpoint a line, {@code region,zone,url}; blank lines are skipped and
 * {@code #} starts a comment. Every error names the file and the line.
 */
final class TopologyFile {
  private TopologyFile() {}

  static List<DrillEndpoint> read(Path file) throws UsageException {
    List<String> lines;
    try {
      lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UsageException("cannot read --topology file " + file + ": " + e);
    }
    return parse(file.toString(), lines);
  }

  /**
   * A line as an error may quote it: without the user info of its URL (up to the last {@code @},
   * from its {@code ://}, else from the third field's start; a password may hold commas) or its
   * query.
   */
  static String shown(String line) {
    String shown = line;
    int at = line.lastIndexOf('@');
    if (at >= 0) {
      int scheme = line.indexOf("://");
      int second = line.indexOf(',', line.indexOf(',') + 1);
      int from =
          scheme >= 0 && scheme < at
              ? scheme + 3
              : second >= 0 && second < at ? second + 1 : line.lastIndexOf(',', at) + 1;
      shown = line.substring(0, from) + "***" + line.substring(at);
    }
    int query = shown.indexOf('?');
    return query < 0 ? shown : shown.substring(0, query + 1) + "***";
  }

  static List<DrillEndpoint> parse(String name, List<String> lines) throws UsageException {
    List<DrillEndpoint> endpoints = new ArrayList<>();
    Map<String, Integer> seen = new HashMap<>();
    for (int i = 0; i < lines.size(); i++) {
      String where = name + ":" + (i + 1) + ": ";
      String line = lines.get(i);
      int hash = line.indexOf('#');
      if (hash >= 0) {
        line = line.substring(0, hash);
      }
      line = line.strip();
      if (line.isEmpty()) {
        continue;
      }
      String[] fields = line.split(",", -1);
      if (fields.length != 3) {
        throw new UsageException(
            where
                + "expected 'region,zone,url' but found "
                + fields.length
                + (fields.length == 1 ? " field" : " fields")
                + " in '"
                + shown(line)
                + "'");
      }
      String region = fields[0].strip();
      String zone = fields[1].strip();
      String url = fields[2].strip();
      if (region.isEmpty()) {
        throw new UsageException(where + "the region is empty in '" + shown(line) + "'");
      }
      if (zone.isEmpty()) {
        throw new UsageException(where + "the zone is empty in '" + shown(line) + "'");
      }
      Endpoint endpoint;
      try {
        endpoint = Endpoint.of(url, region, zone);
      } catch (IllegalArgumentException e) {
        throw new UsageException(where + e.getMessage());
      }
      String address = endpoint.address();
      Integer before = seen.putIfAbsent(address, i + 1);
      if (before != null) {
        throw new UsageException(
            where + "endpoint " + address + " is already listed on line " + before);
      }
      endpoints.add(new DrillEndpoint(address, region, zone));
    }
    if (endpoints.isEmpty()) {
      throw new UsageException(
          name
              + ": no endpoint; write one a line as 'region,zone,url', such as "
              + "'us-east-1,us-east-1a,http://10.0.1.7:8080'");
    }
    return List.copyOf(endpoints);
  }
}
