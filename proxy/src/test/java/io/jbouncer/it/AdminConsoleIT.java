package io.jbouncer.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jbouncer.testing.Await;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The admin console's views as PgBouncer 1.25 shows them, read with pgjdbc in simple mode as
 * monitoring tools read them: each SHOW's column names and types, and values checked against what
 * is really connected.
 */
class AdminConsoleIT {
  @TempDir static Path dir;
  static ProxyFixture proxy;

  /** PgBouncer 1.25's columns, "name:type" with its type letters (s text, i int4, ...). */
  static final Map<String, String> COLUMNS = new LinkedHashMap<>();

  static {
    String socket =
        "type:s user:s database:s replication:s state:s addr:s port:i local_addr:s local_port:i"
            + " connect_time:s request_time:s wait:i wait_us:i close_needed:i ptr:s link:s"
            + " remote_pid:i tls:s application_name:s prepared_statements:i id:i";
    COLUMNS.put(
        "POOLS",
        "database:s user:s cl_active:i cl_waiting:i cl_active_cancel_req:i cl_waiting_cancel_req:i"
            + " sv_active:i sv_active_cancel:i sv_being_canceled:i sv_idle:i sv_used:i"
            + " sv_tested:i sv_login:i maxwait:i maxwait_us:i pool_mode:s load_balance_hosts:s");
    COLUMNS.put(
        "STATS",
        "database:s total_server_assignment_count:N total_xact_count:N total_query_count:N"
            + " total_received:N total_sent:N total_xact_time:N total_query_time:N"
            + " total_wait_time:N total_client_parse_count:N total_server_parse_count:N"
            + " total_bind_count:N total_client_login_count:N avg_server_assignment_count:N"
            + " avg_xact_count:N avg_query_count:N avg_recv:N avg_sent:N avg_xact_time:N"
            + " avg_query_time:N avg_wait_time:N avg_client_parse_count:N"
            + " avg_server_parse_count:N avg_bind_count:N avg_client_login_count:N");
    COLUMNS.put(
        "STATS_TOTALS",
        "database:s server_assignment_count:N xact_count:N query_count:N bytes_received:N"
            + " bytes_sent:N xact_time:N query_time:N wait_time:N client_parse_count:N"
            + " server_parse_count:N bind_count:N client_login_count:N");
    COLUMNS.put(
        "STATS_AVERAGES",
        "database:s server_assignment_count:N xact_count:N query_count:N bytes_received:N"
            + " bytes_sent:N xact_time:N query_time:N wait_time:N avg_client_parse_count:N"
            + " avg_server_parse_count:N avg_bind_count:N avg_client_login_count:N");
    COLUMNS.put("TOTALS", "name:s value:N");
    COLUMNS.put("SERVERS", socket);
    COLUMNS.put("CLIENTS", socket);
    String buffers =
        " recv_pos:i pkt_pos:i pkt_remain:i send_pos:i send_remain:i pkt_avail:i send_avail:i";
    COLUMNS.put("SOCKETS", socket + buffers);
    COLUMNS.put("ACTIVE_SOCKETS", socket + buffers);
    COLUMNS.put(
        "DATABASES",
        "name:s host:s port:i database:s force_user:s pool_size:i min_pool_size:i"
            + " reserve_pool_size:i server_lifetime:i pool_mode:s load_balance_hosts:s"
            + " max_connections:i current_connections:i max_client_connections:i"
            + " current_client_connections:i paused:i disabled:i");
    COLUMNS.put(
        "USERS",
        "name:s pool_size:s reserve_pool_size:s pool_mode:s max_user_connections:i"
            + " current_connections:i max_user_client_connections:i current_client_connections:i");
    COLUMNS.put("CONFIG", "key:s value:s default:s changeable:s");
    COLUMNS.put("LISTS", "list:s items:i");
    COLUMNS.put("VERSION", "version:s");
    COLUMNS.put("STATE", "key:s value:s");
    COLUMNS.put("MEM", "name:s size:i used:i free:i memtotal:i");
    COLUMNS.put("DNS_HOSTS", "hostname:s ttl:q addrs:s");
    COLUMNS.put("DNS_ZONES", "zonename:s serial:q count:i");
    COLUMNS.put("PEERS", "peer_id:i host:s port:i pool_size:i");
    COLUMNS.put(
        "PEER_POOLS",
        "peer_id:i cl_active_cancel_req:i cl_waiting_cancel_req:i sv_active_cancel:i sv_login:i");
  }

