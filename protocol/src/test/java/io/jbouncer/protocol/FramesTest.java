package io.jbouncer.protocol;

import static io.jbouncer.testing.Wire.bytes;
import static io.jbouncer.testing.Wire.decode;
import static io.jbouncer.testing.Wire.encode;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jbouncer.testing.Wire;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import org.junit.jupiter.api.Test;

class FramesTest {

  @Test
  void writeBackPatchesTheLength() {
    byte[] frame = encode(out -> Frames.write(out, 'Q', body -> Frames.writeCString(body, "ab")));

    assertThat(frame).isEqualTo(bytes('Q', 7, "ab\0"));
  }

  @Test
  void writeBackPatchesTheLengthAfterWhatTheBufferAlreadyHolds() {
    byte[] frames =
        encode(
            out -> {
              Frames.write(out, 'Z', body -> body.writeByte('I'));
              return Frames.writeUntyped(out, body -> body.writeInt(80877103));
            });

    assertThat(frames).isEqualTo(bytes('Z', 5, 'I', 8, 80877103));
  }

  @Test
  void readCStringMovesPastTheNul() {
    ByteBuf in = Wire.buf(bytes("héllo\0rest"));
    try {
      assertThat(Frames.readCString(in)).isEqualTo("héllo");
      assertThat(in.readableBytes()).isEqualTo(4);
      assertThatThrownBy(() -> Frames.readCString(in))
          .isInstanceOf(ProtocolException.class)
          .hasMessage("string without terminating NUL in 4 bytes");
    } finally {
      in.release();
    }
  }

  @Test
  void writeCStringRefusesANul() {
    assertThatThrownBy(
            () ->
                encode(
                    out -> {
                      Frames.writeCString(out, "a\0b");
                      return out;
                    }))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("string contains NUL at index 1");
  }

  @Test
  void typeReadsAnUnsignedByte() {
    assertThat(decode(bytes('Z', 5, 'I'), Frames::type)).isEqualTo('Z');
    assertThat(decode(bytes((char) 0xe9, 4), Frames::type)).isEqualTo('\u00e9');
  }

  @Test
  void bodyIsASliceOfTheFrame() {
    byte[] body =
        decode(bytes('C', 9, "BEGIN"), frame -> ByteBufUtil.getBytes(Frames.body(frame, 'C')));

    assertThat(body).isEqualTo(bytes("BEGIN"));
  }

  @Test
  void bodyChecksTypeAndLength() {
    assertThatThrownBy(() -> decode(bytes((char) 0x80, 4), f -> Frames.body(f, 'C')))
        .isInstanceOf(ProtocolException.class)
        .hasMessage("message type: '\\x80' (expected: 'C')");
    assertThatThrownBy(() -> decode(bytes('C', 3), f -> Frames.body(f, 'C')))
        .isInstanceOf(ProtocolException.class)
        .hasMessage("message 'C' length: 3 (expected: 4, the frame size)");
    assertThatThrownBy(() -> decode(bytes('C', (char) 0), f -> Frames.body(f, 'C')))
        .isInstanceOf(ProtocolException.class)
        .hasMessage("message 'C' frame: 2 bytes (expected: >= 5)");
  }

  @Test
  void namesStatementTellsNamedParseAndBindFromUnnamedOnes() {
    assertThat(
            Frames.namesStatement(
                io.netty.buffer.Unpooled.wrappedBuffer(Wire.bytes('P', 4 + 6, "s1\0q\0", 0))))
        .isTrue();
    assertThat(
            Frames.namesStatement(
                io.netty.buffer.Unpooled.wrappedBuffer(Wire.bytes('P', 4 + 4, "\0q\0", (char) 0))))
        .isFalse();
    assertThat(
            Frames.namesStatement(
                io.netty.buffer.Unpooled.wrappedBuffer(Wire.bytes('B', 4 + 5, "\0s1\0", 0, 0))))
        .isTrue();
    assertThat(
            Frames.namesStatement(
                io.netty.buffer.Unpooled.wrappedBuffer(Wire.bytes('B', 4 + 5, "p1\0\0", 0, 0))))
        .isFalse();
    assertThat(
            Frames.namesStatement(
                io.netty.buffer.Unpooled.wrappedBuffer(Wire.bytes('Q', 4 + 2, "x\0"))))
        .isFalse();
  }
}
