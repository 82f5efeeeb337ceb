package io.jbouncer.log;

import java.net.InetSocketAddress;
import java.net.SocketAddress;

/** PgBouncer's log prefixes: {@code C-<id>: db/user@addr:port} and {@code S-<id>: ...}. */
public final class Conn {
  private Conn() {}

  public static String prefix(char kind, long id, String db, String user, SocketAddress address) {
    return kind
        + "-"
        + id
        + ": "
        + (db == null ? "(nodb)" : db)
        + "/"
        + (user == null ? "(nouser)" : user)
        + "@"
        + address(address);
  }

  public static String address(SocketAddress address) {
    if (address instanceof InetSocketAddress inet) {
      return (inet.getAddress() != null ? inet.getAddress().getHostAddress() : inet.getHostString())
          + ":"
          + inet.getPort();
    }
    return String.valueOf(address);
  }
}
