package io.jbouncer.it;

import static io.jbouncer.it.TransactionPoolingIT.pid;
import static io.jbouncer.it.TransactionPoolingIT.scalar;
import static org.assertj.core.api.Assertions.assertThat;

import io.jbouncer.pool.Pool;
import io.jbouncer.testing.Await;
import io.jbouncer.testing.TestPostgres;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real PostgreSQL backends that die or hang under jbouncer: terminated by an administrator, stalled
 * on the network (a {@link StallingProxy} in between), or abandoned by a client mid-result. The
 * client that used the failing server gets an error, nobody else notices, and no dead or dirty
 * server is handed out again.
 */
class BackendFailureIT {
  @TempDir Path dir;

  private static void terminate(int pid) throws SQLException {
    try (Connection admin = TestPostgres.get().superuser();
        Statement st = admin.createStatement()) {
      assertThat(scalar(st, "select pg_terminate_backend(" + pid + ")")).isEqualTo("t");
    }
  }

  private static boolean backendExists(int pid) throws SQLException {
    try (Connection admin = TestPostgres.get().superuser();
        Statement st = admin.createStatement();
        ResultSet rs = st.executeQuery("select 1 from pg_stat_activity where pid = " + pid)) {
      return rs.next();
    }
  }

  private static int servers(ProxyFixture proxy) {
    return proxy.bouncer().pooler().pools().stream().mapToInt(p -> p.counts().servers()).sum();
  }

  @Test
  void terminatedBackendFailsItsClientWithTheServersErrorAndNobodyElse() throws Exception {
    try (ProxyFixture proxy = ProxyFixture.start(dir, "");
        Connection victim = proxy.connect();
        Connection bystander = proxy.connect();
        Statement victimSt = victim.createStatement();
        Statement bystanderSt = bystander.createStatement()) {
      bystander.setAutoCommit(false);
      int bystanderPid = pid(bystanderSt); // holds the other server in a transaction
      int victimPid = pid(victimSt);
      CompletableFuture<SQLException> failure =
          TransactionPoolingIT.failureOf(victimSt, "select pg_sleep(30)");
      SessionAndDisconnectIT.awaitActive(victimPid);
      terminate(victimPid);
      SQLException e = failure.get(20, TimeUnit.SECONDS);
      assertThat((Throwable) e).isNotNull();
      assertThat(e.getSQLState())
          .as("PostgreSQL's own FATAL reaches the client")
          .isEqualTo("57P01");

      assertThat(pid(bystanderSt)).isEqualTo(bystanderPid);
      bystander.commit();
      try (Connection next = proxy.connect();
          Statement st = next.createStatement()) {
        assertThat(pid(st)).isNotEqualTo(victimPid);
      }
    }
  }

  @Test
  void idleServerTerminatedInThePoolIsNoticedAndReplaced() throws Exception {
    try (ProxyFixture proxy = ProxyFixture.start(dir, "default_pool_size = 1\n");
        Connection client = proxy.connect();
        Statement st = client.createStatement()) {
      int first = pid(st);
      terminate(first);
      Await.until("the pool noticed its server died", () -> servers(proxy) == 0);
      int second = pid(st);
      assertThat(second).as("a fresh server, no error for the client").isNotEqualTo(first);
    }
  }

  @Test
  void clientDroppingMidResultNeverLeavesItsServerInThePool() throws Exception {
    try (ProxyFixture proxy = ProxyFixture.start(dir, "default_pool_size = 1\n");
        Connection next = proxy.connect();
        Statement nextSt = next.createStatement()) {
      int serverPid = pid(nextSt);
      try (RawClient dropper = RawClient.loggedIn(proxy.port(), "scram_user", "scram_pass")) {
        // about 1 GB of rows: far more than any buffer, so the server is mid-result when we go
        dropper.send(
            RawClient.typed(
                'Q',
                RawClient.cstring("select repeat('x', 1000) from generate_series(1, 1000000)")));
        int rows = 0;
        while (rows < 1000) {
          if (dropper.read().type() == 'D') {
            rows++;
          }
        }
      } // closed with the result still streaming
      Await.until(
          "the abandoned server is closed, and its backend gone",
          () -> servers(proxy) == 0 && !backendExists(serverPid));
      assertThat(pid(nextSt)).as("a clean server for the next client").isNotEqualTo(serverPid);
    }
  }

