package io.jbouncer.protocol.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class Md5PasswordTest {
  // Computed independently: md5("secret" + "postgres"), then md5(hex + salt 01 02 03 04).
  private static final String SECRET = "md553f48b7c4b76a86ce72276c5755f217d";
  private static final String RESPONSE = "md5bb41a296aab6baccb36ff243a562abff";
  private static final byte[] SALT = {1, 2, 3, 4};

  @Test
  void encodesTheStoredSecret() {
    assertThat(Md5Password.encode("postgres", "secret")).isEqualTo(SECRET);
  }

  @Test
  void answersASaltFromTheSecret() {
    assertThat(Md5Password.saltedResponse(SECRET, SALT)).isEqualTo(RESPONSE);
  }

  @Test
  void answersASaltFromThePassword() {
    assertThat(Md5Password.clientResponse("postgres", "secret", SALT)).isEqualTo(RESPONSE);
  }

  @Test
  void recognizesSecrets() {
    assertThat(Md5Password.isMd5Secret(SECRET)).isTrue();
    assertThat(Md5Password.isMd5Secret("md5" + "0".repeat(31))).isFalse();
    assertThat(Md5Password.isMd5Secret("md5" + "A".repeat(32))).isFalse();
    assertThat(Md5Password.isMd5Secret("secret")).isFalse();
  }

  @Test
  void refusesAPasswordAsTheSecret() {
    assertThatThrownBy(() -> Md5Password.saltedResponse("secret", SALT))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("MD5 secret: 6 characters (expected: md5 and 32 hex digits)");
  }
}
