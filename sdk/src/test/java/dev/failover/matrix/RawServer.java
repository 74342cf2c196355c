package dev.failover.matrix;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A raw-socket HTTP/1.1 server for fault tests: a few named endpoints on 127.0.0.1, each with its
 * own listening socket and {@link Fault}, sharing one bounded thread pool.
 *
 * <p>Each endpoint counts its <b>receipts</b>: requests it read in full (request line, headers and
 * body), by the value of their {@value #REQUEST_ID} header. A request the server never read (a
 * refused connect, a connection reset before reading) is not a receipt. Every answer carries
 * {@value #SERVED_BY} with the endpoint's name.
 *
 * <pre>{@code
 * try (RawServer server = RawServer.start("a", "b")) {
 *   server.fault("a", RawServer.Fault.status(503, "Retry-After", "1"));
 *   // ... send requests to server.url("a") and server.url("b") ...
 *   assertThat(server.receipts("a", "req-1")).isEqualTo(1);
 * }
 * }</pre>
 *
 * <p>Every loop is bounded in count and in time: the acceptors wake each second and stop after
 * {@link #MAX_LIFETIME}, sockets time out after {@link #IO_TIMEOUT}, and a held connection is held
 * at most {@link #MAX_HOLD}. {@link #close()} returns only when every thread the server started has
 * ended (it throws otherwise).
 */
final class RawServer implements Closeable {
  /** The header whose value identifies a request in {@link #receipts(String, String)}. */
  static final String REQUEST_ID = "X-Request-Id";

  /** The header every answer carries: the name of the endpoint that wrote it. */
  static final String SERVED_BY = "X-Served-By";

  /** Longest a socket read blocks. */
  static final Duration IO_TIMEOUT = Duration.ofSeconds(10);

  /** Longest a HANG or SILENT_ON_POOLED connection is held if the server is not closed. */
  static final Duration MAX_HOLD = Duration.ofSeconds(30);

  /** Longest an acceptor runs if the server is not closed. */
  static final Duration MAX_LIFETIME = Duration.ofMinutes(5);

  private static final int MAX_REQUESTS_PER_CONNECTION = 100;
  private static final int MAX_CONNECTIONS_PER_ENDPOINT = 1_000;
  private static final int HANDLER_THREADS = 12;
  private static final int MAX_LINE = 8 * 1024;
  private static final int MAX_HEADERS = 100;
  private static final int MAX_BODY = 1024 * 1024;
  private static final byte[] GARBAGE =
      "\u0000\u0001SSH-2.0-not-http\r\n\u00ff\u00fe{garbage}\r\n\r\n"
          .getBytes(StandardCharsets.ISO_8859_1);

  /** What an endpoint does with the connections and requests it gets. */
  enum Kind {
    /** Answers 200 with keep-alive. */
    OK,
    /** Stops listening: its server socket is closed, so connects are refused. Irreversible. */
    REFUSE,
    /** Reads the full request, then closes the connection with {@code SO_LINGER 0} (a reset). */
    RESET_AFTER_READ,
    /** Reads the request and never answers; holds the socket until the server closes. */
    HANG,
    /**
     * Answers the first request on a connection (keep-alive), then reads the next request on that
     * connection and never answers it.
     */
    SILENT_ON_POOLED,
    /** Reads the request and answers 200 after {@link Fault#delay()}. */
    SLOW,
    /** Reads the request and writes bytes that are not HTTP, then closes. */
    GARBAGE,
    /** Reads the request and answers with {@link Fault#status()} and {@link Fault#headers()}. */
    STATUS,
    /**
     * Alternates per connection, starting with a failure: one connection is reset at once, before
     * anything is read (refuse-like: the server never sees the request); the next gets its request
     * answered 200 with {@code Connection: close}, so each connection carries one request.
     */
    FLAPPING
  }

  /**
   * A fault and its parameters.
   *
   * @param kind what the endpoint does
   * @param status the status of a {@link Kind#STATUS} answer (200 otherwise)
   * @param headers extra headers of a {@link Kind#STATUS} answer
   * @param delay how long a {@link Kind#SLOW} endpoint waits before answering
   */
  record Fault(Kind kind, int status, Map<String, String> headers, Duration delay) {
    Fault {
      headers = Map.copyOf(headers);
    }

    static Fault ok() {
      return new Fault(Kind.OK, 200, Map.of(), Duration.ZERO);
    }

    static Fault refuse() {
      return new Fault(Kind.REFUSE, 0, Map.of(), Duration.ZERO);
    }

    static Fault resetAfterRead() {
      return new Fault(Kind.RESET_AFTER_READ, 0, Map.of(), Duration.ZERO);
    }

    static Fault hang() {
      return new Fault(Kind.HANG, 0, Map.of(), Duration.ZERO);
    }

    static Fault silentOnPooled() {
      return new Fault(Kind.SILENT_ON_POOLED, 200, Map.of(), Duration.ZERO);
    }

    static Fault slow(Duration delay) {
      return new Fault(Kind.SLOW, 200, Map.of(), delay);
    }

    static Fault garbage() {
      return new Fault(Kind.GARBAGE, 0, Map.of(), Duration.ZERO);
    }

    /** An answer with this status and these headers, given as name, value, name, value... */
    static Fault status(int status, String... headerNamesAndValues) {
      if (headerNamesAndValues.length % 2 != 0) {
        throw new IllegalArgumentException("headers come in name, value pairs");
      }
      Map<String, String> headers = new LinkedHashMap<>();
      for (int i = 0; i < headerNamesAndValues.length; i += 2) {
        headers.put(headerNamesAndValues[i], headerNamesAndValues[i + 1]);
      }
      return new Fault(Kind.STATUS, status, headers, Duration.ZERO);
    }

    static Fault flapping() {
      return new Fault(Kind.FLAPPING, 200, Map.of(), Duration.ZERO);
    }

    @Override
    public String toString() {
      return switch (kind) {
        case STATUS -> "STATUS " + status + (headers.isEmpty() ? "" : " " + headers);
        case SLOW -> "SLOW " + delay.toMillis() + " ms";
        default -> kind.name();
      };
    }
  }

  /** One listening socket, its fault and its receipts. */
  private final class Endpoint {
    final String name;
    final ServerSocket listener;
    final Map<String, AtomicInteger> receipts = new ConcurrentHashMap<>();
    final AtomicInteger connections = new AtomicInteger();
    final CountDownLatch acceptorEnded = new CountDownLatch(1);
    volatile Fault fault = Fault.ok();

    Endpoint(String name) throws IOException {
      this.name = name;
      this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
      listener.setSoTimeout(1_000);
    }

    String url() {
      return "http://127.0.0.1:" + listener.getLocalPort();
    }

    void accept() {
      try {
        long until = System.nanoTime() + MAX_LIFETIME.toNanos();
        int accepted = 0;
        while (!closing() && accepted < MAX_CONNECTIONS_PER_ENDPOINT && System.nanoTime() < until) {
          Socket socket;
          try {
            socket = listener.accept();
          } catch (SocketTimeoutException e) {
            continue; // wake each second to check the bounds
          } catch (IOException e) {
            return; // closed: REFUSE, or close()
          }
          accepted++;
          open.add(socket);
          if (closing()) {
            closeQuietly(socket);
            return;
          }
          try {
            pool.execute(() -> serve(this, socket));
          } catch (RejectedExecutionException e) {
            // Every handler is busy (or the server is closing): drop the connection.
            closeQuietly(socket);
          }
        }
      } finally {
        closeQuietly(listener);
        acceptorEnded.countDown();
      }
    }
  }

  /** A request read in full. */
  private record Request(String method, String target, Map<String, String> headers, byte[] body) {}

  private final Map<String, Endpoint> endpoints = new LinkedHashMap<>();
  private final ThreadPoolExecutor pool;
  private final List<Thread> threads = new ArrayList<>();
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();
  private final CountDownLatch closed = new CountDownLatch(1);
  private final Object monitor = new Object();

  /** Handlers reading or answering (not holding a connection); guarded by {@link #monitor}. */
  private int busy;

  private RawServer(List<String> names) throws IOException {
    AtomicInteger n = new AtomicInteger();
    // Fixed size and no queue: the acceptors, plus a bounded number of connections served at once.
    int size = names.size() + HANDLER_THREADS;
    this.pool =
        new ThreadPoolExecutor(
            size,
            size,
            0,
            TimeUnit.MILLISECONDS,
            new SynchronousQueue<>(),
            r -> {
              Thread t = new Thread(r, "raw-server-" + n.incrementAndGet());
              t.setDaemon(true);
              synchronized (threads) {
                threads.add(t);
              }
              return t;
            });
    try {
      for (String name : names) {
        endpoints.put(name, new Endpoint(name));
      }
    } catch (IOException e) {
      close();
      throw e;
    }
  }

  /**
   * Starts a server with one endpoint per name, every one answering 200.
   *
   * @param names the endpoints' names
   * @return the running server
   * @throws IOException if a socket cannot be bound
   */
  static RawServer start(String... names) throws IOException {
    RawServer server = new RawServer(List.of(names));
    for (Endpoint e : server.endpoints.values()) {
      server.pool.execute(e::accept);
    }
    return server;
  }

  /** The base URL of an endpoint, {@code http://127.0.0.1:<port>}. */
  String url(String name) {
    return endpoint(name).url();
  }

  /**
   * Sets an endpoint's fault. {@link Kind#REFUSE} closes its listening socket and returns once the
   * endpoint's acceptor has left {@code accept()}: until then the JDK keeps the socket listening (a
   * {@code close()} racing a blocked {@code accept()} only takes effect when the accept ends), and
   * a connect would still be accepted, then reset.
   */
  void fault(String name, Fault fault) {
    Endpoint e = endpoint(name);
    e.fault = fault;
    if (fault.kind() == Kind.REFUSE) {
      closeQuietly(e.listener);
      try {
        if (!e.acceptorEnded.await(10, TimeUnit.SECONDS)) {
          throw new IllegalStateException("the acceptor of " + name + " did not stop in 10 s");
        }
      } catch (InterruptedException ie) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while stopping " + name, ie);
      }
    }
  }

  /** How many times an endpoint read a request with this {@value #REQUEST_ID}. */
  int receipts(String name, String requestId) {
    AtomicInteger n = endpoint(name).receipts.get(requestId);
    return n == null ? 0 : n.get();
  }

  /**
   * The receipts of a request at every endpoint, by name, in the order the endpoints were named.
   */
  Map<String, Integer> receipts(String requestId) {
    Map<String, Integer> all = new LinkedHashMap<>();
    for (String name : endpoints.keySet()) {
      all.put(name, receipts(name, requestId));
    }
    return all;
  }

  /** How many connections an endpoint accepted. */
  int connections(String name) {
    return endpoint(name).connections.get();
  }

  private Endpoint endpoint(String name) {
    Endpoint e = endpoints.get(name);
    if (e == null) {
      throw new IllegalArgumentException("no endpoint '" + name + "' in " + endpoints.keySet());
    }
    return e;
  }

  private boolean closing() {
    return closed.getCount() == 0;
  }

  private void serve(Endpoint ep, Socket socket) {
    busy(+1);
    try {
      int connection = ep.connections.getAndIncrement();
      socket.setSoTimeout((int) IO_TIMEOUT.toMillis());
      InputStream in = new BufferedInputStream(socket.getInputStream());
      OutputStream out = new BufferedOutputStream(socket.getOutputStream());
      if (ep.fault.kind() == Kind.FLAPPING && connection % 2 == 0) {
        reset(socket);
        return;
      }
      for (int n = 0; n < MAX_REQUESTS_PER_CONNECTION && !closing(); n++) {
        Request request = read(in);
        if (request == null) {
          return; // the client closed the connection
        }
        Fault fault = ep.fault;
        String id = request.headers().get(REQUEST_ID.toLowerCase(Locale.ROOT));
        if (id != null) {
          ep.receipts.computeIfAbsent(id, k -> new AtomicInteger()).incrementAndGet();
          busy(0);
        }
        switch (fault.kind()) {
          case OK -> answer(out, ep, 200, Map.of(), true);
          case STATUS -> answer(out, ep, fault.status(), fault.headers(), true);
          case FLAPPING -> {
            answer(out, ep, 200, Map.of(), false);
            return;
          }
          case RESET_AFTER_READ -> {
            reset(socket);
            return;
          }
          case HANG -> {
            hold(MAX_HOLD);
            return;
          }
          case SILENT_ON_POOLED -> {
            if (n > 0) {
              hold(MAX_HOLD);
              return;
            }
            answer(out, ep, 200, Map.of(), true);
          }
          case SLOW -> {
            if (!hold(fault.delay())) {
              answer(out, ep, 200, Map.of(), false);
            }
            return;
          }
          case GARBAGE -> {
            out.write(GARBAGE);
            out.flush();
            return;
          }
          case REFUSE -> {
            return; // accepted just before the listener closed: drop it
          }
        }
      }
    } catch (IOException e) {
      // The client went away or reset: normal under faults.
    } finally {
      open.remove(socket);
      closeQuietly(socket);
      busy(-1);
    }
  }

  /** Waits until the server closes or {@code max} passes; returns whether the server closed. */
  private boolean hold(Duration max) {
    busy(-1);
    try {
      return closed.await(max.toNanos(), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return true;
    } finally {
      busy(+1);
    }
  }

  /** Adds {@code delta} to the handlers at work, and wakes whoever waits for a change. */
  private void busy(int delta) {
    synchronized (monitor) {
      busy += delta;
      monitor.notifyAll();
    }
  }

  /**
   * Waits until every endpoint has at least the given receipts of {@code requestId}, at most {@code
   * max}. A request can reach the server after the client has given up on it (a connection accepted
   * late on a busy machine): this waits for it instead of sleeping.
   *
   * @return whether the receipts were reached
   */
  boolean awaitReceipts(String requestId, Map<String, Integer> atLeast, Duration max)
      throws InterruptedException {
    long until = System.nanoTime() + max.toNanos();
    synchronized (monitor) {
      while (true) {
        boolean reached = true;
        for (Map.Entry<String, Integer> e : atLeast.entrySet()) {
          reached &= receipts(e.getKey(), requestId) >= e.getValue();
        }
        long left = until - System.nanoTime();
        if (reached || left <= 0) {
          return reached;
        }
        TimeUnit.NANOSECONDS.timedWait(monitor, left);
      }
    }
  }

  /**
   * Waits until no connection is being read or answered (each has ended, or is held by HANG,
   * SILENT_ON_POOLED or SLOW), at most {@code max}. Once the client has closed its connections,
   * every request it wrote on an accepted connection has then been read and counted.
   *
   * @return whether the server became quiet
   */
  boolean awaitQuiet(Duration max) throws InterruptedException {
    long until = System.nanoTime() + max.toNanos();
    synchronized (monitor) {
      while (true) {
        long left = until - System.nanoTime();
        if (busy == 0 || left <= 0) {
          return busy == 0;
        }
        TimeUnit.NANOSECONDS.timedWait(monitor, left);
      }
    }
  }

  private static void reset(Socket socket) throws IOException {
    socket.setSoLinger(true, 0);
    socket.close();
  }

  private static void answer(
      OutputStream out, Endpoint ep, int status, Map<String, String> headers, boolean keepAlive)
      throws IOException {
    byte[] body = ("answer of " + ep.name + "\n").getBytes(StandardCharsets.UTF_8);
    StringBuilder head = new StringBuilder();
    head.append("HTTP/1.1 ").append(status).append(' ').append(reason(status)).append("\r\n");
    head.append("Content-Type: text/plain; charset=utf-8\r\n");
    head.append("Content-Length: ").append(body.length).append("\r\n");
    head.append(SERVED_BY).append(": ").append(ep.name).append("\r\n");
    for (Map.Entry<String, String> h : headers.entrySet()) {
      head.append(h.getKey()).append(": ").append(h.getValue()).append("\r\n");
    }
    if (!keepAlive) {
      head.append("Connection: close\r\n");
    }
    head.append("\r\n");
    out.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
    out.write(body);
    out.flush();
  }

  private static String reason(int status) {
    return switch (status) {
      case 200 -> "OK";
      case 429 -> "Too Many Requests";
      case 500 -> "Internal Server Error";
      case 502 -> "Bad Gateway";
      case 503 -> "Service Unavailable";
      case 504 -> "Gateway Timeout";
      default -> "Status";
    };
  }

  /** Reads one request in full, or returns null if the connection ended before it began. */
  private static Request read(InputStream in) throws IOException {
    String requestLine = line(in, true);
    if (requestLine == null) {
      return null;
    }
    String[] parts = requestLine.split(" ", 3);
    if (parts.length != 3 || !parts[2].startsWith("HTTP/1.")) {
      throw new IOException("not an HTTP/1.x request line: " + requestLine);
    }
    Map<String, String> headers = new LinkedHashMap<>();
    for (int i = 0; ; i++) {
      if (i > MAX_HEADERS) {
        throw new IOException("more than " + MAX_HEADERS + " headers");
      }
      String header = line(in, false);
      if (header == null || header.isEmpty()) {
        break;
      }
      int colon = header.indexOf(':');
      if (colon <= 0) {
        throw new IOException("malformed header: " + header);
      }
      headers.put(
          header.substring(0, colon).trim().toLowerCase(Locale.ROOT),
          header.substring(colon + 1).trim());
    }
    byte[] body;
    String length = headers.get("content-length");
    if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
      body = chunked(in);
    } else if (length != null) {
      int n = Integer.parseInt(length);
      if (n < 0 || n > MAX_BODY) {
        throw new IOException("body of " + n + " bytes");
      }
      body = in.readNBytes(n);
      if (body.length != n) {
        throw new EOFException("body ended after " + body.length + " of " + n + " bytes");
      }
    } else {
      body = new byte[0];
    }
    return new Request(parts[0], parts[1], headers, body);
  }

  private static byte[] chunked(InputStream in) throws IOException {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    for (int chunks = 0; chunks <= MAX_BODY; chunks++) {
      String size = line(in, false);
      if (size == null) {
        throw new EOFException("chunked body ended early");
      }
      int semicolon = size.indexOf(';');
      int n = Integer.parseInt((semicolon < 0 ? size : size.substring(0, semicolon)).trim(), 16);
      if (n == 0) {
        for (int trailers = 0; trailers <= MAX_HEADERS; trailers++) {
          String trailer = line(in, false);
          if (trailer == null || trailer.isEmpty()) {
            return body.toByteArray();
          }
        }
        throw new IOException("more than " + MAX_HEADERS + " trailers");
      }
      if (n < 0 || body.size() + n > MAX_BODY) {
        throw new IOException("chunked body over " + MAX_BODY + " bytes");
      }
      byte[] chunk = in.readNBytes(n);
      if (chunk.length != n) {
        throw new EOFException("chunk ended early");
      }
      body.write(chunk);
      line(in, false); // the CRLF after the chunk
    }
    throw new IOException("too many chunks");
  }

  /**
   * Reads a line ending in CRLF (or LF) as ISO-8859-1. At the start of a request ({@code first}),
   * an end of stream before any byte means the client closed the connection: null.
   */
  private static String line(InputStream in, boolean first) throws IOException {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i <= MAX_LINE; i++) {
      int b = in.read();
      if (b < 0) {
        if (first && sb.length() == 0) {
          return null;
        }
        throw new EOFException("stream ended inside a line");
      }
      if (b == '\n') {
        int end = sb.length();
        if (end > 0 && sb.charAt(end - 1) == '\r') {
          sb.setLength(end - 1);
        }
        return sb.toString();
      }
      sb.append((char) b);
    }
    throw new IOException("line longer than " + MAX_LINE + " bytes");
  }

  /**
   * Stops every endpoint, ends every held connection and waits for every thread the server started.
   *
   * @throws IllegalStateException if a thread is still alive after 10 s
   */
  @Override
  public void close() {
    closed.countDown();
    for (Endpoint e : endpoints.values()) {
      closeQuietly(e.listener);
    }
    for (Socket s : open) {
      closeQuietly(s);
    }
    pool.shutdownNow();
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    List<Thread> started;
    synchronized (threads) {
      started = List.copyOf(threads);
    }
    try {
      pool.awaitTermination(10, TimeUnit.SECONDS);
      for (Thread t : started) {
        long left = until - System.nanoTime();
        if (left > 0) {
          t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    List<String> alive = started.stream().filter(Thread::isAlive).map(Thread::getName).toList();
    if (!alive.isEmpty()) {
      throw new IllegalStateException("RawServer threads still alive after close: " + alive);
    }
  }

  private static void closeQuietly(Closeable c) {
    try {
      c.close();
    } catch (IOException e) {
      // closing anyway
    }
  }
}
