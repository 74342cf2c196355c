package dev.failover.discovery.dns;

import static dev.failover.discovery.dns.FakeDnsServer.responseTo;
import static org.assertj.core.api.Assertions.assertThat;

import dev.failover.Endpoint;
import dev.failover.EndpointSource;
import dev.failover.Locality;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.SRVRecord;
import org.xbill.DNS.Section;

/**
 * The application's code on the source's thread, against a scripted DNS server on 127.0.0.1: a
 * callback that closes the source, and a locality mapping or a callback that throws an Error.
 */
class DnsSourceUserCodeTest {

  private static final String SERVICE = "_directory._tcp.example.internal";
  private static final Name SERVICE_NAME = Name.fromConstantString(SERVICE + ".");
  private static final Duration WAIT = RecordingUpdates.WAIT;

  private final RecordingUpdates updates = new RecordingUpdates();
  private FakeDnsServer server;
  private DnsEndpointSource source;

  /** Answers every query with one SRV record, a1.us-east-1a.dir.internal:8080, TTL 1 s. */
  private static FakeDnsServer oneRecord() throws IOException {
    return new FakeDnsServer(
        query -> {
          Message m = responseTo(query, Rcode.NOERROR);
          m.addRecord(
              new SRVRecord(
                  SERVICE_NAME,
                  DClass.IN,
                  1,
                  0,
                  10,
                  8080,
                  Name.fromConstantString("a1.us-east-1a.dir.internal.")),
              Section.ANSWER);
          return List.of(m.toWire());
        });
  }

  private DnsEndpointSource.Builder source(Function<SrvTarget, Locality> locality) {
    return DnsSrvSourceTest.fast(
        DnsEndpointSource.srv(SERVICE).server("127.0.0.1", server.port()).locality(locality));
  }

  @AfterEach
  void closeAll() {
    if (source != null) {
      source.close();
    }
    if (server != null) {
      server.close();
    }
  }

  /**
   * A callback that closes the source runs on the source's thread (the client's listeners are told
   * there, and one may close the client): close() must not interrupt that thread, or whatever the
   * caller does next (the client's own bounded waits for its threads) returns at once.
   */
  @Test
  void closedFromItsOwnCallbackTheCallingThreadIsNotInterruptedAndTheThreadEnds() throws Exception {
    server = oneRecord();
    source = source(SrvLocalities.zoneLabel(1)).build();
    AtomicReference<Thread> callbackThread = new AtomicReference<>();
    AtomicReference<Boolean> interruptedAfterClose = new AtomicReference<>();
    CountDownLatch closed = new CountDownLatch(1);
    source.start(
        new EndpointSource.Updates() {
          @Override
          public void endpoints(List<Endpoint> endpoints) {
            if (callbackThread.compareAndSet(null, Thread.currentThread())) {
              source.close();
              interruptedAfterClose.set(Thread.currentThread().isInterrupted());
              closed.countDown();
            }
          }

          @Override
          public void failed(Throwable cause) {}
        });

    assertThat(closed.await(WAIT.toMillis(), TimeUnit.MILLISECONDS))
        .as("the first list was reported")
        .isTrue();

    Thread thread = callbackThread.get();
    assertThat(thread.getName()).isEqualTo(DnsEndpointSource.THREAD_NAME_PREFIX + source);
    assertThat(interruptedAfterClose.get())
        .as("the calling thread interrupted by close()")
        .isFalse();
    thread.join(WAIT.toMillis());
    assertThat(thread.isAlive()).as("the source's thread still alive").isFalse();
  }

  /**
   * A locality mapping that throws an Error fails that lookup like an exception, and the next
   * lookup follows: escaping, the Error was kept by the executor's FutureTask, nothing was reported
   * and no lookup followed, ever.
   */
  @Test
  void aLocalityMappingThatThrowsAnErrorFailsOneLookupAndTheNextWorks() throws Exception {
    server = oneRecord();
    AtomicBoolean thrown = new AtomicBoolean();
    Function<SrvTarget, Locality> zoneLabel = SrvLocalities.zoneLabel(1);
    source =
        source(
                target -> {
                  if (thrown.compareAndSet(false, true)) {
                    throw new AssertionError("mapping bug");
                  }
                  return zoneLabel.apply(target);
                })
            .build();
    source.start(updates);

    Throwable failure = updates.awaitFailure(0);
    assertThat(failure)
        .isInstanceOf(IOException.class)
        .hasMessageContaining("a1.us-east-1a.dir.internal")
        .hasMessageContaining("has no locality: java.lang.AssertionError: mapping bug")
        .hasCauseInstanceOf(AssertionError.class);
    assertThat(updates.awaitList(0))
        .containsExactly(
            Endpoint.of("http://a1.us-east-1a.dir.internal:8080", "us-east-1", "us-east-1a")
                .withWeight(10));
  }

  /**
   * The client's callback throwing an Error is logged and ignored like an exception: the lookups go
   * on. Escaping, it ended them for good.
   */
  @Test
  void aCallbackThatThrowsAnErrorDoesNotStopTheLookups() throws Exception {
    server = oneRecord();
    source = source(SrvLocalities.zoneLabel(1)).build();
    AtomicInteger calls = new AtomicInteger();
    source.start(
        new EndpointSource.Updates() {
          @Override
          public void endpoints(List<Endpoint> endpoints) {
            if (calls.incrementAndGet() == 1) {
              throw new StackOverflowError("callback bug");
            }
            updates.endpoints(endpoints);
          }

          @Override
          public void failed(Throwable cause) {
            updates.failed(cause);
          }
        });

    assertThat(updates.awaitList(0)).hasSize(1);
    assertThat(calls.get()).isGreaterThanOrEqualTo(2);
  }
}
