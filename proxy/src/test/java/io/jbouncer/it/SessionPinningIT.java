package io.jbouncer.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jbouncer.testing.Await;
import io.jbouncer.testing.TestPostgres;
import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * Session-level features under transaction pooling: the client that uses one keeps its server until
 * the state is gone or the client is, and the server is reset before anyone else gets it; settings
 * follow their client from server to server. Each test sets up a second client that holds the other
 * server, so that a client which was not pinned would land on a server without its state.
 */
class SessionPinningIT {
  @TempDir Path dir;

  private ProxyFixture proxy(int poolSize) throws Exception {
    return ProxyFixture.start(dir, "default_pool_size = " + poolSize + "\n");
  }

  /** A proxy whose admin console user "admin" may run SHOW PINNED. */
  private ProxyFixture withConsole(String settings) throws Exception {
    return ProxyFixture.start(
        dir,
        ProxyFixture.defaultDatabases(),
        settings + "admin_users = admin\n",
        ProxyFixture.USERLIST + "\"admin\" \"admin_pass\"\n");
  }

  private static Connection console(ProxyFixture proxy) throws SQLException {
    return proxy.connect("admin", "admin_pass", "pgbouncer", "preferQueryMode", "simple");
  }

  private static Connection connect(ProxyFixture proxy) throws SQLException {
    return proxy.connect("scram_user", "scram_pass", "app", "preferQueryMode", "simple");
  }

  private static String single(Statement st, String sql) throws SQLException {
    try (ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    }
  }

  @Test
  void listenReceivesEveryNotificationAsOdoosBusDoes() throws Exception {
    try (ProxyFixture proxy = proxy(2);
        Connection bus = connect(proxy);
        Connection worker = connect(proxy)) {
      bus.setAutoCommit(false); // Odoo: BEGIN; LISTEN imbus; COMMIT, then it only waits
      try (Statement st = bus.createStatement()) {
        st.execute("LISTEN imbus");
      }
      bus.commit();
      bus.setAutoCommit(true);
      try (Statement st = worker.createStatement()) {
        for (int i = 0; i < 50; i++) {
          st.execute("select pg_notify('imbus', 'message " + i + "')");
        }
      }
      List<String> received = new ArrayList<>();
      PGConnection pg = bus.unwrap(PGConnection.class);
      long deadline = System.nanoTime() + 10_000_000_000L;
      while (received.size() < 50 && System.nanoTime() < deadline) {
        PGNotification[] batch = pg.getNotifications(500);
        if (batch != null) {
          for (PGNotification n : batch) {
            received.add(n.getParameter());
          }
        }
      }
      assertThat(received).hasSize(50).startsWith("message 0").endsWith("message 49");
    }
  }

  @Test
  void aSessionAdvisoryLockIsUnlockedBySessionThatTookIt() throws Exception {
    try (ProxyFixture proxy = proxy(2);
        Connection a = // the extended protocol, pgjdbc's default: the Parse carries the text
            proxy.connect("scram_user", "scram_pass", "app");
        Connection other = connect(proxy);
        Statement st = a.createStatement();
        Statement otherSt = other.createStatement()) {
      assertThat(single(st, "select pg_advisory_lock(4242)::text")).isEqualTo("");
      other.setAutoCommit(false);
      single(otherSt, "select 1"); // holds a server inside its transaction
      assertThat(single(st, "select pg_advisory_unlock(4242)")).isEqualTo("t");
      other.rollback();
    }
  }

  @Test
  void aTemporaryTableStaysWithItsClient() throws Exception {
    try (ProxyFixture proxy = proxy(2);
        Connection a = connect(proxy);
        Connection other = connect(proxy);
        Statement st = a.createStatement();
        Statement otherSt = other.createStatement()) {
      st.execute("create temp table scratch (x int)");
      other.setAutoCommit(false);
      single(otherSt, "select 1");
      st.execute("insert into scratch values (1), (2)");
      assertThat(single(st, "select count(*) from scratch")).isEqualTo("2");
      other.rollback();
    }
  }

