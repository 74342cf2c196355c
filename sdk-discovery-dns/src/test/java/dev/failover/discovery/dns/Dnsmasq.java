package dev.failover.discovery.dns;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.xbill.DNS.Name;
import org.xbill.DNS.Type;

/**
 * A real dnsmasq on 127.0.0.1 and a free high port, for the tests: started with its records on the
 * command line, restarted on the same port to change them, killed by {@link #close()}.
 *
 * <p>It answers for names under {@code .internal} only ({@code --local=/internal/}: unknown names
 * get NXDOMAIN, and nothing is forwarded anywhere); local records carry a TTL of 1 s.
 *
 * <p>When dnsmasq is missing, {@link #assumeInstalled()} installs Debian's {@code dnsmasq-base} if
 * the tests run as root with apt-get (bounded by a timeout), and otherwise skips the test with a
 * message that says how to install it.
 */
final class Dnsmasq implements AutoCloseable {

  static final String INSTALL_HINT =
      "dnsmasq is not installed, so the DNS tests against a real server are skipped; install it"
          + " with `sudo apt-get update && sudo apt-get install -y dnsmasq-base` (Debian/Ubuntu)"
          + " or your system's dnsmasq package";

  private static final Duration INSTALL_TIMEOUT = Duration.ofMinutes(4);
  private static final Duration READY_TIMEOUT = Duration.ofSeconds(10);
  private static final Duration STOP_TIMEOUT = Duration.ofSeconds(10);
  private static final Object INSTALL_LOCK = new Object();
  private static boolean installTried;

  private final int port;
  private final Path log;
  private Process process;
  private List<String> records;

  private Dnsmasq(int port, List<String> records) throws IOException {
    this.port = port;
    this.records = List.copyOf(records);
    this.log = Files.createTempFile("dnsmasq-" + port + "-", ".log");
  }

  /** Skips the calling test (or class) unless dnsmasq is, or could be, installed. */
  static void assumeInstalled() {
    assumeTrue(binary() != null || tryInstall(), INSTALL_HINT);
  }

  /** Starts dnsmasq on a free port with these record options (see {@link #srv} and friends). */
  static Dnsmasq start(String... records) throws IOException {
    Dnsmasq dns = new Dnsmasq(freePort(), List.of(records));
    dns.startProcess();
    return dns;
  }

  /** Starts dnsmasq on {@code port}, for a server that comes up after its clients. */
  static Dnsmasq startOn(int port, String... records) throws IOException {
    Dnsmasq dns = new Dnsmasq(port, List.of(records));
    dns.startProcess();
    return dns;
  }

  /** Returns a free port on 127.0.0.1 for both UDP and TCP, with nothing listening. */
  static int freePort() throws IOException {
    InetAddress loopback = InetAddress.getByName("127.0.0.1");
    for (int attempt = 0; attempt < 50; attempt++) {
      try (ServerSocket tcp = new ServerSocket(0, 1, loopback)) {
        int port = tcp.getLocalPort();
        try (DatagramSocket udp = new DatagramSocket(new InetSocketAddress(loopback, port))) {
          return udp.getLocalPort();
        } catch (IOException taken) {
          // UDP side in use: try another
        }
      }
    }
    throw new IOException("no port free for both UDP and TCP on 127.0.0.1 in 50 attempts");
  }

  /** {@code --srv-host} for one SRV record. */
  static String srv(String service, String target, int port, int priority, int weight) {
    return "--srv-host=" + service + "," + target + "," + port + "," + priority + "," + weight;
  }

  /** {@code --host-record} for A/AAAA records of one name. */
  static String host(String name, String... addresses) {
    return "--host-record=" + name + "," + String.join(",", addresses);
  }

  int port() {
    return port;
  }

  /** Stops dnsmasq and starts it again on the same port with {@code newRecords}. */
  void restart(String... newRecords) throws IOException {
    stop();
    records = List.of(newRecords);
    startProcess();
  }

  /** Starts dnsmasq again on the same port with the records it had. */
  void startAgain() throws IOException {
    startProcess();
  }

