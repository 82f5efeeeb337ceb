package io.jbouncer.protocol.frontend;

import io.jbouncer.protocol.Frames;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

/**
 * Flush: ask the server to send what it has produced so far, without the ReadyForQuery a Sync would
 * bring. {@link #FRAME} is read-only and never released: write {@code FRAME.duplicate()}, never the
 * constant itself. See <a
 * href="https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-FLUSH">Flush</a>.
 */
public record Flush() implements FrontendMessage {
  public static final char TYPE = 'H';
  static final String NAME = "Flush";

  public static final ByteBuf FRAME =
      Unpooled.unreleasableBuffer(
              new Flush().encodeTo(Unpooled.buffer(Frames.HEADER_LENGTH, Frames.HEADER_LENGTH)))
          .asReadOnly();

  public static Flush decode(ByteBuf frame) {
    Frames.requireEnd(Frames.body(frame, TYPE), NAME);
    return new Flush();
  }

  @Override
  public ByteBuf encodeTo(ByteBuf out) {
    return Frames.write(out, TYPE, body -> {});
  }
}
