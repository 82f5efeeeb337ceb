package io.jbouncer.protocol;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/**
 * Writing PostgreSQL frames. Every length field in jbouncer is written by {@link #write}: it writes
 * a zero placeholder, lets the caller write the body, and back-patches the length, so no code
 * computes a length twice. See <a
 * href="https://www.postgresql.org/docs/current/protocol-overview.html">the message format</a>: a
 * type byte (absent in startup-phase packets), an int32 length counting itself, a body.
 */
public final class Frames {
  /** Bytes before a typed frame's body: the type byte and the int32 length. */
  public static final int HEADER_LENGTH = 5;

  private Frames() {}

  /** Writes a typed frame: {@code type}, the length, then whatever {@code body} writes. */
  public static ByteBuf write(ByteBuf out, char type, Consumer<ByteBuf> body) {
    out.writeByte(type);
    return writeUntyped(out, body);
  }

  /** Writes a startup-phase packet: the length, then whatever {@code body} writes. */
  public static ByteBuf writeUntyped(ByteBuf out, Consumer<ByteBuf> body) {
    int lengthIndex = out.writerIndex();
    out.writeInt(0);
    body.accept(out);
    out.setInt(lengthIndex, out.writerIndex() - lengthIndex);
    return out;
  }

  /**
   * Writes {@code s} as a NUL-terminated UTF-8 string.
   *
   * @throws IllegalArgumentException if {@code s} contains a NUL, which would end it early and
   *     corrupt the frame
   */
  public static void writeCString(ByteBuf out, String s) {
    int nul = s.indexOf('\0');
    if (nul >= 0) {
      throw new IllegalArgumentException("string contains NUL at index " + nul);
    }
    out.writeCharSequence(s, StandardCharsets.UTF_8);
    out.writeByte(0);
  }

  /**
   * Reads a NUL-terminated UTF-8 string at the reader index and moves past the NUL.
   *
   * @throws ProtocolException if there is no NUL before the end of {@code in}
   */
  public static String readCString(ByteBuf in) {
    int nul = in.indexOf(in.readerIndex(), in.writerIndex(), (byte) 0);
    if (nul < 0) {
      throw new ProtocolException(
          "string without terminating NUL in " + in.readableBytes() + " bytes");
    }
    String s = in.toString(in.readerIndex(), nul - in.readerIndex(), StandardCharsets.UTF_8);
    in.readerIndex(nul + 1);
    return s;
  }

  /**
   * True for one whole typed frame; false for a piece of a larger one ({@link FrameContinuation},
   * or a first piece shorter than its length field says).
   */
  public static boolean isWhole(ByteBuf frame) {
    return !(frame instanceof FrameContinuation)
        && frame.readableBytes() >= HEADER_LENGTH
        && frame.readableBytes() - 1 == frame.getInt(frame.readerIndex() + 1);
  }

  /**
   * True when a Parse ({@code P}) or Bind ({@code B}) frame names a prepared statement, false for
   * the unnamed one (and for anything else). Reads only the names at the start of the body, so a
   * first piece of a large frame will do.
   */
  public static boolean namesStatement(ByteBuf frame) {
    int at = frame.readerIndex() + HEADER_LENGTH;
    int end = frame.writerIndex();
    char type = type(frame);
    if (type == 'B') { // the portal's name comes first
      int nul = at < end ? frame.indexOf(at, end, (byte) 0) : -1;
      if (nul < 0) {
        return false;
      }
      at = nul + 1;
    } else if (type != 'P') {
      return false;
    }
    return at < end && frame.getByte(at) != 0;
  }

  /** The type byte of a typed frame as the decoders emit it (header included). */
  public static char type(ByteBuf frame) {
    return (char) frame.getUnsignedByte(frame.readerIndex());
  }

  /**
   * The body of one whole typed frame (as {@link PgFrameDecoder} emits it), as a slice that shares
   * the frame's content and reference count (not retained). The frame's indexes do not move.
   *
   * @throws ProtocolException if the type byte is not {@code type} or the length field does not
   *     match the frame's size
   */
  public static ByteBuf body(ByteBuf frame, char type) {
    int start = frame.readerIndex();
    int size = frame.readableBytes();
    if (size < HEADER_LENGTH) {
      throw new ProtocolException(
          "message '" + type + "' frame: " + size + " bytes (expected: >= " + HEADER_LENGTH + ")");
    }
    char actual = (char) frame.getUnsignedByte(start);
    if (actual != type) {
      throw new ProtocolException(
          "message type: '" + printable(actual) + "' (expected: '" + type + "')");
    }
    int length = frame.getInt(start + 1);
    if (length != size - 1) {
      throw new ProtocolException(
          "message '"
              + type
              + "' length: "
              + length
              + " (expected: "
              + (size - 1)
              + ", the frame size)");
    }
    return frame.slice(start + HEADER_LENGTH, length - 4);
  }

  /**
   * Checks that a message body was read to its end.
   *
   * @throws ProtocolException naming {@code what} if bytes are left
   */
  public static void requireEnd(ByteBuf body, String what) {
    if (body.isReadable()) {
      throw new ProtocolException(
          what + ": " + body.readableBytes() + " bytes after the end (expected: 0)");
    }
  }

  /** The type byte as a character, or as {@code \xNN} when not printable ASCII. */
  static String printable(char type) {
    return type >= 0x20 && type < 0x7f
        ? String.valueOf(type)
        : String.format("\\x%02x", (int) type);
  }

  /**
   * Reads an int32 length and that many bytes, as DataRow columns and Bind parameters are sent;
   * length -1 is NULL.
   *
   * @param what names the value in the error, e.g. {@code "DataRow column 3"}
   * @throws ProtocolException if the length is missing, below -1 or past the end of {@code body}
   */
  public static byte @org.jspecify.annotations.Nullable [] readLengthPrefixed(
      ByteBuf body, String what) {
    if (body.readableBytes() < 4) {
      throw new ProtocolException(
          what + ": " + body.readableBytes() + " bytes left (expected: >= 4, the value length)");
    }
    int length = body.readInt();
    if (length == -1) {
      return null;
    }
    if (length < 0 || length > body.readableBytes()) {
      throw new ProtocolException(
          what + " length: " + length + " (expected: -1 or 0.." + body.readableBytes() + ")");
    }
    byte[] value = new byte[length];
    body.readBytes(value);
    return value;
  }
}
