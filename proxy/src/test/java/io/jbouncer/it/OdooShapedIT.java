package io.jbouncer.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jbouncer.testing.Await;
import io.jbouncer.testing.TestPostgres;
import java.io.StringReader;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.postgresql.copy.CopyManager;

/**
 * Odoo 17 as it talks to PostgreSQL through psycopg2, replayed with pgjdbc in the simple query
 * protocol (psycopg2's only one), through a plain {@code * = host=...} entry in transaction mode:
 * each statement on the wire is what Odoo sends (a BEGIN of its own, DISCARD ALL at every borrow of
 * a pooled connection, SET SESSION lock_timeout inside a transaction, LISTEN inside BEGIN ...
 * COMMIT on database postgres, notifications from other clients' pg_notify).
 */
class OdooShapedIT {
  @TempDir Path dir;

  private ProxyFixture proxy(int poolSize) throws Exception {
    return ProxyFixture.start(
        dir,
        "* = host=127.0.0.1 port=${PGPORT}\n",
        "pool_mode = transaction\ndefault_pool_size = " + poolSize + "\n",
        ProxyFixture.USERLIST);
  }

  /** A psycopg2-like connection: simple protocol, autocommit (BEGIN and COMMIT are sent as SQL). */
  private static Connection open(int port, String db) throws SQLException {
    Properties props = new Properties();
    props.setProperty("user", TestPostgres.SCRAM_USER);
    props.setProperty("password", TestPostgres.SCRAM_PASSWORD);
    props.setProperty("sslmode", "disable");
    props.setProperty("preferQueryMode", "simple");
    props.setProperty("connectTimeout", "10");
    props.setProperty("socketTimeout", "30"); // a pooling deadlock fails the test, not CI
    return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/" + db, props);
  }

  private static String single(Statement st, String sql) throws SQLException {
    try (ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    }
  }

  /** SQLSTATE and message of what {@code sql} raised, or "ok". */
  private static String outcome(Statement st, String sql) {
    try {
      st.execute(sql);
      return "ok";
    } catch (SQLException e) {
      String message = e.getMessage();
      int detail = message.indexOf('\n'); // pgjdbc appends Detail: with pids that differ
      return e.getSQLState() + " " + (detail < 0 ? message : message.substring(0, detail));
    }
  }

  @Test
  void theErrorsOdooRetriesOnPassThroughUnchanged() throws Exception {
    try (ProxyFixture proxy = proxy(2)) {
      List<String> expected = concurrencyErrors(TestPostgres.get().port(), "odoo_direct");
      assertThat(expected)
          .anySatisfy(e -> assertThat(e).startsWith("55P03 "))
          .anySatisfy(e -> assertThat(e).startsWith("40001 "))
          .anySatisfy(e -> assertThat(e).contains("40P01 "));
      assertThat(concurrencyErrors(proxy.port(), "odoo_pooled"))
          .isEqualTo(expected.stream().map(e -> e.replace("odoo_direct", "odoo_pooled")).toList());
    }
  }

