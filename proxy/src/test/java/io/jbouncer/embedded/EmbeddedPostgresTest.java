package io.jbouncer.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class EmbeddedPostgresTest {
  private static EmbeddedPostgres pg;

  @BeforeAll
  static void start() throws IOException {
    pg = EmbeddedPostgres.start();
  }

  @AfterAll
  static void stop() {
    if (pg != null) {
      pg.close();
    }
  }

  @Test
  void superuserLogsInWithScram() throws SQLException {
    try (Connection c = connect(pg, pg.superuser(), pg.superuserPassword(), "postgres")) {
      assertThat(query(c, "select version()")).startsWith("PostgreSQL 17.");
      assertThat(query(c, "show password_encryption")).isEqualTo("scram-sha-256");
      assertThat(query(c, "select rolpassword from pg_authid where rolname = 'postgres'"))
          .startsWith("SCRAM-SHA-256$");
      assertThat(query(c, "show server_encoding")).isEqualTo("UTF8");
      assertThat(query(c, "show max_connections")).isEqualTo("300");
    }
    assertThat(pg.host()).isEqualTo("127.0.0.1");
  }

  @Test
  void wrongPasswordIsRefusedWith28P01() {
    assertThatThrownBy(() -> connect(pg, pg.superuser(), "not-the-password", "postgres").close())
        .isInstanceOf(SQLException.class)
        .extracting(e -> ((SQLException) e).getSQLState())
        .isEqualTo("28P01");
  }

  @Test
  void serverNeverRunsAsRoot() throws IOException {
    Object owner = Files.getAttribute(pg.dataDir(), "unix:uid");
    assertThat(owner).isNotEqualTo(0);
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(pg.dataDir())))
        .isEqualTo("rwx------");
  }

  @Test
  void builderOptionsApplyAndCloseRemovesEverything() throws Exception {
    EmbeddedPostgres custom =
        EmbeddedPostgres.builder()
            .bootstrapSql("CREATE ROLE alice LOGIN PASSWORD 'wonderland'")
            .bootstrapSql("CREATE DATABASE tea OWNER alice")
            .hbaLine("host all trusted 127.0.0.1/32 trust")
            .setting("application_name", "from-builder")
            .start();
    int port = custom.port();
    Path data = custom.dataDir();
    try {
      assertThat(port).isNotEqualTo(pg.port());
      try (Connection c = connect(custom, "alice", "wonderland", "tea")) {
        assertThat(query(c, "select current_user || '@' || current_database()"))
            .isEqualTo("alice@tea");
      }
      try (Connection c =
          connect(custom, custom.superuser(), custom.superuserPassword(), "postgres")) {
        assertThat(query(c, "select rolpassword from pg_authid where rolname = 'alice'"))
            .startsWith("SCRAM-SHA-256$");
        assertThat(
                query(
                    c,
                    "select string_agg(auth_method, ',' order by line_number)"
                        + " from pg_hba_file_rules"))
            .isEqualTo("trust,trust,scram-sha-256,scram-sha-256");
        assertThat(query(c, "show application_name")).isEqualTo("PostgreSQL JDBC Driver");
        assertThat(query(c, "select reset_val from pg_settings where name = 'application_name'"))
            .isEqualTo("from-builder");
      }
    } finally {
      custom.close();
    }
    assertThat(Files.exists(data)).isFalse();
    assertThat(accepts(port)).isFalse();
    custom.close(); // idempotent
  }

  @Test
  void failedBootstrapStatementFailsStartWithTheServerOutput() {
    assertThatThrownBy(
            () ->
                EmbeddedPostgres.builder().bootstrapSql("CREATE ROLE broken WITH NONSENSE").start())
        .isInstanceOf(IOException.class)
        .hasMessageContaining("bootstrap SQL")
        .hasMessageContaining("unrecognized role option \"nonsense\"");
  }

  static Connection connect(EmbeddedPostgres pg, String user, String password, String db)
      throws SQLException {
    Properties props = new Properties();
    props.setProperty("user", user);
    props.setProperty("password", password);
    props.setProperty("sslmode", "disable");
    return DriverManager.getConnection(
        "jdbc:postgresql://" + pg.host() + ":" + pg.port() + "/" + db, props);
  }

  static String query(Connection c, String sql) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      return rs.next() ? rs.getString(1) : null;
    }
  }

  private static boolean accepts(int port) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), 1000);
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
