package io.jbouncer.it;

import static io.jbouncer.it.AdminConsoleIT.row;
import static io.jbouncer.it.AdminConsoleIT.show;
import static io.jbouncer.it.TransactionPoolingIT.pid;
import static io.jbouncer.it.TransactionPoolingIT.scalar;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jbouncer.testing.Await;
import io.jbouncer.testing.TestPostgres;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * RELOAD and SET applied to a running jbouncer: pool sizes under load (the new limit reaches
 * PostgreSQL within seconds, no client dropped), pool modes, timeouts of connected clients,
 * databases added, changed and removed; keys that cannot change at runtime keep their value; a
 * broken file is refused whole with PgBouncer's F0000 error.
 */
class ReloadIT {
  private static final String ROLE = "reload_user";
  private static final String USERS =
      ProxyFixture.USERLIST + "\"admin\" \"admin_pass\"\n\"" + ROLE + "\" \"reload_pass\"\n";

  @TempDir Path dir;

  private ProxyFixture start(String databases, String extra) throws Exception {
    Roles.ensure(ROLE, "reload_pass");
    return ProxyFixture.start(dir, databases, "admin_users = admin\n" + extra, USERS);
  }

  private void rewrite(String databases, String extra) throws Exception {
    ProxyFixture.writeIni(dir, databases, "admin_users = admin\n" + extra);
  }

  private static Connection console(ProxyFixture proxy) throws SQLException {
    return proxy.connect("admin", "admin_pass", "pgbouncer", "preferQueryMode", "simple");
  }

  private static int backendsOfRole() throws SQLException {
    try (Connection c = TestPostgres.get().superuser();
        Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery(
                "select count(*) from pg_stat_activity where usename = '" + ROLE + "'")) {
      rs.next();
      return rs.getInt(1);
    }
  }

  @Test
  void poolSizeChangesUnderLoadReachPostgresWithinSecondsAndNoClientIsDropped() throws Exception {
    String databases = ProxyFixture.defaultDatabases();
    try (ProxyFixture proxy = start(databases, "default_pool_size = 2\n");
        Connection admin = console(proxy);
        Statement console = admin.createStatement()) {
      AtomicBoolean stop = new AtomicBoolean();
      AtomicInteger errors = new AtomicInteger();
      AtomicInteger most = new AtomicInteger();
      List<CompletableFuture<Void>> load = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        load.add(
            CompletableFuture.runAsync(
                () -> {
                  try (Connection c = proxy.connect(ROLE, "reload_pass", "app");
                      Statement st = c.createStatement()) {
                    while (!stop.get()) {
                      st.execute("select pg_sleep(0.02)");
                    }
                  } catch (SQLException e) {
                    errors.incrementAndGet();
                  }
                }));
      }
      Await.until("load runs on 2 servers", () -> backendsOfRole() == 2);

      rewrite(databases, "default_pool_size = 4\n");
      console.execute("RELOAD");
      Await.until("the pool grew to 4", () -> backendsOfRole() == 4);
      assertThat(row(show(console, "CONFIG"), "key", "default_pool_size"))
          .containsEntry("value", "4");

      rewrite(databases, "default_pool_size = 1\n");
      console.execute("RELOAD");
      Await.until(
          "the pool shrank to 1",
          () -> {
            int n = backendsOfRole();
            most.set(n);
            return n == 1;
          });
      for (int i = 0; i < 10; i++) {
        most.accumulateAndGet(backendsOfRole(), Math::max);
      }
      assertThat(most.get()).as("no more than the new limit once shrunk").isEqualTo(1);

      stop.set(true);
      CompletableFuture.allOf(load.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
      assertThat(errors.get()).as("no client dropped").isZero();
    }
  }

  @Test
  void poolModeAndConnectedClientsTimeoutsFollowAReload() throws Exception {
    String databases = ProxyFixture.defaultDatabases();
    try (ProxyFixture proxy = start(databases, "pool_mode = session\ndefault_pool_size = 1\n");
        Connection admin = console(proxy);
        Statement console = admin.createStatement();
        Connection first = proxy.connect()) {
      // session mode, one server: a second client waits for the first to leave (pgjdbc runs a
      // statement as it connects, so already its connect waits)
      scalar(first.createStatement(), "select 1");
      CompletableFuture<String> waiting =
          CompletableFuture.supplyAsync(
              () -> {
                try (Connection second = proxy.connect()) {
                  return scalar(second.createStatement(), "select 'served'");
                } catch (SQLException e) {
                  return e.getMessage();
                }
              });
      Await.stillPending("session mode holds the server", waiting);
      rewrite(
          databases, "pool_mode = transaction\ndefault_pool_size = 1\nclient_idle_timeout = 0.5\n");
      console.execute("RELOAD");
      scalar(first.createStatement(), "select 1"); // its next transaction end releases the server
      assertThat(waiting.get(10, TimeUnit.SECONDS)).isEqualTo("served");
      // client_idle_timeout now applies to clients connected before the reload
      Await.until(
          "the idle client is closed",
          () -> {
            try {
              scalar(first.createStatement(), "select 1");
              Thread.sleep(700);
              return false;
            } catch (SQLException e) {
              return true;
            }
          });
    }
  }

