package dev.failover.testkit;

import static dev.failover.testkit.ProxyLoop.closeQuietly;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * A TCP proxy on the endpoint's public port in front of its WireMock server, which injects the
 * socket-level faults. It has no thread of its own: its listener and every connection are
 * non-blocking channels on the shared {@link ProxyLoop}, so a thousand held connections cost no
 * thread. Each connection decides for itself, at every event and at every mode change, what the
 * current mode allows it to do:
 *
 * <ul>
 *   <li>{@link Mode#OPEN}: bytes flow both ways. The connection to WireMock is opened when the
 *       first request byte has to go there.
 *   <li>{@link Mode#HANG}: accepted and read, never forwarded nor answered, never closed by the
 *       proxy. The first 16 KiB the client sends are held, and flow when the mode returns to OPEN;
 *       whatever it sends beyond them is read and discarded, so that the proxy always sees the
 *       client's close, and such a truncated connection is reset, not resumed, when the mode
 *       returns to OPEN. A client that closes a hung connection lets the proxy drop it, and the
 *       bytes it held. WireMock closing an idle connection meanwhile (Jetty's idle timeout, 30 s)
 *       is not passed on: when the mode forwards again, and WireMock owes no answer, the proxy
 *       connects to WireMock again for what the client sends.
 *   <li>{@link Mode#RESET}: requests flow; the first response byte resets the client's connection
 *       (SO_LINGER 0, then close).
 *   <li>{@link Mode#REFUSE}: nothing listens on the port; every connection is reset.
 *   <li>{@link Mode#BLACKHOLE}: new connections are never accepted, so a client's connect times
 *       out; open connections hang as in HANG. The port is held by a listener whose accept queue is
 *       full (backlog 1, filled by two connections of the proxy's own), and a kernel drops a SYN to
 *       such a listener instead of answering it: Linux does, and the testkit's tests check it.
 * </ul>
 *
 * <p>{@link #setMode(Mode, boolean)} with {@code dropHeld} (the zones' reset) resets every
 * connection held by HANG or BLACKHOLE that carries something of the fault's time instead of
 * letting it flow: bytes the client sent (held, or discarded), a request WireMock has not begun to
 * answer, response bytes held back, or a side that has closed. An idle keep-alive connection, whose
 * last request was answered and which has sent nothing since, resumes as it would on heal, so that
 * a client's pooled connection still serves after the reset.
 *
 * <p>The port stays reserved while the proxy lives, across REFUSE: a socket bound to it with
 * SO_REUSEPORT, which never listens, is opened first, and every listener shares the port with it. A
 * connect to a port with a bound socket but no listener is refused, and no other socket (of this
 * process or another, ephemeral ports included; only one of the same user that sets SO_REUSEPORT
 * too) can bind the port meanwhile, so leaving REFUSE cannot find it taken. Only where the JDK does
 * not offer SO_REUSEPORT (Windows) is the port released in REFUSE; leaving REFUSE then fails,
 * naming the port, if something else took it.
 *
 * <p>Thread-safe: the methods hand their work to the loop and return once it is done.
 */
final class FaultProxy implements AutoCloseable {

  /** What the proxy does with connections. */
  enum Mode {
    OPEN,
    REFUSE,
    HANG,
    RESET,
    BLACKHOLE;

    /** Whether bytes flow in this mode (in RESET, until the response starts). */
    boolean forwards() {
      return this == OPEN || this == RESET;
    }

    Listening listening() {
      return switch (this) {
        case REFUSE -> Listening.NONE;
        case BLACKHOLE -> Listening.FULL;
        default -> Listening.ACCEPTING;
      };
    }
  }

  /** What listens on the port: nothing, an accepting listener, or one with a full queue. */
  private enum Listening {
    NONE,
    ACCEPTING,
    FULL
  }

  /**
   * Room for bursts of connects while the loop is busy or not yet warm: a connect to a listener
   * whose queue is full waits a whole SYN retransmission (1 s). The kernel caps it at somaxconn.
   */
  private static final int BACKLOG = 1024;

  private static final int FULL_BACKLOG = 1;
  private static final int BUFFER_BYTES = 16 * 1024;
  private static final long CALL_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(5);

  /**
   * 127.0.0.1, which the endpoints' URLs name and WireMock binds, whatever the JVM prefers: {@link
   * InetAddress#getLoopbackAddress()} is ::1 with {@code -Djava.net.preferIPv6Addresses=true}.
   */
  static final InetAddress LOOPBACK = ipv4Loopback();

  private final String name;
  private final InetSocketAddress backend;
  private final ProxyLoop loop;
  private final AtomicInteger accepted = new AtomicInteger();
  private final AtomicInteger open = new AtomicInteger();
  private final AtomicInteger backendsClosed = new AtomicInteger();
  private final int port;

  private volatile Mode mode = Mode.OPEN; // written only on the loop thread

  // Only on the loop thread:
  private final Set<Connection> connections = new HashSet<>();
  private final List<SocketChannel> fillers = new ArrayList<>();
  private final ByteBuffer discarded = ByteBuffer.allocate(BUFFER_BYTES); // what HANG drops
  private @Nullable SocketChannel reservation; // keeps the port while nothing listens
  private @Nullable ServerSocketChannel listener;
  private boolean closed;

  FaultProxy(String name, int backendPort, ProxyLoop loop) throws IOException {
    this.name = name;
    this.backend = new InetSocketAddress(LOOPBACK, backendPort);
    this.loop = loop;
    int[] bound = {0};
    try {
      loop.run(
          () -> {
            try {
              listenOnReservedPort();
            } catch (IOException e) {
              throw new UncheckedIOException(e);
            }
            bound[0] = boundPort();
          },
          System.nanoTime() + CALL_TIMEOUT_NANOS);
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
    this.port = bound[0];
  }

  int port() {
    return port;
  }

  Mode mode() {
    return mode;
  }

  /** Connections accepted since the proxy started; lets tests see keep-alive reuse. */
  int acceptedConnections() {
    return accepted.get();
  }

  /** Times WireMock closed a connection (its idle timeout, say); lets tests wait for it. */
  int backendsClosed() {
    return backendsClosed.get();
  }

  /** Whether a connection holds bytes its client sent; lets tests wait for a held request. */
  boolean holdsClientBytes() {
    boolean[] holds = {false};
    loop.run(
        () -> holds[0] = connections.stream().anyMatch(c -> c.up.position() > 0),
        System.nanoTime() + CALL_TIMEOUT_NANOS);
    return holds[0];
  }

  /** Connections open now. */
  int openConnections() {
    return open.get();
  }

  /**
   * Switches the mode and returns once every connection and the port behave as {@code next} says:
   * REFUSE has closed the port and reset every connection, BLACKHOLE has filled the port's accept
   * queue, and leaving either listens on the same port again.
   *
   * @throws UncheckedIOException if the port cannot be bound again; nothing listens then, as in
   *     REFUSE
   */
  void setMode(Mode next) {
    setMode(next, false);
  }

  /**
   * As {@link #setMode(Mode)}; with {@code dropHeld}, first resets (TCP RST) every connection the
   * current mode holds (those open in HANG or BLACKHOLE) that is not idle, so that nothing sent
   * into the fault, nor the answer to a request sent before it, flows once {@code next} forwards;
   * idle keep-alive connections resume. Both happen in one step on the loop, after reading what the
   * connections' sockets have received, so no held byte reaches WireMock and no held response
   * reaches a client after this returns.
   */
  void setMode(Mode next, boolean dropHeld) {
    loop.run(() -> apply(next, dropHeld), System.nanoTime() + CALL_TIMEOUT_NANOS);
  }

  /** Closes with a bound of 5 seconds; see {@link #close(long)}. */
  @Override
  public void close() {
    close(System.nanoTime() + CALL_TIMEOUT_NANOS);
  }

  /**
   * Closes the port and resets every connection; returns once the sockets are closed, or throws at
   * {@code deadlineNanos}. The proxy has no thread to wait for.
   *
   * @throws IllegalStateException if the loop did not answer by the deadline
   */
  void close(long deadlineNanos) {
    loop.run(
        () -> {
          if (closed) {
            return;
          }
          closed = true;
          stopListening();
          List.copyOf(connections).forEach(Connection::abort);
          loop.completeCloses();
          closeQuietly(reservation);
          reservation = null;
        },
        deadlineNanos);
  }

  // ---- on the loop thread ----

  private void apply(Mode next, boolean dropHeld) {
    Mode previous = mode;
    if (closed) {
      return;
    }
    if (dropHeld && !previous.forwards() && !connections.isEmpty()) {
      List.copyOf(connections).forEach(Connection::abortUnlessIdle); // held by HANG or BLACKHOLE
      loop.completeCloses();
    }
    if (next == previous) {
      return;
    }
    if (previous.listening() != next.listening()) {
      if (next.listening() == Listening.FULL) {
        acceptAll(); // what completed its handshake already is held like any open connection
      }
      stopListening();
      loop.completeCloses(); // the port is free again
      try {
        switch (next.listening()) {
          case ACCEPTING -> listen(port, BACKLOG, true);
          case FULL -> {
            listen(port, FULL_BACKLOG, false);
            fillQueue();
          }
          case NONE -> {
            // REFUSE: nothing listens.
          }
        }
      } catch (IOException e) {
        stopListening();
        mode = Mode.REFUSE;
        List.copyOf(connections).forEach(Connection::abort);
        loop.completeCloses();
        throw new UncheckedIOException(
            "cannot listen on 127.0.0.1:" + port + " again for " + name + ": " + e.getMessage(), e);
      }
    }
    mode = next;
    List.copyOf(connections).forEach(Connection::update);
    loop.completeCloses(); // resets sent now, not at the next event
  }

  /**
   * Reserves a free port with a socket that is bound and never listens (SO_REUSEPORT), then listens
   * on it. Without SO_REUSEPORT, or if the reservation fails, listens on a free port without one.
   */
  private void listenOnReservedPort() throws IOException {
    int reserved = reserve();
    if (reserved != 0) {
      try {
        listen(reserved, BACKLOG, true);
        return;
      } catch (IOException e) {
        closeQuietly(reservation);
        reservation = null;
      }
    }
    listen(0, BACKLOG, true);
  }

  /** Binds the reservation to a free port and returns it; 0 if it cannot be made. */
  private int reserve() {
    SocketChannel reserving = null;
    try {
      reserving = SocketChannel.open();
      if (!reserving.supportedOptions().contains(StandardSocketOptions.SO_REUSEPORT)) {
        closeQuietly(reserving);
        return 0;
      }
      reserving.setOption(StandardSocketOptions.SO_REUSEPORT, true);
      reserving.bind(new InetSocketAddress(LOOPBACK, 0));
      int reservedPort = ((InetSocketAddress) reserving.getLocalAddress()).getPort();
      reservation = reserving;
      return reservedPort;
    } catch (IOException e) {
      closeQuietly(reserving);
      return 0;
    }
  }

  private void listen(int onPort, int backlog, boolean accepting) throws IOException {
    ServerSocketChannel channel = ServerSocketChannel.open();
    try {
      channel.setOption(StandardSocketOptions.SO_REUSEADDR, true);
      if (reservation != null) {
        channel.setOption(StandardSocketOptions.SO_REUSEPORT, true); // shares the reserved port
      }
      channel.bind(new InetSocketAddress(LOOPBACK, onPort), backlog);
      channel.configureBlocking(false);
      if (accepting) {
        channel.register(
            loop.selector(), SelectionKey.OP_ACCEPT, (ProxyLoop.Handler) k -> acceptAll());
      }
    } catch (IOException e) {
      closeQuietly(channel);
      throw e;
    }
    listener = channel;
  }

  private int boundPort() {
    ServerSocketChannel channel = listener;
    return channel == null ? 0 : channel.socket().getLocalPort();
  }

  /**
   * Fills the accept queue of the listener, which is not accepting: the kernel keeps backlog + 1
   * connections waiting on Linux, so two are made. The connects are non-blocking, so that the loop
   * never waits for one: on loopback the handshake of each is done by the time {@code connect}
   * returns, and one that is not (the queue was full already, say of clients that connected in the
   * instant the listener was made) finishes on the loop, or never, which is as good.
   */
  private void fillQueue() throws IOException {
    for (int i = 0; i <= FULL_BACKLOG; i++) {
      SocketChannel filler = SocketChannel.open();
      fillers.add(filler); // closed with the listener
      filler.configureBlocking(false);
      if (!filler.connect(new InetSocketAddress(LOOPBACK, port))) {
        filler.register(
            loop.selector(), SelectionKey.OP_CONNECT, (ProxyLoop.Handler) FaultProxy::connected);
      }
    }
  }

  /** A filler's handshake is done (or failed): nothing more to do with it until it is closed. */
  private static void connected(SelectionKey key) {
    try {
      if (((SocketChannel) key.channel()).finishConnect()) {
        key.interestOps(0);
      }
    } catch (IOException e) {
      key.cancel(); // no room in the queue, or the listener went: it is closed with the others
    }
  }

  private static InetAddress ipv4Loopback() {
    try {
      return InetAddress.getByAddress("127.0.0.1", new byte[] {127, 0, 0, 1});
    } catch (UnknownHostException e) {
      throw new AssertionError("four bytes are a valid address", e);
    }
  }

  private void stopListening() {
    closeQuietly(listener); // cancels its key; completeCloses() frees the port
    listener = null;
    fillers.forEach(ProxyLoop::closeQuietly);
    fillers.clear();
  }

  private void acceptAll() {
    ServerSocketChannel channel = listener;
    if (channel == null) {
      return;
    }
    while (true) {
      SocketChannel client;
      try {
        client = channel.accept();
      } catch (IOException e) {
        return; // closed, or out of descriptors: what is queued waits for the next event
      }
      if (client == null) {
        return;
      }
      accepted.incrementAndGet();
      try {
        client.configureBlocking(false);
        client.setOption(StandardSocketOptions.TCP_NODELAY, true);
        Connection connection = new Connection(client);
        connection.clientKey = client.register(loop.selector(), 0, connection);
        connections.add(connection);
        open.incrementAndGet();
        connection.update();
      } catch (IOException e) {
        linger0(client);
        closeQuietly(client);
      }
    }
  }

  private static void linger0(SocketChannel channel) {
    try {
      channel.setOption(StandardSocketOptions.SO_LINGER, 0);
    } catch (IOException e) {
      // Already gone.
    }
  }

  /**
   * One proxied connection: the client's channel, the one to WireMock once needed, and a buffer
   * each way. Buffers stay in fill mode between events.
   */
  private final class Connection implements ProxyLoop.Handler {
    private final SocketChannel client;
    private @Nullable SelectionKey clientKey;
    private final ByteBuffer up = ByteBuffer.allocate(BUFFER_BYTES); // client to WireMock
    private @Nullable SocketChannel server;
    private @Nullable SelectionKey serverKey;
    private @Nullable ByteBuffer down; // WireMock to client, with server
    private boolean serverConnected;
    private boolean clientEof;
    private boolean serverEof;
    private boolean serverEofWhileHeld; // WireMock closed while the mode held the connection
    private boolean serverShut; // client's EOF passed on
    private boolean clientShut; // WireMock's EOF passed on
    private boolean truncated; // bytes the client sent while held were discarded
    private boolean awaitingResponse; // request bytes went to WireMock, no response byte since
    private boolean isClosed;

    Connection(SocketChannel client) {
      this.client = client;
    }

    @Override
    public void ready(SelectionKey key) {
      try {
        SocketChannel s = server;
        ByteBuffer d = down;
        if (key.channel() == client) {
          if (key.isReadable()) {
            if (up.hasRemaining()) {
              if (client.read(up) < 0) {
                clientEof = true;
              }
            } else if (!mode.forwards()) {
              discard(); // held and full: keep reading, or the client's close would go unseen
            }
          }
        } else if (s != null && d != null) {
          if (key.isConnectable() && s.finishConnect()) {
            serverConnected = true;
          }
          if (key.isValid() && key.isReadable() && d.hasRemaining()) {
            readServer(s, d);
          }
        }
        step();
      } catch (IOException | RuntimeException e) {
        abort();
      }
    }

    /** Does what the mode allows now; after a mode change. */
    void update() {
      try {
        step();
      } catch (IOException | RuntimeException e) {
        abort();
      }
    }

    private void step() throws IOException {
      if (isClosed) {
        return;
      }
      Mode m = mode;
      if (m == Mode.REFUSE) {
        abort();
        return;
      }
      if (!m.forwards()) {
        if (clientEof) {
          closeGracefully(); // the client left a held connection: nothing to hold any more
          return;
        }
        interest(false);
        return;
      }
      if (truncated) {
        abort(); // part of what the client sent while held is gone: it cannot be resumed
        return;
      }
      if (serverEofWhileHeld && !awaitingResponse && !clientShut && isEmpty(down)) {
        // WireMock closed an idle connection while held (its idle timeout outlasted by a long
        // hang): an artifact of the fake, not of the server it stands for. A new connection to
        // WireMock carries what the client sent meanwhile, or will send.
        dropBackend();
      }
      ByteBuffer d = down;
      if (m == Mode.RESET && d != null && d.position() > 0) {
        abort(); // the response starts to come back
        return;
      }
      SocketChannel s = server;
      if (s == null) {
        if (up.position() == 0) {
          if (clientEof) {
            closeGracefully(); // left without asking anything
          } else {
            interest(true);
          }
          return;
        }
        s = connectBackend();
        d = down;
      }
      if (serverConnected && d != null) {
        if (flush(up, s) > 0) {
          awaitingResponse = true;
        }
        if (clientEof && up.position() == 0 && !serverShut) {
          s.shutdownOutput();
          serverShut = true;
        }
        flush(d, client);
        if (serverEof && d.position() == 0 && !clientShut) {
          client.shutdownOutput();
          clientShut = true;
        }
        if (serverShut && clientShut) {
          closeGracefully();
          return;
        }
      }
      interest(true);
    }

    private void readServer(SocketChannel s, ByteBuffer d) throws IOException {
      int read = s.read(d);
      if (read < 0) {
        serverEof = true;
        serverEofWhileHeld = !mode.forwards();
        backendsClosed.incrementAndGet();
      } else if (read > 0) {
        awaitingResponse = false;
      }
    }

    /**
     * The zones' reset, on a connection held by HANG or BLACKHOLE: resets it (TCP RST) unless it is
     * an idle keep-alive connection, which resumes when the mode forwards again. First reads what
     * its sockets have received and the loop has not seen yet (a request written just before the
     * reset), so that it counts.
     *
     * <p>Idle: the client has sent nothing since its last request was answered (nothing held, nor
     * discarded), WireMock owes no answer and has sent nothing held back, and the client has not
     * closed, nor been told WireMock did (WireMock closing while held, its idle timeout, does not
     * count: the connection to it is made again). A response WireMock paused in the middle of its
     * body (between two chunks) when the fault struck looks idle, and its rest flows once healed:
     * the proxy does not parse HTTP.
     */
    void abortUnlessIdle() {
      if (isClosed) {
        return;
      }
      try {
        if (!clientEof) {
          if (up.hasRemaining()) {
            if (client.read(up) < 0) {
              clientEof = true;
            }
          } else {
            discard();
          }
        }
        SocketChannel s = server;
        ByteBuffer d = down;
        if (s != null && d != null && serverConnected && !serverEof && d.hasRemaining()) {
          readServer(s, d);
        }
      } catch (IOException | RuntimeException e) {
        abort();
        return;
      }
      boolean idle =
          up.position() == 0
              && !truncated
              && !awaitingResponse
              && !clientEof
              && (!serverEof || serverEofWhileHeld) // the latter reconnects (see step)
              && !clientShut
              && isEmpty(down);
      if (!idle) {
        abort();
      }
    }

    private static boolean isEmpty(@Nullable ByteBuffer buffer) {
      return buffer == null || buffer.position() == 0;
    }

    /** Closes the connection to WireMock; the next byte the client sends opens another. */
    private void dropBackend() {
      SelectionKey sk = serverKey;
      if (sk != null) {
        sk.cancel();
      }
      closeQuietly(server);
      server = null;
      serverKey = null;
      down = null;
      serverConnected = false;
      serverEof = false;
      serverEofWhileHeld = false;
      serverShut = false;
    }

    /** Reads what a held client sends beyond the held buffer, and drops it. */
    private void discard() throws IOException {
      discarded.clear();
      int read = client.read(discarded);
      if (read < 0) {
        clientEof = true;
      } else if (read > 0) {
        truncated = true;
      }
    }

    private SocketChannel connectBackend() throws IOException {
      SocketChannel s = SocketChannel.open();
      server = s;
      down = ByteBuffer.allocate(BUFFER_BYTES);
      s.configureBlocking(false);
      s.setOption(StandardSocketOptions.TCP_NODELAY, true);
      serverConnected = s.connect(backend);
      serverKey = s.register(loop.selector(), 0, this);
      return s;
    }

    /** Writes what {@code buffer} holds to {@code to}; returns how many bytes went. */
    private int flush(ByteBuffer buffer, SocketChannel to) throws IOException {
      if (buffer.position() == 0) {
        return 0;
      }
      buffer.flip();
      try {
        return to.write(buffer);
      } finally {
        buffer.compact();
      }
    }

    private void interest(boolean forwarding) {
      ByteBuffer d = down;
      int c = 0;
      if (!clientEof && (up.hasRemaining() || !forwarding)) {
        c |= SelectionKey.OP_READ; // held: read on, to see the client's close
      }
      if (forwarding && d != null && d.position() > 0) {
        c |= SelectionKey.OP_WRITE;
      }
      SelectionKey ck = clientKey;
      if (ck != null) {
        ck.interestOps(c);
      }
      SelectionKey sk = serverKey;
      if (sk != null && d != null) {
        int s = 0;
        if (!serverConnected) {
          s = SelectionKey.OP_CONNECT;
        } else {
          if (!serverEof && d.hasRemaining()) {
            s |= SelectionKey.OP_READ;
          }
          if (forwarding && up.position() > 0) {
            s |= SelectionKey.OP_WRITE;
          }
        }
        sk.interestOps(s);
      }
    }

    /** Resets both sides (TCP RST): SO_LINGER 0, then close. */
    void abort() {
      if (markClosed()) {
        linger0(client);
        SocketChannel s = server;
        if (s != null) {
          linger0(s);
        }
        closeBoth();
      }
    }

    /** Closes both sides normally (FIN), after the data written so far. */
    void closeGracefully() {
      if (markClosed()) {
        closeBoth();
      }
    }

    private boolean markClosed() {
      if (isClosed) {
        return false;
      }
      isClosed = true;
      connections.remove(this);
      open.decrementAndGet();
      return true;
    }

    private void closeBoth() {
      closeQuietly(client);
      closeQuietly(server);
    }
  }
}
