package io.jbouncer.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jbouncer.testing.TestPostgres;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** psql, pgbench and psycopg2 through jbouncer, where installed (CI installs them). */
class ClientToolsIT {
  @TempDir Path dir;

  @Test
  void psqlRunsQueriesThroughTheProxy() throws Exception {
    assumeTrue(onPath("psql"), "psql is not installed");
    try (ProxyFixture proxy = ProxyFixture.start(dir, "")) {
      Result r =
          psql(
              proxy.port(),
              "select 'from psql', current_setting('application_name')",
              "begin",
              "select 2",
              "commit");
      assertThat(r.exitCode()).as(r.output()).isZero();
      assertThat(r.output()).contains("from psql|psql").contains("2");
    }
  }

  @Test
  void psqlOperatesTheAdminConsole() throws Exception {
    assumeTrue(onPath("psql"), "psql is not installed");
    try (ProxyFixture proxy =
        ProxyFixture.start(
            dir,
            ProxyFixture.defaultDatabases(),
            "admin_users = admin\n",
            ProxyFixture.USERLIST + "\"admin\" \"admin_pass\"\n")) {
      psql(proxy.port(), "select 1"); // a pool to show
      Result r =
          run(
              Map.of("PGPASSWORD", "admin_pass"),
              "psql",
              "-X",
              "-h",
              "127.0.0.1",
              "-p",
              String.valueOf(proxy.port()),
              "-U",
              "admin",
              "pgbouncer",
              "-c",
              "SHOW POOLS",
              "-c",
              "PAUSE",
              "-c",
              "SHOW STATE",
              "-c",
              "RESUME");
      assertThat(r.exitCode()).as(r.output()).isZero();
      assertThat(r.output())
          .containsPattern(
              "database\\s+\\|\\s+user\\s+\\|\\s+cl_active\\s+\\|\\s+cl_waiting\\s+\\|"
                  + "\\s+cl_active_cancel_req\\s+\\|\\s+cl_waiting_cancel_req\\s+\\|\\s+sv_active")
          .containsPattern("\\s+app\\s+\\|\\s+scram_user\\s+\\|")
          .contains("PAUSE")
          .containsPattern("paused\\s+\\|\\s+yes")
          .contains("RESUME");
    }
  }

  @org.junit.jupiter.params.ParameterizedTest(name = "auth_type {0}")
  @org.junit.jupiter.params.provider.ValueSource(
      strings = {"scram-sha-256", "md5", "plain", "trust", "hba", "auth_query"})
  void psqlLogsInWithEachAuthType(String authType) throws Exception {
    assumeTrue(onPath("psql"), "psql is not installed");
    String userlist = ProxyFixture.USERLIST;
    String settings = "auth_type = " + authType + "\n";
    if (authType.equals("hba")) {
      Files.writeString(dir.resolve("hba.conf"), "host all all 127.0.0.1/32 scram-sha-256\n");
      settings += "auth_hba_file = hba.conf\n";
    } else if (authType.equals("auth_query")) {
      userlist = "\"postgres\" \"" + TestPostgres.get().superuserPassword() + "\"\n";
      settings = "auth_type = md5\nauth_user = postgres\n";
    }
    try (ProxyFixture proxy =
        ProxyFixture.start(dir, ProxyFixture.defaultDatabases(), settings, userlist)) {
      Result r = psql(proxy.port(), "select current_user");
      assertThat(r.exitCode()).as(r.output()).isZero();
      assertThat(r.output().trim()).isEqualTo("scram_user");
    }
  }

