package dev.failover.discovery.dns;

import java.io.Closeable;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.PortUnreachableException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.OPTRecord;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.SOARecord;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;

/**
 * Sends one DNS query to the configured servers, over sockets it opens and closes itself.
 *
 * <p>dnsjava builds and parses the messages; its own resolvers are not used, as they share one
 * selector thread per JVM that only a JVM-wide {@code NioClient.close()} stops, and a source must
 * leave no thread behind when it is closed without stopping other users of dnsjava.
 *
 * <p>Each query tries the servers in order, giving each an equal share of the time left, until one
 * answers NOERROR or NXDOMAIN; a truncated UDP answer is asked again over TCP. {@link #abort()}
 * closes the socket in use from another thread, and makes every later query fail at once.
 */
final class DnsTransport {

  /** The EDNS payload size advertised, as recommended by DNS Flag Day 2020. */
  static final int EDNS_PAYLOAD = 1232;

  private static final int MAX_MESSAGE = 65_535;

  private final List<InetSocketAddress> servers;
  private final Duration timeout;

  private final Object lock = new Object();
  // Guarded by lock.
  private @Nullable Closeable inFlight;
  // Guarded by lock.
  private boolean aborted;

  /** Queries asked again over TCP after a truncated UDP answer; for tests and diagnosis. */
  private final AtomicLong tcpQueries = new AtomicLong();

  DnsTransport(List<InetSocketAddress> servers, Duration timeout) {
    if (servers.isEmpty()) {
      throw new IllegalArgumentException("dns servers must not be empty");
    }
    this.servers = List.copyOf(servers);
    this.timeout = timeout;
  }

  /** What a server answered: NOERROR or NXDOMAIN, the answer section, the negative TTL. */
  record Answer(int rcode, List<Record> records, long negativeTtl) {}

  /**
   * Asks the servers for {@code type} records of {@code name}.
   *
   * @return the first NOERROR or NXDOMAIN answer
   * @throws IOException if no server gave one within the timeout, naming each server's outcome
   *     (each server as {@link #describe(InetSocketAddress)} writes it)
   */
  Answer query(Name name, int type) throws IOException {
    long deadline = System.nanoTime() + timeout.toNanos();
    List<String> problems = new ArrayList<>();
    for (int i = 0; i < servers.size(); i++) {
      InetSocketAddress server = servers.get(i);
      long remaining = deadline - System.nanoTime();
      if (remaining <= 0) {
        problems.add(
            describe(server) + " not asked: timeout of " + timeout.toMillis() + " ms used up");
        break;
      }
      long share = remaining / (servers.size() - i);
      try {
        Answer answer = queryOne(server, name, type, System.nanoTime() + share);
        if (answer.rcode() == Rcode.NOERROR || answer.rcode() == Rcode.NXDOMAIN) {
          return answer;
        }
        problems.add(describe(server) + " answered " + Rcode.string(answer.rcode()));
      } catch (InterruptedIOException e) {
        if (isAborted()) {
          throw e;
        }
        problems.add(describe(server) + " " + describe(e, share));
      } catch (IOException e) {
        if (isAborted()) {
          throw new InterruptedIOException("DNS lookup stopped: the source was closed");
        }
        problems.add(describe(server) + " " + describe(e, share));
      }
    }
    throw new IOException(
        "DNS "
            + Type.string(type)
            + " lookup of "
            + name
            + " failed: "
            + String.join("; ", problems));
  }

  /** Returns how many queries were asked again over TCP. */
  long tcpQueries() {
    return tcpQueries.get();
  }

  /** Closes the socket in use, if any, and fails every later query at once. */
  void abort() {
    Closeable current;
    synchronized (lock) {
      aborted = true;
      current = inFlight;
      inFlight = null;
    }
    closeQuietly(current);
  }

  private boolean isAborted() {
    synchronized (lock) {
      return aborted;
    }
  }

  private Answer queryOne(InetSocketAddress server, Name name, int type, long deadline)
      throws IOException {
    Message query = Message.newQuery(Record.newRecord(name, type, DClass.IN));
    query.addRecord(new OPTRecord(EDNS_PAYLOAD, 0, 0), Section.ADDITIONAL);
    byte[] wire = query.toWire();
    byte[] buffer = new byte[MAX_MESSAGE];
    // The latest datagram that was not a DNS message, named if nothing valid follows in time.
    IOException malformed = null;
    try (DatagramSocket socket = register(new DatagramSocket())) {
      socket.connect(server);
      socket.send(new DatagramPacket(wire, wire.length));
      // Bounded by the deadline: every pass waits for a datagram with the time left.
      while (true) {
        DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
        try {
          socket.setSoTimeout(millisLeft(deadline));
          socket.receive(packet);
        } catch (SocketTimeoutException e) {
          if (malformed != null) {
            throw new MalformedAnswerException(malformed);
          }
          throw e;
        }
        Message response;
        try {
          response = new Message(Arrays.copyOf(buffer, packet.getLength()));
        } catch (IOException e) {
          malformed = e;
          continue; // not a DNS message: keep waiting for the real answer
        }
        if (!answers(query, response)) {
          continue; // a late answer to an earlier query, or a spoofing attempt
        }
        if (response.getHeader().getFlag(Flags.TC)) {
          return queryTcp(server, query, deadline);
        }
        return answer(response);
      }
    } finally {
      unregister();
    }
  }

