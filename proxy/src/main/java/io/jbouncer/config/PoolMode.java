package io.jbouncer.config;

/** When a server connection goes back to the pool (PgBouncer's {@code pool_mode}). */
public enum PoolMode {
  /** After the client disconnects. */
  SESSION,
  /** After each transaction (ReadyForQuery 'I' with nothing outstanding). */
  TRANSACTION,
  /** After each statement; multi-statement transactions are refused. */
  STATEMENT;

  /** The value as PgBouncer prints it in SHOW commands and accepts in pgbouncer.ini. */
  public String iniName() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