  /** Lock not available (NOWAIT), serialization failure, deadlock: two clients, as two workers. */
  private static List<String> concurrencyErrors(int port, String table) throws Exception {
    List<String> seen = new ArrayList<>();
    ExecutorService background = Executors.newSingleThreadExecutor();
    try (Connection a = open(port, TestPostgres.APP_DB);
        Connection b = open(port, TestPostgres.APP_DB);
        Statement sa = a.createStatement();
        Statement sb = b.createStatement()) {
      sa.execute("drop table if exists " + table);
      sa.execute("create table " + table + " (id int primary key, v int)");
      sa.execute("insert into " + table + " values (1, 0), (2, 0)");

      sa.execute("BEGIN ISOLATION LEVEL REPEATABLE READ");
      sa.execute("select v from " + table + " where id = 1 for no key update");
      seen.add(outcome(sb, "select v from " + table + " where id = 1 for update nowait"));
      sa.execute("ROLLBACK");

      sa.execute("BEGIN ISOLATION LEVEL REPEATABLE READ");
      single(sa, "select v from " + table + " where id = 1");
      sb.execute("update " + table + " set v = v + 1 where id = 1");
      seen.add(outcome(sa, "update " + table + " set v = v + 1 where id = 1"));
      sa.execute("ROLLBACK");

      sa.execute("BEGIN");
      sb.execute("BEGIN");
      sa.execute("update " + table + " set v = 10 where id = 1");
      sb.execute("update " + table + " set v = 20 where id = 2");
      Future<String> first =
          background.submit(() -> outcome(sa, "update " + table + " set v = 11 where id = 2"));
      // a waits first, so its deadlock_timeout ends first: a is the victim
      try (Connection observer = open(TestPostgres.get().port(), TestPostgres.APP_DB);
          Statement watch = observer.createStatement()) {
        Await.until(
            "a waits for b's row lock",
            () ->
                single(
                        watch,
                        "select count(*) from pg_catalog.pg_stat_activity"
                            + " where wait_event_type = 'Lock' and query like 'update "
                            + table
                            + " set v = 11%'")
                    .equals("1"));
      }
      String second = outcome(sb, "update " + table + " set v = 21 where id = 1");
      seen.add("a: " + first.get(30, TimeUnit.SECONDS));
      seen.add("b: " + second);
      sa.execute("ROLLBACK");
      sb.execute("COMMIT");
      seen.add(single(sa, "select string_agg(v::text, ',' order by id) from " + table));
      sa.execute("drop table " + table);
    } finally {
      background.shutdownNow();
    }
    return seen;
  }

  @Test
  void copyFromStdinInsideATransactionAsOnPostgres() throws Exception {
    try (ProxyFixture proxy = proxy(1)) {
      List<String> expected = copyInTransaction(TestPostgres.get().port(), "odoo_copy_direct");
      assertThat(expected).containsExactly("3", "22P02", "ok", "4");
      assertThat(copyInTransaction(proxy.port(), "odoo_copy_pooled")).isEqualTo(expected);
    }
  }

  private static List<String> copyInTransaction(int port, String table) throws Exception {
    List<String> seen = new ArrayList<>();
    try (Connection c = open(port, TestPostgres.APP_DB);
        Statement st = c.createStatement()) {
      CopyManager copy = c.unwrap(PGConnection.class).getCopyAPI();
      st.execute("drop table if exists " + table);
      st.execute("create table " + table + " (id int, name text)");
      st.execute("BEGIN ISOLATION LEVEL REPEATABLE READ");
      st.execute("insert into " + table + " values (0, 'before')");
      copy.copyIn("COPY " + table + " FROM STDIN", new StringReader("1\ta\n2\tb\n"));
      seen.add(single(st, "select count(*) from " + table));
      try {
        copy.copyIn("COPY " + table + " FROM STDIN", new StringReader("x\tnot a number\n"));
        seen.add("copied");
      } catch (SQLException e) {
        seen.add(e.getSQLState());
      }
      st.execute("ROLLBACK");
      seen.add(outcome(st, "select 1")); // the server is usable after the failed COPY
      copy.copyIn("COPY " + table + " FROM STDIN", new StringReader("1\ta\n2\tb\n3\tc\n4\td\n"));
      seen.add(single(st, "select count(*) from " + table));
      st.execute("drop table " + table);
    }
    return seen;
  }

