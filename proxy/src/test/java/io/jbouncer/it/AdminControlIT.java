package io.jbouncer.it;

import static io.jbouncer.it.AdminConsoleIT.row;
import static io.jbouncer.it.AdminConsoleIT.show;
import static io.jbouncer.it.TransactionPoolingIT.pid;
import static io.jbouncer.it.TransactionPoolingIT.scalar;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jbouncer.testing.Await;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The admin console's process control against real PostgreSQL: PAUSE waits for servers to be
 * released and holds clients until RESUME; DISABLE refuses logins; RECONNECT and WAIT_CLOSE; KILL
 * and KILL_CLIENT; SUSPEND; the three SHUTDOWNs. Each with PgBouncer's replies and errors.
 */
class AdminControlIT {
  @TempDir Path dir;

  private ProxyFixture start(String extra) throws Exception {
    return ProxyFixture.start(
        dir,
        ProxyFixture.defaultDatabases(),
        "admin_users = admin\n" + extra,
        ProxyFixture.USERLIST + "\"admin\" \"admin_pass\"\n");
  }

  private static Connection console(ProxyFixture proxy) throws SQLException {
    return proxy.connect("admin", "admin_pass", "pgbouncer", "preferQueryMode", "simple");
  }

  /** Runs an admin command on another thread; completes with its tag or error message. */
  private static CompletableFuture<String> async(Statement console, String command) {
    return CompletableFuture.supplyAsync(
        () -> {
          try {
            console.execute(command);
            return "done";
          } catch (SQLException e) {
            return "error: " + e.getMessage();
          }
        });
  }

  private static CompletableFuture<String> query(Statement st, String sql) {
    return CompletableFuture.supplyAsync(
        () -> {
          try {
            return scalar(st, sql);
          } catch (SQLException e) {
            return "error: " + e.getMessage();
          }
        });
  }

