package io.jbouncer.protocol.frontend;

import io.jbouncer.protocol.Frames;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

/**
 * Terminate: the client is leaving. {@link #FRAME} is read-only and never released: write {@code
 * FRAME.duplicate()}, never the constant itself. See <a
 * href="https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-TERMINATE">Terminate</a>.
 */
public record Terminate() implements FrontendMessage {
  public static final char TYPE = 'X';
  static final String NAME = "Terminate";

  public static final ByteBuf FRAME =
      Unpooled.unreleasableBuffer(
              new Terminate().encodeTo(Unpooled.buffer(Frames.HEADER_LENGTH, Frames.HEADER_LENGTH)))
          .asReadOnly();

  public static Terminate decode(ByteBuf frame) {
    Frames.requireEnd(Frames.body(frame, TYPE), NAME);
    return new Terminate();
  }

  @Override
  public ByteBuf encodeTo(ByteBuf out) {
    return Frames.write(out, TYPE, body -> {});
  }
}
