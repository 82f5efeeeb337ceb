package io.jbouncer.protocol.backend;

import io.jbouncer.protocol.Frames;
import io.netty.buffer.ByteBuf;

/**
 * CommandComplete: a command finished; {@code tag} is its command tag, such as {@code SELECT 1}.
 * See <a
 * href="https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-COMMANDCOMPLETE">CommandComplete</a>.
 */
public record CommandComplete(String tag) implements BackendMessage {
  public static final char TYPE = 'C';
  static final String NAME = "CommandComplete";

  public static CommandComplete decode(ByteBuf frame) {
    ByteBuf body = Frames.body(frame, TYPE);
    String tag = Frames.readCString(body);
    Frames.requireEnd(body, NAME);
    return new CommandComplete(tag);
  }

  @Override
  public ByteBuf encodeTo(ByteBuf out) {
    return Frames.write(out, TYPE, body -> Frames.writeCString(body, tag));
  }
}