  @Test
  void pgbenchTpcbInTransactionModeHasNoFailuresAndRespectsPoolSize() throws Exception {
    assumeTrue(onPath("pgbench"), "pgbench is not installed");
    try (ProxyFixture proxy = pgbenchProxy(4)) {
      pgbenchInit(proxy);
      AtomicBoolean running = new AtomicBoolean(true);
      AtomicInteger maxServers = new AtomicInteger();
      Thread watcher = new Thread(() -> watchServers("bench_user", running, maxServers));
      watcher.start();
      Result bench = pgbench(proxy, "-c", "20", "-j", "2", "-T", "8");
      running.set(false);
      watcher.join();
      assertNoFailedTransactions(bench);
      assertThat(maxServers.get()).as("server connections during pgbench").isBetween(1, 4);
    }
  }

  @Test
  void psycopg2SimpleProtocolThroughTheProxy() throws Exception {
    assumeTrue(pythonHasPsycopg2(), "python3 with psycopg2 is not installed");
    try (ProxyFixture proxy = ProxyFixture.start(dir, "")) {
      String script =
          """
          import psycopg2, sys
          conn = psycopg2.connect(host='127.0.0.1', port=int(sys.argv[1]), dbname='app',
                                  user='scram_user', password='scram_pass')
          cur = conn.cursor()
          cur.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
          cur.execute("select %s::int + 1, %s", (41, 'odoo'))
          print(cur.fetchone())
          conn.rollback()
          conn.autocommit = True  # as Odoo's pool does before DISCARD ALL
          cur.execute("DISCARD ALL")
          conn.close()
          """;
      Path py = dir.resolve("client.py");
      Files.writeString(py, script);
      Result r = run(Map.of(), python(), py.toString(), String.valueOf(proxy.port()));
      assertThat(r.exitCode()).as(r.output()).isZero();
      assertThat(r.output()).contains("(42, 'odoo')");
    }
  }

  @Test
  void pgbenchPreparedProtocolThroughTransactionPoolingHasNoErrors() throws Exception {
    assumeTrue(onPath("pgbench"), "pgbench is not installed");
    try (ProxyFixture proxy = pgbenchProxy(3)) {
      pgbenchInit(proxy);
      // 20 clients, each with its own P_0 prepared on whichever of 3 servers it gets
      Result bench = pgbench(proxy, "-M", "prepared", "-S", "-c", "20", "-j", "2", "-T", "4");
      assertThat(bench.output()).doesNotContain("ERROR").doesNotContain("error");
      assertNoFailedTransactions(bench);
    }
  }

  private ProxyFixture pgbenchProxy(int poolSize) throws Exception {
    Roles.ensure("bench_user", "bench_pass");
    return ProxyFixture.start(
        dir,
        ProxyFixture.defaultDatabases(),
        "default_pool_size = " + poolSize + "\nmax_client_conn = 100\n",
        "\"bench_user\" \"bench_pass\"\n");
  }

  private static void pgbenchInit(ProxyFixture proxy) throws Exception {
    Result init = pgbench(proxy, "-i", "-q", "-s", "1");
    assertThat(init.exitCode()).as(init.output()).isZero();
  }