  @Test
  void aPinnedServerIsResetBeforeTheNextClient() throws Exception {
    try (ProxyFixture proxy = proxy(1)) {
      try (Connection a = connect(proxy);
          Statement st = a.createStatement()) {
        st.execute("LISTEN leftover");
        st.execute("select pg_advisory_lock(777)");
        st.execute("create temp table leftover (x int)");
      }
      try (Connection b = connect(proxy);
          Statement st = b.createStatement()) {
        assertThat(single(st, "select count(*) from pg_listening_channels()")).isEqualTo("0");
        assertThat(single(st, "select to_regclass('pg_temp.leftover') is null")).isEqualTo("t");
      }
      try (Connection direct = // advisory locks are per database
              TestPostgres.get()
                  .connect(
                      TestPostgres.SCRAM_USER, TestPostgres.SCRAM_PASSWORD, TestPostgres.APP_DB);
          Statement st = direct.createStatement()) {
        assertThat(single(st, "select pg_try_advisory_lock(777)")).isEqualTo("t");
        st.execute("select pg_advisory_unlock_all()");
      }
    }
  }

  @Test
  void discardAllWithoutAServerIsAnsweredAsPostgresAnswersIt() throws Exception {
    try (ProxyFixture proxy = withConsole("default_pool_size = 1\n")) {
      List<String> expected = discards(TestPostgres.get().port());
      assertThat(expected).contains("CommandComplete DISCARD ALL");
      assertThat(discards(proxy.port())).isEqualTo(expected);
      try (Connection console = console(proxy);
          Statement st = console.createStatement()) {
        var rows = AdminConsoleIT.show(st, "PINNED");
        assertThat(AdminConsoleIT.row(rows, "database", "app"))
            .containsEntry("discard_all_local_total", "2") // the third came inside a transaction
            .containsEntry("pinned_total", "0");
      }
    }
  }

  /** psycopg2's borrow: DISCARD ALL between transactions, after a SET that it must undo. */
  private static List<String> discards(int port) throws Exception {
    try (RawClient c = RawClient.loggedIn(port, TestPostgres.MD5_USER, TestPostgres.MD5_PASSWORD)) {
      List<String> seen = new ArrayList<>();
      for (String sql :
          new String[] {
            "set application_name = 'worker 1'",
            "discard all",
            "show application_name",
            "discard all",
            "begin",
            "discard all", // PostgreSQL's error: it cannot run inside a transaction block
            "rollback"
          }) {
        seen.addAll(PreparedStatementsIT.run(c, PreparedStatementsIT.query(sql)));
      }
      return seen;
    }
  }

  @Test
  void sessionStateErrorRefusesWithSqlstate0A000AndTheSessionGoesOn() throws Exception {
    try (ProxyFixture proxy = ProxyFixture.start(dir, "session_state = error\n");
        Connection c = connect(proxy);
        Connection extended = proxy.connect("scram_user", "scram_pass", "app");
        Statement st = c.createStatement();
        Statement ext = extended.createStatement()) {
      for (Statement s : List.of(st, ext)) {
        assertThatThrownBy(() -> s.execute("LISTEN refused"))
            .isInstanceOfSatisfying(
                SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("0A000"))
            .hasMessageContaining("LISTEN keeps state in the server's session");
        assertThat(single(s, "select 'still here'")).isEqualTo("still here");
      }
      c.setAutoCommit(false);
      assertThatThrownBy(() -> st.execute("create temp table t (x int)"))
          .hasMessageContaining("CREATE TEMP");
      assertThatThrownBy(() -> single(st, "select 1"))
          .hasMessageContaining("current transaction is aborted"); // as any error in one
      c.rollback();
    }
  }