  private Answer queryTcp(InetSocketAddress server, Message query, long deadline)
      throws IOException {
    tcpQueries.incrementAndGet();
    byte[] wire = query.toWire();
    try (Socket socket = register(new Socket())) {
      socket.connect(server, millisLeft(deadline));
      socket.setSoTimeout(millisLeft(deadline));
      DataOutputStream out = new DataOutputStream(socket.getOutputStream());
      out.writeShort(wire.length);
      out.write(wire);
      out.flush();
      java.io.InputStream in = socket.getInputStream();
      byte[] framing = new byte[2];
      readFully(socket, in, framing, deadline);
      byte[] bytes = new byte[((framing[0] & 0xff) << 8) | (framing[1] & 0xff)];
      readFully(socket, in, bytes, deadline);
      Message response = new Message(bytes);
      if (!answers(query, response)) {
        throw new IOException("TCP answer does not match the query " + query.getQuestion());
      }
      return answer(response);
    } finally {
      unregister();
    }
  }

  private static boolean answers(Message query, Message response) {
    Record question = query.getQuestion();
    Record echoed = response.getQuestion();
    return response.getHeader().getID() == query.getHeader().getID()
        && response.getHeader().getFlag(Flags.QR)
        && question != null
        && echoed != null
        && question.getName().equals(echoed.getName())
        && question.getType() == echoed.getType();
  }

  private static Answer answer(Message response) {
    long negativeTtl = -1;
    for (Record r : response.getSection(Section.AUTHORITY)) {
      if (r instanceof SOARecord soa) {
        // RFC 2308: a negative answer is cached for the smaller of the SOA's TTL and minimum.
        negativeTtl = Math.min(soa.getTTL(), soa.getMinimum());
      }
    }
    return new Answer(response.getRcode(), response.getSection(Section.ANSWER), negativeTtl);
  }

  private <T extends Closeable> T register(T socket) throws IOException {
    synchronized (lock) {
      if (!aborted) {
        inFlight = socket;
        return socket;
      }
    }
    closeQuietly(socket);
    throw new InterruptedIOException("DNS lookup stopped: the source was closed");
  }

  private void unregister() {
    synchronized (lock) {
      inFlight = null;
    }
  }

  /**
   * Reads {@code into} whole from the TCP answer, within the query's {@code deadline}: the socket's
   * timeout bounds one read only, so it is set to what is left before each (a server that sends its
   * answer a byte at a time, each within the timeout, held a 1 s query for 29 s).
   */
  private static void readFully(Socket socket, java.io.InputStream in, byte[] into, long deadline)
      throws IOException {
    int read = 0;
    while (read < into.length) {
      socket.setSoTimeout(millisLeft(deadline));
      int n = in.read(into, read, into.length - read);
      if (n < 0) {
        throw new java.io.EOFException(
            "the TCP answer ended after " + read + " of " + into.length + " bytes");
      }
      read += n;
    }
  }

  private static int millisLeft(long deadline) throws SocketTimeoutException {
    long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
    if (left <= 0) {
      throw new SocketTimeoutException("no answer in time");
    }
    return (int) Math.min(Integer.MAX_VALUE, left);
  }

  private static String describe(IOException e, long shareNanos) {
    if (e instanceof MalformedAnswerException malformed) {
      return malformed.description;
    }
    if (e instanceof PortUnreachableException) {
      return "is unreachable (ICMP port unreachable: no DNS server listening)";
    }
    if (e instanceof SocketTimeoutException) {
      return "did not answer within " + TimeUnit.NANOSECONDS.toMillis(shareNanos) + " ms";
    }
    return "failed: " + e;
  }

  /**
   * Returns a server as messages and descriptions name it: {@code host:port}, an IPv6 address in
   * brackets so that the port stands apart ({@code [0:0:0:0:0:0:0:1]:53}), an IPv4 address or a
   * name as it is ({@code 127.0.0.1:53}).
   */
  static String describe(InetSocketAddress server) {
    String host = server.getHostString();
    boolean ipv6 = host.indexOf(':') >= 0 && !host.startsWith("[");
    return (ipv6 ? "[" + host + "]" : host) + ":" + server.getPort();
  }

  /**
   * A server's only replies within its share of the timeout were not DNS messages: said as such,
   * rather than as no answer at all.
   */
  static final class MalformedAnswerException extends IOException {
    private static final long serialVersionUID = 1L;

    /** What it says of the server, after its name. */
    final String description;

    MalformedAnswerException(IOException parseError) {
      this("answered a malformed message (" + parseError.getMessage() + ")", parseError);
    }

    private MalformedAnswerException(String description, IOException parseError) {
      super(description, parseError);
      this.description = description;
    }
  }

  private static void closeQuietly(@Nullable Closeable closeable) {
    if (closeable == null) {
      return;
    }
    try {
      closeable.close();
    } catch (IOException ignored) {
      // closing to unblock a reader; nothing else to do
    }
  }
}
