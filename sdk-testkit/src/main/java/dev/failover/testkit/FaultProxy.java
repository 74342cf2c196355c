package dev.failover.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * A TCP proxy on the endpoint's public port in front of its WireMock server, which injects the
 * socket-level faults: refuse (nothing listens), hang (no byte forwarded) and reset (RST when the
 * response starts). One thread accepts; each connection has one thread per direction. All threads
 * come from the owner's executor; {@link #close()} closes the sockets and returns once every task
 * it submitted has returned.
 */
final class FaultProxy implements AutoCloseable {

  /** What the proxy does with connections. */
  enum Mode {
    OPEN,
    REFUSE,
    HANG,
    RESET
  }

  private static final int BACKLOG = 64;
  private static final int BACKEND_CONNECT_TIMEOUT_MILLIS = 2_000;
  private static final long HANG_POLL_MILLIS = 200;
  private static final long ACCEPTOR_STOP_TIMEOUT_MILLIS = 2_000;
  private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

  private final String name;
  private final InetSocketAddress backend;
  private final ExecutorService executor;
  private final Object lock = new Object();
  private final Object tasks = new Object();
  private int runningTasks; // guarded by tasks: submitted and not yet returned
  private final Set<Connection> connections = ConcurrentHashMap.newKeySet();
  private final AtomicInteger accepted = new AtomicInteger();
  private final int port;

  private volatile Mode mode = Mode.OPEN;
  private volatile boolean closed;
  private @Nullable ServerSocket serverSocket;
  private @Nullable CountDownLatch acceptorDone;

  FaultProxy(String name, int backendPort, ExecutorService executor) throws IOException {
    this.name = name;
    this.backend = new InetSocketAddress(LOOPBACK, backendPort);
    this.executor = executor;
    ServerSocket socket = bind(0);
    this.port = socket.getLocalPort();
    synchronized (lock) {
      serverSocket = socket;
      launchAcceptor(socket);
    }
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

  /** Connections open now. */
  int openConnections() {
    return connections.size();
  }

  /**
   * Switches the mode. REFUSE closes the listening socket and resets every open connection, and
   * returns once the port no longer accepts; leaving REFUSE listens on the same port again; leaving
   * HANG resumes stalled connections.
   *
   * @throws UncheckedIOException if the port cannot be bound again
   */
  void setMode(Mode next) {
    List<Connection> toAbort = List.of();
    CountDownLatch stopped = null;
    synchronized (lock) {
      if (closed || next == mode) {
        return;
      }
      Mode previous = mode;
      if (previous == Mode.REFUSE) {
        // The acceptor's thread closes the descriptor when it leaves accept(): wait for it.
        awaitAcceptorStopped();
        try {
          ServerSocket socket = bind(port);
          serverSocket = socket;
          launchAcceptor(socket);
        } catch (IOException e) {
          throw new UncheckedIOException(
              "cannot listen on 127.0.0.1:" + port + " again for " + name + ": " + e.getMessage(),
              e);
        }
      }
      // Set the mode before listing connections: handle() adds, then checks the mode.
      mode = next;
      if (next == Mode.REFUSE) {
        closeQuietly(serverSocket);
        serverSocket = null;
        toAbort = List.copyOf(connections);
        stopped = acceptorDone;
      }
      lock.notifyAll();
    }
    toAbort.forEach(Connection::abort);
    if (stopped != null) {
      awaitQuietly(stopped);
    }
  }

  /** Closes with a bound of 5 seconds; see {@link #close(long)}. */
  @Override
  public void close() {
    close(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ACCEPTOR_STOP_TIMEOUT_MILLIS));
  }

  /**
   * Closes the listening socket and resets every connection, then waits until every accept and pump
   * task of this proxy has returned, or until {@code deadlineNanos}.
   *
   * @throws IllegalStateException if a task is still running at the deadline
   */
  void close(long deadlineNanos) {
    List<Connection> open;
    synchronized (lock) {
      closed = true;
      closeQuietly(serverSocket);
      serverSocket = null;
      open = List.copyOf(connections);
      lock.notifyAll();
    }
    open.forEach(Connection::abort);
    awaitTasks(deadlineNanos);
  }

  /** Runs {@code task} on the executor, counted until it returns. */
  private void submit(Runnable task) {
    synchronized (tasks) {
      runningTasks++;
    }
    try {
      executor.execute(
          () -> {
            try {
              task.run();
            } finally {
              taskDone();
            }
          });
    } catch (RejectedExecutionException e) {
      taskDone();
      throw e;
    }
  }

  private void taskDone() {
    synchronized (tasks) {
      runningTasks--;
      tasks.notifyAll();
    }
  }

