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

  private static final String TWO_DATABASES =
      ProxyFixture.defaultDatabases() + "app2 = host=127.0.0.1 port=${PGPORT} dbname=app\n";

  @Test
  void maxUserConnectionsFromUsersSectionEvictsIdleAndWaitsForActive() throws Exception {
    String databases = TWO_DATABASES + "\n[users]\nmd5_user = max_user_connections=1\n";
    try (ProxyFixture proxy =
            ProxyFixture.start(dir, databases, "default_pool_size = 5\n", ProxyFixture.USERLIST);
        Connection first = proxy.connect("md5_user", "md5_pass", "app");
        Connection second = proxy.connect("md5_user", "md5_pass", "app2")) {
      assertThat(scalar(first.createStatement(), "select 'one'")).isEqualTo("one");
      // app2's pool has no server and the cap is taken by app's idle one: it is evicted
      assertThat(scalar(second.createStatement(), "select 'two'")).isEqualTo("two");
      assertThat(servers(proxy, "md5_user")).isLessThanOrEqualTo(1);

      first.setAutoCommit(false);
      Statement inTransaction = first.createStatement();
      inTransaction.execute("select 1"); // app's pool now holds the only server, in a transaction
      CompletableFuture<String> waiting = query(second, "select 'after commit'");
      Thread.sleep(300);
      assertThat(waiting).as("an active server is never evicted").isNotDone();
      assertThat(servers(proxy, "md5_user")).isLessThanOrEqualTo(1);
      first.commit();
      assertThat(waiting.get(10, TimeUnit.SECONDS)).isEqualTo("after commit");
      assertThat(servers(proxy, "md5_user")).isLessThanOrEqualTo(1);
      awaitBackendsAtMost("md5_user", 1); // evicted backends exit shortly after their Terminate
    }
  }

  @Test
  void maxDbConnectionsCapsServersAcrossUsers() throws Exception {
    try (ProxyFixture proxy =
            ProxyFixture.start(
                dir,
                ProxyFixture.defaultDatabases(),
                "default_pool_size = 5\nmax_db_connections = 1\n",
                ProxyFixture.USERLIST);
        Connection md5 = proxy.connect("md5_user", "md5_pass", "app");
        Connection clear = proxy.connect("clear_user", "clear_pass", "app")) {
      for (int i = 0; i < 3; i++) {
        assertThat(scalar(md5.createStatement(), "select current_user")).isEqualTo("md5_user");
        assertThat(scalar(clear.createStatement(), "select current_user")).isEqualTo("clear_user");
        assertThat(servers(proxy, "md5_user") + servers(proxy, "clear_user"))
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
    assertThat(backends(user)).isLessThanOrEqualTo(max);
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
