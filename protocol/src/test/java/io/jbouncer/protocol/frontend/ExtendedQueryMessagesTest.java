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
import io.netty.buffer.PooledByteBufAllocator;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class ExtendedQueryMessagesTest {
  private static final char ZERO = (char) 0;
  private static final char ONE = (char) 1;
  private static final char TWO = (char) 2;

  @Test
  void parse() {
    Parse message = new Parse("s1", "SELECT $1, $2", List.of(23, 0));
    byte[] frame = bytes('P', 31, "s1\0SELECT $1, $2\0", ZERO, TWO, 23, 0);

    assertRoundTrip(message, frame, Parse::decode);
  }

  @Test
  void parseUnnamedWithoutTypesAndWithAnUnsignedOid() {
    assertRoundTrip(
        new Parse("", "SELECT 1", List.of()),
        bytes('P', 16, "\0SELECT 1\0", ZERO, ZERO),
        Parse::decode);
    assertRoundTrip(
        new Parse("", "", List.of(0xfffffffe)),
        bytes('P', 12, "\0\0", ZERO, ONE, 0xfffffffe),
        Parse::decode);
  }

  @Test
  void parseReadsTheCountUnsigned() {
    List<Integer> types = Collections.nCopies(0xffff, 25);
    Parse decoded = decode(encode(new Parse("", "", types)::encodeTo), Parse::decode);

    assertThat(decoded.parameterTypes()).hasSize(0xffff);
    assertThatThrownBy(() -> new Parse("", "", Collections.nCopies(0x10000, 25)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Parse parameter type count: 65536 (expected: <= 65535)");
  }

  @Test
  void parseRejectsMalformedFrames() {
    assertThatThrownBy(() -> decode(bytes('P', 8, "\0\0", ZERO, ONE), Parse::decode))
        .isInstanceOf(ProtocolException.class)
        .hasMessage("Parse parameter type count: 1 (expected: <= 0, the bytes left / 4)");
    assertThatThrownBy(() -> decode(bytes('P', 12, "\0\0", ZERO, ZERO, 23), Parse::decode))
        .isInstanceOf(ProtocolException.class)
        .hasMessage("Parse: 4 bytes after the end (expected: 0)");
    assertThatThrownBy(() -> decode(bytes('P', 7, "\0\0", ZERO), Parse::decode))
        .isInstanceOf(ProtocolException.class)
        .hasMessage("Parse: 1 bytes after the query (expected: >= 2)");
    assertThatThrownBy(() -> decode(bytes('P', 8, "s\0SE"), Parse::decode))
        .isInstanceOf(ProtocolException.class)
        .hasMessage("string without terminating NUL in 2 bytes");
  }

  @Test
  void bind() {
    Bind message = new Bind("p", "s", Arrays.asList("42", null, "", "ü"));
    byte[] frame =
        bytes('B', 34, "p\0s\0", ZERO, ZERO, ZERO, (char) 4, 2, "42", -1, 0, 2, "ü", ZERO, ZERO);

    Bind decoded = assertRoundTrip(message, frame, Bind::decode);
    assertThat(decoded.textParameters()).containsExactly("42", null, "", "ü");
  }

  @Test
  void bindUnnamedWithoutParameters() {
    assertRoundTrip(
        new Bind("", "", List.of()),
        bytes('B', 12, "\0\0", ZERO, ZERO, ZERO, ZERO, ZERO, ZERO),
        Bind::decode);
  }

  @Test
  void bindReadsExplicitTextFormatCodes() {
    // one code for all parameters, one per result column
    byte[] frame = bytes('B', 23, "\0\0", ZERO, ONE, ZERO, ZERO, ZERO, ONE, 1, "7", ZERO, TWO, 0);

    assertThat(decode(frame, Bind::decode)).isEqualTo(new Bind("", "", List.of("7")));
  }

  @Test
  void bindCopiesItsParameters() {
    List<String> parameters = new ArrayList<>(List.of("a"));
    Bind message = new Bind("", "", parameters);
    parameters.add("b");

    assertThat(message.textParameters()).containsExactly("a");
    assertThatThrownBy(() -> message.textParameters().add("c"))
        .isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void bindRejectsMalformedFrames() {
    assertThatThrownBy(
            () ->
                decode(bytes('B', 16, "\0\0", ZERO, ZERO, ZERO, ONE, -2, ZERO, ZERO), Bind::decode))
        .isInstanceOf(ProtocolException.class)
        .hasMessage("Bind parameter 0 length: -2 (expected: -1 or 0..2)");
    assertThatThrownBy(
            () -> decode(bytes('B', 16, "\0\0", ZERO, ZERO, ZERO, ONE, 3, "ab"), Bind::decode))
        .isInstanceOf(ProtocolException.class)
        .hasMessage("Bind parameter 0 length: 3 (expected: -1 or 0..2)");
    assertThatThrownBy(
            () -> decode(bytes('B', 14, "\0\0", ZERO, ZERO, ZERO, TWO, -1), Bind::decode))
        .isInstanceOf(ProtocolException.class)
        .hasMessage("Bind parameter count: 2 (expected: <= 1, the bytes left / 4)");
    assertThatThrownBy(
            () -> decode(bytes('B', 15, "\0\0", ZERO, ZERO, ZERO, ONE, -1, ZERO), Bind::decode))
        .isInstanceOf(ProtocolException.class)
        .hasMessage("Bind: 1 bytes left for the result format code count (expected: >= 2)");
    assertThatThrownBy(() -> decode(bytes('B', 7, "\0\0", ZERO), Bind::decode))
        .isInstanceOf(ProtocolException.class)
        .hasMessage("Bind: 1 bytes left for the parameter format code count (expected: >= 2)");
    assertThatThrownBy(
            () -> decode(bytes('B', 10, "\0\0", ZERO, (char) 3, ZERO, ZERO), Bind::decode))
        .isInstanceOf(ProtocolException.class)
        .hasMessage("Bind parameter format code count: 3 (expected: <= 1, the bytes left / 2)");
    assertThatThrownBy(
            () ->
                decode(
                    bytes(
                        'B', 20, "\0\0", ZERO, TWO, ZERO, ZERO, ZERO, ZERO, ZERO, ONE, -1, ZERO,
                        ZERO),
                    Bind::decode))
        .isInstanceOf(ProtocolException.class)
        .hasMessage(
            "Bind parameter format code count: 2 (expected: 0, 1 or 1, the parameter count)");
    assertThatThrownBy(
            () ->
                decode(
                    bytes('B', 13, "\0\0", ZERO, ZERO, ZERO, ZERO, ZERO, ZERO, 'x'), Bind::decode))
        .isInstanceOf(ProtocolException.class)
        .hasMessage("Bind: 1 bytes after the end (expected: 0)");
  }

  @Test
  void bindRefusesBinaryFormatsItCannotHold() {
    assertThatThrownBy(
            () ->
                decode(
                    bytes('B', 19, "\0\0", ZERO, ONE, ZERO, ONE, ZERO, ONE, 1, "7", ZERO, ZERO),
                    Bind::decode))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "Bind parameter format code 0: 1 (expected: 0, text; this record holds text formats"
                + " only)");
    assertThatThrownBy(
            () ->
                decode(
                    bytes('B', 14, "\0\0", ZERO, ZERO, ZERO, ZERO, ZERO, ONE, ZERO, ONE),
                    Bind::decode))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "Bind result format code 0: 1 (expected: 0, text; this record holds text formats"
                + " only)");
  }

  @Test
  void describe() {
    assertRoundTrip(new Describe('S', "s1"), bytes('D', 8, "Ss1\0"), Describe::decode);
    assertRoundTrip(new Describe(Describe.PORTAL, ""), bytes('D', 6, "P\0"), Describe::decode);
  }

  @Test
  void describeRejectsBadKindsAndFrames() {
    assertThatThrownBy(() -> new Describe('X', ""))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Describe kind: 0x58 (expected: S or P)");
    assertThatThrownBy(() -> decode(bytes('D', 6, "X\0"), Describe::decode))
        .isInstanceOf(ProtocolException.class)
        .hasMessage("Describe kind: 0x58 (expected: S or P)");
    assertThatThrownBy(() -> decode(bytes('D', 4), Describe::decode))
        .isInstanceOf(ProtocolException.class)
        .hasMessage("Describe: 0 bytes (expected: the kind, S or P)");
    assertThatThrownBy(() -> decode(bytes('D', 6, "Ss"), Describe::decode))
        .isInstanceOf(ProtocolException.class)
        .hasMessage("string without terminating NUL in 1 bytes");
    assertThatThrownBy(() -> decode(bytes('D', 7, "S\0x"), Describe::decode))
        .isInstanceOf(ProtocolException.class)
        .hasMessage("Describe: 1 bytes after the end (expected: 0)");
  }

  @Test
  void execute() {
    assertRoundTrip(new Execute("", 0), bytes('E', 9, '\0', 0), Execute::decode);
    assertRoundTrip(new Execute("p1", 100), bytes('E', 11, "p1\0", 100), Execute::decode);
    assertRoundTrip(new Execute("p", -1), bytes('E', 10, "p\0", -1), Execute::decode);
  }

  @Test
  void executeRejectsMalformedFrames() {
    assertThatThrownBy(() -> decode(bytes('E', 7, "\0", ZERO, ZERO), Execute::decode))
        .isInstanceOf(ProtocolException.class)
        .hasMessage("Execute: 2 bytes after the portal name (expected: 4)");
    assertThatThrownBy(() -> decode(bytes('E', 10, "\0", 0, 'x'), Execute::decode))
        .isInstanceOf(ProtocolException.class)
        .hasMessage("Execute: 5 bytes after the portal name (expected: 4)");
    assertThatThrownBy(() -> decode(bytes('E', 6, "pp"), Execute::decode))
        .isInstanceOf(ProtocolException.class)
        .hasMessage("string without terminating NUL in 2 bytes");
  }

  @Test
  void sync() {
    byte[] frame = bytes('S', 4);

    assertThat(assertRoundTrip(new Sync(), frame, Sync::decode)).isEqualTo(new Sync());
    assertConstant(Sync.FRAME, frame);
    assertThatThrownBy(() -> decode(bytes('S', 5, 'x'), Sync::decode))
        .isInstanceOf(ProtocolException.class)
        .hasMessage("Sync: 1 bytes after the end (expected: 0)");
    assertThatThrownBy(() -> decode(bytes('H', 4), Sync::decode))
        .isInstanceOf(ProtocolException.class)
        .hasMessage("message type: 'H' (expected: 'S')");
  }

  @Test
  void flush() {
    byte[] frame = bytes('H', 4);

    assertThat(assertRoundTrip(new Flush(), frame, Flush::decode)).isEqualTo(new Flush());
    assertConstant(Flush.FRAME, frame);
    assertThatThrownBy(() -> decode(bytes('H', 5, 'x'), Flush::decode))
        .isInstanceOf(ProtocolException.class)
        .hasMessage("Flush: 1 bytes after the end (expected: 0)");
  }

  @Test
  void aPipelinedBatchEncodesBackToBack() {
    ByteBuf out = PooledByteBufAllocator.DEFAULT.buffer();
    try {
      new Parse("", "SELECT $1", List.of()).encodeTo(out);
      new Bind("", "", List.of("1")).encodeTo(out);
      new Describe(Describe.PORTAL, "").encodeTo(out);
      new Execute("", 0).encodeTo(out);
      out.writeBytes(Sync.FRAME.duplicate());

      assertThat(hex(ByteBufUtil.getBytes(out)))
          .isEqualTo(
              hex(
                  bytes(
                      'P',
                      17,
                      "\0SELECT $1\0",
                      ZERO,
                      ZERO,
                      'B',
                      17,
                      "\0\0",
                      ZERO,
                      ZERO,
                      ZERO,
                      ONE,
                      1,
                      "1",
                      ZERO,
                      ZERO,
                      'D',
                      6,
                      "P\0",
                      'E',
                      9,
                      "\0",
                      0,
                      'S',
                      4)));
    } finally {
      out.release();
    }
  }

  private static void assertConstant(ByteBuf constant, byte[] expected) {
    ByteBuf copy = constant.duplicate();
    assertThat(ByteBufUtil.getBytes(copy)).isEqualTo(expected);
    assertThat(copy.isReadOnly()).isTrue();
    assertThat(copy.release()).isFalse(); // unreleasable: writing a duplicate is always safe
    copy.skipBytes(copy.readableBytes());
    assertThat(constant.readableBytes()).as("the constant's own indexes").isEqualTo(5);
    assertThat(constant.refCnt()).isEqualTo(1);
  }

  /** Checks the exact bytes both ways and that the decoded record equals the original. */
  private static <T extends FrontendMessage> T assertRoundTrip(
      T message, byte[] frame, Function<ByteBuf, T> decoder) {
    assertThat(hex(encode(message::encodeTo))).isEqualTo(hex(frame));
    T decoded = decode(frame, decoder);
    assertThat(decoded).isEqualTo(message);
    assertThat(hex(encode(decoded::encodeTo))).isEqualTo(hex(frame));
    return decoded;
  }
}