  /** pgbench as bench_user on database app through the proxy, with {@code options}. */
  private static Result pgbench(ProxyFixture proxy, String... options) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("pgbench"));
    cmd.addAll(List.of(options));
    cmd.addAll(
        List.of("-h", "127.0.0.1", "-p", String.valueOf(proxy.port()), "-U", "bench_user", "app"));
    return run(Map.of("PGPASSWORD", "bench_pass"), cmd.toArray(new String[0]));
  }

  private static void assertNoFailedTransactions(Result bench) {
    assertThat(bench.exitCode()).as(bench.output()).isZero();
    Matcher processed =
        Pattern.compile("number of transactions actually processed: (\\d+)")
            .matcher(bench.output());
    assertThat(processed.find()).as(bench.output()).isTrue();
    assertThat(Long.parseLong(processed.group(1))).isPositive();
    Matcher failed =
        Pattern.compile("number of failed transactions: (\\d+)").matcher(bench.output());
    if (failed.find()) { // pgbench 15+ prints it
      assertThat(failed.group(1)).isEqualTo("0");
    }
  }

  @Test
  void psycopg3ServerSidePreparedStatementsThroughTransactionPooling() throws Exception {
    assumeTrue(pythonHas("psycopg"), "python3 with psycopg (3) is not installed");
    try (ProxyFixture proxy = ProxyFixture.start(dir, "default_pool_size = 1\n")) {
      // three connections take turns on one server, each preparing the same names (_pg3_0...)
      String script =
          """
          import psycopg, sys
          port = int(sys.argv[1])
          conns = [psycopg.connect(host='127.0.0.1', port=port, dbname='app', user='scram_user',
                                   password='scram_pass', autocommit=True) for _ in range(3)]
          total = 0
          for i in range(30):
              for n, conn in enumerate(conns):
                  q = "select %s::int + " + str(n)
                  total += conn.execute(q, (i,), prepare=True).fetchone()[0]
                  total += conn.execute("select length(%s::text)", ('abc' * n,),
                                        prepare=True).fetchone()[0]
                  with conn.transaction():
                      total += conn.execute("select %s::int * 2", (n,), prepare=True).fetchone()[0]
          prepared = conns[0].execute(
              "select count(*) from pg_prepared_statements").fetchone()[0]
          print("total", total, "prepared on the server", prepared)
          """;
      Path py = dir.resolve("psycopg3.py");
      Files.writeString(py, script);
      Result r = run(Map.of(), python(), py.toString(), String.valueOf(proxy.port()));
      assertThat(r.exitCode()).as(r.output()).isZero();
      long expected = 0;
      for (int i = 0; i < 30; i++) {
        for (int n = 0; n < 3; n++) {
          expected += i + n + 3L * n + n * 2L;
        }
      }
      assertThat(r.output()).contains("total " + expected + " ");
    }
  }

  private static void watchServers(String user, AtomicBoolean running, AtomicInteger max) {
    try (Connection admin = TestPostgres.get().superuser();
        Statement st = admin.createStatement()) {
      while (running.get()) {
        try (ResultSet rs =
            st.executeQuery(
                "select count(*) from pg_stat_activity where usename = '"
                    + user
                    + "' and backend_type = 'client backend'")) {
          rs.next();
          max.accumulateAndGet(rs.getInt(1), Math::max);
        }
        Thread.sleep(20);
      }
    } catch (Exception e) {
      throw new RuntimeException(e);
    }
  }

  record Result(int exitCode, String output) {}

  /** psql as scram_user on database app through the proxy: unaligned, stop at the first error. */
  static Result psql(int port, String... commands) throws IOException, InterruptedException {
    List<String> command =
        new ArrayList<>(
            List.of(
                "psql",
                "-X",
                "-At",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                "127.0.0.1",
                "-p",
                String.valueOf(port),
                "-U",
                "scram_user",
                "-d",
                "app"));
    for (String sql : commands) {
      command.add("-c");
      command.add(sql);
    }
    return run(Map.of("PGPASSWORD", "scram_pass"), command.toArray(new String[0]));
  }

  static Result run(Map<String, String> env, String... command)
      throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    pb.environment().putAll(env);
    Process p = pb.start();
    byte[] out = p.getInputStream().readAllBytes();
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
    }
    return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
  }

  static boolean onPath(String tool) {
    for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
      if (Files.isExecutable(Path.of(d, tool))) {
        return true;
      }
    }
    return false;
  }

  static String python() {
    // Debian's python3-psycopg2 lives with /usr/bin/python3, which may not be first on PATH
    return Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : "python3";
  }

  static boolean pythonHasPsycopg2() {
    return pythonHas("psycopg2");
  }

  private static boolean pythonHas(String module) {
    try {
      List<String> cmd = new ArrayList<>(List.of(python(), "-c", "import " + module));
      return run(Map.of(), cmd.toArray(new String[0])).exitCode() == 0;
    } catch (Exception e) {
      return false;
    }
  }
}
