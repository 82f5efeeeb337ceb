package io.jbouncer.it;

import static io.jbouncer.it.TransactionPoolingIT.pid;
import static io.jbouncer.it.TransactionPoolingIT.scalar;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jbouncer.testing.TestPostgres;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Session mode, server reuse and reset, and clients that vanish mid-transaction. */
class SessionAndDisconnectIT {
  @TempDir Path dir;

  @Test
  void sessionModeReusesTheServerAfterResettingIt() throws Exception {
    try (ProxyFixture proxy =
        ProxyFixture.start(dir, "pool_mode = session\ndefault_pool_size = 1\n")) {
      int firstPid;
      try (Connection c = proxy.connect();
          Statement st = c.createStatement()) {
        firstPid = pid(st);
        st.execute("set work_mem = '7MB'");
        st.execute("create temp table session_scratch (v int)");
        assertThat(scalar(st, "show work_mem")).isEqualTo("7MB");
      }
      try (Connection c = proxy.connect();
          Statement st = c.createStatement()) {
        assertThat(pid(st)).as("the one server is reused, not reopened").isEqualTo(firstPid);
        assertThat(scalar(st, "show work_mem")).as("DISCARD ALL ran on release").isEqualTo("4MB");
        assertThat(scalar(st, "select count(*) from pg_tables where tablename = 'session_scratch'"))
            .isEqualTo("0");
      }
    }
  }

  @Test
  void sessionModeKeepsOneServerForTheWholeSession() throws Exception {
    try (ProxyFixture proxy =
            ProxyFixture.start(dir, "pool_mode = session\ndefault_pool_size = 2\n");
        Connection a = proxy.connect();
        Connection b = proxy.connect();
        Statement sa = a.createStatement();
        Statement sb = b.createStatement()) {
      int pidA = pid(sa);
      int pidB = pid(sb);
      assertThat(pidA).isNotEqualTo(pidB);
      sa.execute("set work_mem = '9MB'");
      for (int i = 0; i < 5; i++) {
        assertThat(pid(sa)).isEqualTo(pidA);
        assertThat(pid(sb)).isEqualTo(pidB);
        assertThat(scalar(sa, "show work_mem")).isEqualTo("9MB");
      }
    }
  }

  @Test
  void statementModeRunsStatementsAndRefusesTransactionBlocks() throws Exception {
    try (ProxyFixture proxy =
            ProxyFixture.start(dir, "pool_mode = statement\ndefault_pool_size = 1\n");
        Connection c =
            proxy.connect("scram_user", "scram_pass", "app", "preferQueryMode", "simple");
        Statement st = c.createStatement()) {
      assertThat(scalar(st, "select 'one statement'")).isEqualTo("one statement");
      c.setAutoCommit(false);
      assertThatThrownBy(() -> st.execute("select 1"))
          .isInstanceOf(java.sql.SQLException.class)
          .hasMessageContaining("transaction blocks not allowed in statement pooling mode");
    }
    try (ProxyFixture proxy =
            ProxyFixture.start(dir, "pool_mode = statement\ndefault_pool_size = 1\n");
        Connection c = proxy.connect();
        Statement st = c.createStatement()) {
      assertThat(
              scalar(
                  st,
                  "select count(*) from pg_stat_activity where state like 'idle in transaction%'"))
          .as("the server that opened the transaction was closed, not pooled")
          .isEqualTo("0");
    }
  }

