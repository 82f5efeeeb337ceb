package io.jbouncer.it;

import static io.jbouncer.it.TransactionPoolingIT.scalar;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** auth_type = hba: the first matching auth_hba_file rule picks the method for each login. */
class HbaAuthIT {
  @TempDir Path dir;

  @Test
  void eachRuleAppliesItsMethodAndUnmatchedLoginsAreRejected() throws Exception {
    Files.writeString(
        dir.resolve("hba.conf"),
        """
        # type  database  user         address        method
        host    app       md5_user     127.0.0.1/32   md5
        host    app       scram_user   127.0.0.1/32   scram-sha-256
        host    app       clear_user   127.0.0.1/32   password
        host    app       trust_user   127.0.0.1/32   trust
        host    all       all          10.0.0.0/8     md5
        """);
    String databases =
        ProxyFixture.defaultDatabases() + "other = host=127.0.0.1 port=${PGPORT} dbname=app\n";
    try (ProxyFixture proxy =
        ProxyFixture.start(
            dir, databases, "auth_type = hba\nauth_hba_file = hba.conf\n", ProxyFixture.USERLIST)) {
      for (String[] login :
          new String[][] {
            {"md5_user", "md5_pass"},
            {"scram_user", "scram_pass"},
            {"clear_user", "clear_pass"},
            {"trust_user", "any password: trust"}
          }) {
        try (Connection c = proxy.connect(login[0], login[1], "app")) {
          assertThat(scalar(c.createStatement(), "select current_user")).isEqualTo(login[0]);
        }
      }
      assertThatThrownBy(() -> proxy.connect("md5_user", "wrong", "app"))
          .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("28P01"));
      // database "other" matches no rule from 127.0.0.1
      assertThatThrownBy(() -> proxy.connect("md5_user", "md5_pass", "other"))
          .isInstanceOf(SQLException.class)
          .hasMessageContaining("login rejected");
    }
  }

  @Test
  void brokenHbaFileStopsStartUpNamingTheLine() throws Exception {
    Files.writeString(
        dir.resolve("hba.conf"), "host app all 127.0.0.1/32 md5\nhost app all bogus md5\n");
    assertThatThrownBy(
            () ->
                ProxyFixture.start(
                    dir,
                    ProxyFixture.defaultDatabases(),
                    "auth_type = hba\nauth_hba_file = hba.conf\n",
                    ProxyFixture.USERLIST))
        .isInstanceOf(io.jbouncer.config.ConfigError.class)
        .hasMessageContaining("hba.conf:2");
  }
}
