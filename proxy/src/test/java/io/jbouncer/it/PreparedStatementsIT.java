package io.jbouncer.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.jbouncer.testing.TestPostgres;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Protocol-level prepared statements under transaction pooling. Each differential test runs the
 * same extended-protocol conversation directly against PostgreSQL and through jbouncer, where
 * clients share one or two servers, and asserts that the clients see the same messages: results,
 * errors with their SQLSTATE and wording, and ReadyForQuery states.
 */
class PreparedStatementsIT {
  private static final String MD5 = TestPostgres.MD5_USER;
  private static final String MD5_PASS = TestPostgres.MD5_PASSWORD;

  @TempDir Path dir;

  /** One side of a differential run: opens clients to PostgreSQL or to the proxy. */
  private interface Target {
    RawClient client() throws IOException;
  }

  private static Target direct() {
    return () -> RawClient.loggedIn(TestPostgres.get().port(), MD5, MD5_PASS);
  }

  private static Target through(ProxyFixture proxy) {
    return () -> RawClient.loggedIn(proxy.port(), MD5, MD5_PASS);
  }

  private ProxyFixture proxy(int poolSize, String more) throws Exception {
    return ProxyFixture.start(
        dir,
        ProxyFixture.defaultDatabases(),
        "default_pool_size = " + poolSize + "\nadmin_users = admin\n" + more,
        ProxyFixture.USERLIST + "\"admin\" \"admin_pass\"\n");
  }

  @Test
  void twoClientsUseTheSameNamesForDifferentStatementsOnOneServer() throws Exception {
    try (ProxyFixture proxy = proxy(1, "")) {
      assertThat(interleaved(through(proxy))).isEqualTo(interleaved(direct()));
    }
  }

  private static List<String> interleaved(Target target) throws IOException {
    List<String> seen = new ArrayList<>();
    try (RawClient a = target.client();
        RawClient b = target.client()) {
      seen.addAll(run(a, parse("s1", "select $1::int * 2"), sync()));
      seen.addAll(run(b, parse("s1", "select 'b' || $1"), parse("s2", "select 7"), sync()));
      seen.addAll(run(a, bind("", "s1", "21"), execute(""), sync()));
      seen.addAll(run(b, bind("", "s1", "x"), execute(""), bind("", "s2"), execute(""), sync()));
      seen.addAll(run(a, describeStatement("s1"), sync()));
      seen.addAll(run(a, bind("", "s2"), execute(""), sync())); // a never prepared s2
      seen.addAll(run(b, describeStatement("s1"), bind("", "s1", "y"), execute(""), sync()));
    }
    return seen;
  }

  @Test
  void identicalStatementsOfManyClientsShareOneServerStatement() throws Exception {
    try (ProxyFixture proxy = proxy(1, "")) {
      List<RawClient> clients = new ArrayList<>();
      try {
        for (int i = 0; i < 5; i++) {
          RawClient c = through(proxy).client();
          clients.add(c);
          assertThat(run(c, parse("mine_" + i, "select 40 + $1::int"), sync()))
              .containsExactly("ParseComplete", "ReadyForQuery I");
        }
        for (int i = 0; i < 5; i++) {
          assertThat(run(clients.get(i), bind("", "mine_" + i, "2"), execute(""), sync()))
              .containsExactly(
                  "BindComplete", "DataRow [42]", "CommandComplete SELECT 1", "ReadyForQuery I");
        }
        List<String> onServer =
            run(clients.get(0), query("select count(*) from pg_prepared_statements"));
        assertThat(onServer).contains("DataRow [1]");
      } finally {
        for (RawClient c : clients) {
          c.close();
        }
      }
    }
  }

  @Test
  void aNameInUseFailsAsOnPostgres() throws Exception {
    try (ProxyFixture proxy = proxy(1, "")) {
      List<String> expected = nameInUse(direct());
      assertThat(expected).contains("ErrorResponse 42P05 prepared statement \"s\" already exists");
      assertThat(nameInUse(through(proxy))).isEqualTo(expected);
    }
  }

  private static List<String> nameInUse(Target target) throws IOException {
    try (RawClient c = target.client()) {
      List<String> seen = new ArrayList<>();
      seen.addAll(run(c, parse("s", "select 1"), sync()));
      seen.addAll(run(c, parse("s", "select 2"), bind("", "s"), execute(""), sync()));
      seen.addAll(run(c, parse("s", "select from nowhere_at_all"), sync())); // the query first
      seen.addAll(run(c, bind("", "s"), execute(""), sync())); // still the first one
      seen.addAll(run(c, close("s"), parse("s", "select 3"), bind("", "s"), execute(""), sync()));
      return seen;
    }
  }

