package io.jbouncer.server;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/** Server connection states, named and printed as PgBouncer's SHOW SERVERS prints them. */
public enum ServerState {
  /** Connecting and logging in ({@code new} in SHOW SERVERS). */
  LOGIN("new"),
  /** In the pool, ready for a client. */
  IDLE("idle"),
  /** Linked to a client. */
  ACTIVE("active"),
  /** Running {@code server_reset_query} or {@code server_check_query} before going idle. */
  TESTED("tested"),
  /** Released while a cancel request for its last client is still in flight. */
  BEING_CANCELED("being_canceled"),
  CLOSED("closed");

  private final String showName;

  ServerState(String showName) {
    this.showName = showName;
  }

  public String showName() {
    return showName;
  }

  boolean canMoveTo(ServerState next) {
    return next == CLOSED || allowed().contains(next);
  }

  private Set<ServerState> allowed() {
    return switch (this) {
      case LOGIN -> EnumSet.of(IDLE, ACTIVE);
      case IDLE -> EnumSet.of(ACTIVE, TESTED);
      case ACTIVE -> EnumSet.of(IDLE, ACTIVE, TESTED, BEING_CANCELED);
      case TESTED -> EnumSet.of(IDLE, ACTIVE);
      case BEING_CANCELED -> EnumSet.of(IDLE, ACTIVE, TESTED);
      case CLOSED -> EnumSet.noneOf(ServerState.class);
    };
  }

  @Override
  public String toString() {
    return name().toLowerCase(Locale.ROOT);
  }
}
