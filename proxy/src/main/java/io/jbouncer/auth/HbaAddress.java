package io.jbouncer.auth;

import io.netty.util.NetUtil;
import java.net.InetAddress;
import java.util.Arrays;
import org.jspecify.annotations.Nullable;

/**
 * The address field of a {@code host*} rule: {@code all}, {@code address/bits}, or an address and a
 * netmask column. Immutable.
 *
 * <p>IPv4-mapped IPv6 addresses ({@code ::ffff:a.b.c.d}) are compared as the IPv4 addresses they
 * carry, on both sides: a client on a dual-stack socket may be reported either way, and Java turns
 * mapped addresses into {@code Inet4Address} anyway. Otherwise an IPv4 rule matches only IPv4
 * clients and an IPv6 rule only IPv6 clients ({@code ::/0} does not match IPv4 clients), as in
 * PgBouncer and PostgreSQL.
 */
public final class HbaAddress {
  private static final HbaAddress ALL = new HbaAddress("all", null, null);

  private final String text;
  private final byte @Nullable [] network;
  private final byte @Nullable [] mask;

  private HbaAddress(String text, byte @Nullable [] network, byte @Nullable [] mask) {
    this.text = text;
    this.network = network;
    this.mask = mask;
  }

  /** The {@code all} keyword: any client address. */
  public static HbaAddress all() {
    return ALL;
  }

  /** Whether this is the {@code all} keyword. */
  public boolean isAll() {
    return network == null;
  }

  /** Whether a TCP client with this address falls in the range. */
  public boolean matches(InetAddress client) {
    if (network == null || mask == null) {
      return true;
    }
    byte[] bytes = unmap(client.getAddress());
    if (bytes.length != network.length) {
      return false;
    }
    for (int i = 0; i < bytes.length; i++) {
      if ((bytes[i] & mask[i]) != network[i]) {
        return false;
      }
    }
    return true;
  }

  /** As written in the file: {@code all}, {@code 10.0.0.0/8} or {@code 10.0.0.0 255.0.0.0}. */
  @Override
  public String toString() {
    return text;
  }

  /**
   * Parses {@code address[/bits]} and, when there is no {@code /bits}, the netmask column.
   *
   * @param netmask the next field, {@code null} if the line ends; ignored with {@code /bits}
   * @throws IllegalArgumentException with the operator-ready reason
   */
  static HbaAddress parse(String address, @Nullable String netmask) {
    int slash = address.indexOf('/');
    String host = slash < 0 ? address : address.substring(0, slash);
    byte[] network = parseIp(host);
    if (network == null) {
      throw new IllegalArgumentException(
          "invalid address \""
              + address
              + "\" (expected: all, an IP address with /bits, or an IP address and a netmask;"
              + " host names, samehost and samenet are not supported)");
    }
    byte[] mask;
    String text;
    if (slash >= 0) {
      String bits = address.substring(slash + 1);
      int max = network.length * 8;
      int length = parseBits(bits, max);
      if (length < 0) {
        throw new IllegalArgumentException(
            "invalid prefix length \"" + bits + "\" in " + address + " (expected: 0.." + max + ")");
      }
      mask = prefixMask(network.length, length);
      text = address;
    } else {
      if (netmask == null) {
        throw new IllegalArgumentException(
            "missing netmask after " + address + " (expected: " + example(host, network) + ")");
      }
      mask = parseIp(netmask);
      if (mask == null || mask.length != network.length) {
        throw new IllegalArgumentException(
            "invalid netmask \""
                + netmask
                + "\" after "
                + address
                + " (expected: "
                + example(host, network)
                + ")");
      }
      text = address + " " + netmask;
    }
    for (int i = 0; i < network.length; i++) {
      if ((network[i] & ~mask[i]) != 0) {
        throw new IllegalArgumentException(
            text
                + ": the address has bits set outside the mask (expected: "
                + fixed(text, network, mask)
                + ")");
      }
    }
    if (network.length == 16 && isMapped(network) && isMapped96(mask)) {
      network = Arrays.copyOfRange(network, 12, 16);
      mask = Arrays.copyOfRange(mask, 12, 16);
    }
    return new HbaAddress(text, network, mask);
  }

  private static String example(String host, byte[] network) {
    return network.length == 4
        ? "a netmask column like " + host + " 255.255.255.255, or " + host + "/32"
        : "a netmask column like "
            + host
            + " ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff, or "
            + host
            + "/128";
  }

  private static String fixed(String text, byte[] network, byte[] mask) {
    byte[] masked = new byte[network.length];
    for (int i = 0; i < network.length; i++) {
      masked[i] = (byte) (network[i] & mask[i]);
    }
    String base = NetUtil.bytesToIpAddress(masked);
    int cut = text.indexOf('/') >= 0 ? text.indexOf('/') : text.indexOf(' ');
    return base + text.substring(cut);
  }

  /** A numeric IPv4 (dotted quad, as inet_pton takes it) or IPv6 address; null if it is not one. */
  static byte @Nullable [] parseIp(String s) {
    if (s.indexOf(':') >= 0) {
      if (s.indexOf('%') >= 0 || s.indexOf('[') >= 0 || !NetUtil.isValidIpV6Address(s)) {
        return null;
      }
      byte[] bytes = NetUtil.createByteArrayFromIpAddressString(s);
      return bytes != null && bytes.length == 16 ? bytes : null;
    }
    String[] parts = s.split("\\.", -1);
    if (parts.length != 4) {
      return null;
    }
    byte[] bytes = new byte[4];
    for (int i = 0; i < 4; i++) {
      int octet = parseDecimal(parts[i], 3);
      if (octet < 0 || octet > 255 || (parts[i].length() > 1 && parts[i].charAt(0) == '0')) {
        return null;
      }
      bytes[i] = (byte) octet;
    }
    return bytes;
  }

  private static int parseBits(String s, int max) {
    int bits = parseDecimal(s, 3);
    return bits > max ? -1 : bits;
  }

  /** Up to {@code maxDigits} ASCII digits; -1 for anything else. */
  private static int parseDecimal(String s, int maxDigits) {
    if (s.isEmpty() || s.length() > maxDigits) {
      return -1;
    }
    int value = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      value = value * 10 + (c - '0');
    }
    return value;
  }

  private static byte[] prefixMask(int length, int bits) {
    byte[] mask = new byte[length];
    for (int i = 0; i < length; i++) {
      int remaining = bits - i * 8;
      mask[i] =
          remaining >= 8 ? (byte) 0xff : remaining <= 0 ? 0 : (byte) (0xff << (8 - remaining));
    }
    return mask;
  }

  /** IPv4-mapped IPv6 bytes become the IPv4 bytes; anything else is returned as is. */
  private static byte[] unmap(byte[] bytes) {
    return bytes.length == 16 && isMapped(bytes) ? Arrays.copyOfRange(bytes, 12, 16) : bytes;
  }

  /** {@code ::ffff:0:0/96}, the IPv4-mapped range. */
  private static boolean isMapped(byte[] bytes) {
    for (int i = 0; i < 10; i++) {
      if (bytes[i] != 0) {
        return false;
      }
    }
    return bytes[10] == (byte) 0xff && bytes[11] == (byte) 0xff;
  }

  /** A mask that covers at least the 96 bits of the mapped prefix. */
  private static boolean isMapped96(byte[] mask) {
    for (int i = 0; i < 12; i++) {
      if (mask[i] != (byte) 0xff) {
        return false;
      }
    }
    return true;
  }
}
