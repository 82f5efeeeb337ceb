package io.jbouncer.protocol.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ScramSecretTest {
  static final String PENCIL_SECRET =
      "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ=="
          + "$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY="
          + ":wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=";

  @Test
  void derivesTheSecretPostgresqlStores() {
    ScramSecret secret = ScramSecret.fromPassword("pencil", ScramSha256Test.SALT, 4096);

    assertThat(secret.iterations()).isEqualTo(4096);
    assertThat(secret.salt()).isEqualTo(ScramSha256Test.SALT);
    assertThat(secret.storedKey()).isEqualTo(ScramSha256Test.STORED_KEY);
    assertThat(secret.serverKey()).isEqualTo(ScramSha256Test.SERVER_KEY);
    assertThat(secret.encode()).isEqualTo(PENCIL_SECRET);
  }

  @Test
  void parsesWhatItEncodes() {
    ScramSecret secret = ScramSecret.parse(PENCIL_SECRET);

    assertThat(secret).isNotNull();
    assertThat(secret.iterations()).isEqualTo(4096);
    assertThat(secret.salt()).isEqualTo(ScramSha256Test.SALT);
    assertThat(secret.storedKey()).isEqualTo(ScramSha256Test.STORED_KEY);
    assertThat(secret.serverKey()).isEqualTo(ScramSha256Test.SERVER_KEY);
    assertThat(secret.encode()).isEqualTo(PENCIL_SECRET);
  }

  @Test
  void parseReturnsNullForAnythingElse() {
    String keys =
        "$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY="
            + ":wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=";
    assertThat(ScramSecret.parse("pencil")).isNull();
    assertThat(ScramSecret.parse("md553f48b7c4b76a86ce72276c5755f217d")).isNull();
    assertThat(ScramSecret.parse("SCRAM-SHA-256$")).isNull();
    assertThat(ScramSecret.parse("SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==")).isNull();
    assertThat(ScramSecret.parse("SCRAM-SHA-256$0:W22ZaJ0SNY7soEsUEjb6gQ==" + keys)).isNull();
    assertThat(ScramSecret.parse("SCRAM-SHA-256$-1:W22ZaJ0SNY7soEsUEjb6gQ==" + keys)).isNull();
    assertThat(ScramSecret.parse("SCRAM-SHA-256$4096x:W22ZaJ0SNY7soEsUEjb6gQ==" + keys)).isNull();
    assertThat(ScramSecret.parse("SCRAM-SHA-256$99999999999:W22ZaJ0SNY7soEsUEjb6gQ==" + keys))
        .isNull();
    assertThat(ScramSecret.parse("SCRAM-SHA-256$4096:" + keys)).as("empty salt").isNull();
    assertThat(ScramSecret.parse("SCRAM-SHA-256$4096:not*base64" + keys)).isNull();
    assertThat(ScramSecret.parse("SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$AAAA:AAAA")).isNull();
    assertThat(ScramSecret.parse("SCRAM-SHA-1$4096:W22ZaJ0SNY7soEsUEjb6gQ==" + keys)).isNull();
    assertThat(ScramSecret.parse(PENCIL_SECRET + ":extra")).isNull();
  }

  @Test
  void refusesInvalidComponents() {
    assertThatThrownBy(() -> new ScramSecret(4096, new byte[16], new byte[31], new byte[32]))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("StoredKey length: 31 (expected: 32)");
    assertThatThrownBy(() -> new ScramSecret(0, new byte[16], new byte[32], new byte[32]))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new ScramSecret(1, new byte[0], new byte[32], new byte[32]))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