  private void awaitTasks(long deadlineNanos) {
    boolean interrupted = false;
    try {
      synchronized (tasks) {
        while (runningTasks > 0) {
          long remaining = deadlineNanos - System.nanoTime();
          if (remaining <= 0) {
            throw new IllegalStateException(
                "the proxy of " + name + " still has " + runningTasks + " running tasks");
          }
          try {
            TimeUnit.NANOSECONDS.timedWait(tasks, remaining);
          } catch (InterruptedException e) {
            interrupted = true;
          }
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private void awaitAcceptorStopped() {
    CountDownLatch done = acceptorDone;
    if (done != null) {
      awaitQuietly(done);
    }
  }

  private static void awaitQuietly(CountDownLatch latch) {
    try {
      if (!latch.await(ACCEPTOR_STOP_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS)) {
        throw new IllegalStateException(
            "the proxy's acceptor did not stop within " + ACCEPTOR_STOP_TIMEOUT_MILLIS + " ms");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static ServerSocket bind(int port) throws IOException {
    ServerSocket socket = new ServerSocket();
    try {
      socket.setReuseAddress(true);
      socket.bind(new InetSocketAddress(LOOPBACK, port), BACKLOG);
      return socket;
    } catch (IOException e) {
      socket.close();
      throw e;
    }
  }

  /** Starts accepting on {@code socket}; called with the lock held. */
  private void launchAcceptor(ServerSocket socket) {
    CountDownLatch done = new CountDownLatch(1);
    acceptorDone = done;
    try {
      submit(() -> acceptLoop(socket, done));
    } catch (RejectedExecutionException e) {
      closeQuietly(socket);
      done.countDown();
    }
  }

  private void acceptLoop(ServerSocket socket, CountDownLatch done) {
    Thread.currentThread().setName("failover-testkit-accept-" + name);
    try {
      while (!socket.isClosed()) {
        Socket client;
        try {
          client = socket.accept();
        } catch (IOException e) {
          return; // closed by refuse or close()
        }
        accepted.incrementAndGet();
        handle(client);
      }
    } finally {
      closeQuietly(socket);
      done.countDown();
    }
  }

  private void handle(Socket client) {
    Socket server = new Socket();
    Connection connection = new Connection(client, server);
    connections.add(connection);
    try {
      client.setTcpNoDelay(true);
      server.setTcpNoDelay(true);
      server.connect(backend, BACKEND_CONNECT_TIMEOUT_MILLIS);
      if (closed || mode == Mode.REFUSE) {
        connection.abort();
        return;
      }
      submit(() -> pump(connection, true));
      submit(() -> pump(connection, false));
    } catch (IOException | RejectedExecutionException e) {
      connection.abort();
    }
  }

  /** Copies bytes one way until end of stream, an error, or the connection is aborted. */
  private void pump(Connection connection, boolean toServer) {
    Thread.currentThread()
        .setName("failover-testkit-" + name + (toServer ? "-request" : "-response"));
    byte[] buffer = new byte[16 * 1024];
    try {
      InputStream in = (toServer ? connection.client : connection.server).getInputStream();
      OutputStream out = (toServer ? connection.server : connection.client).getOutputStream();
      while (!connection.isClosed()) {
        int n = in.read(buffer);
        if (!awaitForwarding(connection)) {
          return;
        }
        if (n < 0) {
          connection.closeGracefully();
          return;
        }
        if (!toServer && mode == Mode.RESET) {
          connection.abort();
          return;
        }
        out.write(buffer, 0, n);
        out.flush();
      }
    } catch (IOException e) {
      connection.abort();
    }
  }

  /** Waits while the proxy hangs; returns false if the connection or the proxy closed. */
  private boolean awaitForwarding(Connection connection) {
    synchronized (lock) {
      while (mode == Mode.HANG && !closed && !connection.isClosed()) {
        try {
          lock.wait(HANG_POLL_MILLIS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          connection.abort();
          return false;
        }
      }
      return !closed && !connection.isClosed();
    }
  }

  private static void closeQuietly(@Nullable AutoCloseable closeable) {
    if (closeable == null) {
      return;
    }
    try {
      closeable.close();
    } catch (Exception e) {
      // Nothing to do: the socket is going away either way.
    }
  }

  /** One proxied connection: the client's socket and the one to WireMock. */
  private final class Connection {
    final Socket client;
    final Socket server;
    private volatile boolean isClosed;

    Connection(Socket client, Socket server) {
      this.client = client;
      this.server = server;
    }

    boolean isClosed() {
      return isClosed;
    }

    /** Resets both sides (TCP RST): SO_LINGER 0, then close. */
    void abort() {
      isClosed = true;
      connections.remove(this);
      linger0(client);
      linger0(server);
      closeQuietly(client);
      closeQuietly(server);
    }

    /** Closes both sides normally (FIN), after the data written so far. */
    void closeGracefully() {
      isClosed = true;
      connections.remove(this);
      closeQuietly(client);
      closeQuietly(server);
    }

    private void linger0(Socket socket) {
      try {
        if (!socket.isClosed()) {
          socket.setSoLinger(true, 0);
        }
      } catch (IOException e) {
        // Already gone.
      }
    }
  }
}