  @Test
  void underSessionStateErrorAQueryArrivingInPiecesIsPinnedNotRefused() throws Exception {
    try (ProxyFixture proxy = withConsole("session_state = error\n");
        RawClient c =
            RawClient.loggedIn(proxy.port(), TestPostgres.MD5_USER, TestPostgres.MD5_PASSWORD);
        Connection console = console(proxy);
        Statement admin = console.createStatement()) {
      // longer than pkt_buf (4096) and sent in two parts: its start goes on before its end is
      // here, so its text cannot be replaced by the refusal
      byte[] large = PreparedStatementsIT.query("LISTEN in_pieces -- " + "x".repeat(20_000));
      c.send(java.util.Arrays.copyOfRange(large, 0, 100));
      awaitPinned(admin, List.of("LISTEN")); // its start went on to the server, and pinned
      c.send(java.util.Arrays.copyOfRange(large, 100, large.length));
      StringBuilder reply = new StringBuilder();
      for (RawClient.Message m = c.read(); ; m = c.read()) {
        reply.append(m.type());
        if (m.type() == 'Z') {
          break;
        }
      }
      assertThat(reply).hasToString("CZ"); // CommandComplete, no ErrorResponse
      awaitPinned(admin, List.of("LISTEN")); // still: its LISTEN is on that server
    }
  }

  @Test
  void sessionStateAllowIsPgBouncersBehaviourAndADatabaseMayChooseItsOwn() throws Exception {
    String databases =
        ProxyFixture.defaultDatabases()
            + "strict = host=127.0.0.1 port=${PGPORT} dbname=app session_state=error\n";
    try (ProxyFixture proxy =
            ProxyFixture.start(
                dir,
                databases,
                "default_pool_size = 2\nsession_state = allow\n",
                ProxyFixture.USERLIST);
        Connection a = connect(proxy);
        Connection other = connect(proxy);
        Connection strict =
            proxy.connect("scram_user", "scram_pass", "strict", "preferQueryMode", "simple");
        Statement st = a.createStatement();
        Statement otherSt = other.createStatement();
        Statement strictSt = strict.createStatement()) {
      st.execute("select pg_advisory_lock(4343)");
      other.setAutoCommit(false);
      single(otherSt, "select 1"); // takes the server the lock is on
      // not pinned: the unlock runs on the other server, as it would through PgBouncer
      assertThat(single(st, "select pg_advisory_unlock(4343)")).isEqualTo("f");
      other.rollback();
      assertThatThrownBy(() -> strictSt.execute("LISTEN x"))
          .isInstanceOfSatisfying(
              SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("0A000"));
    }
  }

  @Test
  void searchPathsRolledBackSetsAndHoldCursorsAsOnPostgres() throws Exception {
    try (ProxyFixture proxy = proxy(2)) {
      List<String> expected = sessionStateScript(TestPostgres.get().port());
      assertThat(expected)
          .contains("DataRow [pg_catalog]", "DataRow [public]", "DataRow [0]", "DataRow [2]");
      assertThat(sessionStateScript(proxy.port())).isEqualTo(expected);
    }
  }

  /** Two clients keep different session state while taking turns; one rolls a SET back. */
  private static List<String> sessionStateScript(int port) throws Exception {
    try (RawClient a = RawClient.loggedIn(port, TestPostgres.MD5_USER, TestPostgres.MD5_PASSWORD);
        RawClient b = RawClient.loggedIn(port, TestPostgres.MD5_USER, TestPostgres.MD5_PASSWORD)) {
      List<String> seen = new ArrayList<>();
      seen.addAll(q(a, "set search_path = pg_catalog"));
      seen.addAll(q(b, "set search_path = public"));
      seen.addAll(q(b, "begin"));
      seen.addAll(q(a, "show search_path"));
      seen.addAll(q(b, "show search_path"));
      seen.addAll(q(b, "commit"));
      seen.addAll(q(a, "begin"));
      seen.addAll(q(a, "set lock_timeout = '15s'"));
      seen.addAll(q(a, "rollback"));
      seen.addAll(q(a, "show lock_timeout")); // back to 0: the SET was rolled back
      seen.addAll(q(b, "begin"));
      seen.addAll(q(b, "declare c cursor with hold for select generate_series(1, 3)"));
      seen.addAll(q(b, "commit"));
      seen.addAll(q(a, "begin")); // a holds a server in a transaction meanwhile
      seen.addAll(q(b, "fetch 2 from c"));
      seen.addAll(q(b, "fetch 1 from c"));
      seen.addAll(q(b, "close c"));
      seen.addAll(q(a, "commit"));
      return seen;
    }
  }

