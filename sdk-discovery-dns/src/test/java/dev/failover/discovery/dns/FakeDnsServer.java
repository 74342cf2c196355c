package dev.failover.discovery.dns;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Section;

/**
 * A scripted DNS server on 127.0.0.1 for answers dnsmasq does not give (an SOA with a negative TTL,
 * SERVFAIL, stray packets): each query gets the datagrams {@code script} returns for it. One
 * thread, ended and joined by {@link #close()}.
 */
final class FakeDnsServer implements AutoCloseable {

  private final DatagramSocket socket;
  private final Thread thread;

  FakeDnsServer(Function<Message, List<byte[]>> script) throws IOException {
    socket = new DatagramSocket(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0));
    thread =
        new Thread(
            () -> {
              byte[] buffer = new byte[4096];
              while (!socket.isClosed()) {
                try {
                  DatagramPacket in = new DatagramPacket(buffer, buffer.length);
                  socket.receive(in);
                  Message query = new Message(Arrays.copyOf(buffer, in.getLength()));
                  for (byte[] out : script.apply(query)) {
                    socket.send(new DatagramPacket(out, out.length, in.getSocketAddress()));
                  }
                } catch (SocketException closed) {
                  return;
                } catch (IOException e) {
                  // a malformed query: ignore it
                }
              }
            },
            "fake-dns");
    thread.setDaemon(true);
    thread.start();
  }

  int port() {
    return socket.getLocalPort();
  }

  /** A response to {@code query}: same id and question, QR set, with {@code rcode}. */
  static Message responseTo(Message query, int rcode) {
    Message response = new Message(query.getHeader().getID());
    response.getHeader().setFlag(Flags.QR);
    response.getHeader().setRcode(rcode);
    response.addRecord(query.getQuestion(), Section.QUESTION);
    return response;
  }

  @Override
  public void close() {
    socket.close();
    try {
      thread.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
