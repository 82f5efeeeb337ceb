package io.jbouncer.it;

import static io.jbouncer.it.TransactionPoolingIT.scalar;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jbouncer.testing.TestPostgres;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * auth_query: users missing from auth_file are looked up in PostgreSQL through auth_user's
 * dedicated connection; the secret found (MD5 hash or SCRAM secret) serves the client login and,
 * with SCRAM pass-through, the server login.
 */
class AuthQueryIT {
  @TempDir Path dir;

  private ProxyFixture withAuthQuery(String extra) throws Exception {
    // only auth_user is in the file; PgBouncer's default auth_query reads pg_authid
    String userlist = "\"postgres\" \"" + TestPostgres.get().superuserPassword() + "\"\n";
    return ProxyFixture.start(
        dir, ProxyFixture.defaultDatabases(), "auth_user = postgres\n" + extra, userlist);
  }

  @Test
  void userWithAnMd5HashInPostgresLogsInWithMd5() throws Exception {
    try (ProxyFixture proxy = withAuthQuery("");
        Connection c = proxy.connect("md5_user", "md5_pass", "app")) {
      assertThat(scalar(c.createStatement(), "select current_user")).isEqualTo("md5_user");
    }
  }

  @Test
  void userWithAScramSecretInPostgresLogsInWithScramAndPassesThrough() throws Exception {
    try (ProxyFixture proxy = withAuthQuery("");
        Connection c = proxy.connect("scram_user", "scram_pass", "app")) {
      assertThat(scalar(c.createStatement(), "select current_user")).isEqualTo("scram_user");
    }
  }

  @Test
  void wrongPasswordAndUnknownUsersFailAlike() throws Exception {
    try (ProxyFixture proxy = withAuthQuery("")) {
      assertThatThrownBy(() -> proxy.connect("md5_user", "wrong", "app"))
          .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("28P01"));
      assertThatThrownBy(() -> proxy.connect("nobody_there", "x", "app"))
          .satisfies(
              e -> {
                assertThat(((SQLException) e).getSQLState()).isEqualTo("28P01");
                assertThat(e.getMessage()).contains("password authentication failed");
              });
      // the name travels as a bound parameter: a quote is just part of an unknown name
      assertThatThrownBy(() -> proxy.connect("o'brien", "x", "app"))
          .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("28P01"));
    }
  }

  @Test
  void authDbnameSendsTheLookupToAnotherDatabaseEntry() throws Exception {
    String userlist = "\"postgres\" \"" + TestPostgres.get().superuserPassword() + "\"\n";
    // lookups go to the "postgres" database; a query that only works there proves it
    String databases =
        ProxyFixture.defaultDatabases()
            + "authdb = host=127.0.0.1 port=${PGPORT} dbname=postgres\n";
    String query =
        "SELECT usename, passwd FROM pg_shadow WHERE usename = $1 AND current_database() = 'postgres'";
    try (ProxyFixture proxy =
            ProxyFixture.start(
                dir,
                databases,
                "auth_user = postgres\nauth_dbname = authdb\nauth_query = " + query + "\n",
                userlist);
        Connection c = proxy.connect("md5_user", "md5_pass", "app")) {
      assertThat(scalar(c.createStatement(), "select current_database()")).isEqualTo("app");
    }
  }

  @Test
  void failingAuthQueryIsAClearErrorNotAHang() throws Exception {
    try (ProxyFixture proxy = withAuthQuery("auth_query = SELECT nonsense FROM nowhere\n");
        Connection bystander =
            proxy.connect("postgres", TestPostgres.get().superuserPassword(), "app")) {
      assertThatThrownBy(() -> proxy.connect("md5_user", "md5_pass", "app"))
          .isInstanceOf(SQLException.class)
          .hasMessageContaining("auth_query failed")
          .hasMessageContaining("nowhere");
      assertThat(scalar(bystander.createStatement(), "select 'unaffected'"))
          .isEqualTo("unaffected");
    }
  }
}
