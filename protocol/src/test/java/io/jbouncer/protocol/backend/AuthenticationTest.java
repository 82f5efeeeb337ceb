package io.jbouncer.protocol.backend;

import static io.jbouncer.testing.Wire.bytes;
import static io.jbouncer.testing.Wire.decode;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jbouncer.protocol.ProtocolException;
import java.util.List;
import org.junit.jupiter.api.Test;

class AuthenticationTest {

  @Test
  void ok() {
    RoundTrip.check(new AuthenticationOk(), bytes('R', 8, 0), AuthenticationOk::decode);
  }

  @Test
  void cleartextPassword() {
    RoundTrip.check(
        new AuthenticationCleartextPassword(),
        bytes('R', 8, 3),
        AuthenticationCleartextPassword::decode);
  }

  @Test
  void md5Password() {
    byte[] salt = {1, 2, (byte) 0xfe, (byte) 0xff};

    RoundTrip.check(
        new AuthenticationMd5Password(salt),
        bytes('R', 12, 5, salt),
        AuthenticationMd5Password::decode);
  }

  @Test
  void sasl() {
    RoundTrip.check(
        new AuthenticationSasl(List.of("SCRAM-SHA-256-PLUS", "SCRAM-SHA-256")),
        bytes('R', 42, 10, "SCRAM-SHA-256-PLUS\0SCRAM-SHA-256\0\0"),
        AuthenticationSasl::decode);
  }

  @Test
  void saslContinue() {
    byte[] data = bytes("r=abc,s=c2FsdA==,i=4096");

    RoundTrip.check(
        new AuthenticationSaslContinue(data),
        bytes('R', 31, 11, data),
        AuthenticationSaslContinue::decode);
  }

  @Test
  void saslFinal() {
    RoundTrip.check(
        new AuthenticationSaslFinal(bytes("v=abc")),
        bytes('R', 13, 12, "v=abc"),
        AuthenticationSaslFinal::decode);
  }

  @Test
  void unsupportedMethodWithoutData() {
    RoundTrip.check(
        new AuthenticationUnsupported(7), bytes('R', 8, 7), AuthenticationUnsupported::decode);
  }

  @Test
  void unsupportedMethodSkipsItsData() {
    Authentication request = decode(bytes('R', 11, 8, "abc"), Authentication::decode);

    assertThat(request).isEqualTo(new AuthenticationUnsupported(8));
  }

  @Test
  void decodeDispatchesOnTheCode() {
    assertThat(decode(bytes('R', 8, 3), Authentication::decode))
        .isInstanceOf(AuthenticationCleartextPassword.class);
    assertThat(decode(bytes('R', 12, 5, 0), Authentication::decode))
        .isInstanceOf(AuthenticationMd5Password.class);
    assertThat(decode(bytes('R', 9, 10, '\0'), Authentication::decode))
        .isEqualTo(new AuthenticationSasl(List.of()));
    assertThat(decode(bytes('R', 8, 11), Authentication::decode))
        .isInstanceOf(AuthenticationSaslContinue.class);
    assertThat(decode(bytes('R', 8, 12), Authentication::decode))
        .isInstanceOf(AuthenticationSaslFinal.class);
    assertThat(decode(bytes('R', 8, 9), Authentication::decode))
        .isEqualTo(new AuthenticationUnsupported(9));
  }

  @Test
  void rejectsAnotherMessageType() {
    assertThatThrownBy(() -> decode(bytes('E', 5, '\0'), Authentication::decode))
        .isInstanceOf(ProtocolException.class)
        .hasMessage("message type: 'E' (expected: 'R')");
  }

  @Test
  void rejectsALengthThatDoesNotMatchTheFrame() {
    assertThatThrownBy(() -> decode(bytes('R', 12, 0), Authentication::decode))
        .isInstanceOf(ProtocolException.class)
        .hasMessage("message 'R' length: 12 (expected: 8, the frame size)");
  }

  @Test
  void rejectsABodyWithoutACode() {
    assertThatThrownBy(() -> decode(bytes('R', 6, '\0', '\0'), Authentication::decode))
        .isInstanceOf(ProtocolException.class)
        .hasMessage("authentication request: 2 bytes (expected: >= 4)");
  }

  @Test
  void rejectsAnotherCode() {
    assertThatThrownBy(() -> decode(bytes('R', 8, 3), AuthenticationOk::decode))
        .isInstanceOf(ProtocolException.class)
        .hasMessage("AuthenticationOk code: 3 (expected: 0)");
    assertThatThrownBy(() -> decode(bytes('R', 8, 0), AuthenticationUnsupported::decode))
        .isInstanceOf(ProtocolException.class)
        .hasMessage("authentication request: AuthenticationOk[] (expected: an unsupported method)");
  }

  @Test
  void rejectsBytesAfterOk() {
    assertThatThrownBy(() -> decode(bytes('R', 9, 0, 'x'), Authentication::decode))
        .isInstanceOf(ProtocolException.class)
        .hasMessage("AuthenticationOk: 1 bytes after the end (expected: 0)");
  }

  @Test
  void rejectsAShortMd5Salt() {
    assertThatThrownBy(() -> decode(bytes('R', 11, 5, "abc"), Authentication::decode))
        .isInstanceOf(ProtocolException.class)
        .hasMessage("AuthenticationMD5Password salt length: 3 (expected: 4)");
  }

  @Test
  void rejectsSaslMechanismsWithoutTheTerminator() {
    assertThatThrownBy(() -> decode(bytes('R', 22, 10, "SCRAM-SHA-256\0"), Authentication::decode))
        .isInstanceOf(ProtocolException.class)
        .hasMessage("AuthenticationSASL: missing terminator after the mechanisms");
    assertThatThrownBy(() -> decode(bytes('R', 21, 10, "SCRAM-SHA-256"), Authentication::decode))
        .isInstanceOf(ProtocolException.class)
        .hasMessage("string without terminating NUL in 13 bytes");
  }

  @Test
  void refusesInvalidRecords() {
    assertThatThrownBy(() -> new AuthenticationMd5Password(new byte[3]))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("MD5 salt length: 3 (expected: 4)");
    assertThatThrownBy(() -> new AuthenticationUnsupported(10))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("authentication code 10 is supported");
    assertThatThrownBy(() -> new AuthenticationSasl(List.of("")))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