  @Test
  void settingsFollowEachClientThroughOneServerAsOnPostgres() throws Exception {
    try (ProxyFixture proxy = proxy(1)) { // one server: a client pinned by a SET would stall b
      List<String> expected = settingsScript(TestPostgres.get().port());
      assertThat(expected)
          .contains(
              "DataRow [15s]",
              "DataRow [\"$user\", pg_catalog]",
              "DataRow [8MB]",
              "DataRow [serializable]");
      assertThat(settingsScript(proxy.port())).isEqualTo(expected);
    }
  }

  /**
   * Three clients set parameters PostgreSQL does not report, in the ways applications do, and take
   * turns: each must see only its own, including after a SET rolled back by ROLLBACK TO SAVEPOINT
   * or by a failed transaction.
   */
  private static List<String> settingsScript(int port) throws Exception {
    try (RawClient a = RawClient.loggedIn(port, TestPostgres.MD5_USER, TestPostgres.MD5_PASSWORD);
        RawClient b = RawClient.loggedIn(port, TestPostgres.MD5_USER, TestPostgres.MD5_PASSWORD);
        RawClient c = RawClient.loggedIn(port, TestPostgres.MD5_USER, TestPostgres.MD5_PASSWORD)) {
      List<String> seen = new ArrayList<>();
      String[][] script = {
        {"a", "set search_path = \"$user\", pg_catalog"}, // a list, with a quoted element
        {"b", "set statement_timeout = '5s'"},
        {"a", "begin isolation level repeatable read"}, // Odoo's registry load
        {"a", "set session lock_timeout = '15s'"},
        {"a", "commit"},
        {"b", "show lock_timeout"},
        {"a", "show lock_timeout"},
        {"a", "show search_path"},
        {"b", "show search_path"},
        {"c", "select set_config('work_mem', '8MB', false)"},
        {"b", "show statement_timeout"},
        {"a", "show work_mem"},
        {"c", "begin"},
        {"c", "savepoint s"},
        {"c", "set work_mem = '1MB'"},
        {"c", "rollback to savepoint s"},
        {"c", "commit"},
        {"c", "show work_mem"},
        {"c", "begin"},
        {"c", "set work_mem = '2MB'"},
        {"c", "select 1/0"},
        {"c", "rollback"},
        {"c", "show work_mem"},
        {"b", "set session characteristics as transaction isolation level serializable"},
        {"a", "begin"},
        {"a", "show transaction_isolation"},
        {"a", "commit"},
        {"b", "begin"},
        {"b", "show transaction_isolation"},
        {"b", "commit"},
        {"a", "reset search_path"},
        {"a", "show search_path"},
        {"a", "show lock_timeout"},
        {"a", "reset all"},
        {"a", "show lock_timeout"},
        {"b", "discard all"},
        {"b", "show statement_timeout"},
        {"c", "show work_mem"},
        {"c", "select pg_catalog.set_config('search_path', '', false)"}, // as pg_dump does
        {"a", "show search_path"},
        {"c", "show search_path"},
        {"b", "set work_mem = '3MB' -- a lone SET is replayed as it was written"},
        {"a", "show work_mem"},
        {"b", "show work_mem"},
        {"b", "set work_mem = 'lots'"}, // fails: changes nothing
        {"c", "show work_mem"},
        {"b", "show work_mem"},
        {"b", "begin"},
        {"b", "set work_mem = '5MB'"}, // a lone SET inside a transaction that rolls back
        {"b", "rollback"},
        {"a", "show work_mem"},
        {"b", "show work_mem"},
        {"a", "begin"},
        {"a", "set work_mem = '6MB'"}, // inside a transaction that commits
        {"a", "commit"},
        {"b", "show work_mem"},
        {"a", "show work_mem"},
        {"c", "begin"},
        {"c", "select set_config('work_mem', '9MB', true)"}, // for this transaction only
        {"c", "show work_mem"},
        {"c", "commit"},
        {"c", "show work_mem"},
        {"c", "select 1; set statement_timeout = '7s'"}, // the SET is not the first statement
        {"b", "show statement_timeout"},
        {"c", "show statement_timeout"},
      };
      for (String[] step : script) {
        RawClient who = step[0].equals("a") ? a : step[0].equals("b") ? b : c;
        seen.add(step[0] + ": " + step[1]);
        seen.addAll(q(who, step[1]));
      }
      return seen;
    }
  }

