package io.jbouncer.it;

import static io.jbouncer.it.TransactionPoolingIT.scalar;
import static org.assertj.core.api.Assertions.assertThat;

import io.jbouncer.testing.TestPostgres;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * max_user_connections ([users] or global) and max_db_connections cap servers across pools; an idle
 * server of another pool under the same cap is evicted to make room, an active one is waited for.
 */
class ServerCapsIT {
  @TempDir Path dir;

  /** Roles no other test uses, so PostgreSQL's view of their backends is this test's alone. */
  private static final String USERLIST =
      "\"caps_user\" \"caps_pass\"\n\"caps_other\" \"caps_pass\"\n";

  @org.junit.jupiter.api.BeforeAll
  static void roles() throws Exception {
    Roles.ensure("caps_user", "caps_pass");
    Roles.ensure("caps_other", "caps_pass");
  }

  private static final String TWO_DATABASES =
      ProxyFixture.defaultDatabases() + "app2 = host=127.0.0.1 port=${PGPORT} dbname=app\n";

  @Test
  void maxUserConnectionsFromUsersSectionEvictsIdleAndWaitsForActive() throws Exception {
    String databases = TWO_DATABASES + "\n[users]\ncaps_user = max_user_connections=1\n";
    try (ProxyFixture proxy =
            ProxyFixture.start(dir, databases, "default_pool_size = 5\n", USERLIST);
        Connection first = proxy.connect("caps_user", "caps_pass", "app");
        Connection second = proxy.connect("caps_user", "caps_pass", "app2")) {
      assertThat(scalar(first.createStatement(), "select 'one'")).isEqualTo("one");
      // app2's pool has no server and the cap is taken by app's idle one: it is evicted
      assertThat(scalar(second.createStatement(), "select 'two'")).isEqualTo("two");
      assertThat(servers(proxy, "caps_user")).isLessThanOrEqualTo(1);

      first.setAutoCommit(false);
      Statement inTransaction = first.createStatement();
      inTransaction.execute("select 1"); // app's pool now holds the only server, in a transaction
      CompletableFuture<String> waiting = query(second, "select 'after commit'");
      Thread.sleep(300);
      assertThat(waiting).as("an active server is never evicted").isNotDone();
      assertThat(servers(proxy, "caps_user")).isLessThanOrEqualTo(1);
      first.commit();
      assertThat(waiting.get(10, TimeUnit.SECONDS)).isEqualTo("after commit");
      assertThat(servers(proxy, "caps_user")).isLessThanOrEqualTo(1);
      awaitBackendsAtMost("caps_user", 1); // evicted backends exit shortly after their Terminate
    }
  }

  @Test
  void maxDbConnectionsCapsServersAcrossUsers() throws Exception {
    try (ProxyFixture proxy =
            ProxyFixture.start(
                dir,
                ProxyFixture.defaultDatabases(),
                "default_pool_size = 5\nmax_db_connections = 1\n",
                USERLIST);
        Connection one = proxy.connect("caps_user", "caps_pass", "app");
        Connection other = proxy.connect("caps_other", "caps_pass", "app")) {
      for (int i = 0; i < 3; i++) {
        assertThat(scalar(one.createStatement(), "select current_user")).isEqualTo("caps_user");
        assertThat(scalar(other.createStatement(), "select current_user")).isEqualTo("caps_other");
        assertThat(servers(proxy, "caps_user") + servers(proxy, "caps_other"))
            .isLessThanOrEqualTo(1);
      }
    }
  }

  private static CompletableFuture<String> query(Connection c, String sql) {
    return CompletableFuture.supplyAsync(
        () -> {
          try {
            return scalar(c.createStatement(), sql);
          } catch (SQLException e) {
            return e.toString();
          }
        });
  }

  /** Server connections jbouncer holds for {@code user}, in every pool. */
  private static int servers(ProxyFixture proxy, String user) {
    return proxy.bouncer().pooler().pools().stream()
        .filter(p -> p.key().user().equals(user))
        .mapToInt(p -> p.counts().servers())
        .sum();
  }

  private static void awaitBackendsAtMost(String user, int max) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (backends(user) > max && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(backends(user)).as(activity(user)).isLessThanOrEqualTo(max);
  }

  /** The backends of {@code user}, for a failure message. */
  private static String activity(String user) throws SQLException {
    StringBuilder rows = new StringBuilder("pg_stat_activity for " + user + ":");
    try (Connection admin = TestPostgres.get().superuser();
        Statement st = admin.createStatement();
        ResultSet rs =
            st.executeQuery(
                "select pid, datname, application_name, client_port, state, backend_start, query"
                    + " from pg_stat_activity where usename = '"
                    + user
                    + "'")) {
      while (rs.next()) {
        rows.append("\n  ");
        for (int i = 1; i <= 7; i++) {
          rows.append(rs.getString(i)).append(" | ");
        }
      }
    }
    return rows.toString();
  }

  private static int backends(String user) throws SQLException {
    try (Connection admin = TestPostgres.get().superuser();
        Statement st = admin.createStatement();
        ResultSet rs =
            st.executeQuery(
                "select count(*) from pg_stat_activity where backend_type = 'client backend'"
                    + " and usename = '"
                    + user
                    + "'")) {
      rs.next();
      return rs.getInt(1);
    }
  }
}
