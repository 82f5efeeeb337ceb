package io.jbouncer.it;

import static io.jbouncer.it.TransactionPoolingIT.scalar;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jbouncer.protocol.auth.Md5Password;
import io.jbouncer.protocol.auth.ScramSecret;
import io.jbouncer.testing.TestPostgres;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** SCRAM-SHA-256 between clients and jbouncer, and pass-through to PostgreSQL. */
class ScramAuthIT {
  /** A secret with a fixed salt, stored identically in PostgreSQL and in the userlist. */
  static final String PASSTHRU_SECRET =
      ScramSecret.fromPassword(
              "passthru_pass", "fixed-salt-16byt".getBytes(StandardCharsets.US_ASCII), 4096)
          .encode();

  @TempDir Path dir;

  @BeforeAll
  static void roles() throws Exception {
    // PostgreSQL knows this role only by its SCRAM secret: no plain-text password exists anywhere
    try (Connection c = TestPostgres.get().superuser();
        Statement st = c.createStatement()) {
      st.execute(
          """
          do $$ begin
            if not exists (select from pg_roles where rolname = 'passthru_user') then
              create role passthru_user login;
            end if;
          end $$""");
      st.execute("alter role passthru_user password '" + PASSTHRU_SECRET + "'");
      st.execute("grant all on database app to passthru_user");
    }
  }

  private ProxyFixture scram(String userlistExtra) throws Exception {
    return ProxyFixture.start(
        dir,
        ProxyFixture.defaultDatabases(),
        "auth_type = scram-sha-256\n",
        ProxyFixture.USERLIST + userlistExtra);
  }

  @Test
  void pgjdbcLogsInWithScramAgainstAPlainTextUserlistPassword() throws Exception {
    try (ProxyFixture proxy = scram("")) {
      for (int i = 0; i < 5; i++) {
        try (Connection c = proxy.connect()) {
          assertThat(scalar(c.createStatement(), "select current_user")).isEqualTo("scram_user");
        }
      }
      assertThat(proxy.bouncer().pooler().scramCache().adhocSecrets())
          .as("the ad-hoc secret is derived once, not per login")
          .isEqualTo(1);
    }
  }

  @Test
  void scramSecretInTheUserlistIsPassedThroughToPostgres() throws Exception {
    try (ProxyFixture proxy = scram("\"passthru_user\" \"" + PASSTHRU_SECRET + "\"\n");
        Connection c = proxy.connect("passthru_user", "passthru_pass", "app")) {
      assertThat(scalar(c.createStatement(), "select current_user")).isEqualTo("passthru_user");
    }
  }

  @Test
  void md5AuthTypeWithAScramSecretSwitchesToScram() throws Exception {
    try (ProxyFixture proxy =
            ProxyFixture.start(
                dir,
                ProxyFixture.defaultDatabases(),
                "auth_type = md5\n",
                "\"passthru_user\" \"" + PASSTHRU_SECRET + "\"\n");
        Connection c = proxy.connect("passthru_user", "passthru_pass", "app")) {
      assertThat(scalar(c.createStatement(), "select current_user")).isEqualTo("passthru_user");
    }
  }

  @Test
  void plainAuthTypeChecksTheScramSecretAndPassesThrough() throws Exception {
    try (ProxyFixture proxy =
        ProxyFixture.start(
            dir,
            ProxyFixture.defaultDatabases(),
            "auth_type = plain\n",
            "\"passthru_user\" \"" + PASSTHRU_SECRET + "\"\n")) {
      try (Connection c = proxy.connect("passthru_user", "passthru_pass", "app")) {
        assertThat(scalar(c.createStatement(), "select current_user")).isEqualTo("passthru_user");
      }
      int cached = proxy.bouncer().pooler().scramCache().size();
      for (String wrong : new String[] {"wrong", "wronger", "wrongest"}) {
        assertThatThrownBy(() -> proxy.connect("passthru_user", wrong, "app"))
            .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("28P01"));
      }
      assertThat(proxy.bouncer().pooler().scramCache().size())
          .as("wrong passwords are not cached: they could push the right ones out")
          .isEqualTo(cached);
    }
  }

  @Test
  void withoutAClientScramLoginTheServerLoginSaysWhyItCannotPassThrough() throws Exception {
    try (ProxyFixture proxy =
        ProxyFixture.start(
            dir,
            ProxyFixture.defaultDatabases(),
            "auth_type = trust\n",
            "\"passthru_user\" \"" + PASSTHRU_SECRET + "\"\n")) {
      assertThatThrownBy(() -> proxy.connect("passthru_user", "anything", "app"))
          .hasMessageContaining(
              "password is SCRAM secret but client authentication did not provide SCRAM keys");
    }
  }

  @Test
  void wrongPasswordUnknownUserAndMd5SecretAllGetTheSameSaslError() throws Exception {
    String md5Secret = Md5Password.encode("hashed_user", "hashed_pass");
    try (ProxyFixture proxy = scram("\"hashed_user\" \"" + md5Secret + "\"\n");
        Connection bystander = proxy.connect()) {
      Map<String, String[]> attempts =
          Map.of(
              "wrong password", new String[] {"scram_user", "nope"},
              "unknown user", new String[] {"nobody_at_all", "nope"},
              "md5 secret", new String[] {"hashed_user", "hashed_pass"});
      for (Map.Entry<String, String[]> attempt : attempts.entrySet()) {
        String[] login = attempt.getValue();
        assertThatThrownBy(() -> proxy.connect(login[0], login[1], "app"))
            .as(attempt.getKey())
            .isInstanceOf(SQLException.class)
            .satisfies(
                e -> {
                  assertThat(((SQLException) e).getSQLState()).isEqualTo("28P01");
                  assertThat(e.getMessage()).contains("SASL authentication failed");
                });
      }
      assertThat(scalar(bystander.createStatement(), "select 'unaffected'"))
          .isEqualTo("unaffected");
    }
  }
}
