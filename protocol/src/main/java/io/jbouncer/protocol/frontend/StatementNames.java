package io.jbouncer.protocol.frontend;

import io.jbouncer.protocol.Frames;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;
import org.jspecify.annotations.Nullable;

/**
 * Reads and rewrites the prepared-statement names in whole Parse, Bind, Describe and Close frames,
 * leaving every other byte as the client sent it: what a pooler needs to give a client's statement
 * another name on the server. Names are read and written as ISO-8859-1, one char per byte, so that
 * any client encoding survives unchanged.
 *
 * <p>A frame too malformed to find its name in yields {@code null}: the caller forwards it as it is
 * and PostgreSQL answers it as it would answer the client directly.
 */
public final class StatementNames {
  private StatementNames() {}

  /** The statement a Parse prepares ("" for the unnamed one), or null if malformed. */
  public static @Nullable String parseName(ByteBuf parse) {
    return cstringAt(parse, parse.readerIndex() + Frames.HEADER_LENGTH);
  }

  /**
   * What a Parse defines after its name: the query text with its NUL, the parameter count and the
   * parameter type OIDs, exactly as sent. Two Parse messages with equal definitions prepare the
   * same statement.
   */
  public static byte[] parseDefinition(ByteBuf parse, String name) {
    int from = parse.readerIndex() + Frames.HEADER_LENGTH + name.length() + 1;
    byte[] definition = new byte[parse.writerIndex() - from];
    parse.getBytes(from, definition);
    return definition;
  }

  /** A Parse of {@code definition} (as {@link #parseDefinition} returns it) named {@code name}. */
  public static ByteBuf parse(ByteBufAllocator alloc, String name, byte[] definition) {
    int length = 4 + name.length() + 1 + definition.length;
    ByteBuf out = alloc.ioBuffer(1 + length);
    out.writeByte('P').writeInt(length);
    writeName(out, name);
    return out.writeBytes(definition);
  }

  /** The statement a Bind binds ("" for the unnamed one), or null if malformed. */
  public static @Nullable String bindStatement(ByteBuf bind) {
    int portalEnd = nul(bind, bind.readerIndex() + Frames.HEADER_LENGTH);
    return portalEnd < 0 ? null : cstringAt(bind, portalEnd + 1);
  }

  /**
   * The same Bind for the statement called {@code statement}: portal, formats and parameters copied
   * as they are. The caller checked the frame with {@link #bindStatement}.
   */
  public static ByteBuf renameBind(ByteBuf bind, String statement, ByteBufAllocator alloc) {
    int start = bind.readerIndex();
    int portalEnd = nul(bind, start + Frames.HEADER_LENGTH);
    int statementEnd = nul(bind, portalEnd + 1);
    int head = portalEnd + 1 - start; // type, length and the portal's name with its NUL
    int tail = bind.writerIndex() - (statementEnd + 1);
    int length = head - 1 + statement.length() + 1 + tail;
    ByteBuf out = alloc.ioBuffer(1 + length);
    out.writeBytes(bind, start, head).setInt(1, length);
    writeName(out, statement);
    return out.writeBytes(bind, statementEnd + 1, tail);
  }

  /**
   * The kind byte of a Describe or Close ({@code 'S'} statement, {@code 'P'} portal), or 0 when the
   * frame has no body.
   */
  public static char kind(ByteBuf describeOrClose) {
    int at = describeOrClose.readerIndex() + Frames.HEADER_LENGTH;
    return at < describeOrClose.writerIndex() ? (char) describeOrClose.getUnsignedByte(at) : 0;
  }

  /** The name a Describe or Close names, or null if malformed. */
  public static @Nullable String target(ByteBuf describeOrClose) {
    return cstringAt(describeOrClose, describeOrClose.readerIndex() + Frames.HEADER_LENGTH + 1);
  }

  /** A Describe ({@code type 'D'}) or Close ({@code 'C'}) of the statement called {@code name}. */
  public static ByteBuf ofStatement(ByteBufAllocator alloc, char type, String name) {
    int length = 4 + 1 + name.length() + 1;
    ByteBuf out = alloc.ioBuffer(1 + length);
    out.writeByte(type).writeInt(length).writeByte('S');
    writeName(out, name);
    return out;
  }

  private static void writeName(ByteBuf out, String name) {
    out.writeCharSequence(name, StandardCharsets.ISO_8859_1);
    out.writeByte(0);
  }

  /** The NUL-terminated string at {@code at} if the frame holds its NUL, else null. */
  private static @Nullable String cstringAt(ByteBuf frame, int at) {
    int end = nul(frame, at);
    return end < 0 ? null : frame.toString(at, end - at, StandardCharsets.ISO_8859_1);
  }

  private static int nul(ByteBuf frame, int from) {
    int end = frame.writerIndex();
    return from < end ? frame.indexOf(from, end, (byte) 0) : -1;
  }
}
