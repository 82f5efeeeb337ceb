package io.jbouncer.protocol.auth;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HexFormat;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import org.junit.jupiter.api.Test;

class ScramSha256Test {
  private static final HexFormat HEX = HexFormat.of();
  // RFC 7677 section 3: password "pencil"; the keys were computed independently (Python hashlib)
  static final byte[] SALT = ScramSha256.fromBase64("W22ZaJ0SNY7soEsUEjb6gQ==");
  static final byte[] SALTED_PASSWORD =
      HEX.parseHex("c4a49510323ab4f952cac1fa99441939e78ea74d6be81ddf7096e87513dc615d");
  static final byte[] CLIENT_KEY =
      ScramSha256.fromBase64("pg/JI9Z+hkSpLRa5btpe9GVrDHJcSEN0viVTVXaZbos=");
  static final byte[] STORED_KEY =
      ScramSha256.fromBase64("WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=");
  static final byte[] SERVER_KEY =
      ScramSha256.fromBase64("wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=");

  @Test
  void derivesTheRfc7677Keys() {
    byte[] saltedPassword = ScramSha256.saltedPassword("pencil", SALT, 4096);

    assertThat(saltedPassword).isEqualTo(SALTED_PASSWORD);
    assertThat(ScramSha256.clientKey(saltedPassword)).isEqualTo(CLIENT_KEY);
    assertThat(ScramSha256.storedKey(CLIENT_KEY)).isEqualTo(STORED_KEY);
    assertThat(ScramSha256.serverKey(saltedPassword)).isEqualTo(SERVER_KEY);
  }

  @Test
  void saltedPasswordIsPbkdf2() throws Exception {
    byte[] salt = "NaCl".getBytes(UTF_8);
    byte[] expected =
        SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256")
            .generateSecret(new PBEKeySpec("password".toCharArray(), salt, 80, 256))
            .getEncoded();

    assertThat(ScramSha256.saltedPassword("password", salt, 80)).isEqualTo(expected);
    assertThat(ScramSha256.saltedPassword("password", salt, 1))
        .isNotEqualTo(expected)
        .hasSize(ScramSha256.KEY_LENGTH);
  }