  private static final Map<Character, String> TYPES =
      Map.of('s', "text", 'i', "int4", 'q', "int8", 'N', "numeric", 'b', "bytea");

  @BeforeAll
  static void start() throws Exception {
    proxy =
        ProxyFixture.start(
            dir,
            ProxyFixture.defaultDatabases(),
            "default_pool_size = 3\nadmin_users = admin\nstats_users = watcher\n",
            ProxyFixture.USERLIST + "\"admin\" \"admin_pass\"\n\"watcher\" \"watcher_pass\"\n");
  }

  @AfterAll
  static void stop() throws Exception {
    proxy.close();
  }

  static Connection console(String user, String password) throws SQLException {
    return proxy.connect(user, password, "pgbouncer", "preferQueryMode", "simple");
  }

  static Connection console() throws SQLException {
    return console("admin", "admin_pass");
  }

  /** The rows of a SHOW, each a map of column to text value. */
  static List<Map<String, String>> show(Statement st, String what) throws SQLException {
    List<Map<String, String>> rows = new ArrayList<>();
    try (ResultSet rs = st.executeQuery("SHOW " + what)) {
      ResultSetMetaData md = rs.getMetaData();
      while (rs.next()) {
        Map<String, String> row = new LinkedHashMap<>();
        for (int i = 1; i <= md.getColumnCount(); i++) {
          row.put(md.getColumnName(i), rs.getString(i));
        }
        rows.add(row);
      }
    }
    return rows;
  }

  static Map<String, String> row(List<Map<String, String>> rows, String column, String value) {
    return rows.stream()
        .filter(r -> value.equals(r.get(column)))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no row with " + column + "=" + value + ": " + rows));
  }

  @Test
  void everyViewHasPgbouncersColumnsAndTypes() throws Exception {
    try (Connection c = console();
        Statement st = c.createStatement()) {
      for (Map.Entry<String, String> view : COLUMNS.entrySet()) {
        List<String> expected = new ArrayList<>();
        for (String column : view.getValue().split(" ")) {
          String[] nameType = column.split(":");
          expected.add(nameType[0] + ":" + TYPES.get(nameType[1].charAt(0)));
        }
        List<String> actual = new ArrayList<>();
        try (ResultSet rs = st.executeQuery("SHOW " + view.getKey())) {
          ResultSetMetaData md = rs.getMetaData();
          for (int i = 1; i <= md.getColumnCount(); i++) {
            actual.add(md.getColumnName(i) + ":" + md.getColumnTypeName(i));
          }
        }
        assertThat(actual).as("SHOW %s", view.getKey()).containsExactlyElementsOf(expected);
      }
    }
  }