  @Test
  void usersSectionOverridesPoolModeAndPoolSize() throws Exception {
    String databases =
        ProxyFixture.defaultDatabases() + "\n[users]\nmd5_user = pool_mode=session pool_size=1\n";
    try (ProxyFixture proxy =
        ProxyFixture.start(dir, databases, "default_pool_size = 5\n", ProxyFixture.USERLIST)) {
      Connection a = proxy.connect("md5_user", "md5_pass", "app");
      Statement sa = a.createStatement();
      sa.execute("set work_mem = '5MB'");
      int pid = pid(sa);
      // b's first statement (pgjdbc's own SET application_name after login) needs a server
      java.util.concurrent.CompletableFuture<Integer> b =
          java.util.concurrent.CompletableFuture.supplyAsync(
              () -> {
                try (Connection second = proxy.connect("md5_user", "md5_pass", "app")) {
                  return pid(second.createStatement());
                } catch (java.sql.SQLException e) {
                  return -1;
                }
              });
      assertThat(scalar(sa, "show work_mem")).as("session mode from [users]").isEqualTo("5MB");
      assertThat(pid(sa)).isEqualTo(pid);
      Thread.sleep(300);
      assertThat(b).as("pool_size=1 from [users]: b waits for a's session").isNotDone();
      a.close();
      assertThat(b.get(10, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo(pid);
    }
  }

  @Test
  void transactionModeReusesServersAcrossTransactions() throws Exception {
    try (ProxyFixture proxy = ProxyFixture.start(dir, "default_pool_size = 1\n");
        Connection a = proxy.connect();
        Connection b = proxy.connect();
        Statement sa = a.createStatement();
        Statement sb = b.createStatement()) {
      int pid = pid(sa);
      for (int i = 0; i < 10; i++) {
        assertThat(pid(sa)).isEqualTo(pid);
        assertThat(pid(sb)).isEqualTo(pid);
      }
    }
  }

  @Test
  void serverReleasedWhileItsClientWasFullStillServesTheNextClient() throws Exception {
    // the result overflows the client's write buffer within one read batch that also holds the
    // ReadyForQuery: the server is released while backpressure has paused its reads
    try (ProxyFixture proxy = ProxyFixture.start(dir, "default_pool_size = 1\n");
        Connection big = proxy.connect("scram_user", "scram_pass", "app", "socketTimeout", "15");
        Connection next = proxy.connect("scram_user", "scram_pass", "app", "socketTimeout", "15");
        Statement bigSt = big.createStatement();
        Statement nextSt = next.createStatement()) {
      for (int i = 0; i < 4; i++) {
        // many small rows: the proxy reads them in large batches, as it does under load
        try (ResultSet rs =
            bigSt.executeQuery("select repeat('x', 200) from generate_series(1, 100000)")) {
          int rows = 0;
          while (rs.next()) {
            rows++;
          }
          assertThat(rows).isEqualTo(100000);
        }
        assertThat(scalar(nextSt, "select 'served'")).isEqualTo("served");
      }
    }
  }

  @Test
  void clientVanishingMidTransactionNeverLeavesADirtyServer() throws Exception {
    for (String mode : new String[] {"transaction", "session"}) {
      try (ProxyFixture proxy =
          ProxyFixture.start(dir, "pool_mode = " + mode + "\ndefault_pool_size = 1\n")) {
        try (Connection setup = proxy.connect();
            Statement st = setup.createStatement()) {
          st.execute("create table if not exists vanish (v text)");
          st.execute("truncate vanish");
        }
        Connection doomed = proxy.connect();
        Statement st = doomed.createStatement();
        doomed.setAutoCommit(false);
        st.execute("insert into vanish values ('uncommitted')");
        st.execute("lock table vanish in access exclusive mode");
        doomed.abort(Executors.newSingleThreadExecutor()); // drops the socket, no Terminate

        try (Connection next = proxy.connect();
            Statement ns = next.createStatement()) {
          // with pool_size 1 the next client gets a clean server: no open transaction, no lock
          ns.execute("set lock_timeout = '5s'");
          assertThat(scalar(ns, "select count(*) from vanish")).isEqualTo("0");
          assertThat(
                  scalar(
                      ns,
                      "select count(*) from pg_stat_activity where state like 'idle in transaction%'"))
              .isEqualTo("0");
        }
      }
    }
  }

  @Test
  void clientVanishingWhileItsQueryRunsClosesThatServer() throws Exception {
    try (ProxyFixture proxy = ProxyFixture.start(dir, "default_pool_size = 1\n")) {
      Connection doomed = proxy.connect();
      int doomedPid = pid(doomed.createStatement());
      Thread runner =
          new Thread(
              () -> {
                try {
                  doomed.createStatement().execute("select pg_sleep(30)");
                } catch (Exception expected) {
                  // aborted below
                }
              });
      runner.start();
      awaitActive(doomedPid);
      doomed.abort(Executors.newSingleThreadExecutor());
      runner.join(10_000);
      try (Connection next = proxy.connect();
          Statement ns = next.createStatement()) {
        assertThat(pid(ns))
            .as("the server running the abandoned query is not reused")
            .isNotEqualTo(doomedPid);
      }
    }
  }

  static void awaitActive(int pid) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    try (Connection admin = TestPostgres.get().superuser();
        Statement st = admin.createStatement()) {
      while (System.nanoTime() < deadline) {
        try (ResultSet rs =
            st.executeQuery("select state from pg_stat_activity where pid = " + pid)) {
          if (rs.next() && "active".equals(rs.getString(1))) {
            return;
          }
        }
        Thread.sleep(20);
      }
    }
    throw new AssertionError("backend " + pid + " never became active");
  }
}
