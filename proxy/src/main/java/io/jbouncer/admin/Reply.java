package io.jbouncer.admin;

import io.jbouncer.protocol.SqlState;
import java.util.Map;

/** What the admin console answers to one command; always followed by ReadyForQuery 'I'. */
sealed interface Reply {
  /** A SHOW result: RowDescription, DataRows, CommandComplete {@code SHOW}. */
  record Rows(Table table) implements Reply {}

  /** A command done: CommandComplete with {@code tag}, after an optional NoticeResponse. */
  record Done(String tag, Map<Character, String> notice) implements Reply {
    Done(String tag) {
      this(tag, Map.of());
    }
  }

  /** ErrorResponse (severity ERROR), as PgBouncer's {@code admin_error}. */
  record Error(String sqlState, String message) implements Reply {
    Error(String message) {
      this(SqlState.PROTOCOL_VIOLATION, message);
    }
  }
}
