package io.jbouncer.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.jbouncer.testing.TestPostgres;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Closing jbouncer closes every server connection, whatever state it is in. */
class ShutdownIT {
  @TempDir Path dir;

  @Test
  void closeLeavesNoServerConnectionBehind() throws Exception {
    Roles.ensure("shutdown_user", "shutdown_pass");
    ProxyFixture proxy =
        ProxyFixture.start(
            dir,
            ProxyFixture.defaultDatabases(),
            "default_pool_size = 4\n",
            "\"shutdown_user\" \"shutdown_pass\"\n");
    Connection idle = proxy.connect("shutdown_user", "shutdown_pass", "app");
    Connection inTransaction = proxy.connect("shutdown_user", "shutdown_pass", "app");
    Connection running = proxy.connect("shutdown_user", "shutdown_pass", "app");
    inTransaction.setAutoCommit(false);
    inTransaction
        .createStatement()
        .execute("select 1"); // its server stays linked, in a transaction
    CompletableFuture<?> query =
        CompletableFuture.runAsync(
            () -> {
              try {
                running.createStatement().execute("select pg_sleep(2)");
              } catch (Exception expected) {
                // the proxy goes away under it
              }
            });
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (backends("active") == 0 && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    idle.createStatement().execute("select 1"); // a third server, back in the pool idle after
    assertThat(backends(null)).as("idle, in transaction and running").isEqualTo(3);

    proxy.close();
    query.get(10, TimeUnit.SECONDS);
    deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (backends(null) > 0 && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    // the running one ends when pg_sleep returns and PostgreSQL finds its socket closed
    assertThat(backends(null)).as("backends of shutdown_user after close").isZero();
    idle.close();
    inTransaction.close();
    running.close();
  }

  private static int backends(String state) throws Exception {
    try (Connection admin = TestPostgres.get().superuser();
        Statement st = admin.createStatement();
        ResultSet rs =
            st.executeQuery(
                "select count(*) from pg_stat_activity where usename = 'shutdown_user'"
                    + (state == null ? "" : " and state = '" + state + "'"))) {
      rs.next();
      return rs.getInt(1);
    }
  }
}