  @Test
  void aServerPreparedStatementRunAgainWithoutItsParseStillPinsAndSets() throws Exception {
    try (ProxyFixture proxy = proxy(2);
        Connection a = // every PreparedStatement named on the server from its first use
            proxy.connect("scram_user", "scram_pass", "app", "prepareThreshold", "1");
        Connection other = connect(proxy);
        java.sql.PreparedStatement lock = a.prepareStatement("select pg_advisory_lock(?)::text");
        java.sql.PreparedStatement unlock = a.prepareStatement("select pg_advisory_unlock(?)");
        java.sql.PreparedStatement catalog = a.prepareStatement("set search_path = pg_catalog");
        java.sql.PreparedStatement pub = a.prepareStatement("set search_path = public");
        Statement st = a.createStatement();
        Statement otherSt = other.createStatement()) {
      lock.setInt(1, 4646);
      unlock.setInt(1, 4646);
      lock.executeQuery().close();
      assertThat(singleOf(unlock)).isEqualTo("t"); // the pin ends
      lock.executeQuery().close(); // a Bind alone: no query text goes by
      other.setAutoCommit(false);
      single(otherSt, "select 1"); // takes whichever server is idle
      assertThat(singleOf(unlock)).as("the lock's server stayed with its client").isEqualTo("t");
      other.rollback();

      catalog.execute();
      pub.execute();
      catalog.execute(); // a Bind alone again
      other.setAutoCommit(true);
      assertThat(single(otherSt, "show search_path")).isEqualTo("\"$user\", public");
      assertThat(single(st, "show search_path")).isEqualTo("pg_catalog");
    }
  }

  @Test
  void pgjdbcSetSchemaPerRequestFollowsEachClient() throws Exception {
    try (ProxyFixture proxy = proxy(1); // one server: each request of each client lands on it
        Connection a = proxy.connect("scram_user", "scram_pass", "app");
        Connection b = proxy.connect("scram_user", "scram_pass", "app", "prepareThreshold", "1");
        Statement aSt = a.createStatement();
        Statement bSt = b.createStatement()) {
      for (int request = 0; request < 8; request++) { // past pgjdbc's prepareThreshold of 5
        a.setSchema(request % 2 == 0 ? "pg_catalog" : "public"); // a SET in the extended protocol
        b.setSchema("information_schema");
        assertThat(single(aSt, "select current_schema()"))
            .isEqualTo(request % 2 == 0 ? "pg_catalog" : "public");
        assertThat(single(bSt, "select current_schema()")).isEqualTo("information_schema");
        assertThat(a.getSchema()).isEqualTo(request % 2 == 0 ? "pg_catalog" : "public");
      }
    }
  }

  private static String singleOf(java.sql.PreparedStatement ps) throws SQLException {
    try (ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getString(1);
    }
  }

  @Test
  void aTrackedParameterPostgresDoesNotReportFollowsOnlyItsClient() throws Exception {
    try (ProxyFixture proxy =
            ProxyFixture.start(
                dir,
                "default_pool_size = 1\ntrack_extra_parameters = IntervalStyle, search_path\n");
        Connection a =
            proxy.connect(
                "scram_user",
                "scram_pass",
                "app",
                "preferQueryMode",
                "simple",
                "options",
                "-c search_path=pg_catalog");
        Connection b = connect(proxy);
        Statement aSt = a.createStatement();
        Statement bSt = b.createStatement()) {
      assertThat(single(aSt, "show search_path")).isEqualTo("pg_catalog");
      assertThat(single(bSt, "show search_path")).isEqualTo("\"$user\", public");
      aSt.execute("discard all"); // back to its startup value, as on PostgreSQL
      assertThat(single(aSt, "show search_path")).isEqualTo("pg_catalog");
      assertThat(single(bSt, "show search_path")).isEqualTo("\"$user\", public");
    }
  }

