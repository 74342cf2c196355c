package dev.failover.benchmarks;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import javax.net.SocketFactory;

/**
 * Sockets that answer in memory, as a server on the other end would: every HTTP/1.1 request written
 * to one (a request without a body, its head ending at an empty line) is answered at once with the
 * same canned {@code 200} and a {@code Content-Length}, which the socket's input then yields. No
 * thread and no kernel: OkHttp runs its whole network path (connection, pool, codec, network
 * interceptors, the response's reading) on the caller's thread, so a client built on it does
 * everything it does for a real answer, judgement included, with nothing else to measure.
 *
 * <p>A read with nothing to read fails as a read timeout would: a request answered in memory never
 * leaves one waiting. Bodies of requests are not supported (a benchmark of GETs).
 */
final class InMemorySockets extends SocketFactory {
  private static final byte[] ANSWER =
      String.join(
              "\r\n", "HTTP/1.1 200 OK", "Content-Type: text/plain", "Content-Length: 2", "", "ok")
          .getBytes(StandardCharsets.ISO_8859_1);

  @Override
  public Socket createSocket() {
    return new AnsweringSocket();
  }

  @Override
  public Socket createSocket(String host, int port) {
    return new AnsweringSocket();
  }

  @Override
  public Socket createSocket(String host, int port, InetAddress localHost, int localPort) {
    return new AnsweringSocket();
  }

  @Override
  public Socket createSocket(InetAddress host, int port) {
    return new AnsweringSocket();
  }

  @Override
  public Socket createSocket(
      InetAddress address, int port, InetAddress localAddress, int localPort) {
    return new AnsweringSocket();
  }

  /** One connection: what is written is a request, what is read its answer. */
  private static final class AnsweringSocket extends Socket {
    /** Answers not read yet, from {@link #readAt} to {@link #readEnd}. */
    private byte[] pending = new byte[4 * ANSWER.length];

    private int readAt;
    private int readEnd;

    /** How many bytes of an empty line (CR LF CR LF) the request has just written. */
    private int endOfHead;

    private volatile boolean closed;
    private boolean connected;
    private int soTimeout;
    private @org.jspecify.annotations.Nullable InetSocketAddress remote;

    private final InputStream in =
        new InputStream() {
          @Override
          public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) == -1 ? -1 : one[0] & 0xff;
          }

          @Override
          public int read(byte[] b, int off, int len) throws IOException {
            synchronized (AnsweringSocket.this) {
              if (closed) {
                throw new SocketException("Socket closed");
              }
              if (len == 0) {
                return 0;
              }
              if (readAt == readEnd) {
                throw new SocketTimeoutException("Read timed out (nothing was asked)");
              }
              int n = Math.min(len, readEnd - readAt);
              System.arraycopy(pending, readAt, b, off, n);
              readAt += n;
              return n;
            }
          }

          @Override
          public int available() {
            synchronized (AnsweringSocket.this) {
              return readEnd - readAt;
            }
          }
        };

    private final OutputStream out =
        new OutputStream() {
          @Override
          public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
          }

          @Override
          public void write(byte[] b, int off, int len) throws IOException {
            synchronized (AnsweringSocket.this) {
              if (closed) {
                throw new SocketException("Socket closed");
              }
              for (int i = off; i < off + len; i++) {
                byte c = b[i];
                boolean expected = c == ((endOfHead % 2 == 0) ? '\r' : '\n');
                endOfHead = expected ? endOfHead + 1 : (c == '\r' ? 1 : 0);
                if (endOfHead == 4) {
                  endOfHead = 0;
                  answer();
                }
              }
            }
          }
        };

    /** Queues the canned answer. Caller holds this socket's monitor. */
    private void answer() {
      if (readAt == readEnd) {
        readAt = 0;
        readEnd = 0;
      }
      if (readEnd + ANSWER.length > pending.length) {
        byte[] larger = new byte[Math.max(2 * pending.length, readEnd - readAt + ANSWER.length)];
        System.arraycopy(pending, readAt, larger, 0, readEnd - readAt);
        readEnd -= readAt;
        readAt = 0;
        pending = larger;
      }
      System.arraycopy(ANSWER, 0, pending, readEnd, ANSWER.length);
      readEnd += ANSWER.length;
    }

    @Override
    public void connect(SocketAddress endpoint, int timeout) {
      remote = (InetSocketAddress) endpoint;
      connected = true;
    }

    @Override
    public void connect(SocketAddress endpoint) {
      connect(endpoint, 0);
    }

    @Override
    public InputStream getInputStream() {
      return in;
    }

    @Override
    public OutputStream getOutputStream() {
      return out;
    }

    @Override
    public synchronized void setSoTimeout(int timeout) {
      soTimeout = timeout;
    }

    @Override
    public synchronized int getSoTimeout() {
      return soTimeout;
    }

    @Override
    public boolean isConnected() {
      return connected;
    }

    @Override
    public boolean isClosed() {
      return closed;
    }

    @Override
    public boolean isInputShutdown() {
      return closed;
    }

    @Override
    public boolean isOutputShutdown() {
      return closed;
    }

    @Override
    public synchronized void close() {
      closed = true;
    }

    @Override
    public void shutdownInput() {
      closed = true;
    }

    @Override
    public void shutdownOutput() {
      closed = true;
    }

    @Override
    public @org.jspecify.annotations.Nullable InetAddress getInetAddress() {
      InetSocketAddress r = remote;
      return r == null ? null : r.getAddress();
    }

    @Override
    public int getPort() {
      InetSocketAddress r = remote;
      return r == null ? 0 : r.getPort();
    }

    @Override
    public @org.jspecify.annotations.Nullable SocketAddress getRemoteSocketAddress() {
      return remote;
    }

    @Override
    public InetAddress getLocalAddress() {
      return InetAddress.getLoopbackAddress();
    }

    @Override
    public int getLocalPort() {
      return 40_000;
    }

    @Override
    public SocketAddress getLocalSocketAddress() {
      return new InetSocketAddress(getLocalAddress(), getLocalPort());
    }

    @Override
    public void setTcpNoDelay(boolean on) {}

    @Override
    public void setKeepAlive(boolean on) {}

    @Override
    public String toString() {
      return "InMemorySocket[" + remote + "]";
    }
  }
}