  @Test
  void unknownAndClosedStatementsFailAsOnPostgres() throws Exception {
    try (ProxyFixture proxy = proxy(1, "")) {
      List<String> expected = unknown(direct());
      assertThat(expected)
          .contains("ErrorResponse 26000 prepared statement \"gone\" does not exist");
      assertThat(unknown(through(proxy))).isEqualTo(expected);
    }
  }

  private static List<String> unknown(Target target) throws IOException {
    try (RawClient c = target.client()) {
      List<String> seen = new ArrayList<>();
      seen.addAll(run(c, bind("", "never"), execute(""), sync()));
      seen.addAll(run(c, parse("gone", "select 1"), close("gone"), close("gone"), sync()));
      seen.addAll(run(c, describeStatement("gone"), sync()));
      seen.addAll(run(c, query("select 'still fine'")));
      return seen;
    }
  }

  @Test
  void whatAnErrorSkipsUntilSyncIsNotPrepared() throws Exception {
    try (ProxyFixture proxy = proxy(1, "")) {
      List<String> expected = skipped(direct());
      assertThat(expected).contains("ErrorResponse 26000 prepared statement \"b\" does not exist");
      assertThat(skipped(through(proxy))).isEqualTo(expected);
    }
  }

  private static List<String> skipped(Target target) throws IOException {
    try (RawClient c = target.client()) {
      List<String> seen = new ArrayList<>();
      seen.addAll(run(c, parse("a", "select $1::int"), sync()));
      // the Bind fails; PostgreSQL skips the Parse and Close after it, until the Sync
      seen.addAll(
          run(c, bind("", "a", "not a number"), parse("b", "select 2"), close("a"), sync()));
      seen.addAll(run(c, bind("", "b"), execute(""), sync()));
      seen.addAll(run(c, bind("", "a", "5"), execute(""), sync())); // the Close was skipped too
      seen.addAll(run(c, query("begin"), parse("c", "select 1/0"), sync()));
      seen.addAll(run(c, bind("", "c"), execute(""), sync())); // aborted transaction
      seen.addAll(run(c, query("rollback")));
      seen.addAll(run(c, bind("", "c"), execute(""), sync()));
      return seen;
    }
  }

  @Test
  void deallocateAllAndDiscardAllForgetTheClientsStatements() throws Exception {
    try (ProxyFixture proxy = proxy(1, "")) {
      List<String> expected = deallocated(direct());
      assertThat(expected).contains("ErrorResponse 26000 prepared statement \"x\" does not exist");
      assertThat(deallocated(through(proxy))).isEqualTo(expected);
    }
  }

  private static List<String> deallocated(Target target) throws IOException {
    try (RawClient c = target.client()) {
      List<String> seen = new ArrayList<>();
      seen.addAll(run(c, parse("x", "select 1"), sync()));
      seen.addAll(run(c, query("deallocate all")));
      seen.addAll(run(c, bind("", "x"), execute(""), sync()));
      seen.addAll(run(c, parse("x", "select 2"), bind("", "x"), execute(""), sync()));
      seen.addAll(run(c, query("discard all")));
      seen.addAll(run(c, bind("", "x"), execute(""), sync()));
      seen.addAll(run(c, parse("x", "select 3"), bind("", "x"), execute(""), sync()));
      return seen;
    }
  }

  @Test
  void aStatementEvictedFromTheServerIsPreparedAgain() throws Exception {
    try (ProxyFixture proxy = proxy(1, "max_prepared_statements = 2\n")) {
      List<String> expected = rotating(direct());
      assertThat(rotating(through(proxy))).isEqualTo(expected);
      try (RawClient c = through(proxy).client()) {
        assertThat(run(c, query("select count(*) <= 2 from pg_prepared_statements")))
            .contains("DataRow [t]");
      }
    }
  }

