package io.jbouncer.prepared;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import org.jspecify.annotations.Nullable;

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
  // what running it does to the session, as the client's relay judged its text at Parse (a Bind
  // runs it again with no text to judge): confined to that client's loop
  private @Nullable String sessionEffect;
  private boolean mayEndPin;
  private @Nullable String loneSetName;

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

  /**
   * Records what the statement does to the session: a pin reason or settings change ({@code
   * effect}), whether it may end a pin, and the parameter when it is one plain SET.
   */
  public void sessionEffects(
      @Nullable String effect, boolean mayEndPin, @Nullable String loneSetName) {
    this.sessionEffect = effect;
    this.mayEndPin = mayEndPin;
    this.loneSetName = loneSetName;
  }

  /** The parameter this statement SETs when it is one plain SET, else null. */
  public @Nullable String loneSetName() {
    return loneSetName;
  }

  /** The query text. */
  public String sql() {
    int nul = 0;
    while (nul < definition.length && definition[nul] != 0) {
      nul++;
    }
    return new String(definition, 0, nul, StandardCharsets.UTF_8);
  }

  public @Nullable String sessionEffect() {
    return sessionEffect;
  }

  public boolean mayEndPin() {
    return mayEndPin;
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
