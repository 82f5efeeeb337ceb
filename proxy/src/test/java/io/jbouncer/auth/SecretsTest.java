package io.jbouncer.auth;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SecretsTest {
  @Test
  void classifiesStoredPasswordsLikePgBouncer() {
    assertThat(Secrets.isMd5("md5" + "0123456789abcdef0123456789abcdef")).isTrue();
    assertThat(Secrets.isMd5("md5short")).isFalse();
    assertThat(Secrets.isPlain("md5short")).isTrue();
    assertThat(Secrets.isScram("SCRAM-SHA-256$4096:c2FsdA==$a:b")).isTrue();
    assertThat(Secrets.isPlain("hunter2")).isTrue();
  }

  @Test
  void constantTimeEqualsComparesWholeStrings() {
    assertThat(ClientAuthenticator.constantTimeEquals("abc", "abc")).isTrue();
    assertThat(ClientAuthenticator.constantTimeEquals("abc", "abd")).isFalse();
    assertThat(ClientAuthenticator.constantTimeEquals("abc", "abcd")).isFalse();
  }
}
