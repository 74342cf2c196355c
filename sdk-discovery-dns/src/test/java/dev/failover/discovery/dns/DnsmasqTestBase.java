package dev.failover.discovery.dns;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;

/**
 * What the tests against a real dnsmasq share: skipped without dnsmasq, a recorder for the source's
 * reports, and the source and dnsmasq closed after each test.
 */
abstract class DnsmasqTestBase {

  final RecordingUpdates updates = new RecordingUpdates();
  Dnsmasq dns;
  DnsEndpointSource source;

  @BeforeAll
  static void dnsmasqInstalled() {
    Dnsmasq.assumeInstalled();
  }

  @AfterEach
  void closeSourceAndDnsmasq() {
    if (source != null) {
      source.close();
    }
    if (dns != null) {
      dns.close();
    }
  }
}