  @Test
  void sevenClientsInAPoolOfThreeShowAsThreeActiveAndFourWaiting() throws Exception {
    List<Connection> clients = new ArrayList<>();
    List<CompletableFuture<String>> waiting = new ArrayList<>();
    try (Connection c = console();
        Statement st = c.createStatement()) {
      for (int i = 0; i < 7; i++) {
        clients.add(proxy.connect("md5_user", "md5_pass", "app"));
      }
      for (int i = 0; i < 3; i++) { // three hold a server in an open transaction
        clients.get(i).setAutoCommit(false);
        TransactionPoolingIT.scalar(clients.get(i).createStatement(), "select 1");
      }
      for (int i = 3; i < 7; i++) { // four more wait for one
        Statement s = clients.get(i).createStatement();
        waiting.add(
            CompletableFuture.supplyAsync(
                () -> {
                  try {
                    return TransactionPoolingIT.scalar(s, "select 'served'");
                  } catch (SQLException e) {
                    return e.getMessage();
                  }
                }));
      }
      Await.until(
          "four clients queue",
          () -> "4".equals(row(show(st, "POOLS"), "user", "md5_user").get("cl_waiting")));
      Map<String, String> pool = row(show(st, "POOLS"), "user", "md5_user");
      assertThat(pool)
          .containsEntry("database", "app")
          .containsEntry("cl_active", "3")
          .containsEntry("cl_waiting", "4")
          .containsEntry("sv_active", "3")
          .containsEntry("sv_idle", "0")
          .containsEntry("pool_mode", "transaction");
      assertThat(
              Integer.parseInt(pool.get("maxwait")) * 1_000_000L
                  + Long.parseLong(pool.get("maxwait_us")))
          .isPositive();

      List<Map<String, String>> shown = show(st, "CLIENTS");
      List<Map<String, String>> mine =
          shown.stream().filter(r -> "md5_user".equals(r.get("user"))).toList();
      assertThat(mine).extracting(r -> r.get("state")).containsOnly("active", "waiting");
      assertThat(mine.stream().filter(r -> r.get("state").equals("waiting")).count()).isEqualTo(4);
      List<Map<String, String>> servers = show(st, "SERVERS");
      List<Map<String, String>> busy =
          servers.stream()
              .filter(r -> "md5_user".equals(r.get("user")) && r.get("state").equals("active"))
              .toList();
      assertThat(busy).hasSize(3);
      // each active server's link is the ptr of an active client, and the other way round
      List<String> activeClientPtrs =
          mine.stream()
              .filter(r -> r.get("state").equals("active"))
              .map(r -> r.get("ptr"))
              .toList();
      assertThat(busy)
          .extracting(r -> r.get("link"))
          .containsExactlyInAnyOrderElementsOf(activeClientPtrs);
      assertThat(busy)
          .allSatisfy(r -> assertThat(Integer.parseInt(r.get("remote_pid"))).isPositive());

      for (int i = 0; i < 3; i++) {
        clients.get(i).commit();
      }
      for (CompletableFuture<String> w : waiting) {
        assertThat(w.get(20, TimeUnit.SECONDS)).isEqualTo("served");
      }
    } finally {
      for (Connection client : clients) {
        client.close();
      }
    }
  }

  @Test
  void statsCountTransactionsQueriesBytesAndLogins() throws Exception {
    Map<String, String> before;
    try (Connection c = console();
        Statement st = c.createStatement()) {
      before =
          show(st, "STATS").stream()
              .filter(r -> "app".equals(r.get("database")))
              .findFirst()
              .orElse(zeros(show(st, "STATS").get(0)));
      try (Connection client = proxy.connect("md5_user", "md5_pass", "app");
          Statement s = client.createStatement()) {
        for (int i = 0; i < 5; i++) {
          TransactionPoolingIT.scalar(s, "select " + i);
        }
      }
      Map<String, String> after = row(show(st, "STATS"), "database", "app");
      assertThat(delta(after, before, "total_client_login_count")).isEqualTo(1);
      // pgjdbc's own SET application_name at login is one more transaction and query
      assertThat(delta(after, before, "total_xact_count")).isEqualTo(6);
      assertThat(delta(after, before, "total_query_count")).isEqualTo(6);
      assertThat(delta(after, before, "total_server_assignment_count")).isEqualTo(6);
      assertThat(delta(after, before, "total_received")).isPositive();
      assertThat(delta(after, before, "total_sent")).isPositive();
      assertThat(delta(after, before, "total_xact_time")).isPositive();
      assertThat(delta(after, before, "total_query_time")).isPositive();
      assertThat(row(show(st, "STATS"), "database", "pgbouncer")).isNotNull();

      Map<String, String> totals = new HashMap<>();
      for (Map<String, String> r : show(st, "TOTALS")) {
        totals.put(r.get("name"), r.get("value"));
      }
      assertThat(totals).hasSize(24).containsKey("avg_ps_bind_count");
      assertThat(Long.parseLong(totals.get("total_xact_count")))
          .isGreaterThanOrEqualTo(Long.parseLong(after.get("total_xact_count")));
    }
  }

