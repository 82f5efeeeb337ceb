package io.jbouncer.pool;

/** A pool is one (PgBouncer database name, server user) pair, as in PgBouncer. */
public record PoolKey(String database, String user) {
  @Override
  public String toString() {
    return database + "/" + user;
  }
}
