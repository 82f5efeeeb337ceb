package io.jbouncer.testing;

import static io.jbouncer.testing.TestPostgres.APP_DB;
import static io.jbouncer.testing.TestPostgres.CLEAR_PASSWORD;
import static io.jbouncer.testing.TestPostgres.CLEAR_USER;
import static io.jbouncer.testing.TestPostgres.MD5_PASSWORD;
import static io.jbouncer.testing.TestPostgres.MD5_USER;
import static io.jbouncer.testing.TestPostgres.SCRAM_PASSWORD;
import static io.jbouncer.testing.TestPostgres.SCRAM_USER;
import static io.jbouncer.testing.TestPostgres.TRUST_USER;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The fixture's promises: each role logs in with its own method, and owns what it should. */
class TestPostgresTest {
  private static final TestPostgres pg = TestPostgres.get();

  @ParameterizedTest
  @CsvSource({
    SCRAM_USER + "," + SCRAM_PASSWORD + ",scram-sha-256,SCRAM-SHA-256$",
    MD5_USER + "," + MD5_PASSWORD + ",md5,md5",
    CLEAR_USER + "," + CLEAR_PASSWORD + ",password,SCRAM-SHA-256$",
    TRUST_USER + ",,trust,",
  })
  void eachRoleLogsInWithItsMethod(
      String user, @Nullable String password, String method, @Nullable String stored)
      throws SQLException {
    try (Connection c = pg.connect(user, password, APP_DB)) {
      assertThat(query(c, "select current_user || '@' || current_database()"))
          .isEqualTo(user + "@" + APP_DB);
      try (Statement s = c.createStatement()) {
        s.execute("create temporary table t (x int)");
        s.execute("create table " + user + "_can_create (x int)");
        s.execute("drop table " + user + "_can_create");
      }
    }
    try (Connection su = pg.superuser()) {
      assertThat(
              query(
                  su,
                  "select auth_method from pg_hba_file_rules where type = 'host' and ('"
                      + user
                      + "' = any(user_name) or 'all' = any(user_name)) order by line_number"
                      + " limit 1"))
          .isEqualTo(method);
      String rolpassword =
          query(su, "select rolpassword from pg_authid where rolname = '" + user + "'");
      if (stored == null) {
        assertThat(rolpassword).isNull();
      } else {
        assertThat(rolpassword).startsWith(stored);
      }
    }
  }

  @Test
  void wrongPasswordIsRefused() {
    assertThatThrownBy(() -> pg.connect(SCRAM_USER, "wrong", APP_DB).close())
        .isInstanceOf(SQLException.class)
        .extracting(e -> ((SQLException) e).getSQLState())
        .isEqualTo("28P01");
    assertThatThrownBy(() -> pg.connect(MD5_USER, "wrong", APP_DB).close())
        .extracting(e -> ((SQLException) e).getSQLState())
        .isEqualTo("28P01");
  }

  @Test
  void appBelongsToScramUser() throws SQLException {
    try (Connection su = pg.superuser()) {
      assertThat(
              query(
                  su,
                  "select pg_get_userbyid(datdba) from pg_database where datname = '"
                      + APP_DB
                      + "'"))
          .isEqualTo(SCRAM_USER);
      assertThat(query(su, "show max_connections")).isEqualTo("300");
    }
    assertThat(TestPostgres.get()).isSameAs(pg);
  }

  private static String query(Connection c, String sql) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      return rs.next() ? rs.getString(1) : null;
    }
  }
}