  /** Completes when jbouncer has stopped. */
  private static CompletableFuture<Void> termination(ProxyFixture proxy) {
    return CompletableFuture.runAsync(
        () -> {
          try {
            proxy.bouncer().awaitTermination();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        });
  }

  @Test
  void pauseWaitsForServersAndHoldsClientsUntilResume() throws Exception {
    try (ProxyFixture proxy = start("");
        Connection admin = console(proxy);
        Statement console = admin.createStatement();
        Connection busy = proxy.connect();
        Connection later = proxy.connect();
        Statement busySt = busy.createStatement();
        Statement laterSt = later.createStatement()) {
      busy.setAutoCommit(false);
      scalar(busySt, "select 1"); // a server in an open transaction
      CompletableFuture<String> pause = async(console, "PAUSE");
      Await.stillPending("PAUSE waits for the busy server", pause);
      busy.commit(); // released: closed ("pause mode"), and PAUSE is done
      assertThat(pause.get(10, TimeUnit.SECONDS)).isEqualTo("done");

      try (Connection peek = console(proxy);
          Statement st = peek.createStatement()) {
        assertThat(row(show(st, "STATE"), "key", "paused")).containsEntry("value", "yes");
        assertThat(row(show(st, "POOLS"), "database", "app").get("sv_idle")).isEqualTo("0");
        assertThatThrownBy(() -> st.execute("PAUSE"))
            .hasMessageContaining("already suspended/paused");
      }
      CompletableFuture<String> held = query(laterSt, "select 'after resume'");
      Await.stillPending("no server while paused", held);
      console.execute("RESUME");
      assertThat(held.get(10, TimeUnit.SECONDS)).isEqualTo("after resume");
      assertThatThrownBy(() -> console.execute("RESUME"))
          .hasMessageContaining("pooler is not paused/suspended");
    }
  }

  @Test
  void pauseAndResumeOfOneDatabase() throws Exception {
    try (ProxyFixture proxy = start("");
        Connection admin = console(proxy);
        Statement console = admin.createStatement()) {
      console.execute("PAUSE app");
      try (Connection c = console(proxy);
          Statement st = c.createStatement()) {
        assertThat(row(show(st, "DATABASES"), "name", "app")).containsEntry("paused", "1");
        assertThatThrownBy(() -> st.execute("PAUSE pgbouncer"))
            .hasMessageContaining("cannot pause admin db: pgbouncer");
        assertThatThrownBy(() -> st.execute("PAUSE nowhere"))
            .hasMessageContaining("no such database: nowhere");
      }
      console.execute("RESUME app");
      assertThatThrownBy(() -> console.execute("RESUME app"))
          .hasMessageContaining("database app is not paused");
      try (Connection c = proxy.connect()) {
        assertThat(scalar(c.createStatement(), "select 'served'")).isEqualTo("served");
      }
    }
  }

  @Test
  void disableRefusesNewClientsUntilEnable() throws Exception {
    try (ProxyFixture proxy = start("");
        Connection admin = console(proxy);
        Statement console = admin.createStatement();
        Connection connected = proxy.connect()) {
      console.execute("DISABLE app");
      assertThatThrownBy(proxy::connect)
          .isInstanceOf(SQLException.class)
          .hasMessageContaining("database \"app\" is disabled");
      assertThat(scalar(connected.createStatement(), "select 'still served'"))
          .isEqualTo("still served");
      assertThatThrownBy(() -> console.execute("DISABLE"))
          .hasMessageContaining("a database is required");
      console.execute("ENABLE app");
      try (Connection c = proxy.connect()) {
        assertThat(scalar(c.createStatement(), "select 1")).isEqualTo("1");
      }
    }
  }

  @Test
  void reconnectReplacesServersOnceReleasedAndWaitCloseWaitsForIt() throws Exception {
    try (ProxyFixture proxy = start("default_pool_size = 1\n");
        Connection admin = console(proxy);
        Statement console = admin.createStatement();
        Connection client = proxy.connect();
        Statement st = client.createStatement()) {
      client.setAutoCommit(false);
      int before = pid(st); // the only server, held in a transaction
      console.execute("RECONNECT app");
      CompletableFuture<String> waitClose = async(console, "WAIT_CLOSE app");
      Await.stillPending("the busy server is not closed yet", waitClose);
      assertThat(pid(st)).as("the open transaction goes on").isEqualTo(before);
      client.commit();
      assertThat(waitClose.get(10, TimeUnit.SECONDS)).isEqualTo("done");
      assertThat(pid(st)).as("a new server").isNotEqualTo(before);
    }
  }

  @Test
  void killDropsTheDatabasesClientsAndKeepsItPausedUntilResume() throws Exception {
    try (ProxyFixture proxy = start("");
        Connection admin = console(proxy);
        Statement console = admin.createStatement();
        Connection victim = proxy.connect()) {
      scalar(victim.createStatement(), "select 1");
      console.execute("KILL app");
      assertThatThrownBy(() -> scalar(victim.createStatement(), "select 1"))
          .isInstanceOf(SQLException.class);
      try (Connection c = console(proxy);
          Statement st = c.createStatement()) {
        Map<String, String> pool = row(show(st, "POOLS"), "database", "app");
        assertThat(pool.get("cl_active")).isEqualTo("0");
        assertThat(row(show(st, "DATABASES"), "name", "app")).containsEntry("paused", "1");
      }
      // pgjdbc runs a statement as it connects: that waits for a server like any query
      CompletableFuture<String> held =
          CompletableFuture.supplyAsync(
              () -> {
                try (Connection next = proxy.connect()) {
                  return scalar(next.createStatement(), "select 'resumed'");
                } catch (SQLException e) {
                  return "error: " + e.getMessage();
                }
              });
      Await.stillPending("paused after KILL", held);
      console.execute("RESUME app");
      assertThat(held.get(10, TimeUnit.SECONDS)).isEqualTo("resumed");
    }
  }

  @Test
  void killClientClosesJustThatClient() throws Exception {
    try (ProxyFixture proxy = start("");
        Connection admin = console(proxy);
        Statement console = admin.createStatement();
        Connection target = proxy.connect("md5_user", "md5_pass", "app");
        Connection bystander = proxy.connect()) {
      String id = row(show(console, "CLIENTS"), "user", "md5_user").get("id");
      console.execute("KILL_CLIENT " + id);
      assertThatThrownBy(() -> scalar(target.createStatement(), "select 1"))
          .isInstanceOf(SQLException.class);
      assertThat(scalar(bystander.createStatement(), "select 'fine'")).isEqualTo("fine");
      assertThatThrownBy(() -> console.execute("KILL_CLIENT " + id))
          .hasMessageContaining("client not found");
    }
  }

  @Test
  void suspendStopsReadingUntilResume() throws Exception {
    try (ProxyFixture proxy = start("");
        Connection admin = console(proxy);
        Statement console = admin.createStatement();
        Connection client = proxy.connect();
        Statement st = client.createStatement()) {
      console.execute("SUSPEND");
      CompletableFuture<String> held = query(st, "select 'after suspend'");
      Await.stillPending("nothing is read while suspended", held);
      console.execute("RESUME");
      assertThat(held.get(10, TimeUnit.SECONDS)).isEqualTo("after suspend");
    }
  }

  @Test
  void suspendEndsWhenItsConsoleLeaves() throws Exception {
    try (ProxyFixture proxy = start("");
        Connection client = proxy.connect();
        Statement st = client.createStatement()) {
      try (Connection admin = console(proxy);
          Statement console = admin.createStatement()) {
        console.execute("SUSPEND");
      }
      assertThat(query(st, "select 'resumed'").get(10, TimeUnit.SECONDS)).isEqualTo("resumed");
    }
  }

  @Test
  void shutdownWaitForClientsEndsOnceTheLastClientLeaves() throws Exception {
    try (ProxyFixture proxy = start("")) {
      Connection client = proxy.connect();
      try (Connection admin = console(proxy);
          Statement console = admin.createStatement()) {
        console.execute("SHUTDOWN WAIT_FOR_CLIENTS");
      }
      assertThatThrownBy(proxy::connect).as("no new connections").isInstanceOf(SQLException.class);
      assertThat(scalar(client.createStatement(), "select 'still served'"))
          .isEqualTo("still served");
      CompletableFuture<Void> ended = termination(proxy);
      Await.stillPending("a client is still connected", ended);
      client.close();
      ended.get(15, TimeUnit.SECONDS);
    }
  }

  @Test
  void shutdownWaitForServersEndsOnceNoServerIsBusy() throws Exception {
    try (ProxyFixture proxy = start("")) {
      Connection busy = proxy.connect();
      busy.setAutoCommit(false);
      scalar(busy.createStatement(), "select 1");
      try (Connection admin = console(proxy);
          Statement console = admin.createStatement()) {
        console.execute("SHUTDOWN WAIT_FOR_SERVERS");
      }
      CompletableFuture<Void> ended = termination(proxy);
      Await.stillPending("a transaction is open", ended);
      busy.commit();
      ended.get(15, TimeUnit.SECONDS);
      busy.close();
    }
  }

  @Test
  void plainShutdownEndsAtOnceWithoutAnswering() throws Exception {
    try (ProxyFixture proxy = start("");
        Connection idle = proxy.connect()) {
      Connection admin = console(proxy);
      CompletableFuture<String> shutdown = async(admin.createStatement(), "SHUTDOWN");
      proxy.bouncer().awaitTermination();
      assertThat(shutdown.get(10, TimeUnit.SECONDS)).startsWith("error:"); // the line went down
      admin.close();
    }
  }
}
