package io.jbouncer.protocol.frontend;

import static io.jbouncer.testing.Wire.bytes;
import static io.jbouncer.testing.Wire.decode;
import static io.jbouncer.testing.Wire.encode;
import static io.jbouncer.testing.Wire.hex;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jbouncer.protocol.ProtocolException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class FrontendMessagesTest {

  @Test
  void startup() {
    Map<String, String> parameters = new LinkedHashMap<>();
    parameters.put("user", "bob");
    parameters.put("database", "db");

    assertEncodes(new Startup(parameters), bytes(30, 196608, "user\0bob\0database\0db\0\0"));
    assertEncodes(new Startup(Map.of()), bytes(9, 196608, '\0'));
  }

  @Test
  void startupRefusesWhatWouldCorruptThePacket() {
    assertThatThrownBy(() -> new Startup(Map.of("", "x")))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> encode(new Startup(Map.of("user", "a\0b"))::encodeTo))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("string contains NUL at index 1");
  }

  @Test
  void passwordMessage() {
    PasswordMessage message = PasswordMessage.ofPassword("sécret");
    byte[] frame = bytes('p', 12, "sécret\0");

    assertEncodes(message, frame);
    PasswordMessage decoded = roundTrip(message, frame, PasswordMessage::decode);
    assertThat(decoded.password()).isEqualTo("sécret");
    assertThat(decoded.payload()).isEqualTo(bytes("sécret\0"));
  }

  @Test
  void passwordMessageChecksItsTerminator() {
    assertThatThrownBy(() -> new PasswordMessage(bytes("abc")).password())
        .isInstanceOf(ProtocolException.class)
        .hasMessage("PasswordMessage: missing terminating NUL in 3 bytes");
    assertThatThrownBy(() -> new PasswordMessage(new byte[0]).password())
        .isInstanceOf(ProtocolException.class)
        .hasMessage("PasswordMessage: missing terminating NUL in 0 bytes");
    assertThatThrownBy(() -> new PasswordMessage(bytes("a\0b\0")).password())
        .isInstanceOf(ProtocolException.class)
        .hasMessage("PasswordMessage: NUL at index 1 (expected: only at the end, index 3)");
    assertThatThrownBy(() -> PasswordMessage.ofPassword("a\0b"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void saslInitialResponse() {
    byte[] data = bytes("n,,n=,r=abc");
    SaslInitialResponse message = new SaslInitialResponse("SCRAM-SHA-256", data);
    byte[] frame = bytes('p', 33, "SCRAM-SHA-256\0", 11, data);

    assertEncodes(message, frame);
    SaslInitialResponse decoded = roundTrip(message, frame, SaslInitialResponse::decode);
    assertThat(decoded.mechanism()).isEqualTo("SCRAM-SHA-256");
    assertThat(decoded.data()).isEqualTo(data);
  }

  @Test
  void saslInitialResponseWithoutData() {
    SaslInitialResponse message = new SaslInitialResponse("X", null);
    byte[] frame = bytes('p', 10, "X\0", -1);

    assertEncodes(message, frame);
    assertThat(roundTrip(message, frame, SaslInitialResponse::decode).data()).isNull();
  }

  @Test
  void saslInitialResponseWithEmptyData() {
    SaslInitialResponse message = new SaslInitialResponse("X", new byte[0]);
    byte[] frame = bytes('p', 10, "X\0", 0);

    assertEncodes(message, frame);
    assertThat(roundTrip(message, frame, SaslInitialResponse::decode).data()).isEmpty();
  }

  @Test
  void saslInitialResponseRejectsABadDataLength() {
    assertThatThrownBy(() -> decode(bytes('p', 12, "X\0", 3, "ab"), SaslInitialResponse::decode))
        .isInstanceOf(ProtocolException.class)
        .hasMessage("SASLInitialResponse data length: 3 (expected: 2 or -1)");
    assertThatThrownBy(() -> decode(bytes('p', 10, "X\0", -2), SaslInitialResponse::decode))
        .isInstanceOf(ProtocolException.class)
        .hasMessage("SASLInitialResponse data length: -2 (expected: 0 or -1)");
    assertThatThrownBy(() -> decode(bytes('p', 8, "X\0", "ab"), SaslInitialResponse::decode))
        .isInstanceOf(ProtocolException.class)
        .hasMessage("SASLInitialResponse: 2 bytes after the mechanism (expected: >= 4)");
    assertThatThrownBy(() -> decode(bytes('p', 11, "X\0", -1, 'x'), SaslInitialResponse::decode))
        .isInstanceOf(ProtocolException.class)
        .hasMessage("SASLInitialResponse: 1 bytes after the end (expected: 0)");
  }

  @Test
  void saslResponse() {
    byte[] data = bytes("c=biws,r=abc,p=xyz");
    SaslResponse message = new SaslResponse(data);
    byte[] frame = bytes('p', 22, data);

    assertEncodes(message, frame);
    assertThat(roundTrip(message, frame, SaslResponse::decode).data()).isEqualTo(data);
  }

  @Test
  void query() {
    Query message = new Query("SELECT 'ü'");
    byte[] frame = bytes('Q', 16, "SELECT 'ü'\0");

    assertEncodes(message, frame);
    assertThat(roundTrip(message, frame, Query::decode)).isEqualTo(message);
  }

  @Test
  void queryRejectsBytesAfterTheString() {
    assertThatThrownBy(() -> decode(bytes('Q', 7, "x\0y"), Query::decode))
        .isInstanceOf(ProtocolException.class)
        .hasMessage("Query: 1 bytes after the end (expected: 0)");
  }

  @Test
  void terminate() {
    byte[] frame = bytes('X', 4);

    assertEncodes(new Terminate(), frame);
    assertThat(roundTrip(new Terminate(), frame, Terminate::decode)).isEqualTo(new Terminate());
    ByteBuf copy = Terminate.FRAME.duplicate();
    assertThat(ByteBufUtil.getBytes(copy)).isEqualTo(frame);
    assertThat(copy.isReadOnly()).isTrue();
    assertThat(copy.release()).isFalse();
    assertThat(Terminate.FRAME.refCnt()).isEqualTo(1);
  }

  @Test
  void terminateRejectsABody() {
    assertThatThrownBy(() -> decode(bytes('X', 5, 'x'), Terminate::decode))
        .isInstanceOf(ProtocolException.class)
        .hasMessage("Terminate: 1 bytes after the end (expected: 0)");
  }

  @Test
  void cancelRequest() {
    CancelRequest message = new CancelRequest(0x01020304, 0xfffffffe);

    assertEncodes(message, bytes(16, 80877102, 0x01020304, 0xfffffffe));
    assertThat(message.key()).isEqualTo(0x01020304_fffffffeL);
    assertThat(CancelRequest.ofKey(message.key())).isEqualTo(message);
  }

  private static void assertEncodes(FrontendMessage message, byte[] expected) {
    assertThat(hex(encode(message::encodeTo))).isEqualTo(hex(expected));
  }

  private static <T extends FrontendMessage> T roundTrip(
      T message, byte[] frame, Function<ByteBuf, T> decoder) {
    T decoded = decode(frame, decoder);
    assertThat(hex(encode(decoded::encodeTo))).isEqualTo(hex(encode(message::encodeTo)));
    return decoded;
  }
}
