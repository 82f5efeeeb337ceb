package io.jbouncer.client;

import java.util.Locale;

/** Client connection states, printed as PgBouncer's SHOW CLIENTS prints them. */
public enum ClientState {
  /** Startup and authentication. */
  LOGIN,
  /** Logged in; linked to a server or not. */
  ACTIVE,
  /** Waiting in the pool's queue for a server. */
  WAITING,
  CLOSED;

  @Override
  public String toString() {
    return name().toLowerCase(Locale.ROOT);
  }
}