  private static List<String> rotating(Target target) throws IOException {
    try (RawClient c = target.client()) {
      List<String> seen = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        seen.addAll(run(c, parse("q" + i, "select " + i + " + $1::int"), sync()));
      }
      for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 5; i++) {
          seen.addAll(run(c, bind("", "q" + i, "100"), execute(""), sync()));
        }
        seen.addAll(
            run(
                c,
                bind("", "q4", "1"),
                execute(""),
                bind("", "q0", "1"),
                execute(""),
                bind("", "q1", "1"),
                execute(""),
                sync())); // three statements in one pipeline
      }
      return seen;
    }
  }

  @Test
  void ddlThatChangesTheResultTypeFailsAsOnPostgres() throws Exception {
    try (ProxyFixture proxy = proxy(1, "")) {
      List<String> expected = ddl(direct());
      assertThat(expected).anyMatch(m -> m.startsWith("ErrorResponse 0A000 cached plan must not"));
      assertThat(ddl(through(proxy))).isEqualTo(expected);
    }
  }

  private static List<String> ddl(Target target) throws IOException {
    try (RawClient c = target.client()) {
      List<String> seen = new ArrayList<>();
      seen.addAll(run(c, query("drop table if exists prepared_ddl")));
      seen.addAll(run(c, query("create table prepared_ddl (a int)")));
      seen.addAll(run(c, query("insert into prepared_ddl values (1)")));
      seen.addAll(
          run(c, parse("t", "select * from prepared_ddl"), bind("", "t"), execute(""), sync()));
      seen.addAll(run(c, query("alter table prepared_ddl add column b int")));
      seen.addAll(run(c, bind("", "t"), execute(""), sync()));
      return seen.stream().filter(m -> !m.startsWith("NoticeResponse")).toList();
    }
  }

  @Test
  void pgjdbcWithPrepareThresholdOneAcrossFiftyClientsAndFiveServers() throws Exception {
    try (ProxyFixture proxy = proxy(5, "max_client_conn = 100\n")) {
      ExecutorService threads = Executors.newFixedThreadPool(50);
      try {
        List<Future<Long>> results = new ArrayList<>();
        for (int t = 0; t < 50; t++) {
          int client = t;
          results.add(threads.submit(() -> jdbcClient(proxy, client)));
        }
        for (int t = 0; t < 50; t++) {
          assertThat(results.get(t).get(120, TimeUnit.SECONDS)).isEqualTo(expectedSum(t));
        }
      } finally {
        threads.shutdownNow();
      }
    }
  }

  private static long expectedSum(int client) {
    long sum = 0;
    for (int i = 0; i < 40; i++) {
      sum += client * 1000L + i + (i % 7) + 3;
    }
    return sum;
  }

  private static long jdbcClient(ProxyFixture proxy, int client) throws SQLException {
    long sum = 0;
    try (Connection c = proxy.connect("scram_user", "scram_pass", "app", "prepareThreshold", "1");
        PreparedStatement add = c.prepareStatement("select ?::bigint + ?::int");
        PreparedStatement mod = c.prepareStatement("select ?::int % 7");
        PreparedStatement three = c.prepareStatement("select 3")) {
      for (int i = 0; i < 40; i++) {
        boolean inTransaction = i % 4 == 0;
        c.setAutoCommit(!inTransaction);
        add.setLong(1, client * 1000L);
        add.setInt(2, i);
        sum += single(add);
        mod.setInt(1, i);
        sum += single(mod);
        sum += single(three);
        if (inTransaction) {
          c.commit();
        }
      }
      c.setAutoCommit(true);
    }
    return sum;
  }

  private static long single(PreparedStatement st) throws SQLException {
    try (ResultSet rs = st.executeQuery()) {
      rs.next();
      return rs.getLong(1);
    }
  }

  @Test
  void preparedStatementCountsShowInStats() throws Exception {
    try (ProxyFixture proxy = proxy(1, "")) {
      Map<String, String> stats;
      try (RawClient a = through(proxy).client();
          RawClient b = through(proxy).client();
          Connection console =
              proxy.connect("admin", "admin_pass", "pgbouncer", "preferQueryMode", "simple");
          Statement st = console.createStatement()) {
        run(a, parse("one", "select 1"), parse("two", "select 2"), sync());
        run(b, parse("uno", "select 1"), sync()); // the same statement: no second server Parse
        run(b, bind("", "uno"), execute(""), sync());
        stats = AdminConsoleIT.row(AdminConsoleIT.show(st, "STATS"), "database", "app");
        List<Map<String, String>> clients = AdminConsoleIT.show(st, "CLIENTS");
        assertThat(clients)
            .filteredOn(c -> "md5_user".equals(c.get("user")))
            .extracting(c -> c.get("prepared_statements"))
            .containsExactlyInAnyOrder("2", "1");
        assertThat(AdminConsoleIT.show(st, "SERVERS"))
            .filteredOn(c -> "md5_user".equals(c.get("user")))
            .extracting(c -> c.get("prepared_statements"))
            .containsExactly("2");
      }
      assertThat(stats).containsEntry("total_client_parse_count", "3");
      assertThat(stats).containsEntry("total_server_parse_count", "2");
      assertThat(stats).containsEntry("total_bind_count", "1");
    }
  }

  // --- a tiny extended-protocol client on RawClient ---

  private static byte[] parse(String name, String query) {
    return message('P', cat(RawClient.cstring(name), RawClient.cstring(query), new byte[2]));
  }

  private static byte[] bind(String portal, String statement, String... textParameters) {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    body.writeBytes(RawClient.cstring(portal));
    body.writeBytes(RawClient.cstring(statement));
    body.writeBytes(new byte[2]); // parameter formats: all text
    body.writeBytes(short16(textParameters.length));
    for (String p : textParameters) {
      byte[] value = p.getBytes(StandardCharsets.UTF_8);
      body.writeBytes(int32(value.length));
      body.writeBytes(value);
    }
    body.writeBytes(new byte[2]); // result formats: all text
    return message('B', body.toByteArray());
  }

  private static byte[] describeStatement(String name) {
    return message('D', cat(new byte[] {'S'}, RawClient.cstring(name)));
  }

  private static byte[] execute(String portal) {
    return message('E', cat(RawClient.cstring(portal), new byte[4]));
  }

  private static byte[] close(String statement) {
    return message('C', cat(new byte[] {'S'}, RawClient.cstring(statement)));
  }

  private static byte[] sync() {
    return message('S', new byte[0]);
  }

  static byte[] query(String sql) {
    return message('Q', RawClient.cstring(sql));
  }

  private static byte[] message(char type, byte[] body) {
    return RawClient.typed(type, body);
  }

  private static byte[] cat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] part : parts) {
      out.writeBytes(part);
    }
    return out.toByteArray();
  }

  private static byte[] short16(int v) {
    return new byte[] {(byte) (v >>> 8), (byte) v};
  }

  private static byte[] int32(int v) {
    return new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
  }

  /**
   * Sends {@code messages} in one write and reads the replies up to the ReadyForQuery that answers
   * the last sync point (each Sync and Query is one), as readable lines.
   */
  static List<String> run(RawClient c, byte[]... messages) throws IOException {
    int syncPoints = 0;
    for (byte[] m : messages) {
      if (m[0] == 'S' || m[0] == 'Q') {
        syncPoints++;
      }
    }
    c.send(cat(messages));
    List<String> seen = new ArrayList<>();
    while (syncPoints > 0) {
      RawClient.Message m = c.read();
      seen.add(describe(m));
      if (m.type() == 'Z') {
        syncPoints--;
      }
    }
    return seen;
  }

  private static String describe(RawClient.Message m) {
    return switch (m.type()) {
      case '1' -> "ParseComplete";
      case '2' -> "BindComplete";
      case '3' -> "CloseComplete";
      case 'n' -> "NoData";
      case 't' -> "ParameterDescription";
      case 'T' -> "RowDescription";
      case 'D' -> "DataRow " + dataRow(m.body());
      case 'C' ->
          "CommandComplete " + new String(m.body(), 0, m.body().length - 1, StandardCharsets.UTF_8);
      case 'Z' -> "ReadyForQuery " + (char) m.body()[0];
      case 'E' -> "ErrorResponse " + m.fields().get('C') + " " + m.fields().get('M');
      case 'N' -> "NoticeResponse " + m.fields().get('M');
      case 'S' ->
          "ParameterStatus "
              + new String(m.body(), StandardCharsets.UTF_8)
                  .replaceFirst("\u0000", "=")
                  .replace("\u0000", "");
      default -> "'" + m.type() + "'";
    };
  }

  private static List<String> dataRow(byte[] body) {
    List<String> values = new ArrayList<>();
    int columns = ((body[0] & 0xff) << 8) | (body[1] & 0xff);
    int at = 2;
    for (int i = 0; i < columns; i++) {
      int length =
          ((body[at] & 0xff) << 24)
              | ((body[at + 1] & 0xff) << 16)
              | ((body[at + 2] & 0xff) << 8)
              | (body[at + 3] & 0xff);
      at += 4;
      values.add(length < 0 ? null : new String(body, at, length, StandardCharsets.UTF_8));
      at += Math.max(length, 0);
    }
    return values;
  }
}
