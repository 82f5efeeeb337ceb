package io.jbouncer.it;

import static io.jbouncer.it.TransactionPoolingIT.pid;
import static io.jbouncer.it.TransactionPoolingIT.scalar;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Cancel requests reach the query of the client that sent them, and nothing else. */
class CancelIT {
  @TempDir Path dir;

  @Test
  void cancelStopsTheClientsRunningQuery() throws Exception {
    try (ProxyFixture proxy = ProxyFixture.start(dir, "");
        Connection c = proxy.connect();
        Statement st = c.createStatement()) {
      int pid = pid(st);
      CompletableFuture<SQLException> failure =
          TransactionPoolingIT.failureOf(st, "select pg_sleep(60)");
      SessionAndDisconnectIT.awaitActive(pid);
      st.cancel();
      SQLException e = failure.get(20, TimeUnit.SECONDS);
      assertThat((Throwable) e).isNotNull();
      assertThat(e.getSQLState()).isEqualTo("57014");
      assertThat(scalar(st, "select 'still usable'")).isEqualTo("still usable");
    }
  }

  @Test
  void cancelOfAnIdleClientDoesNotTouchAnotherClientsQuery() throws Exception {
    try (ProxyFixture proxy = ProxyFixture.start(dir, "default_pool_size = 1\n");
        Connection idle = proxy.connect();
        Connection busy = proxy.connect();
        Statement idleSt = idle.createStatement();
        Statement busySt = busy.createStatement()) {
      idleSt.execute("select 1"); // idle has used (and released) the only server
      int pid = pid(busySt);
      CompletableFuture<String> result =
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return scalar(busySt, "select pg_sleep(1.5)::text || 'done'");
                } catch (SQLException e) {
                  return e.getSQLState();
                }
              });
      SessionAndDisconnectIT.awaitActive(pid);
      idleSt.cancel(); // same server process as busy's query, but idle has no query running
      assertThat(result.get(20, TimeUnit.SECONDS)).isEqualTo("done");
    }
  }

  @Test
  void cancelOfAQueuedClientTakesItOutOfTheQueue() throws Exception {
    try (ProxyFixture proxy = ProxyFixture.start(dir, "default_pool_size = 1\n");
        Connection holder = proxy.connect();
        Connection queued = proxy.connect();
        Statement holderSt = holder.createStatement();
        Statement queuedSt = queued.createStatement()) {
      holder.setAutoCommit(false);
      holderSt.execute("select 1"); // holds the only server in a transaction
      CompletableFuture<SQLException> failure =
          TransactionPoolingIT.failureOf(queuedSt, "select 'never ran'");
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (proxy.bouncer().pooler().pools().stream().mapToInt(p -> p.counts().waiting()).sum()
              == 0
          && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      queuedSt.cancel();
      SQLException e = failure.get(10, TimeUnit.SECONDS);
      assertThat((Throwable) e).isNotNull();
      assertThat(e.getSQLState()).isEqualTo("57014");
      holder.commit();
      assertThat(scalar(queuedSt, "select 'usable after'")).isEqualTo("usable after");
    }
  }

  @Test
  void cancelWithAnUnknownKeyIsIgnored() throws Exception {
    try (ProxyFixture proxy = ProxyFixture.start(dir, "");
        Connection c = proxy.connect();
        Statement st = c.createStatement();
        RawClient raw = new RawClient(proxy.port())) {
      byte[] cancel = {0, 0, 0, 16, 0x04, (byte) 0xd2, 0x16, 0x2e, 1, 2, 3, 4, 5, 6, 7, 8};
      raw.send(cancel);
      assertThat(raw.closedByServer()).isTrue();
      assertThat(scalar(st, "select 'unaffected'")).isEqualTo("unaffected");
    }
  }

  @Test
  void queryAfterTimedOutStatementStillWorks() throws Exception {
    try (ProxyFixture proxy = ProxyFixture.start(dir, "");
        Connection c = proxy.connect();
        Statement st = c.createStatement()) {
      st.setQueryTimeout(1); // pgjdbc cancels through a CancelRequest after 1 s
      assertThatThrownBy(() -> st.execute("select pg_sleep(30)"))
          .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("57014"));
      st.setQueryTimeout(0);
      assertThat(scalar(st, "select 42")).isEqualTo("42");
    }
  }
}
