package io.jbouncer.client;

import io.jbouncer.protocol.backend.DataRow;
import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Asks a server, once a client's transaction is over and before the server could go back to the
 * pool, what of that client's session lives on it: the settings its SETs left (any parameter
 * PostgreSQL does not report, set_config(..., false), SET SESSION CHARACTERISTICS) and the state
 * that pins (LISTEN, advisory locks, temporary tables, WITH HOLD cursors, SQL-level prepared
 * statements, a role). Sent only after a statement that may have changed one of them, so ordinary
 * transactions never pay for it; the server answers with its own truth, which no statement parser
 * could: a SET rolled back, or undone by ROLLBACK TO SAVEPOINT, is simply not there.
 *
 * <p>Settings are replayed, with set_config, on whichever server the client gets next, and reset on
 * a server the next client does not want them on; pins keep the server for the client until the
 * check finds none left (UNLISTEN *, unlock, DROP, DISCARD ALL).
 */
final class SessionCheck {
  /** One row per session setting ('s', name, value), one per kind of pinning state ('p', why). */
  static final String QUERY =
      "SELECT 's', name, setting FROM pg_catalog.pg_settings WHERE source = 'session'"
          + " UNION ALL SELECT 'p', 'LISTEN', NULL"
          + " WHERE EXISTS (SELECT 1 FROM pg_catalog.pg_listening_channels())"
          + " UNION ALL SELECT 'p', 'advisory lock', NULL"
          + " WHERE EXISTS (SELECT 1 FROM pg_catalog.pg_locks"
          + " WHERE locktype = 'advisory' AND pid = pg_catalog.pg_backend_pid())"
          + " UNION ALL SELECT 'p', 'CREATE TEMP', NULL"
          + " WHERE EXISTS (SELECT 1 FROM pg_catalog.pg_class"
          + " WHERE relnamespace = pg_catalog.pg_my_temp_schema())"
          + " UNION ALL SELECT 'p', 'DECLARE ... WITH HOLD', NULL"
          + " WHERE EXISTS (SELECT 1 FROM pg_catalog.pg_cursors WHERE is_holdable)"
          + " UNION ALL SELECT 'p', 'PREPARE', NULL"
          + " WHERE EXISTS (SELECT 1 FROM pg_catalog.pg_prepared_statements WHERE from_sql)"
          + " UNION ALL SELECT 'p', 'SET ROLE', NULL"
          + " WHERE pg_catalog.current_setting('role') <> 'none'"
          + " UNION ALL SELECT 'p', 'SET SESSION AUTHORIZATION', NULL"
          + " WHERE session_user <> (SELECT usename FROM pg_catalog.pg_stat_activity"
          + " WHERE pid = pg_catalog.pg_backend_pid())";

  private final Map<String, String> settings = new LinkedHashMap<>();
  private final List<String> pins = new ArrayList<>();
  private boolean failed;

  /** A DataRow of the answer. */
  void row(ByteBuf frame) {
    DataRow row = DataRow.decode(frame);
    String kind = row.text(0);
    String name = row.text(1);
    if ("s".equals(kind) && name != null) {
      String value = row.text(2);
      settings.put(name, value == null ? "" : value);
    } else if ("p".equals(kind) && name != null) {
      pins.add(name);
    }
  }

  /** The server answered with an error: what lives on it is unknown. */
  void failed() {
    failed = true;
  }

  boolean hasFailed() {
    return failed;
  }

  /**
   * The settings to replay: all but those the relay already follows through ParameterStatus.
   *
   * @param followed true for a parameter name (lower case) the tracked-parameter sync restores
   */
  Map<String, String> settings(Predicate<String> followed) {
    Map<String, String> replayed = new LinkedHashMap<>();
    for (Map.Entry<String, String> e : settings.entrySet()) {
      if (!followed.test(e.getKey().toLowerCase(Locale.ROOT))) {
        replayed.put(e.getKey(), e.getValue());
      }
    }
    return Collections.unmodifiableMap(replayed); // in the server's order, for the sync
  }

  /** Why the server must stay with its client, or null when nothing pins it any more. */
  String pinReason() {
    return pins.isEmpty() ? null : String.join(", ", pins);
  }

  /**
   * Statements that bring a server whose session settings are {@code server} to {@code wanted}:
   * RESET for those the client does not have, set_config for the others (set_config takes the value
   * as PostgreSQL shows it, which SET would re-quote for list parameters such as search_path).
   * Empty when they are the same.
   */
  static String syncStatement(Map<String, String> wanted, Map<String, String> server) {
    StringBuilder sql = new StringBuilder();
    for (String name : server.keySet()) {
      if (!wanted.containsKey(name)) {
        sql.append("RESET ").append(identifier(name)).append(';');
      }
    }
    String separator = "SELECT ";
    for (Map.Entry<String, String> e : wanted.entrySet()) {
      if (!e.getValue().equals(server.get(e.getKey()))) {
        sql.append(separator).append(setConfig(e.getKey(), e.getValue()));
        separator = ", ";
      }
    }
    if (!separator.equals("SELECT ")) {
      sql.append(';');
    }
    return sql.toString();
  }

  /** {@code pg_catalog.set_config('name', 'value', false)}, both as escape-string literals. */
  static String setConfig(String name, String value) {
    return "pg_catalog.set_config(" + literal(name) + ", " + literal(value) + ", false)";
  }

  /** An E'' literal: right whatever the server's standard_conforming_strings. */
  static String literal(String text) {
    return "E'" + text.replace("\\", "\\\\").replace("'", "''") + "'";
  }

  private static String identifier(String name) {
    return '"' + name.replace("\"", "\"\"") + '"';
  }
}
