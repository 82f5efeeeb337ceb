package io.jbouncer.protocol.frontend;

import io.jbouncer.protocol.Frames;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

/**
 * Sync: the end of an extended-query batch. The server answers ReadyForQuery once it has processed
 * everything before it; after an error it skips to here. {@link #FRAME} is read-only and never
 * released: write {@code FRAME.duplicate()}, never the constant itself. See <a
 * href="https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-SYNC">Sync</a>.
 */
public record Sync() implements FrontendMessage {
  public static final char TYPE = 'S';
  static final String NAME = "Sync";

  public static final ByteBuf FRAME =
      Unpooled.unreleasableBuffer(
              new Sync().encodeTo(Unpooled.buffer(Frames.HEADER_LENGTH, Frames.HEADER_LENGTH)))
          .asReadOnly();

  public static Sync decode(ByteBuf frame) {
    Frames.requireEnd(Frames.body(frame, TYPE), NAME);
    return new Sync();
  }

  @Override
  public ByteBuf encodeTo(ByteBuf out) {
    return Frames.write(out, TYPE, body -> {});
  }
}
