package io.jbouncer.config;

/**
 * jbouncer's own {@code session_state}: what transaction and statement pooling do with a client
 * that creates state living in its server's session (LISTEN, a session advisory lock, a temporary
 * table, a WITH HOLD cursor, SQL PREPARE, an unreported SET).
 */
public enum SessionStatePolicy {
  /** Keep the client on its server until DISCARD ALL or its end (the default). */
  PIN,
  /** Refuse the statement with SQLSTATE 0A000, naming the feature. */
  ERROR,
  /** PgBouncer's behaviour: forward it, and the state stays with whichever server ran it. */
  ALLOW;

  public String iniName() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
