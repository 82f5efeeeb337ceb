package io.jbouncer.protocol.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ScramKeysTest {
  @Test
  void derivesTheRfc7677Keys() {
    ScramKeys keys = ScramKeys.derive("pencil", ScramSha256Test.SALT, 4096);

    assertThat(keys.clientKey()).isEqualTo(ScramSha256Test.CLIENT_KEY);
    assertThat(keys.storedKey()).isEqualTo(ScramSha256Test.STORED_KEY);
    assertThat(keys.serverKey()).isEqualTo(ScramSha256Test.SERVER_KEY);
    assertThat(keys.toSecret(ScramSha256Test.SALT, 4096).encode())
        .isEqualTo(ScramSecretTest.PENCIL_SECRET);
  }

  @Test
  void refusesKeysOfTheWrongLength() {
    assertThatThrownBy(() -> new ScramKeys(new byte[31], new byte[32], new byte[32]))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("ClientKey length: 31 (expected: 32)");
  }
}
