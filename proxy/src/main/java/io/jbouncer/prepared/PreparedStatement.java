package io.jbouncer.prepared;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * A named statement a client prepared: its definition (query text and parameter types, the bytes of
 * its Parse after the name) and the name it has on every server. The server name is derived from
 * the definition, so every client that prepares the same text with the same types shares one
 * statement per server, with no registry shared between event loops.
 */
public final class PreparedStatement {
  /** Prefix of server-side names; a client that uses it for its own names may collide with ours. */
  public static final String PREFIX = "jbouncer_";

  private final String serverName;
  private final byte[] definition;

  private PreparedStatement(String serverName, byte[] definition) {
    this.serverName = serverName;
    this.definition = definition;
  }

  /** 96 bits of SHA-256: a collision between two definitions is not a practical concern. */
  public static PreparedStatement of(byte[] definition) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(definition);
      return new PreparedStatement(PREFIX + HexFormat.of().formatHex(digest, 0, 12), definition);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }

  public String serverName() {
    return serverName;
  }

  /** The Parse body after the name; not to be modified. */
  byte[] definition() {
    return definition;
  }

  @Override
  public String toString() {
    return serverName;
  }
}
