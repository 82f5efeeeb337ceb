package io.jbouncer.client;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The session parameters that follow a client from server to server, as PgBouncer's varcache does:
 * the five PgBouncer always tracks and those named by {@code track_extra_parameters}. A client's
 * values are restored on every server it is linked to; PostgreSQL reports their changes with
 * ParameterStatus, which keeps both sides' values current.
 */
final class TrackedParameters {
  /** Always tracked (PostgreSQL reports them all): lower case to the server's spelling. */
  private static final Map<String, String> ALWAYS =
      Map.of(
          "client_encoding", "client_encoding",
          "datestyle", "DateStyle",
          "timezone", "TimeZone",
          "standard_conforming_strings", "standard_conforming_strings",
          "application_name", "application_name");

  /** The server's spelling of parameters it reports in mixed case, for track_extra_parameters. */
  private static final Map<String, String> MIXED_CASE = Map.of("intervalstyle", "IntervalStyle");

  private TrackedParameters() {}

  /** True for one of the five parameters PgBouncer tracks whatever the settings say. */
  static boolean alwaysTracked(String name) {
    return ALWAYS.containsKey(name.toLowerCase(Locale.ROOT));
  }

  /**
   * The server's spelling of a tracked parameter, or null when {@code name} is not tracked.
   *
   * @param extra track_extra_parameters
   */
  static @Nullable String canonical(String name, Collection<String> extra) {
    String lower = name.toLowerCase(Locale.ROOT);
    String always = ALWAYS.get(lower);
    if (always != null) {
      return always;
    }
    for (String tracked : extra) {
      if (tracked.equalsIgnoreCase(name)) {
        return MIXED_CASE.getOrDefault(lower, tracked);
      }
    }
    return null;
  }

  /** The tracked parameters whose value on the server is not the one the client wants. */
  static List<String> differing(Map<String, String> wanted, Map<String, String> server) {
    List<String> names = null; // none, once a client's values are on the server: no allocation
    for (Map.Entry<String, String> e : wanted.entrySet()) {
      if (!e.getValue().equals(server.get(e.getKey()))) {
        names = names == null ? new ArrayList<>() : names;
        names.add(e.getKey());
      }
    }
    return names == null ? List.of() : names;
  }

  /**
   * set_config calls that bring {@code server} to {@code wanted}, as one SELECT; empty when nothing
   * differs. set_config, not SET: SET would re-quote a list value such as a search_path.
   */
  static String syncStatement(Map<String, String> wanted, Map<String, String> server) {
    return syncStatement(wanted, differing(wanted, server));
  }

  /** set_config calls that give the server the client's values of {@code names}, as one SELECT. */
  static String syncStatement(Map<String, String> wanted, List<String> names) {
    StringBuilder sql = new StringBuilder();
    for (String name : names) {
      sql.append(sql.length() == 0 ? "SELECT " : ", ")
          .append(SessionCheck.setConfig(name, wanted.get(name)));
    }
    return sql.length() == 0 ? "" : sql.append(';').toString();
  }
}
