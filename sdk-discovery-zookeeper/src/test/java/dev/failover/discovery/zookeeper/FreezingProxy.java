package dev.failover.discovery.zookeeper;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP proxy on 127.0.0.1 to a ZooKeeper that can freeze: once frozen, it keeps every connection
 * open and accepts new ones, but forwards nothing more either way, as a ZooKeeper whose process is
 * stopped (or a network that drops packets without a reset) does.
 */
final class FreezingProxy implements AutoCloseable {

  private final ServerSocket listener;
  private final int targetPort;
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();
  private final List<Thread> threads = new CopyOnWriteArrayList<>();
  private final Object lock = new Object();
  private boolean frozen;
  private boolean closed;

  FreezingProxy(int targetPort) throws IOException {
    this.targetPort = targetPort;
    listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    start("accept", this::accept);
  }

  String connectString() {
    return "127.0.0.1:" + listener.getLocalPort();
  }

  void freeze() {
    synchronized (lock) {
      frozen = true;
    }
  }

  private void start(String name, Runnable task) {
    Thread thread = new Thread(task, "freezing-proxy-" + name);
    thread.setDaemon(true);
    threads.add(thread);
    thread.start();
  }

  private void accept() {
    try {
      while (true) {
        Socket client = listener.accept();
        sockets.add(client);
        if (isFrozen()) {
          continue; // held open, never answered
        }
        Socket server = new Socket();
        sockets.add(server);
        server.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), targetPort));
        start("up", () -> pump(client, server));
        start("down", () -> pump(server, client));
      }
    } catch (IOException e) {
      // closed
    }
  }

  private void pump(Socket from, Socket to) {
    byte[] buffer = new byte[8192];
    try (InputStream in = from.getInputStream();
        OutputStream out = to.getOutputStream()) {
      int n;
      while ((n = in.read(buffer)) >= 0) {
        if (awaitThawOrClose()) {
          return;
        }
        out.write(buffer, 0, n);
        out.flush();
      }
    } catch (IOException e) {
      // a side closed
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private boolean isFrozen() {
    synchronized (lock) {
      return frozen;
    }
  }

  /** Blocks while frozen; returns whether the proxy was closed. */
  private boolean awaitThawOrClose() throws InterruptedException {
    synchronized (lock) {
      while (frozen && !closed) {
        lock.wait();
      }
      return closed;
    }
  }

  @Override
  public void close() throws IOException {
    synchronized (lock) {
      closed = true;
      lock.notifyAll();
    }
    listener.close();
    for (Socket socket : sockets) {
      socket.close();
    }
    for (Thread thread : threads) {
      try {
        thread.join(5_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }
}
