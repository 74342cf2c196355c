package dev.failover.discovery.dns;

import dev.failover.Endpoint;
import dev.failover.Locality;
import java.io.IOException;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import okhttp3.HttpUrl;
import org.xbill.DNS.AAAARecord;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;
import org.xbill.DNS.SRVRecord;
import org.xbill.DNS.Type;

/** One complete lookup of a source: every query it needs, turned into a list of endpoints. */
interface Lookup {

  /** The endpoints found, sorted by locality then URL, and the TTL to look again after. */
  record Result(List<Endpoint> endpoints, long ttlSeconds) {
    /** The TTL when nothing in the answers gave one: look again after the minimum refresh. */
    static final long UNKNOWN_TTL = -1;
  }

  /**
   * Runs the queries.
   *
   * @throws IOException if a query failed, or a record could not be turned into an endpoint
   */
  Result run(DnsTransport transport) throws IOException;

  /** Orders endpoints the same way whatever order the server listed them in. */
  Comparator<Endpoint> ORDER =
      Comparator.comparing((Endpoint e) -> e.locality().region())
          .thenComparing(e -> e.locality().zone())
          .thenComparing(Endpoint::address);

  /** SRV records of one service name: {@code scheme://target:port}, weight from the record. */
  final class Srv implements Lookup {
    private final Name name;
    private final String scheme;
    private final Function<SrvTarget, Locality> locality;

    Srv(Name name, String scheme, Function<SrvTarget, Locality> locality) {
      this.name = name;
      this.scheme = scheme;
      this.locality = locality;
    }

    @Override
    public Result run(DnsTransport transport) throws IOException {
      DnsTransport.Answer answer = transport.query(name, Type.SRV);
      List<Endpoint> endpoints = new ArrayList<>();
      long ttl = Long.MAX_VALUE;
      for (Record r : answer.records()) {
        ttl = Math.min(ttl, r.getTTL()); // the SRV records and any CNAME leading to them
        if (!(r instanceof SRVRecord srv) || srv.getTarget().equals(Name.root)) {
          continue; // "." as target: RFC 2782's "service decidedly not available here"
        }
        SrvTarget target =
            new SrvTarget(
                srv.getTarget().toString(true), srv.getPort(), srv.getPriority(), srv.getWeight());
        endpoints.add(endpoint(target));
      }
      if (ttl == Long.MAX_VALUE) {
        ttl = answer.negativeTtl() >= 0 ? answer.negativeTtl() : Result.UNKNOWN_TTL;
      }
      endpoints.sort(ORDER);
      return new Result(List.copyOf(endpoints), ttl);
    }

    private Endpoint endpoint(SrvTarget target) throws IOException {
      Locality where;
      try {
        where =
            Objects.requireNonNull(locality.apply(target), "the locality mapping returned null");
      } catch (RuntimeException | Error e) {
        // An Error too (an AssertionError, a StackOverflowError): it fails this lookup like an
        // exception, and the next lookup follows after the backoff.
        String why = e instanceof Error || e.getMessage() == null ? e.toString() : e.getMessage();
        throw new IOException(
            "SRV record '" + target + "' of " + name + " has no locality: " + why, e);
      }
      try {
        HttpUrl url =
            new HttpUrl.Builder().scheme(scheme).host(target.host()).port(target.port()).build();
        return new Endpoint(url, where, weight(target.weight()));
      } catch (IllegalArgumentException e) {
        throw new IOException(
            "SRV record '"
                + target
                + "' of "
                + name
                + " is not a usable endpoint: "
                + e.getMessage(),
            e);
      }
    }

    @Override
    public String toString() {
      return "dns-srv " + name.toString(true);
    }
  }

  /**
   * The SRV weight as an endpoint weight: 0 (RFC 2782's "very small share") becomes 1, and weights
   * above 10,000 become 10,000, the endpoint maximum.
   */
  static int weight(int srvWeight) {
    return Math.max(1, Math.min(10_000, srvWeight));
  }

  /** A and AAAA records of one name per zone: {@code scheme://address:port}, default weight. */
  final class Addresses implements Lookup {
    private final Map<Locality, Name> namesByZone;
    private final String scheme;
    private final int port;
    private final boolean ipv4;
    private final boolean ipv6;

    Addresses(
        Map<Locality, Name> namesByZone, String scheme, int port, boolean ipv4, boolean ipv6) {
      this.namesByZone = namesByZone;
      this.scheme = scheme;
      this.port = port;
      this.ipv4 = ipv4;
      this.ipv6 = ipv6;
    }

    @Override
    public Result run(DnsTransport transport) throws IOException {
      List<Endpoint> endpoints = new ArrayList<>();
      long ttl = Long.MAX_VALUE;
      for (Map.Entry<Locality, Name> zone : namesByZone.entrySet()) {
        List<Integer> types = new ArrayList<>(2);
        if (ipv4) {
          types.add(Type.A);
        }
        if (ipv6) {
          types.add(Type.AAAA);
        }
        for (int type : types) {
          DnsTransport.Answer answer = transport.query(zone.getValue(), type);
          boolean found = false;
          for (Record r : answer.records()) {
            ttl = Math.min(ttl, r.getTTL());
            InetAddress address = null;
            if (r instanceof ARecord a) {
              address = a.getAddress();
            } else if (r instanceof AAAARecord aaaa) {
              address = aaaa.getAddress();
            }
            if (address != null) {
              found = true;
              endpoints.add(endpoint(address, zone.getKey()));
            }
          }
          if (!found && answer.negativeTtl() >= 0) {
            // Without an SOA (NXDOMAIN or no data), the other names' TTLs decide.
            ttl = Math.min(ttl, answer.negativeTtl());
          }
        }
      }
      endpoints.sort(ORDER);
      return new Result(List.copyOf(endpoints), ttl == Long.MAX_VALUE ? Result.UNKNOWN_TTL : ttl);
    }

    private Endpoint endpoint(InetAddress address, Locality locality) {
      String host = address.getHostAddress();
      int scope = host.indexOf('%');
      if (scope >= 0) {
        host = host.substring(0, scope); // a URL has no room for an IPv6 scope id
      }
      HttpUrl url = new HttpUrl.Builder().scheme(scheme).host(host).port(port).build();
      return new Endpoint(url, locality, Endpoint.DEFAULT_WEIGHT);
    }

    @Override
    public String toString() {
      String types = "a+aaaa";
      if (!ipv6) {
        types = "a";
      } else if (!ipv4) {
        types = "aaaa";
      }
      StringBuilder s = new StringBuilder("dns-").append(types);
      namesByZone.forEach(
          (l, n) -> s.append(' ').append(l.zone()).append('=').append(n.toString(true)));
      return s.toString();
    }
  }
}