  @Test
  void brokenConfigIsRefusedWholeAndTheRunningOneStays() throws Exception {
    String databases = ProxyFixture.defaultDatabases();
    try (ProxyFixture proxy = start(databases, "default_pool_size = 3\n");
        Connection admin = console(proxy);
        Statement console = admin.createStatement()) {
      rewrite(databases, "default_pool_size = ten\n");
      assertThatThrownBy(() -> console.execute("RELOAD"))
          .isInstanceOf(SQLException.class)
          .hasMessageContaining("RELOAD failed, see logs for additional details")
          .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("F0000"));
      assertThat(row(show(console, "CONFIG"), "key", "default_pool_size"))
          .containsEntry("value", "3");
      try (Connection c = proxy.connect()) {
        assertThat(scalar(c.createStatement(), "select 'still fine'")).isEqualTo("still fine");
      }
    }
  }

  @Test
  void keysThatCannotChangeAtRuntimeKeepTheirValue() throws Exception {
    String databases = ProxyFixture.defaultDatabases();
    try (ProxyFixture proxy = start(databases, "");
        Connection admin = console(proxy);
        Statement console = admin.createStatement()) {
      int port = proxy.port();
      rewrite(databases, "listen_port = 1\npkt_buf = 8192\nquery_wait_notify = 3\n");
      console.execute("RELOAD");
      assertThat(row(show(console, "CONFIG"), "key", "listen_port")).containsEntry("value", "0");
      assertThat(row(show(console, "CONFIG"), "key", "pkt_buf")).containsEntry("value", "4096");
      assertThat(row(show(console, "CONFIG"), "key", "query_wait_notify"))
          .containsEntry("value", "3");
      assertThat(proxy.port()).isEqualTo(port);
      try (Connection c = proxy.connect()) {
        assertThat(scalar(c.createStatement(), "select 1")).isEqualTo("1");
      }
    }
  }

  @Test
  void databasesAreAddedChangedAndRemoved() throws Exception {
    String one = ProxyFixture.defaultDatabases();
    try (ProxyFixture proxy = start(one, "");
        Connection admin = console(proxy);
        Statement console = admin.createStatement();
        Connection onApp = proxy.connect()) {
      int before = pid(onApp.createStatement());
      // app now says application_name=changed: its servers are replaced once released
      String two =
          "app = host=127.0.0.1 port=${PGPORT} dbname=app application_name=changed\n"
              + "other = host=127.0.0.1 port=${PGPORT} dbname=app\n";
      rewrite(two, "");
      console.execute("RELOAD");
      try (Connection onOther = proxy.connect("scram_user", "scram_pass", "other")) {
        assertThat(scalar(onOther.createStatement(), "select 'new database'"))
            .isEqualTo("new database");
      }
      Await.until("app's server was replaced", () -> pid(onApp.createStatement()) != before);

      rewrite("other = host=127.0.0.1 port=${PGPORT} dbname=app\n", "");
      console.execute("RELOAD");
      assertThatThrownBy(() -> scalar(onApp.createStatement(), "select 1"))
          .isInstanceOf(SQLException.class)
          .hasMessageContaining("database removed");
      assertThatThrownBy(proxy::connect)
          .isInstanceOf(SQLException.class)
          .hasMessageContaining("no such database: app");
    }
  }

  @Test
  void usersSectionChangesApplyToExistingPools() throws Exception {
    String databases = ProxyFixture.defaultDatabases();
    try (ProxyFixture proxy = start(databases, "default_pool_size = 5\n");
        Connection admin = console(proxy);
        Statement console = admin.createStatement();
        Connection holder = proxy.connect("md5_user", "md5_pass", "app")) {
      holder.setAutoCommit(false);
      scalar(holder.createStatement(), "select 1"); // holds one of md5_user's servers
      rewrite(databases + "\n[users]\nmd5_user = pool_size=1\n", "default_pool_size = 5\n");
      console.execute("RELOAD");
      assertThat(row(show(console, "USERS"), "name", "md5_user"))
          .containsEntry("pool_size", "        1");
      CompletableFuture<String> second =
          CompletableFuture.supplyAsync(
              () -> {
                try (Connection c = proxy.connect("md5_user", "md5_pass", "app")) {
                  return scalar(c.createStatement(), "select 'second'");
                } catch (SQLException e) {
                  return e.getMessage();
                }
              });
      Await.stillPending("pool_size=1 from the reloaded [users]", second);
      holder.commit();
      assertThat(second.get(10, TimeUnit.SECONDS)).isEqualTo("second");
    }
  }

  @Test
  void setChangesOneKeyUntilTheNextReload() throws Exception {
    try (ProxyFixture proxy = start(ProxyFixture.defaultDatabases(), "");
        Connection admin = console(proxy);
        Statement console = admin.createStatement()) {
      console.execute("SET default_pool_size = 7");
      assertThat(row(show(console, "CONFIG"), "key", "default_pool_size"))
          .containsEntry("value", "7");
      assertThat(row(show(console, "DATABASES"), "name", "app")).containsEntry("pool_size", "7");
      assertThatThrownBy(() -> console.execute("SET no_such_key = 1"))
          .hasMessageContaining("SET failed");
      assertThatThrownBy(() -> console.execute("SET default_pool_size = lots"))
          .hasMessageContaining("SET failed");
      console.execute("RELOAD"); // the file says 2 again
      assertThat(row(show(console, "CONFIG"), "key", "default_pool_size"))
          .containsEntry("value", "2");
    }
  }
}
