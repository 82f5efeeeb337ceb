package io.jbouncer.it;

import static io.jbouncer.it.TransactionPoolingIT.scalar;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jbouncer.protocol.auth.Md5Password;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Client authentication (auth_type) and server authentication (PostgreSQL's pg_hba methods). */
class AuthIT {
  @TempDir Path dir;

  @ParameterizedTest(name = "server auth for {0}")
  @CsvSource({
    "scram_user, scram_pass", // pg_hba scram-sha-256
    "md5_user, md5_pass", // pg_hba md5, password stored as MD5
    "clear_user, clear_pass", // pg_hba password (cleartext)
    "trust_user, trust_pass" // pg_hba trust
  })
  void logsInToPostgresWithEachServerMethod(String user, String password) throws Exception {
    try (ProxyFixture proxy = ProxyFixture.start(dir, "");
        Connection c = proxy.connect(user, password, "app");
        Statement st = c.createStatement()) {
      assertThat(scalar(st, "select current_user")).isEqualTo(user);
    }
  }

  @Test
  void md5HashInUserlistServesBothClientAndServerLogin() throws Exception {
    String userlist = "\"md5_user\" \"" + Md5Password.encode("md5_user", "md5_pass") + "\"\n";
    try (ProxyFixture proxy =
            ProxyFixture.start(dir, ProxyFixture.defaultDatabases(), "", userlist);
        Connection c = proxy.connect("md5_user", "md5_pass", "app");
        Statement st = c.createStatement()) {
      assertThat(scalar(st, "select current_user")).isEqualTo("md5_user");
    }
  }

  @Test
  void databaseEntryCanForceUserAndPassword() throws Exception {
    String databases =
        "forced = host=127.0.0.1 port=${PGPORT} dbname=app user=scram_user password=scram_pass\n";
    try (ProxyFixture proxy = ProxyFixture.start(dir, databases, "", ProxyFixture.USERLIST);
        Connection c = proxy.connect("clear_user", "clear_pass", "forced");
        Statement st = c.createStatement()) {
      assertThat(scalar(st, "select current_user")).isEqualTo("scram_user");
    }
  }

  @ParameterizedTest(name = "auth_type {0}")
  @CsvSource({"md5", "plain"})
  void wrongPasswordAndUnknownUserGetTheSameError(String authType) throws Exception {
    try (ProxyFixture proxy = ProxyFixture.start(dir, "auth_type = " + authType + "\n");
        Connection good = proxy.connect()) {
      assertThatThrownBy(() -> proxy.connect("scram_user", "not-the-password", "app"))
          .isInstanceOf(SQLException.class)
          .satisfies(
              e -> {
                assertThat(((SQLException) e).getSQLState()).isEqualTo("28P01");
                assertThat(e.getMessage()).contains("password authentication failed");
              });
      assertThatThrownBy(() -> proxy.connect("nobody_here", "whatever", "app"))
          .isInstanceOf(SQLException.class)
          .satisfies(
              e -> {
                assertThat(((SQLException) e).getSQLState()).isEqualTo("28P01");
                assertThat(e.getMessage()).contains("password authentication failed");
              });
      assertThat(scalar(good.createStatement(), "select 'unaffected'")).isEqualTo("unaffected");
    }
  }

  @Test
  void emptyPasswordNeverMatches() throws Exception {
    String userlist = ProxyFixture.USERLIST + "\"empty_user\" \"\"\n";
    try (ProxyFixture proxy =
        ProxyFixture.start(dir, ProxyFixture.defaultDatabases(), "auth_type = plain\n", userlist)) {
      assertThatThrownBy(() -> proxy.connect("empty_user", "", "app"))
          .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("28P01"));
    }
  }

  @Test
  void trustAcceptsListedUsersOnly() throws Exception {
    try (ProxyFixture proxy = ProxyFixture.start(dir, "auth_type = trust\n")) {
      try (Connection c = proxy.connect("scram_user", "any password at all", "app")) {
        assertThat(scalar(c.createStatement(), "select current_user")).isEqualTo("scram_user");
      }
      assertThatThrownBy(() -> proxy.connect("not_listed", "x", "app"))
          .satisfies(e -> assertThat(e.getMessage()).contains("\"trust\" authentication failed"));
    }
  }

  @Test
  void anyIgnoresTheClientUserWhenTheDatabaseForcesOne() throws Exception {
    String databases =
        "app = host=127.0.0.1 port=${PGPORT} dbname=app user=scram_user password=scram_pass\n";
    try (ProxyFixture proxy = ProxyFixture.start(dir, databases, "auth_type = any\n", "");
        Connection c = proxy.connect("whoever", "whatever", "app")) {
      assertThat(scalar(c.createStatement(), "select current_user")).isEqualTo("scram_user");
    }
  }

  @Test
  void reloadedAuthFileAppliesToNewLoginsAndLeavesConnectedClientsAlone() throws Exception {
    // the server password comes from the database entry, so only client logins use the userlist
    String databases =
        "rotating = host=127.0.0.1 port=${PGPORT} dbname=app user=md5_user password=md5_pass\n";
    try (ProxyFixture proxy = ProxyFixture.start(dir, databases, "", ProxyFixture.USERLIST);
        Connection connected = proxy.connect("md5_user", "md5_pass", "rotating")) {
      java.nio.file.Files.writeString(
          dir.resolve("userlist.txt"), ProxyFixture.USERLIST.replace("md5_pass", "rotated_pass"));
      assertThat(proxy.bouncer().reload()).isTrue();

      assertThatThrownBy(() -> proxy.connect("md5_user", "md5_pass", "rotating"))
          .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("28P01"));
      assertThat(scalar(connected.createStatement(), "select 'still here'"))
          .isEqualTo("still here");
      try (Connection fresh = proxy.connect("md5_user", "rotated_pass", "rotating")) {
        assertThat(scalar(fresh.createStatement(), "select current_user")).isEqualTo("md5_user");
      }

      java.nio.file.Files.writeString(dir.resolve("userlist.txt"), "\"broken\n");
      assertThat(proxy.bouncer().reload()).as("a broken auth_file is refused").isFalse();
      try (Connection kept = proxy.connect("md5_user", "rotated_pass", "rotating")) {
        assertThat(scalar(kept.createStatement(), "select 'old list kept'"))
            .isEqualTo("old list kept");
      }
    }
  }

  @Test
  void serverRejectingThePasswordReachesTheClientAsTheServersError() throws Exception {
    // the userlist password authenticates the client but is wrong for PostgreSQL
    String userlist = "\"scram_user\" \"wrong_for_postgres\"\n\"md5_user\" \"md5_pass\"\n";
    try (ProxyFixture proxy =
        ProxyFixture.start(dir, ProxyFixture.defaultDatabases(), "", userlist)) {
      assertThatThrownBy(() -> proxy.connect("scram_user", "wrong_for_postgres", "app"))
          .isInstanceOf(SQLException.class)
          .satisfies(
              e -> {
                assertThat(((SQLException) e).getSQLState()).isEqualTo("28P01");
                assertThat(e.getMessage())
                    .contains("password authentication failed for user \"scram_user\"");
              });
      try (Connection other = proxy.connect("md5_user", "md5_pass", "app")) {
        assertThat(scalar(other.createStatement(), "select 'other pool works'"))
            .isEqualTo("other pool works");
      }
      // while the pool's login keeps failing, new clients fail fast with the cached error
      assertThatThrownBy(() -> proxy.connect("scram_user", "wrong_for_postgres", "app"))
          .satisfies(e -> assertThat(e.getMessage()).contains("password authentication failed"));
    }
  }
}
