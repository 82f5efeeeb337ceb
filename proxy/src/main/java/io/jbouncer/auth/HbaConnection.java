package io.jbouncer.auth;

import java.net.InetAddress;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * What {@link HbaRules#match} needs to know about a client connection besides the database and user
 * it asked for.
 *
 * @param kind how the client reached jbouncer
 * @param address the client's IP address; {@code null} exactly when {@code kind} is {@link
 *     Kind#LOCAL}
 * @param physicalReplication the startup packet asked for {@code replication=true} (a physical
 *     replication connection): such connections match only rules whose database field has the
 *     {@code replication} keyword, and only those. Logical replication ({@code
 *     replication=database}) is matched by database name like an ordinary connection.
 */
public record HbaConnection(Kind kind, @Nullable InetAddress address, boolean physicalReplication) {

  /** The transport, as the HBA record types distinguish it. */
  public enum Kind {
    /** A Unix-domain socket: matches {@code local} records. */
    LOCAL,
    /** Plain TCP: matches {@code host} and {@code hostnossl}. */
    HOST,
    /** TCP with TLS: matches {@code host} and {@code hostssl}. */
    HOST_SSL
  }

  public HbaConnection {
    Objects.requireNonNull(kind, "kind");
    if ((kind == Kind.LOCAL) != (address == null)) {
      throw new IllegalArgumentException(
          kind + " connection with address " + address + " (expected: an address only for TCP)");
    }
  }

  /** An ordinary (not physical replication) connection. */
  public HbaConnection(Kind kind, @Nullable InetAddress address) {
    this(kind, address, false);
  }
}