  /** A STATS row of zeros: the database had no pool yet. */
  private static Map<String, String> zeros(Map<String, String> any) {
    Map<String, String> zero = new HashMap<>();
    any.keySet().forEach(k -> zero.put(k, "0"));
    return zero;
  }

  private static long delta(Map<String, String> after, Map<String, String> before, String key) {
    return Long.parseLong(after.get(key)) - Long.parseLong(before.get(key));
  }

  @Test
  void databasesUsersConfigStateAndVersionSayWhatIsConfigured() throws Exception {
    try (Connection c = console();
        Statement st = c.createStatement()) {
      Map<String, String> app = row(show(st, "DATABASES"), "name", "app");
      assertThat(app)
          .containsEntry("host", "127.0.0.1")
          .containsEntry("database", "app")
          .containsEntry("pool_size", "3")
          .containsEntry("paused", "0")
          .containsEntry("disabled", "0");
      assertThat(row(show(st, "DATABASES"), "name", "pgbouncer"))
          .containsEntry("pool_mode", "statement")
          .containsEntry("force_user", "pgbouncer");
      assertThat(show(st, "USERS")).extracting(r -> r.get("name")).contains("admin", "md5_user");
      assertThat(row(show(st, "CONFIG"), "key", "default_pool_size"))
          .containsEntry("value", "3")
          .containsEntry("default", "20")
          .containsEntry("changeable", "yes");
      assertThat(row(show(st, "CONFIG"), "key", "listen_port")).containsEntry("changeable", "no");
      assertThat(show(st, "STATE"))
          .extracting(r -> r.get("key") + "=" + r.get("value"))
          .containsExactly("active=yes", "paused=no", "suspended=no");
      assertThat(show(st, "VERSION").get(0).get("version")).startsWith("PgBouncer 1.25.2");
      assertThat(show(st, "client_encoding").get(0)).containsEntry("client_encoding", "UTF-8");
      assertThat(show(st, "CLIENTS"))
          .as("the console lists itself")
          .anySatisfy(r -> assertThat(r).containsEntry("database", "pgbouncer"));
    }
  }

  @Test
  void helpIsANoticeAndUnknownCommandsAreErrors() throws Exception {
    try (Connection c = console();
        Statement st = c.createStatement()) {
      st.execute("SHOW HELP");
      SQLWarning notice = st.getWarnings();
      assertThat((Throwable) notice).isNotNull();
      assertThat(notice.getMessage()).contains("Console usage");
      assertThatThrownBy(() -> st.execute("SHOW NONSENSE"))
          .isInstanceOf(SQLException.class)
          .hasMessageContaining("invalid command 'SHOW NONSENSE', use SHOW HELP;")
          .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("08P01"));
      assertThatThrownBy(() -> st.execute("select 1"))
          .hasMessageContaining("invalid command 'select 1', use SHOW HELP;");
      assertThat(show(st, "STATE")).hasSize(3); // the connection survives errors
    }
  }

  @Test
  void statsUsersMayOnlyLookAndOthersAreNotAllowed() throws Exception {
    try (Connection c = console("watcher", "watcher_pass");
        Statement st = c.createStatement()) {
      assertThat(show(st, "POOLS")).isNotEmpty();
      assertThatThrownBy(() -> st.execute("PAUSE")).hasMessageContaining("admin access needed");
      assertThatThrownBy(() -> st.execute("SHOW FDS")).hasMessageContaining("admin access needed");
    }
    assertThatThrownBy(() -> console("md5_user", "md5_pass"))
        .isInstanceOf(SQLException.class)
        .hasMessageContaining("not allowed");
  }

  @Test
  void theExtendedProtocolIsRefused() {
    assertThatThrownBy(
            () -> {
              try (Connection c = proxy.connect("admin", "admin_pass", "pgbouncer");
                  Statement st = c.createStatement()) {
                st.executeQuery("SHOW POOLS");
              }
            })
        .isInstanceOf(SQLException.class)
        .hasMessageContaining("extended query protocol not supported by admin console");
  }
}
