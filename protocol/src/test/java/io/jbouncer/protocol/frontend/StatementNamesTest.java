package io.jbouncer.protocol.frontend;

import static io.jbouncer.testing.Wire.buf;
import static io.jbouncer.testing.Wire.bytes;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class StatementNamesTest {
  private static final char ZERO = (char) 0;
  private static final char ONE = (char) 1;
  private static final PooledByteBufAllocator ALLOC = PooledByteBufAllocator.DEFAULT;

  @Test
  void parseNameDefinitionAndRenamedParse() {
    byte[] parse = bytes('P', 4 + 3 + 10 + 2 + 4, "s1\0select $1\0", ZERO, ONE, 23);
    ByteBuf frame = buf(parse);
    try {
      assertThat(StatementNames.parseName(frame)).isEqualTo("s1");
      byte[] definition = StatementNames.parseDefinition(frame, "s1");
      assertThat(definition).isEqualTo(bytes("select $1\0", ZERO, ONE, 23));
      assertThat(bytesOf(StatementNames.parse(ALLOC, "jbouncer_ab", definition)))
          .isEqualTo(bytes('P', 4 + 12 + 10 + 2 + 4, "jbouncer_ab\0select $1\0", ZERO, ONE, 23));
    } finally {
      frame.release();
    }
  }

  @Test
  void unnamedParse() {
    assertThat(
            read(bytes('P', 4 + 1 + 9 + 2, "\0select 1\0", ZERO, ZERO), StatementNames::parseName))
        .isEmpty();
  }

  @Test
  void bindStatementAndRenamedBindKeepEveryOtherByte() {
    // portal "p", statement "s1", one text parameter '42', one result format (binary)
    byte[] bind =
        bytes(
            'B',
            4 + 2 + 3 + 2 + 2 + 4 + 2 + 2 + 2,
            "p\0s1\0",
            ZERO,
            ZERO,
            ZERO,
            ONE,
            2,
            "42",
            ZERO,
            ONE,
            ZERO,
            ONE);
    ByteBuf frame = buf(bind);
    try {
      assertThat(StatementNames.bindStatement(frame)).isEqualTo("s1");
      byte[] renamed = bytesOf(StatementNames.renameBind(frame, "jbouncer_0123", ALLOC));
      assertThat(renamed)
          .isEqualTo(
              bytes(
                  'B',
                  4 + 2 + 14 + 2 + 2 + 4 + 2 + 2 + 2,
                  "p\0jbouncer_0123\0",
                  ZERO,
                  ZERO,
                  ZERO,
                  ONE,
                  2,
                  "42",
                  ZERO,
                  ONE,
                  ZERO,
                  ONE));
      assertThat(frame.readerIndex()).as("the original is not consumed").isZero();
    } finally {
      frame.release();
    }
  }

  @Test
  void bindToTheUnnamedStatementAndToAShorterName() {
    byte[] bind =
        bytes('B', 4 + 1 + 8 + 2 + 2 + 2, "\0longname\0", ZERO, ZERO, ZERO, ZERO, ZERO, ZERO);
    ByteBuf frame = buf(bind);
    try {
      assertThat(bytesOf(StatementNames.renameBind(frame, "x", ALLOC)))
          .isEqualTo(
              bytes('B', 4 + 1 + 2 + 2 + 2 + 2, "\0x\0", ZERO, ZERO, ZERO, ZERO, ZERO, ZERO));
    } finally {
      frame.release();
    }
    assertThat(
            read(
                bytes('B', 4 + 2 + 6, "\0\0", ZERO, ZERO, ZERO, ZERO, ZERO, ZERO),
                StatementNames::bindStatement))
        .isEmpty();
  }

  @Test
  void describeAndCloseOfAStatementOrAPortal() {
    byte[] describe = bytes('D', 4 + 1 + 3, 'S', "s1\0");
    assertThat(read(describe, StatementNames::kind)).isEqualTo('S');
    assertThat(read(describe, StatementNames::target)).isEqualTo("s1");
    assertThat(read(bytes('C', 4 + 1 + 2, 'P', "p\0"), StatementNames::kind)).isEqualTo('P');
    assertThat(bytesOf(StatementNames.ofStatement(ALLOC, 'D', "jbouncer_1")))
        .isEqualTo(bytes('D', 4 + 1 + 11, 'S', "jbouncer_1\0"));
    assertThat(bytesOf(StatementNames.ofStatement(ALLOC, 'C', "")))
        .isEqualTo(bytes('C', 4 + 1 + 1, 'S', "\0"));
  }

  @Test
  void namesAreBytesWhateverTheClientEncoding() {
    // a LATIN1 client's "é" (0xe9) is one byte, not valid UTF-8: it must come back unchanged
    byte[] parse = bytes('P', 4 + 2 + 9 + 2, new byte[] {(byte) 0xe9, 0}, "select 1\0", ZERO, ZERO);
    ByteBuf frame = buf(parse);
    try {
      String name = StatementNames.parseName(frame);
      assertThat(name).hasSize(1);
      assertThat(bytesOf(StatementNames.ofStatement(ALLOC, 'C', name)))
          .isEqualTo(bytes('C', 4 + 1 + 2, 'S', new byte[] {(byte) 0xe9, 0}));
    } finally {
      frame.release();
    }
  }

  @Test
  void malformedFramesHaveNoName() {
    assertThat(read(bytes('P', 4 + 2, "s1"), StatementNames::parseName)).isNull(); // no NUL
    assertThat(read(bytes('B', 4 + 2, "p\0"), StatementNames::bindStatement)).isNull();
    assertThat(read(bytes('B', 4), StatementNames::bindStatement)).isNull();
    assertThat(read(bytes('D', 4), StatementNames::kind)).isEqualTo((char) 0);
    assertThat(read(bytes('D', 4 + 1, 'S'), StatementNames::target)).isNull();
  }

  private static <T> T read(byte[] frame, Function<ByteBuf, T> reader) {
    ByteBuf buf = buf(frame);
    try {
      return reader.apply(buf);
    } finally {
      buf.release();
    }
  }

  private static byte[] bytesOf(ByteBuf out) {
    try {
      return ByteBufUtil.getBytes(out);
    } finally {
      out.release();
    }
  }
}
