package io.jbouncer.it;

import static io.jbouncer.it.TransactionPoolingIT.scalar;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** max_db_client_connections and max_user_client_connections, with PgBouncer's wording. */
class ClientCapsIT {
  @TempDir Path dir;

  @Test
  void perDatabaseAndPerUserClientCaps() throws Exception {
    String databases =
        ProxyFixture.defaultDatabases()
            + "capped = host=127.0.0.1 port=${PGPORT} dbname=app max_db_client_connections=2\n"
            + "\n[users]\nmd5_user = max_user_client_connections=1\n";
    try (ProxyFixture proxy = ProxyFixture.start(dir, databases, "", ProxyFixture.USERLIST);
        Connection first = proxy.connect("scram_user", "scram_pass", "capped");
        Connection second = proxy.connect("clear_user", "clear_pass", "capped");
        Connection md5 = proxy.connect("md5_user", "md5_pass", "app")) {
      assertThatThrownBy(() -> proxy.connect("trust_user", "trust_pass", "capped"))
          .isInstanceOf(SQLException.class)
          .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("08P01"))
          .hasMessageContaining("client connections exceeded (max_db_client_connections)");
      try (Connection otherDb = proxy.connect("trust_user", "trust_pass", "app")) {
        assertThat(scalar(otherDb.createStatement(), "select 'other database'"))
            .isEqualTo("other database");
      }
      assertThatThrownBy(() -> proxy.connect("md5_user", "md5_pass", "app"))
          .hasMessageContaining("client connections exceeded (max_user_client_connections)");
      assertThat(scalar(first.createStatement(), "select 1")).isEqualTo("1");
      assertThat(scalar(md5.createStatement(), "select 2")).isEqualTo("2");

      second.close(); // room again, once the proxy has seen it leave
      long deadline = System.nanoTime() + 5_000_000_000L;
      Connection third = null;
      while (third == null && System.nanoTime() < deadline) {
        try {
          third = proxy.connect("trust_user", "trust_pass", "capped");
        } catch (SQLException notYet) {
          Thread.sleep(20);
        }
      }
      assertThat(third).isNotNull();
      third.close();
    }
  }
}
