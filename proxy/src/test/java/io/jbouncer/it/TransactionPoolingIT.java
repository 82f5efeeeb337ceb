package io.jbouncer.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jbouncer.testing.TestPostgres;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Transaction pooling through jbouncer against real PostgreSQL, with pgjdbc. */
class TransactionPoolingIT {
  @TempDir static Path dir;
  static ProxyFixture proxy;

  @BeforeAll
  static void start() throws Exception {
    Roles.ensure("pool_user", "pool_pass");
    proxy =
        ProxyFixture.start(
            dir,
            ProxyFixture.defaultDatabases(),
            "default_pool_size = 2\n",
            ProxyFixture.USERLIST + "\"pool_user\" \"pool_pass\"\n");
  }

  @AfterAll
  static void stop() throws Exception {
    proxy.close();
  }

  @Test
  void simpleProtocolQueries() throws Exception {
    try (Connection c =
            proxy.connect("scram_user", "scram_pass", "app", "preferQueryMode", "simple");
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("select 1 + 1, 'jbouncer'::text, current_user")) {
      assertThat(rs.next()).isTrue();
      assertThat(rs.getInt(1)).isEqualTo(2);
      assertThat(rs.getString(2)).isEqualTo("jbouncer");
      assertThat(rs.getString(3)).isEqualTo("scram_user");
    }
  }

  @Test
  void extendedProtocolQueriesWithParameters() throws Exception {
    try (Connection c = proxy.connect();
        PreparedStatement ps = c.prepareStatement("select ?::int * 2, ?::text || '!'")) {
      for (int i = 0; i < 20; i++) {
        ps.setInt(1, i);
        ps.setString(2, "x" + i);
        try (ResultSet rs = ps.executeQuery()) {
          assertThat(rs.next()).isTrue();
          assertThat(rs.getInt(1)).isEqualTo(i * 2);
          assertThat(rs.getString(2)).isEqualTo("x" + i + "!");
        }
      }
    }
  }

