package dev.failover.drill;

import dev.failover.testkit.EndpointDescriptor;
import dev.failover.testkit.FakeZones;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Writes a --topology file naming every endpoint of some fake zones. */
final class TopologyFiles {
  private TopologyFiles() {}

  static Path write(FakeZones zones, Path file) throws IOException {
    StringBuilder topology = new StringBuilder("# region,zone,url\n");
    for (EndpointDescriptor e : zones.endpoints()) {
      topology.append(e.region()).append(',').append(e.zone()).append(',').append(e.url());
      topology.append('\n');
    }
    Files.writeString(file, topology);
    return file;
  }
}
