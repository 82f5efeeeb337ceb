package io.jbouncer.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.jbouncer.testing.TestPostgres;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Odoo's database manager through jbouncer: it duplicates a database (CREATE DATABASE ... TEMPLATE)
 * and drops databases while jbouncer still holds idle server connections to them, which PostgreSQL
 * refuses ("is being accessed by other users") unless those connections are closed first.
 */
class DatabaseManagerIT {
  @TempDir Path dir;

  @Test
  void duplicateAndDropDatabasesThatHaveIdlePooledConnections() throws Exception {
    String superuser = "postgres";
    String password = TestPostgres.get().superuserPassword();
    try (ProxyFixture proxy =
        ProxyFixture.start(
            dir,
            "* = host=127.0.0.1 port=${PGPORT}\n",
            "default_pool_size = 2\n",
            "\"" + superuser + "\" \"" + password + "\"\n")) {
      try (Connection c = proxy.connect(superuser, password, "postgres");
          Statement st = c.createStatement()) {
        st.execute("drop database if exists jb_manager_copy");
        st.execute("drop database if exists jb_manager_source");
        st.execute("create database jb_manager_source");
      }
      use(proxy, superuser, password, "jb_manager_source"); // leaves an idle server to it
      try (Connection c = proxy.connect(superuser, password, "postgres");
          Statement st = c.createStatement()) {
        st.execute("create database jb_manager_copy template jb_manager_source");
      }
      use(proxy, superuser, password, "jb_manager_copy");
      try (Connection c = proxy.connect(superuser, password, "postgres");
          Statement st = c.createStatement()) {
        st.execute("drop database jb_manager_copy");
        st.execute("drop database jb_manager_source");
        try (ResultSet rs =
            st.executeQuery("select count(*) from pg_database where datname like 'jb_manager_%'")) {
          rs.next();
          assertThat(rs.getInt(1)).isZero();
        }
      }
    }
  }

  private static void use(ProxyFixture proxy, String user, String password, String db)
      throws Exception {
    try (Connection c = proxy.connect(user, password, db);
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("select current_database()")) {
      rs.next();
      assertThat(rs.getString(1)).isEqualTo(db);
    }
  }
}
