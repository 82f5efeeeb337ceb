package io.jbouncer.protocol.backend;

import io.jbouncer.protocol.Frames;
import io.jbouncer.protocol.ProtocolException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

/**
 * ReadyForQuery: the server finished a request; {@code status} is {@link #IDLE}, {@link
 * #IN_TRANSACTION} or {@link #FAILED}. The constant frames are read-only and never released: write
 * {@code IDLE_FRAME.duplicate()}, never the constant itself. See <a
 * href="https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-READYFORQUERY">ReadyForQuery</a>.
 */
public record ReadyForQuery(char status) implements BackendMessage {
  public static final char TYPE = 'Z';
  public static final char IDLE = 'I';
  public static final char IN_TRANSACTION = 'T';
  public static final char FAILED = 'E';

  static final String NAME = "ReadyForQuery";
  private static final int LENGTH = 5;

  public static final ByteBuf IDLE_FRAME = constant(IDLE);
  public static final ByteBuf IN_TRANSACTION_FRAME = constant(IN_TRANSACTION);
  public static final ByteBuf FAILED_FRAME = constant(FAILED);

  public ReadyForQuery {
    if (!isValid(status)) {
      throw new IllegalArgumentException(describe(status));
    }
  }

  public static ReadyForQuery decode(ByteBuf frame) {
    return new ReadyForQuery(status(frame));
  }

  /**
   * The status byte of a {@code Z} frame, read in place without building a record. The frame's
   * indexes do not move.
   *
   * @throws ProtocolException if the frame is not a well-formed ReadyForQuery
   */
  public static char status(ByteBuf frame) {
    int start = frame.readerIndex();
    if (frame.readableBytes() != LENGTH + 1
        || frame.getByte(start) != TYPE
        || frame.getInt(start + 1) != LENGTH) {
      ByteBuf body = Frames.body(frame, TYPE); // throws for a wrong type or an inconsistent length
      throw new ProtocolException(
          NAME + " length: " + (body.readableBytes() + 4) + " (expected: " + LENGTH + ")");
    }
    char status = (char) frame.getUnsignedByte(start + Frames.HEADER_LENGTH);
    if (!isValid(status)) {
      throw new ProtocolException(describe(status));
    }
    return status;
  }

  @Override
  public ByteBuf encodeTo(ByteBuf out) {
    return Frames.write(out, TYPE, body -> body.writeByte(status));
  }

  private static boolean isValid(char status) {
    return status == IDLE || status == IN_TRANSACTION || status == FAILED;
  }

  private static String describe(char status) {
    return NAME + " status: 0x" + Integer.toHexString(status) + " (expected: I, T or E)";
  }

  private static ByteBuf constant(char status) {
    ByteBuf frame = new ReadyForQuery(status).encodeTo(Unpooled.buffer(LENGTH + 1, LENGTH + 1));
    return Unpooled.unreleasableBuffer(frame).asReadOnly();
  }
}
