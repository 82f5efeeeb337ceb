package io.jbouncer.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.jbouncer.embedded.EmbeddedPostgres;
import io.jbouncer.testing.Await;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * PostgreSQL restarted under load, pgbench style: clients loop over short transactions through
 * jbouncer while PostgreSQL goes down (fast shutdown) and comes back. On its own PostgreSQL, since
 * the shared one must not restart under other tests.
 *
 * <p>What must hold: jbouncer keeps serving; a client whose transaction was cut gets an error and
 * reconnects, the others just wait; every client gets transactions through after the restart; a new
 * client logs in; and PostgreSQL never sees more servers than {@code default_pool_size}.
 */
class PostgresRestartIT {
  private static final int CLIENTS = 20;
  private static final int POOL_SIZE = 5;

  private static EmbeddedPostgres pg;

  @TempDir Path dir;

  @BeforeAll
  static void startOwnPostgres() throws Exception {
    pg = EmbeddedPostgres.start();
    try (Connection c = direct("postgres");
        Statement st = c.createStatement()) {
      st.execute("create database loaddb");
    }
  }

  @AfterAll
  static void stopOwnPostgres() {
    if (pg != null) {
      pg.close();
    }
  }

  private static Connection direct(String db) throws SQLException {
    Properties props = new Properties();
    props.setProperty("user", pg.superuser());
    props.setProperty("password", pg.superuserPassword());
    props.setProperty("connectTimeout", "5");
    return DriverManager.getConnection(
        "jdbc:postgresql://" + pg.host() + ":" + pg.port() + "/" + db, props);
  }

  /** The most backends of loaddb seen at once, sampled every few milliseconds while up. */
  private static final class BackendSampler implements Runnable {
    final AtomicInteger max = new AtomicInteger();
    final AtomicBoolean stop = new AtomicBoolean();

    @Override
    public void run() {
      while (!stop.get()) {
        try (Connection c = direct("postgres");
            Statement st = c.createStatement()) {
          while (!stop.get()) {
            try (ResultSet rs =
                st.executeQuery("select count(*) from pg_stat_activity where datname = 'loaddb'")) {
              rs.next();
              max.accumulateAndGet(rs.getInt(1), Math::max);
            }
            Thread.sleep(5);
          }
        } catch (SQLException e) {
          sleep(50); // PostgreSQL is restarting
        } catch (InterruptedException e) {
          return;
        }
      }
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Test
  void clientsRideOutARestartAndThePoolNeverExceedsItsSize() throws Exception {
    String databases = "loaddb = host=127.0.0.1 port=" + pg.port() + " dbname=loaddb\n";
    String userlist = "\"" + pg.superuser() + "\" \"" + pg.superuserPassword() + "\"\n";
    String settings =
        "default_pool_size = "
            + POOL_SIZE
            + "\nserver_login_retry = 0.5\nquery_wait_timeout = 60\nmax_client_conn = 200\n";
    try (ProxyFixture proxy = ProxyFixture.start(dir, databases, settings, userlist)) {
      AtomicLong restartedAt = new AtomicLong(Long.MAX_VALUE);
      AtomicBoolean stop = new AtomicBoolean();
      AtomicInteger committed = new AtomicInteger();
      int[] committedAfterRestart = new int[CLIENTS];
      Map<String, Integer> errors = new ConcurrentHashMap<>();
      BackendSampler sampler = new BackendSampler();
      Thread samplerThread = new Thread(sampler, "backend-sampler");
      samplerThread.start();

      List<Thread> clients = new ArrayList<>();
      for (int i = 0; i < CLIENTS; i++) {
        int client = i;
        Thread t =
            new Thread(
                () -> {
                  Connection c = null;
                  while (!stop.get()) {
                    try {
                      if (c == null) {
                        c = proxy.connect(pg.superuser(), pg.superuserPassword(), "loaddb");
                        c.setAutoCommit(false);
                      }
                      try (Statement st = c.createStatement()) {
                        st.execute("select pg_backend_pid()");
                        st.execute("select 1");
                      }
                      c.commit();
                      committed.incrementAndGet();
                      if (System.nanoTime() > restartedAt.get()) {
                        committedAfterRestart[client]++;
                      }
                    } catch (SQLException e) {
                      errors.merge(e.getSQLState() + " " + e.getMessage(), 1, Integer::sum);
                      closeQuietly(c);
                      c = null; // reconnect, as applications do
                      sleep(20);
                    }
                  }
                  closeQuietly(c);
                },
                "load-" + i);
        t.start();
        clients.add(t);
      }

      Await.until("load is running", () -> committed.get() >= 200);
      pg.restart();
      restartedAt.set(System.nanoTime());
      Await.until(
          "every client committed again after the restart",
          java.time.Duration.ofSeconds(60),
          () -> {
            for (int n : committedAfterRestart) {
              if (n < 5) {
                return false;
              }
            }
            return true;
          });
      stop.set(true);
      for (Thread t : clients) {
        t.join(TimeUnit.SECONDS.toMillis(30));
      }
      sampler.stop.set(true);
      samplerThread.join(TimeUnit.SECONDS.toMillis(10));

      assertThat(sampler.max.get()).as("servers PostgreSQL saw at once").isBetween(1, POOL_SIZE);
      // a transaction cut by the restart: PostgreSQL's FATAL 57P01 or jbouncer's 08P01 (server
      // conn crashed?, or the cached login error while PostgreSQL was down), then pgjdbc's
      // "connection closed" (08003/08006) on the next use; nothing else
      Set<String> allowed = Set.of("57P01", "08P01", "08003", "08006");
      assertThat(errors.keySet())
          .as("errors seen: %s", errors)
          .allSatisfy(e -> assertThat(e.substring(0, 5)).isIn(allowed));
      try (Connection late = proxy.connect(pg.superuser(), pg.superuserPassword(), "loaddb");
          Statement st = late.createStatement()) {
        assertThat(TransactionPoolingIT.scalar(st, "select 'after the restart'"))
            .isEqualTo("after the restart");
      }
      assertThat(proxy.bouncer().pooler().pools())
          .allSatisfy(p -> assertThat(p.counts().servers()).isLessThanOrEqualTo(POOL_SIZE));
    }
  }

  private static void closeQuietly(Connection c) {
    if (c != null) {
      try {
        c.close();
      } catch (SQLException e) {
        // it is broken anyway
      }
    }
  }
}