  /** Stops dnsmasq, waiting for the process to end; the port is then closed. */
  void stop() {
    Process p = process;
    if (p == null) {
      return;
    }
    process = null;
    p.destroy();
    try {
      if (!p.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        p.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      }
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    stop();
    try {
      Files.deleteIfExists(log);
    } catch (IOException ignored) {
      // a temp file
    }
  }

  /** What dnsmasq logged, for assertion messages. */
  String log() {
    try {
      return Files.readString(log, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  private void startProcess() throws IOException {
    Path bin = binary();
    if (bin == null) {
      throw new IOException(INSTALL_HINT);
    }
    List<String> command = new ArrayList<>();
    command.add(bin.toString());
    command.add("--no-daemon");
    command.add("--port=" + port);
    command.add("--listen-address=127.0.0.1");
    command.add("--bind-interfaces");
    command.add("--no-resolv");
    command.add("--no-hosts");
    command.add("--conf-file=/dev/null");
    command.add("--local=/internal/");
    command.add("--local-ttl=1");
    command.add("--cache-size=0");
    command.add("--log-queries");
    command.add("--log-facility=-");
    command.addAll(records);
    process =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
            .start();
    awaitReady();
  }

  /** Polls with a real query until dnsmasq answers, the process dies, or 10 s pass. */
  private void awaitReady() throws IOException {
    DnsTransport probe =
        new DnsTransport(List.of(new InetSocketAddress("127.0.0.1", port)), Duration.ofMillis(200));
    long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
    IOException last = null;
    while (System.nanoTime() < deadline) {
      Process p = process;
      if (p == null || !p.isAlive()) {
        throw new IOException("dnsmasq on port " + port + " exited at start:\n" + log());
      }
      try {
        probe.query(Name.fromConstantString("ready.probe.internal."), Type.A);
        return;
      } catch (IOException e) {
        last = e;
        try {
          Thread.sleep(20); // polling a starting process, bounded by the deadline
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          throw new IOException("interrupted", ie);
        }
      }
    }
    stop();
    throw new IOException(
        "dnsmasq on port "
            + port
            + " did not answer within "
            + READY_TIMEOUT
            + ": "
            + last
            + "\n"
            + log());
  }

  /** The dnsmasq binary, or null. */
  static Path binary() {
    List<String> dirs = new ArrayList<>(List.of("/usr/sbin", "/usr/bin", "/sbin", "/bin"));
    String path = System.getenv("PATH");
    if (path != null) {
      dirs.addAll(List.of(path.split(File.pathSeparator)));
    }
    for (String dir : dirs) {
      if (dir.isEmpty()) {
        continue;
      }
      Path candidate = Paths.get(dir, "dnsmasq");
      if (Files.isExecutable(candidate)) {
        return candidate;
      }
    }
    return null;
  }

  /** Installs dnsmasq-base once per JVM if running as root with apt-get; true if it is there. */
  private static boolean tryInstall() {
    synchronized (INSTALL_LOCK) {
      if (!installTried) {
        installTried = true;
        if ("root".equals(System.getProperty("user.name"))
            && Files.isExecutable(Paths.get("/usr/bin/apt-get"))) {
          long deadline = System.nanoTime() + INSTALL_TIMEOUT.toNanos();
          if (!run(deadline, "apt-get", "install", "-y", "-q", "dnsmasq-base")) {
            // The package lists may be missing or old: refresh them and try once more.
            if (run(deadline, "apt-get", "update", "-q")) {
              run(deadline, "apt-get", "install", "-y", "-q", "dnsmasq-base");
            }
          }
        }
      }
      return binary() != null;
    }
  }

  private static boolean run(long deadline, String... command) {
    try {
      ProcessBuilder builder = new ProcessBuilder(command);
      builder.environment().put("DEBIAN_FRONTEND", "noninteractive");
      Process p =
          builder
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
              .start();
      long left = deadline - System.nanoTime();
      if (left <= 0 || !p.waitFor(left, TimeUnit.NANOSECONDS)) {
        p.destroyForcibly();
        p.waitFor(10, TimeUnit.SECONDS);
        return false;
      }
      return p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }
}
