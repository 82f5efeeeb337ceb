package io.jbouncer.net;

import io.jbouncer.config.Settings;
import io.netty.resolver.AddressResolverGroup;
import io.netty.resolver.dns.DnsAddressResolverGroup;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import io.netty.resolver.dns.DnsServerAddressStreamProviders;
import java.net.InetSocketAddress;

/**
 * Host names of servers, resolved by Netty's asynchronous DNS resolver on the event loop that
 * connects, so a slow DNS server never blocks a loop (the JDK's resolver would). The hosts file is
 * read first, then the name servers of {@code /etc/resolv.conf}.
 *
 * <p>As in PgBouncer, answers are kept {@code dns_max_ttl} whatever TTL the record carries, and
 * failures (NXDOMAIN) {@code dns_nxdomain_ttl}.
 */
public final class Dns {
  private Dns() {}

  /** One resolver per event loop, sharing nothing; close the group on shutdown. */
  public static AddressResolverGroup<InetSocketAddress> resolvers(
      Transport transport, Settings settings) {
    int ttl = seconds(settings.dnsMaxTtl().toMillis());
    return new DnsAddressResolverGroup(
        new DnsNameResolverBuilder()
            .datagramChannelType(transport.datagramChannel())
            .nameServerProvider(DnsServerAddressStreamProviders.platformDefault())
            .ttl(ttl, ttl)
            .negativeTtl(seconds(settings.dnsNxdomainTtl().toMillis())));
  }

  /** Whole seconds, rounded up so that 0.5 still caches (DNS TTLs are whole seconds). */
  private static int seconds(long millis) {
    return (int) Math.min(Integer.MAX_VALUE, (millis + 999) / 1000);
  }
}