  @Test
  void errorInsideTransactionRollsBackAndConnectionStaysUsable() throws Exception {
    try (Connection c =
            proxy.connect("scram_user", "scram_pass", "app", "preferQueryMode", "simple");
        Statement st = c.createStatement()) {
      st.execute("create table if not exists tx_error (v int)");
      c.setAutoCommit(false);
      st.execute("insert into tx_error values (1)");
      assertThatThrownBy(() -> st.execute("select 1/0"))
          .isInstanceOf(SQLException.class)
          .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("22012"));
      assertThatThrownBy(() -> st.execute("select 1"))
          .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("25P02"));
      c.rollback();
      c.setAutoCommit(true);
      try (ResultSet rs = st.executeQuery("select count(*) from tx_error where v = 1")) {
        rs.next();
        assertThat(rs.getInt(1)).isZero();
      }
    }
  }

  @Test
  void clientNeverSeesAnotherClientsTransaction() throws Exception {
    try (Connection a = proxy.connect();
        Connection b = proxy.connect();
        Statement sa = a.createStatement();
        Statement sb = b.createStatement()) {
      sa.execute("create table if not exists isolation_check (owner text)");
      a.setAutoCommit(false);
      sa.execute("insert into isolation_check values ('a')");
      int pidA = pid(sa);
      // b runs while a's transaction is open: it must get the other server, and not see a's row
      assertThat(pid(sb)).isNotEqualTo(pidA);
      try (ResultSet rs =
          sb.executeQuery("select count(*) from isolation_check where owner = 'a'")) {
        rs.next();
        assertThat(rs.getInt(1)).isZero();
      }
      assertThat(pid(sa)).as("a keeps its server for the whole transaction").isEqualTo(pidA);
      a.rollback();
    }
  }

  @Test
  void poolOfTwoServesTwentyConcurrentClientsWithAtMostTwoServers() throws Exception {
    int clients = 20;
    int transactionsEach = 25;
    ExecutorService pool = Executors.newFixedThreadPool(clients + 1);
    AtomicBoolean running = new AtomicBoolean(true);
    AtomicInteger maxServers = new AtomicInteger();
    try (Connection admin = TestPostgres.get().superuser()) {
      Future<?> watcher =
          pool.submit(
              () -> {
                try (PreparedStatement ps =
                    admin.prepareStatement(
                        "select count(*) from pg_stat_activity where usename = 'pool_user' and backend_type = 'client backend'")) {
                  while (running.get()) {
                    try (ResultSet rs = ps.executeQuery()) {
                      rs.next();
                      maxServers.accumulateAndGet(rs.getInt(1), Math::max);
                    }
                    Thread.sleep(5);
                  }
                }
                return null;
              });
      try (Connection setup = proxy.connect("pool_user", "pool_pass", "app");
          Statement st = setup.createStatement()) {
        st.execute("create table if not exists counter_" + "pool (id int primary key, n int)");
        st.execute("insert into counter_pool values (1, 0) on conflict (id) do update set n = 0");
      }
      CountDownLatch go = new CountDownLatch(1);
      List<Future<Integer>> results = new ArrayList<>();
      for (int i = 0; i < clients; i++) {
        boolean simple = i % 2 == 0;
        results.add(
            pool.submit(
                () -> {
                  try (Connection c =
                          simple
                              ? proxy.connect(
                                  "pool_user", "pool_pass", "app", "preferQueryMode", "simple")
                              : proxy.connect("pool_user", "pool_pass", "app");
                      Statement st = c.createStatement()) {
                    go.await();
                    int done = 0;
                    for (int t = 0; t < transactionsEach; t++) {
                      c.setAutoCommit(false);
                      st.executeUpdate("update counter_pool set n = n + 1 where id = 1");
                      st.executeQuery("select pg_sleep(0.001)").close();
                      c.commit();
                      c.setAutoCommit(true);
                      done++;
                    }
                    return done;
                  }
                }));
      }
      go.countDown();
      int total = 0;
      for (Future<Integer> f : results) {
        total += f.get(120, TimeUnit.SECONDS);
      }
      running.set(false);
      watcher.get(10, TimeUnit.SECONDS);
      assertThat(total).isEqualTo(clients * transactionsEach);
      try (Connection check = proxy.connect("pool_user", "pool_pass", "app");
          Statement st = check.createStatement();
          ResultSet rs = st.executeQuery("select n from counter_pool where id = 1")) {
        rs.next();
        assertThat(rs.getInt(1)).isEqualTo(clients * transactionsEach);
      }
      assertThat(maxServers.get())
          .as("server connections seen in pg_stat_activity")
          .isBetween(1, 2);
    } finally {
      running.set(false);
      pool.shutdownNow();
    }
  }

  @Test
  void pipelinedQueriesKeepTheServerUntilTheLastReply() throws Exception {
    Path own = java.nio.file.Files.createDirectories(dir.resolve("pool-of-one"));
    try (ProxyFixture single = ProxyFixture.start(own, "default_pool_size = 1\n");
        RawClient pipelining = RawClient.loggedIn(single.port(), "trust_user", "trust_pass");
        Connection other = single.connect()) {
      // two queries in one write: the server must not go to the waiting client after the first
      byte[] first = RawClient.typed('Q', RawClient.cstring("select pg_sleep(0.5)::text"));
      byte[] second = RawClient.typed('Q', RawClient.cstring("select 'second'"));
      byte[] both = new byte[first.length + second.length];
      System.arraycopy(first, 0, both, 0, first.length);
      System.arraycopy(second, 0, both, first.length, second.length);
      pipelining.send(both);
      java.util.concurrent.CompletableFuture<String> waiting =
          java.util.concurrent.CompletableFuture.supplyAsync(
              () -> {
                try {
                  return scalar(other.createStatement(), "select 'other'");
                } catch (SQLException e) {
                  return e.toString();
                }
              });
      List<String> values = new ArrayList<>();
      int readyForQuery = 0;
      while (readyForQuery < 2) {
        RawClient.Message m = pipelining.read();
        if (m.type() == 'D') {
          values.add(
              new String(
                  m.body(), 6, m.body().length - 6, java.nio.charset.StandardCharsets.UTF_8));
        } else if (m.type() == 'Z') {
          readyForQuery++;
        }
      }
      assertThat(values).containsExactly("", "second");
      assertThat(waiting.get(20, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo("other");
    }
  }

  @Test
  void largeResultsStreamThrough() throws Exception {
    try (Connection c =
            proxy.connect("scram_user", "scram_pass", "app", "preferQueryMode", "simple");
        Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery("select g, repeat('x', 200) from generate_series(1, 100000) g")) {
      long sum = 0;
      int rows = 0;
      while (rs.next()) {
        sum += rs.getInt(1);
        assertThat(rs.getString(2)).hasSize(200);
        rows++;
      }
      assertThat(rows).isEqualTo(100000);
      assertThat(sum).isEqualTo(100000L * 100001 / 2);
    }
  }

  @Test
  void largeValuesGoBothWaysInPieces() throws Exception {
    byte[] value = new byte[24 << 20]; // far over pkt_buf: forwarded as it arrives, both ways
    new java.util.Random(7).nextBytes(value);
    try (Connection c = proxy.connect()) {
      try (java.sql.PreparedStatement roundTrip =
          c.prepareStatement("select ?::bytea, md5(?::bytea)")) {
        roundTrip.setBytes(1, value);
        roundTrip.setBytes(2, value);
        try (ResultSet rs = roundTrip.executeQuery()) {
          rs.next();
          assertThat(rs.getBytes(1)).isEqualTo(value);
          assertThat(rs.getString(2))
              .isEqualTo(
                  java.util.HexFormat.of()
                      .formatHex(java.security.MessageDigest.getInstance("MD5").digest(value)));
        }
      }
    }
  }

  @Test
  void copyInAndOutWorkInTransactionMode() throws Exception {
    try (Connection c = proxy.connect();
        Statement st = c.createStatement()) {
      st.execute("create table if not exists copy_test (a int, b text)");
      st.execute("truncate copy_test");
      var copy =
          new org.postgresql.copy.CopyManager(c.unwrap(org.postgresql.core.BaseConnection.class));
      long in =
          copy.copyIn(
              "copy copy_test from stdin", new java.io.StringReader("1\tone\n2\ttwo\n3\tthree\n"));
      assertThat(in).isEqualTo(3);
      java.io.StringWriter out = new java.io.StringWriter();
      copy.copyOut("copy (select * from copy_test order by a) to stdout", out);
      assertThat(out.toString()).isEqualTo("1\tone\n2\ttwo\n3\tthree\n");
    }
  }

  @Test
  void sessionParametersFollowTheClientAcrossServers() throws Exception {
    try (Connection a =
            proxy.connect(
                "scram_user",
                "scram_pass",
                "app",
                "ApplicationName",
                "client-a",
                "preferQueryMode",
                "simple");
        Connection b =
            proxy.connect(
                "scram_user",
                "scram_pass",
                "app",
                "ApplicationName",
                "client-b",
                "preferQueryMode",
                "simple");
        Statement sa = a.createStatement();
        Statement sb = b.createStatement()) {
      for (int i = 0; i < 10; i++) {
        assertThat(scalar(sa, "show application_name")).isEqualTo("client-a");
        assertThat(scalar(sb, "show application_name")).isEqualTo("client-b");
      }
      String zoneB = scalar(sb, "show TimeZone");
      sa.execute("set TimeZone = 'Pacific/Chatham'");
      for (int i = 0; i < 5; i++) {
        assertThat(scalar(sa, "show TimeZone")).isEqualTo("Pacific/Chatham");
        assertThat(scalar(sb, "show TimeZone")).isEqualTo(zoneB);
      }
    }
  }

  @Test
  void sslRequestIsAnsweredNoAndLoginContinues() throws Exception {
    try (Connection c = proxy.connect("scram_user", "scram_pass", "app", "sslmode", "prefer");
        Statement st = c.createStatement()) {
      assertThat(scalar(st, "select 'plain'")).isEqualTo("plain");
    }
  }

  static int pid(Statement st) throws SQLException {
    return Integer.parseInt(scalar(st, "select pg_backend_pid()"));
  }

  /** Runs {@code sql} on another thread; completes with the SQLException it ended with, or null. */
  static java.util.concurrent.CompletableFuture<SQLException> failureOf(Statement st, String sql) {
    return java.util.concurrent.CompletableFuture.supplyAsync(
        () -> {
          try {
            st.execute(sql);
            return null;
          } catch (SQLException e) {
            return e;
          }
        });
  }

  static String scalar(Statement st, String sql) throws SQLException {
    try (ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    }
  }
}
