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
 * PostgreSQL does not report, set_config(..., false), SET SESSION CHARACTERISTICS), its role, and,
 * for a pinned client, the state that pins (LISTEN, advisory locks, temporary tables, WITH HOLD
 * cursors, SQL-level prepared statements). Sent only after a statement that may have changed one of
 * them, so ordinary transactions never pay for it; the server answers with its own truth, which no
 * statement parser could: a SET rolled back, or undone by ROLLBACK TO SAVEPOINT, is simply not
 * there. (A lone SET outside a transaction needs no question: its text is replayed as it is.)
 *
 * <p>Settings are kept as the statements that replay them on whichever server the client gets next
 * (set_config takes the value as PostgreSQL shows it, which SET would re-quote for a list such as
 * search_path); they are reset on a server the next client does not want them on. Pins keep the
 * server for the client until the check finds none left (UNLISTEN *, unlock, DROP, DISCARD).
 */
final class SessionCheck {
  private static final String SETTINGS =
      "SELECT 's', name, setting FROM pg_catalog.pg_settings WHERE source = 'session'";

  /** Pinning state set by statements that look like settings: cheap to ask. */
  private static final String ROLE =
      "SELECT 'p', 'SET ROLE', NULL WHERE pg_catalog.current_setting('role') <> 'none'";

  /** The rest of what pins: asked only of a pinned client's server. */
  private static final String PINS =
      "SELECT 'p', 'LISTEN', NULL"
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
          + " WHERE EXISTS (SELECT 1 FROM pg_catalog.pg_prepared_statements WHERE from_sql)";

  private final boolean askedSettings;
  private final boolean askedPins;
  private final Map<String, String> settings = new LinkedHashMap<>();
  private final List<String> pins = new ArrayList<>();
  private boolean failed;

  /**
   * @param settings ask for the session's settings (and role)
   * @param pins ask for everything that pins
   */
  SessionCheck(boolean settings, boolean pins) {
    this.askedSettings = settings;
    this.askedPins = pins;
  }

  /**
   * The question, one row per session setting ('s', name, value) and one per kind of pinning state
   * ('p', why). {@code loginUser}: the server's own user, which SET SESSION AUTHORIZATION changes.
   */
  String query(String loginUser) {
    String role =
        ROLE
            + " UNION ALL SELECT 'p', 'SET SESSION AUTHORIZATION', NULL WHERE session_user <> "
            + literal(loginUser);
    String pinsAndRole = askedPins ? PINS + " UNION ALL " + role : role;
    return askedSettings ? SETTINGS + " UNION ALL " + pinsAndRole : pinsAndRole;
  }

  /** Whether the answer tells all that pins (else only what a role adds). */
  boolean askedPins() {
    return askedPins;
  }

  boolean askedSettings() {
    return askedSettings;
  }

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
   * The settings to replay, as statements: all but those the relay already follows through
   * ParameterStatus.
   *
   * @param followed true for a parameter name (lower case) the tracked-parameter sync restores
   */
  Map<String, String> settings(Predicate<String> followed) {
    Map<String, String> replayed = new LinkedHashMap<>();
    for (Map.Entry<String, String> e : settings.entrySet()) {
      if (!followed.test(e.getKey().toLowerCase(Locale.ROOT))) {
        replayed.put(e.getKey(), "SELECT " + setConfig(e.getKey(), e.getValue()));
      }
    }
    return Collections.unmodifiableMap(replayed); // in the server's order, for the sync
  }

  /** Why the server must stay with its client, or null when nothing pins it any more. */
  String pinReason() {
    return pins.isEmpty() ? null : String.join(", ", pins);
  }

  /**
   * Statements that bring a server whose session settings are {@code server} to {@code wanted}
   * (both: name to the statement that replays it): RESET for those the client does not have, the
   * replay statement for those that differ. Empty when they are the same. Separated by a newline
   * and a semicolon, which also end a client's SET that ends in a -- comment.
   */
  static String syncStatement(Map<String, String> wanted, Map<String, String> server) {
    if (wanted == server || (wanted.isEmpty() && server.isEmpty())) {
      return ""; // every transaction of a client that sets nothing: no allocation
    }
    StringBuilder sql = new StringBuilder();
    for (String name : server.keySet()) {
      if (!wanted.containsKey(name)) {
        sql.append("RESET ").append(identifier(name)).append(";\n");
      }
    }
    for (Map.Entry<String, String> e : wanted.entrySet()) {
      if (!e.getValue().equals(server.get(e.getKey()))) {
        sql.append(e.getValue()).append("\n;");
      }
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