  /**
   * The deployment: a bus process and a cron worker LISTEN forever on database postgres; three HTTP
   * workers each keep a small pool of connections to the application database and, per request,
   * borrow one (DISCARD ALL) for the registry check, one for the work, holding the first in its
   * transaction meanwhile, then notify the bus through a fresh connection to postgres, and borrow a
   * third for the session check. The first use of each work connection loads the registry (SET
   * SESSION lock_timeout inside the transaction). All on pools of four servers.
   */
  @Test
  void aSimulatedOdooDeploymentWorksAndLosesNoNotification() throws Exception {
    int workers = 3;
    int requests = 25;
    try (ProxyFixture proxy = proxy(4);
        Connection bus = open(proxy.port(), "postgres");
        Connection cron = open(proxy.port(), "postgres");
        Connection setup = open(proxy.port(), TestPostgres.APP_DB);
        Statement setupSt = setup.createStatement()) {
      setupSt.execute("drop table if exists odoo_partner");
      setupSt.execute("create table odoo_partner (id int primary key, hits int)");
      setupSt.execute("insert into odoo_partner select g, 0 from generate_series(1, 10) g");
      listen(bus, "imbus");
      listen(cron, "cron_trigger");

      Set<String> sentBus = Collections.synchronizedSet(new HashSet<>());
      Set<String> sentCron = Collections.synchronizedSet(new HashSet<>());
      List<String> wrong = Collections.synchronizedList(new ArrayList<>());
      AtomicInteger retries = new AtomicInteger(); // 40001 on the same rows, retried as Odoo does
      List<CompletableFuture<Void>> running = new ArrayList<>();
      for (int w = 0; w < workers; w++) {
        int worker = w;
        running.add(
            CompletableFuture.runAsync(
                () -> {
                  try {
                    work(retries, proxy.port(), worker, requests, sentBus, sentCron, wrong);
                  } catch (Exception e) {
                    wrong.add("worker " + worker + ": " + e);
                  }
                }));
      }
      Set<String> gotBus = new HashSet<>();
      Set<String> gotCron = new HashSet<>();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
      while (System.nanoTime() < deadline
          && (!running.stream().allMatch(CompletableFuture::isDone)
              || gotBus.size() < sentBus.size()
              || gotCron.size() < sentCron.size())) {
        receive(bus, gotBus, 50);
        receive(cron, gotCron, 50);
      }
      assertThat(wrong).isEmpty();
      assertThat(sentBus).hasSize(workers * requests);
      assertThat(gotBus).isEqualTo(sentBus);
      assertThat(sentCron).isNotEmpty();
      assertThat(gotCron).isEqualTo(sentCron);
      assertThat(single(setupSt, "select sum(hits) from odoo_partner"))
          .isEqualTo(String.valueOf(workers * requests));
      setupSt.execute("drop table odoo_partner");
      System.out.println("OdooShapedIT: " + retries + " serialization failures retried");
    }
  }

  /**
   * The same deployment with Odoo's own driver: bench/odoo_workload.py (psycopg2, Odoo 17's
   * statement sequence, see its docstring) for a few seconds through a {@code *} entry.
   */
  @Test
  void psycopg2RunsTheOdooWorkloadWithNothingLost() throws Exception {
    assumeTrue(ClientToolsIT.pythonHasPsycopg2(), "python3 with psycopg2 is not installed");
    TestPostgres pg = TestPostgres.get();
    try (Connection admin = pg.connect("postgres", pg.superuserPassword(), "postgres");
        Statement st = admin.createStatement()) {
      st.execute("drop database if exists odoo_it");
      st.execute("create database odoo_it owner " + TestPostgres.SCRAM_USER);
    }
    try (ProxyFixture proxy = proxy(4)) {
      String script = Path.of("..", "bench", "odoo_workload.py").toAbsolutePath().toString();
      String dsn =
          "host=127.0.0.1 port="
              + proxy.port()
              + " dbname=odoo_it user=scram_user"
              + " password=scram_pass";
      ClientToolsIT.Result setup =
          ClientToolsIT.run(Map.of(), ClientToolsIT.python(), script, "--setup", "--app-dsn", dsn);
      assertThat(setup.exitCode()).as(setup.output()).isZero();
      ClientToolsIT.Result load =
          ClientToolsIT.run(
              Map.of(),
              ClientToolsIT.python(),
              script,
              "--app-dsn",
              dsn,
              "--duration",
              "4",
              "--workers",
              "3",
              "--crons",
              "1",
              "--notify-every",
              "2",
              "--json");
      assertThat(load.exitCode()).as(load.output()).isZero();
      String json = load.output().strip();
      json = json.substring(json.lastIndexOf('\n') + 1);
      assertThat(number(json, "requests")).as(json).isPositive();
      assertThat(number(json, "failed_requests")).as(json).isZero();
      assertThat(number(json, "errors")).as(json).isZero();
      assertThat(number(json, "sent")).as(json).isPositive();
      assertThat(number(json, "received")).as(json).isEqualTo(number(json, "sent"));
      assertThat(number(json, "missing")).as(json).isZero();
    }
  }

