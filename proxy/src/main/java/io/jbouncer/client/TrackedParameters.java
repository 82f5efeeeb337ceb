package io.jbouncer.client;

import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The session parameters that follow a client from server to server, as PgBouncer's varcache does:
 * a client's values are restored with {@code SET} on every server it is linked to.
 */
final class TrackedParameters {
  private static final Map<String, String> CANONICAL =
      Map.of(
          "client_encoding", "client_encoding",
          "datestyle", "DateStyle",
          "timezone", "TimeZone",
          "standard_conforming_strings", "standard_conforming_strings",
          "application_name", "application_name",
          "intervalstyle", "IntervalStyle");

  private TrackedParameters() {}

  /** The server's spelling of a tracked parameter, or null when {@code name} is not tracked. */
  static @Nullable String canonical(String name) {
    return CANONICAL.get(name.toLowerCase(Locale.ROOT));
  }

  /**
   * {@code SET} statements that bring {@code server} to {@code wanted}; empty when nothing differs.
   */
  static String syncStatement(Map<String, String> wanted, Map<String, String> server) {
    StringBuilder sql = new StringBuilder();
    for (Map.Entry<String, String> e : wanted.entrySet()) {
      if (!e.getValue().equals(server.get(e.getKey()))) {
        sql.append("SET ")
            .append(e.getKey())
            .append("='")
            .append(e.getValue().replace("'", "''"))
            .append("';");
      }
    }
    return sql.toString();
  }
}