  @Test
  void resetGivesBackTheStartupValueAsOnPostgres() throws Exception {
    try (ProxyFixture proxy = proxy(2)) { // two: the other client runs while a is in a transaction
      List<String> expected = resetScript(TestPostgres.get().port());
      assertThat(expected).contains("ParameterStatus application_name=mine");
      assertThat(resetScript(proxy.port())).isEqualTo(expected);
    }
  }

  @Test
  void resetGivesBackTheStartupValueInSessionModeToo() throws Exception {
    // the server keeps its own startup values there too: a server of the pool, not of the client
    try (ProxyFixture proxy = ProxyFixture.start(dir, "pool_mode = session\n")) {
      assertThat(resetScript(proxy.port())).isEqualTo(resetScript(TestPostgres.get().port()));
    }
  }

  /** A client that gave application_name at startup RESETs it, alone and in a transaction. */
  private static List<String> resetScript(int port) throws Exception {
    try (RawClient a = new RawClient(port);
        RawClient other =
            RawClient.loggedIn(port, TestPostgres.MD5_USER, TestPostgres.MD5_PASSWORD)) {
      a.send(
          RawClient.startup(
              "user", TestPostgres.MD5_USER, "database", "app", "application_name", "mine"));
      assertThat(a.finishMd5Login(TestPostgres.MD5_USER, TestPostgres.MD5_PASSWORD))
          .isEqualTo("logged in");
      List<String> seen = new ArrayList<>();
      for (String sql :
          new String[] {
            "set application_name = 'changed'",
            "reset application_name",
            "show application_name",
            "reset application_name", // unchanged: no ParameterStatus
            "begin",
            "set application_name = 'in transaction'",
            "reset application_name",
            "show application_name",
            "rollback",
            "show application_name",
            "set application_name = 'again'",
            "reset all",
            "show application_name",
          }) {
        seen.addAll(q(a, sql));
        seen.addAll(q(other, "show application_name")); // the server changes hands meanwhile
      }
      return seen;
    }
  }

  @Test
  void thePinEndsWhenItsStateIsGone() throws Exception {
    try (ProxyFixture proxy = proxy(1);
        Connection a = connect(proxy);
        Connection b = connect(proxy);
        Statement st = a.createStatement();
        Statement bSt = b.createStatement()) {
      bSt.setQueryTimeout(10); // b waits for the only server until a is unpinned
      String[][] pinsThenEnds = {
        {"LISTEN going", "UNLISTEN *"},
        {"select pg_advisory_lock(4343)", "select pg_advisory_unlock_all()"},
        {"create temp table gone (x int)", "drop table gone"},
        {"declare c cursor with hold for select 1", "close c"},
        {"prepare p as select 1", "deallocate p"},
        // no statement names the role: the check after the transaction finds it
        {"select set_config('role', current_user, false)", "reset role"},
      };
      for (String[] step : pinsThenEnds) {
        st.execute(step[0]);
        st.execute(step[1]);
        assertThat(single(bSt, "select 'b after " + step[1] + "'")).endsWith(step[1]);
      }
      a.setAutoCommit(false); // a LISTEN rolled back leaves nothing to pin
      st.execute("LISTEN never");
      a.rollback();
      a.setAutoCommit(true);
      assertThat(single(bSt, "select 'b after rollback'")).isEqualTo("b after rollback");
    }
  }

  @Test
  void showPinnedTellsWhatStillPins() throws Exception {
    try (ProxyFixture proxy = withConsole("default_pool_size = 2\n");
        Connection a = connect(proxy);
        Statement st = a.createStatement();
        Connection console = console(proxy);
        Statement admin = console.createStatement()) {
      st.execute("LISTEN twice");
      st.execute("select pg_advisory_lock(4444)");
      // the server is asked after the client has its ReadyForQuery: SHOW PINNED may run first
      awaitPinned(admin, List.of("LISTEN, advisory lock"));
      st.execute("UNLISTEN *");
      awaitPinned(admin, List.of("advisory lock"));
      st.execute("select pg_advisory_unlock(4444)");
      awaitPinned(admin, List.of());
    }
  }