  /** The first {@code "key": <integer>} in a line of JSON. */
  private static long number(String json, String key) {
    Matcher m = Pattern.compile("\"" + key + "\": (\\d+)").matcher(json);
    assertThat(m.find()).as(key + " in " + json).isTrue();
    return Long.parseLong(m.group(1));
  }

  /** Odoo's bus and cron: BEGIN; LISTEN ...; COMMIT, then only waiting. */
  private static void listen(Connection c, String channel) throws SQLException {
    try (Statement st = c.createStatement()) {
      st.execute("BEGIN ISOLATION LEVEL REPEATABLE READ");
      st.execute("LISTEN " + channel);
      st.execute("COMMIT");
    }
  }

  private static void receive(Connection c, Set<String> into, int waitMillis) throws SQLException {
    PGNotification[] batch = c.unwrap(PGConnection.class).getNotifications(waitMillis);
    if (batch != null) {
      for (PGNotification n : batch) {
        into.add(n.getParameter());
      }
    }
  }

  /** The SQLSTATEs Odoo retries a request on. */
  private static final Set<String> RETRIED = Set.of("40001", "40P01", "55P03");

  private static void work(
      AtomicInteger retries,
      int port,
      int worker,
      int requests,
      Set<String> sentBus,
      Set<String> sentCron,
      List<String> wrong)
      throws Exception {
    try (Connection registry = open(port, TestPostgres.APP_DB);
        Connection work = open(port, TestPostgres.APP_DB);
        Connection session = open(port, TestPostgres.APP_DB);
        Statement a = registry.createStatement();
        Statement b = work.createStatement();
        Statement c = session.createStatement()) {
      boolean registryLoaded = false;
      for (int n = 0; n < requests; n++) {
        a.execute("DISCARD ALL"); // borrow
        a.execute("BEGIN ISOLATION LEVEL REPEATABLE READ");
        single(a, "select count(*) from odoo_partner"); // a stays in its transaction meanwhile
        b.execute("DISCARD ALL");
        for (int attempt = 1; ; attempt++) { // odoo.service.model.retrying
          try {
            b.execute("BEGIN ISOLATION LEVEL REPEATABLE READ");
            if (!registryLoaded) {
              b.execute("SET SESSION lock_timeout = '15s'");
            }
            String lockTimeout = single(b, "show lock_timeout");
            if (!lockTimeout.equals(registryLoaded ? "0" : "15s")) { // DISCARD ALL resets it
              wrong.add("worker " + worker + " request " + n + ": lock_timeout " + lockTimeout);
            }
            b.execute("update odoo_partner set hits = hits + 1 where id = " + (1 + n % 10));
            b.execute("COMMIT");
            registryLoaded = true;
            break;
          } catch (SQLException e) {
            b.execute("ROLLBACK");
            if (!RETRIED.contains(e.getSQLState()) || attempt == 5) {
              throw e;
            }
            retries.incrementAndGet();
          }
        }
        a.execute("ROLLBACK");
        String payload = "{\"worker\": " + worker + ", \"request\": " + n + "}";
        notifyOnPostgres(port, "imbus", payload);
        sentBus.add(payload);
        if (n % 5 == 0) {
          notifyOnPostgres(port, "cron_trigger", payload);
          sentCron.add(payload);
        }
        c.execute("DISCARD ALL");
        c.execute("BEGIN ISOLATION LEVEL REPEATABLE READ");
        String other = single(c, "show lock_timeout"); // never set on this one
        if (!other.equals("0")) {
          wrong.add("worker " + worker + " request " + n + ": another's lock_timeout " + other);
        }
        c.execute("ROLLBACK");
      }
    }
  }

  /** The bus's post-commit hook: a fresh connection to postgres, one transaction, closed. */
  private static void notifyOnPostgres(int port, String channel, String payload)
      throws SQLException {
    try (Connection c = open(port, "postgres");
        Statement st = c.createStatement()) {
      st.execute("BEGIN ISOLATION LEVEL REPEATABLE READ");
      st.execute("select pg_notify('" + channel + "', '" + payload.replace("'", "''") + "')");
      st.execute("COMMIT");
    }
  }
}