  @Test
  void stalledServerIsClosedByQueryTimeoutWhileOtherDatabasesCarryOn() throws Exception {
    TestPostgres pg = TestPostgres.get();
    try (StallingProxy network = new StallingProxy(pg.host(), pg.port());
        ProxyFixture proxy =
            ProxyFixture.start(
                dir,
                ProxyFixture.defaultDatabases()
                    + "stalled = host=127.0.0.1 port="
                    + network.port()
                    + " dbname=app\n",
                "query_timeout = 1\n",
                ProxyFixture.USERLIST);
        Connection stalled = proxy.connect("scram_user", "scram_pass", "stalled");
        Connection healthy = proxy.connect();
        Statement stalledSt = stalled.createStatement();
        Statement healthySt = healthy.createStatement()) {
      int stalledPid = pid(stalledSt);
      network.stall();
      CompletableFuture<SQLException> failure =
          TransactionPoolingIT.failureOf(stalledSt, "select 'never answered'");
      assertThat(scalar(healthySt, "select 'unaffected'")).isEqualTo("unaffected");
      SQLException e = failure.get(20, TimeUnit.SECONDS);
      assertThat((Throwable) e).isNotNull();
      assertThat(e.getMessage()).contains("query timeout");

      network.resume();
      try (Connection again = proxy.connect("scram_user", "scram_pass", "stalled");
          Statement st = again.createStatement()) {
        assertThat(pid(st)).as("the hung server was closed, not reused").isNotEqualTo(stalledPid);
      }
    }
  }

  @Test
  void stalledLoginHitsServerConnectTimeoutAndTheClientIsServedOnceTheNetworkIsBack()
      throws Exception {
    TestPostgres pg = TestPostgres.get();
    try (StallingProxy network = new StallingProxy(pg.host(), pg.port());
        ProxyFixture proxy =
            ProxyFixture.start(
                dir,
                "stalled = host=127.0.0.1 port=" + network.port() + " dbname=app\n",
                "server_connect_timeout = 1\nserver_login_retry = 0.5\n",
                ProxyFixture.USERLIST)) {
      network.stall();
      CompletableFuture<String> login =
          CompletableFuture.supplyAsync(
              () -> {
                try (Connection c = proxy.connect("scram_user", "scram_pass", "stalled");
                    Statement st = c.createStatement()) {
                  return scalar(st, "select 'served'");
                } catch (SQLException e) {
                  return "failed: " + e.getMessage();
                }
              });
      Await.until("the stalled login timed out and was retried", () -> network.connections() >= 2);
      Pool pool = proxy.bouncer().pooler().pools().iterator().next();
      assertThat(pool.counts().waiting()).as("the client still waits").isEqualTo(1);
      network.resume();
      assertThat(login.get(20, TimeUnit.SECONDS)).isEqualTo("served");
    }
  }

  @Test
  void loginRefusedByPostgresIsNotRetriedBeforeServerLoginRetry() throws Exception {
    // the userlist password is wrong for PostgreSQL: jbouncer accepts the client, PostgreSQL
    // refuses jbouncer; then the file is fixed and reloaded
    String wrong = "\"scram_user\" \"not_the_password\"\n";
    try (ProxyFixture proxy =
        ProxyFixture.start(
            dir, ProxyFixture.defaultDatabases(), "server_login_retry = 2\n", wrong)) {
      assertThatLoginFails(proxy, "not_the_password", "28P01");
      long refusedAt = System.nanoTime();
      java.nio.file.Files.writeString(
          dir.resolve("userlist.txt"), "\"scram_user\" \"scram_pass\"\n");
      assertThat(proxy.bouncer().reload()).isTrue();
      SQLException cached = assertThatLoginFails(proxy, "scram_pass", "08P01");
      assertThat(cached.getMessage())
          .contains(
              "server login has been failing, cached error: password authentication failed for"
                  + " user \"scram_user\" (server_login_retry)");
      Await.until("the retry delay passed", () -> !failing(proxy));
      assertThat(System.nanoTime() - refusedAt)
          .as("held back for server_login_retry")
          .isGreaterThan(Duration.ofMillis(1500).toNanos());
      try (Connection c = proxy.connect("scram_user", "scram_pass", "app");
          Statement st = c.createStatement()) {
        assertThat(scalar(st, "select 'logged in'")).isEqualTo("logged in");
      }
    }
  }

  private static SQLException assertThatLoginFails(
      ProxyFixture proxy, String password, String sqlState) {
    try (Connection c = proxy.connect("scram_user", password, "app")) {
      throw new AssertionError("logged in: " + c);
    } catch (SQLException e) {
      assertThat(e.getSQLState()).as(e.getMessage()).isEqualTo(sqlState);
      return e;
    }
  }

  private static boolean failing(ProxyFixture proxy) {
    return proxy.bouncer().pooler().pools().stream()
        .anyMatch(p -> p.counts().failingLogin() != null);
  }
}