  private static void awaitPinned(Statement admin, List<String> reasons) throws Exception {
    Await.until("SHOW PINNED lists " + reasons, () -> pinnedReasons(admin).equals(reasons));
  }

  private static List<String> pinnedReasons(Statement admin) throws SQLException {
    return AdminConsoleIT.show(admin, "PINNED").stream()
        .filter(r -> "C".equals(r.get("type")))
        .map(r -> r.get("reason"))
        .toList();
  }

  private static List<String> q(RawClient c, String sql) throws IOException {
    return PreparedStatementsIT.run(c, PreparedStatementsIT.query(sql));
  }

  @Test
  void showPinnedListsThePinnedClientWithItsReason() throws Exception {
    try (ProxyFixture proxy = withConsole("default_pool_size = 2\n");
        Connection a = connect(proxy);
        Statement st = a.createStatement();
        Connection console = console(proxy);
        Statement admin = console.createStatement()) {
      st.execute("LISTEN shown");
      var rows = AdminConsoleIT.show(admin, "PINNED");
      assertThat(rows)
          .filteredOn(r -> "C".equals(r.get("type")))
          .singleElement()
          .satisfies(
              r -> {
                assertThat(r).containsEntry("database", "app").containsEntry("reason", "LISTEN");
                assertThat(Long.parseLong(r.get("link"))).isPositive();
              });
      assertThat(rows)
          .filteredOn(r -> "D".equals(r.get("type")) && "app".equals(r.get("database")))
          .singleElement()
          .satisfies(r -> assertThat(r).containsEntry("pinned_total", "1"));
    }
  }

  @Test
  void aBeginAnsweredEarlyBehavesAsPostgresBegin() throws Exception {
    try (ProxyFixture proxy = proxy(1)) {
      List<String> expected = begins(TestPostgres.get().port());
      assertThat(expected).contains("DataRow [repeatable read]", "CommandComplete BEGIN");
      assertThat(begins(proxy.port())).isEqualTo(expected);
    }
  }

  /** psycopg2's transactions: BEGIN in its own Query, then the work or a bare COMMIT/ROLLBACK. */
  private static List<String> begins(int port) throws Exception {
    try (RawClient c = RawClient.loggedIn(port, TestPostgres.MD5_USER, TestPostgres.MD5_PASSWORD)) {
      List<String> seen = new ArrayList<>();
      for (String sql :
          new String[] {
            "begin isolation level repeatable read",
            "select current_setting('transaction_isolation')",
            "commit",
            "BEGIN",
            "ROLLBACK", // nothing ran: answered without a server
            "begin",
            "commit",
            "start transaction isolation level read committed",
            "select current_setting('transaction_isolation')",
            "end",
            "begin",
            "discard all", // cannot run inside a transaction block, as on PostgreSQL
            "rollback",
            "begin isolation level serializable", // can fail on a standby: not answered early
            "select current_setting('transaction_isolation')",
            "commit"
          }) {
        seen.addAll(q(c, sql));
      }
      // BEGIN and a statement in one write
      seen.addAll(
          PreparedStatementsIT.run(
              c,
              PreparedStatementsIT.query("begin"),
              PreparedStatementsIT.query("select 41 + 1"),
              PreparedStatementsIT.query("commit")));
      return seen;
    }
  }

  @Test
  void discardAllEndsThePinning() throws Exception {
    try (ProxyFixture proxy = proxy(1);
        Connection a = connect(proxy);
        Connection b = connect(proxy);
        Statement st = a.createStatement();
        Statement bSt = b.createStatement()) {
      st.execute("LISTEN going");
      st.execute("DISCARD ALL"); // as psycopg2's pool does when Odoo gives a connection back
      bSt.setQueryTimeout(10);
      assertThat(single(bSt, "select 'b got the only server'")).isEqualTo("b got the only server");
    }
  }
}