  @Test
  void saltedPasswordTakesAnEmptyOrRawPassword() {
    // Python: hashlib.pbkdf2_hmac("sha256", b"", b"salt", 2) and (b"\xff\xfe", ...)
    assertThat(ScramSha256.saltedPassword(new byte[0], "salt".getBytes(UTF_8), 2))
        .isEqualTo(
            HEX.parseHex("62384466264daadc4144018c6bd864648272b34da8980d31521ffcce92ae003b"));
    assertThat(ScramSha256.saltedPassword(new byte[] {-1, -2}, "salt".getBytes(UTF_8), 2))
        .isEqualTo(
            HEX.parseHex("baa21177ea9d075c25ee455e36352579c102a8f57661a1e0af0a1054c6406a9d"));
    assertThatThrownBy(() -> ScramSha256.saltedPassword("x", SALT, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("iterations: 0 (expected: >= 1)");
  }

  @Test
  void hmacAndSha256() {
    // RFC 4231 test case 2
    assertThat(
            ScramSha256.hmac(
                "Jefe".getBytes(UTF_8), "what do ya want for nothing?".getBytes(UTF_8)))
        .isEqualTo(
            HEX.parseHex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"));
    assertThat(ScramSha256.sha256("abc".getBytes(UTF_8)))
        .isEqualTo(
            HEX.parseHex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
  }

  @Test
  void xor() {
    assertThat(ScramSha256.xor(new byte[] {0x0f, 0x55}, new byte[] {(byte) 0xff, 0x55}))
        .containsExactly(0xf0, 0x00);
    assertThatThrownBy(() -> ScramSha256.xor(new byte[1], new byte[2]))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void base64() {
    assertThat(ScramSha256.base64("n,,".getBytes(UTF_8))).isEqualTo("biws");
    assertThat(ScramSha256.fromBase64("biws")).isEqualTo("n,,".getBytes(UTF_8));
    assertThatThrownBy(() -> ScramSha256.fromBase64("b!ws"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void noncesAreFreshPrintableAndCommaFree() {
    String nonce = ScramSha256.nonce();

    assertThat(nonce).hasSize(24).doesNotContain(",").isNotEqualTo(ScramSha256.nonce());
    assertThat(nonce.chars()).allMatch(c -> c >= 0x21 && c <= 0x7e);
    assertThat(ScramSha256.randomSalt()).hasSize(16).isNotEqualTo(ScramSha256.randomSalt());
  }

  @Test
  void constantTimeEquals() {
    assertThat(ScramSha256.constantTimeEquals(new byte[] {1, 2}, new byte[] {1, 2})).isTrue();
    assertThat(ScramSha256.constantTimeEquals(new byte[] {1, 2}, new byte[] {1, 3})).isFalse();
    assertThat(ScramSha256.constantTimeEquals(new byte[] {1}, new byte[] {1, 2})).isFalse();
  }

  @Test
  void saslPrepLeavesAsciiAlone() {
    assertThat(ScramSha256.saslPrep("pencil")).isEqualTo("pencil".getBytes(UTF_8));
    // PostgreSQL's fast path: pure ASCII is used as is, even with control characters
    assertThat(ScramSha256.saslPrep("a\tb\u007f")).isEqualTo("a\tb\u007f".getBytes(UTF_8));
  }

  @Test
  void saslPrepMapsSpacesRemovesIgnorablesAndNormalizes() {
    assertThat(ScramSha256.saslPrep("a\u00A0b")).isEqualTo("a b".getBytes(UTF_8));
    assertThat(ScramSha256.saslPrep("I\u00ADX")).isEqualTo("IX".getBytes(UTF_8));
    assertThat(ScramSha256.saslPrep("\u2168"))
        .isEqualTo("IX".getBytes(UTF_8)); // ROMAN NUMERAL NINE
    assertThat(ScramSha256.saslPrep("\uFF50\uFF41\uFF53\uFF53")).isEqualTo("pass".getBytes(UTF_8));
    assertThat(ScramSha256.saslPrep("caf\u0065\u0301")).isEqualTo("café".getBytes(UTF_8));
  }

  @Test
  void saslPrepFallsBackToTheRawBytes() {
    byte[] notUtf8 = {'a', (byte) 0xff, 'b'};
    assertThat(ScramSha256.saslPrep(notUtf8)).isEqualTo(notUtf8);
    // a prohibited character (a non-ASCII control) keeps the rest from being normalized
    assertThat(ScramSha256.saslPrep("\u2168\u0085")).isEqualTo("\u2168\u0085".getBytes(UTF_8));
    // private use
    assertThat(ScramSha256.saslPrep("\u2168\uE000")).isEqualTo("\u2168\uE000".getBytes(UTF_8));
    // the bidirectional rule: right-to-left mixed with left-to-right
    assertThat(ScramSha256.saslPrep("\u05D0a\u2168")).isEqualTo("\u05D0a\u2168".getBytes(UTF_8));
    // all right-to-left is fine
    assertThat(ScramSha256.saslPrep("\u05D0\u05D1")).isEqualTo("\u05D0\u05D1".getBytes(UTF_8));
  }

  @Test
  void saltedPasswordAppliesSaslPrep() {
    // Python: hashlib.pbkdf2_hmac("sha256", b"IX", b"salt", 1)
    byte[] expected =
        HEX.parseHex("6ff540a56d60d4f213190534a9d253b30a9bf7ea5309db207b24f27fef939ac7");

    assertThat(ScramSha256.saltedPassword("\u2168", "salt".getBytes(UTF_8), 1)).isEqualTo(expected);
    assertThat(ScramSha256.saltedPassword("I\u00ADX", "salt".getBytes(UTF_8), 1))
        .isEqualTo(expected);
  }
}
